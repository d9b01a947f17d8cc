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
        assertEquals(expected / 14, s.relativeCiHalfWidth95(), 1e-9);
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
        assertEquals("10.07..17.93", Samples.of(10, 12, 14, 16, 18).interval95Text());
        assertEquals("28.0%", Samples.of(10, 12, 14, 16, 18).relativeCiHalfWidth95Text());
    }
}
