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
                1_000_000_000L, 0, 100, 10, 1, 0, 0, 10, 0, 0));
        }
        return runs;
    }

    @Test
    void shouldNameTheWidestIntervalAndCountTheCellsWithinTheTarget()
    {
        final List<RunResult> results = new ArrayList<>(runs("steady", 2.00, 2.01, 1.99, 2.00, 2.00));
        // Mean 2, sample sd sqrt(0.5), n 5: half-width 2.776 * 0.7071 / sqrt(5) = 0.878, 43.9% of the median 2.
        results.addAll(runs("noisy", 1.0, 2.0, 2.0, 2.0, 3.0));
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunReport.printHalfWidthSummary(new PrintStream(bytes, true, StandardCharsets.UTF_8), RunReport.cells(results));
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("widest 43.9% of the median (noisy 25.0% account), 1 of 2 cells within 5%"), text);
    }
}
