package dev.splitkernel.verbs;

import dev.splitkernel.verbs.support.TimingModel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FabricsTest
{
    @Test
    void shouldCreateTheFirstAvailableFabricOfAListAndSaySo()
    {
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Fabric fabric = Fabrics.create(new FabricContext().fabric("tcp,local"),
            new PrintStream(log, true, StandardCharsets.UTF_8)))
        {
            assertEquals("tcp", fabric.name());
        }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("fabric: using tcp"), log.toString());
        try (Fabric fabric = Fabrics.create(new FabricContext().fabric(" Local "), null))
        {
            assertEquals("local", fabric.name());
        }
    }

    @Test
    void shouldRejectAnUnknownFabricNamingTheValidOnes()
    {
        final FabricException ex = assertThrows(FabricException.class,
            () -> Fabrics.create(new FabricContext().fabric("infiniband"), null));
        assertTrue(ex.getMessage().contains("infiniband") && ex.getMessage().contains(Fabrics.names().toString()),
            ex.getMessage());
    }

    @Test
    void shouldNameTheSettingThatIsWrong()
    {
        assertMessage(new FabricContext().timing("fast"), FabricContext.TIMING_PROP_NAME);
        assertMessage(new FabricContext().fabric("local,,tcp"), FabricContext.FABRIC_PROP_NAME);
        assertMessage(new FabricContext().fabric(""), FabricContext.FABRIC_PROP_NAME);
        assertMessage(new FabricContext().operationTimeoutNs(0), FabricContext.OPERATION_TIMEOUT_PROP_NAME);
        assertMessage(new FabricContext().connectTimeoutNs(-5), FabricContext.CONNECT_TIMEOUT_PROP_NAME);
        assertMessage(new FabricContext().maxMessageBytes(10), FabricContext.MAX_MESSAGE_PROP_NAME);
        assertMessage(new FabricContext().maxInFlight(3), FabricContext.MAX_IN_FLIGHT_PROP_NAME);
        assertMessage(new FabricContext().opLatencyNs(-7), FabricContext.OP_LATENCY_PROP_NAME);
        assertMessage(new FabricContext().bandwidthBytesPerSecond(-7), FabricContext.BANDWIDTH_PROP_NAME);
    }

    private static void assertMessage(final FabricContext ctx, final String property)
    {
        final FabricException ex = assertThrows(FabricException.class, ctx::conclude);
        assertTrue(ex.getMessage().contains(property), ex.getMessage());
    }

    @Test
    void shouldCalibrateThePresetsToTheirPublishedFigures()
    {
        final TimingModel cx3 = new TimingModel(new FabricContext().timing("rdma-cx3").conclude());
        assertEquals(6_500, cx3.oneSidedNs(4096), 20);
        assertEquals(6_500, cx3.rpcNs(4096, 0), 20);
        assertEquals(4_600, cx3.rpcNs(128, 0), 20);
        assertEquals(3_000, new TimingModel(new FabricContext().timing("rdma-cx6").conclude()).oneSidedNs(4096), 20);
        assertEquals(300, new TimingModel(new FabricContext().timing("cxl").conclude()).oneSidedNs(4096), 10);
        assertTrue(new TimingModel(new FabricContext().timing("none").conclude()).isFree());
    }

    @Test
    void shouldOverrideOnlyTheCustomValueAfterAPreset()
    {
        final FabricContext ctx = new FabricContext().timing("rdma-cx3").opLatencyNs(1_000).conclude();
        assertEquals("custom", ctx.timing());
        assertEquals(1_000, ctx.opLatencyNs());
        assertEquals(1_000, ctx.rpcLatencyNs());
        assertEquals(2_088_000_000L, ctx.bandwidthBytesPerSecond());
    }
}
