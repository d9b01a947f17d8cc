package dev.splitkernel.monitor.processor;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.memory.MemoryMonitorCounters;
import dev.splitkernel.monitor.runtime.MonitorRuntime;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A system call that frees pages (brk shrinking the heap, mremap moving a mapping) must not let the owner free them
 * while this processor can still reach them: a one-sided READ of a known page after it was freed and reused by
 * another mapping returns that mapping's data.
 * <ul>
 * <li>A miss that starts while the owner frees (the system call held right after the home answered): the range must
 * already be out of reach, so the miss faults instead of reading the reused page.</li>
 * <li>A miss in flight when the system call starts (its READ held at a gate): the owner must not free the page before
 * the miss is done, so it returns the old value.</li>
 * </ul>
 * Another process writes a marker into fresh memory meanwhile, which reuses a freed page.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FreedPageRaceTest
{
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long OLD = 0x0_1d_1d_1dL;
    private static final long MARKER = 0xBAD_0F_0DDL;

    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private MonitorRuntime runtime;
    private GatedFabric gated;
    private MemoryMonitor memory;
    private ProcessorMonitor processor;

    @BeforeEach
    void start()
    {
        runtime = MonitorRuntime.launch();
        closeables.add(runtime);
        final GlobalManager global = new GlobalManager(new GlobalManagerContext().runtime(runtime).fabric(fabric())
            .listenAddress("global")).start();
        closeables.add(global);
        memory = new MemoryMonitor(new MemoryMonitorContext().runtime(runtime).fabric(fabric())
            .listenAddress("memory-0").globalAddress("global").capacityBytes(64L << 20)).start();
        closeables.add(memory);
        memory.reportLoadNow();
        gated = new GatedFabric(fabric());
        processor = new ProcessorMonitor(new ProcessorMonitorContext().runtime(runtime).fabric(gated)
            .listenAddress("processor-0").globalAddress("global").oneSided(true)
            .excache(new ExCacheContext().capacityBytes(1L << 20).ways(4)));
        closeables.add(processor);
    }

    @AfterEach
    void stop() throws Exception
    {
        gated.open();
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

    /** Put OLD at {@code address}, make its page exist at the owner, and make the next miss a one-sided READ. */
    private static void prepareKnownPage(final LegoProcess process, final long address, final long length)
    {
        process.putLong(address, OLD);
        assertEquals(0, process.msync(address & ~4095L, 4096, Prot.MS_SYNC));
        assertEquals(0, process.mprotect(address & ~4095L, 4096, RW)); // drops the line (written back first)
        assertEquals(OLD, Loads.getLong(process, address)); // an RPC fetch: the processor learns the page's address
        assertEquals(0, process.mprotect(address & ~4095L, 4096, RW)); // dropped again: next miss is one-sided
    }

    /** Hold a miss on {@code address} in flight, run {@code freeing} in another thread, reuse memory, let go. */
    private void assertMissSeesOldValue(final LegoProcess process, final long address, final Runnable freeing)
        throws Exception
    {
        gated.arm();
        final AtomicLong seen = new AtomicLong();
        final AtomicReference<Throwable> missFailure = new AtomicReference<>();
        final Thread miss = new Thread(() ->
        {
            try
            {
                seen.set(Loads.getLong(process, address));
            }
            catch (final Throwable ex)
            {
                missFailure.set(ex);
            }
        }, "miss");
        miss.start();
        assertTrue(gated.entered.await(10, TimeUnit.SECONDS), "the miss reached its one-sided READ");

        final Thread syscall = new Thread(freeing, "freeing-syscall");
        syscall.start();
        // Give the freeing call its chance to free the page while the READ waits (it must wait for the READ).
        syscall.join(1_000);

        // Another process writes a marker into fresh memory: a freed page would be reused for it.
        try (LegoProcess other = processor.createProcess("other"))
        {
            final long q = other.mmap(0, 4096, RW, ANON);
            assertTrue(q > 0);
            other.putLong(q, MARKER);
            assertEquals(0, other.msync(q, 4096, Prot.MS_SYNC));

            gated.open();
            miss.join(10_000);
            syscall.join(10_000);
            assertTrue(!miss.isAlive() && !syscall.isAlive(), "the miss and the system call finished");
            assertNull(missFailure.get());
            assertEquals(OLD, seen.get(), "the miss read the page it started on, not a reused one");
            assertEquals(MARKER, Loads.getLong(other, q));
        }
    }

    /** Hold the system call after the home answered, reuse memory, then miss on the freed range: it must fault. */
    private void assertMissAfterFreeFaults(final LegoProcess process, final long address, final int opcode,
        final Runnable freeing) throws Exception
    {
        // Set up beforehand: the held system call holds the home's syscall lock, shared by the processes.
        final LegoProcess other = processor.createProcess("other");
        final long q = other.mmap(0, 4096, RW, ANON);
        assertTrue(q > 0);
        other.putLong(q, MARKER);

        gated.armAfterCall(opcode);
        final Thread syscall = new Thread(freeing, "freeing-syscall");
        syscall.start();
        assertTrue(gated.entered.await(10, TimeUnit.SECONDS), "the home answered the system call");
        // The marker's first write-back creates a page: the one just freed, if the owner freed it.
        final long created = memory.counters().get(MemoryMonitorCounters.PAGES_CREATED_BY_WRITE_BACK);
        final Thread reuse = new Thread(() -> other.msync(q, 4096, Prot.MS_SYNC), "reuse");
        reuse.start();
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (memory.counters().get(MemoryMonitorCounters.PAGES_CREATED_BY_WRITE_BACK) == created)
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "the marker was written back");
            Thread.onSpinWait();
        }

        final AtomicLong seen = new AtomicLong();
        final AtomicReference<Throwable> missFailure = new AtomicReference<>();
        final Thread miss = new Thread(() ->
        {
            try
            {
                seen.set(Loads.getLong(process, address));
            }
            catch (final Throwable ex)
            {
                missFailure.set(ex);
            }
        }, "miss");
        miss.start();
        miss.join(1_000); // it either faults at once or (killing the process) waits for the system call to end
        gated.open();
        miss.join(10_000);
        syscall.join(10_000);
        reuse.join(10_000);
        assertTrue(!miss.isAlive() && !syscall.isAlive() && !reuse.isAlive(), "every thread finished");
        assertTrue(missFailure.get() instanceof SegmentationFault, "expected a fault, but the miss read 0x"
            + Long.toHexString(seen.get()) + " from a freed page: " + missFailure.get());
        assertEquals(MARKER, Loads.getLong(other, q));
        other.exit(0);
    }

    @Test
    void shouldFaultAMissOnTheHeapBrkIsFreeingInsteadOfReadingAReusedPage() throws Exception
    {
        final LegoProcess process = processor.createProcess("brk");
        final long base = process.brk(0);
        assertEquals(base + 2 * 4096, process.brk(base + 2 * 4096));
        final long address = base + 4096 + 64;
        prepareKnownPage(process, address, 4096);
        assertMissAfterFreeFaults(process, address, Opcodes.BRK, () -> process.brk(base + 4096));
    }

    @Test
    void shouldFaultAMissOnTheRangeMremapIsMovingInsteadOfReadingAReusedPage() throws Exception
    {
        final LegoProcess process = processor.createProcess("mremap");
        final long a = process.mmap(0, 4096, RW, ANON);
        final long b = process.mmap(0, 4096, RW, ANON);
        assertTrue(a > 0 && b > 0);
        final long address = a + 128;
        prepareKnownPage(process, address, 4096);
        assertMissAfterFreeFaults(process, address, Opcodes.MREMAP,
            () -> process.mremap(a, 4096, 4096, Prot.MREMAP_MAYMOVE | Prot.MREMAP_FIXED, b));
    }

    @Test
    void shouldNotFreeHeapPagesUnderAMissInFlightWhenBrkShrinks() throws Exception
    {
        try (LegoProcess process = processor.createProcess("brk"))
        {
            final long base = process.brk(0);
            assertEquals(base + 2 * 4096, process.brk(base + 2 * 4096));
            final long address = base + 4096 + 64;
            prepareKnownPage(process, address, 4096);
            assertMissSeesOldValue(process, address, () -> process.brk(base + 4096));
            assertEquals(base + 4096, process.brk(0));
        }
    }

    @Test
    void shouldNotFreeMovedPagesUnderAMissInFlightWhenMremapMoves() throws Exception
    {
        try (LegoProcess process = processor.createProcess("mremap"))
        {
            final long a = process.mmap(0, 4096, RW, ANON);
            final long b = process.mmap(0, 4096, RW, ANON);
            assertTrue(a > 0 && b > 0);
            final long address = a + 128;
            prepareKnownPage(process, address, 4096);
            final AtomicLong moved = new AtomicLong();
            assertMissSeesOldValue(process, address,
                () -> moved.set(process.mremap(a, 4096, 4096, Prot.MREMAP_MAYMOVE | Prot.MREMAP_FIXED, b)));
            assertEquals(b, moved.get());
            assertEquals(OLD, Loads.getLong(process, b + 128), "the content moved");
        }
    }
}
