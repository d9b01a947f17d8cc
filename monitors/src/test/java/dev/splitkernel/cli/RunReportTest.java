package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunReportTest
{
    /** Repeats of one cell whose slowdowns are {@code slowdowns} (run time over a local time of 1 s). */
    private static List<RunResult> runs(final String workload, final double... slowdowns)
    {
        final List<RunResult> runs = new ArrayList<>();
        for (final double s : slowdowns)
        {
            runs.add(new RunResult(workload, "local", "account", 25.0, 1 << 20, 4 << 20, (long)(s * 1e9),
                1_000_000_000L, 0, 100, 10, 1, 0, 0, 10, 0, 0, 0, JvmActivity.NONE, JvmActivity.NONE,
                List.of(1_000_000_000L)));
        }
        return runs;
    }

    @Test
    void shouldNameTheWidestIntervalAndCountTheCellsWithinTheTarget()
    {
        final List<RunResult> results = new ArrayList<>(runs("steady", 2.00, 2.01, 1.99, 2.00, 2.00, 2.02));
        // Six samples: the median's 95% interval is min..max, 1.0..3.0 around a median of 2: half-width 50%.
        results.addAll(runs("noisy", 1.0, 2.0, 2.0, 2.0, 3.0, 2.0));
        final String text = summary(results);
        assertTrue(text.contains("widest 50.0% of the median (noisy 25.0% account), 1 of 2 cells within 5%"), text);
    }

    @Test
    void shouldSayThatFewerThanSixRepeatsHaveNoIntervalOfTheMedian()
    {
        final String text = summary(runs("short", 2.0, 2.1));
        assertTrue(text.contains("no 95% interval of the median with fewer than 6 repeats"), text);
    }

    @Test
    void shouldStateTheRoundsOfEveryWorkloadAndWhyTheCellsAboveTheTargetStopped()
    {
        final List<RunResult> results = new ArrayList<>(runs("steady", 2.00, 2.01, 1.99, 2.00, 2.00, 2.02));
        results.addAll(runs("noisy", 1.0, 2.0, 2.0, 2.0, 3.0, 2.0));
        final Map<String, RepeatPolicy.Outcome> outcomes = Map.of(
            "steady", new RepeatPolicy.Outcome(6, RepeatPolicy.Stop.TARGET_MET),
            "noisy", new RepeatPolicy.Outcome(6, RepeatPolicy.Stop.BUDGET));
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printHalfWidthSummary(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results),
            new TreeMap<>(outcomes), 0.05);
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("rounds per workload: noisy 6 (budget), steady 6 (target met)"), text);
        assertTrue(text.contains("above 5%, and why their rounds stopped: noisy 25.0% account 50.0% (budget)"), text);
        assertFalse(text.contains("steady 25.0% account"), text);
    }

    @Test
    void shouldFlagACellAboveTheTargetInTheTableWithWhyItsRoundsStopped()
    {
        final List<RunResult> results = new ArrayList<>(runs("steady", 2.00, 2.01, 1.99, 2.00, 2.00, 2.02));
        results.addAll(runs("noisy", 1.0, 2.0, 2.0, 2.0, 3.0, 2.0, 2.0));
        final Map<String, RepeatPolicy.Outcome> outcomes = Map.of(
            "steady", new RepeatPolicy.Outcome(6, RepeatPolicy.Stop.TARGET_MET),
            "noisy", new RepeatPolicy.Outcome(7, RepeatPolicy.Stop.MAX_REPEAT));
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printTable(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results), outcomes,
            0.05);
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("within 5%?"), text);
        // n is each cell's repeats: its workload's rounds.
        assertTrue(text.matches("(?s).*\\nsteady .* 6 +2\\.00x .* met +.*"), text);
        assertTrue(text.matches("(?s).*\\nnoisy .* 7 +2\\.00x .* above: max repeat +.*"), text);
        assertEquals("above: failed", RunReport.targetText(RunReport.cells(runs("gone", 1, 2, 3, 4, 5, 6)).get(0),
            Map.of(), 0.05));
    }

    @Test
    void shouldPrintTheTableWhenNoAccessWasCounted()
    {
        // Counting off (splitkernel.stat.count=false) leaves hits and misses 0: the table must still print.
        final List<RunResult> results = new ArrayList<>();
        for (final double s : new double[] {2.0, 2.1, 1.9, 2.0, 2.0, 2.05})
        {
            results.add(new RunResult("uncounted", "local", "account", 25.0, 1 << 20, 4 << 20, (long)(s * 1e9),
                1_000_000_000L, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, JvmActivity.NONE, JvmActivity.NONE,
                List.of(1_000_000_000L)));
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printTable(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results), Map.of(),
            0.05);
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.matches("(?s).*\\nuncounted .* 6 +2\\.00x .* 0\\.00% +0 +0 +0\\.000 .*"), text);
    }

    private static String summary(final List<RunResult> results)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printHalfWidthSummary(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results),
            Map.of(), RunReport.HALF_WIDTH_TARGET);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldSayWhenTheLocalTwinsAloneVaryMoreThanTheTarget()
    {
        // The local side 1.0 s but one round's 1.5 s: 26% of its median, above the 5% target.
        final String varying = summary(twinRuns(1.0, 1.0, 1.02, 0.98, 1.5, 1.0));
        assertTrue(varying.contains("the local twins alone (plain memory, none of Splitkernel's code) have 95% CI "
            + "half-widths above 5%: widest 26.0% (twin)"), varying);
        // Within 2% of its median: nothing to say about the machine.
        final String steady = summary(twinRuns(1.0, 1.0, 1.02, 0.98, 1.01, 1.0));
        assertFalse(steady.contains("local twins alone"), steady);
    }

    /** A cell whose splitkernel side takes 10 s every round and whose local twin takes the given seconds. */
    private static List<RunResult> twinRuns(final double... localSeconds)
    {
        final List<RunResult> results = new ArrayList<>();
        for (final double l : localSeconds)
        {
            results.add(new RunResult("twin", "local", "account", 25.0, 1 << 20, 4 << 20, 10_000_000_000L,
                (long)(l * 1e9), 0, 100, 10, 1, 0, 0, 10, 0, 0, 3_000_000L, new JvmActivity(2, 7, 0, 0),
                new JvmActivity(0, 1, 0, 0), List.of((long)(l * 1e9))));
        }
        return results;
    }

    @Test
    void shouldShowWhichSideOfTheSlowdownVaries()
    {
        // The splitkernel side steady at 10 s, the local side 1.0 s but one round's at 1.5 s: the local side varies.
        final List<RunResult> results = twinRuns(1.0, 1.0, 1.02, 0.98, 1.5, 1.0);
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printVariation(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results));
        final String text = bytes.toString(StandardCharsets.UTF_8);
        // Six samples: half-widths from min..max; run side 0%, local (1.5 - 0.98) / 2 / 1.0 = 26%.
        assertTrue(text.matches("(?s).*twin +account +25\\.0% +\\d+\\.\\d% +0\\.0% +26\\.0% +0\\.003 s +7 +2 +1 +0\\n.*"),
            text);
    }
}
