package dev.splitkernel.workload;

import java.util.SplittableRandom;

/**
 * Uniform random access: {@code opsPerLine} operations per 4 KB of region, spread over the threads; each reads a
 * random word anywhere, and one in four also bumps a random word of the thread's own stripe (word index modulo
 * threads), so concurrent threads never race on one word. No locality: the hit ratio is about the cache's
 * share of the working set.
 */
public final class UniformRandom implements MemoryWorkload
{
    private final int opsPerLine;
    private final long seed;

    public UniformRandom(final int opsPerLine, final long seed)
    {
        if (opsPerLine < 1)
        {
            throw new IllegalArgumentException("opsPerLine must be >= 1: " + opsPerLine);
        }
        this.opsPerLine = opsPerLine;
        this.seed = seed;
    }

    @Override
    public String name()
    {
        return "random";
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
        final long stripeWords = words / threads;
        final long totalOps = Math.max(1, lengthBytes / 4096) * opsPerLine;
        final long ops = Words.first(totalOps, thread + 1, threads) - Words.first(totalOps, thread, threads);
        final SplittableRandom random = new SplittableRandom(seed * 31 + thread);
        long writes = 0;
        for (long op = 0; op < ops; op++)
        {
            final long i = random.nextLong(words);
            final long address = base + i * 8;
            Words.check(memory.getLong(address), i, address, "random");
            if ((op & 3) == 3 && stripeWords > 0)
            {
                final long j = random.nextLong(stripeWords) * threads + thread;
                final long target = base + j * 8;
                final long word = memory.getLong(target);
                Words.check(word, j, target, "random");
                memory.putLong(target, word + Words.VERSION_ONE);
                writes++;
            }
        }
        return writes;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long totalWrites)
    {
        VersionSum.verify(memory, base, lengthBytes / 8, totalWrites, "random");
    }
}
