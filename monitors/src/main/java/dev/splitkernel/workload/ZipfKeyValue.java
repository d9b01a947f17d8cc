package dev.splitkernel.workload;

import java.util.SplittableRandom;

/**
 * A Zipf-skewed key-value store: fixed 256-byte slots (an 8-byte header and a 248-byte value), one per key, placed by a bijective scramble of the key so
 * that popular keys are spread over the pages as a hash table spreads them. {@code opsPerLine} operations per
 * 4 KB of region; {@code putPercent} of them are puts. Keys are drawn with Zipf skew {@code theta} (YCSB's 0.99
 * by default); a put goes to the nearest key of the thread's own stripe, so threads never race on a slot.
 * <pre>
 *   slot (256 bytes):
 *  +--------------------------------+--------------+--------------+-----+---------------+
 *  | version:24 | key:40            | value word 1 | value word 2 | ... | value word 31 |
 *  +--------------------------------+--------------+--------------+-----+---------------+
 * </pre>
 * A get reads and checks the key and the whole value (a fixed function of the key, as a GET copies its value out);
 * a put bumps the version and rewrites the value.
 */
public final class ZipfKeyValue implements MemoryWorkload
{
    public static final int SLOT_BYTES = 256;
    private static final int SLOT_WORDS = SLOT_BYTES / 8;
    public static final double DEFAULT_THETA = 0.99;

    private final int opsPerLine;
    private final int putPercent;
    private final double theta;
    private final long seed;
    private volatile ZipfGenerator zipf;

    public ZipfKeyValue(final int opsPerLine, final int putPercent, final double theta, final long seed)
    {
        if (opsPerLine < 1)
        {
            throw new IllegalArgumentException("opsPerLine must be >= 1: " + opsPerLine);
        }
        if (putPercent < 0 || putPercent > 100)
        {
            throw new IllegalArgumentException("putPercent must be in [0, 100]: " + putPercent);
        }
        this.opsPerLine = opsPerLine;
        this.putPercent = putPercent;
        this.theta = theta;
        this.seed = seed;
    }

    @Override
    public String name()
    {
        return "kv";
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        return workingSetBytes / SLOT_BYTES * SLOT_BYTES;
    }

    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long keys = lengthBytes / SLOT_BYTES;
        final long end = Words.first(keys, thread + 1, threads);
        for (long key = Words.first(keys, thread, threads); key < end; key++)
        {
            final long slot = base + scramble(key, keys) * SLOT_BYTES;
            memory.putLong(slot, Words.value(key, 0));
            writeValue(memory, slot, key);
        }
    }

    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long keys = lengthBytes / SLOT_BYTES;
        final ZipfGenerator zipf = generator(keys);
        final long totalOps = Math.max(1, lengthBytes / 4096) * opsPerLine;
        final long ops = Words.first(totalOps, thread + 1, threads) - Words.first(totalOps, thread, threads);
        final SplittableRandom random = new SplittableRandom(seed * 31 + thread);
        long writes = 0;
        for (long op = 0; op < ops; op++)
        {
            final long key = zipf.next(random);
            final boolean put = random.nextInt(100) < putPercent;
            if (put)
            {
                final long own = key - key % threads + thread;
                if (own < keys)
                {
                    final long slot = base + scramble(own, keys) * SLOT_BYTES;
                    final long word = memory.getLong(slot);
                    Words.check(word, own, slot, "kv");
                    memory.putLong(slot, word + Words.VERSION_ONE);
                    writeValue(memory, slot, own);
                    writes++;
                    continue;
                }
            }
            get(memory, base + scramble(key, keys) * SLOT_BYTES, key);
        }
        return writes;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long totalWrites)
    {
        final long keys = lengthBytes / SLOT_BYTES;
        long versions = 0;
        for (long key = 0; key < keys; key++)
        {
            versions += Words.version(get(memory, base + scramble(key, keys) * SLOT_BYTES, key));
        }
        if (versions != totalWrites)
        {
            throw new VerificationException("kv: versions in memory add up to " + versions + " but " + totalWrites
                + " puts were made (a put or a write-back was lost)");
        }
    }

    private static long get(final WordMemory memory, final long slot, final long key)
    {
        final long word = memory.getLong(slot);
        Words.check(word, key, slot, "kv");
        for (int i = 1; i < SLOT_WORDS; i++)
        {
            final long payload = memory.getLong(slot + 8L * i);
            if (payload != Words.payload(key, i))
            {
                throw new VerificationException("kv: key " + key + " value word " + i + " at 0x"
                    + Long.toHexString(slot + 8L * i) + " is 0x" + Long.toHexString(payload));
            }
        }
        return word;
    }

    private static void writeValue(final WordMemory memory, final long slot, final long key)
    {
        for (int i = 1; i < SLOT_WORDS; i++)
        {
            memory.putLong(slot + 8L * i, Words.payload(key, i));
        }
    }

    private ZipfGenerator generator(final long keys)
    {
        ZipfGenerator z = zipf;
        if (z == null || z.items() != keys)
        {
            synchronized (this)
            {
                z = zipf;
                if (z == null || z.items() != keys)
                {
                    z = new ZipfGenerator(keys, theta);
                    zipf = z;
                }
            }
        }
        return z;
    }

    /**
     * A bijection of [0, n): an invertible mix on the enclosing power of two, walked until it lands inside
     * (fewer than two steps on average).
     */
    static long scramble(final long key, final long n)
    {
        final int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(n - 1));
        final long mask = bits == 64 ? -1L : (1L << bits) - 1;
        final int shift = bits / 2;
        long x = key;
        do
        {
            x = (x * 0x9E3779B97F4A7C15L) & mask;
            x ^= x >>> shift;
            x = (x * 0xC2B2AE3D27D4EB4FL) & mask;
        }
        while (x >= n);
        return x;
    }
}
