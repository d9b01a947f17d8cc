package dev.splitkernel.cluster;

import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.Loads;
import dev.splitkernel.monitor.processor.LegoThread;
import dev.splitkernel.monitor.processor.ProcessKilledException;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.SegmentationFault;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.FabricContractTest;
import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.UniformRandom;
import dev.splitkernel.workload.ZipfKeyValue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Deliver-list scenarios, run against a cluster that a subclass provides (embedded over local, or monitors in
 * separate JVMs over tcp). Every cluster here: two memory monitors of {@link #MEMORY_CAPACITY_BYTES} each, vRegions
 * of {@link #VREGION_BYTES}, and a processor whose ExCache ({@link #EXCACHE_BYTES}) is far smaller than the data.
 */
abstract class ClusterScenarios
{
    static final long VREGION_BYTES = 8L << 20;
    static final long MEMORY_CAPACITY_BYTES = 24L << 20;
    static final long EXCACHE_BYTES = 512L << 10;
    static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    /**
     * The unit of every wait here (a setting, {@value dev.splitkernel.verbs.FabricContractTest#TIMEOUT_PROP_NAME},
     * default 5 s): a slow machine raises it, and the other waits scale with it.
     */
    static final long TIMEOUT_NS = Long.getLong(FabricContractTest.TIMEOUT_PROP_NAME, TimeUnit.SECONDS.toNanos(5));
    static final long JOIN_TIMEOUT_NS = 24 * TIMEOUT_NS;

    abstract ProcessorMonitor processor();

    abstract LegoProcess createProcess(String name);

    @Test
    void shouldVerifyMultiThreadedProcessUnderHeavyEviction() throws Exception
    {
        try (LegoProcess process = createProcess("threads"))
        {
            final long bytes = 4L << 20;
            final long base = process.mmap(0, bytes, RW, ANON);
            assertTrue(base > 0, () -> "mmap: " + Errno.describe(base));
            final long evictions0 = processor().cache().counters().evictions();
            final int threads = 4;
            final MemoryWorkload[] workloads = {new UniformRandom(4, 7), new ZipfKeyValue(4, 20, 0.99, 7)};
            for (final MemoryWorkload workload : workloads)
            {
                final long writes = runThreads(process, workload, base, workload.regionBytes(bytes), threads);
                try (LegoProcess.ThreadMemory memory = process.threadMemory())
                {
                    workload.verify(memory, base, workload.regionBytes(bytes), writes);
                }
                assertTrue(writes > 0);
            }
            assertTrue(processor().cache().counters().evictions() - evictions0 > 1000,
                "the data is 8x the cache: lines must have been evicted");
            assertTrue(processor().writeBacks() > 0);
        }
    }

    @Test
    void shouldSpreadMemoryAcrossTwoMemoryMonitorsWhenOneFills()
    {
        try (LegoProcess process = createProcess("spread"))
        {
            final List<Long> regions = new ArrayList<>();
            // 5 vRegions of 8 MB do not fit in one 24 MB monitor.
            for (int i = 0; i < 5; i++)
            {
                final long address = process.mmap(0, VREGION_BYTES, RW, ANON);
                assertTrue(address > 0, () -> "mmap: " + Errno.describe(address));
                regions.add(address);
            }
            final Set<Integer> owners = new HashSet<>();
            for (final long address : regions)
            {
                final int owner = process.vRegionMap().ownerOfAddress(address);
                assertTrue(owner != VRegionMap.NO_OWNER);
                owners.add(owner);
            }
            assertEquals(2, owners.size(), "owners: " + owners);
            // Write every page, through a cache far smaller than the data: the write-backs land on both owners.
            for (final long address : regions)
            {
                for (long off = 0; off < VREGION_BYTES; off += Prot.PAGE_BYTES)
                {
                    process.putLong(address + off, address ^ off);
                }
            }
            for (final long address : regions)
            {
                for (long off = 0; off < VREGION_BYTES; off += Prot.PAGE_BYTES)
                {
                    assertEquals(address ^ off, Loads.getLong(process, address + off));
                }
            }
        }
    }

    @Test
    void shouldReturnEnomemWhenNoMemoryMonitorHasRoom()
    {
        try (LegoProcess process = createProcess("enomem"))
        {
            assertEquals(Errno.ENOMEM, process.mmap(0, 4 * MEMORY_CAPACITY_BYTES, RW, ANON));
            final long ok = process.mmap(0, 1L << 20, RW, ANON);
            assertTrue(ok > 0, "a small mapping still succeeds after ENOMEM");
        }
    }

    @Test
    void shouldValidateArgumentsAsLinux()
    {
        try (LegoProcess process = createProcess("einval"))
        {
            assertEquals(Errno.EINVAL, process.mmap(0, 0, RW, ANON));
            assertEquals(Errno.EINVAL, process.mmap(0, 4096, 0x80, ANON));
            assertEquals(Errno.EINVAL, process.mmap(0, 4096, RW, Prot.MAP_ANONYMOUS));
            assertEquals(Errno.EINVAL, process.mmap(123, 4096, RW, ANON | Prot.MAP_FIXED));
            assertEquals(Errno.EBADF, process.mmap(0, 4096, RW, Prot.MAP_PRIVATE));
            assertEquals(Errno.EINVAL, process.munmap(123, 4096));
            assertEquals(Errno.EINVAL, process.munmap(4096, 0));
            final long a = process.mmap(0, 8192, RW, ANON);
            assertTrue(a > 0);
            assertEquals(Errno.EINVAL, process.mprotect(a + 1, 4096, Prot.PROT_READ));
            assertEquals(Errno.ENOMEM, process.mprotect(a, 1L << 30, Prot.PROT_READ));
            assertEquals(Errno.EINVAL, process.msync(a, 4096, Prot.MS_SYNC | Prot.MS_ASYNC));
            assertEquals(Errno.EINVAL, process.mremap(a, 8192, 0, Prot.MREMAP_MAYMOVE, 0));
            assertEquals(Errno.EINVAL, process.mremap(a, 8192, 16384, Prot.MREMAP_FIXED, 0));
            assertEquals(Errno.EFAULT, process.mremap(a + (64L << 20), 4096, 8192, Prot.MREMAP_MAYMOVE, 0));
            process.putLong(a, 42);
            assertEquals(0, process.msync(a, 8192, Prot.MS_SYNC));
            final long brk0 = process.brk(0);
            assertTrue(brk0 > 0);
            assertEquals(brk0 + 65536, process.brk(brk0 + 65536));
            process.putLong(brk0 + 65528, 7);
            assertEquals(7, Loads.getLong(process, brk0 + 65528));
            assertEquals(brk0, process.brk(brk0));
            assertTrue(process.isRunning());
        }
    }

    @Test
    void shouldKillOnlyTheFaultingProcess() throws Exception
    {
        final long segfaults0 = processor().segfaults();
        try (LegoProcess victim = createProcess("faulty"); LegoProcess bystander = createProcess("bystander"))
        {
            final long b = bystander.mmap(0, 1L << 20, RW, ANON);
            bystander.putLong(b, 1234);

            final long v = victim.mmap(0, 1L << 20, RW, ANON);
            victim.putLong(v, 1);
            final CountDownLatch started = new CountDownLatch(1);
            final LegoThread sibling = victim.spawnThread("sibling", p ->
            {
                started.countDown();
                long sum = 0;
                while (true)
                {
                    sum += Loads.getLong(p, v);
                    if (sum < 0)
                    {
                        return 0;
                    }
                }
            });
            assertTrue(started.await(2 * TIMEOUT_NS, TimeUnit.NANOSECONDS));
            final long unmapped = v + (512L << 20);
            final SegmentationFault fault = assertThrows(SegmentationFault.class, () -> victim.putLong(unmapped, 5));
            assertEquals(unmapped, fault.address());
            assertTrue(fault.isWrite());
            assertEquals(victim.pid(), fault.pid());
            assertTrue(sibling.join(JOIN_TIMEOUT_NS), "the sibling thread must stop at its next access");
            assertInstanceOf(ProcessKilledException.class, sibling.failure());
            assertEquals(dev.splitkernel.monitor.processor.LegoProcess.SIGSEGV_EXIT_CODE, victim.exitCode());
            assertThrows(ProcessKilledException.class, () -> Loads.getLong(victim, v));

            // The monitors and the other process carry on.
            assertTrue(bystander.isRunning());
            assertEquals(1234, Loads.getLong(bystander, b));
            bystander.putLong(b + 8, 99);
            assertEquals(99, Loads.getLong(bystander, b + 8));
            assertEquals(segfaults0 + 1, processor().segfaults());
        }
        try (LegoProcess after = createProcess("after"))
        {
            final long a = after.mmap(0, 4096, RW, ANON);
            after.putLong(a, 5);
            assertEquals(5, Loads.getLong(after, a));
        }
    }

    @Test
    void shouldFaultOnReadOfProtectedAndWriteOfReadOnlyMemory()
    {
        try (LegoProcess process = createProcess("prot"))
        {
            final long a = process.mmap(0, 8192, RW, ANON);
            process.putLong(a, 77);
            assertEquals(0, process.mprotect(a, 8192, Prot.PROT_READ));
            assertEquals(77, Loads.getLong(process, a), "content survives mprotect");
            final SegmentationFault fault = assertThrows(SegmentationFault.class, () -> process.putLong(a, 1));
            assertTrue(fault.isWrite());
            assertEquals(a, fault.address());
        }
    }

    @Test
    void shouldFaultOnAccessAfterMunmap()
    {
        try (LegoProcess process = createProcess("munmap"))
        {
            final long a = process.mmap(0, 1L << 20, RW, ANON);
            for (long off = 0; off < 1L << 20; off += Prot.PAGE_BYTES)
            {
                process.putLong(a + off, off);
            }
            assertEquals(0, process.munmap(a, 1L << 20));
            final SegmentationFault fault = assertThrows(SegmentationFault.class, () -> Loads.getLong(process, a + 8192));
            assertEquals(a + 8192, fault.address());
            assertTrue(!fault.isWrite());
        }
    }

    @Test
    void shouldKeepContentAcrossMremap()
    {
        try (LegoProcess process = createProcess("mremap"))
        {
            final long size = 2L << 20;
            final long a = process.mmap(0, size, RW, ANON);
            for (long off = 0; off < size; off += 512)
            {
                process.putLong(a + off, ~off);
            }
            // Grow, allowing a move, then read everything back at the new place.
            final long b = process.mremap(a, size, 3 * size, Prot.MREMAP_MAYMOVE, 0);
            assertTrue(b > 0, () -> "mremap: " + Errno.describe(b));
            for (long off = 0; off < size; off += 512)
            {
                assertEquals(~off, Loads.getLong(process, b + off), "offset " + off);
            }
            assertEquals(0, Loads.getLong(process, b + size + 4096), "the grown part is zero");
            process.putLong(b + 2 * size, 3);
            assertEquals(3, Loads.getLong(process, b + 2 * size));
            if (b != a)
            {
                assertThrows(SegmentationFault.class, () -> Loads.getLong(process, a));
            }
        }
    }

    @Test
    void shouldRefetchKnownLinesOneSidedAndCorrectly()
    {
        try (LegoProcess process = createProcess("one-sided"))
        {
            final long size = 4L << 20;
            final long a = process.mmap(0, size, RW, ANON);
            for (long off = 0; off < size; off += 8)
            {
                process.putLong(a + off, off * 31);
            }
            final long oneSided0 = processor().oneSidedReads();
            // First pass: lines written back come back by RPC, which teaches the page addresses.
            // Second pass: those misses are one-sided READs.
            for (int pass = 0; pass < 2; pass++)
            {
                for (long off = 0; off < size; off += 8)
                {
                    final long value = Loads.getLong(process, a + off);
                    if (value != off * 31)
                    {
                        throw new AssertionError("pass " + pass + " offset " + off + ": " + value);
                    }
                }
            }
            final long oneSided = processor().oneSidedReads() - oneSided0;
            assertTrue(oneSided >= (size / 4096) / 2, "one-sided re-fetches: " + oneSided);

            // munmap forgets what was learned: a new mapping at the same place reads zeros, not the old pages.
            assertEquals(0, process.munmap(a, size));
            final long again = process.mmap(a, size, RW, ANON | Prot.MAP_FIXED);
            assertEquals(a, again);
            for (long off = 0; off < size; off += 4096)
            {
                assertEquals(0, Loads.getLong(process, a + off));
            }
        }
    }

    @Test
    void shouldRunSpawnedProcessToItsExitCode() throws Exception
    {
        final AtomicLong seen = new AtomicLong();
        final LegoThread main = spawn("spawned", p ->
        {
            final long a = p.mmap(0, 65536, RW, ANON);
            p.putLong(a, 11);
            seen.set(Loads.getLong(p, a));
            return 3;
        });
        assertNotNull(main);
        assertTrue(main.join(JOIN_TIMEOUT_NS));
        assertEquals(3, main.exitCode());
        assertEquals(11, seen.get());
    }

    LegoThread spawn(final String name, final dev.splitkernel.monitor.processor.Workload workload)
    {
        return processor().spawn(name, workload);
    }

    static long runThreads(final LegoProcess process, final MemoryWorkload workload, final long base,
        final long bytes, final int threads) throws Exception
    {
        final List<LegoThread> list = new ArrayList<>();
        final AtomicLong writes = new AtomicLong();
        final CountDownLatch populated = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            list.add(process.spawnThread("t" + t, p ->
            {
                try (LegoProcess.ThreadMemory memory = p.threadMemory())
                {
                    workload.populate(memory, base, bytes, thread, threads);
                    populated.countDown();
                    if (!populated.await(12 * TIMEOUT_NS, TimeUnit.NANOSECONDS))
                    {
                        throw new IllegalStateException("populate did not finish");
                    }
                    writes.addAndGet(workload.run(memory, base, bytes, thread, threads));
                }
                return 0;
            }));
        }
        for (final LegoThread t : list)
        {
            assertTrue(t.join(JOIN_TIMEOUT_NS), "thread " + t.name() + " did not finish");
            if (t.failure() != null)
            {
                throw new AssertionError("thread " + t.name() + " failed (the process's fault: " + process.fault()
                    + ")", t.failure());
            }
        }
        return writes.get();
    }
}
