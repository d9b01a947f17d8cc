package dev.splitkernel.workload;

/**
 * The self-checking word every built-in workload stores.
 * <pre>
 *   63                    40 39                               0
 *  +------------------------+----------------------------------+
 *  |        version         |   index (word or key number)     |
 *  +------------------------+----------------------------------+
 * </pre>
 */
public final class Words
{
    public static final int INDEX_BITS = 40;
    public static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    public static final long VERSION_ONE = 1L << INDEX_BITS;

    private Words()
    {
    }

    public static long value(final long index, final long version)
    {
        return (version << INDEX_BITS) | index;
    }

    public static long index(final long word)
    {
        return word & INDEX_MASK;
    }

    public static long version(final long word)
    {
        return word >>> INDEX_BITS;
    }

    /** A fixed payload word for a key: a finaliser of SplitMix64, so neighbouring keys differ in every bit. */
    public static long payload(final long key, final int slotWord)
    {
        long z = key * 0x9E3779B97F4A7C15L + slotWord * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static void check(final long word, final long expectedIndex, final long address, final String workload)
    {
        if ((word & INDEX_MASK) != expectedIndex)
        {
            throw new VerificationException(workload + ": word at 0x" + Long.toHexString(address) + " holds index "
                + index(word) + " (version " + version(word) + "), expected index " + expectedIndex);
        }
    }

    static long first(final long count, final int thread, final int threads)
    {
        return count * thread / threads;
    }

    /** Writes word i = index i, version 0, over this thread's share of the region (seq and random populate so). */
    static void fillWithIndexes(
        final WordMemory memory, final long base, final long lengthBytes, final int thread, final int threads)
    {
        final long words = lengthBytes / 8;
        final long end = first(words, thread + 1, threads);
        for (long i = first(words, thread, threads); i < end; i++)
        {
            memory.putLong(base + i * 8, i);
        }
    }
}
