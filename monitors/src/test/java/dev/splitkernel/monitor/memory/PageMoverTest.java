package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.VRegionMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.splitkernel.monitor.memory.RoleFixture.MEMBER_ID;
import static dev.splitkernel.monitor.memory.RoleFixture.PAGE;
import static dev.splitkernel.monitor.memory.RoleFixture.RW;
import static dev.splitkernel.monitor.memory.RoleFixture.TIMEOUT_NS;
import static dev.splitkernel.monitor.memory.RoleFixture.VREGION_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page mover alone: page moves (mremap) between vRegions and owners, refused with a clear error on bad input. */
class PageMoverTest
{
    private static final int ASID = 6;
    private static final int PEER_ID = 1;

    private final RoleFixture roles = new RoleFixture(64L * PAGE, 2L * PAGE);
    private final VRegionMap map = new VRegionMap(VREGION_BYTES);

    @AfterEach
    void close()
    {
        roles.close();
    }

    @Test
    void shouldRefuseToMovePagesOfAVRegionNobodyOwns()
    {
        map.set(1, MEMBER_ID);
        mapHere(VREGION_BYTES, PAGE);
        assertEquals(Errno.EFAULT, roles.mover.movePages(map, ASID, 5 * VREGION_BYTES, VREGION_BYTES, PAGE),
            "unowned source");
        assertEquals(Errno.EFAULT, roles.mover.movePages(map, ASID, VREGION_BYTES, 5 * VREGION_BYTES, PAGE),
            "unowned target");
    }

    @Test
    void shouldRefuseAMoveToAnUnmappedTarget()
    {
        map.set(1, MEMBER_ID);
        map.set(2, MEMBER_ID);
        mapHere(VREGION_BYTES, PAGE);
        assertEquals(0, roles.line(Opcodes.LINE_WRITE_BACK, ASID, VREGION_BYTES, PAGE));
        assertEquals(Errno.EINVAL, roles.mover.movePages(map, ASID, VREGION_BYTES, 2 * VREGION_BYTES, PAGE));
        assertEquals(0, roles.counters.get(MemoryMonitorCounters.PAGES_MOVED));
        assertTrue(roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES, PAGE) >= 0, "the page stayed where it was");
    }

    @Test
    void shouldStopWithENOMEMWhenTheTargetOwnerHasNoPageLeft()
    {
        // The source is a peer holding three pages; the target is here, where the pool holds two.
        try (MemoryMonitor peer = new MemoryMonitor(new MemoryMonitorContext()
            .fabric(roles.newFabric())
            .listenAddress("peer")
            .globalAddress("")
            .capacityBytes(64L * PAGE)
            .vRegionBytes(VREGION_BYTES)
            .requestTimeoutNs(TIMEOUT_NS)).start();
            MemoryMonitorProxy proxy = new MemoryMonitorProxy(roles.newFabric().connect("peer", TIMEOUT_NS), PEER_ID,
                PAGE, TIMEOUT_NS))
        {
            final UnsafeBuffer page = new UnsafeBuffer(new byte[PAGE]);
            assertEquals(0, proxy.ownerOperation(Opcodes.VMA_MAP_FIXED, ASID, VREGION_BYTES, 3L * PAGE, RW, 0, 0, 0));
            for (int i = 0; i < 3; i++)
            {
                page.putLong(0, i + 1);
                assertEquals(0, proxy.writeBackLine(ASID, VREGION_BYTES + (long)i * PAGE, PAGE, page, 0));
            }
            roles.peers.connectPeer(PEER_ID, "peer");
            map.set(1, PEER_ID);
            map.set(2, MEMBER_ID);
            mapHere(2 * VREGION_BYTES, 3L * PAGE);

            assertEquals(Errno.ENOMEM, roles.mover.movePages(map, ASID, VREGION_BYTES, 2 * VREGION_BYTES, 3L * PAGE));
            assertEquals(2, roles.counters.get(MemoryMonitorCounters.PAGES_MOVED), "two pages moved, then it stopped");
            assertEquals(Errno.ENOMEM, roles.line(Opcodes.LINE_FETCH, ASID, 2 * VREGION_BYTES + 2L * PAGE, PAGE));
        }
    }

    private void mapHere(final long address, final long length)
    {
        assertEquals(0, roles.owner.ownerOperation(Opcodes.VMA_MAP_FIXED, ASID, address, length, RW, 0));
    }
}
