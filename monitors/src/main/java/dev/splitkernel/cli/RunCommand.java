package dev.splitkernel.cli;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.excache.ExCacheCounters;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.LegoThread;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.rdma.RdmaProbe;
import dev.splitkernel.workload.LocalMemory;
import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.WordMemory;
import dev.splitkernel.workload.Workloads;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code scripts/splitkernel run}: boot an embedded cluster, run the built-in workloads at several ExCache sizes and
 * against local memory, print the slowdown table, write JSON and a PNG plot under the output folder.
 * Exit code 0 when every run verified its result, 1 when one did not, 2 on bad options.
 */
public final class RunCommand
{
    static final String USAGE = String.join("\n",
        "usage: scripts/splitkernel run [options]",
        "  Boots an embedded cluster (global managers, one processor monitor, two memory monitors), runs built-in",
        "  workloads on it at several ExCache sizes and on local memory, and prints the slowdown table.",
        "",
        "  --workload seq|random|kv|all   workload(s) to run, comma-separated (default all)",
        "  --sizes 12.5,25,50,100         ExCache sizes in percent of the working set (default 12.5,25,50,100)",
        "  --working-set 128m             working set per workload: bytes, or with k/m/g (default 128m)",
        "  --fabric local|tcp|rdma|...    local: in-process fabric with a timing model (default);",
        "                                 tcp: every monitor on its own loopback port; rdma: real verbs, every",
        "                                 monitor on its own port of this host's RDMA device (native-config/doctor",
        "                                 says whether verbs can run here); a list (local,tcp) runs each size on",
        "                                 each fabric in turn and prints their ratio (measured in the same run)",
        "  --preset none|rdma-cx3|rdma-cx6|cxl   timing of the local fabric (default rdma-cx3)",
        "  --threads N                    threads per process, sharing its address space (default 1)",
        "  --memory-monitors N            memory monitors (default 2)",
        "  --out DIR                      where the JSON and PNG go (default results/)",
        "  --help                         this text",
        "",
        "  seq: 3 passes over the working set, one write per 32 KB; random: 16 uniform accesses per 4 KB, 1 in 4",
        "  also a write; kv: Zipf(0.99) key-value store, 256-byte values, 16 operations per 4 KB, 10% puts.",
        "  Each verifies every value it reads and the total of its writes; a mismatch fails the run (exit 1).");

    private final PrintStream out;
    private final PrintStream err;

    RunCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    int run(final String[] args) throws Exception
    {
        List<String> workloads = Workloads.NAMES;
        List<Double> sizes = List.of(12.5, 25.0, 50.0, 100.0);
        long workingSetBytes = 128L << 20;
        List<String> fabrics = List.of("local");
        String preset = "rdma-cx3";
        int threads = 1;
        int memoryMonitors = 2;
        Path outDir = Path.of("results");
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                out.println(USAGE);
                return 0;
            }
            if (i + 1 >= args.length)
            {
                return usageError("option " + arg + " needs a value (or is unknown)");
            }
            final String value = args[++i];
            try
            {
                switch (arg)
                {
                    case "--workload":
                        workloads = "all".equals(value) ? Workloads.NAMES : List.of(value.split(","));
                        for (final String w : workloads)
                        {
                            if (!Workloads.NAMES.contains(w))
                            {
                                return usageError("--workload: unknown workload '" + w + "': use one of "
                                    + Workloads.NAMES + " or all");
                            }
                        }
                        break;
                    case "--sizes":
                        sizes = new ArrayList<>();
                        for (final String s : value.split(","))
                        {
                            final double pct = Double.parseDouble(s.trim().replace("%", ""));
                            if (!(pct > 0 && pct <= 1000))
                            {
                                return usageError("--sizes: " + s + " is not a percentage in (0, 1000]");
                            }
                            sizes.add(pct);
                        }
                        break;
                    case "--working-set":
                        workingSetBytes = Options.parseBytes(value);
                        if (workingSetBytes < 1 << 20 || workingSetBytes > LocalMemory.MAX_BYTES)
                        {
                            return usageError("--working-set: " + value + " must be between 1m and 1g");
                        }
                        break;
                    case "--fabric":
                        fabrics = List.of(value.split(","));
                        for (final String f : fabrics)
                        {
                            if (!ClusterContext.FABRICS.contains(f))
                            {
                                return usageError("--fabric: '" + f + "' is not one of " + ClusterContext.FABRICS);
                            }
                        }
                        if (fabrics.stream().distinct().count() != fabrics.size())
                        {
                            return usageError("--fabric: '" + value + "' names a fabric twice");
                        }
                        if (fabrics.contains("rdma"))
                        {
                            final String reason = RdmaProbe.ofSystem().unavailableReason();
                            if (reason != null)
                            {
                                err.println("error: --fabric rdma: verbs cannot run here: " + reason);
                                return 1;
                            }
                        }
                        break;
                    case "--preset":
                        if (!ClusterContext.PRESETS.contains(value))
                        {
                            return usageError("--preset: '" + value + "' is not one of " + ClusterContext.PRESETS);
                        }
                        preset = value;
                        break;
                    case "--threads":
                        threads = Integer.parseInt(value);
                        if (threads < 1 || threads > 64)
                        {
                            return usageError("--threads: " + value + " must be in 1..64");
                        }
                        break;
                    case "--memory-monitors":
                        memoryMonitors = Integer.parseInt(value);
                        if (memoryMonitors < 1 || memoryMonitors > 16)
                        {
                            return usageError("--memory-monitors: " + value + " must be in 1..16");
                        }
                        break;
                    case "--out":
                        outDir = Path.of(value);
                        break;
                    default:
                        return usageError("unknown option " + arg);
                }
            }
            catch (final NumberFormatException ex)
            {
                return usageError(arg + ": '" + value + "' is not a number");
            }
        }

        final List<String> fabricLabels = new ArrayList<>();
        for (final String f : fabrics)
        {
            fabricLabels.add("local".equals(f) ? "local, preset " + preset
                : "rdma".equals(f) ? "rdma (this host's RDMA device)" : f + " (loopback)");
        }
        final String fabricLabel = String.join(" and ", fabricLabels);
        out.printf(Locale.ROOT, "splitkernel run: workloads %s, working set %s, ExCache sizes %s%% of it, fabric %s, "
            + "%d thread(s), %d memory monitors%n", workloads, Options.formatBytes(workingSetBytes), sizes, fabricLabel,
            threads, memoryMonitors);

        // The first runs in a JVM pay for class loading and JIT compilation: warm the whole path up, unreported.
        out.println("warming up (small working set, not reported) ...");
        out.flush();
        for (final String name : workloads)
        {
            final MemoryWorkload workload = Workloads.byName(name);
            final long warmBytes = workload.regionBytes(4L << 20);
            final long warmLocalNs = runLocal(workload, warmBytes, threads);
            for (final String fabric : fabrics)
            {
                runSplitkernel(workload, warmBytes, 25.0, cacheBytes(warmBytes, 25.0), threads, warmLocalNs, fabric,
                    preset, memoryMonitors);
            }
        }

        final List<RunResult> results = new ArrayList<>();
        final int totalRuns = workloads.size() * (sizes.size() * fabrics.size() + 1);
        int runNumber = 0;
        boolean failed = false;
        for (final String name : workloads)
        {
            final MemoryWorkload workload = Workloads.byName(name);
            final long regionBytes = workload.regionBytes(workingSetBytes);
            runNumber++;
            out.printf(Locale.ROOT, "[%d/%d] %s on local memory ...%n", runNumber, totalRuns, name);
            out.flush();
            final long localNs;
            try
            {
                localNs = runLocal(workload, regionBytes, threads);
            }
            catch (final RuntimeException ex)
            {
                err.println("error: " + name + " on local memory failed: " + ex);
                failed = true;
                runNumber += sizes.size() * fabrics.size();
                continue;
            }
            out.printf(Locale.ROOT, "        %.3f s, verified%n", localNs / 1e9);
            for (final double pct : sizes)
            {
                for (final String fabric : fabrics)
                {
                    runNumber++;
                    final long cacheBytes = cacheBytes(regionBytes, pct);
                    final double actualPct = 100.0 * cacheBytes / regionBytes;
                    out.printf(Locale.ROOT, "[%d/%d] %s with ExCache %s (%.1f%% of %s) over %s ...%n", runNumber,
                        totalRuns, name, Options.formatBytes(cacheBytes), actualPct, Options.formatBytes(regionBytes),
                        fabric);
                    out.flush();
                    try
                    {
                        final RunResult r = runSplitkernel(workload, regionBytes, actualPct, cacheBytes, threads,
                            localNs, fabric, preset, memoryMonitors);
                        results.add(r);
                        out.printf(Locale.ROOT, "        %.3f s, slowdown %.2fx, hit ratio %.2f%%, verified%n",
                            r.runNs() / 1e9, r.slowdown(), 100 * r.hitRatio());
                    }
                    catch (final Exception ex)
                    {
                        err.println("error: " + name + " at " + pct + "% over " + fabric + " failed: " + ex);
                        failed = true;
                    }
                }
            }
        }

        out.println();
        RunReport.printHeader(out);
        for (final RunResult r : results)
        {
            RunReport.printRow(out, r);
        }
        RunReport.printFabricRatios(out, results);

        Files.createDirectories(outDir);
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        final Path json = outDir.resolve("run-" + stamp + ".json");
        final Path png = outDir.resolve("run-" + stamp + ".png");
        final Map<String, String> settings = new LinkedHashMap<>();
        settings.put("workloads", String.join(",", workloads));
        settings.put("workingSetBytes", Long.toString(workingSetBytes));
        settings.put("fabric", String.join(",", fabrics));
        settings.put("preset", fabrics.contains("local") ? preset : "n/a");
        settings.put("threads", Integer.toString(threads));
        settings.put("memoryMonitors", Integer.toString(memoryMonitors));
        settings.put("timing", "populate + measured phase, wall clock; local = same code on a plain off-heap buffer");
        RunReport.writeJson(json, settings, results);
        RunReport.writePlot(png, "Splitkernel slowdown vs ExCache size (" + fabricLabel + ", working set "
            + Options.formatBytes(workingSetBytes) + ")", results);
        out.println();
        out.println("JSON: " + json.toAbsolutePath());
        out.println("plot: " + png.toAbsolutePath());
        if (failed)
        {
            err.println("run: FAILED (a run did not complete or did not verify; see the errors above)");
            return 1;
        }
        return 0;
    }

    /**
     * ExCache capacity for {@code pct} of the region: the cache needs a power-of-two number of 64-way sets of 4 KB
     * lines, so this is the largest such size not above the target (at least one set). The table reports the
     * percentage actually used.
     */
    static long cacheBytes(final long regionBytes, final double pct)
    {
        final long setBytes = 64L * 4096;
        final long raw = (long)Math.ceil(regionBytes * pct / 100.0);
        return Math.max(setBytes, Long.highestOneBit(Math.max(1, raw / setBytes)) * setBytes);
    }

    /** Best of two runs on a plain off-heap buffer (the first also warms the JIT); verifies both. */
    static long runLocal(final MemoryWorkload workload, final long regionBytes, final int threads) throws InterruptedException
    {
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            final LocalMemory memory = new LocalMemory(regionBytes);
            final long base = memory.baseAddress();
            final long startNs = System.nanoTime();
            final long writes = parallel(threads, t -> workload.populate(memory, base, regionBytes, t, threads),
                t -> workload.run(memory, base, regionBytes, t, threads));
            final long elapsedNs = System.nanoTime() - startNs;
            workload.verify(memory, base, regionBytes, writes);
            best = Math.min(best, elapsedNs);
        }
        return best;
    }

    private RunResult runSplitkernel(final MemoryWorkload workload, final long regionBytes, final double pct,
        final long cacheBytes, final int threads, final long localNs, final String fabric, final String preset,
        final int memoryMonitors) throws Exception
    {
        final ClusterContext ctx = new ClusterContext()
            .fabric(fabric)
            .preset(preset)
            .memoryMonitors(memoryMonitors)
            .memoryCapacityBytes(Math.max(1L << 30, regionBytes * 2))
            .excache(new ExCacheContext().capacityBytes(cacheBytes));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(ctx))
        {
            final ProcessorMonitor processor = cluster.processor();
            final LegoProcess process = cluster.createProcess(workload.name());
            try
            {
                final long base = process.mmap(0, regionBytes, Prot.PROT_READ | Prot.PROT_WRITE,
                    Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
                if (base < 0)
                {
                    throw new IllegalStateException("mmap of " + regionBytes + " bytes failed: " + Errno.describe(base));
                }
                final ExCacheCounters counters = processor.cache().counters();
                final long hits0 = counters.hits();
                final long misses0 = counters.misses();
                final long wb0 = counters.dirtyWriteBacks();
                final long rt0 = roundTrips(processor.fabric().counters());
                final long oneSided0 = processor.oneSidedReads();
                final long pLocal0 = counters.pLocalFills();
                final long startNs = System.nanoTime();
                final long writes = processParallel(process, threads,
                    t -> workload.populate(process, base, regionBytes, t, threads),
                    t -> workload.run(process, base, regionBytes, t, threads));
                final long elapsedNs = System.nanoTime() - startNs;
                final long hits = counters.hits() - hits0;
                final long misses = counters.misses() - misses0;
                final long writeBacks = counters.dirtyWriteBacks() - wb0;
                final long roundTrips = roundTrips(processor.fabric().counters()) - rt0;
                final long oneSided = processor.oneSidedReads() - oneSided0;
                final long pLocal = counters.pLocalFills() - pLocal0;
                workload.verify(process, base, regionBytes, writes);
                return new RunResult(workload.name(), fabric, pct, cacheBytes, regionBytes, elapsedNs, localNs, hits, misses,
                    writeBacks, oneSided, pLocal, roundTrips);
            }
            finally
            {
                process.exit(0);
            }
        }
    }

    /** Round trips a fabric has waited for: calls and one-sided READs and WRITEs (one-way sends are not). */
    static long roundTrips(final FabricCounters counters)
    {
        return counters.get(FabricCounters.CALLS) + counters.get(FabricCounters.READS)
            + counters.get(FabricCounters.WRITES);
    }

    @FunctionalInterface
    interface Phase
    {
        long run(int thread);
    }

    @FunctionalInterface
    interface VoidPhase
    {
        void run(int thread);
    }

    /** How long the threads of one run may take before the run fails (a hung workload, not a slow one). */
    static final long WATCHDOG_NS = 30L * 60 * 1_000_000_000L;

    /** Populate then run in {@code threads} plain threads; returns the total of run's results. */
    static long parallel(final int threads, final VoidPhase populate, final Phase run) throws InterruptedException
    {
        return parallel(threads, populate, run, WATCHDOG_NS);
    }

    /**
     * As {@link #parallel(int, VoidPhase, Phase)}, failing with an IllegalStateException (the threads interrupted)
     * when they are not all done within {@code watchdogNs}.
     */
    static long parallel(final int threads, final VoidPhase populate, final Phase run, final long watchdogNs)
        throws InterruptedException
    {
        if (threads == 1)
        {
            populate.run(0);
            return run.run(0);
        }
        final AtomicLong total = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final java.util.concurrent.CyclicBarrier barrier = new java.util.concurrent.CyclicBarrier(threads);
        final List<Thread> list = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            final Thread th = new Thread(() ->
            {
                try
                {
                    populate.run(thread);
                    barrier.await();
                    total.addAndGet(run.run(thread));
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                    barrier.reset();
                }
            }, "local-" + t);
            list.add(th);
            th.start();
        }
        final long deadlineNs = System.nanoTime() + watchdogNs;
        for (final Thread th : list)
        {
            final long leftMs = (deadlineNs - System.nanoTime()) / 1_000_000;
            if (leftMs > 0)
            {
                th.join(leftMs);
            }
            if (th.isAlive())
            {
                list.forEach(Thread::interrupt);
                throw new IllegalStateException("thread " + th.getName() + " did not finish within "
                    + watchdogNs / 1_000_000 + " ms (a hung workload?)");
            }
        }
        rethrow(failure.get());
        return total.get();
    }

    /** As {@link #parallel} but in threads of the process (sharing its address space), with a watchdog. */
    static long processParallel(final LegoProcess process, final int threads, final VoidPhase populate,
        final Phase run) throws InterruptedException
    {
        if (threads == 1)
        {
            populate.run(0);
            return run.run(0);
        }
        final AtomicLong total = new AtomicLong();
        final java.util.concurrent.CyclicBarrier barrier = new java.util.concurrent.CyclicBarrier(threads);
        final List<LegoThread> list = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            list.add(process.spawnThread("worker-" + t, p ->
            {
                try
                {
                    populate.run(thread);
                    barrier.await();
                    total.addAndGet(run.run(thread));
                    return 0;
                }
                catch (final Throwable ex)
                {
                    barrier.reset();
                    throw ex;
                }
            }));
        }
        final long deadlineNs = System.nanoTime() + WATCHDOG_NS;
        for (final LegoThread th : list)
        {
            if (!th.join(Math.max(1, deadlineNs - System.nanoTime())))
            {
                throw new IllegalStateException("thread " + th.name() + " did not finish within 30 minutes");
            }
        }
        for (final LegoThread th : list)
        {
            if (th.failure() != null && !(th.failure() instanceof java.util.concurrent.BrokenBarrierException))
            {
                rethrow(th.failure());
            }
        }
        for (final LegoThread th : list)
        {
            rethrow(th.failure());
        }
        return total.get();
    }

    private static void rethrow(final Throwable t)
    {
        if (t == null)
        {
            return;
        }
        if (t instanceof RuntimeException)
        {
            throw (RuntimeException)t;
        }
        if (t instanceof Error)
        {
            throw (Error)t;
        }
        throw new IllegalStateException(t);
    }

    private int usageError(final String message)
    {
        err.println("error: " + message);
        err.println("run 'scripts/splitkernel run --help' for the options");
        return 2;
    }
}
