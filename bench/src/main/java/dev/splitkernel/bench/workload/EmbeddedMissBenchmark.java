package dev.splitkernel.bench.workload;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
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
 * An ExCache miss in the real topology: an embedded cluster (global managers, two memory monitors, storage and
 * processor monitors, load reports and heartbeats running) over {@code local} (preset none) or {@code tcp}
 * (loopback, every monitor on its own port). Each operation touches the next 4 KB line of a region 4x the cache
 * whose pages all exist, so every access misses: {@code victim=clean} loads (clean victims: a one-sided READ of a
 * known page), {@code victim=dirty} stores (each victim is dirty: its write-back travels with the fetch). At
 * tear-down it prints the round trips the processor waited for per miss (target: at most 1.0).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class EmbeddedMissBenchmark
{
    @Param({ "local", "tcp" })
    public String fabric;

    @Param({ "clean", "dirty" })
    public String victim;

    private EmbeddedCluster cluster;
    private ProcessorMonitor processor;
    private LegoProcess process;
    private MissSweep sweep;
    private long roundTrips0;
    private long misses0;

    @Setup(Level.Trial)
    public void setUp()
    {
        cluster = EmbeddedCluster.start(new ClusterContext().fabric(fabric).preset("none")
            .excache(new ExCacheContext().capacityBytes(MissSweep.EXCACHE_BYTES)));
        processor = cluster.processor();
        process = cluster.createProcess("miss");
        sweep = new MissSweep(process);
        roundTrips0 = MissSweep.roundTrips(processor);
        misses0 = processor.cache().counters().misses();
    }

    @Benchmark
    public long miss()
    {
        return "dirty".equals(victim) ? sweep.store() : sweep.load();
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        final long misses = processor.cache().counters().misses() - misses0;
        final long trips = MissSweep.roundTrips(processor) - roundTrips0;
        System.out.printf("%nEmbeddedMissBenchmark fabric=%s victim=%s: %d misses, %d round trips, %.3f round trips "
            + "per miss%n", fabric, victim, misses, trips, misses == 0 ? 0.0 : (double)trips / misses);
        process.exit(0);
        cluster.close();
    }
}
