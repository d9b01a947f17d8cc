package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.LineLocation;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryMonitorTest
{
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final int LINE = 4096;
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;

    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final UnsafeBuffer line = new UnsafeBuffer(new byte[LINE]);

    @AfterEach
    void after() throws Exception
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            closeables.get(i).close();
        }
    }

    private Fabric fabric()
    {
        final Fabric fabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
        closeables.add(fabric);
        return fabric;
    }

    private MemoryMonitor monitor(final String name, final long capacityBytes, final long vRegionBytes,
        final String global)
    {
        final MemoryMonitor monitor = new MemoryMonitor(new MemoryMonitorContext()
            .fabric(fabric())
            .listenAddress(name)
            .capacityBytes(capacityBytes)
            .vRegionBytes(vRegionBytes)
            .chunkBytes(1 << 20)
            .globalAddress(global)).start();
        closeables.add(monitor);
        return monitor;
    }

    private GlobalManager globalManager()
    {
        // Without replication: the capacities here are sized for the vRegions alone.
        final GlobalManager manager = new GlobalManager(new GlobalManagerContext().fabric(fabric()).replication(false)
            .listenAddress("global")).start();
        closeables.add(manager);
        return manager;
    }

    private MemoryMonitorProxy proxy(final Fabric client, final MemoryMonitor monitor)
    {
        final MemoryMonitorProxy proxy =
            new MemoryMonitorProxy(client.connect(monitor.address(), TIMEOUT_NS), monitor.memberId(), LINE, TIMEOUT_NS);
        closeables.add(proxy);
        return proxy;
    }

    private static void fill(final UnsafeBuffer buffer, final int seed)
    {
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            buffer.putLong(i, seed * 1_000_003L + i);
        }
    }

    private static void assertFilled(final UnsafeBuffer buffer, final int seed)
    {
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            assertEquals(seed * 1_000_003L + i, buffer.getLong(i), "at byte " + i);
        }
    }

    @Test
    void shouldCreateZeroFilledPageAtFirstMiss()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        assertEquals(0, home.createProcess(7));
        final VRegionMap map = new VRegionMap(1 << 20);
        final long address = home.mmap(7, 0, 64 * 1024, RW, ANON, map);
        assertTrue(address > 0, Errno.describe(address));
        assertEquals(monitor.memberId(), map.ownerOfAddress(address));
        assertEquals(0, monitor.usedBytes());

        fill(line, 1);
        final LineLocation location = new LineLocation();
        assertEquals(RW, home.fetchLine(7, address + LINE, LINE, line, 0, location));
        for (int i = 0; i < LINE; i += 8)
        {
            assertEquals(0, line.getLong(i));
        }
        assertTrue(location.isKnown());
        assertEquals(LINE, monitor.usedBytes());
        assertEquals(1, monitor.counters().get(MemoryMonitorCounters.PAGES_CREATED_BY_FETCH));
        assertEquals(64 * 1024, monitor.committedBytes());
    }

    @Test
    void shouldCreatePageAtFirstWriteBackOfPLocalLineAndServeOneSidedReRead()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final Fabric client = fabric();
        final MemoryMonitorProxy home = proxy(client, monitor);
        home.createProcess(1);
        final long address = home.mmap(1, 0, 8 * LINE, RW, ANON, null);

        fill(line, 42);
        assertEquals(0, home.writeBackLine(1, address + 3 * LINE, LINE, line, 0));
        assertEquals(1, monitor.counters().get(MemoryMonitorCounters.PAGES_CREATED_BY_WRITE_BACK));
        assertEquals(0, monitor.counters().get(MemoryMonitorCounters.PAGES_CREATED_BY_FETCH));

        final LineLocation location = new LineLocation();
        line.setMemory(0, LINE, (byte)0);
        assertEquals(RW, home.fetchLine(1, address + 3 * LINE, LINE, line, 0, location));
        assertFilled(line, 42);

        final MemoryRegion local = client.allocate(LINE);
        final long fetchesBefore = monitor.counters().get(MemoryMonitorCounters.LINE_FETCHES);
        assertEquals(Status.OK, home.connection().read(local, 0, location.remoteAddress(), location.rkey(), LINE,
            TIMEOUT_NS));
        assertFilled(local.buffer(), 42);
        assertEquals(fetchesBefore, monitor.counters().get(MemoryMonitorCounters.LINE_FETCHES));
    }

    @Test
    void shouldAnswerEnomemWhenFull()
    {
        final MemoryMonitor monitor = monitor("m0", 64 * 1024, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        assertEquals(Errno.ENOMEM, home.mmap(1, 0, 128 * 1024, RW, ANON, null));
        assertTrue(home.mmap(1, 0, 64 * 1024, RW, ANON, null) > 0);
        assertEquals(Errno.ENOMEM, home.mmap(1, 0, LINE, RW, ANON, null));
        assertTrue(monitor.counters().get(MemoryMonitorCounters.OUT_OF_MEMORY) >= 2);
    }

    @Test
    void shouldSpreadMemoryToSecondMonitorWhenFirstIsFull()
    {
        final GlobalManager gmm = globalManager();
        final MemoryMonitor a = monitor("a", 1 << 20, 2 << 20, gmm.address());
        final MemoryMonitor b = monitor("b", 1 << 20, 2 << 20, gmm.address());
        final Fabric client = fabric();
        final GlobalManagerProxy global = new GlobalManagerProxy(client.connect(gmm.address(), TIMEOUT_NS), TIMEOUT_NS);
        closeables.add(global);

        final Placement placement = global.chooseHome(-1);
        assertTrue(placement.isOk());
        final MemoryMonitor homeMonitor = placement.memberId() == a.memberId() ? a : b;
        final MemoryMonitor other = homeMonitor == a ? b : a;
        final MemoryMonitorProxy home = proxy(client, homeMonitor);
        final int asid = placement.asid();
        assertEquals(0, home.createProcess(asid));
        final VRegionMap map = new VRegionMap(2 << 20);

        final long first = home.mmap(asid, 0, 768 * 1024, RW, ANON, map);
        final long second = home.mmap(asid, 0, 768 * 1024, RW, ANON, map);
        assertTrue(first > 0 && second > 0, Errno.describe(first) + " " + Errno.describe(second));
        final int firstOwner = map.ownerOfAddress(first);
        final int secondOwner = map.ownerOfAddress(second);
        assertNotEquals(firstOwner, secondOwner);
        assertEquals(768 * 1024, a.committedBytes());
        assertEquals(768 * 1024, b.committedBytes());

        final MemoryMonitorProxy otherProxy = proxy(client, other);
        final MemoryMonitorProxy secondProxy = secondOwner == homeMonitor.memberId() ? home : otherProxy;
        fill(line, 5);
        assertEquals(0, secondProxy.writeBackLine(asid, second, LINE, line, 0));
        line.setMemory(0, LINE, (byte)0);
        assertEquals(RW, secondProxy.fetchLine(asid, second, LINE, line, 0, null));
        assertFilled(line, 5);

        // Neither has room for a third: ENOMEM from the home, both keep serving.
        assertEquals(Errno.ENOMEM, home.mmap(asid, 0, 768 * 1024, RW, ANON, map));
        assertEquals(RW, secondProxy.fetchLine(asid, second, LINE, line, 0, null));

        // Exit frees both monitors.
        assertEquals(0, home.exitProcess(asid, map));
        assertEquals(0, a.committedBytes());
        assertEquals(0, b.committedBytes());
        assertEquals(0, a.usedBytes() + b.usedBytes());
    }

    @Test
    void shouldReportLoadToTheGlobalManagerEveryInterval()
    {
        final GlobalManager gmm = globalManager();
        final MemoryMonitor monitor = new MemoryMonitor(new MemoryMonitorContext()
            .fabric(fabric()).listenAddress("m0").capacityBytes(1 << 20).vRegionBytes(1 << 20).chunkBytes(1 << 20)
            .globalAddress(gmm.address()).loadReportIntervalNs(3_600_000_000_000L)).start();
        closeables.add(monitor);
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        assertTrue(home.mmap(1, 0, 64 * 1024, RW, ANON, null) > 0);

        final long[] nowNs = {0};
        final LoadReportAgent agent = new LoadReportAgent(monitor, () -> nowNs[0], 1_000);
        // The monitor's own agent reports once as it starts, on its own thread: count from after that report.
        final long startDeadlineNs = System.nanoTime() + 10_000_000_000L;
        while (monitor.counters().get(MemoryMonitorCounters.LOAD_REPORTS) < 1 && System.nanoTime() - startDeadlineNs < 0)
        {
            Thread.onSpinWait();
        }
        final long reports = monitor.counters().get(MemoryMonitorCounters.LOAD_REPORTS);
        assertEquals(1, reports, "the monitor's own first report");
        assertEquals(1, agent.doWork());
        assertEquals(0, agent.doWork());
        nowNs[0] = 999;
        assertEquals(0, agent.doWork());
        nowNs[0] = 1_000;
        assertEquals(1, agent.doWork());
        assertEquals(reports + 2, monitor.counters().get(MemoryMonitorCounters.LOAD_REPORTS));
        assertTrue(gmm.describeMembers().get(0).contains("committed=65536/1048576"), gmm.describeMembers().toString());
    }

    @Test
    void shouldKeepContentOnMremapAcrossMonitors()
    {
        final GlobalManager gmm = globalManager();
        final MemoryMonitor a = monitor("a", 4 << 20, 1 << 20, gmm.address());
        final MemoryMonitor b = monitor("b", 4 << 20, 1 << 20, gmm.address());
        final Fabric client = fabric();
        final MemoryMonitorProxy pa = proxy(client, a);
        final MemoryMonitorProxy pb = proxy(client, b);
        final int asid = 3;
        assertEquals(0, pa.createProcess(asid));
        final VRegionMap map = new VRegionMap(1 << 20);

        final long first = pa.mmap(asid, 0, 512 * 1024, RW, ANON, map);
        final long second = pa.mmap(asid, 0, 512 * 1024, RW, ANON, map);
        assertEquals(first + 512 * 1024, second);
        assertEquals(a.memberId(), map.ownerOfAddress(first));
        for (int i = 0; i < 16; i++)
        {
            fill(line, 100 + i);
            assertEquals(0, pa.writeBackLine(asid, first + (long)i * LINE * 8, LINE, line, 0));
        }

        final long moved = pa.mremap(asid, first, 512 * 1024, 768 * 1024, Prot.MREMAP_MAYMOVE, 0, map);
        assertTrue(moved > 0, Errno.describe(moved));
        assertNotEquals(first, moved);
        assertEquals(b.memberId(), map.ownerOfAddress(moved));
        assertEquals(16, a.counters().get(MemoryMonitorCounters.PAGES_MOVED));
        for (int i = 0; i < 16; i++)
        {
            assertEquals(RW, pb.fetchLine(asid, moved + (long)i * LINE * 8, LINE, line, 0, null));
            assertFilled(line, 100 + i);
        }
        assertEquals(Errno.EFAULT, pa.fetchLine(asid, first, LINE, line, 0, null));
        assertEquals(RW, pa.fetchLine(asid, second, LINE, line, 0, null));
    }

    @Test
    void shouldMoveWithinOneMonitorByRelinkingPages()
    {
        final MemoryMonitor monitor = monitor("m0", 4 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        final long first = home.mmap(1, 0, 64 * 1024, RW, ANON, null);
        final long second = home.mmap(1, 0, 64 * 1024, RW, ANON, null);
        assertEquals(first + 64 * 1024, second);
        for (int i = 0; i < 16; i += 3)
        {
            fill(line, i);
            assertEquals(0, home.writeBackLine(1, first + (long)i * LINE, LINE, line, 0));
        }
        final long usedBefore = monitor.usedBytes();
        final long moved = home.mremap(1, first, 64 * 1024, 96 * 1024, Prot.MREMAP_MAYMOVE, 0, null);
        assertTrue(moved > 0 && moved != first, Errno.describe(moved));
        assertEquals(6, monitor.counters().get(MemoryMonitorCounters.PAGES_MOVED));
        assertEquals(usedBefore, monitor.usedBytes());
        for (int i = 0; i < 16; i += 3)
        {
            assertEquals(RW, home.fetchLine(1, moved + (long)i * LINE, LINE, line, 0, null));
            assertFilled(line, i);
        }
        assertEquals(Errno.EFAULT, home.fetchLine(1, first, LINE, line, 0, null));
        assertEquals(160 * 1024, monitor.committedBytes());

        final long fixed = 64L << 20;
        assertEquals(fixed, home.mremap(1, moved, 96 * 1024, 96 * 1024, Prot.MREMAP_MAYMOVE | Prot.MREMAP_FIXED,
            fixed, null));
        assertEquals(RW, home.fetchLine(1, fixed + 3 * LINE, LINE, line, 0, null));
        assertFilled(line, 3);
    }

    @Test
    void shouldGrowInPlaceAndShrinkWithMremap()
    {
        final MemoryMonitor monitor = monitor("m0", 4 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        final long address = home.mmap(1, 0, 64 * 1024, RW, ANON, null);
        fill(line, 9);
        home.writeBackLine(1, address, LINE, line, 0);
        assertEquals(address, home.mremap(1, address, 64 * 1024, 128 * 1024, 0, 0, null));
        assertEquals(RW, home.fetchLine(1, address + 100 * 1024 & ~(LINE - 1L), LINE, line, 0, null));
        assertEquals(address, home.mremap(1, address, 128 * 1024, 8 * 1024, 0, 0, null));
        assertEquals(Errno.EFAULT, home.fetchLine(1, address + 8 * 1024, LINE, line, 0, null));
        assertEquals(RW, home.fetchLine(1, address, LINE, line, 0, null));
        assertFilled(line, 9);
        assertEquals(8 * 1024, monitor.committedBytes());
        assertEquals(Errno.EFAULT, home.mremap(1, address + 64 * 1024, LINE, 2 * LINE, Prot.MREMAP_MAYMOVE, 0, null));
        assertEquals(Errno.EINVAL, home.mremap(1, address, LINE, 2 * LINE, Prot.MREMAP_FIXED, 0, null));
    }

    @Test
    void shouldFaultOnMissAfterMunmap()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        final VRegionMap map = new VRegionMap(1 << 20);
        final long address = home.mmap(1, 0, 4 * LINE, RW, ANON, map);
        assertEquals(RW, home.fetchLine(1, address, LINE, line, 0, null));
        assertEquals(0, home.munmap(1, address, 4 * LINE, map));
        assertEquals(Errno.EFAULT, home.fetchLine(1, address, LINE, line, 0, null));
        assertEquals(Errno.EFAULT, home.writeBackLine(1, address, LINE, line, 0));
        assertEquals(VRegionMap.NO_OWNER, map.ownerOfAddress(address));
        assertEquals(0, monitor.usedBytes());
        assertEquals(2, monitor.counters().get(MemoryMonitorCounters.FAULTS));
        assertEquals(Errno.EINVAL, home.munmap(1, address + 1, LINE, map));
        assertEquals(Errno.EFAULT, home.fetchLine(1, 0, LINE, line, 0, null));
    }

    @Test
    void shouldEnforceProtection()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        final long address = home.mmap(1, 0, 4 * LINE, RW, ANON, null);
        assertEquals(0, home.mprotect(1, address + LINE, LINE, Prot.PROT_READ));
        assertEquals(Prot.PROT_READ, home.fetchLine(1, address + LINE, LINE, line, 0, null));
        assertEquals(RW, home.fetchLine(1, address, LINE, line, 0, null));
        assertEquals(Errno.EACCES, home.writeBackLine(1, address + LINE, LINE, line, 0));
        assertEquals(0, home.writeBackLine(1, address + 2 * LINE, LINE, line, 0));
        assertEquals(Errno.ENOMEM, home.mprotect(1, address, 8 * LINE, Prot.PROT_READ));
        assertEquals(Errno.EINVAL, home.mprotect(1, address + 1, LINE, Prot.PROT_READ));
        assertEquals(Errno.EINVAL, home.mprotect(1, address, LINE, 0x40));
        assertEquals(0, home.msync(1, address, 4 * LINE, Prot.MS_SYNC));
        assertEquals(Errno.ENOMEM, home.msync(1, address, 8 * LINE, Prot.MS_SYNC));
        assertEquals(Errno.EINVAL, home.msync(1, address, LINE, Prot.MS_SYNC | Prot.MS_ASYNC));
    }

    @Test
    void shouldValidateMmapArgumentsAsLinux()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        assertEquals(Errno.ESRCH, home.mmap(9, 0, LINE, RW, ANON, null));
        home.createProcess(9);
        assertEquals(Errno.EEXIST, home.createProcess(9));
        assertEquals(Errno.EINVAL, home.mmap(9, 0, 0, RW, ANON, null));
        assertEquals(Errno.EINVAL, home.mmap(9, 0, LINE, 0x40, ANON, null));
        assertEquals(Errno.EINVAL, home.mmap(9, 0, LINE, RW, Prot.MAP_ANONYMOUS, null));
        assertEquals(Errno.EBADF, home.mmap(9, 0, LINE, RW, Prot.MAP_PRIVATE, null));
        assertEquals(Errno.EINVAL, home.mmap(9, 123, LINE, RW, ANON | Prot.MAP_FIXED, null));
        assertEquals(Errno.ENOMEM, home.mmap(9, 0, Long.MAX_VALUE - 10, RW, ANON, null));

        final long fixed = 40L << 20;
        assertEquals(fixed, home.mmap(9, fixed, 2 * LINE, RW, ANON | Prot.MAP_FIXED, null));
        assertEquals(Errno.EEXIST, home.mmap(9, fixed, LINE, RW, ANON | Prot.MAP_FIXED_NOREPLACE, null));
        assertEquals(fixed, home.mmap(9, fixed, LINE, Prot.PROT_READ, ANON | Prot.MAP_FIXED, null));
        assertEquals(Prot.PROT_READ, monitor.protAt(9, fixed));
        assertEquals(RW, monitor.protAt(9, fixed + LINE));
        assertEquals(2 * LINE, monitor.committedBytes());
    }

    @Test
    void shouldGrowAndShrinkTheBreak()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        final VRegionMap map = new VRegionMap(1 << 20);
        final long base = home.brk(1, 0, map);
        assertEquals(1 << 20, base);
        assertEquals(base + 10_000, home.brk(1, base + 10_000, map));
        assertEquals(3 * LINE, monitor.committedBytes());
        fill(line, 3);
        assertEquals(0, home.writeBackLine(1, base + 2 * LINE, LINE, line, 0));
        assertEquals(base + 100, home.brk(1, base + 100, map));
        assertEquals(LINE, monitor.committedBytes());
        assertEquals(Errno.EFAULT, home.fetchLine(1, base + 2 * LINE, LINE, line, 0, null));
        assertEquals(base + 100, home.brk(1, base + (64L << 20), map), "beyond capacity: the old break");
    }

    @Test
    void shouldPiggybackWriteBackOnFetch()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final MemoryMonitorProxy home = proxy(fabric(), monitor);
        home.createProcess(1);
        final long address = home.mmap(1, 0, 4 * LINE, RW, ANON, null);
        final UnsafeBuffer victim = new UnsafeBuffer(new byte[LINE]);
        fill(victim, 77);
        assertEquals(RW, home.fetchLineWithWriteBack(1, address, LINE, line, 0, null, 1, address + LINE, victim, 0));
        assertEquals(1, monitor.counters().get(MemoryMonitorCounters.PIGGYBACKED_WRITE_BACKS));
        assertEquals(RW, home.fetchLine(1, address + LINE, LINE, line, 0, null));
        assertFilled(line, 77);
        assertEquals(Errno.EFAULT,
            home.fetchLineWithWriteBack(1, address, LINE, line, 0, null, 1, address + 64 * LINE, victim, 0));
    }

    @Test
    void shouldAnswerMalformedAndUnknownRequestsAndKeepServing()
    {
        final MemoryMonitor monitor = monitor("m0", 1 << 20, 1 << 20, "");
        final Fabric client = fabric();
        final MemoryMonitorProxy home = proxy(client, monitor);
        home.createProcess(1);
        final long address = home.mmap(1, 0, 4 * LINE, RW, ANON, null);
        final Connection connection = home.connection();
        final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[8192]);

        assertEquals(Status.MALFORMED, connection.call(Opcodes.LINE_FETCH, request, 0, 8, reply, 0, 8192, TIMEOUT_NS));
        assertEquals(Status.MALFORMED, connection.call(Opcodes.MMAP, request, 0, 12, reply, 0, 8192, TIMEOUT_NS));
        LineRequestDescriptor.encode(request, 0, 1, 0, address, LINE, 0, 0);
        assertEquals(Status.MALFORMED,
            connection.call(Opcodes.LINE_WRITE_BACK, request, 0, 40, reply, 0, 8192, TIMEOUT_NS));
        assertEquals(Status.UNKNOWN_OPCODE, connection.call(999, request, 0, 40, reply, 0, 8192, TIMEOUT_NS));
        LineRequestDescriptor.encode(request, 0, 1, 0, address + 3, LINE, 0, 0);
        final int length = connection.call(Opcodes.LINE_FETCH, request, 0, 32, reply, 0, 8192, TIMEOUT_NS);
        assertTrue(length > 0);
        assertEquals(Errno.EINVAL, reply.getInt(0));
        assertEquals(Errno.EINVAL, home.fetchLine(1, address, 3000, line, 0, null));

        assertEquals(5, monitor.counters().get(MemoryMonitorCounters.MALFORMED_REQUESTS));
        assertEquals(1, monitor.counters().get(MemoryMonitorCounters.UNKNOWN_OPCODES));
        assertEquals(RW, home.fetchLine(1, address, LINE, line, 0, null));
    }

    @Test
    void shouldServeConcurrentMissesAndWriteBacksConsistently() throws Exception
    {
        final MemoryMonitor monitor = new MemoryMonitor(new MemoryMonitorContext()
            .fabric(fabric()).listenAddress("m0").capacityBytes(8 << 20).vRegionBytes(1 << 20).chunkBytes(1 << 20)
            .workers(2).globalAddress("")).start();
        closeables.add(monitor);
        final Fabric client = fabric();
        final MemoryMonitorProxy home = proxy(client, monitor);
        home.createProcess(1);
        final long address = home.mmap(1, 0, 4 << 20, RW, ANON, null);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread[] threads = new Thread[3];
        for (int t = 0; t < threads.length; t++)
        {
            final int id = t;
            threads[t] = new Thread(() ->
            {
                try
                {
                    final UnsafeBuffer mine = new UnsafeBuffer(new byte[LINE]);
                    for (int round = 0; round < 3; round++)
                    {
                        for (int i = id; i < 1024; i += threads.length)
                        {
                            final long lineAddress = address + (long)i * LINE;
                            if (round > 0)
                            {
                                assertEquals(RW, home.fetchLine(1, lineAddress, LINE, mine, 0, null));
                                assertFilled(mine, i * 10 + round - 1);
                            }
                            fill(mine, i * 10 + round);
                            assertEquals(0, home.writeBackLine(1, lineAddress, LINE, mine, 0));
                        }
                    }
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                }
            });
            threads[t].start();
        }
        for (final Thread thread : threads)
        {
            thread.join(60_000);
        }
        assertNull(failure.get());
        assertEquals(1024L * LINE, monitor.usedBytes());
    }
}
