package dev.splitkernel.bench.gate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The gate's modelled slowdown: accesses at the model's fixed cost plus the modelled network time, over the former. */
class ModelledSlowdownTest
{
    @Test
    void shouldBeOneWithoutNetworkTime()
    {
        assertEquals(1.0, WorkloadMetrics.modelledSlowdown(1_000, 0), 1e-12);
    }

    @Test
    void shouldAddTheNetworkTimeInUnitsOfTheAccessesModelledCost()
    {
        // 1000 accesses at 20 ns = 20 us of compute; 100 misses at 6.5 us of network = 650 us: 33.5x.
        final double computeNs = 1_000 * WorkloadMetrics.MODEL_ACCESS_NS;
        assertEquals((computeNs + 650_000) / computeNs, WorkloadMetrics.modelledSlowdown(1_000, 650_000), 1e-12);
        assertEquals(33.5, WorkloadMetrics.modelledSlowdown(1_000, 650_000), 1e-12);
    }
}
