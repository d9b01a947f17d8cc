package dev.splitkernel.cli;

import dev.splitkernel.counting.Counting;
import dev.splitkernel.report.ErrorBarPlot;
import dev.splitkernel.report.ReportJson;
import dev.splitkernel.report.Samples;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code run} command's outputs: the table of cells (a workload at one ExCache size over one fabric, repeated)
 * on the console, a JSON file with every sample, and a PNG plot of the median slowdown with its 95% confidence
 * interval against the ExCache size.
 */
final class RunReport
{
    private RunReport()
    {
    }

    /** The repeats of one workload at one ExCache size over one fabric. */
    record Cell(String workload, String fabric, String timing, double sizePercent, long cacheBytes, long workingSetBytes,
        List<RunResult> runs)
    {
        Samples slowdown()
        {
            return Samples.of(runs.stream().map(RunResult::slowdown).toList());
        }

        Samples runSeconds()
        {
            return Samples.of(runs.stream().map(r -> r.runNs() / 1e9).toList());
        }

        Samples localSeconds()
        {
            return Samples.of(runs.stream().map(r -> r.localNs() / 1e9).toList());
        }

        /** Median of a per-run figure (counts vary little between repeats; the JSON keeps each). */
        double median(final java.util.function.ToDoubleFunction<RunResult> figure)
        {
            return Samples.of(runs.stream().mapToDouble(figure).toArray()).median();
        }
    }

    /** Results grouped into cells, in the order their first runs were made. */
    static List<Cell> cells(final List<RunResult> results)
    {
        final Map<String, List<RunResult>> byKey = new LinkedHashMap<>();
        for (final RunResult r : results)
        {
            byKey.computeIfAbsent(r.workload() + '\0' + r.fabric() + '\0' + r.timing() + '\0' + r.sizePercent(), k -> new ArrayList<>())
                .add(r);
        }
        final List<Cell> cells = new ArrayList<>();
        for (final List<RunResult> runs : byKey.values())
        {
            final RunResult first = runs.get(0);
            cells.add(new Cell(first.workload(), first.fabric(), first.timing(), first.sizePercent(), first.cacheBytes(),
                first.workingSetBytes(), List.copyOf(runs)));
        }
        return cells;
    }

    /** Each cell's 95% half-width over its median (infinite under 6 samples), for {@link RepeatPolicy}. */
    static double[] halfWidths(final List<Cell> cells)
    {
        final double[] halfWidths = new double[cells.size()];
        for (int i = 0; i < halfWidths.length; i++)
        {
            halfWidths[i] = cells.get(i).slowdown().relativeCiHalfWidth95();
        }
        return halfWidths;
    }

    /**
     * The table's verdict on a cell against {@code target}: "met" when its half-width is within it, else why its
     * workload's rounds stopped short of it ("max repeat", "budget", "adaptive off"), so a cell left wide says why.
     */
    static String targetText(final Cell cell, final Map<String, RepeatPolicy.Outcome> outcomes, final double target)
    {
        if (cell.slowdown().relativeCiHalfWidth95() <= target)
        {
            return "met";
        }
        final RepeatPolicy.Outcome outcome = outcomes.get(cell.workload());
        return "above: " + (outcome == null ? "failed" : outcome.stop().label());
    }

    /**
     * The cells, a row each; {@code n} is the cell's repeats (its workload's rounds, adaptive ones included) and the
     * target column flags a cell above {@code target} with why its rounds stopped.
     */
    static void printTable(final PrintStream out, final List<Cell> cells,
        final Map<String, RepeatPolicy.Outcome> outcomes, final double target)
    {
        if (!Counting.ON)
        {
            out.println("counting is off (" + Counting.PROP_NAME + "=false, for measuring what counting costs only):"
                + " hit %, misses, write-backs and RT/miss below read 0");
        }
        out.printf(Locale.ROOT, "%-10s %-6s %-7s %10s %7s %3s %9s %17s %7s %-19s %9s %9s %8s %11s %11s %8s %9s %9s%n",
            "workload", "fabric", "timing", "ExCache MB", "% WS", "n", "slowdown", "95% CI", "+-% med",
            "within " + RunCommand.percent(target) + "%?", "run s", "local s", "hit %", "misses", "write-backs",
            "RT/miss", "miss p50", "miss p99");
        for (final Cell c : cells)
        {
            final Samples slowdown = c.slowdown();
            out.printf(Locale.ROOT, "%-10s %-6s %-7s %10.1f %6.1f%% %3d %8.2fx %17s %7s %-19s %9.3f %9.3f %7.2f%% "
                + "%11.0f %11.0f %8.3f %7.1fus %7.1fus%n", c.workload(), c.fabric(), c.timing(),
                c.cacheBytes() / (1024.0 * 1024.0), c.sizePercent(), slowdown.count(), slowdown.median(),
                slowdown.interval95Text(), slowdown.relativeCiHalfWidth95Text(), targetText(c, outcomes, target),
                c.runSeconds().median(), c.localSeconds().median(), 100 * c.median(RunResult::hitRatio),
                c.median(RunResult::misses), c.median(RunResult::writeBacks), c.median(RunResult::roundTripsPerMiss),
                c.median(RunResult::missP50Ns) / 1000.0, c.median(RunResult::missP99Ns) / 1000.0);
        }
    }

    /**
     * With several fabrics: the median of each fabric's run time over the first one's, per workload and ExCache
     * size, measured in the same run (e.g. "random 25.0%: tcp / local = 3.42x").
     */
    static void printFabricRatios(final PrintStream out, final List<Cell> cells)
    {
        final List<String> fabrics = cells.stream().map(Cell::fabric).distinct().toList();
        if (fabrics.size() < 2)
        {
            return;
        }
        out.println();
        for (final Cell base : cells)
        {
            if (!base.fabric().equals(fabrics.get(0)))
            {
                continue;
            }
            for (final Cell other : cells)
            {
                if (other.workload().equals(base.workload()) && other.sizePercent() == base.sizePercent() &&
                    !other.fabric().equals(base.fabric()) && other.timing().equals(timingOf(base, other)))
                {
                    out.printf(Locale.ROOT, "%s %.1f%%: %s / %s = %.2fx%n", base.workload(), base.sizePercent(),
                        other.fabric(), base.fabric(), other.runSeconds().median() / base.runSeconds().median());
                }
            }
        }
    }

    /** The base's cell to compare {@code other} with: over tcp the wall clock is compared with inject, else same. */
    private static String timingOf(final Cell base, final Cell other)
    {
        return "wall".equals(base.timing()) || "wall".equals(other.timing()) ? other.timing() : base.timing();
    }

    /** The CI target: a cell's 95% half-width at most this fraction of its median slowdown. */
    static final double HALF_WIDTH_TARGET = 0.05;

    /**
     * Lines on the confidence intervals of the medians: the widest half-width (in percent of its median) and its
     * cell, how many cells meet {@code target}, the rounds each workload ran and why they stopped, and the cells left
     * above the target with that reason.
     */
    static void printHalfWidthSummary(final PrintStream out, final List<Cell> cells,
        final Map<String, RepeatPolicy.Outcome> outcomes, final double target)
    {
        if (cells.stream().anyMatch(c -> !c.slowdown().hasMedianCi95()))
        {
            out.printf(Locale.ROOT, "%n95%% CI: no 95%% interval of the median with fewer than %d repeats (the "
                + "table shows min..max and its confidence)%n", Samples.MEDIAN_CI_MIN_SAMPLES);
            printRounds(out, outcomes);
            return;
        }
        Cell widest = null;
        int met = 0;
        for (final Cell c : cells)
        {
            final double h = c.slowdown().relativeCiHalfWidth95();
            if (h <= target)
            {
                met++;
            }
            if (widest == null || h > widest.slowdown().relativeCiHalfWidth95())
            {
                widest = c;
            }
        }
        if (widest == null)
        {
            return;
        }
        out.printf(Locale.ROOT, "%n95%% CI half-widths: widest %.1f%% of the median (%s %.1f%% %s), %d of %d cells "
            + "within %s%%%n", 100 * widest.slowdown().relativeCiHalfWidth95(), widest.workload(),
            widest.sizePercent(), widest.timing(), met, cells.size(), RunCommand.percent(target));
        printRounds(out, outcomes);
        final List<String> above = new ArrayList<>();
        for (final Cell c : cells)
        {
            final double h = c.slowdown().relativeCiHalfWidth95();
            if (!(h <= target))
            {
                final RepeatPolicy.Outcome outcome = outcomes.get(c.workload());
                above.add(String.format(Locale.ROOT, "%s %.1f%% %s %.1f%% (%s)", c.workload(), c.sizePercent(),
                    c.timing(), 100 * h, outcome == null ? "failed" : outcome.stop().label()));
            }
        }
        if (!above.isEmpty())
        {
            out.println("above " + RunCommand.percent(target) + "%, and why their rounds stopped: "
                + String.join(", ", above));
        }
        printMachineSpread(out, cells, target);
    }

    /**
     * The local twins run none of Splitkernel's code, so their spread is the machine's own: while a twin's interval
     * is wider than the target, its slowdowns' intervals seldom get narrower, and the user should know that this part
     * of the spread is the machine's, not the emulator's.
     */
    private static void printMachineSpread(final PrintStream out, final List<Cell> cells, final double target)
    {
        Cell widest = null;
        for (final Cell c : cells)
        {
            if (c.localSeconds().hasMedianCi95() && (widest == null ||
                c.localSeconds().relativeCiHalfWidth95() > widest.localSeconds().relativeCiHalfWidth95()))
            {
                widest = c;
            }
        }
        if (widest != null && widest.localSeconds().relativeCiHalfWidth95() > target)
        {
            out.printf(Locale.ROOT, "the local twins alone (plain memory, none of Splitkernel's code) have 95%% CI "
                + "half-widths above %s%%: widest %.1f%% (%s); this machine's own speed moves, and the slowdowns' "
                + "intervals seldom get narrower than their local side's%n", RunCommand.percent(target),
                100 * widest.localSeconds().relativeCiHalfWidth95(), widest.workload());
        }
    }

    /** "rounds: tf 27 (max repeat), ycsb 9 (target met)": every workload's rounds and why they ended. */
    private static void printRounds(final PrintStream out, final Map<String, RepeatPolicy.Outcome> outcomes)
    {
        if (outcomes.isEmpty())
        {
            return;
        }
        final List<String> rounds = new ArrayList<>();
        for (final Map.Entry<String, RepeatPolicy.Outcome> e : outcomes.entrySet())
        {
            rounds.add(e.getKey() + " " + e.getValue().rounds() + " (" + e.getValue().stop().label() + ")");
        }
        out.println("rounds per workload: " + String.join(", ", rounds));
    }

    /**
     * Per cell, which side of the slowdown varies: the 95% half-width (of the median) of the slowdown, of the
     * splitkernel run's time and of the local twin's, with the medians of what the JSON keeps per sample beside the
     * run's own work (the cache's contended waits left out of it, collection and compile time in the process during
     * each side).
     */
    static void printVariation(final PrintStream out, final List<Cell> cells)
    {
        if (cells.isEmpty() || cells.stream().anyMatch(c -> !c.slowdown().hasMedianCi95()))
        {
            return;
        }
        out.printf(Locale.ROOT, "%nwhere the spread is (95%% CI half-width, %% of the median; medians per sample):%n");
        out.printf(Locale.ROOT, "%-10s %-7s %7s %9s %9s %9s %13s %8s %8s %9s %9s%n", "workload", "timing", "% WS",
            "slowdown", "run side", "local", "cache waits", "JIT ms", "GC ms", "local JIT", "local GC");
        for (final Cell c : cells)
        {
            out.printf(Locale.ROOT, "%-10s %-7s %6.1f%% %8.1f%% %8.1f%% %8.1f%% %10.3f s %8.0f %8.0f %9.0f %9.0f%n",
                c.workload(), c.timing(), c.sizePercent(), 100 * c.slowdown().relativeCiHalfWidth95(),
                100 * c.runSeconds().relativeCiHalfWidth95(), 100 * c.localSeconds().relativeCiHalfWidth95(),
                c.median(r -> r.cacheWaitNs() / 1e9), c.median(r -> r.activity().jitMs()),
                c.median(r -> r.activity().gcMs()), c.median(r -> r.localActivity().jitMs()),
                c.median(r -> r.localActivity().gcMs()));
        }
    }

    /**
     * With both timing modes: per cell, the median slowdown in account mode over the one in inject mode, measured in
     * the same run (1.00 = they agree).
     */
    static void printTimingAgreement(final PrintStream out, final List<Cell> cells)
    {
        boolean first = true;
        for (final Cell account : cells)
        {
            if (!"account".equals(account.timing()))
            {
                continue;
            }
            for (final Cell inject : cells)
            {
                if ("inject".equals(inject.timing()) && inject.workload().equals(account.workload()) &&
                    inject.fabric().equals(account.fabric()) && inject.sizePercent() == account.sizePercent())
                {
                    if (first)
                    {
                        out.println();
                        out.println("timing modes (median slowdown, account / inject; 1.00 = they agree):");
                        first = false;
                    }
                    final double ratio = account.slowdown().median() / inject.slowdown().median();
                    out.printf(Locale.ROOT, "%s %.1f%%: %.2fx / %.2fx = %.3f (%s)%n", account.workload(),
                        account.sizePercent(), account.slowdown().median(), inject.slowdown().median(), ratio,
                        Math.abs(ratio - 1) <= 0.10 ? "within 10%" : "more than 10% apart");
                }
            }
        }
    }

    static void writeJson(final Path file, final Map<String, Object> settings, final List<Cell> cells,
        final Map<String, RepeatPolicy.Outcome> outcomes) throws IOException
    {
        final List<Object> cellList = new ArrayList<>();
        for (final Cell c : cells)
        {
            final Map<String, Object> cell = new LinkedHashMap<>();
            cell.put("workload", c.workload());
            cell.put("fabric", c.fabric());
            cell.put("timing", c.timing());
            cell.put("excachePercent", c.sizePercent());
            cell.put("excacheBytes", c.cacheBytes());
            cell.put("workingSetBytes", c.workingSetBytes());
            // Its workload's rounds (one sample each) and why they ended: target met, max repeat, budget.
            final RepeatPolicy.Outcome outcome = outcomes.get(c.workload());
            cell.put("rounds", c.runs().size());
            cell.put("stoppedBecause", outcome == null ? "failed" : outcome.stop().label());
            cell.put("slowdown", c.slowdown());
            cell.put("runSeconds", c.runSeconds());
            cell.put("localSeconds", c.localSeconds());
            final List<Object> runs = new ArrayList<>();
            for (final RunResult r : c.runs())
            {
                final Map<String, Object> run = new LinkedHashMap<>();
                run.put("runSeconds", r.runNs() / 1e9);
                run.put("localSeconds", r.localNs() / 1e9);
                run.put("localRunsSeconds", r.localRunsNs().stream().map(ns -> ns / 1e9).toList());
                run.put("virtualStallSeconds", r.stallNs() / 1e9);
                run.put("slowdown", r.slowdown());
                run.put("hitRatio", r.hitRatio());
                run.put("hits", r.hits());
                run.put("misses", r.misses());
                run.put("writeBacks", r.writeBacks());
                run.put("oneSidedReads", r.oneSided());
                run.put("pLocalFills", r.pLocalFills());
                run.put("roundTrips", r.roundTrips());
                run.put("roundTripsPerMiss", r.roundTripsPerMiss());
                run.put("missP50Ns", r.missP50Ns());
                run.put("missP99Ns", r.missP99Ns());
                // The parts of the sample, to tell a slow one's cause: waits left out, the JVM's and kernel's work.
                if ("account".equals(r.timing()))
                {
                    run.put("criticalCpuSeconds", (r.runNs() - r.stallNs()) / 1e9);
                }
                run.put("cacheWaitSeconds", r.cacheWaitNs() / 1e9);
                run.put("gcMs", r.activity().gcMs());
                run.put("jitMs", r.activity().jitMs());
                run.put("minorFaults", r.activity().minorFaults());
                run.put("majorFaults", r.activity().majorFaults());
                run.put("localGcMs", r.localActivity().gcMs());
                run.put("localJitMs", r.localActivity().jitMs());
                run.put("localMinorFaults", r.localActivity().minorFaults());
                runs.add(run);
            }
            cell.put("runs", runs);
            cellList.add(cell);
        }
        final Map<String, Object> report = new LinkedHashMap<>();
        report.put("settings", settings);
        report.put("cells", cellList);
        ReportJson.write(file, report);
    }

    /** Median slowdown (log scale) with its 95% CI against ExCache size, one line per workload (and fabric). */
    static void writePlot(final Path file, final String title, final List<Cell> cells) throws IOException
    {
        final ErrorBarPlot plot = new ErrorBarPlot(title, "ExCache size (% of working set)",
            "slowdown vs local memory (log)").logY(true);
        final boolean severalFabrics = cells.stream().map(Cell::fabric).distinct().count() > 1;
        final boolean severalTimings = cells.stream().map(Cell::timing).distinct().count() > 1;
        final Map<String, ErrorBarPlot.Series> series = new LinkedHashMap<>();
        for (final Cell c : cells)
        {
            final String name = c.workload() + (severalFabrics ? " (" + c.fabric() + ")" : "")
                + (severalTimings ? " [" + c.timing() + "]" : "");
            series.computeIfAbsent(name, plot::series).add(c.sizePercent(), c.slowdown());
        }
        LegoosComparison.addReferences(plot, cells);
        plot.writePng(file, 960, 600);
    }
}
