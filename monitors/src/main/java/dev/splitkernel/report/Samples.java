package dev.splitkernel.report;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Repeated measurements of one quantity (a run time, a slowdown): median, spread and a 95% confidence interval of
 * the mean (Student's t, so it is honest for the handful of repeats a benchmark can afford).
 * <p>
 * Thread-safe: immutable.
 */
public final class Samples
{
    /** Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom. */
    private static final double[] T_975 = {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042 };

    private final double[] values;
    private final double[] sorted;

    private Samples(final double[] values)
    {
        this.values = values;
        this.sorted = values.clone();
        Arrays.sort(sorted);
    }

    /** @throws IllegalArgumentException when there is no sample or one is not a finite number. */
    public static Samples of(final double... values)
    {
        if (values.length == 0)
        {
            throw new IllegalArgumentException("no samples");
        }
        for (final double v : values)
        {
            if (!Double.isFinite(v))
            {
                throw new IllegalArgumentException("sample " + v + " is not a finite number");
            }
        }
        return new Samples(values.clone());
    }

    public static Samples of(final List<? extends Number> values)
    {
        return of(values.stream().mapToDouble(Number::doubleValue).toArray());
    }

    /** The samples in the order they were taken. */
    public double[] values()
    {
        return values.clone();
    }

    public int count()
    {
        return values.length;
    }

    public double min()
    {
        return sorted[0];
    }

    public double max()
    {
        return sorted[sorted.length - 1];
    }

    public double median()
    {
        final int n = sorted.length;
        return (n & 1) == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public double mean()
    {
        double sum = 0;
        for (final double v : values)
        {
            sum += v;
        }
        return sum / values.length;
    }

    /** Sample standard deviation (n - 1); 0 for a single sample. */
    public double stddev()
    {
        final int n = values.length;
        if (n < 2)
        {
            return 0.0;
        }
        final double mean = mean();
        double squares = 0;
        for (final double v : values)
        {
            squares += (v - mean) * (v - mean);
        }
        return Math.sqrt(squares / (n - 1));
    }

    /** (max - min) / median: the whole range of the samples relative to their middle. */
    public double relativeSpread()
    {
        final double median = median();
        return median == 0 ? 0.0 : (max() - min()) / Math.abs(median);
    }

    /** Half-width of the 95% confidence interval of the mean; infinite for a single sample (no interval). */
    public double ciHalfWidth95()
    {
        final int n = values.length;
        return n < 2 ? Double.POSITIVE_INFINITY : t975(n - 1) * stddev() / Math.sqrt(n);
    }

    public double ciLow95()
    {
        return mean() - ciHalfWidth95();
    }

    public double ciHigh95()
    {
        return mean() + ciHalfWidth95();
    }

    /** The confidence interval's half-width over the median (0.05 = "within 5%"). */
    public double relativeCiHalfWidth95()
    {
        final double median = median();
        return median == 0 ? Double.POSITIVE_INFINITY : ciHalfWidth95() / Math.abs(median);
    }

    /** The 95% interval as "LOW..HIGH" for a table, or "(one run)": a single sample has none. */
    public String interval95Text()
    {
        return values.length < 2 ? "(one run)" : String.format(Locale.ROOT, "%.2f..%.2f", ciLow95(), ciHigh95());
    }

    /** The half-width in percent of the median for a table, or "-" for a single sample. */
    public String relativeCiHalfWidth95Text()
    {
        return values.length < 2 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * relativeCiHalfWidth95());
    }

    /** Every sample and the summaries, for a JSON report (an infinite half-width is written as null). */
    public Map<String, Object> toMap()
    {
        final Map<String, Object> map = new LinkedHashMap<>();
        map.put("median", median());
        map.put("mean", mean());
        map.put("stddev", stddev());
        map.put("min", min());
        map.put("max", max());
        map.put("ci95Low", ciLow95());
        map.put("ci95High", ciHigh95());
        map.put("ci95HalfWidthOfMedian", relativeCiHalfWidth95());
        map.put("samples", Arrays.stream(values).boxed().toList());
        return map;
    }

    /** The 97.5% quantile of Student's t with {@code df} degrees of freedom (Cornish-Fisher beyond the table). */
    static double t975(final int df)
    {
        if (df < 1)
        {
            throw new IllegalArgumentException("degrees of freedom " + df + " < 1");
        }
        if (df <= T_975.length)
        {
            return T_975[df - 1];
        }
        final double z = 1.959964;
        final double z3 = z * z * z;
        final double z5 = z3 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df);
    }

    @Override
    public String toString()
    {
        return String.format(java.util.Locale.ROOT, "%.4g (95%% CI %.4g..%.4g, n=%d)", median(), ciLow95(),
            ciHigh95(), count());
    }
}
