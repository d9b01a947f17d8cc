package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several threads, one address space, a cache so small it evicts all the time. Each thread owns some 8-byte words
 * spread over shared lines and writes increasing values whose halves check each other; every thread reads every
 * word. No read may be torn (halves disagree) or go back in time, and no write may be lost, in the cache or
 * in the backing store after the final flush.
 */
class ExCacheConcurrencyTest
{
    private static final int THREADS = 4;
    private static final int ITERATIONS = 400_000;

    @ParameterizedTest(name = "{0} piggyback={1} victims={2}")
    @CsvSource({"FIFO,false,0", "CLOCK,true,0", "FIFO,true,2"})
    void shouldNeitherLoseNorTearWritesUnderConstantEviction(
        final EvictionPolicy policy, final boolean piggyback, final int victimLines) throws Exception
    {
        final int lineBytes = 256;
        final int lines = 64;
        final int wordsPerLine = lineBytes / 8;
        final int words = lines * wordsPerLine;
        final TestLineSource source = new TestLineSource(lineBytes);
        source.pLocalFromLine = lines / 2; // half fetched (pattern, overwritten first), half p-local
        final ExCacheContext ctx = new ExCacheContext().capacityBytes(8 * lineBytes).lineBytes(lineBytes).ways(2)
            .policy(policy).piggyback(piggyback).victimCacheLines(victimLines);
        try (ExCache cache = new ExCache(ctx, source))
        {
            // Initialise every word to (seq 0, owner): word w belongs to thread w % THREADS.
            for (int w = 0; w < words; w++)
            {
                cache.putLong(7, w * 8L, encode(0, w));
            }
            final long[][] lastWritten = new long[THREADS][words];
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final CyclicBarrier start = new CyclicBarrier(THREADS);
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++)
            {
                final int id = t;
                final Thread thread = new Thread(() ->
                {
                    try
                    {
                        final SplittableRandom random = new SplittableRandom(id * 7919L + 1);
                        final long[] lastSeen = new long[words];
                        final ExCacheHits hits = cache.newHits();
                        start.await(10, TimeUnit.SECONDS);
                        for (int i = 0; i < ITERATIONS; i++)
                        {
                            final int w = random.nextInt(words);
                            final long vaddr = w * 8L;
                            if (w % THREADS == id && random.nextInt(3) != 0)
                            {
                                final long seq = lastWritten[id][w] + 1;
                                if (random.nextBoolean())
                                {
                                    cache.putLong(7, vaddr, encode(seq, w));
                                }
                                else
                                {
                                    final UnsafeBuffer bytes = new UnsafeBuffer(new byte[8]);
                                    bytes.putLong(0, encode(seq, w));
                                    cache.putBytes(7, vaddr, bytes, 0, 8);
                                }
                                lastWritten[id][w] = seq;
                                final long readBack = cache.getLong(hits, 7, vaddr);
                                check(readBack, w, seq, "own write read back");
                            }
                            else
                            {
                                final long value = cache.getLong(hits, 7, vaddr);
                                final long seq = check(value, w, -1, "read");
                                if (seq < lastSeen[w])
                                {
                                    throw new AssertionError("word " + w + " went back from " + lastSeen[w] + " to " +
                                        seq);
                                }
                                lastSeen[w] = seq;
                            }
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            for (final Thread thread : threads)
            {
                thread.join(120_000);
                assertTrue(!thread.isAlive(), "stress thread hung");
            }
            if (failure.get() != null)
            {
                throw new AssertionError("stress failed: " + failure.get(), failure.get());
            }

            for (int w = 0; w < words; w++)
            {
                assertEquals(encode(lastWritten[w % THREADS][w], w), Held.getLong(cache, 7, w * 8L), "word " + w);
            }
            assertEquals(0, cache.flushAndDropAll(7));
            for (int w = 0; w < words; w++)
            {
                final long stored = new UnsafeBuffer(source.current(7, w / wordsPerLine)).getLong((w % wordsPerLine) * 8);
                assertEquals(encode(lastWritten[w % THREADS][w], w), stored, "backing store, word " + w);
            }
            assertTrue(cache.counters().evictions() > 1000, "should evict constantly: " + cache.counters());
        }
    }

    /** High 40 bits: sequence; low 24 bits: word index xor the sequence's low bits (detects torn or misplaced). */
    private static long encode(final long seq, final int word)
    {
        return (seq << 24) | ((word ^ seq) & 0xFFFFFF);
    }

    private static long check(final long value, final int word, final long expectedSeq, final String what)
    {
        final long seq = value >>> 24;
        if ((value & 0xFFFFFF) != ((word ^ seq) & 0xFFFFFF) || (expectedSeq >= 0 && seq != expectedSeq))
        {
            throw new AssertionError(what + ": word " + word + " has 0x" + Long.toHexString(value) +
                (expectedSeq >= 0 ? ", expected seq " + expectedSeq : ""));
        }
        return seq;
    }
}
