package dev.splitkernel.cli;

import java.util.concurrent.TimeUnit;

/**
 * Adaptive repeats of the main job: whether a workload runs another whole round (every cell once, its local runs
 * interleaved) after its minimum rounds. A pure rule over what the job measured, so it is tested without running
 * anything.
 * <p>
 * Every workload first runs its minimum rounds. Then the job's budget left goes to the workloads with a cell whose
 * 95% half-width (over its median) is above the target, a whole round each in turn (the fewest rounds first): a
 * workload stops when every cell is within the target, when it has had its maximum rounds, or when one more round
 * (estimated as the longest of its rounds so far) would end the job past its budget. Spending what is left only after
 * every workload's minimum rounds keeps the job within its budget (the minimum rounds' time is not known before they
 * run). In turn, not the widest first: the widest, tf's, took all of one job's extra rounds and stayed wide (the
 * machine's drift), while a round or two more would have narrowed wordcount's cells.
 * <p>
 * Immutable.
 */
final class RepeatPolicy
{
    /** The target: every cell's half-width at most 5% of its median. */
    static final double DEFAULT_TARGET_HALF_WIDTH = 0.05;

    /** Without {@code --max-repeat}: at most this many times the minimum rounds. */
    static final int DEFAULT_MAX_REPEAT_FACTOR = 6;

    /** The main job's time on this 2-core machine is to stay within 10 minutes. */
    static final long DEFAULT_BUDGET_NS = TimeUnit.MINUTES.toNanos(10);

    /** {@code --budget none}. */
    static final long NO_BUDGET = -1;

    /** Why a workload's rounds ended; {@link #NONE} while it runs another. */
    enum Stop
    {
        /** Not stopped: run another round. */
        NONE("another round"),
        /** Adaptive repeats off: exactly the minimum rounds, as before them. */
        OFF("adaptive off"),
        /** Every cell's half-width within the target. */
        TARGET_MET("target met"),
        /** The cap on rounds reached. */
        MAX_REPEAT("max repeat"),
        /** One more round would end the job past its budget. */
        BUDGET("budget");

        private final String label;

        Stop(final String label)
        {
            this.label = label;
        }

        /** The reason as the report and the JSON's {@code stoppedBecause} say it. */
        String label()
        {
            return label;
        }
    }

    /** A workload's rounds: how many ran and why they ended. */
    record Outcome(int rounds, Stop stop)
    {
    }

    private final int minRounds;
    private final int maxRounds;
    private final double targetHalfWidth;
    private final long budgetNs;

    /**
     * @param minRounds       {@code --repeat}: rounds every workload runs.
     * @param maxRounds       {@code --max-repeat}: at least {@code minRounds}.
     * @param targetHalfWidth the half-width over the median to reach (0.05 = 5%); 0 turns adaptive repeats off.
     * @param budgetNs        the job's time budget, or {@link #NO_BUDGET}.
     */
    RepeatPolicy(final int minRounds, final int maxRounds, final double targetHalfWidth, final long budgetNs)
    {
        if (minRounds < 1 || maxRounds < minRounds || !(targetHalfWidth >= 0) ||
            (budgetNs < 0 && budgetNs != NO_BUDGET))
        {
            throw new IllegalArgumentException("rounds " + minRounds + ".." + maxRounds + ", target " +
                targetHalfWidth + ", budget " + budgetNs + " ns");
        }
        this.minRounds = minRounds;
        this.maxRounds = maxRounds;
        this.targetHalfWidth = targetHalfWidth;
        this.budgetNs = budgetNs;
    }

    boolean isAdaptive()
    {
        return targetHalfWidth > 0;
    }

    double targetHalfWidth()
    {
        return targetHalfWidth;
    }

    int minRounds()
    {
        return minRounds;
    }

    int maxRounds()
    {
        return maxRounds;
    }

    long budgetNs()
    {
        return budgetNs;
    }

    /**
     * Whether a workload runs another round, or why it stops.
     *
     * @param rounds     rounds of the workload done.
     * @param halfWidths each of its cells' 95% half-width over the median (infinite without an interval: under 6
     *                   samples).
     * @param elapsedNs  the job's time so far.
     * @param roundNs    the time one more round may take: the longest of its rounds so far (with the mean, a
     *                   job ended 0.8 s past its 600 s).
     * @return {@link Stop#NONE} for another round, else why not.
     */
    Stop next(final int rounds, final double[] halfWidths, final long elapsedNs, final long roundNs)
    {
        if (rounds < minRounds)
        {
            return Stop.NONE;
        }
        if (!isAdaptive())
        {
            return Stop.OFF;
        }
        if (withinTarget(halfWidths))
        {
            return Stop.TARGET_MET;
        }
        if (rounds >= maxRounds)
        {
            return Stop.MAX_REPEAT;
        }
        if (budgetNs != NO_BUDGET && budgetNs - elapsedNs - roundNs < 0)
        {
            return Stop.BUDGET;
        }
        return Stop.NONE;
    }

    /** The widest of {@code halfWidths} (infinite or NaN ranks widest: a cell without an interval). */
    static double widest(final double[] halfWidths)
    {
        double widest = 0;
        for (final double h : halfWidths)
        {
            widest = Double.isNaN(h) ? Double.POSITIVE_INFINITY : Math.max(widest, h);
        }
        return widest;
    }

    /** True when every half-width is at most the target (NaN or infinite is not). */
    boolean withinTarget(final double[] halfWidths)
    {
        for (final double h : halfWidths)
        {
            if (!(h <= targetHalfWidth))
            {
                return false;
            }
        }
        return true;
    }
}
