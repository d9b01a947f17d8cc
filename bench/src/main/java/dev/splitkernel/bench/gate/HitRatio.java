package dev.splitkernel.bench.gate;

import dev.splitkernel.bench.excache.InMemoryLineSource;
import dev.splitkernel.excache.EvictionPolicy;
import dev.splitkernel.excache.ExCache;
import dev.splitkernel.excache.ExCacheContext;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * The ExCache hit path against a plain off-heap load, timed side by side: rounds of random 8-byte loads over the
 * same working set, one block through the cache and one from a plain buffer, in alternating order; the metric is the
 * median over the rounds of (time per hit) / (time per plain load). The whole working set is cached, so every access
 * hits (as in ExCacheHitBenchmark, which JMH runs at full length).
 */
final class HitRatio
{
    private static final int ASID = 1;
    private static final int BATCH = 1024;

    private final int workingSetBytes;
    private final int rounds;
    private final int batchesPerBlock;
    private long random = 0x9E3779B97F4A7C15L;
    /** The loads' sum, kept so that the JIT cannot drop them. */
    volatile long consumed;

    HitRatio(final int workingSetBytes, final int rounds, final int batchesPerBlock)
    {
        this.workingSetBytes = workingSetBytes;
        this.rounds = rounds;
        this.batchesPerBlock = batchesPerBlock;
    }

    Measured measure()
    {
        final int lineBytes = 4096;
        try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(workingSetBytes).lineBytes(lineBytes)
            .ways(64).policy(EvictionPolicy.FIFO), new InMemoryLineSource(lineBytes, lineBytes, Long.MAX_VALUE)))
        {
            final UnsafeBuffer plain = new UnsafeBuffer(BufferUtil.allocateDirectAligned(workingSetBytes, 4096));
            for (long vaddr = 0; vaddr < workingSetBytes; vaddr += Long.BYTES)
            {
                cache.putLong(ASID, vaddr, vaddr);
                plain.putLong((int)vaddr, vaddr);
            }
            if (cache.counters().evictions() != 0)
            {
                throw new IllegalStateException("hit ratio: the working set does not fit: " + cache.counters());
            }
            final long mask = (workingSetBytes - 1) & ~7L;
            long sink = 0;
            // Warm-up: both loops compiled before anything counts.
            for (int i = 0; i < 5_000; i++)
            {
                sink += plainBatch(plain, mask) + cacheBatch(cache, mask);
            }
            final double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                final long plainNs;
                final long cacheNs;
                if ((r & 1) == 0)
                {
                    final long t0 = System.nanoTime();
                    sink += plainBlock(plain, mask);
                    final long t1 = System.nanoTime();
                    sink += cacheBlock(cache, mask);
                    cacheNs = System.nanoTime() - t1;
                    plainNs = t1 - t0;
                }
                else
                {
                    final long t0 = System.nanoTime();
                    sink += cacheBlock(cache, mask);
                    final long t1 = System.nanoTime();
                    sink += plainBlock(plain, mask);
                    plainNs = System.nanoTime() - t1;
                    cacheNs = t1 - t0;
                }
                ratios[r] = (double)cacheNs / plainNs;
            }
            consumed = sink;
            Arrays.sort(ratios);
            return new Measured("excache.hitOverPlainLoad", MetricKind.CPU_RATIO, ratios[rounds / 2], "x plain");
        }
    }

    private long plainBlock(final UnsafeBuffer plain, final long mask)
    {
        long sum = 0;
        for (int i = 0; i < batchesPerBlock; i++)
        {
            sum += plainBatch(plain, mask);
        }
        return sum;
    }

    private long cacheBlock(final ExCache cache, final long mask)
    {
        long sum = 0;
        for (int i = 0; i < batchesPerBlock; i++)
        {
            sum += cacheBatch(cache, mask);
        }
        return sum;
    }

    private long plainBatch(final UnsafeBuffer plain, final long mask)
    {
        long x = random;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sum += plain.getLong((int)(x & mask));
        }
        random = x;
        return sum;
    }

    private long cacheBatch(final ExCache cache, final long mask)
    {
        long x = random;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sum += cache.getLong(ASID, x & mask);
        }
        random = x;
        return sum;
    }
}
