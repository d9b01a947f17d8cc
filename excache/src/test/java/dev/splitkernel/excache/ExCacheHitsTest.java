package dev.splitkernel.excache;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hits counted in the callers' {@link ExCacheHits} handles and those of calls without one add up to exactly the loads
 * that hit: read while every handle is still open (their counts live), after the handles close (moved to the
 * retired total), and after a second close (not counted twice); and with many threads hitting at once, none lost.
 */
class ExCacheHitsTest
{
    private static final int THREADS = 4;
    private static final int LINES = 16;
    private static final int LINE_BYTES = 4096;
    private static final int ROUNDS = 2_000;

    @ParameterizedTest
    @EnumSource(value = EvictionPolicy.class, names = {"FIFO", "CLOCK"})
    void shouldCountEveryHitExactlyOnceWithAndWithoutHandles(final EvictionPolicy policy) throws Exception
    {
        // FIFO counts aligned loads with a handle on the inline path and unaligned ones in readSlow; CLOCK serves
        // every load through readSlow. Either way a load counts in its handle (Held: one opened and closed per load).
        final int asid = 3;
        try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(64L * LINE_BYTES).lineBytes(LINE_BYTES)
            .ways(4).policy(policy), new TestLineSource(LINE_BYTES)))
        {
            for (int line = 0; line < LINES; line++)
            {
                cache.putLong(asid, (long)line * LINE_BYTES, line);
                cache.putLong(asid, (long)line * LINE_BYTES + 8, 0);
            }
            final long hitsBefore = cache.counters().hits();
            final long missesBefore = cache.counters().misses();
            final CountDownLatch loaded = new CountDownLatch(THREADS);
            final CountDownLatch closeNow = new CountDownLatch(1);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final List<ExCacheHits> handles = new ArrayList<>();
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++)
            {
                final ExCacheHits hits = cache.newHits();
                handles.add(hits);
                final Thread thread = new Thread(() ->
                {
                    try
                    {
                        for (int round = 0; round < ROUNDS; round++)
                        {
                            final long vaddr = (long)(round % LINES) * LINE_BYTES;
                            assertEquals(round % LINES, cache.getLong(hits, asid, vaddr));
                            assertEquals(round % LINES, Held.getLong(cache, asid, vaddr));
                            assertEquals(0, cache.getInt(hits, asid, vaddr + 1)); // unaligned: readSlow
                            assertEquals(0.0, cache.getDouble(hits, asid, vaddr + 8));
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                    loaded.countDown();
                    try
                    {
                        closeNow.await(); // the handle stays open (live) while the main thread reads the total
                    }
                    catch (final InterruptedException ex)
                    {
                        Thread.currentThread().interrupt();
                    }
                    hits.close();
                }, "hits-" + t);
                threads.add(thread);
                thread.start();
            }
            assertTrue(loaded.await(60, TimeUnit.SECONDS), "loads did not finish");
            final long expected = hitsBefore + (long)THREADS * ROUNDS * 4;
            assertEquals(expected, cache.counters().hits(), "handles open: " + cache.counters());
            closeNow.countDown();
            for (final Thread thread : threads)
            {
                thread.join(TimeUnit.SECONDS.toMillis(60));
                assertFalse(thread.isAlive(), thread.getName() + " did not finish");
            }
            if (failure.get() != null)
            {
                throw new AssertionError(failure.get());
            }
            assertEquals(expected, cache.counters().hits(), "handles closed: " + cache.counters());
            handles.forEach(ExCacheHits::close);
            assertEquals(expected, cache.counters().hits(), "handles closed twice: " + cache.counters());
            assertEquals(missesBefore, cache.counters().misses(), cache.counters().toString());
            // The loads with a handle were counted in it, on the inline path and in readSlow alike.
            assertTrue(handles.stream().allMatch(h -> h.count() == 3L * ROUNDS), "per-handle counts");
        }
    }

    /**
     * More threads than the 64 stripes the cache once counted in (threads whose ids agreed in the low 6 bits shared
     * one, with plain increments, and lost counts), all hitting the same lines at once: loads with the thread's
     * handle, loads with a handle opened and closed around each, stores without one. T threads x N hits each must
     * read T x N exactly.
     */
    @ParameterizedTest
    @EnumSource(value = EvictionPolicy.class, names = {"FIFO", "CLOCK"})
    void shouldCountHitsOfManyThreadsExactly(final EvictionPolicy policy) throws Exception
    {
        final int asid = 5;
        final int threadCount = 80;
        final int rounds = 5_000;
        try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(64L * LINE_BYTES).lineBytes(LINE_BYTES)
            .ways(4).policy(policy), new TestLineSource(LINE_BYTES)))
        {
            for (int line = 0; line < LINES; line++)
            {
                cache.putLong(asid, (long)line * LINE_BYTES, line);
            }
            final long hitsBefore = cache.counters().hits();
            final CountDownLatch start = new CountDownLatch(1);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < threadCount; t++)
            {
                final int thread = t;
                threads.add(new Thread(() ->
                {
                    try (ExCacheHits hits = cache.newHits())
                    {
                        start.await();
                        for (int round = 0; round < rounds; round++)
                        {
                            final long vaddr = (long)(round % LINES) * LINE_BYTES;
                            assertEquals(round % LINES, cache.getLong(hits, asid, vaddr));
                            assertEquals(round % LINES, Held.getLong(cache, asid, vaddr));
                            cache.putLong(asid, vaddr + 8 + 8 * thread, round);
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                }, "many-" + t));
            }
            threads.forEach(Thread::start);
            start.countDown();
            for (final Thread thread : threads)
            {
                thread.join(TimeUnit.SECONDS.toMillis(120));
                assertFalse(thread.isAlive(), thread.getName() + " did not finish");
            }
            if (failure.get() != null)
            {
                throw new AssertionError(failure.get());
            }
            assertEquals(hitsBefore + 3L * threadCount * rounds, cache.counters().hits(), cache.counters().toString());
        }
    }
}
