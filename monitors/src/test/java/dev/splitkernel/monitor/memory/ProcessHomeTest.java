package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static dev.splitkernel.monitor.memory.RoleFixture.PAGE;
import static dev.splitkernel.monitor.memory.RoleFixture.RW;
import static dev.splitkernel.monitor.memory.RoleFixture.VREGION_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process home alone (standalone: it places vRegions on its own vma owner): system calls on bad input. */
class ProcessHomeTest
{
    private static final int PID = 9;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long CAPACITY = 32L * PAGE;

    private final RoleFixture roles = new RoleFixture(CAPACITY, CAPACITY);

    @AfterEach
    void close()
    {
        roles.close();
    }

    @Test
    void shouldRefuseCallsOfAnUnknownProcess()
    {
        assertEquals(Errno.ESRCH, roles.syscall(Opcodes.MMAP, PID, 0, PAGE, RW, ANON, 0, 0));
        assertEquals(Errno.ESRCH, roles.syscall(Opcodes.BRK, PID, 0, 0, 0, 0, 0, 0));
        assertEquals(Errno.ESRCH, roles.syscall(Opcodes.PROCESS_EXIT, PID, 0, 0, 0, 0, 0, 0));
        assertEquals(Errno.EINVAL, roles.syscall(Opcodes.PROCESS_CREATE, -1, 0, 0, 0, 0, 0, 0), "negative pid");
        assertEquals(0, roles.syscall(Opcodes.PROCESS_CREATE, PID, 0, 0, 0, 0, 0, 0));
        assertEquals(Errno.EEXIST, roles.syscall(Opcodes.PROCESS_CREATE, PID, 0, 0, 0, 0, 0, 0));
        assertEquals(0, roles.syscall(Opcodes.PROCESS_EXIT, PID, 0, 0, 0, 0, 0, 0));
        assertEquals(Errno.ESRCH, roles.syscall(Opcodes.MMAP, PID, 0, PAGE, RW, ANON, 0, 0), "exited");
    }

    @Test
    void shouldRefuseBadBounds()
    {
        assertEquals(0, roles.syscall(Opcodes.PROCESS_CREATE, PID, 0, 0, 0, 0, 0, 0));
        assertEquals(Errno.EINVAL, roles.syscall(Opcodes.MMAP, PID, 0, 0, RW, ANON, 0, 0), "zero length");
        assertEquals(Errno.EINVAL, roles.syscall(Opcodes.MMAP, PID, 0, PAGE, 0x100, ANON, 0, 0), "unknown prot");
        assertEquals(Errno.EINVAL, roles.syscall(Opcodes.MMAP, PID, VREGION_BYTES + 1, PAGE, RW,
            ANON | Prot.MAP_FIXED, 0, 0), "unaligned fixed address");
        assertEquals(Errno.EPERM, roles.syscall(Opcodes.MMAP, PID, 0, PAGE, RW, ANON | Prot.MAP_FIXED, 0, 0),
            "the zero page");
        final long end = (RoleFixture.MAX_VREGION_INDEX + 1L) * VREGION_BYTES;
        assertEquals(Errno.ENOMEM, roles.syscall(Opcodes.MMAP, PID, end - PAGE, 2L * PAGE, RW, ANON | Prot.MAP_FIXED,
            0, 0), "beyond the address space");
        assertEquals(Errno.EINVAL, roles.syscall(Opcodes.MUNMAP, PID, PAGE + 1, PAGE, 0, 0, 0, 0), "unaligned");
        assertEquals(Errno.EINVAL, roles.syscall(Opcodes.MUNMAP, PID, end, PAGE, 0, 0, 0, 0), "beyond the end");
        assertEquals(Errno.ENOMEM, roles.syscall(Opcodes.MPROTECT, PID, VREGION_BYTES, PAGE, Prot.PROT_READ, 0, 0, 0),
            "not mapped");
        assertEquals(Errno.EFAULT, roles.syscall(Opcodes.MREMAP, PID, VREGION_BYTES, PAGE, 0,
            Prot.MREMAP_MAYMOVE, 2L * PAGE, 0), "old range not mapped");
        assertEquals(Errno.ENOSYS, roles.syscall(Opcodes.VMA_CHECK, PID, VREGION_BYTES, PAGE, 0, 0, 0, 0),
            "not a system call");
        assertEquals(Status.MALFORMED, roles.home.onRequest(Opcodes.MMAP, roles.request, 0,
            SyscallRequestDescriptor.LENGTH - 1, roles.reply, 0, roles.reply.capacity()));
        assertEquals(0, roles.owner.committedBytes(), "nothing was mapped");
    }

    @Test
    void shouldAnswerENOMEMWhenNoMemoryMonitorHasRoom()
    {
        assertEquals(0, roles.syscall(Opcodes.PROCESS_CREATE, PID, 0, 0, 0, 0, 0, 0));
        final long a = roles.syscall(Opcodes.MMAP, PID, 0, CAPACITY - PAGE, RW, ANON, 0, 0);
        assertTrue(a > 0, Errno.describe(a));
        assertEquals(Errno.ENOMEM, roles.syscall(Opcodes.MMAP, PID, 0, 2L * PAGE, RW, ANON, 0, 0));
        assertEquals(Errno.ENOMEM, roles.syscall(Opcodes.MMAP, PID, 0, CAPACITY + PAGE, RW, ANON, 0, 0));
        assertTrue(roles.counters.get(MemoryMonitorCounters.OUT_OF_MEMORY) >= 2);
        assertEquals(CAPACITY - PAGE, roles.owner.committedBytes(), "a refused mmap commits nothing");
        // Freeing makes room again.
        assertEquals(0, roles.syscall(Opcodes.MUNMAP, PID, a, CAPACITY - PAGE, 0, 0, 0, 0));
        assertTrue(roles.syscall(Opcodes.MMAP, PID, 0, 2L * PAGE, RW, ANON, 0, 0) > 0);
    }
}
