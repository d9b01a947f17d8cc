package dev.splitkernel.bench.workload;

import dev.splitkernel.cluster.ChildMonitor;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.ProcessorMonitorContext;
import dev.splitkernel.monitor.runtime.MonitorContext;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.rdma.RdmaInterfaces;
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

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end ExCache miss over tcp on loopback, or over rdma on this host's RDMA device
 * ({@code -p fabric=tcp,rdma} compares them in one run): the global manager and a memory monitor run in separate JVMs
 * (children of the benchmark's fork, killed at tear-down); the processor monitor runs in the fork. Each operation is
 * one 8-byte load that misses: the loads walk, one per 4 KB line, a region 4x the cache whose pages all exist at the
 * memory monitor (written and msync'ed at setup), so under FIFO every load misses and no victim is dirty.
 * {@code oneSided=true}: the misses are one-sided READs of known pages (after the first sweep); {@code false}: every
 * miss is an RPC served by the memory monitor's CPU. Report the median (p50) of SampleTime.
 * <p>
 * {@code observe}: true (the default), every monitor counts and keeps its status file and latency histograms; false,
 * none (nothing counted, no file, no clock read for a histogram; the switches are static finals, so in this JVM only
 * if set before the first monitor class loads, as {@code observe-cost} does with JVM options). {@code scripts/bench
 * observe-cost} measures what observing costs a miss: on and off in alternating rounds, each in its own JVM.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class EndToEndMissBenchmark
{
    /** How long a child monitor may take to start listening: a setting, which a slow host (emulated CPU) raises. */
    public static final String START_TIMEOUT_PROP_NAME = "splitkernel.bench.startTimeoutMs";
    public static final long START_TIMEOUT_MS = Long.getLong(START_TIMEOUT_PROP_NAME, 30_000);

    @Param({"true", "false"})
    public boolean oneSided;

    /** tcp (loopback) or rdma (the IPv4 address of this host's first ACTIVE RDMA port). */
    @Param({"tcp"})
    public String fabric;

    /**
     * Every monitor spins on its network (a dedicated memory monitor would: a kernel wake-up per request costs tens
     * of microseconds on these virtual machines, more than the miss itself); false where cores are too few to spin.
     */
    @Param({"true"})
    public boolean busyPoll;

    @Param({"true"})
    public boolean observe;

    /**
     * The monitors' idle spins before they yield and park ({@code splitkernel.runtime.idleSpins}); -1: the runtime's
     * default. 100000 (as for a dedicated thread; {@code observe-cost --idle-spins}): misses come about 10 us apart,
     * and on a loaded host whether a monitor's thread had gone to park by then decided a whole run's median (9, 12 or
     * 450 us from one JVM to the next), a scheduling mode that hides the cost of observing.
     */
    @Param({"-1"})
    public long idleSpins;

    /**
     * {@code none}: the scheduler places every thread. {@code split} (as {@code observe-cost} runs it): this JVM (the
     * processor monitor and the loading thread) on the first half of the CPUs, the children (memory monitor, global
     * manager) on the other half, with {@code taskset}. Unpinned, on 2 cores, each run settled into one of three
     * latency modes (p10 under 8.4 us, 8.4 to 10, over 10) by where the scheduler put the two sides' threads; that
     * placement, not the work measured, set a run's figure.
     */
    @Param({"none"})
    public String pin;

    private final List<ChildMonitor> children = new ArrayList<>();
    private ProcessorMonitor processor;
    private LegoProcess process;
    private MissSweep sweep;
    /** The CPUs the children are bound to with {@code pin=split}; null unpinned. */
    private String childCpus;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        final String host = "rdma".equals(fabric)
            ? RdmaInterfaces.detectLocalAddress(Path.of("/sys/class/infiniband")) : "127.0.0.1";
        if (host == null)
        {
            throw new IllegalStateException("fabric rdma: no ACTIVE RDMA port with an IPv4 address here");
        }
        final String listen = host + ":0";
        System.setProperty(MonitorStatus.COUNT_PROP_NAME, Boolean.toString(observe));
        System.setProperty(MonitorStatus.FILE_PROP_NAME, Boolean.toString(observe));
        System.setProperty(MonitorStatus.LATENCY_PROP_NAME, Boolean.toString(observe));
        if (idleSpins >= 0)
        {
            System.setProperty(MonitorContext.SPINS_PROP_NAME, Long.toString(idleSpins));
        }
        if ("split".equals(pin))
        {
            final int cpus = Runtime.getRuntime().availableProcessors();
            if (cpus < 2)
            {
                throw new IllegalStateException("pin=split needs 2 CPUs or more; this JVM sees " + cpus);
            }
            taskset(ProcessHandle.current().pid(), "0-" + (cpus / 2 - 1));
            childCpus = cpus / 2 + "-" + (cpus - 1);
        }
        else if (!"none".equals(pin))
        {
            throw new IllegalArgumentException("pin: none or split, not " + pin);
        }
        final String global = startChild("global", "global", "--fabric", fabric, "--listen", listen);
        startChild("memory", "memory", "--fabric", fabric, "--listen", listen, "--global", global,
            "--capacity", "256m", "--workers", "1");
        processor = new ProcessorMonitor(new ProcessorMonitorContext()
            .fabricContext(new FabricContext().fabric(fabric).busyPoll(busyPoll))
            .listenAddress(listen)
            .globalAddress(global)
            .oneSided(oneSided)
            .excache(new ExCacheContext().capacityBytes(MissSweep.EXCACHE_BYTES)));
        process = processor.createProcess("miss-latency");
        sweep = new MissSweep(process);
    }

    @Benchmark
    public long miss()
    {
        return sweep.load();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException
    {
        if (process != null)
        {
            process.exit(0);
        }
        if (processor != null)
        {
            processor.close();
        }
        for (final ChildMonitor child : children)
        {
            child.close();
        }
    }

    private String startChild(final String role, final String... args) throws Exception
    {
        final List<String> jvm = new ArrayList<>(List.of("-Xmx512m",
            "-D" + FabricContext.BUSY_POLL_PROP_NAME + "=" + busyPoll,
            "-D" + MonitorStatus.COUNT_PROP_NAME + "=" + observe, "-D" + MonitorStatus.FILE_PROP_NAME + "=" + observe,
            "-D" + MonitorStatus.LATENCY_PROP_NAME + "=" + observe));
        if (idleSpins >= 0)
        {
            jvm.add("-D" + MonitorContext.SPINS_PROP_NAME + "=" + idleSpins);
        }
        final ChildMonitor child = ChildMonitor.startRole(role, jvm, List.of(args).subList(1, args.length),
            START_TIMEOUT_MS);
        children.add(child);
        if (childCpus != null)
        {
            taskset(child.process().pid(), childCpus);
        }
        return child.address();
    }

    /** Binds every thread of process {@code pid}, and the threads they start, to {@code cpus} (a taskset list). */
    private static void taskset(final long pid, final String cpus) throws Exception
    {
        final Process taskset;
        try
        {
            taskset = new ProcessBuilder("taskset", "--all-tasks", "--pid", "--cpu-list", cpus, Long.toString(pid))
                .redirectErrorStream(true).start();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("pin=split needs taskset (util-linux): " + ex.getMessage(), ex);
        }
        // Its few lines of output fit in the pipe, so it can end before they are read.
        if (!taskset.waitFor(10, TimeUnit.SECONDS))
        {
            taskset.destroyForcibly();
            throw new IllegalStateException("taskset --cpu-list " + cpus + " of pid " + pid + ": no answer in 10 s");
        }
        if (taskset.exitValue() != 0)
        {
            throw new IllegalStateException("taskset --cpu-list " + cpus + " of pid " + pid + " failed: " +
                new String(taskset.getInputStream().readAllBytes()).strip());
        }
    }
}
