package dev.splitkernel.cli;

import dev.splitkernel.cli.RepeatPolicy.Stop;
import org.junit.jupiter.api.Test;

import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RepeatPolicyTest
{
    private static final long S = 1_000_000_000L;
    private static final double INF = Double.POSITIVE_INFINITY;

    /** A job's policy: 6 rounds at least, 36 at most, 5%, 10 minutes. */
    private final RepeatPolicy policy = new RepeatPolicy(6, 36, 0.05, 600 * S);

    @Test
    void shouldStopAtTheMinimumRoundsWhenEveryCellIsWithinTheTarget()
    {
        assertEquals(Stop.TARGET_MET, policy.next(6, new double[]{0.033, 0.021, 0.05}, 400 * S, 7 * S));
        assertEquals(6, rounds(policy, r -> new double[]{0.033, 0.021, 0.05}, 400 * S, 7 * S).rounds());
    }

    @Test
    void shouldAlwaysRunTheMinimumRounds()
    {
        // Narrow cells or none, the budget spent: the --repeat rounds run as before adaptive repeats.
        assertEquals(Stop.NONE, policy.next(5, new double[]{0.01}, 900 * S, 7 * S));
        assertEquals(Stop.NONE, policy.next(0, new double[0], 900 * S, 0));
    }

    @Test
    void shouldRunAnotherRoundWhileOneCellIsAboveTheTarget()
    {
        assertEquals(Stop.NONE, policy.next(6, new double[]{0.033, 0.087, 0.04}, 400 * S, 7 * S));
        // Narrowing after 3 extra rounds: stops there, target met.
        assertEquals(new RepeatPolicy.Outcome(9, Stop.TARGET_MET),
            rounds(policy, r -> new double[]{0.03, r < 9 ? 0.087 : 0.049}, 400 * S, 7 * S));
    }

    @Test
    void shouldTakeACellWithoutAnIntervalAsAboveTheTarget()
    {
        final RepeatPolicy fromTwo = new RepeatPolicy(2, 10, 0.05, RepeatPolicy.NO_BUDGET);
        assertEquals(Stop.NONE, fromTwo.next(2, new double[]{INF, 0.01}, 0, S));
        assertEquals(Stop.NONE, fromTwo.next(2, new double[]{Double.NaN}, 0, S));
    }

    @Test
    void shouldStopAtTheCapOnRounds()
    {
        final RepeatPolicy unbounded = new RepeatPolicy(6, 36, 0.05, RepeatPolicy.NO_BUDGET);
        assertEquals(Stop.NONE, unbounded.next(35, new double[]{0.2}, 10_000 * S, 7 * S));
        assertEquals(Stop.MAX_REPEAT, unbounded.next(36, new double[]{0.2}, 10_000 * S, 7 * S));
        assertEquals(new RepeatPolicy.Outcome(36, Stop.MAX_REPEAT),
            rounds(unbounded, r -> new double[]{0.2}, 0, 7 * S));
        // Met at the cap: met.
        assertEquals(Stop.TARGET_MET, unbounded.next(36, new double[]{0.05}, 0, 7 * S));
    }

    @Test
    void shouldStopWhenOneMoreRoundWouldEndTheJobPastItsBudget()
    {
        // 600 s budget, 7 s rounds: 593 s spent leaves room for one more, 594 s does not.
        assertEquals(Stop.NONE, policy.next(11, new double[]{0.2}, 593 * S, 7 * S));
        assertEquals(Stop.BUDGET, policy.next(11, new double[]{0.2}, 594 * S, 7 * S));
        // 400 s in after the minimum rounds: 28 rounds of 7 s fit, the 29th does not.
        assertEquals(new RepeatPolicy.Outcome(6 + 28, Stop.BUDGET),
            rounds(policy, r -> new double[]{0.2}, 400 * S, 7 * S));
        // Past the budget already (the minimum rounds ran long): not one extra round.
        assertEquals(Stop.BUDGET, policy.next(6, new double[]{0.2}, 650 * S, 7 * S));
    }

    @Test
    void shouldRankACellWithoutAnIntervalWidest()
    {
        assertEquals(0.087, RepeatPolicy.widest(new double[]{0.03, 0.087, 0.04}), 0);
        assertEquals(INF, RepeatPolicy.widest(new double[]{0.03, Double.NaN}), 0);
        assertEquals(INF, RepeatPolicy.widest(new double[]{INF, 0.2}), 0);
    }

    @Test
    void shouldRunExactlyTheMinimumRoundsWhenAdaptiveRepeatsAreOff()
    {
        final RepeatPolicy off = new RepeatPolicy(9, 27, 0, RepeatPolicy.NO_BUDGET);
        assertEquals(Stop.OFF, off.next(9, new double[]{0.2, INF}, 0, 7 * S));
        assertEquals(new RepeatPolicy.Outcome(9, Stop.OFF), rounds(off, r -> new double[]{0.2}, 0, 7 * S));
    }

    @Test
    void shouldRefuseACapBelowTheMinimum()
    {
        assertThrows(IllegalArgumentException.class, () -> new RepeatPolicy(9, 8, 0.05, 600 * S));
        assertThrows(IllegalArgumentException.class, () -> new RepeatPolicy(9, 9, -0.05, 600 * S));
    }

    /**
     * Drives the policy for one workload: its minimum rounds end {@code elapsedNs} into the job, then a round of
     * {@code roundNs} at a time, its cells' half-widths after {@code r} rounds from {@code halfWidthsAfter}.
     */
    private static RepeatPolicy.Outcome rounds(final RepeatPolicy policy, final IntFunction<double[]> halfWidthsAfter,
        final long elapsedNs, final long roundNs)
    {
        long now = elapsedNs;
        for (int r = policy.minRounds(); r < 10_000; r++)
        {
            final Stop stop = policy.next(r, halfWidthsAfter.apply(r), now, roundNs);
            if (stop != Stop.NONE)
            {
                return new RepeatPolicy.Outcome(r, stop);
            }
            now += roundNs;
        }
        throw new AssertionError("no stop in 10,000 rounds");
    }
}
