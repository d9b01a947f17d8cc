package dev.splitkernel.workload;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadsTest
{
    private static final long BYTES = 1L << 20;

    @Test
    void shouldVerifyEveryWorkloadOnLocalMemoryWithSeveralThreads() throws Exception
    {
        for (final String name : Workloads.NAMES)
        {
            final MemoryWorkload workload = Workloads.byName(name);
            final long region = workload.regionBytes(BYTES);
            final LocalMemory memory = new LocalMemory(region);
            final int threads = 3;
            final long[] writes = new long[threads];
            final Thread[] list = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                workload.populate(memory, memory.baseAddress(), region, t, threads);
            }
            for (int t = 0; t < threads; t++)
            {
                final int thread = t;
                list[t] = new Thread(() -> writes[thread] = workload.run(memory, memory.baseAddress(), region, thread,
                    threads));
                list[t].start();
            }
            long total = 0;
            for (int t = 0; t < threads; t++)
            {
                list[t].join();
                total += writes[t];
            }
            assertTrue(total > 0, name);
            workload.verify(memory, memory.baseAddress(), region, total);
        }
    }

    @Test
    void shouldDetectALostWrite()
    {
        for (final String name : Workloads.NAMES)
        {
            final MemoryWorkload workload = Workloads.byName(name);
            final long region = workload.regionBytes(BYTES);
            final LocalMemory memory = new LocalMemory(region);
            workload.populate(memory, memory.baseAddress(), region, 0, 1);
            final long writes = workload.run(memory, memory.baseAddress(), region, 0, 1);
            assertThrows(VerificationException.class,
                () -> workload.verify(memory, memory.baseAddress(), region, writes + 1), name);
        }
    }

    @Test
    void shouldDetectALineFromTheWrongPlace()
    {
        final MemoryWorkload workload = Workloads.byName("random");
        final LocalMemory memory = new LocalMemory(BYTES);
        final long base = memory.baseAddress();
        workload.populate(memory, base, BYTES, 0, 1);
        memory.putLong(base + 4096 * 7 + 64, memory.getLong(base + 4096 * 3 + 64));
        assertThrows(VerificationException.class, () -> workload.verify(memory, base, BYTES, 0));
    }

    @Test
    void shouldScrambleKeysBijectively()
    {
        for (final long n : new long[]{1, 2, 3, 1000, 4096, 5000})
        {
            final Set<Long> seen = new HashSet<>();
            for (long k = 0; k < n; k++)
            {
                final long s = ZipfKeyValue.scramble(k, n);
                assertTrue(s >= 0 && s < n);
                seen.add(s);
            }
            assertEquals(n, seen.size());
        }
    }

    @Test
    void shouldSkewZipfTowardsLowRanks()
    {
        final ZipfGenerator zipf = new ZipfGenerator(100_000, 0.99);
        final java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        int top100 = 0;
        for (int i = 0; i < 100_000; i++)
        {
            final long r = zipf.next(random);
            assertTrue(r >= 0 && r < 100_000);
            if (r < 100)
            {
                top100++;
            }
        }
        assertTrue(top100 > 30_000, "the top 0.1% of keys should draw a large share: " + top100);
    }
}
