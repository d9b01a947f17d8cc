package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property test: random sequences of loads, stores, bulk copies, flushes and invalidations against a reference
 * model (a plain map of lines) behind the same line source, at several geometries and both policies.
 */
class ExCacheModelTest
{
    private static final int OPERATIONS = 30_000;
    private static final int ASIDS = 2;

    static List<Arguments> geometries()
    {
        final List<Arguments> args = new ArrayList<>();
        for (final EvictionPolicy policy : EvictionPolicy.values())
        {
            //                 capacity   line  ways  piggyback victimLines
            args.add(Arguments.of(16 << 10, 64, 4, false, 0, policy));
            args.add(Arguments.of(64 << 10, 256, 8, true, 0, policy));
            args.add(Arguments.of(32 << 10, 4096, 2, false, 4, policy));
            args.add(Arguments.of(8 << 10, 4096, 2, true, 0, policy));
            args.add(Arguments.of(128 << 10, 512, 256, true, 3, policy));
            args.add(Arguments.of(4 << 10, 64, 1, false, 0, policy));
        }
        return args;
    }

    @ParameterizedTest(name = "capacity={0} line={1} ways={2} piggyback={3} victims={4} {5}")
    @MethodSource("geometries")
    void shouldMatchReferenceModel(
        final int capacity,
        final int lineBytes,
        final int ways,
        final boolean piggyback,
        final int victimLines,
        final EvictionPolicy policy)
    {
        final long seed = Long.getLong("excache.seed", System.nanoTime());
        try
        {
            run(seed, capacity, lineBytes, ways, piggyback, victimLines, policy);
        }
        catch (final AssertionError | RuntimeException ex)
        {
            throw new AssertionError("failed with seed " + seed + " (rerun with -Dexcache.seed=" + seed + "): " + ex,
                ex);
        }
    }

    private static void run(
        final long seed,
        final int capacity,
        final int lineBytes,
        final int ways,
        final boolean piggyback,
        final int victimLines,
        final EvictionPolicy policy)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final TestLineSource source = new TestLineSource(lineBytes);
        final int cacheLines = capacity / lineBytes;
        final long lines = Math.max(8, cacheLines * 3L);
        source.readOnlyFromLine = lines / 2;
        source.pLocalFromLine = lines / 2 + lines / 8;
        source.unmappedFromLine = lines - 2;
        final Model model = new Model(source, lineBytes);
        final long span = lines * lineBytes;

        try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(capacity).lineBytes(lineBytes).ways(ways)
            .piggyback(piggyback).victimCacheLines(victimLines).policy(policy), source))
        {
            final ExCacheCursor[] cursors = {cache.cursor(0), cache.cursor(1)};
            for (int op = 0; op < OPERATIONS; op++)
            {
                final int asid = random.nextInt(ASIDS);
                final int width = 1 << random.nextInt(4);
                final long vaddr = random.nextLong(span - 8);
                final int kind = random.nextInt(100);
                final String what = "op " + op + " asid=" + asid + " vaddr=0x" + Long.toHexString(vaddr) + " width=" +
                    width + " kind=" + kind;
                if (kind < 40)
                {
                    final long expected = model.faultsOnLoad(asid, vaddr, width) ? Long.MIN_VALUE :
                        model.load(asid, vaddr, width);
                    try
                    {
                        final long actual = kind < 30 ? load(cache, asid, vaddr, width) :
                            loadCursor(cursors[asid], vaddr, width);
                        assertEquals(expected, actual, what);
                    }
                    catch (final ExCacheFault fault)
                    {
                        checkFault(fault, expected == Long.MIN_VALUE, asid, false, what);
                    }
                }
                else if (kind < 75)
                {
                    final long bits = random.nextLong();
                    final boolean expectFault = model.faultsOnStore(asid, vaddr, width);
                    try
                    {
                        store(cache, asid, vaddr, width, bits, random.nextBoolean());
                        if (expectFault)
                        {
                            fail("expected a fault: " + what);
                        }
                        model.store(asid, vaddr, width, bits);
                    }
                    catch (final ExCacheFault fault)
                    {
                        checkFault(fault, expectFault, asid, true, what);
                        model.storePartially(asid, vaddr, width, bits);
                    }
                }
                else if (kind < 85)
                {
                    final int length = random.nextInt(3 * lineBytes + 1);
                    final long start = random.nextLong(span - length);
                    final boolean write = random.nextBoolean();
                    bulk(cache, model, random, asid, start, length, write, what);
                }
                else if (kind < 92)
                {
                    final long start = random.nextLong(span);
                    final long length = random.nextLong(4L * lineBytes);
                    final int status = cache.flush(asid, start, length);
                    assertEquals(0, status, what);
                    model.checkBacked(asid, start, length, what);
                }
                else if (kind < 98)
                {
                    final long start = random.nextLong(span);
                    final long length = random.nextLong(4L * lineBytes);
                    cache.invalidate(asid, start, length);
                    model.invalidate(asid, start, length);
                }
                else if (kind == 98)
                {
                    assertEquals(0, cache.flushAndDropAll(asid), what);
                    model.checkBacked(asid, 0, span, what);
                    model.invalidate(asid, 0, span);
                }
                else
                {
                    assertEquals(0, cache.flush(asid, 0, span), what);
                    model.checkBacked(asid, 0, span, what);
                }
            }
            for (int asid = 0; asid < ASIDS; asid++)
            {
                assertEquals(0, cache.flushAndDropAll(asid));
                model.checkBacked(asid, 0, span, "final flush");
            }
            final ExCacheCounters counters = cache.counters();
            if (counters.hits() == 0 || counters.misses() == 0 || counters.evictions() == 0)
            {
                fail("the run should hit, miss and evict: " + counters);
            }
            if (piggyback && source.piggybacks == 0 && victimLines == 0)
            {
                fail("piggyback on but never used: " + counters);
            }
            assertEquals(source.piggybacks, counters.piggybackedWriteBacks());
            assertEquals(source.writeBacks, counters.dirtyWriteBacks());
            assertEquals(source.zeroFills, counters.pLocalFills());
        }
    }

    private static void checkFault(
        final ExCacheFault fault, final boolean expected, final int asid, final boolean write, final String what)
    {
        if (!expected)
        {
            throw new AssertionError("unexpected fault: " + what, fault);
        }
        assertEquals(asid, fault.asid(), what);
        assertEquals(write, fault.isWrite(), what);
        if (fault.status() != TestLineSource.EFAULT && fault.status() != ExCacheFault.PROTECTION)
        {
            fail("unexpected status " + fault.status() + ": " + what);
        }
    }

    private static void bulk(
        final ExCache cache,
        final Model model,
        final SplittableRandom random,
        final int asid,
        final long start,
        final int length,
        final boolean write,
        final String what)
    {
        final byte[] bytes = new byte[length];
        final boolean offHeap = random.nextBoolean();
        final UnsafeBuffer buffer = offHeap ? new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(length + 3)) :
            new UnsafeBuffer(new byte[length + 3]);
        if (write)
        {
            random.nextBytes(bytes);
            buffer.putBytes(3, bytes);
            final boolean expectFault = model.faultsOnStore(asid, start, length);
            try
            {
                if (random.nextBoolean())
                {
                    cache.putBytes(asid, start, buffer, 3, length);
                }
                else
                {
                    cache.putBytes(asid, start, bytes, 0, length);
                }
                if (expectFault)
                {
                    fail("expected a fault: bulk " + what);
                }
                for (int i = 0; i < length; i++)
                {
                    model.store(asid, start + i, 1, bytes[i]);
                }
            }
            catch (final ExCacheFault fault)
            {
                checkFault(fault, expectFault, asid, true, "bulk " + what);
                // Lines before the faulting one were written; the model replays up to the first bad line.
                for (int i = 0; i < length; i++)
                {
                    if (model.faultsOnStore(asid, start + i, 1))
                    {
                        break;
                    }
                    model.store(asid, start + i, 1, bytes[i]);
                }
            }
        }
        else
        {
            final boolean expectFault = model.faultsOnLoad(asid, start, length);
            try
            {
                final byte[] actual = new byte[length];
                if (random.nextBoolean())
                {
                    cache.getBytes(asid, start, buffer, 3, length);
                    buffer.getBytes(3, actual);
                }
                else
                {
                    cache.getBytes(asid, start, actual, 0, length);
                }
                if (expectFault)
                {
                    fail("expected a fault: bulk " + what);
                }
                for (int i = 0; i < length; i++)
                {
                    bytes[i] = (byte)model.load(asid, start + i, 1);
                }
                assertArrayEquals(bytes, actual, "bulk " + what);
            }
            catch (final ExCacheFault fault)
            {
                checkFault(fault, expectFault, asid, false, "bulk " + what);
            }
        }
    }

    static long load(final ExCache cache, final int asid, final long vaddr, final int width)
    {
        switch (width)
        {
            case 1:
                return Held.getByte(cache, asid, vaddr);
            case 2:
                return Held.getShort(cache, asid, vaddr);
            case 4:
                return Held.getInt(cache, asid, vaddr);
            default:
                return (vaddr & 1) == 0 ? Held.getLong(cache, asid, vaddr) :
                    Double.doubleToRawLongBits(Held.getDouble(cache, asid, vaddr));
        }
    }

    static long loadCursor(final ExCacheCursor cursor, final long vaddr, final int width)
    {
        switch (width)
        {
            case 1:
                return cursor.getByte(vaddr);
            case 2:
                return (short)((cursor.getByte(vaddr) & 0xFF) | (cursor.getByte(vaddr + 1) << 8));
            case 4:
                return cursor.getInt(vaddr);
            default:
                return cursor.getLong(vaddr);
        }
    }

    static void store(
        final ExCache cache, final int asid, final long vaddr, final int width, final long bits, final boolean typed)
    {
        switch (width)
        {
            case 1:
                cache.putByte(asid, vaddr, (byte)bits);
                break;
            case 2:
                cache.putShort(asid, vaddr, (short)bits);
                break;
            case 4:
                if (typed)
                {
                    cache.putFloat(asid, vaddr, Float.intBitsToFloat((int)bits));
                }
                else
                {
                    cache.putInt(asid, vaddr, (int)bits);
                }
                break;
            default:
                if (typed)
                {
                    cache.putDouble(asid, vaddr, Double.longBitsToDouble(bits));
                }
                else
                {
                    cache.putLong(asid, vaddr, bits);
                }
                break;
        }
    }

    /** The reference: the bytes each line should hold, initialised from the line source at first touch. */
    static final class Model
    {
        private final TestLineSource source;
        private final int lineBytes;
        private final Map<Long, byte[]> lines = new HashMap<>();

        Model(final TestLineSource source, final int lineBytes)
        {
            this.source = source;
            this.lineBytes = lineBytes;
        }

        private byte[] line(final int asid, final long line)
        {
            return lines.computeIfAbsent(TestLineSource.id(asid, line), id -> source.current(asid, line));
        }

        boolean faultsOnLoad(final int asid, final long vaddr, final int length)
        {
            return length > 0 && (vaddr + length - 1) / lineBytes >= source.unmappedFromLine;
        }

        boolean faultsOnStore(final int asid, final long vaddr, final int length)
        {
            for (long line = vaddr / lineBytes; length > 0 && line <= (vaddr + length - 1) / lineBytes; line++)
            {
                if (line >= source.unmappedFromLine || (source.prot(line) & LineSource.PROT_WRITE) == 0)
                {
                    return true;
                }
            }
            return false;
        }

        long load(final int asid, final long vaddr, final int width)
        {
            long bits = 0;
            for (int i = 0; i < width; i++)
            {
                final long a = vaddr + i;
                bits |= (line(asid, a / lineBytes)[(int)(a % lineBytes)] & 0xFFL) << (8 * i);
            }
            return bits << (64 - 8 * width) >> (64 - 8 * width);
        }

        void store(final int asid, final long vaddr, final int width, final long bits)
        {
            for (int i = 0; i < width; i++)
            {
                final long a = vaddr + i;
                line(asid, a / lineBytes)[(int)(a % lineBytes)] = (byte)(bits >>> (8 * i));
            }
        }

        /** A store that faults: a value within one line changes nothing; a split one lands byte by byte. */
        void storePartially(final int asid, final long vaddr, final int width, final long bits)
        {
            if (vaddr / lineBytes == (vaddr + width - 1) / lineBytes)
            {
                return;
            }
            for (int i = 0; i < width; i++)
            {
                if (faultsOnStore(asid, vaddr + i, 1))
                {
                    return;
                }
                store(asid, vaddr + i, 1, bits >>> (8 * i));
            }
        }

        void invalidate(final int asid, final long vaddr, final long length)
        {
            if (length == 0)
            {
                return;
            }
            for (long line = vaddr / lineBytes; line <= (vaddr + length - 1) / lineBytes; line++)
            {
                lines.remove(TestLineSource.id(asid, line));
            }
        }

        void checkBacked(final int asid, final long vaddr, final long length, final String what)
        {
            if (length == 0)
            {
                return;
            }
            for (long line = vaddr / lineBytes; line <= (vaddr + length - 1) / lineBytes; line++)
            {
                final byte[] expected = lines.get(TestLineSource.id(asid, line));
                if (expected != null)
                {
                    assertArrayEquals(expected, source.current(asid, line), "backing of line " + line + " after " +
                        what);
                }
            }
        }
    }
}
