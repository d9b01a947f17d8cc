package dev.splitkernel.workload;

import java.util.SplittableRandom;

/**
 * Zipf-distributed ranks in [0, n): rank 0 is the most popular. The rejection-free method of Gray et al.
 * ("Quickly generating billion-record synthetic databases", SIGMOD '94), as YCSB uses it; building one costs
 * O(n) once, drawing is O(1) and allocates nothing.
 * <p>
 * Immutable: share one between threads, each with its own random source.
 */
public final class ZipfGenerator
{
    private final long n;
    private final double theta;
    private final double zetaN;
    private final double alpha;
    private final double eta;
    private final double halfPowTheta;

    public ZipfGenerator(final long n, final double theta)
    {
        if (n < 2)
        {
            throw new IllegalArgumentException("zipf needs at least 2 items: " + n);
        }
        if (!(theta > 0 && theta < 1))
        {
            throw new IllegalArgumentException("zipf theta must be in (0, 1): " + theta);
        }
        this.n = n;
        this.theta = theta;
        double zeta = 0;
        for (long i = 1; i <= n; i++)
        {
            zeta += 1.0 / Math.pow(i, theta);
        }
        zetaN = zeta;
        final double zeta2 = 1.0 + 1.0 / Math.pow(2, theta);
        alpha = 1.0 / (1.0 - theta);
        eta = (1.0 - Math.pow(2.0 / n, 1.0 - theta)) / (1.0 - zeta2 / zetaN);
        halfPowTheta = Math.pow(0.5, theta);
    }

    public long items()
    {
        return n;
    }

    public double theta()
    {
        return theta;
    }

    public long next(final SplittableRandom random)
    {
        final double u = random.nextDouble();
        final double uz = u * zetaN;
        if (uz < 1.0)
        {
            return 0;
        }
        if (uz < 1.0 + halfPowTheta)
        {
            return 1;
        }
        final long rank = (long)(n * Math.pow(eta * u - eta + 1.0, alpha));
        return Math.min(rank, n - 1);
    }
}
