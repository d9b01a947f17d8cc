package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.splitkernel.monitor.memory.RoleFixture.PAGE;
import static dev.splitkernel.monitor.memory.RoleFixture.RW;
import static dev.splitkernel.monitor.memory.RoleFixture.VREGION_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vma owner alone: owner operations on its vRegions, refused with a clear error on bad input. */
class VmaOwnerTest
{
    private static final int ASID = 4;
    private static final long CAPACITY = 16L * PAGE;

    private final RoleFixture roles = new RoleFixture(CAPACITY, CAPACITY);

    @AfterEach
    void close()
    {
        roles.close();
    }

    @Test
    void shouldAnswerForAVRegionItDoesNotOwn()
    {
        assertEquals(Errno.ENOMEM, op(Opcodes.VMA_PROTECT, VREGION_BYTES, PAGE, Prot.PROT_READ, 0), "not mapped");
        assertEquals(Errno.ENOMEM, op(Opcodes.VMA_CHECK, VREGION_BYTES, PAGE, 0, 0));
        assertEquals(0, op(Opcodes.VMA_UNMAP, VREGION_BYTES, PAGE, 0, 0), "nothing to unmap");
        assertEquals(0, op(Opcodes.VMA_MAPPED_BYTES, VREGION_BYTES, PAGE, 0, 0));
        assertEquals(Errno.ENOENT, op(Opcodes.VMA_NEXT_PAGE, VREGION_BYTES, PAGE, 0, 0));
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MOVE_PAGES, VREGION_BYTES, PAGE, 0, 2 * VREGION_BYTES));
        assertEquals(0, roles.owner.ownedVRegions());
    }

    @Test
    void shouldRefuseBadBounds()
    {
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, VREGION_BYTES, 0, RW, 0), "zero length");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, VREGION_BYTES, 100, RW, 0), "unaligned length");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, VREGION_BYTES + 1, PAGE, RW, 0), "unaligned address");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, -PAGE, PAGE, RW, 0), "negative address");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, 2 * VREGION_BYTES - PAGE, 2L * PAGE, RW, 0),
            "across two vRegions");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, (RoleFixture.MAX_VREGION_INDEX + 1L) * VREGION_BYTES,
            PAGE, RW, 0), "beyond the last vRegion");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_MAP_FIXED, VREGION_BYTES, PAGE, 0x100, 0), "unknown prot bits");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_ALLOCATE, 0, PAGE, RW, -1), "negative vRegion index");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_ALLOCATE, 0, PAGE, RW, RoleFixture.MAX_VREGION_INDEX + 1),
            "vRegion index too large");
        assertEquals(Errno.EINVAL, op(Opcodes.VMA_ALLOCATE, 0, VREGION_BYTES + PAGE, RW, 1), "longer than a vRegion");
        assertEquals(Errno.ENOSYS, op(Opcodes.MMAP, VREGION_BYTES, PAGE, RW, 0), "not an owner operation");
        assertEquals(Status.MALFORMED, roles.owner.onRequest(Opcodes.VMA_CHECK, roles.request, 0,
            SyscallRequestDescriptor.LENGTH - 1, roles.reply, 0, roles.reply.capacity()));
        assertEquals(0, roles.owner.committedBytes());
    }

    @Test
    void shouldRefuseToCommitMoreThanItsCapacity()
    {
        assertEquals(VREGION_BYTES, op(Opcodes.VMA_ALLOCATE, 0, CAPACITY - PAGE, RW, 1), "vRegion 1's first address");
        assertEquals(Errno.ENOMEM, op(Opcodes.VMA_ALLOCATE, 0, 2L * PAGE, RW, 2));
        assertEquals(Errno.ENOMEM, op(Opcodes.VMA_MAP_FIXED, 3 * VREGION_BYTES, 2L * PAGE, RW, 0));
        assertTrue(roles.counters.get(MemoryMonitorCounters.OUT_OF_MEMORY) >= 2);
        assertEquals(0, op(Opcodes.VMA_MAP_FIXED, 3 * VREGION_BYTES, PAGE, RW, 0), "the last page fits");
        assertEquals(Errno.EEXIST, op(Opcodes.VMA_MAP_FIXED, 3 * VREGION_BYTES, PAGE, RW, 0), "already mapped");
        assertEquals(CAPACITY, roles.owner.committedBytes());
        // Unmapping gives the capacity back.
        assertEquals(0, op(Opcodes.VMA_UNMAP, 3 * VREGION_BYTES, PAGE, 0, 0));
        assertEquals(CAPACITY - PAGE, roles.owner.committedBytes());
    }

    private long op(final int opcode, final long address, final long length, final int prot, final long newAddress)
    {
        final int requestLength = SyscallRequestDescriptor.encode(roles.request, 0, ASID, address, length, prot, 0,
            0, newAddress);
        final int replyLength = roles.owner.onRequest(opcode, roles.request, 0, requestLength, roles.reply, 0,
            roles.reply.capacity());
        return replyLength < 0 ? replyLength : SyscallReplyDescriptor.result(roles.reply, 0);
    }
}
