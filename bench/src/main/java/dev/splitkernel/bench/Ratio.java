package dev.splitkernel.bench;

/**
 * The score of one benchmark over another's, from the same run. Both are named by a benchmark name suffix
 * (method name, optionally with ":param=value" filters); {@code maxRatio} is the target (NaN when none).
 * A denominator {@code "ref:NAME"} is an outside reference in microseconds (e.g. a Redis GET), measured by
 * {@code scripts/bench} in the same run and passed as system property {@code splitkernel.reference.NAME}.
 *
 * @param label       what the ratio means, for a person.
 * @param numerator   "Class.method" or "Class.method:param=value,param=value".
 * @param denominator as numerator.
 * @param maxRatio    the largest acceptable ratio, or NaN for a report-only comparison.
 */
public record Ratio(String label, String numerator, String denominator, double maxRatio)
{
    public static final String REFERENCE = "ref:";

    public static Ratio report(final String label, final String numerator, final String denominator)
    {
        return new Ratio(label, numerator, denominator, Double.NaN);
    }

    public static Ratio atMost(final String label, final String numerator, final String denominator, final double max)
    {
        return new Ratio(label, numerator, denominator, max);
    }
}
