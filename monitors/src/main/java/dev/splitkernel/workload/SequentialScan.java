package dev.splitkernel.workload;

/**
 * Sequential scan: each thread reads its share of the region front to back, {@code passes} times, and updates one
 * word in every {@link #WRITE_STRIDE_BYTES} (so one line in eight is dirtied per pass). Larger than the cache, a
 * scan misses on every line under FIFO: the worst case for a small ExCache, the best for prefetching.
 */
public final class SequentialScan implements MemoryWorkload
{
    public static final long WRITE_STRIDE_BYTES = 32 * 1024;
    private static final long WRITE_STRIDE_WORDS = WRITE_STRIDE_BYTES / 8;

    private final int passes;

    public SequentialScan(final int passes)
    {
        if (passes < 1)
        {
            throw new IllegalArgumentException("passes must be >= 1: " + passes);
        }
        this.passes = passes;
    }

    @Override
    public String name()
    {
        return "seq";
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        return workingSetBytes & ~7L;
    }

    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        Words.fillWithIndexes(memory, base, lengthBytes, thread, threads);
    }

    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long words = lengthBytes / 8;
        final long start = Words.first(words, thread, threads);
        final long end = Words.first(words, thread + 1, threads);
        long writes = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            for (long i = start; i < end; i++)
            {
                final long address = base + i * 8;
                final long word = memory.getLong(address);
                Words.check(word, i, address, "seq");
                if (i % WRITE_STRIDE_WORDS == 0)
                {
                    memory.putLong(address, word + Words.VERSION_ONE);
                    writes++;
                }
            }
        }
        return writes;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long totalWrites)
    {
        final long words = lengthBytes / 8;
        final long stridedWords = (words + WRITE_STRIDE_WORDS - 1) / WRITE_STRIDE_WORDS;
        final long writesPerRun = stridedWords * passes;
        if (totalWrites <= 0 || totalWrites % writesPerRun != 0)
        {
            throw new VerificationException("seq: threads reported " + totalWrites + " writes, expected a multiple of "
                + writesPerRun + " (one run: " + passes + " passes, one write per " + WRITE_STRIDE_BYTES + " bytes)");
        }
        VersionSum.verify(memory, base, words, totalWrites, "seq");
    }
}
