package dev.splitkernel.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * One round's reference on local memory: the local twin run K times, spread around that round's splitkernel runs,
 * and the median of their times. A local run is short (0.1 to 0.2 s) and one run varied 9 to 15% from round to
 * round (a compile, a slow spell of the machine), which went whole into the slowdown's interval; the splitkernel side
 * of the same rounds varied 0.3 to 3.6%. Measuring the short quantity K times and taking its median is the design of
 * the measurement, not a selection of samples: every local run is kept in the JSON. The median rather than the
 * mean: the slow runs come one at a time and only upwards, and the median of three ignores one of them entirely.
 */
final class RoundReference
{
    private final List<WorkloadThreads.Outcome> runs = new ArrayList<>();

    void add(final WorkloadThreads.Outcome run)
    {
        runs.add(run);
    }

    int size()
    {
        return runs.size();
    }

    /** Every local run's time: the critical path in CPU time ({@code account}) or the wall clock. */
    List<Long> runsNs(final boolean account)
    {
        return runs.stream().map(r -> account ? r.criticalPathNs() : r.wallNs()).toList();
    }

    /** The reference: the median of {@link #runsNs} (of an even count, the mean of the middle two). */
    long ns(final boolean account)
    {
        return median(runsNs(account));
    }

    /** What the JVM and kernel did during all of the round's local runs, summed. */
    JvmActivity activity()
    {
        long gc = 0;
        long jit = 0;
        long minor = 0;
        long major = 0;
        for (final WorkloadThreads.Outcome r : runs)
        {
            gc += r.activity().gcMs();
            jit += r.activity().jitMs();
            minor += r.activity().minorFaults();
            major += r.activity().majorFaults();
        }
        return new JvmActivity(gc, jit, minor, major);
    }

    static long median(final List<Long> values)
    {
        if (values.isEmpty())
        {
            throw new IllegalStateException("a round's local reference has no run");
        }
        final List<Long> sorted = values.stream().sorted().toList();
        final int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /**
     * How many of a round's {@code k} local runs go just before its {@code i}-th of {@code n} splitkernel runs
     * ({@code i == n}: after the last): spread evenly from before the first to after the last, so a slow spell in
     * any part of the round reaches the reference too (k = 3: before, in the middle, after; k = 1: before, as one
     * run was).
     */
    static int runsAt(final int i, final int n, final int k)
    {
        int count = 0;
        for (int j = 0; j < k; j++)
        {
            final int slot = k == 1 ? 0 : (int)Math.round((double)j * n / (k - 1));
            if (slot == i)
            {
                count++;
            }
        }
        return count;
    }
}
