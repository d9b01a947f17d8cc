package dev.splitkernel.monitor.memory;

import dev.splitkernel.cluster.ChildMonitor;
import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.LineLocation;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory side over tcp with every monitor in its own JVM: a global manager and two memory monitors started as
 * child processes from this test's classpath, killed in {@link #stopChildren()}; every wait has a deadline.
 */
class MemoryMonitorTcpTest
{
    private static final long TIMEOUT_NS = 10_000_000_000L;
    private static final long START_TIMEOUT_MS = 60_000;
    private static final int LINE = 4096;
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long VREGION_BYTES = 2 << 20;

    private static final List<ChildMonitor> CHILDREN = new ArrayList<>();
    private static Fabric client;
    private static String globalAddress;

    @BeforeAll
    static void startChildren() throws Exception
    {
        // Without replication: the capacities here are sized for the vRegions alone.
        globalAddress = start(GlobalManager.class.getName(), "global manager listening at ",
            "-Dsplitkernel.global.listen=127.0.0.1:0", "-Dsplitkernel.global.replication=false");
        for (int i = 0; i < 2; i++)
        {
            start(MemoryMonitor.class.getName(), "listening at ",
                "-Dsplitkernel.memory.listen=127.0.0.1:0",
                "-Dsplitkernel.global.address=" + globalAddress,
                "-Dsplitkernel.memory.capacityBytes=" + (1 << 20),
                "-Dsplitkernel.memory.vRegionBytes=" + VREGION_BYTES,
                "-Dsplitkernel.memory.chunkBytes=" + (1 << 20));
        }
        client = Fabrics.create(new FabricContext().fabric("tcp"), null);
    }

    private static String start(final String mainClass, final String marker, final String... properties)
        throws Exception
    {
        final List<String> jvmArgs = new ArrayList<>(List.of("-Xmx256m", "-Dsplitkernel.fabric=tcp"));
        jvmArgs.addAll(List.of(properties));
        final ChildMonitor child = ChildMonitor.start(mainClass, List.of(), marker, jvmArgs, START_TIMEOUT_MS);
        CHILDREN.add(child);
        return child.address();
    }

    @AfterAll
    static void stopChildren() throws Exception
    {
        if (client != null)
        {
            client.close();
        }
        for (final ChildMonitor child : CHILDREN)
        {
            child.close();
        }
    }

    private static void fill(final UnsafeBuffer buffer, final int seed)
    {
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            buffer.putLong(i, seed * 7_919L + i);
        }
    }

    private static void assertFilled(final UnsafeBuffer buffer, final int seed)
    {
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            assertEquals(seed * 7_919L + i, buffer.getLong(i), "at byte " + i);
        }
    }

    @Test
    void shouldSpreadMapFetchWriteBackAndMoveAcrossSeparateJvms()
    {
        try (GlobalManagerProxy global = new GlobalManagerProxy(client.connect(globalAddress, TIMEOUT_NS), TIMEOUT_NS))
        {
            final Placement placement = global.chooseHome(-1);
            assertTrue(placement.isOk(), Errno.describe(placement.result()));
            final int asid = placement.asid();
            final VRegionMap map = new VRegionMap(VREGION_BYTES);
            final MemoryMonitorProxy[] proxies = new MemoryMonitorProxy[2];
            final int[] ids = new int[2];
            try (MemoryMonitorProxy home = new MemoryMonitorProxy(
                client.connect(placement.address(), TIMEOUT_NS), placement.memberId(), LINE, TIMEOUT_NS))
            {
                assertEquals(0, home.createProcess(asid));
                final long first = home.mmap(asid, 0, 768 * 1024, RW, ANON, map);
                final long second = home.mmap(asid, 0, 768 * 1024, RW, ANON, map);
                assertTrue(first > 0 && second > 0, Errno.describe(first) + " " + Errno.describe(second));
                ids[0] = map.ownerOfAddress(first);
                ids[1] = map.ownerOfAddress(second);
                assertNotEquals(ids[0], ids[1], "a full monitor sends the second vRegion to the other one");
                for (int i = 0; i < 2; i++)
                {
                    final String address = global.lookupMember(ids[i]);
                    assertNotNull(address);
                    proxies[i] = ids[i] == home.memberId() ? null :
                        new MemoryMonitorProxy(client.connect(address, TIMEOUT_NS), ids[i], LINE, TIMEOUT_NS);
                }
                final MemoryMonitorProxy ownerOfFirst = proxies[0] == null ? home : proxies[0];
                final MemoryMonitorProxy ownerOfSecond = proxies[1] == null ? home : proxies[1];

                final UnsafeBuffer line = new UnsafeBuffer(new byte[LINE]);
                fill(line, 11);
                assertEquals(0, ownerOfFirst.writeBackLine(asid, first, LINE, line, 0));
                fill(line, 12);
                assertEquals(0, ownerOfSecond.writeBackLine(asid, second + LINE, LINE, line, 0));

                final LineLocation location = new LineLocation();
                assertEquals(RW, ownerOfFirst.fetchLine(asid, first, LINE, line, 0, location));
                assertFilled(line, 11);
                final MemoryRegion local = client.allocate(LINE);
                assertEquals(Status.OK, ownerOfFirst.connection().read(local, 0, location.remoteAddress(),
                    location.rkey(), LINE, TIMEOUT_NS));
                assertFilled(local.buffer(), 11);

                // Shrinking frees room at the first owner; the content of what is left stays.
                assertEquals(first, home.mremap(asid, first, 768 * 1024, LINE, 0, 0, map));
                assertEquals(RW, ownerOfFirst.fetchLine(asid, first, LINE, line, 0, null));
                assertFilled(line, 11);
                assertEquals(Errno.EFAULT, ownerOfFirst.fetchLine(asid, first + LINE, LINE, line, 0, null));
                assertEquals(Errno.ENOMEM, home.mmap(asid, 0, 2 << 20, RW, ANON, map));

                assertEquals(0, home.exitProcess(asid, map));
                assertEquals(Errno.EFAULT, ownerOfSecond.fetchLine(asid, second + LINE, LINE, line, 0, null));
            }
            finally
            {
                for (final MemoryMonitorProxy proxy : proxies)
                {
                    if (proxy != null)
                    {
                        proxy.close();
                    }
                }
            }
        }
    }
}
