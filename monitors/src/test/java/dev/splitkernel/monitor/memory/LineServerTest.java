package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.splitkernel.monitor.memory.RoleFixture.PAGE;
import static dev.splitkernel.monitor.memory.RoleFixture.RW;
import static dev.splitkernel.monitor.memory.RoleFixture.VREGION_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The line server alone: fetches and write-backs refused with a clear error on bad input, never a crash. */
class LineServerTest
{
    private static final int ASID = 3;

    private final RoleFixture roles = new RoleFixture(64L * PAGE, 2L * PAGE);

    @AfterEach
    void close()
    {
        roles.close();
    }

    @Test
    void shouldFaultALineInAVRegionItDoesNotOwn()
    {
        assertEquals(Errno.EFAULT, roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES, PAGE));
        assertEquals(Errno.EFAULT, roles.line(Opcodes.LINE_WRITE_BACK, ASID, VREGION_BYTES, PAGE));
        assertEquals(2, roles.counters.get(MemoryMonitorCounters.FAULTS));
        // Owned by another process: the same.
        map(VREGION_BYTES, 4L * PAGE, RW);
        assertEquals(Errno.EFAULT, roles.line(Opcodes.LINE_FETCH, ASID + 1, VREGION_BYTES, PAGE));
    }

    @Test
    void shouldRefuseLinesOutOfBounds()
    {
        map(VREGION_BYTES, 4L * PAGE, RW);
        assertEquals(Errno.EINVAL, roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES + 64, 4096), "unaligned");
        assertEquals(Errno.EINVAL, roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES, 3000), "not a power of two");
        assertEquals(Errno.EINVAL, roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES, 2 * PAGE), "beyond a page");
        assertEquals(Errno.EINVAL, roles.line(Opcodes.LINE_FETCH, ASID, -PAGE, PAGE), "negative address");
        assertEquals(Errno.EINVAL, roles.line(Opcodes.LINE_FETCH, ASID,
            (RoleFixture.MAX_VREGION_INDEX + 1L) * VREGION_BYTES, PAGE), "beyond the last vRegion");
        // Past the mapping, inside the vRegion.
        assertEquals(Errno.EFAULT, roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES + 4L * PAGE, PAGE));
        // A request shorter than its header, or a write-back without its data, or no room for the reply.
        assertEquals(Status.MALFORMED, roles.lines.onRequest(Opcodes.LINE_FETCH, roles.request, 0,
            LineRequestDescriptor.HEADER_LENGTH - 1, roles.reply, 0, roles.reply.capacity()));
        LineRequestDescriptor.encode(roles.request, 0, ASID, 0, VREGION_BYTES, PAGE, 0, 0);
        assertEquals(Status.MALFORMED, roles.lines.onRequest(Opcodes.LINE_WRITE_BACK, roles.request, 0,
            LineRequestDescriptor.HEADER_LENGTH + 100, roles.reply, 0, roles.reply.capacity()));
        assertEquals(Status.TOO_LARGE, roles.lines.onRequest(Opcodes.LINE_FETCH, roles.request, 0,
            LineRequestDescriptor.HEADER_LENGTH, roles.reply, 0, 100));
        assertEquals(0, roles.pool.usedBytes(), "nothing was created by refused requests");
    }

    @Test
    void shouldRefuseAWriteBackToAReadOnlyMapping()
    {
        map(VREGION_BYTES, PAGE, Prot.PROT_READ);
        assertEquals(Errno.EACCES, roles.line(Opcodes.LINE_WRITE_BACK, ASID, VREGION_BYTES, PAGE));
        assertTrue(roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES, PAGE) >= 0, "reading it is fine");
    }

    @Test
    void shouldAnswerENOMEMWhenNoPageIsLeft()
    {
        map(VREGION_BYTES, 4L * PAGE, RW);
        assertTrue(roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES, PAGE) >= 0);
        assertEquals(0, roles.line(Opcodes.LINE_WRITE_BACK, ASID, VREGION_BYTES + PAGE, PAGE));
        // The pool holds two pages: the third page cannot exist.
        assertEquals(Errno.ENOMEM, roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES + 2L * PAGE, PAGE));
        assertEquals(Errno.ENOMEM, roles.line(Opcodes.LINE_WRITE_BACK, ASID, VREGION_BYTES + 3L * PAGE, PAGE));
        assertEquals(2, roles.counters.get(MemoryMonitorCounters.OUT_OF_MEMORY));
        // Existing pages are still served.
        assertTrue(roles.line(Opcodes.LINE_FETCH, ASID, VREGION_BYTES + PAGE, PAGE) >= 0);
    }

    private void map(final long address, final long length, final int prot)
    {
        assertEquals(0, roles.owner.ownerOperation(Opcodes.VMA_MAP_FIXED, ASID, address, length, prot, 0));
    }
}
