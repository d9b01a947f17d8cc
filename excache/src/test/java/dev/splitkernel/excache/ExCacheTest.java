package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExCacheTest
{
    private static ExCacheContext oneSet(final EvictionPolicy policy)
    {
        return new ExCacheContext().capacityBytes(4 * 4096).lineBytes(4096).ways(4).policy(policy);
    }

    @Test
    void shouldEvictFirstFilledLineWithFifo()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            for (int line = 0; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
            }
            Held.getLong(cache, 1, 0);
            Held.getLong(cache, 1, 4 * 4096L); // evicts line 0 although it was just used
            assertFalse(cache.isCached(1, 0));
            Held.getLong(cache, 1, 4096L);
            Held.getLong(cache, 1, 5 * 4096L); // FIFO: line 1 is the oldest now
            assertFalse(cache.isCached(1, 4096L));
            assertTrue(cache.isCached(1, 2 * 4096L));
            assertTrue(cache.isCached(1, 3 * 4096L));
            assertEquals(2, cache.counters().evictions());
        }
    }

    @Test
    void shouldGiveReferencedLinesASecondChanceWithClock()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.CLOCK), source))
        {
            for (int line = 0; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
            }
            Held.getLong(cache, 1, 4 * 4096L); // every line referenced: the hand clears all bits and takes one line
            final List<Long> left = new ArrayList<>();
            for (long line = 0; line < 4; line++)
            {
                if (cache.isCached(1, line * 4096L))
                {
                    left.add(line);
                }
            }
            assertEquals(3, left.size());
            // Reference two of the three survivors (and line 4, just filled, is referenced): the third must go,
            // wherever the hand stands, although FIFO would take the oldest.
            Held.getLong(cache, 1, left.get(0) * 4096L);
            Held.getLong(cache, 1, left.get(2) * 4096L);
            Held.getLong(cache, 1, 5 * 4096L);
            assertFalse(cache.isCached(1, left.get(1) * 4096L), "the unreferenced line goes");
            assertTrue(cache.isCached(1, left.get(0) * 4096L));
            assertTrue(cache.isCached(1, left.get(2) * 4096L));
            assertTrue(cache.isCached(1, 4 * 4096L));
        }
    }

    @Test
    void shouldEvictOldestFillWithFifoEvenWhenReferenced()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            for (int line = 0; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
            }
            for (int line = 0; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
                Held.getLong(cache, 1, line * 4096L); // referenced, which FIFO ignores
            }
            for (int line = 4; line < 8; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
                assertFalse(cache.isCached(1, (line - 4) * 4096L), "line " + (line - 4) + " was the oldest");
                for (int younger = line - 3; younger <= line; younger++)
                {
                    assertTrue(cache.isCached(1, younger * 4096L));
                }
            }
        }
    }

    @Test
    void shouldKeepAddressSpacesApart()
    {
        final TestLineSource source = new TestLineSource(4096);
        source.pLocalFromLine = 0;
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            cache.putLong(1, 64, 11);
            cache.putLong(2, 64, 22);
            assertEquals(11, Held.getLong(cache, 1, 64));
            assertEquals(22, Held.getLong(cache, 2, 64));
            assertEquals(0, Held.getLong(cache, 3, 64));
        }
    }

    @Test
    void shouldZeroFillPLocalLinesWithoutFetchAndWriteThemBackWhenDirty()
    {
        final TestLineSource source = new TestLineSource(4096);
        source.pLocalFromLine = 0;
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            assertEquals(0, Held.getLong(cache, 1, 8));
            cache.putInt(1, 4096 + 12, 7);
            assertEquals(0, source.fetches);
            assertEquals(2, cache.counters().pLocalFills());
            assertTrue(source.stored.isEmpty(), "the backing side has not seen the lines");
            for (int line = 2; line < 6; line++)
            {
                Held.getLong(cache, 1, line * 4096L); // evicts lines 0 (clean: dropped) and 1 (dirty: staged)
            }
            assertEquals(0, source.writeBacks, "the dirty victim is written back off the miss's critical path");
            assertEquals(1, cache.drainWriteBacks());
            assertEquals(1, source.writeBacks);
            assertEquals(7, Held.getInt(cache, 1, 4096 + 12));
            assertEquals(1, source.fetches, "a written-back p-local line is fetched");
        }
    }

    @Test
    void shouldPiggybackDirtyVictimOnFetchToSameTarget()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO).piggyback(true), source))
        {
            cache.putLong(1, 0, 42); // line 0, target 0
            for (int line = 1; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L); // lines 1..3, target 0
            }
            Held.getLong(cache, 1, 8 * 4096L); // target 0: line 0 rides along
            assertEquals(1, source.piggybacks);
            assertEquals(1, cache.counters().piggybackedWriteBacks());
            assertEquals(42, new UnsafeBuffer(source.current(1, 0)).getLong(0));

            cache.putLong(1, 4096, 43); // line 1 dirty, target 0
            Held.getLong(cache, 1, 4 * 4096L); // target 1: line 1 waits in a staging line, off the miss's critical path
            assertEquals(1, source.piggybacks);
            assertEquals(1, source.writeBacks);
            assertEquals(1, cache.drainWriteBacks());
            assertEquals(2, source.writeBacks);
            assertEquals(43, new UnsafeBuffer(source.current(1, 1)).getLong(0));
        }
    }

    @Test
    void shouldServeMissFromVictimCache()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO).victimCacheLines(2), source))
        {
            cache.putLong(1, 0, 99);
            for (int line = 1; line < 5; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
            }
            assertTrue(cache.isInVictimCache(1, 0));
            assertEquals(0, source.writeBacks, "the dirty victim went to the victim cache");
            final int fetches = source.fetches;
            assertEquals(99, Held.getLong(cache, 1, 0));
            assertEquals(fetches, source.fetches);
            assertEquals(1, cache.counters().victimCacheHits());
            assertEquals(0, cache.flush(1, 0, 4096));
            assertEquals(99, new UnsafeBuffer(source.current(1, 0)).getLong(0));
        }
    }

    @Test
    void shouldRaiseFaultOnFailedFetchAndStayUsable()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            cache.putLong(1, 0, 5);
            source.failFetches = 1;
            final ExCacheFault fault = assertThrows(ExCacheFault.class, () -> Held.getInt(cache, 1, 4096 + 4));
            assertEquals(-5, fault.status());
            assertEquals(1, fault.asid());
            assertEquals(4096 + 4, fault.vaddr());
            assertFalse(fault.isWrite());
            assertEquals(5, Held.getLong(cache, 1, 0));
            assertEquals(TestLineSource.pattern(1, 1, 4), Held.getByte(cache, 1, 4096 + 4), "the retry succeeds");
        }
    }

    @Test
    void shouldRaiseFaultOnStoreToReadOnlyLineAndKeepIt()
    {
        final TestLineSource source = new TestLineSource(4096);
        source.readOnlyFromLine = 2;
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            final byte before = Held.getByte(cache, 1, 2 * 4096L);
            final ExCacheFault fault = assertThrows(ExCacheFault.class, () -> cache.putByte(1, 2 * 4096L, (byte)1));
            assertEquals(ExCacheFault.PROTECTION, fault.status());
            assertTrue(fault.isWrite());
            assertEquals(before, Held.getByte(cache, 1, 2 * 4096L));
            cache.putLong(1, 8, 3);
            assertEquals(3, Held.getLong(cache, 1, 8));
        }
    }

    @Test
    void shouldKeepDirtyVictimWhenWriteBackFails()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            cache.putLong(1, 0, 77);
            for (int line = 1; line < 4; line++)
            {
                Held.getLong(cache, 1, line * 4096L);
            }
            source.failWriteBacks = 1;
            cache.putLong(1, 4 * 4096L, 1); // line 0 (dirty, another target) waits in a staging line
            assertEquals(0, cache.drainWriteBacks(), "its write-back fails: it stays staged");
            final int fetches = source.fetches;
            assertEquals(77, Held.getLong(cache, 1, 0), "nothing lost: a miss takes it back from its staging line");
            assertEquals(fetches, source.fetches);
            assertEquals(0, cache.flush(1, 0, 4096));
            assertEquals(77, new UnsafeBuffer(source.current(1, 0)).getLong(0));
        }
    }

    @Test
    void shouldRejectAddressesOutsideTheAddressSpace()
    {
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), source))
        {
            final ExCacheFault fault = assertThrows(ExCacheFault.class, () -> Held.getLong(cache, 1, 1L << 48));
            assertEquals(ExCacheFault.ADDRESS_OUT_OF_RANGE, fault.status());
            assertThrows(ExCacheFault.class, () -> cache.putLong(1, -8, 1));
            assertThrows(ExCacheFault.class, () -> Held.getLong(cache, 1, (1L << 48) - 4));
            assertThrows(IllegalArgumentException.class, () -> Held.getLong(cache, 70_000, 0));
            assertThrows(IllegalArgumentException.class, () -> Held.getLong(cache, -1, 0));
            assertThrows(IllegalArgumentException.class, () -> cache.flush(1, -1, 10));
        }
    }

    @Test
    void shouldFetchOnceForConcurrentMissesOnOneLine() throws InterruptedException
    {
        final CountDownLatch inFetch = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger fetches = new AtomicInteger();
        final LineSource slow = new LineSource()
        {
            public int zeroFill(final int asid, final long lineNumber)
            {
                return -1;
            }

            public int fetch(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
            {
                fetches.incrementAndGet();
                inFetch.countDown();
                try
                {
                    release.await(10, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                dst.putLong(dstOffset, 1234);
                return PROT_READ | PROT_WRITE;
            }

            public int writeBack(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
            {
                return 0;
            }

            public int targetOf(final int asid, final long lineNumber)
            {
                return 0;
            }
        };
        try (ExCache cache = new ExCache(oneSet(EvictionPolicy.FIFO), slow))
        {
            final List<Thread> threads = new ArrayList<>();
            final AtomicInteger correct = new AtomicInteger();
            for (int i = 0; i < 4; i++)
            {
                final Thread thread = new Thread(() ->
                {
                    if (Held.getLong(cache, 1, 0) == 1234)
                    {
                        correct.incrementAndGet();
                    }
                });
                threads.add(thread);
                thread.start();
                if (i == 0)
                {
                    assertTrue(inFetch.await(10, TimeUnit.SECONDS));
                }
            }
            // The others must be waiting for the fetch in flight (parked in its back-off) before it completes.
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (final Thread waiter : threads.subList(1, threads.size()))
            {
                while (waiter.getState() != Thread.State.TIMED_WAITING && System.nanoTime() - deadlineNs < 0)
                {
                    Thread.yield();
                }
                assertEquals(Thread.State.TIMED_WAITING, waiter.getState(), waiter + " never waited for the fetch");
            }
            release.countDown();
            for (final Thread thread : threads)
            {
                thread.join(10_000);
            }
            assertEquals(4, correct.get());
            assertEquals(1, fetches.get());
        }
    }

    @Test
    void shouldRefuseInvalidGeometryNamingTheSetting()
    {
        assertMessage("lineBytes", new ExCacheContext().lineBytes(3000));
        assertMessage("lineBytes", new ExCacheContext().lineBytes(32));
        assertMessage("ways", new ExCacheContext().ways(3));
        assertMessage("ways", new ExCacheContext().ways(512));
        assertMessage("ways", new ExCacheContext().ways(0));
        assertMessage("capacityBytes", new ExCacheContext().capacityBytes(1000));
        assertMessage("capacityBytes", new ExCacheContext().capacityBytes(3 * 64 * 4096));
        assertMessage("capacityBytes", new ExCacheContext().capacityBytes(-1));
        assertMessage("victimCacheLines", new ExCacheContext().victimCacheLines(-1));
        assertMessage("policy", new ExCacheContext().policy(null));
        assertMessage("segmentAllocator", new ExCacheContext().segmentAllocator(null));
        new ExCacheContext().conclude();
    }

    private static void assertMessage(final String setting, final ExCacheContext ctx)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, ctx::conclude);
        assertTrue(ex.getMessage().startsWith(setting), ex.getMessage());
    }

    @Test
    void shouldRefuseBadSegmentAllocator()
    {
        final ExCacheContext ctx = oneSet(EvictionPolicy.FIFO).segmentAllocator(length -> new UnsafeBuffer(new byte[length]));
        final IllegalStateException ex =
            assertThrows(IllegalStateException.class, () -> new ExCache(ctx, new TestLineSource(4096)));
        assertTrue(ex.getMessage().contains("segmentAllocator"), ex.getMessage());
    }

    @Test
    void shouldWorkAboveTwoGibibytes(@TempDir final Path dir) throws IOException
    {
        final List<RandomAccessFile> files = new ArrayList<>();
        final TestLineSource source = new TestLineSource(4096);
        source.pLocalFromLine = 0;
        final AtomicInteger segments = new AtomicInteger();
        // Sparse memory-mapped files: 4 GiB of address space, only touched pages use memory.
        final LineMemoryAllocator sparse = length ->
        {
            try
            {
                final RandomAccessFile file = new RandomAccessFile(dir.resolve("seg" + files.size()).toFile(), "rw");
                files.add(file);
                file.setLength(length);
                final MappedByteBuffer map = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, length);
                segments.incrementAndGet();
                return new UnsafeBuffer(map);
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        };
        final long capacity = 4L << 30;
        final int lineBytes = 1 << 20;
        try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(capacity).lineBytes(lineBytes).ways(256)
            .segmentAllocator(sparse).piggyback(false), source))
        {
            assertEquals(5, segments.get(), "four of lines, one of staging lines for dirty victims");
            assertEquals(capacity, cache.capacityBytes());
            // One line in each of the 16 sets: slots in all four 1 GiB segments.
            final long lines = capacity / lineBytes / 256;
            for (long line = 0; line < lines; line++)
            {
                cache.putLong(1, line * lineBytes + lineBytes - 8, line * 3);
                cache.putInt(1, line * lineBytes, (int)-line);
            }
            for (long line = 0; line < lines; line++)
            {
                assertEquals(line * 3, Held.getLong(cache, 1, line * lineBytes + lineBytes - 8));
                assertEquals((int)-line, Held.getInt(cache, 1, line * lineBytes));
            }
            assertEquals(0, cache.counters().evictions());
        }
        finally
        {
            for (final RandomAccessFile file : files)
            {
                file.close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EvictionPolicy.class)
    void shouldLoadEveryWidthAlignedOrNotAndCountOneHitEach(final EvictionPolicy policy)
    {
        // FIFO serves aligned loads on the inline path and unaligned ones through readSlow; CLOCK serves all
        // through readSlow (it marks each hit). Every path must return the same bytes and count one hit per load.
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(
            new ExCacheContext().capacityBytes(64 * 4096).lineBytes(4096).ways(4).policy(policy), source))
        {
            final int asid = 5;
            final long line = 3L * 4096;
            for (int offset = 0; offset < 4096; offset += Long.BYTES)
            {
                cache.putLong(asid, line + offset, 0x0102030405060708L * (offset + 1));
            }
            final byte[] expected = new byte[4096];
            cache.getBytes(asid, line, expected, 0, expected.length);
            final long hitsBefore = cache.counters().hits();
            long loads = 0;
            for (final int offset : new int[]{0, 1, 2, 3, 4, 7, 8, 1000, 4088, 4089, 4092, 4094, 4095})
            {
                final long vaddr = line + offset;
                assertEquals(expected[offset], Held.getByte(cache, asid, vaddr), "byte at " + offset);
                loads++;
                if (offset <= 4096 - Short.BYTES)
                {
                    assertEquals((short)littleEndian(expected, offset, Short.BYTES), Held.getShort(cache, asid, vaddr));
                    loads++;
                }
                if (offset <= 4096 - Integer.BYTES)
                {
                    assertEquals((int)littleEndian(expected, offset, Integer.BYTES), Held.getInt(cache, asid, vaddr));
                    loads++;
                }
                if (offset <= 4096 - Long.BYTES)
                {
                    assertEquals(littleEndian(expected, offset, Long.BYTES), Held.getLong(cache, asid, vaddr));
                    loads++;
                }
            }
            assertEquals(hitsBefore + loads, cache.counters().hits(), cache.counters().toString());
            assertEquals(1, cache.counters().misses(), cache.counters().toString());
        }
    }

    private static long littleEndian(final byte[] bytes, final int offset, final int width)
    {
        long bits = 0;
        for (int i = 0; i < width; i++)
        {
            bits |= (bytes[offset + i] & 0xFFL) << (i << 3);
        }
        return bits;
    }

    @Test
    void shouldKeepLinesOfHighAsidsApartAndCountEveryHit()
    {
        // Keys put the asid in bits 48..63, so asids from 32768 up have negative keys; the top line of asid 65535
        // must stay distinct from EMPTY_KEY and range operations must still select exactly one asid's lines.
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(
            new ExCacheContext().capacityBytes(64 * 4096).lineBytes(4096).ways(4).policy(EvictionPolicy.FIFO), source))
        {
            final int[] asids = {0, 1, 32767, 32768, 65535};
            final long top = (1L << 48) - 8;
            for (final int asid : asids)
            {
                cache.putLong(asid, top, asid * 7L);
                cache.putLong(asid, 0, asid * 11L);
            }
            final long hitsBefore = cache.counters().hits();
            for (final int asid : asids)
            {
                assertEquals(asid * 7L, Held.getLong(cache, asid, top));
                assertEquals(asid * 11L, Held.getLong(cache, asid, 0));
            }
            assertEquals(hitsBefore + 2L * asids.length, cache.counters().hits());
            assertEquals(0, cache.counters().evictions());

            cache.invalidate(32768, 0, 1L << 48);
            assertFalse(cache.isCached(32768, top));
            assertFalse(cache.isCached(32768, 0));
            for (final int asid : new int[]{0, 1, 32767, 65535})
            {
                assertTrue(cache.isCached(asid, top));
                assertTrue(cache.isCached(asid, 0));
            }
            assertEquals(0, cache.flushAndDropAll(65535));
            assertFalse(cache.isCached(65535, top));
            assertTrue(cache.isCached(32767, top));
            assertEquals(32767 * 7L, Held.getLong(cache, 32767, top));
            assertThrows(IllegalArgumentException.class, () -> Held.getLong(cache, 65536, 0));
            assertThrows(IllegalArgumentException.class, () -> Held.getLong(cache, -1, 0));
            assertThrows(ExCacheFault.class, () -> Held.getLong(cache, 1, 1L << 48));
            // Addresses whose line number reaches the key's asid bits must fault, never alias another asid's line.
            assertThrows(ExCacheFault.class, () -> Held.getLong(cache, 0, 1L << 60));
            assertThrows(ExCacheFault.class, () -> Held.getLong(cache, 0, Long.MIN_VALUE));
            assertThrows(ExCacheFault.class, () -> Held.getInt(cache, 32767, (1L << 60) + (1L << 48)));
        }
    }
}
