package dev.splitkernel.bench;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.util.Statistics;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Prints JMH results as a table a person can read, and ratios between results of the same run. A time score is
 * the median for sample mode (latency targets are medians) and the mean otherwise; a ratio is "times slower":
 * numerator over denominator for time, the inverse for throughput.
 */
final class ResultTable
{
    private final List<RunResult> results;

    ResultTable(final Collection<RunResult> results)
    {
        this.results = new ArrayList<>(results);
    }

    void printScores(final PrintStream out)
    {
        out.println();
        out.printf(Locale.ROOT, "%-58s %-34s %6s %14s %12s %12s  %s%n",
            "benchmark", "params", "mode", "score", "p99", "error", "unit");
        for (final RunResult result : results)
        {
            final BenchmarkParams params = result.getParams();
            final Result<?> primary = result.getPrimaryResult();
            final Statistics stats = primary.getStatistics();
            final boolean sample = params.getMode() == Mode.SampleTime;
            out.printf(Locale.ROOT, "%-58s %-34s %6s %14.3f %12s %12.3f  %s%n",
                shortName(params.getBenchmark()),
                paramString(params),
                params.getMode().shortLabel(),
                score(result),
                sample ? String.format(Locale.ROOT, "%.3f", stats.getPercentile(99)) : "-",
                Double.isNaN(primary.getScoreError()) ? 0.0 : primary.getScoreError(),
                primary.getScoreUnit() + (sample ? " (median)" : ""));
        }
    }

    /**
     * Print the ratios, with each target's verdict (met or missed) only when {@code verdicts}: a quick run's figures
     * are too short to judge.
     */
    void printRatios(final PrintStream out, final String suiteName, final List<Ratio> ratios, final boolean verdicts)
    {
        if (ratios.isEmpty())
        {
            return;
        }
        out.println();
        out.printf(Locale.ROOT, "%s ratios (same run):%n", suiteName);
        for (final Ratio ratio : ratios)
        {
            final RunResult num = find(ratio.numerator());
            final double value;
            if (ratio.denominator().startsWith(Ratio.REFERENCE))
            {
                final String name = ratio.denominator().substring(Ratio.REFERENCE.length());
                final String reference = System.getProperty("splitkernel.reference." + name);
                if (num == null || reference == null || num.getParams().getMode() == Mode.Throughput)
                {
                    out.printf(Locale.ROOT, "  %-64s %s%n", ratio.label(),
                        reference == null ? "n/a (reference not measured: see scripts/bench)" : "n/a (not run)");
                    continue;
                }
                value = toMicros(num) / Double.parseDouble(reference);
            }
            else
            {
                final RunResult den = find(ratio.denominator());
                if (num == null || den == null)
                {
                    out.printf(Locale.ROOT, "  %-64s %s%n", ratio.label(), "n/a (not run)");
                    continue;
                }
                value = num.getParams().getMode() == Mode.Throughput ?
                    score(den) / score(num) : score(num) / score(den);
            }
            String verdict = "";
            if (!Double.isNaN(ratio.maxRatio()))
            {
                verdict = verdicts ? String.format(Locale.ROOT, "  target <= %.2f: %s", ratio.maxRatio(),
                    value <= ratio.maxRatio() ? "MET" : "MISSED") : "  (quick run: no verdict)";
            }
            out.printf(Locale.ROOT, "  %-64s %8.2fx%s%n", ratio.label(), value, verdict);
        }
    }

    private static double toMicros(final RunResult result)
    {
        final String unit = result.getPrimaryResult().getScoreUnit();
        final double score = score(result);
        return unit.startsWith("ns/") ? score / 1_000.0 : unit.startsWith("ms/") ? score * 1_000.0 : score;
    }

    private static double score(final RunResult result)
    {
        return result.getParams().getMode() == Mode.SampleTime ?
            result.getPrimaryResult().getStatistics().getPercentile(50) : result.getPrimaryResult().getScore();
    }

    /** Finds "Class.method[:k=v,k=v]" among the results. */
    private RunResult find(final String spec)
    {
        final int colon = spec.indexOf(':');
        final String name = colon < 0 ? spec : spec.substring(0, colon);
        final String[] filters = colon < 0 ? new String[0] : spec.substring(colon + 1).split(",");
        for (final RunResult result : results)
        {
            final BenchmarkParams params = result.getParams();
            if (!params.getBenchmark().endsWith("." + name))
            {
                continue;
            }
            boolean all = true;
            for (final String filter : filters)
            {
                final int eq = filter.indexOf('=');
                final String value = params.getParam(filter.substring(0, eq));
                all &= filter.substring(eq + 1).equals(value);
            }
            if (all)
            {
                return result;
            }
        }
        return null;
    }

    private static String shortName(final String benchmark)
    {
        final String[] parts = benchmark.split("\\.");
        return parts.length < 2 ? benchmark : parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    private static String paramString(final BenchmarkParams params)
    {
        final StringBuilder sb = new StringBuilder();
        for (final String key : new TreeSet<>(params.getParamsKeys()))
        {
            if (sb.length() > 0)
            {
                sb.append(',');
            }
            sb.append(key).append('=').append(params.getParam(key));
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }
}
