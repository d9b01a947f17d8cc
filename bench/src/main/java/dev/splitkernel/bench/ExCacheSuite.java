package dev.splitkernel.bench;

import java.util.List;

/**
 * {@code scripts/bench excache}: the benchmarks in {@code dev.splitkernel.bench.excache}. Targets from the ExCache
 * issue: a random 8-byte hit at most 2x the plain off-heap load, a sequential 8-byte scan at most 1.2x, the
 * software overhead of a 4 KB miss at most 1 us; 0 B/op on hit and miss paths (check with {@code -prof gc}).
 */
final class ExCacheSuite implements Suite
{
    @Override
    public String name()
    {
        return "excache";
    }

    @Override
    public List<String> includes()
    {
        return List.of("dev\\.splitkernel\\.bench\\.excache\\..*");
    }

    @Override
    public List<Ratio> ratios()
    {
        return List.of(
            Ratio.atMost("random 8-byte load, hit / plain off-heap buffer",
                "ExCacheHitBenchmark.randomLoadCache", "ExCacheHitBenchmark.randomLoadPlain", 2.0),
            Ratio.atMost("sequential 8-byte scan, cursor / plain off-heap buffer",
                "ExCacheHitBenchmark.scanCursor", "ExCacheHitBenchmark.scanPlain", 1.2),
            Ratio.report("sequential 8-byte scan, getLong / plain off-heap buffer",
                "ExCacheHitBenchmark.scanThroughGetLong", "ExCacheHitBenchmark.scanPlain"),
            Ratio.report("random 8-byte load, hit / plain, 2 threads",
                "ExCacheHitBenchmark.randomLoadTwoThreadsCache", "ExCacheHitBenchmark.randomLoadTwoThreadsPlain"),
            Ratio.report("random 8-byte hit, 2 threads / 1 thread (time per load per thread)",
                "ExCacheHitBenchmark.randomLoadTwoThreadsCache", "ExCacheHitBenchmark.randomLoadCache"),
            Ratio.atMost("4 KB miss, clean victim, zero-latency source / 1 us",
                "ExCacheMissBenchmark.missCleanVictim", "ExCacheMissBenchmark.reference1us", 1.0));
    }

    @Override
    public List<String> quickParams()
    {
        return List.of("workingSetBytes=16777216", "missWorkingSetBytes=8388608");
    }
}
