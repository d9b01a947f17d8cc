package dev.splitkernel.bench.gate;

import dev.splitkernel.excache.InjectedRegression;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code scripts/bench gate [--quick] [--update-baseline --reason TEXT [--runs N]]}: the performance-regression gate.
 * Measures the metrics of {@link WorkloadMetrics} (counted, machine-independent), {@link HitRatio} and
 * {@link FabricRatios} (same-run ratios), compares each with its baseline in {@code bench/baselines/}, re-runs a
 * group once to confirm any failure, prints one table and writes it as JSON, Markdown and JUnit XML under
 * {@code results/}. Exit 0 when every metric passed, 1 when one failed (a metric that could not be measured, or
 * has no baseline, fails), 2 on bad arguments.
 */
public final class GateMain
{
    private static final String USAGE = String.join("\n",
        "usage: scripts/bench gate [--quick] [--results DIR] [--baselines DIR]",
        "       scripts/bench gate [--quick] --update-baseline --reason TEXT [--runs N]",
        "  compares counted metrics (misses, write-backs, one-sided re-fetches, requests and bytes per miss,",
        "  bytes allocated per miss), modelled network time per miss and modelled slowdowns in the account timing",
        "  mode (counts times the timing model's constants: no measured time) and same-run timed ratios",
        "  (ExCache hit / plain load, tcp / local-none fabric operations) with the baselines in bench/baselines",
        "  --quick            smaller sizes, against their own baselines (gate-quick.json)",
        "  --update-baseline  record N runs (default 5) and write the baselines, with --reason saying why");

    /** A set of metrics measured together, and re-measured together to confirm a failure. */
    private record Group(String name, List<String> prefixes, Callable<List<Measured>> measure)
    {
        boolean owns(final String metric)
        {
            return prefixes.stream().anyMatch(metric::startsWith);
        }
    }

    private GateMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        System.exit(run(args));
    }

    static int run(final String[] args) throws Exception
    {
        boolean quick = false;
        boolean update = false;
        String reason = null;
        int runs = 5;
        Path results = Path.of("results");
        Path baselines = Path.of(System.getProperty("splitkernel.home", "."), "bench", "baselines");
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--quick" -> quick = true;
                case "--update-baseline" -> update = true;
                case "--reason", "--runs", "--results", "--baselines" ->
                {
                    if (i + 1 >= args.length)
                    {
                        return usageError(args[i] + " needs a value");
                    }
                    final String value = args[++i];
                    switch (args[i - 1])
                    {
                        case "--reason" -> reason = value;
                        case "--runs" ->
                        {
                            try
                            {
                                runs = Integer.parseInt(value);
                            }
                            catch (final NumberFormatException ex)
                            {
                                return usageError("--runs: '" + value + "' is not a number");
                            }
                            if (runs < 2 || runs > 50)
                            {
                                return usageError("--runs: " + value + " must be in 2..50 (a spread needs two runs)");
                            }
                        }
                        case "--results" -> results = Path.of(value);
                        default -> baselines = Path.of(value);
                    }
                }
                case "-h", "--help" ->
                {
                    System.out.println(USAGE);
                    return 0;
                }
                default ->
                {
                    return usageError("unknown option " + args[i]);
                }
            }
        }
        if (update && (reason == null || reason.isBlank()))
        {
            return usageError("--update-baseline needs --reason TEXT: why the baseline changes");
        }
        if (!update && reason != null)
        {
            return usageError("--reason is for --update-baseline");
        }
        final List<String> injected;
        try
        {
            injected = InjectedRegression.active();
        }
        catch (final ExceptionInInitializerError ex)
        {
            System.err.println("error: " + ex.getCause().getMessage());
            return 2;
        }
        if (update && !injected.isEmpty())
        {
            System.err.println("error: refusing to record baselines with injected regressions " + injected + " ("
                + InjectedRegression.PROP_NAME + ")");
            return 2;
        }

        final List<Group> groups = groups(quick);
        final String mode = quick ? "quick" : "full";
        final Path baselineFile = Baseline.file(baselines, quick);
        final long startNs = System.nanoTime();
        System.out.printf(Locale.ROOT, "performance gate (%s): load %s%n", mode, load());
        if (update)
        {
            return update(groups, runs, baselineFile, mode, reason, startNs);
        }
        if (!Files.exists(baselineFile))
        {
            System.err.println("error: no baseline " + baselineFile + ": record one with scripts/bench gate"
                + (quick ? " --quick" : "") + " --update-baseline --reason TEXT");
            return 1;
        }
        final Baseline baseline = Baseline.read(baselineFile);
        System.out.printf(Locale.ROOT, "baseline %s: %s (recorded %s from %d runs, load then %s)%n", baselineFile,
            baseline.reason, baseline.recorded, baseline.runs, baseline.load);

        final Map<String, Measured> now = new LinkedHashMap<>();
        for (final Group group : groups)
        {
            measureInto(group, now);
        }
        // A failure is reported only when a second measurement of its group confirms it.
        final Set<String> confirming = new LinkedHashSet<>();
        for (final Group group : groups)
        {
            if (failing(baseline, now).stream().anyMatch(group::owns))
            {
                confirming.add(group.name());
            }
        }
        final Map<String, Measured> first = new LinkedHashMap<>(now);
        for (final Group group : groups)
        {
            if (confirming.contains(group.name()))
            {
                System.out.println("gate: " + group.name() + " failed a metric: measuring it again to confirm");
                measureInto(group, now);
            }
        }

        final GateTable table = new GateTable();
        final Set<String> names = new LinkedHashSet<>(baseline.entries.keySet());
        names.addAll(now.keySet());
        for (final String name : names)
        {
            final Baseline.Entry entry = baseline.entries.get(name);
            final Measured m = now.get(name);
            final double value = m == null ? Double.NaN : m.value();
            final boolean rerun = groups.stream().anyMatch(g -> g.owns(name) && confirming.contains(g.name()));
            final boolean firstFailed = entry == null || !entry.accepts(valueOf(first.get(name)));
            String note = "";
            boolean pass = false;
            if (entry == null)
            {
                note = "no baseline: scripts/bench gate" + (quick ? " --quick" : "") + " --update-baseline";
            }
            else if (Double.isNaN(value))
            {
                note = "not measured";
            }
            else
            {
                pass = entry.accepts(value);
                if (!pass)
                {
                    note = rerun ? "confirmed by a re-run" : "";
                }
                else if (rerun && firstFailed)
                {
                    note = String.format(Locale.ROOT, "failed first at %.4g, passed the re-run",
                        valueOf(first.get(name)));
                }
            }
            table.add(new GateTable.Row(name, entry, value, pass, note));
        }

        final double seconds = (System.nanoTime() - startNs) / 1e9;
        System.out.println();
        table.print(System.out);
        final String stamp = stamp("yyyyMMdd-HHmmss");
        Files.createDirectories(results);
        final String prefix = quick ? "gate-quick-" : "gate-";
        final Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("mode", mode);
        settings.put("date", stamp("yyyy-MM-dd HH:mm:ss 'UTC'"));
        settings.put("load", load());
        settings.put("seconds", seconds);
        settings.put("baselineFile", baselineFile.toString());
        settings.put("baselineReason", baseline.reason);
        settings.put("injectedRegressions", injected);
        settings.put("reRunGroups", new ArrayList<>(confirming));
        table.writeJson(results.resolve(prefix + stamp + ".json"), settings);
        table.writeMarkdown(results.resolve(prefix + stamp + ".md"), List.of(
            "mode " + mode + ", " + settings.get("date") + ", load " + load(),
            "baseline: " + baselineFile + " (" + baseline.reason + ")",
            injected.isEmpty() ? "no injected regression" : "INJECTED REGRESSIONS: " + injected));
        table.writeJUnit(results.resolve(prefix + stamp + ".xml"), seconds);
        System.out.println();
        System.out.println("results: " + results.resolve(prefix + stamp) + ".{json,md,xml}");
        System.out.printf(Locale.ROOT, "gate took %.1f s%n", seconds);
        final List<String> failed = table.failures();
        if (!failed.isEmpty())
        {
            System.out.println("gate: FAILED: " + String.join(", ", failed));
            return 1;
        }
        System.out.println("gate: passed (" + table.rows().size() + " metrics)");
        return 0;
    }

    private static int update(final List<Group> groups, final int runs, final Path file, final String mode,
        final String reason, final long startNs) throws Exception
    {
        final List<List<Measured>> all = new ArrayList<>();
        for (int r = 1; r <= runs; r++)
        {
            System.out.printf(Locale.ROOT, "recording run %d of %d ...%n", r, runs);
            final Map<String, Measured> run = new LinkedHashMap<>();
            for (final Group group : groups)
            {
                measureInto(group, run);
            }
            all.add(new ArrayList<>(run.values()));
        }
        final Baseline baseline = Baseline.derive(all, reason, stamp("yyyy-MM-dd HH:mm 'UTC'"), load());
        Files.createDirectories(file.toAbsolutePath().getParent());
        baseline.write(file, mode);
        System.out.printf(Locale.ROOT, "%n%-42s %14s %8s %14s%n", "metric", "baseline", "spread", "tolerance");
        baseline.entries.forEach((name, e) -> System.out.printf(Locale.ROOT, "%-42s %14.6g %7.2f%% %14s%n", name,
            e.value(), 100 * e.spread(), e.describe()));
        System.out.printf(Locale.ROOT, "%nwrote %s (%d runs, %.1f s): %s%n", file, runs,
            (System.nanoTime() - startNs) / 1e9, reason);
        return 0;
    }

    private static List<Group> groups(final boolean quick)
    {
        final List<String> workloadPrefixes = WorkloadMetrics.WORKLOADS.stream().map(w -> w + ".").toList();
        return List.of(
            new Group("workloads", workloadPrefixes,
                () -> new WorkloadMetrics(quick ? 4L << 20 : 16L << 20).measure()),
            new Group("excache", List.of("excache."),
                () -> List.of(new HitRatio(quick ? 16 << 20 : 64 << 20, quick ? 15 : 21, quick ? 256 : 512).measure())),
            new Group("fabric", List.of("fabric."), () -> new FabricRatios(quick ? 7 : 11, quick ? 300 : 1000).measure()));
    }

    /** Measure a group; if it fails, say why: its metrics stay unmeasured (and fail). */
    private static void measureInto(final Group group, final Map<String, Measured> into)
    {
        final long t0 = System.nanoTime();
        try
        {
            for (final Measured m : group.measure().call())
            {
                into.put(m.name(), m);
            }
            System.out.printf(Locale.ROOT, "  %s measured in %.1f s%n", group.name(), (System.nanoTime() - t0) / 1e9);
        }
        catch (final Exception ex)
        {
            System.err.println("error: " + group.name() + " could not be measured: " + ex);
            into.keySet().removeIf(group::owns);
        }
    }

    private static List<String> failing(final Baseline baseline, final Map<String, Measured> now)
    {
        final List<String> failing = new ArrayList<>();
        final Set<String> names = new LinkedHashSet<>(baseline.entries.keySet());
        names.addAll(now.keySet());
        for (final String name : names)
        {
            final Baseline.Entry entry = baseline.entries.get(name);
            if (entry == null || !entry.accepts(valueOf(now.get(name))))
            {
                failing.add(name);
            }
        }
        return failing;
    }

    private static double valueOf(final Measured m)
    {
        return m == null ? Double.NaN : m.value();
    }

    private static String stamp(final String pattern)
    {
        return ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern(pattern, Locale.ROOT));
    }

    /** The machine's load averages (1, 5, 15 minutes), as uptime prints them. */
    static String load()
    {
        try
        {
            final String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + ", " + f[1] + ", " + f[2] + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
        }
        catch (final Exception ex)
        {
            return "unknown";
        }
    }

    private static int usageError(final String message)
    {
        System.err.println("error: " + message);
        System.err.println(USAGE);
        return 2;
    }
}
