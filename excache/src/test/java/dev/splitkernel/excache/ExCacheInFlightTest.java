package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The miss path holds no lock across the network: lines in flight are tracked per line, so misses to other lines of
 * a set go on while one is fetched, a second miss on a line in flight waits for that fetch, and a dirty victim is
 * written back off the critical path without ever being overtaken by a later fetch of its line.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ExCacheInFlightTest
{
    /** One set of four 4 KB lines. */
    private static ExCacheContext oneSet()
    {
        return new ExCacheContext().capacityBytes(4 * 4096).lineBytes(4096).ways(4).policy(EvictionPolicy.FIFO);
    }

    /** A test source whose fetch or write-back of one line waits for a gate, and which logs what it did, in order. */
    private static final class GatedSource extends TestLineSource
    {
        final List<String> log = new CopyOnWriteArrayList<>();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);
        volatile long gatedFetchLine = -1;
        volatile long gatedWriteBackLine = -1;

        GatedSource()
        {
            super(4096);
        }

        @Override
        public int fetch(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
        {
            if (lineNumber == gatedFetchLine)
            {
                entered.countDown();
                await(gate);
            }
            log.add("fetch " + lineNumber);
            return super.fetch(asid, lineNumber, dst, dstOffset);
        }

        @Override
        public int writeBack(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
        {
            if (lineNumber == gatedWriteBackLine)
            {
                entered.countDown();
                await(gate);
            }
            final int result = super.writeBack(asid, lineNumber, src, srcOffset);
            log.add("write-back " + lineNumber);
            return result;
        }

        private static void await(final CountDownLatch latch)
        {
            try
            {
                assertTrue(latch.await(30, TimeUnit.SECONDS), "gate never opened");
            }
            catch (final InterruptedException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }

    private static Thread start(final Runnable body)
    {
        final Thread thread = new Thread(body);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void awaitWaiting(final Thread thread)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() == Thread.State.RUNNABLE || thread.getState() == Thread.State.NEW)
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "thread never blocked: " + thread.getState());
            Thread.onSpinWait();
        }
    }

    @Test
    void shouldServeAMissToAnotherLineOfTheSetWhileAFetchIsInFlight() throws Exception
    {
        final GatedSource source = new GatedSource();
        source.gatedFetchLine = 1;
        try (ExCache cache = new ExCache(oneSet(), source))
        {
            final AtomicLong slow = new AtomicLong();
            final Thread fetching = start(() -> slow.set(Held.getLong(cache, 1, 4096)));
            assertTrue(source.entered.await(10, TimeUnit.SECONDS));
            // Line 1's fetch is on the network: line 2 of the same set must not wait for it.
            assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertEquals(TestLineSource.pattern(1, 2, 0), Held.getByte(cache, 1, 2 * 4096L)));
            source.gate.countDown();
            fetching.join(10_000);
            assertEquals(new UnsafeBuffer(source.current(1, 1)).getLong(0), slow.get());
        }
    }

    @Test
    void shouldFetchALineOnceWhenTwoThreadsMissOnIt() throws Exception
    {
        final GatedSource source = new GatedSource();
        source.gatedFetchLine = 1;
        try (ExCache cache = new ExCache(oneSet(), source))
        {
            final Thread first = start(() -> Held.getLong(cache, 1, 4096));
            assertTrue(source.entered.await(10, TimeUnit.SECONDS));
            final AtomicLong second = new AtomicLong();
            final Thread waiter = start(() -> second.set(Held.getLong(cache, 1, 4096 + 8)));
            awaitWaiting(waiter);
            source.gate.countDown();
            first.join(10_000);
            waiter.join(10_000);
            assertEquals(1, source.log.stream().filter("fetch 1"::equals).count(), source.log.toString());
            assertEquals(new UnsafeBuffer(source.current(1, 1)).getLong(8), second.get());
        }
    }

    @Test
    void shouldWriteADirtyVictimBackOffTheMissPathAndTakeItBackOnAMiss()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(), source))
        {
            cache.putLong(1, 0, 5); // line 0, target 0
            for (int line = 1; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
            }
            final int fetches = source.fetches;
            Held.getLong(cache, 1, 4 * 4096L); // target 1: the victim cannot ride along
            assertEquals(fetches + 1, source.fetches, "one round trip: the fetch");
            assertEquals(0, source.writeBacks, "the dirty victim waits in a staging line");
            assertEquals(5, Held.getLong(cache, 1, 0), "a miss on it takes it back, without the network");
            assertEquals(fetches + 1, source.fetches);
            assertEquals(0, cache.flush(1, 0, 4096));
            assertEquals(5, new UnsafeBuffer(source.current(1, 0)).getLong(0));
        }
    }

    @Test
    void shouldNeverFetchALineBeforeItsWriteBackEnds() throws Exception
    {
        final GatedSource source = new GatedSource();
        try (ExCache cache = new ExCache(oneSet(), source))
        {
            cache.putLong(1, 0, 9);
            for (int line = 1; line < 5; line++)
            {
                Held.getLong(cache, 1, line * 4096L); // line 0 leaves for a staging line
            }
            source.gatedWriteBackLine = 0;
            final Thread drainer = start(cache::drainWriteBacks);
            assertTrue(source.entered.await(10, TimeUnit.SECONDS)); // its write-back is on the network now
            final AtomicLong value = new AtomicLong();
            final Thread miss = start(() -> value.set(Held.getLong(cache, 1, 0)));
            awaitWaiting(miss);
            source.gate.countDown();
            drainer.join(10_000);
            miss.join(10_000);
            assertEquals(9, value.get());
            final int written = source.log.indexOf("write-back 0");
            final int fetched = source.log.lastIndexOf("fetch 0");
            assertTrue(written >= 0 && written < fetched, "the fetch came after the write-back: " + source.log);
        }
    }
}
