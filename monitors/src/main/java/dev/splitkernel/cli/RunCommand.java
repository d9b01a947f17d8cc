package dev.splitkernel.cli;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.excache.ExCacheCounters;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.report.Progress;
import dev.splitkernel.report.Samples;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.rdma.RdmaProbe;
import dev.splitkernel.workload.LocalMemory;
import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.TwinLoader;
import dev.splitkernel.workload.WordMemory;
import dev.splitkernel.workload.Workloads;
import org.HdrHistogram.Histogram;

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
        "  --workload NAME,...            tf, wordcount, pagerank, ycsb (LegoOS's shapes; 'legoos', the default),",
        "                                 seq, random, kv (access patterns; 'patterns'), or all",
        "  --sizes 12.5,25,50,100         ExCache sizes in percent of the working set (default per workload: tf",
        "                                 14,28,57 and wordcount 15,30,60 as in LegoOS; pagerank, ycsb 12.5,25,50;",
        "                                 seq, random, kv 12.5,25,50,100)",
        "  --working-set 128m             working set of every workload: bytes, or with k/m/g (default per",
        "                                 workload: tf 225m and wordcount 212.5m (LegoOS's 0.9 GB / 4, 1.7 GB / 8;",
        "                                 tf trains 32 mini-batches spread over its data set); pagerank 32m;",
        "                                 ycsb 64m; seq, random, kv 128m)",
        "  --fabric local|tcp|rdma|...    local: in-process fabric with a timing model (default);",
        "                                 tcp: every monitor on its own loopback port; rdma: real verbs, every",
        "                                 monitor on its own port of this host's RDMA device (native-config/doctor",
        "                                 says whether verbs can run here); a list (local,tcp) runs each size on",
        "                                 each fabric in turn and prints their ratio (measured in the same run)",
        "  --preset none|rdma-cx3|rdma-cx6|cxl   timing of the local fabric (default rdma-cx3)",
        "  --replication off|on|both      memory replication: each vRegion also on a secondary memory monitor,",
        "                                 every write-back acknowledged by both, the secondary's log shipped in",
        "                                 1 MiB batches to the storage monitor (default off: LegoOS measured its",
        "                                 slowdowns without it); both: each cell with and without, side by side,",
        "                                 and their ratio (fabric 'X+replication' / 'X')",
        "  --timing account|inject|both   account (default): each network operation's modelled cost goes to the",
        "                                 virtual clock of the thread that waited, nobody spins (fast, steady);",
        "                                 inject: the cost is busy-waited; both: each cell in both modes",
        "  --workload-class NAME          also run your own workload: a public class implementing",
        "                                 dev.splitkernel.workload.MemoryWorkload with a public no-argument",
        "                                 constructor (alone, unless --workload is given too)",
        "  --classpath PATH               where that class is: jars and folders separated by ':'",
        "  --threads N                    threads per process, sharing its address space (default: 4 for tf and",
        "                                 wordcount, as in LegoOS's evaluation; 1 for the others)",
        "  --memory-monitors N            memory monitors (default 2)",
        "  --repeat N                     rounds every workload runs, each cell once per round, local and",
        "                                 splitkernel runs interleaved (default 6; more may follow, see",
        "                                 --target-halfwidth); the table shows the median slowdown, the repeats n",
        "                                 and the median's distribution-free 95% CI (order statistics: x(1)..x(6)",
        "                                 of 6, x(2)..x(8) of 9; fewer than 6 show min..max and its lower",
        "                                 confidence)",
        "  --target-halfwidth P           adaptive repeats: once every workload has run its N rounds, the budget",
        "                                 left goes to the workloads with a cell whose CI half-width is above P%",
        "                                 of its median, a whole round each in turn, the fewest rounds first",
        "                                 (default 5; 0 or off: exactly N rounds); a cell left above P% is flagged",
        "                                 with why its rounds stopped: max repeat or budget",
        "  --max-repeat M                 at most M rounds per workload (default 6 x N; at least N)",
        "  --budget DURATION              the job's time budget for extra rounds: 600s, 10m, 1h or none (default",
        "                                 10m); an extra round starts only if the job, with it (estimated as the",
        "                                 longest of the workload's rounds so far), ends within the budget. The N",
        "                                 rounds of every workload always run",
        "  --local-runs K                 runs of the local twin per round (default 3), spread from before the",
        "                                 round's first splitkernel run to after its last (3: before, in the",
        "                                 middle, after); each repeat's slowdown divides by the median of its own",
        "                                 round's K runs. A design of the measurement, not a dropping of samples:",
        "                                 one local run (0.1-0.2 s) varied 9-15% between rounds, the splitkernel",
        "                                 side 0.3-3.6%; the JSON keeps every local run (localRunsSeconds)",
        "  --warmup N                     unreported warm-up rounds per workload (default 2): all but the last on",
        "                                 a 4m working set, the last on the full one at the middle ExCache size;",
        "                                 then the local twin alone until a run of it compiles nothing (at most 5)",
        "  --quick                        a short job for CI: working set 4m, sizes 25,100, 2 repeats and no",
        "                                 extra rounds (--target-halfwidth off)",
        "  --out DIR                      where the JSON and PNG go (default results/)",
        "  --help                         this text",
        "",
        "  tf: one epoch of SGD on a small CNN over CIFAR-10-shaped synthetic images (bit-exact against local",
        "  memory); wordcount: Zipf text read through the storage monitor's file API, map, reduce, top 10;",
        "  pagerank: 10 iterations over an R-MAT graph; ycsb: YCSB workload A with YCSB's generators, 1 KB records;",
        "  seq: 3 passes, one write per 32 KB; random: 16 uniform accesses per 4 KB, 1 in 4 a write; kv: Zipf(0.99)",
        "  key-value store, 256-byte values, 16 operations per 4 KB, 10% puts. Each verifies its result; a wrong",
        "  one fails the run (exit 1).",
        "",
        "  Under the table, per cell: the half-width of the slowdown's interval, of the splitkernel side's and of",
        "  the local twin's (which side varies), the CPU time threads spun in the cache waiting for each other (left",
        "  out of the critical path, as waits at barriers are), and JIT and GC ms per side; the JSON keeps these",
        "  per sample.");

    /**
     * Rounds every workload runs: 6, the least with a 95% interval of the median (min..max, 96.9%); the job's budget
     * left then goes to the workloads whose cells are wider than the target, a round each in turn (RepeatPolicy). 9
     * for every cell took the default job 558 s one morning and 768 s one afternoon on this machine, over its
     * 10 minutes, with no time left for the wide cells.
     */
    static final int DEFAULT_REPEATS = 6;

    /** Local runs per round by default: before, in the middle of and after its splitkernel runs. */
    static final int DEFAULT_LOCAL_RUNS = 3;

    private final PrintStream out;
    private final PrintStream err;
    /** The job's runs (local and splitkernel, warm-ups not counted) and the number of the last one started. */
    private int totalRuns;
    private int runNumber;

    RunCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    int run(final String[] args) throws Exception
    {
        List<String> workloads = Workloads.LEGOOS;
        List<Double> sizesOption = null;
        long workingSetOption = 0;
        List<String> fabrics = List.of("local");
        String preset = "rdma-cx3";
        int threadsOption = 0;
        String workloadClass = null;
        String classpath = null;
        boolean workloadGiven = false;
        int memoryMonitors = 2;
        Path outDir = Path.of("results");
        int repeats = DEFAULT_REPEATS;
        int warmups = 2;
        int localRuns = DEFAULT_LOCAL_RUNS;
        int maxRepeatOption = 0;
        double targetHalfWidth = RepeatPolicy.DEFAULT_TARGET_HALF_WIDTH;
        long budgetNs = RepeatPolicy.DEFAULT_BUDGET_NS;
        List<String> timings = List.of(FabricContext.TIMING_MODE_ACCOUNT);
        String replication = "off";
        if (List.of(args).contains("--quick"))
        {
            sizesOption = List.of(25.0, 100.0);
            workingSetOption = 4L << 20;
            repeats = 2;
            // CI's job stays short and fixed: 2 repeats have no interval, extra rounds would run to the cap.
            targetHalfWidth = 0;
        }
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                out.println(USAGE);
                return 0;
            }
            if ("--quick".equals(arg))
            {
                continue;
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
                    case "--workload-class":
                        workloadClass = value;
                        break;
                    case "--classpath":
                        classpath = value;
                        break;
                    case "--workload":
                        workloadGiven = true;
                        workloads = "all".equals(value) ? Workloads.NAMES : "legoos".equals(value) ? Workloads.LEGOOS
                            : "patterns".equals(value) ? Workloads.PATTERNS : List.of(value.split(","));
                        for (final String w : workloads)
                        {
                            if (!Workloads.NAMES.contains(w))
                            {
                                return usageError("--workload: unknown workload '" + w + "': use one of "
                                    + Workloads.NAMES + ", legoos, patterns or all");
                            }
                        }
                        break;
                    case "--sizes":
                        final List<Double> sizes = new ArrayList<>();
                        sizesOption = sizes;
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
                        workingSetOption = Options.parseBytes(value);
                        if (workingSetOption < 1 << 20 || workingSetOption > LocalMemory.MAX_BYTES)
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
                        threadsOption = Integer.parseInt(value);
                        if (threadsOption < 1 || threadsOption > 64)
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
                    case "--replication":
                        if (!List.of("off", "on", "both").contains(value))
                        {
                            return usageError("--replication: '" + value + "' is not one of off, on, both");
                        }
                        replication = value;
                        break;
                    case "--timing":
                        timings = "both".equals(value) ? FabricContext.TIMING_MODES : List.of(value);
                        if (!FabricContext.TIMING_MODES.contains(timings.get(0)))
                        {
                            return usageError("--timing: '" + value + "' is not one of " + FabricContext.TIMING_MODES
                                + " or both");
                        }
                        break;
                    case "--repeat":
                        repeats = Integer.parseInt(value);
                        if (repeats < 1 || repeats > 1000)
                        {
                            return usageError("--repeat: " + value + " must be in 1..1000");
                        }
                        break;
                    case "--target-halfwidth":
                        final double targetPct = "off".equals(value) ? 0
                            : Double.parseDouble(value.trim().replace("%", ""));
                        if (!(targetPct >= 0 && targetPct <= 100))
                        {
                            return usageError("--target-halfwidth: " + value + " is not a percentage in 0..100 "
                                + "(0 or off: no extra rounds)");
                        }
                        targetHalfWidth = targetPct / 100;
                        break;
                    case "--max-repeat":
                        maxRepeatOption = Integer.parseInt(value);
                        if (maxRepeatOption < 1 || maxRepeatOption > 1000)
                        {
                            return usageError("--max-repeat: " + value + " must be in 1..1000");
                        }
                        break;
                    case "--budget":
                        budgetNs = "none".equals(value) ? RepeatPolicy.NO_BUDGET : Options.parseDurationNs(value);
                        if (budgetNs == 0)
                        {
                            return usageError("--budget: " + value + " must be more than 0 (or none)");
                        }
                        break;
                    case "--local-runs":
                        localRuns = Integer.parseInt(value);
                        if (localRuns < 1 || localRuns > 100)
                        {
                            return usageError("--local-runs: " + value + " must be in 1..100");
                        }
                        break;
                    case "--warmup":
                        warmups = Integer.parseInt(value);
                        if (warmups < 0 || warmups > 100)
                        {
                            return usageError("--warmup: " + value + " must be in 0..100");
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
                return usageError(arg + ": '" + value + "' is not a " + ("--budget".equals(arg)
                    ? "duration (600s, 10m, 1h or none)" : "number"));
            }
        }
        if (maxRepeatOption > 0 && maxRepeatOption < repeats)
        {
            return usageError("--max-repeat: " + maxRepeatOption + " is below --repeat " + repeats
                + " (the rounds every workload runs at least)");
        }
        final RepeatPolicy policy = new RepeatPolicy(repeats,
            maxRepeatOption > 0 ? maxRepeatOption : RepeatPolicy.DEFAULT_MAX_REPEAT_FACTOR * repeats, targetHalfWidth,
            budgetNs);

        // Two copies of each workload's code, one per memory: see TwinLoader.
        final List<MemoryWorkload[]> toRun = new ArrayList<>();
        if (workloadClass == null || workloadGiven)
        {
            for (final String name : workloads)
            {
                toRun.add(new MemoryWorkload[]{TwinLoader.builtIn(name), TwinLoader.builtIn(name)});
            }
        }
        if (workloadClass != null)
        {
            try
            {
                toRun.add(new MemoryWorkload[]{UserWorkloads.load(workloadClass, classpath),
                    UserWorkloads.load(workloadClass, classpath)});
            }
            catch (final IllegalArgumentException ex)
            {
                return usageError(ex.getMessage());
            }
        }
        else if (classpath != null)
        {
            return usageError("--classpath is for --workload-class");
        }
        workloads = toRun.stream().map(twins -> twins[0].name()).toList();

        final List<String> fabricLabels = new ArrayList<>();
        fabrics = withReplication(fabrics, replication);
        for (final String f : fabrics)
        {
            final String b = baseFabric(f);
            fabricLabels.add(("local".equals(b) ? "local, preset " + preset
                : "rdma".equals(b) ? "rdma (this host's RDMA device)" : b + " (loopback)") +
                (f.endsWith(REPLICATED) ? " with replication" : ""));
        }
        final String fabricLabel = String.join(" and ", fabricLabels);
        out.printf(Locale.ROOT, "splitkernel run: workloads %s, working set %s, ExCache sizes %s, fabric %s, "
            + "threads %s, %d memory monitors, %d repeat(s) per cell%s%n", workloads,
            workingSetOption > 0 ? Options.formatBytes(workingSetOption) : "per workload",
            sizesOption != null ? sizesOption + "% of it" : "per workload", fabricLabel,
            threadsOption > 0 ? Integer.toString(threadsOption) : "per workload", memoryMonitors, repeats,
            !policy.isAdaptive() ? "" : String.format(Locale.ROOT, ", more (up to %d) while a cell's half-width is "
            + "above %s%% (budget %s)", policy.maxRounds(), percent(policy.targetHalfWidth()),
            policy.budgetNs() == RepeatPolicy.NO_BUDGET ? "none" : Options.formatDuration(policy.budgetNs())));

        final long jobStartNs = System.nanoTime();
        final Progress progress = Progress.forConsole();
        final List<RunResult> results = new ArrayList<>();
        int runsPerSize = 0;
        for (final String fabric : fabrics)
        {
            runsPerSize += timingsOf(fabric, timings).size();
        }
        totalRuns = 0;
        for (final String name : workloads)
        {
            final int sizeCount = (sizesOption != null ? sizesOption : Workloads.defaultSizes(name)).size();
            totalRuns += (sizeCount * runsPerSize + localRuns) * repeats;
        }
        runNumber = 0;
        boolean failed = false;
        final Map<String, RepeatPolicy.Outcome> outcomes = new LinkedHashMap<>();
        final List<WorkloadRounds> started = new ArrayList<>();
        final Job job = new Job(fabrics, timings, localRuns, preset, memoryMonitors, progress, results);
        for (int w = 0; w < toRun.size() && !failed; w++)
        {
            final MemoryWorkload[] twins = toRun.get(w);
            final MemoryWorkload localTwin = twins[0];
            final MemoryWorkload workload = twins[1];
            final String name = workload.name();
            final int threads = threadsOption > 0 ? threadsOption : Workloads.defaultThreads(name);
            final List<Double> sizes = sizesOption != null ? sizesOption : Workloads.defaultSizes(name);
            final long workingSetBytes = workingSetOption > 0 ? workingSetOption : Workloads.defaultWorkingSetBytes(name);
            // The first runs in a JVM pay for class loading and JIT compilation: warm the whole path up, unreported.
            if (warmups > 0)
            {
                out.printf(Locale.ROOT, "%s: %d warm-up round(s), the last on the full working set, not reported ...%n",
                    name, warmups);
                out.flush();
            }
            for (int warm = 0; warm < warmups && !failed; warm++)
            {
                // The last round on the full working set: the first full-size local run of tf took 0.159 s of CPU
                // against 0.104 to 0.128 s for the next four (load 35 to 40), skewing its repeat's slowdown.
                final boolean full = warm == warmups - 1;
                final long warmBytes = full ? workload.regionBytes(workingSetBytes) : workload.regionBytes(4L << 20);
                final double warmPct = full ? sizes.get(sizes.size() / 2) : 25.0;
                try
                {
                    runLocal(localTwin, warmBytes, threads);
                    for (final String fabric : fabrics)
                    {
                        for (final String timing : timingsOf(fabric, timings))
                        {
                            runSplitkernel(workload, warmBytes, warmPct, cacheBytes(warmBytes, warmPct), threads,
                                fabric, timing, preset, memoryMonitors);
                        }
                    }
                }
                catch (final Exception ex)
                {
                    err.println("error: " + name + " failed in its warm-up: " + ex);
                    failed = true;
                }
            }
            final long regionBytes = workload.regionBytes(workingSetBytes);
            if (warmups > 0 && !failed)
            {
                try
                {
                    settleLocal(() -> runLocal(localTwin, regionBytes, threads), MAX_LOCAL_SETTLE_RUNS);
                }
                catch (final Exception ex)
                {
                    err.println("error: " + name + " on local memory failed in its warm-up: " + ex);
                    failed = true;
                }
            }
            // Local and splitkernel runs interleaved: a slow spell of the machine hits both sides of a ratio. Each
            // round's reference is the median of its localRuns local runs, spread around its splitkernel runs.
            int roundSize = 0;
            for (final String fabric : fabrics)
            {
                roundSize += sizes.size() * timingsOf(fabric, timings).size();
            }
            final WorkloadRounds rounds = new WorkloadRounds(localTwin, workload, threads, sizes, regionBytes,
                roundSize);
            started.add(rounds);
            for (int rep = 0; rep < repeats && !failed; rep++)
            {
                failed = !runRound(rounds, job);
            }
        }
        // Adaptive repeats: the budget left goes a whole round at a time to the workloads still above the target,
        // the fewest rounds first, so each gets a round in turn (RepeatPolicy).
        while (!failed)
        {
            WorkloadRounds next = null;
            for (final WorkloadRounds rounds : started)
            {
                if (outcomes.containsKey(rounds.name))
                {
                    continue;
                }
                final double[] halfWidths = rounds.halfWidths();
                final RepeatPolicy.Stop stop = policy.next(rounds.count, halfWidths,
                    System.nanoTime() - jobStartNs, rounds.longestRoundNs);
                if (stop != RepeatPolicy.Stop.NONE)
                {
                    outcomes.put(rounds.name, new RepeatPolicy.Outcome(rounds.count, stop));
                    if (policy.isAdaptive())
                    {
                        out.printf(Locale.ROOT, "%s: %d round(s), widest half-width %s, stopped: %s%n", rounds.name,
                            rounds.count, halfWidthText(RepeatPolicy.widest(halfWidths)), stop.label());
                    }
                }
                else if (next == null || rounds.count < next.count)
                {
                    next = rounds;
                }
            }
            if (next == null)
            {
                break;
            }
            // The progress bar's total grows by the round: never less than the runs made.
            totalRuns += next.roundSize + localRuns;
            out.printf(Locale.ROOT, "%s: widest half-width %s, above %s%%: round %d of at most %d (up to %.1f s; %s)%n",
                next.name, halfWidthText(RepeatPolicy.widest(next.halfWidths())),
                percent(policy.targetHalfWidth()), next.count + 1, policy.maxRounds(), next.longestRoundNs / 1e9,
                policy.budgetNs() == RepeatPolicy.NO_BUDGET ? "no budget" : String.format(Locale.ROOT,
                "%.1f s of the job's budget left", (policy.budgetNs() - (System.nanoTime() - jobStartNs)) / 1e9));
            failed = !runRound(next, job);
        }
        progress.clear();
        final double jobSeconds = (System.nanoTime() - jobStartNs) / 1e9;

        final List<RunReport.Cell> cells = RunReport.cells(results);
        out.println();
        // Cells are flagged against the adaptive target, or against the 5% when adaptive repeats are off.
        final double target = policy.isAdaptive() ? policy.targetHalfWidth() : RunReport.HALF_WIDTH_TARGET;
        RunReport.printTable(out, cells, outcomes, target);
        RunReport.printVariation(out, cells);
        RunReport.printHalfWidthSummary(out, cells, outcomes, target);
        RunReport.printFabricRatios(out, cells);
        RunReport.printTimingAgreement(out, cells);
        out.printf(Locale.ROOT, "%njob: %.1f s for %d runs (warm-ups included)%n", jobSeconds, totalRuns);

        Files.createDirectories(outDir);
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        final Path json = outDir.resolve("run-" + stamp + ".json");
        final Path png = outDir.resolve("run-" + stamp + ".png");
        final Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("command", "scripts/splitkernel run " + String.join(" ", args));
        settings.put("date", stamp);
        settings.put("workloads", workloads);
        settings.put("workingSetBytes", workingSetOption > 0 ? workingSetOption : "per workload (see cells)");
        settings.put("fabric", fabrics);
        settings.put("preset", fabrics.contains("local") ? preset : null);
        settings.put("threads", threadsOption > 0 ? threadsOption : "per workload: 4 for tf and wordcount, else 1");
        settings.put("memoryMonitors", memoryMonitors);
        settings.put("repeats", repeats);
        settings.put("targetHalfWidth", policy.isAdaptive() ? policy.targetHalfWidth() : "off");
        settings.put("maxRepeat", policy.maxRounds());
        settings.put("budgetSeconds", policy.budgetNs() == RepeatPolicy.NO_BUDGET ? "none" : policy.budgetNs() / 1e9);
        settings.put("adaptiveRule", "every workload runs its repeats rounds first; then the workloads with a cell "
            + "whose medianCiHalfWidthOfMedian is above targetHalfWidth run whole rounds more, one each in turn (the "
            + "fewest rounds first), up to maxRepeat rounds, a round starting only if the job with it (the longest of "
            + "the workload's rounds so far) ends within budgetSeconds; per cell: rounds and stoppedBecause");
        settings.put("warmupRounds", warmups);
        settings.put("localRuns", localRuns);
        settings.put("timingModes", timings);
        settings.put("timing", "populate + measured phase; inject: wall clock, the network time busy-waited, on both "
            + "sides; account: on both sides, per step between barriers the slowest thread's CPU time plus its virtual "
            + "network stalls, summed (waits at barriers left out); local = same code on a plain off-heap buffer; "
            + "slowdown of a repeat = its run time over its round's local reference, the median of the round's "
            + "localRuns runs of the local twin spread before, among and after its splitkernel runs (a short "
            + "quantity measured several times; every one in localRunsSeconds); interval: the median's "
            + "distribution-free 95% interval (order statistics)");
        settings.put("jobSeconds", jobSeconds);
        RunReport.writeJson(json, settings, cells, outcomes);
        RunReport.writePlot(png, "Slowdown vs ExCache size (" + fabricLabel + ", working set "
            + (workingSetOption > 0 ? Options.formatBytes(workingSetOption) : "per workload") + ", median and 95% CI)",
            cells);
        out.println();
        out.println("JSON: " + json.toAbsolutePath());
        out.println("plot: " + png.toAbsolutePath());
        if (fabrics.contains("local") && LegoosComparison.write(outDir, cells, preset, settings))
        {
            out.println("beside LegoOS: " + outDir.resolve("legoos-comparison.md").toAbsolutePath() + " (and .png)");
        }
        if (failed)
        {
            err.println("run: FAILED (a run did not complete or did not verify; see the errors above)");
            return 1;
        }
        return 0;
    }

    /** The job's settings every round uses, and where its results go. */
    private record Job(List<String> fabrics, List<String> timings, int localRuns, String preset, int memoryMonitors,
        Progress progress, List<RunResult> results)
    {
    }

    /** One workload of the job: its twins and settings, and the rounds it has run. */
    private static final class WorkloadRounds
    {
        final String name;
        final MemoryWorkload localTwin;
        final MemoryWorkload workload;
        final int threads;
        final List<Double> sizes;
        final long regionBytes;
        final int roundSize;
        final List<RunResult> results = new ArrayList<>();
        int count;
        long longestRoundNs;

        WorkloadRounds(final MemoryWorkload localTwin, final MemoryWorkload workload, final int threads,
            final List<Double> sizes, final long regionBytes, final int roundSize)
        {
            this.name = workload.name();
            this.localTwin = localTwin;
            this.workload = workload;
            this.threads = threads;
            this.sizes = sizes;
            this.regionBytes = regionBytes;
            this.roundSize = roundSize;
        }

        double[] halfWidths()
        {
            return RunReport.halfWidths(RunReport.cells(results));
        }
    }

    /**
     * One round of a workload: every cell once, its local runs spread around them; each repeat's slowdown over the
     * round's own reference. False (after saying why) when a run fails.
     */
    private boolean runRound(final WorkloadRounds rounds, final Job job)
    {
        final long roundStartNs = System.nanoTime();
        final String name = rounds.name;
        final MemoryWorkload localTwin = rounds.localTwin;
        final MemoryWorkload workload = rounds.workload;
        final long regionBytes = rounds.regionBytes;
        final int threads = rounds.threads;
        final int roundSize = rounds.roundSize;
        final int localRuns = job.localRuns();
        final int rep = rounds.count;
        final Progress progress = job.progress();
        boolean failed = false;
        final RoundReference reference = new RoundReference();
        final List<RunResult> measured = new ArrayList<>();
        int index = 0;
        for (final double pct : rounds.sizes)
        {
            for (final String fabric : job.fabrics())
            {
                for (final String timing : timingsOf(fabric, job.timings()))
                {
                    failed = failed || !runLocals(localTwin, regionBytes, threads, reference,
                        RoundReference.runsAt(index, roundSize, localRuns), rep, progress);
                    index++;
                    if (failed)
                    {
                        continue;
                    }
                    runNumber++;
                    final long cacheBytes = cacheBytes(regionBytes, pct);
                    final double actualPct = 100.0 * cacheBytes / regionBytes;
                    out.printf(Locale.ROOT, "[%d/%d] %s with ExCache %s (%.1f%% of %s) over %s, timing %s ...%n",
                        runNumber, totalRuns, name, Options.formatBytes(cacheBytes), actualPct,
                        Options.formatBytes(regionBytes), fabric, timing);
                    out.flush();
                    progress.update(runNumber - 1, totalRuns, name + " at " + Math.round(actualPct) + "%");
                    try
                    {
                        final RunResult r = runSplitkernel(workload, regionBytes, actualPct, cacheBytes,
                            threads, fabric, timing, job.preset(), job.memoryMonitors());
                        measured.add(r);
                        progress.clear();
                        out.printf(Locale.ROOT, "        %.3f s, hit ratio %.2f%%, verified%n",
                            r.runNs() / 1e9, 100 * r.hitRatio());
                    }
                    catch (final Exception ex)
                    {
                        progress.clear();
                        err.println("error: " + name + " at " + pct + "% over " + fabric + " (" + timing
                            + ") failed: " + ex);
                        failed = true;
                    }
                }
            }
        }
        failed = failed || !runLocals(localTwin, regionBytes, threads, reference,
            RoundReference.runsAt(roundSize, roundSize, localRuns), rep, progress);
        if (failed)
        {
            return false;
        }
        // Each repeat's slowdown over its own round's reference: the pairing of a round's two sides is kept.
        for (final RunResult r : measured)
        {
            final boolean account = FabricContext.TIMING_MODE_ACCOUNT.equals(r.timing());
            final RunResult paired = r.withLocal(reference.ns(account), reference.runsNs(account),
                reference.activity());
            job.results().add(paired);
            rounds.results.add(paired);
            out.printf(Locale.ROOT, "        %s at %.1f%% (%s): slowdown %.2fx over the median of %d local "
                + "run(s), %.3f s%n", name, r.sizePercent(), r.timing(), paired.slowdown(), reference.size(),
                paired.localNs() / 1e9);
        }
        rounds.count++;
        rounds.longestRoundNs = Math.max(rounds.longestRoundNs, System.nanoTime() - roundStartNs);
        return true;
    }

    /** A fraction as a percentage for the console: 0.05 as "5", 0.216 as "21.6", infinite as "inf". */
    static String percent(final double fraction)
    {
        if (Double.isInfinite(fraction) || Double.isNaN(fraction))
        {
            return "inf";
        }
        final double pct = 100 * fraction;
        return String.format(Locale.ROOT, pct == Math.rint(pct) ? "%.0f" : "%.1f", pct);
    }

    /** A half-width over the median for the console: "21.6%", or why there is none. */
    static String halfWidthText(final double fraction)
    {
        return Double.isFinite(fraction) ? percent(fraction) + "%" : "none (no 95% interval under "
            + Samples.MEDIAN_CI_MIN_SAMPLES + " repeats)";
    }

    /**
     * Runs the local twin {@code count} times into {@code reference}, each verified and settled like every run;
     * false (after saying why) when one fails.
     */
    private boolean runLocals(final MemoryWorkload localTwin, final long regionBytes, final int threads,
        final RoundReference reference, final int count, final int rep, final Progress progress)
    {
        final String name = localTwin.name();
        for (int i = 0; i < count; i++)
        {
            runNumber++;
            progress.clear();
            out.printf(Locale.ROOT, "[%d/%d] %s on local memory (repeat %d, local run %d) ...%n", runNumber,
                totalRuns, name, rep + 1, reference.size() + 1);
            out.flush();
            progress.update(runNumber - 1, totalRuns, name + " on local memory");
            final WorkloadThreads.Outcome local;
            try
            {
                local = runLocal(localTwin, regionBytes, threads);
            }
            catch (final InterruptedException | RuntimeException ex)
            {
                progress.clear();
                err.println("error: " + name + " on local memory failed: " + ex);
                return false;
            }
            reference.add(local);
            progress.clear();
            out.printf(Locale.ROOT, "        %.3f s (critical path in CPU time %.3f s), verified%n",
                local.wallNs() / 1e9, local.criticalPathNs() / 1e9);
        }
        return true;
    }

    /** At most this many unreported local runs after the warm-up rounds, waiting for one that compiles nothing. */
    static final int MAX_LOCAL_SETTLE_RUNS = 5;

    /** A run of the local twin, timed; for {@link #settleLocal}. */
    @FunctionalInterface
    interface LocalRun
    {
        WorkloadThreads.Outcome run() throws Exception;
    }

    /**
     * Runs the local twin, unreported, until one of its runs saw the JIT compile nothing, at most {@code max} times;
     * returns how many runs it made. The warm-up rounds run it only twice, once on a small working set: ycsb's first
     * measured local run still compiled (6 ms) and took 0.122 s against 0.096 to 0.106 s for the next five (load 17),
     * and a run of a tenth of a second feels a compile that ends during it. Unreported: no sample is dropped.
     */
    static int settleLocal(final LocalRun localRun, final int max) throws Exception
    {
        for (int runs = 1; runs <= max; runs++)
        {
            if (localRun.run().activity().jitMs() == 0)
            {
                return runs;
            }
        }
        return max;
    }

    /**
     * ExCache capacity for {@code pct} of the region: the cache needs a power-of-two number of 64-way sets of 4 KB
     * lines, so this is the such size nearest the target on a log scale (at least one set). The table reports the
     * percentage actually used.
     */
    static long cacheBytes(final long regionBytes, final double pct)
    {
        final long setBytes = 64L * 4096;
        final double sets = Math.max(1.0, regionBytes * pct / 100.0 / setBytes);
        return (1L << Math.round(Math.log(sets) / Math.log(2))) * setBytes;
    }

    /** One run on a plain off-heap buffer, verified; returns its times (wall and critical path in CPU time). */
    static WorkloadThreads.Outcome runLocal(final MemoryWorkload workload, final long regionBytes, final int threads)
        throws InterruptedException
    {
        try (LocalMemory memory = new LocalMemory(regionBytes))
        {
            final long base = memory.baseAddress();
            workload.prepare(memory, base, regionBytes, threads);
            JvmQuiet.settle();
            final WorkloadThreads.Outcome outcome = WorkloadThreads.parallel(threads,
                t -> workload.populate(memory, base, regionBytes, t, threads),
                t -> workload.run(memory, base, regionBytes, t, threads));
            workload.verify(memory, base, regionBytes, outcome.result());
            return outcome;
        }
    }

    private RunResult runSplitkernel(final MemoryWorkload workload, final long regionBytes, final double pct,
        final long cacheBytes, final int threads, final String fabric, final String timing, final String preset, final int memoryMonitors) throws Exception
    {
        final ClusterContext ctx = new ClusterContext()
            .fabric(baseFabric(fabric))
            .replication(fabric.endsWith(REPLICATED))
            .preset(preset)
            .timingMode(FabricContext.TIMING_MODES.contains(timing) ? timing : FabricContext.TIMING_MODE_INJECT)
            .memoryMonitors(memoryMonitors)
            .memoryCapacityBytes(Math.max(1L << 30, regionBytes * 2))
            .excache(new ExCacheContext().capacityBytes(cacheBytes));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(ctx))
        {
            final ProcessorMonitor processor = cluster.processor();
            final LegoProcess process = cluster.createProcess(workload.name());
            try
            {
                final long base = process.mmapWorkingSet(regionBytes);
                try (LegoProcess.ThreadMemory memory = process.threadMemory())
                {
                    workload.prepare(memory, base, regionBytes, threads);
                }
                JvmQuiet.settle();
                final ExCacheCounters counters = processor.cache().counters();
                final long hits0 = counters.hits();
                final long misses0 = counters.misses();
                final long wb0 = counters.dirtyWriteBacks();
                final long rt0 = roundTrips(processor.fabric().counters());
                final long oneSided0 = processor.oneSidedReads();
                final long pLocal0 = counters.pLocalFills();
                final Histogram missLatency0 = processor.missLatency().snapshot();
                // Each thread loads through its own view: its hits cost one increment, not an atomic add.
                final WorkloadThreads.Outcome outcome = WorkloadThreads.inProcess(process, threads,
                    t ->
                    {
                        try (LegoProcess.ThreadMemory memory = process.threadMemory())
                        {
                            workload.populate(memory, base, regionBytes, t, threads);
                        }
                    },
                    t ->
                    {
                        try (LegoProcess.ThreadMemory memory = process.threadMemory())
                        {
                            return workload.run(memory, base, regionBytes, t, threads);
                        }
                    });
                final long hits = counters.hits() - hits0;
                final long misses = counters.misses() - misses0;
                final long writeBacks = counters.dirtyWriteBacks() - wb0;
                final long roundTrips = roundTrips(processor.fabric().counters()) - rt0;
                final long oneSided = processor.oneSidedReads() - oneSided0;
                final long pLocal = counters.pLocalFills() - pLocal0;
                final Histogram missLatency = processor.missLatency().snapshot();
                missLatency.subtract(missLatency0);
                try (LegoProcess.ThreadMemory memory = process.threadMemory())
                {
                    workload.verify(memory, base, regionBytes, outcome.result());
                }
                // account: both sides on the critical path in CPU time plus stalls (what a core per thread would
                // take, steady on a shared machine); inject and wall: both sides on the wall clock. The local side
                // comes from the round's reference once its last local run is in (RunResult.withLocal).
                final boolean account = FabricContext.TIMING_MODE_ACCOUNT.equals(timing);
                return new RunResult(workload.name(), fabric, timing, pct, cacheBytes, regionBytes,
                    account ? outcome.criticalPathNs() : outcome.wallNs(), 0, outcome.criticalStallNs(), hits,
                    misses, writeBacks, oneSided, pLocal, roundTrips, percentile(missLatency, 50),
                    percentile(missLatency, 99), outcome.cacheWaitNs(), outcome.activity(), JvmActivity.NONE,
                    List.of());
            }
            finally
            {
                process.exit(0);
            }
        }
    }

    private static long percentile(final Histogram histogram, final double percentile)
    {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(percentile);
    }

    /** The timing modes that mean something on {@code fabric}: only the local fabric models its network time. */
    static List<String> timingsOf(final String fabric, final List<String> timings)
    {
        return "local".equals(baseFabric(fabric)) ? timings : List.of("wall");
    }

    /** A fabric's name with this suffix runs its cluster with memory replication (a variant beside the plain one). */
    static final String REPLICATED = "+replication";

    static String baseFabric(final String fabric)
    {
        return fabric.endsWith(REPLICATED) ? fabric.substring(0, fabric.length() - REPLICATED.length()) : fabric;
    }

    /** The fabrics to run for {@code --replication off|on|both}: plain, replicated, or each plain one then its twin. */
    static List<String> withReplication(final List<String> fabrics, final String replication)
    {
        final List<String> result = new ArrayList<>();
        for (final String f : fabrics)
        {
            if (!"on".equals(replication))
            {
                result.add(f);
            }
            if (!"off".equals(replication))
            {
                result.add(f + REPLICATED);
            }
        }
        return result;
    }

    /** Round trips a fabric has waited for: calls and one-sided READs and WRITEs (one-way sends are not). */
    static long roundTrips(final FabricCounters counters)
    {
        return counters.get(FabricCounters.CALLS) + counters.get(FabricCounters.READS)
            + counters.get(FabricCounters.WRITES);
    }

    private int usageError(final String message)
    {
        err.println("error: " + message);
        err.println("run 'scripts/splitkernel run --help' for the options");
        return 2;
    }
}
