package dev.splitkernel.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplesTest
{
    @Test
    void shouldGiveMedianOfOddAndEvenCounts()
    {
        assertEquals(3.0, Samples.of(5, 1, 3).median());
        assertEquals(2.5, Samples.of(4, 1, 3, 2).median());
    }

    @Test
    void shouldKeepSamplesInTheOrderTaken()
    {
        assertArrayEquals(new double[]{5, 1, 3}, Samples.of(5, 1, 3).values());
    }

    @Test
    void shouldComputeStudentTConfidenceInterval()
    {
        // 10, 12, 14, 16, 18: mean 14, s = sqrt(10), t(4) = 2.776 -> half-width 2.776 * sqrt(10) / sqrt(5).
        final Samples s = Samples.of(10, 12, 14, 16, 18);
        assertEquals(14.0, s.mean(), 1e-12);
        assertEquals(Math.sqrt(10), s.stddev(), 1e-12);
        final double expected = 2.776 * Math.sqrt(10) / Math.sqrt(5);
        assertEquals(expected, s.ciHalfWidth95(), 1e-9);
        assertEquals(14 - expected, s.ciLow95(), 1e-9);
        assertEquals(8.0 / 14, s.relativeSpread(), 1e-12);
    }

    @Test
    void shouldApproachNormalQuantileForManyDegreesOfFreedom()
    {
        assertEquals(2.042, Samples.t975(30), 1e-9);
        assertEquals(2.021, Samples.t975(40), 2e-3);
        assertEquals(1.984, Samples.t975(100), 2e-3);
        assertTrue(Samples.t975(31) < Samples.t975(30));
    }

    @Test
    void shouldGiveNoIntervalForOneSample()
    {
        assertEquals(Double.POSITIVE_INFINITY, Samples.of(2.0).ciHalfWidth95());
        assertEquals(0.0, Samples.of(2.0).stddev());
    }

    @Test
    void shouldRefuseNoSamplesAndNonFiniteOnes()
    {
        assertThrows(IllegalArgumentException.class, Samples::of);
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> Samples.of(1.0, Double.NaN));
        assertTrue(ex.getMessage().contains("NaN"), ex.getMessage());
    }

    @Test
    void shouldPrintNoIntervalForOneSample()
    {
        assertEquals("(one run)", Samples.of(2.0).interval95Text());
        assertEquals("-", Samples.of(2.0).relativeCiHalfWidth95Text());
        // Five samples: min..max, which covers the median with 93.75% only: no 95% half-width.
        assertEquals("10.00..18.00 93%", Samples.of(10, 12, 14, 16, 18).interval95Text());
        assertEquals("-", Samples.of(10, 12, 14, 16, 18).relativeCiHalfWidth95Text());
        assertEquals("10.00..20.00", Samples.of(10, 12, 14, 16, 18, 20).interval95Text());
        assertEquals("33.3%", Samples.of(10, 12, 14, 16, 18, 20).relativeCiHalfWidth95Text());
    }

    @Test
    void shouldGiveTheBinomialCoverageOfOrderStatistics()
    {
        assertEquals(1 - 2 / 32.0, Samples.medianCoverage(5, 1), 1e-12);
        assertEquals(1 - 2 / 64.0, Samples.medianCoverage(6, 1), 1e-12);
        assertEquals(1 - 2 * (1 + 9) / 512.0, Samples.medianCoverage(9, 2), 1e-12);
        assertEquals(1 - 2 * (1 + 10 + 45) / 1024.0, Samples.medianCoverage(10, 3), 1e-12);
        assertEquals(1 - 2 * (1 + 12 + 66) / 4096.0, Samples.medianCoverage(12, 3), 1e-12);
        assertTrue(Samples.medianCoverage(1000, 1) > 0.999999);
    }

    @Test
    void shouldTakeTheInnermostOrderStatisticsWithAtLeast95PercentForTheMedian()
    {
        // n = 9: [x(2), x(8)] covers 96.1%, [x(3), x(7)] only 82%.
        final Samples nine = Samples.of(9, 1, 8, 2, 7, 3, 6, 4, 5);
        assertEquals(2.0, nine.medianCiLow95());
        assertEquals(8.0, nine.medianCiHigh95());
        assertEquals(1 - 20 / 512.0, nine.medianCiCoverage(), 1e-12);
        assertEquals(3.0 / 5, nine.relativeCiHalfWidth95(), 1e-12);
        // n = 10: [x(2), x(9)] (97.9%; x(3)..x(8) would be 89.1%).
        final Samples ten = Samples.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        assertEquals(2.0, ten.medianCiLow95());
        assertEquals(9.0, ten.medianCiHigh95());
        // n = 12: [x(3), x(10)] (96.1%).
        final Samples twelve = Samples.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        assertEquals(3.0, twelve.medianCiLow95());
        assertEquals(10.0, twelve.medianCiHigh95());
        assertTrue(twelve.medianCiCoverage() >= 0.95);
    }

    @Test
    void shouldNotLetOneFarOutlierWidenTheMediansInterval()
    {
        // Eight samples near 10 and one thrown far off by a burst of load: the mean's interval is about 23% of the
        // median either side, the median's (x(2)..x(8) of nine) stays within 1%.
        final Samples s = Samples.of(10.0, 10.1, 9.9, 10.05, 9.95, 10.02, 9.98, 10.0, 30.0);
        assertTrue(s.ciHalfWidth95() / s.median() > 0.2, "mean's " + s.ciHalfWidth95());
        assertTrue(s.relativeCiHalfWidth95() < 0.01, "median's " + s.relativeCiHalfWidth95());
    }

    @Test
    void shouldGiveTheMediansIntervalOnlyFromSixSamples()
    {
        assertTrue(Samples.of(1, 2, 3, 4, 5).relativeCiHalfWidth95() == Double.POSITIVE_INFINITY);
        assertTrue(Samples.of(1, 2, 3, 4, 5, 6).hasMedianCi95());
        assertEquals(1.0, Samples.of(1, 2, 3, 4, 5).medianCiLow95());
        assertEquals(5.0, Samples.of(1, 2, 3, 4, 5).medianCiHigh95());
    }
}
