package dev.splitkernel.report;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Repeated measurements of one quantity (a run time, a slowdown): median, spread, and two 95% confidence intervals.
 * The one reported beside the median is the median's own, distribution-free interval (two order statistics, chosen
 * by the binomial distribution): it assumes nothing about the samples' distribution, and one sample thrown far off
 * by a burst of load on a shared machine moves it by one rank, not by its distance (it widens a Student's t interval
 * in proportion). It needs 6 samples to reach 95% (5 give at most 93.75%: min..max). The mean's Student's t
 * interval is kept for the JSON.
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

    /** The fewest samples with a 95% distribution-free interval of the median (1 - 2 / 2^6 = 96.9%: min..max). */
    public static final int MEDIAN_CI_MIN_SAMPLES = 6;

    /**
     * The rank k (1-based) of the median's 95% interval [x(k), x(n + 1 - k)] over the sorted samples: the largest k
     * whose coverage, 1 - 2 P(B(n, 1/2) < k), is at least 95%; 1 (min..max) when no k reaches it (n < 6).
     */
    int medianCiRank()
    {
        final int n = sorted.length;
        int k = 1;
        while (k < (n + 1) / 2 && medianCoverage(n, k + 1) >= 0.95)
        {
            k++;
        }
        return k;
    }

    /** Coverage of [x(k), x(n + 1 - k)] as an interval of the median: 1 - 2 P(B(n, 1/2) <= k - 1). */
    static double medianCoverage(final int n, final int k)
    {
        double tail = 0;
        double logTerm = -n * Math.log(2); // log(C(n, 0) / 2^n)
        for (int i = 0; i < k; i++)
        {
            tail += Math.exp(logTerm);
            logTerm += Math.log((double)(n - i) / (i + 1));
        }
        return Math.max(0.0, 1 - 2 * tail);
    }

    /** Whether the samples are enough for a 95% interval of the median (at least {@value #MEDIAN_CI_MIN_SAMPLES}). */
    public boolean hasMedianCi95()
    {
        return sorted.length >= MEDIAN_CI_MIN_SAMPLES;
    }

    /** Low end of the median's distribution-free interval (the minimum when there are under 6 samples). */
    public double medianCiLow95()
    {
        return sorted[medianCiRank() - 1];
    }

    /** High end of the median's distribution-free interval (the maximum when there are under 6 samples). */
    public double medianCiHigh95()
    {
        return sorted[sorted.length - medianCiRank()];
    }

    /** The confidence of the interval {@link #medianCiLow95()}..{@link #medianCiHigh95()}: 95% or more from 6 samples. */
    public double medianCiCoverage()
    {
        return medianCoverage(sorted.length, medianCiRank());
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

    /**
     * Half the median's 95% interval over the median (0.05 = "within 5%"); infinite under 6 samples, which have no
     * 95% interval of the median.
     */
    public double relativeCiHalfWidth95()
    {
        final double median = median();
        return median == 0 || !hasMedianCi95() ? Double.POSITIVE_INFINITY
            : (medianCiHigh95() - medianCiLow95()) / 2 / Math.abs(median);
    }

    /**
     * The median's 95% interval as "LOW..HIGH" for a table; under 6 samples, min..max with its lower confidence
     * ("LOW..HIGH 94%"), and "(one run)" for a single sample.
     */
    public String interval95Text()
    {
        if (values.length < 2)
        {
            return "(one run)";
        }
        final String range = String.format(Locale.ROOT, "%.2f..%.2f", medianCiLow95(), medianCiHigh95());
        return hasMedianCi95() ? range
            : range + String.format(Locale.ROOT, " %.0f%%", Math.floor(100 * medianCiCoverage()));
    }

    /** The half-width in percent of the median for a table, or "-" under 6 samples (no 95% interval). */
    public String relativeCiHalfWidth95Text()
    {
        return !hasMedianCi95() ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * relativeCiHalfWidth95());
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
        map.put("medianCiLow", medianCiLow95());
        map.put("medianCiHigh", medianCiHigh95());
        map.put("medianCiConfidence", medianCiCoverage());
        map.put("medianCiHalfWidthOfMedian", relativeCiHalfWidth95());
        map.put("meanCi95Low", ciLow95());
        map.put("meanCi95High", ciHigh95());
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
        return String.format(java.util.Locale.ROOT, "%.4g (%.1f%% CI %.4g..%.4g, n=%d)", median(),
            100 * medianCiCoverage(), medianCiLow95(), medianCiHigh95(), count());
    }
}
