package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

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

    private static String summary(final List<RunResult> results)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printHalfWidthSummary(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldShowWhichSideOfTheSlowdownVaries()
    {
        // The splitkernel side steady at 10 s, the local side 1.0 s but one round's at 1.5 s: the local side varies.
        final List<RunResult> results = new ArrayList<>();
        final double[] local = {1.0, 1.0, 1.02, 0.98, 1.5, 1.0};
        for (final double l : local)
        {
            results.add(new RunResult("twin", "local", "account", 25.0, 1 << 20, 4 << 20, 10_000_000_000L,
                (long)(l * 1e9), 0, 100, 10, 1, 0, 0, 10, 0, 0, 3_000_000L, new JvmActivity(2, 7, 0, 0),
                new JvmActivity(0, 1, 0, 0), List.of((long)(l * 1e9))));
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printVariation(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results));
        final String text = bytes.toString(StandardCharsets.UTF_8);
        // Six samples: half-widths from min..max; run side 0%, local (1.5 - 0.98) / 2 / 1.0 = 26%.
        assertTrue(text.matches("(?s).*twin +account +25\\.0% +\\d+\\.\\d% +0\\.0% +26\\.0% +0\\.003 s +7 +2 +1 +0\\n.*"),
            text);
    }
}
