package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvWC;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the rdma fabric that need no device: region checks, work request ids, settings, address discovery. */
class RdmaPartsTest
{
    @Test
    void shouldCheckOneSidedAccessAgainstThePeersAnnouncedRegions()
    {
        final RdmaRemoteRegions regions = new RdmaRemoteRegions();
        assertEquals(Status.BAD_RKEY, regions.check(7, 0x1000, 8));
        regions.add(7, 0x1000, 4096);
        assertEquals(Status.OK, regions.check(7, 0x1000, 4096));
        assertEquals(Status.OK, regions.check(7, 0x1FF8, 8));
        assertEquals(Status.OK, regions.check(7, 0x2000, 0));
        assertEquals(Status.OUT_OF_BOUNDS, regions.check(7, 0x0FFF, 8));
        assertEquals(Status.OUT_OF_BOUNDS, regions.check(7, 0x1FF9, 8));
        assertEquals(Status.OUT_OF_BOUNDS, regions.check(7, 0x1000, -1));
        assertEquals(Status.OUT_OF_BOUNDS, regions.check(7, Long.MAX_VALUE, Integer.MAX_VALUE));
        assertEquals(Status.BAD_RKEY, regions.check(8, 0x1000, 8));
        regions.remove(7);
        assertEquals(Status.BAD_RKEY, regions.check(7, 0x1000, 8));
        assertEquals(0, regions.size());
    }

    @Test
    void shouldRoundTripEveryFieldOfAWorkRequestId()
    {
        final long id = RdmaWorkRequestId.encode(4095, 65535, RdmaWorkRequestId.KIND_RECV, 0xABCDEF);
        assertEquals(4095, RdmaWorkRequestId.connectionIndex(id));
        assertEquals(65535, RdmaWorkRequestId.generation(id));
        assertEquals(RdmaWorkRequestId.KIND_RECV, RdmaWorkRequestId.kind(id));
        assertEquals(0xABCDEF, RdmaWorkRequestId.index(id));
        final long other = RdmaWorkRequestId.encode(0, 1, RdmaWorkRequestId.KIND_SEND, 63);
        assertEquals(0, RdmaWorkRequestId.connectionIndex(other));
        assertEquals(1, RdmaWorkRequestId.generation(other));
        assertEquals(RdmaWorkRequestId.KIND_SEND, RdmaWorkRequestId.kind(other));
        assertEquals(63, RdmaWorkRequestId.index(other));
    }

    @Test
    void shouldMapWorkCompletionStatusesToOurs()
    {
        assertEquals(Status.OK, RdmaConnection.mapWcStatus(IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal()));
        assertEquals(Status.BAD_RKEY, RdmaConnection.mapWcStatus(IbvWC.IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal()));
        assertEquals(Status.OUT_OF_BOUNDS,
            RdmaConnection.mapWcStatus(IbvWC.IbvWcStatus.IBV_WC_LOC_PROT_ERR.ordinal()));
        assertEquals(Status.NOT_CONNECTED,
            RdmaConnection.mapWcStatus(IbvWC.IbvWcStatus.IBV_WC_WR_FLUSH_ERR.ordinal()));
        assertEquals(Status.NOT_CONNECTED,
            RdmaConnection.mapWcStatus(IbvWC.IbvWcStatus.IBV_WC_RETRY_EXC_ERR.ordinal()));
    }

    @Test
    void shouldConcludeDefaultsAndCapThemByTheCommonSettings()
    {
        final RdmaContext ctx = new RdmaContext(new FabricContext().fabric("rdma").maxMessageBytes(4096)
            .maxInFlight(16)).conclude();
        assertEquals(4096, ctx.maxMessageBytes());
        assertEquals(16, ctx.sendSlots());
        assertEquals(RdmaContext.RECV_DEPTH_DEFAULT, ctx.recvDepth());
        assertEquals(ctx.maxConnections() * ctx.pinnedBytesPerConnection() + RdmaContext.REGION_MEMLOCK_DEFAULT_BYTES,
            ctx.requiredMemlockBytes());
    }

    @Test
    void shouldRequireTheLockedMemoryEveryConnectionPins()
    {
        final RdmaContext ctx = new RdmaContext(new FabricContext().fabric("rdma").maxMessageBytes(64 * 1024))
            .maxMessageBytes(64 * 1024).sendSlots(64).recvDepth(64).maxConnections(32).conclude();
        final long frame = RdmaFrameDescriptor.HEADER_LENGTH + 64 * 1024;
        assertEquals(frame * (64 + 1 + 64), ctx.pinnedBytesPerConnection());
        assertEquals(32 * frame * (64 + 1 + 64) + RdmaContext.REGION_MEMLOCK_DEFAULT_BYTES, ctx.requiredMemlockBytes());
        final FabricException below = assertThrows(FabricException.class,
            () -> new RdmaContext(new FabricContext().fabric("rdma")).maxConnections(32)
                .requiredMemlockBytes(64L * 1024 * 1024).conclude());
        assertTrue(below.getMessage().contains(RdmaContext.REQUIRED_MEMLOCK_PROP_NAME), below.getMessage());
    }

    @Test
    void shouldRefuseRnrRetriesWithoutLimit()
    {
        final FabricException forever = assertThrows(FabricException.class,
            () -> new RdmaContext(new FabricContext().fabric("rdma")).rnrRetryCount(7).conclude());
        assertTrue(forever.getMessage().contains(RdmaContext.RNR_RETRY_PROP_NAME), forever.getMessage());
        assertTrue(new RdmaContext(new FabricContext().fabric("rdma")).conclude().rnrRetryCount() < 7);
    }

    @Test
    void shouldNameTheSettingAtFault()
    {
        final FabricContext common = new FabricContext().fabric("rdma");
        assertThrows(FabricException.class, () -> new RdmaContext(common).recvDepth(1).conclude(),
            RdmaContext.RECV_DEPTH_PROP_NAME);
        final FabricException inline = assertThrows(FabricException.class,
            () -> new RdmaContext(common).maxInlineBytes(5000).conclude());
        assertTrue(inline.getMessage().contains(RdmaContext.MAX_INLINE_PROP_NAME), inline.getMessage());
        final FabricException retry = assertThrows(FabricException.class,
            () -> new RdmaContext(common).retryCount(8).conclude());
        assertTrue(retry.getMessage().contains(RdmaContext.RETRY_COUNT_PROP_NAME), retry.getMessage());
        final FabricException slots = assertThrows(FabricException.class,
            () -> new RdmaContext(common).sendSlots(0).conclude());
        assertTrue(slots.getMessage().contains(RdmaContext.SEND_SLOTS_PROP_NAME), slots.getMessage());
        final FabricException size = assertThrows(FabricException.class,
            () -> new RdmaContext(common).maxMessageBytes(10).conclude());
        assertTrue(size.getMessage().contains(RdmaContext.MAX_MESSAGE_PROP_NAME), size.getMessage());
    }

    @Test
    void shouldFindTheNetworkInterfaceBehindAnActivePort(@TempDir final Path sys) throws IOException
    {
        final Path ib = sys.resolve("infiniband");
        final Path down = ib.resolve("rxe_a/ports/1");
        Files.createDirectories(down.resolve("gid_attrs/ndevs"));
        Files.writeString(down.resolve("state"), "1: DOWN\n");
        Files.writeString(down.resolve("gid_attrs/ndevs/0"), "eth9\n");
        final Path up = ib.resolve("rxe_b/ports/1");
        Files.createDirectories(up.resolve("gid_attrs/ndevs"));
        Files.writeString(up.resolve("state"), "4: ACTIVE\n");
        Files.writeString(up.resolve("gid_attrs/ndevs/0"), "lo\n");
        Files.createDirectories(ib.resolve("mlx4_0/device/net/ib0"));
        Files.createDirectories(ib.resolve("mlx4_0/ports/1"));
        Files.writeString(ib.resolve("mlx4_0/ports/1/state"), "1: DOWN\n");
        final Path ibUp = ib.resolve("mlx5_0");
        Files.createDirectories(ibUp.resolve("device/net/ib7"));
        Files.createDirectories(ibUp.resolve("ports/1"));
        Files.writeString(ibUp.resolve("ports/1/state"), "4: ACTIVE\n");

        assertEquals(List.of("ib7", "lo"), RdmaInterfaces.rdmaNetdevs(ib));
        assertEquals("127.0.0.1", RdmaInterfaces.detectLocalAddress(ib));
        assertNull(RdmaInterfaces.detectLocalAddress(sys.resolve("absent")));
    }

    @Test
    void shouldFitRegionEntriesInAFrame()
    {
        assertEquals(4096, RdmaFrameDescriptor.regionEntriesPerFrame(64 * 1024));
        assertEquals("REGION_REMOVE", RdmaFrameDescriptor.typeName(RdmaFrameDescriptor.TYPE_REGION_REMOVE));
        assertEquals("UNKNOWN(99)", RdmaFrameDescriptor.typeName(99));
    }
}
