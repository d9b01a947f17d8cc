package dev.splitkernel.bench.workload;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.workload.LocalMemory;
import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.WordMemory;
import dev.splitkernel.workload.Workloads;
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
 * The built-in workloads' measured phase on local memory (a plain off-heap buffer) and on the splitkernel (an
 * embedded cluster over the local fabric, preset {@code rdma-cx3}, ExCache at {@code excachePercent} of the working
 * set). One invocation is one whole measured phase over a region populated once per trial, so later invocations run
 * against the warm cache, as a long-running program would. The trial verifies every value read and, at the end, the
 * total of the writes: a wrong result fails the benchmark.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class WorkloadBenchmark
{
    @Param({"seq", "random", "kv"})
    public String workload;

    @Param({"local", "splitkernel"})
    public String memory;

    @Param({"16"})
    public int workingSetMiB;

    @Param({"25"})
    public double excachePercent;

    @Param({"rdma-cx3"})
    public String preset;

    private MemoryWorkload work;
    private WordMemory wordMemory;
    private EmbeddedCluster cluster;
    private LegoProcess process;
    private long base;
    private long regionBytes;
    private long writes;

    @Setup(Level.Trial)
    public void setUp()
    {
        work = Workloads.byName(workload);
        regionBytes = work.regionBytes((long)workingSetMiB << 20);
        if ("local".equals(memory))
        {
            final LocalMemory local = new LocalMemory(regionBytes);
            wordMemory = local;
            base = local.baseAddress();
        }
        else
        {
            final long setBytes = 64L * 4096;
            final long target = (long)(regionBytes * excachePercent / 100.0);
            final long cacheBytes = Math.max(setBytes, Long.highestOneBit(Math.max(1, target / setBytes)) * setBytes);
            cluster = EmbeddedCluster.start(new ClusterContext()
                .fabric("local")
                .preset(preset)
                .memoryCapacityBytes(Math.max(1L << 30, 2 * regionBytes))
                .excache(new ExCacheContext().capacityBytes(cacheBytes)));
            process = cluster.createProcess("bench-" + workload);
            base = process.mmap(0, regionBytes, Prot.PROT_READ | Prot.PROT_WRITE,
                Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
            if (base < 0)
            {
                throw new IllegalStateException("mmap failed: " + Errno.describe(base));
            }
            wordMemory = process.threadMemory(); // the benchmark's one thread loads through it
        }
        work.populate(wordMemory, base, regionBytes, 0, 1);
        writes = 0;
    }

    @Benchmark
    public long run()
    {
        final long w = work.run(wordMemory, base, regionBytes, 0, 1);
        writes += w;
        return w;
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        try
        {
            work.verify(wordMemory, base, regionBytes, writes);
        }
        finally
        {
            if (process != null)
            {
                process.exit(0);
            }
            if (cluster != null)
            {
                cluster.close();
            }
        }
    }
}
