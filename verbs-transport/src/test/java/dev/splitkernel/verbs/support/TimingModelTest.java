package dev.splitkernel.verbs.support;

import dev.splitkernel.verbs.FabricContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cost arithmetic of the timing model: a latency plus bytes over the bandwidth. */
class TimingModelTest
{
    @Test
    void shouldChargeOneSidedBytesOverTheBandwidth()
    {
        // 1 GB/s: one nanosecond per byte.
        final TimingModel model = new TimingModel(1_000, 2_000, 1_000_000_000L);
        assertEquals(1_000, model.oneSidedNs(0));
        assertEquals(1_000 + 4_096, model.oneSidedNs(4_096));
        assertEquals(1_000 + 1_048_576, model.oneSidedNs(1_048_576));
    }

    @Test
    void shouldChargeAnRpcBothDirectionsBytesOverTheBandwidth()
    {
        final TimingModel model = new TimingModel(1_000, 2_000, 500_000_000L);
        assertEquals(2_000 + 2 * (128 + 4_096), model.rpcNs(128, 4_096));
        assertEquals(2_000 + 2 * 128, model.rpcNs(128, 0));
    }

    @Test
    void shouldChargeLatencyAloneWhenTheBandwidthIsUnlimited()
    {
        final TimingModel model = new TimingModel(1_000, 2_000, 0);
        assertEquals(1_000, model.oneSidedNs(1 << 20));
        assertEquals(2_000, model.rpcNs(1 << 20, 1 << 20));
        assertFalse(model.isFree());
        assertTrue(new TimingModel(0, 0, 0).isFree());
        assertFalse(new TimingModel(0, 0, 1_000_000_000L).isFree(), "a bandwidth alone still costs");
    }

    @Test
    void shouldMatchLegoOsFiguresWithThePresetsBandwidth()
    {
        // rdma-cx3 is calibrated on two published RPC figures: 4.6 us at 128 B and 6.5 us at 4 KB.
        final TimingModel cx3 = new TimingModel(new FabricContext().fabric("local").timing("rdma-cx3").conclude());
        assertEquals(6_500, cx3.oneSidedNs(4_096), 25);
        final TimingModel cx6 = new TimingModel(new FabricContext().fabric("local").timing("rdma-cx6").conclude());
        assertEquals(3_000, cx6.oneSidedNs(4_096), 25);
        // The bandwidth term alone, between two sizes: 60 KB more at 2.088 GB/s is about 29.4 us.
        assertEquals(61_440 * 1e9 / 2_088_000_000L, cx3.oneSidedNs(65_536) - cx3.oneSidedNs(4_096), 2);
    }
}
