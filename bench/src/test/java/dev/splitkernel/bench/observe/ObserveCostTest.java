package dev.splitkernel.bench.observe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObserveCostTest
{
    private static final ObserveCost.Case CASE = new ObserveCost.Case("hit", "x", new String[0], "ns/op mean", 1);

    @Test
    void shouldTakeTheMedianOfThePerRoundRatios()
    {
        assertEquals(1.01, ObserveCost.median(new double[] {0.99, 1.01, 1.02}), 1e-12);
        assertEquals(1.005, ObserveCost.median(new double[] {0.99, 1.0, 1.01, 1.02}), 1e-12);
    }

    @Test
    void shouldJudgeAgainstTwoPercentOnlyWhenTheRoundsAgree()
    {
        assertTrue(ObserveCost.summary(CASE, new double[] {1.01, 1.005, 1.015}, true).endsWith("within 2%"));
        assertTrue(ObserveCost.summary(CASE, new double[] {1.03, 1.025, 1.035}, true).endsWith("OVER 2% (every round)"));
        assertTrue(ObserveCost.summary(CASE, new double[] {1.03, 1.015, 1.035}, true).endsWith("  OVER 2%"));
        assertTrue(ObserveCost.summary(CASE, new double[] {0.63, 1.48, 0.88}, true).contains("no verdict"));
        assertTrue(ObserveCost.summary(CASE, new double[] {1.11, 1.31, 1.26}, true).endsWith("OVER 2% (every round)"));
        final String quick = ObserveCost.summary(CASE, new double[] {1.03, 1.025, 1.035}, false);
        assertFalse(quick.contains("2%") || quick.contains("verdict"), quick);
        assertTrue(quick.contains("median 1.0300") && quick.contains("min 1.0250") && quick.contains("max 1.0350"),
            quick);
    }

    /** From 6 rounds the median's 95% interval decides whether there is a verdict, not one stray round. */
    @Test
    void shouldJudgeByTheMediansIntervalFromSixRounds()
    {
        final String settled = ObserveCost.summary(CASE,
            new double[] {1.12, 0.95, 1.0, 1.005, 1.01, 1.012, 1.015, 1.018, 1.02}, true);
        assertTrue(settled.contains("95% interval 1.0000 to 1.0200") && settled.endsWith("within 2%"), settled);
        final String over = ObserveCost.summary(CASE,
            new double[] {0.97, 1.02, 1.025, 1.03, 1.03, 1.035, 1.04, 1.05, 1.2}, true);
        assertTrue(over.endsWith("  OVER 2%"), over);
        final String wide = ObserveCost.summary(CASE,
            new double[] {1.053, 1.031, 1.045, 1.022, 0.969, 0.954, 1.12, 1.009, 1.009}, true);
        assertTrue(wide.contains("no verdict: the median's 95% interval is wider than 4%"), wide);
    }

    /** --forks wins over a case's default; a quick run forks once. */
    @Test
    void shouldForkAsToldElseTheCasesDefaultAndOnceWhenQuick()
    {
        assertEquals(5, ObserveCost.forksOf(5, 3, false));
        assertEquals(5, ObserveCost.forksOf(5, 3, true));
        assertEquals(3, ObserveCost.forksOf(0, 3, false));
        assertEquals(1, ObserveCost.forksOf(0, 3, true));
    }
}
