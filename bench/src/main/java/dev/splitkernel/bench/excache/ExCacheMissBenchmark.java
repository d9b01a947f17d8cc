package dev.splitkernel.bench.excache;

import dev.splitkernel.excache.ExCache;
import dev.splitkernel.excache.ExCacheHits;
import dev.splitkernel.excache.ExCacheContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The software cost of a 4 KB miss: a zero-latency in-memory line source (a fetch is a 4 KB copy) and a clean victim
 * (loads only), in a 1 MB 64-way cache cycling through a 64 MB working set, so every load misses and evicts.
 * {@link #reference1us} busy-waits one microsecond: the ratio of the two checks the 1 us target in one run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ExCacheMissBenchmark
{
    private static final int ASID = 1;
    private static final int LINE_BYTES = 4096;

    @Param("67108864")
    int missWorkingSetBytes;

    ExCache cache;
    /** The benchmark thread's hit count (the loads here all miss; every load holds one). */
    ExCacheHits hits;
    long vaddr;
    long mask;

    @Setup(Level.Trial)
    public void setUp()
    {
        cache = new ExCache(new ExCacheContext().capacityBytes(1 << 20).lineBytes(LINE_BYTES).ways(64),
            new InMemoryLineSource(missWorkingSetBytes, LINE_BYTES, 0));
        mask = missWorkingSetBytes - 1;
        hits = cache.newHits();
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        if (cache.counters().dirtyWriteBacks() != 0 || cache.counters().hits() != 0)
        {
            throw new IllegalStateException("expected misses with clean victims only: " + cache.counters());
        }
        cache.close();
    }

    @Benchmark
    public long missCleanVictim()
    {
        final long address = vaddr;
        vaddr = (address + LINE_BYTES) & mask;
        return cache.getLong(hits, ASID, address + 64);
    }

    @Benchmark
    public long reference1us()
    {
        final long deadline = System.nanoTime() + 1000;
        long spins = 0;
        while (System.nanoTime() - deadline < 0)
        {
            spins++;
        }
        return spins;
    }
}
