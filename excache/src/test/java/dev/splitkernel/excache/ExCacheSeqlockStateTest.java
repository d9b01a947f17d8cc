package dev.splitkernel.excache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hit path's seqlock word: read permission is folded into it, and every change of a slot gives it a new value,
 * so a reader (a hit or a cursor window) never returns bytes of the line that replaced its own in the same slot.
 * A one-slot cache puts every line in the same slot.
 */
class ExCacheSeqlockStateTest
{
    private static final int LINE_BYTES = 4096;
    private static final int ASID = 3;

    private static ExCacheContext oneSlot()
    {
        return new ExCacheContext().capacityBytes(LINE_BYTES).lineBytes(LINE_BYTES).ways(1)
            .policy(EvictionPolicy.FIFO);
    }

    private static long expectedLong(final long line, final int offset)
    {
        long bits = 0;
        for (int i = 0; i < Long.BYTES; i++)
        {
            bits |= (TestLineSource.pattern(ASID, line, offset + i) & 0xFFL) << (i << 3);
        }
        return bits;
    }

    /** Line 1 may be written but not read (PROT_WRITE only); every other line is read-write. */
    private static final class WriteOnlyLineOne extends TestLineSource
    {
        WriteOnlyLineOne()
        {
            super(LINE_BYTES);
        }

        @Override
        int prot(final long line)
        {
            return line == 1 ? PROT_WRITE : PROT_READ | PROT_WRITE;
        }
    }

    @Test
    void shouldFaultOnLoadOfUnreadableLineInSlotLastHeldByReadableLine()
    {
        try (ExCache cache = new ExCache(oneSlot(), new WriteOnlyLineOne()))
        {
            final ExCacheCursor cursor = cache.cursor(ASID);
            assertEquals(expectedLong(0, 16), Held.getLong(cache, ASID, 16));
            assertEquals(expectedLong(0, 24), cursor.getLong(24));

            cache.putLong(ASID, LINE_BYTES + 8, 42); // line 1 takes the slot: stores are allowed
            assertFalse(cache.isCached(ASID, 0));

            final ExCacheFault viaCache =
                assertThrows(ExCacheFault.class, () -> Held.getLong(cache, ASID, LINE_BYTES + 8));
            assertEquals(ExCacheFault.PROTECTION, viaCache.status());
            assertFalse(viaCache.isWrite());
            final ExCacheFault viaCursor = assertThrows(ExCacheFault.class, () -> cursor.getLong(LINE_BYTES + 8));
            assertEquals(ExCacheFault.PROTECTION, viaCursor.status());
            assertThrows(ExCacheFault.class, () -> Held.getByte(cache, ASID, LINE_BYTES));
            assertThrows(ExCacheFault.class, () -> Held.getInt(cache, ASID, LINE_BYTES));

            assertEquals(expectedLong(0, 16), Held.getLong(cache, ASID, 16), "line 0 back, readable again");
            assertEquals(expectedLong(0, 32), cursor.getLong(32));
        }
    }

    @Test
    void shouldNotServeCursorWindowFromLineThatReplacedItsOwn()
    {
        try (ExCache cache = new ExCache(oneSlot(), new TestLineSource(LINE_BYTES)))
        {
            final ExCacheCursor cursor = cache.cursor(ASID);
            assertEquals(expectedLong(0, 0), cursor.getLong(0)); // opens a window on line 0

            assertEquals(expectedLong(1, 0), Held.getLong(cache, ASID, LINE_BYTES)); // line 1 replaces it in the slot
            assertEquals(expectedLong(0, 8), cursor.getLong(8), "the window is stale: reloaded, not line 1's bytes");

            Held.getLong(cache, ASID, LINE_BYTES);
            Held.getLong(cache, ASID, 0); // line 0 evicted and back in the same slot: same bytes, new state
            assertEquals(expectedLong(0, 64), cursor.getLong(64));
            assertEquals(expectedLong(1, 64), cursor.getLong(LINE_BYTES + 64));
            assertEquals(expectedLong(0, 72), Held.getLong(cache, ASID, 72));
        }
    }

    @Test
    void shouldSeeOwnStoresThroughCursorAfterSlotReuse()
    {
        try (ExCache cache = new ExCache(oneSlot(), new TestLineSource(LINE_BYTES)))
        {
            final ExCacheCursor cursor = cache.cursor(ASID);
            cursor.putLong(128, 7);
            assertEquals(7, cursor.getLong(128));
            cursor.putLong(LINE_BYTES + 128, 9); // evicts dirty line 0 (written back)
            assertEquals(7, cursor.getLong(128)); // fetched again from the source
            assertEquals(9, cursor.getLong(LINE_BYTES + 128));
            assertEquals(2, cache.counters().dirtyWriteBacks());
        }
    }

    @Test
    void shouldNeverReturnBytesOfAnotherLineThroughCursorsUnderConstantEviction() throws Exception
    {
        final int lineBytes = 256;
        final int lines = 64;
        final int threads = 4;
        final int iterations = 300_000;
        final ExCacheContext ctx = new ExCacheContext().capacityBytes(4 * lineBytes).lineBytes(lineBytes).ways(2)
            .policy(EvictionPolicy.CLOCK);
        try (ExCache cache = new ExCache(ctx, new TestLineSource(lineBytes)))
        {
            for (long vaddr = 0; vaddr < (long)lines * lineBytes; vaddr += Long.BYTES)
            {
                cache.putLong(ASID, vaddr, valueAt(vaddr));
            }
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final CyclicBarrier start = new CyclicBarrier(threads);
            final List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int id = t;
                final Thread worker = new Thread(() ->
                {
                    try
                    {
                        final SplittableRandom random = new SplittableRandom(id * 31L + 7);
                        final ExCacheCursor cursor = cache.cursor(ASID);
                        final ExCacheHits hits = cache.newHits();
                        start.await(10, TimeUnit.SECONDS);
                        long vaddr = 0;
                        for (int i = 0; i < iterations; i++)
                        {
                            // Mostly short sequential runs through a cursor window, sometimes a jump (which evicts).
                            vaddr = random.nextInt(8) == 0 ?
                                random.nextInt(lines * lineBytes / Long.BYTES) * (long)Long.BYTES :
                                (vaddr + Long.BYTES) % ((long)lines * lineBytes);
                            final long value = (id & 1) == 0 ? cursor.getLong(vaddr) : cache.getLong(hits, ASID, vaddr);
                            if (value != valueAt(vaddr))
                            {
                                throw new AssertionError("vaddr 0x" + Long.toHexString(vaddr) + " returned 0x" +
                                    Long.toHexString(value) + ", expected 0x" + Long.toHexString(valueAt(vaddr)));
                            }
                            if ((cursor.getInt(vaddr + 4) & 0xFFFFFFFFL) != valueAt(vaddr) >>> 32 ||
                                cursor.getByte(vaddr) != (byte)valueAt(vaddr))
                            {
                                throw new AssertionError("narrow load at vaddr 0x" + Long.toHexString(vaddr));
                            }
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failure.compareAndSet(null, ex);
                    }
                });
                workers.add(worker);
                worker.start();
            }
            for (final Thread worker : workers)
            {
                worker.join(120_000);
                assertFalse(worker.isAlive(), "stress thread hung");
            }
            if (failure.get() != null)
            {
                throw new AssertionError("stress failed: " + failure.get(), failure.get());
            }
            assertTrue(cache.counters().evictions() > 1000, "should evict constantly: " + cache.counters());
        }
    }

    /** A value no other word of any line has: a returned value names the address it came from. */
    private static long valueAt(final long vaddr)
    {
        return (vaddr * 0x9E3779B97F4A7C15L) ^ (vaddr << 40) ^ 0x5DEECE66DL;
    }
}
