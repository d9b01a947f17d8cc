package dev.splitkernel.bench.gate;

import dev.splitkernel.bench.excache.ExCacheHitBenchmark;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The ExCache hit path against a plain off-heap load, timed side by side with the loops of
 * {@link ExCacheHitBenchmark} (which JMH runs at full length): rounds of random 8-byte loads over the same working
 * set, one block through the cache and one from a plain buffer, in alternating order; the metric is the median over
 * the rounds of (time per hit) / (time per plain load). The whole working set is cached, so every access hits.
 * <p>
 * Times are the thread's CPU time, not the wall clock: on a shared 2-core machine a block that loses its core for a
 * time slice would otherwise count the other jobs' time (measured: wall-clock medians of 0.9 to 4.6 for the same
 * code at load 21). Other jobs still share the memory caches and bandwidth, which the tolerance must absorb.
 */
final class HitRatio
{
    private final int workingSetBytes;
    private final int rounds;
    private final int batchesPerBlock;
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
        final ExCacheHitBenchmark benchmark = ExCacheHitBenchmark.standalone(workingSetBytes);
        try
        {
            final ExCacheHitBenchmark.ThreadState state = new ExCacheHitBenchmark.ThreadState();
            state.setUp(benchmark);
            long sink = 0;
            // Warm-up: both loops compiled before anything counts.
            for (int i = 0; i < 5_000; i++)
            {
                sink += benchmark.randomLoadPlain(state) + benchmark.randomLoadCache(state);
            }
            final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            final double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                final boolean plainFirst = (r & 1) == 0;
                final long t0 = threads.getCurrentThreadCpuTime();
                sink += block(benchmark, state, plainFirst);
                final long t1 = threads.getCurrentThreadCpuTime();
                sink += block(benchmark, state, !plainFirst);
                final long t2 = threads.getCurrentThreadCpuTime();
                final long plainNs = plainFirst ? t1 - t0 : t2 - t1;
                final long cacheNs = plainFirst ? t2 - t1 : t1 - t0;
                ratios[r] = (double)cacheNs / plainNs;
            }
            consumed = sink;
            Arrays.sort(ratios);
            return new Measured("excache.hitOverPlainLoad", MetricKind.CPU_RATIO, ratios[rounds / 2], "x plain");
        }
        finally
        {
            benchmark.tearDown();
        }
    }

    private long block(final ExCacheHitBenchmark benchmark, final ExCacheHitBenchmark.ThreadState state,
        final boolean plain)
    {
        long sum = 0;
        for (int i = 0; i < batchesPerBlock; i++)
        {
            sum += plain ? benchmark.randomLoadPlain(state) : benchmark.randomLoadCache(state);
        }
        return sum;
    }
}
