package dev.splitkernel.workload;

import dev.splitkernel.excache.CacheWaits;
import dev.splitkernel.excache.EvictionPolicy;
import dev.splitkernel.excache.ExCache;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.excache.ExCacheHits;
import dev.splitkernel.excache.LineSource;
import dev.splitkernel.verbs.VirtualClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class StepClockTest
{
    @Test
    void shouldSumEachStepsSlowestThread()
    {
        // Step 0: thread a is slower (5 of which 2 stalled); step 1: thread b (7, 3 stalled).
        final StepClock.Steps a = new StepClock.Steps(new long[]{5, 1}, new long[]{2, 0});
        final StepClock.Steps b = new StepClock.Steps(new long[]{4, 7}, new long[]{4, 3});
        assertArrayEquals(new long[]{12, 5}, StepClock.criticalPath(a, b));
    }

    @Test
    void shouldTakeTheSlowestTotalWhenStepsDoNotMatch()
    {
        final StepClock.Steps a = new StepClock.Steps(new long[]{5, 1}, new long[]{2, 0});
        final StepClock.Steps b = new StepClock.Steps(new long[]{8}, new long[]{1});
        assertArrayEquals(new long[]{8, 1}, StepClock.criticalPath(a, b));
    }

    @Test
    void shouldRecordStepsBetweenArrivalAndDepartureOnly()
    {
        StepClock.start();
        VirtualClock.charge(3_000L);
        StepClock.arrive();
        VirtualClock.charge(1_000_000L); // between arrive and depart: waiting, not work
        StepClock.depart();
        VirtualClock.charge(5_000L);
        final StepClock.Steps steps = StepClock.finish();
        assertEquals(2, steps.count());
        assertArrayEquals(new long[]{3_000L, 5_000L}, steps.stallNs());
        assertTrue(steps.workNs()[0] >= 3_000L && steps.workNs()[1] >= 5_000L);
        assertTrue(steps.workNs()[0] < 1_000_000L, "work " + steps.workNs()[0]);
    }

    @Test
    void shouldIgnoreBarriersOfAThreadThatDoesNotRecord()
    {
        StepClock.arrive();
        StepClock.depart();
        assertThrows(IllegalStateException.class, StepClock::finish);
    }

    /** Lines of zeros, read-write; the fetch of {@link #GATED} waits until the gate opens. */
    private static final class GatedZeros implements LineSource
    {
        static final long GATED = 1;
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);

        @Override
        public int zeroFill(final int asid, final long lineNumber)
        {
            return -1;
        }

        @Override
        public int fetch(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
        {
            if (lineNumber == GATED)
            {
                entered.countDown();
                try
                {
                    if (!gate.await(30, TimeUnit.SECONDS))
                    {
                        return -110;
                    }
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return -4;
                }
            }
            dst.setMemory(dstOffset, 4096, (byte)0);
            return PROT_READ | PROT_WRITE;
        }

        @Override
        public int writeBack(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
        {
            return 0;
        }

        @Override
        public int targetOf(final int asid, final long lineNumber)
        {
            return 0;
        }
    }

    /**
     * A thread that misses on a line another thread is fetching waits in the cache for that fetch; the CPU it spins
     * meanwhile depends on the scheduler, not on the workload, so it is left out of its step as barrier waits are.
     */
    @Test
    void shouldLeaveAThreadsWaitForAnotherThreadsFetchOutOfItsStep() throws Exception
    {
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final GatedZeros source = new GatedZeros();
        final ExCacheContext ctx = new ExCacheContext().capacityBytes(4 * 4096).lineBytes(4096).ways(4)
            .policy(EvictionPolicy.FIFO);
        try (ExCache cache = new ExCache(ctx, source))
        {
            load(cache, 2 * 4096L); // the miss path once, outside the step
            final Thread fetcher = new Thread(() -> load(cache, GatedZeros.GATED * 4096));
            fetcher.setDaemon(true);
            fetcher.start();
            assertTrue(source.entered.await(10, TimeUnit.SECONDS), "the fetch never started");
            final AtomicReference<StepClock.Steps> steps = new AtomicReference<>();
            final AtomicLong waited = new AtomicLong();
            final AtomicLong cpu = new AtomicLong();
            final Thread waiter = new Thread(() ->
            {
                final long cpu0 = threads.getCurrentThreadCpuTime();
                final long waited0 = CacheWaits.waitedNs();
                StepClock.start();
                load(cache, GatedZeros.GATED * 4096 + 8);
                steps.set(StepClock.finish());
                waited.set(CacheWaits.waitedNs() - waited0);
                cpu.set(threads.getCurrentThreadCpuTime() - cpu0);
            });
            waiter.setDaemon(true);
            waiter.start();
            // Let the waiter spin until it has burnt 20 ms of CPU waiting, then let the fetch end.
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (threads.getThreadCpuTime(waiter.getId()) < 20_000_000L)
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    fail("the waiter burnt only " + threads.getThreadCpuTime(waiter.getId()) + " ns in 20 s");
                }
                Thread.onSpinWait();
            }
            source.gate.countDown();
            fetcher.join(10_000);
            waiter.join(10_000);
            assertTrue(waited.get() >= 15_000_000L, "wait counted " + waited.get() + " ns of " + cpu.get());
            final long work = steps.get().workNs()[0];
            assertTrue(work <= cpu.get() - waited.get(), "work " + work + " ns, waited " + waited.get());
            assertTrue(work < 5_000_000L, "work " + work + " ns of CPU " + cpu.get());
        }
    }

    /** One load by the calling thread, through a hit count of its own (the cache has no load without one). */
    private static long load(final ExCache cache, final long address)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getLong(hits, 1, address);
        }
    }
}
