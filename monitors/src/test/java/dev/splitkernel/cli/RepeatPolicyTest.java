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

    /** The default job's policy: 9 rounds at least, 27 at most, 5%, 10 minutes. */
    private final RepeatPolicy policy = new RepeatPolicy(9, 27, 0.05, 600 * S);

    @Test
    void shouldStopAtTheMinimumRoundsWhenEveryCellIsWithinTheTarget()
    {
        assertEquals(Stop.TARGET_MET, policy.next(9, new double[]{0.033, 0.021, 0.05}, 0, 7 * S, 130 * S));
        assertEquals(9, rounds(policy, r -> new double[]{0.033, 0.021, 0.05}, 7 * S, 130 * S).rounds());
    }

    @Test
    void shouldAlwaysRunTheMinimumRounds()
    {
        // Wide cells or none, no budget left: the --repeat rounds run as before adaptive repeats.
        assertEquals(Stop.NONE, policy.next(8, new double[]{0.01}, 0, 7 * S, 0));
        assertEquals(Stop.NONE, policy.next(0, new double[0], 0, 0, 0));
    }

    @Test
    void shouldRunAnotherRoundWhileOneCellIsAboveTheTarget()
    {
        assertEquals(Stop.NONE, policy.next(9, new double[]{0.033, 0.087, 0.04}, 0, 7 * S, 130 * S));
        // Narrowing after 3 extra rounds: stops there, target met.
        final RepeatPolicy.Outcome outcome = rounds(policy, r -> new double[]{0.03, r < 12 ? 0.087 : 0.049},
            7 * S, 130 * S);
        assertEquals(new RepeatPolicy.Outcome(12, Stop.TARGET_MET), outcome);
    }

    @Test
    void shouldTakeACellWithoutAnIntervalAsAboveTheTarget()
    {
        final RepeatPolicy fromTwo = new RepeatPolicy(2, 10, 0.05, RepeatPolicy.NO_BUDGET);
        assertEquals(Stop.NONE, fromTwo.next(2, new double[]{INF, 0.01}, 0, S, Long.MAX_VALUE));
        assertEquals(Stop.NONE, fromTwo.next(2, new double[]{Double.NaN}, 0, S, Long.MAX_VALUE));
    }

    @Test
    void shouldStopAtTheCapOnRounds()
    {
        assertEquals(Stop.NONE, policy.next(26, new double[]{0.2}, 0, 7 * S, Long.MAX_VALUE));
        assertEquals(Stop.MAX_REPEAT, policy.next(27, new double[]{0.2}, 0, 7 * S, Long.MAX_VALUE));
        assertEquals(new RepeatPolicy.Outcome(27, Stop.MAX_REPEAT),
            rounds(policy, r -> new double[]{0.2}, 7 * S, Long.MAX_VALUE));
        // Met at the cap: met.
        assertEquals(Stop.TARGET_MET, policy.next(27, new double[]{0.05}, 0, 7 * S, Long.MAX_VALUE));
    }

    @Test
    void shouldStopWhenOneMoreRoundWouldNotFitTheWorkloadsShareOfTheBudget()
    {
        // A 20 s share and 7 s rounds: 13 s spent leaves room for one more, 14 s does not.
        assertEquals(Stop.NONE, policy.next(11, new double[]{0.2}, 13 * S, 7 * S, 20 * S));
        assertEquals(Stop.BUDGET, policy.next(11, new double[]{0.2}, 14 * S, 7 * S, 20 * S));
        assertEquals(new RepeatPolicy.Outcome(11, Stop.BUDGET), rounds(policy, r -> new double[]{0.2}, 7 * S, 20 * S));
        // Nothing left: not one extra round.
        assertEquals(Stop.BUDGET, policy.next(9, new double[]{0.2}, 0, 7 * S, 0));
    }

    @Test
    void shouldShareWhatIsLeftOfTheBudgetAmongTheWorkloadsLeft()
    {
        // tf first of four, its 9 rounds done 80 s into a 600 s job: (600 - 80) / 4.
        assertEquals(130 * S, policy.shareNs(80 * S, 4));
        assertEquals(100 * S, policy.shareNs(500 * S, 1));
        assertEquals(0, policy.shareNs(700 * S, 2));
        assertEquals(Long.MAX_VALUE, new RepeatPolicy(9, 27, 0.05, RepeatPolicy.NO_BUDGET).shareNs(700 * S, 2));
    }

    @Test
    void shouldRunExactlyTheMinimumRoundsWhenAdaptiveRepeatsAreOff()
    {
        final RepeatPolicy off = new RepeatPolicy(9, 27, 0, RepeatPolicy.NO_BUDGET);
        assertEquals(Stop.OFF, off.next(9, new double[]{0.2, INF}, 0, 7 * S, Long.MAX_VALUE));
        assertEquals(new RepeatPolicy.Outcome(9, Stop.OFF), rounds(off, r -> new double[]{0.2}, 7 * S, Long.MAX_VALUE));
    }

    @Test
    void shouldRefuseACapBelowTheMinimum()
    {
        assertThrows(IllegalArgumentException.class, () -> new RepeatPolicy(9, 8, 0.05, 600 * S));
        assertThrows(IllegalArgumentException.class, () -> new RepeatPolicy(9, 9, -0.05, 600 * S));
    }

    /**
     * Drives the policy as the run command does: a round of {@code roundNs} at a time, the cells' half-widths after
     * {@code r} rounds from {@code halfWidthsAfter}, the share fixed when the minimum rounds end.
     */
    private static RepeatPolicy.Outcome rounds(final RepeatPolicy policy, final IntFunction<double[]> halfWidthsAfter,
        final long roundNs, final long shareNs)
    {
        long extraNs = 0;
        for (int r = 0; r < 10_000; r++)
        {
            final Stop stop = policy.next(r, halfWidthsAfter.apply(r), extraNs, roundNs, shareNs);
            if (stop != Stop.NONE)
            {
                return new RepeatPolicy.Outcome(r, stop);
            }
            if (r >= policy.minRounds())
            {
                extraNs += roundNs;
            }
        }
        throw new AssertionError("no stop in 10,000 rounds");
    }
}
