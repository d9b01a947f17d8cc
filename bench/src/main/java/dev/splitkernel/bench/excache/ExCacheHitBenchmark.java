package dev.splitkernel.bench.excache;

import dev.splitkernel.excache.ExCache;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.excache.ExCacheCursor;
import dev.splitkernel.excache.ExCacheHits;
import dev.splitkernel.excache.EvictionPolicy;
import dev.splitkernel.monitor.status.MonitorStatus;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * ExCache hits against the same loads from a plain off-heap buffer (an Agrona {@link UnsafeBuffer} with its bounds
 * checks on). The whole working set is cached (LegoOS's default: 256 MB, 64-way, 4 KB lines), so every access hits.
 * Each invocation does {@link #BATCH} loads; scores are per load.
 * <p>
 * Three forks: where the 256 MB of lines and the 1 MB of slot metadata land moves a random hit by up to 1.7x from
 * one allocation to the next on a shared VM (measured here: 40 to 69 ns for the same code), more than the
 * iterations of one fork differ, so the score averages over three allocations. (A new allocation every iteration
 * was tried: the JIT then recompiled the scan loops mid-run, into code twice as slow.)
 * <p>
 * The names put the two sides of each ratio next to each other in JMH's order (it runs benchmarks by name), so
 * they are measured minutes apart, not a whole suite apart: on a shared host the memory bandwidth and latency
 * drift over minutes.
 * <p>
 * {@code observe}: true, the cache counts into a monitor's status file (mapped) and a thread publishes it every
 * interval (hits summed from the threads' {@link ExCacheHits}, as a monitor does); false, its counters are private
 * and nothing publishes. The hit path touches neither (each hit goes to the thread's own {@link ExCacheHits}), so the
 * two differ only by a publisher thread waking every 250 ms; what
 * counting a hit costs shows with {@code -Dsplitkernel.stat.count=false} as well (nothing counted), which
 * {@code observe-cost} sets on its off side. Do not compare them with {@code -p observe=true,false} in one run: JMH
 * runs every fork of one value before the other, minutes apart, and this DRAM-bound random walk over 256 MB drifts
 * by tens of percent over minutes on a shared host (observe=false once came out 50% slower than true).
 * {@code scripts/bench observe-cost} alternates them, each in its own JVM, and takes the ratio per round.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(3)
@State(Scope.Benchmark)
public class ExCacheHitBenchmark
{
    static final int BATCH = 1024;
    private static final int ASID = 1;

    @Param("268435456")
    int workingSetBytes;

    @Param({"FIFO"})
    EvictionPolicy policy;

    @Param({"true"})
    boolean observe;

    MonitorStatus status;
    Thread publisher;

    ExCache cache;
    UnsafeBuffer plain;
    long addressMask;

    @Setup(Level.Trial)
    public void setUp()
    {
        final int lineBytes = 4096;
        final ExCacheContext ctx = new ExCacheContext().capacityBytes(workingSetBytes).lineBytes(lineBytes).ways(64)
            .policy(policy);
        if (observe)
        {
            status = MonitorStatus.open("bench-excache-hit", MonitorStatus.defaultDirectory(), true,
                MonitorStatus.INTERVAL_DEFAULT_MS);
            ctx.countersManager(status.countersManager());
        }
        cache = new ExCache(ctx, new InMemoryLineSource(lineBytes, lineBytes, Long.MAX_VALUE));
        if (observe)
        {
            final ExCache observed = cache;
            status.gauge("excache: hits", ExCache.COUNTERS_TYPE_ID, () -> observed.counters().hits());
            publisher = new Thread(() ->
            {
                while (!Thread.currentThread().isInterrupted())
                {
                    status.publish();
                    LockSupport.parkNanos(status.intervalMs() * 1_000_000L);
                }
            }, "status-publisher");
            publisher.setDaemon(true);
            publisher.start();
        }
        plain = new UnsafeBuffer(BufferUtil.allocateDirectAligned(workingSetBytes, 4096));
        for (long vaddr = 0; vaddr < workingSetBytes; vaddr += Long.BYTES)
        {
            cache.putLong(ASID, vaddr, vaddr);
            plain.putLong((int)vaddr, vaddr);
        }
        addressMask = (workingSetBytes - 1) & ~7L;
        if (cache.counters().evictions() != 0)
        {
            throw new IllegalStateException("working set does not fit: " + cache.counters());
        }
    }

    /** Set up outside JMH (the regression gate, HitRatio): FIFO, the whole working set cached, as for a trial. */
    public static ExCacheHitBenchmark standalone(final int workingSetBytes)
    {
        final ExCacheHitBenchmark benchmark = new ExCacheHitBenchmark();
        benchmark.workingSetBytes = workingSetBytes;
        benchmark.policy = EvictionPolicy.FIFO;
        benchmark.setUp();
        return benchmark;
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        if (publisher != null)
        {
            publisher.interrupt();
            try
            {
                publisher.join();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            status.close();
        }
        cache.close();
    }

    /** Per-thread position: a xorshift state for random loads, an offset for scans, a cursor. */
    @State(Scope.Thread)
    public static class ThreadState
    {
        long random = 0x9E3779B97F4A7C15L;
        long position;
        ExCacheCursor cursor;
        ExCacheHits hits;

        @Setup(Level.Trial)
        public void setUp(final ExCacheHitBenchmark benchmark)
        {
            random ^= Thread.currentThread().getId() * 0xBF58476D1CE4E5B9L;
            cursor = benchmark.cache.cursor(ASID);
            hits = benchmark.cache.newHits();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            hits.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long randomLoadPlain(final ThreadState state)
    {
        final UnsafeBuffer plain = this.plain;
        final long mask = addressMask;
        long x = state.random;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sum += plain.getLong((int)(x & mask));
        }
        state.random = x;
        return sum;
    }

    /** Each hit counted in the thread's own {@link ExCacheHits}, as every load through the cache is. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long randomLoadCache(final ThreadState state)
    {
        final ExCache cache = this.cache;
        final ExCacheHits hits = state.hits;
        final long mask = addressMask;
        long x = state.random;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sum += cache.getLong(hits, ASID, x & mask);
        }
        state.random = x;
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Threads(2)
    public long randomLoadTwoThreadsPlain(final ThreadState state)
    {
        return randomLoadPlain(state);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Threads(2)
    public long randomLoadTwoThreadsCache(final ThreadState state)
    {
        return randomLoadCache(state);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long scanPlain(final ThreadState state)
    {
        final UnsafeBuffer plain = this.plain;
        final long mask = addressMask;
        long position = state.position;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            sum += plain.getLong((int)position);
            position = (position + Long.BYTES) & mask;
        }
        state.position = position;
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long scanThroughGetLong(final ThreadState state)
    {
        final ExCache cache = this.cache;
        final ExCacheHits hits = state.hits;
        final long mask = addressMask;
        long position = state.position;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            sum += cache.getLong(hits, ASID, position);
            position = (position + Long.BYTES) & mask;
        }
        state.position = position;
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long scanCursor(final ThreadState state)
    {
        final ExCacheCursor cursor = state.cursor;
        final long mask = addressMask;
        long position = state.position;
        long sum = 0;
        for (int i = 0; i < BATCH; i++)
        {
            sum += cursor.getLong(position);
            position = (position + Long.BYTES) & mask;
        }
        state.position = position;
        return sum;
    }
}
