package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.LineReplyDescriptor;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One memory monitor's roles wired by hand, standalone (no global manager: new vRegions are placed here), over an
 * in-process fabric, so each role's test calls it directly: {@link LineServer}, {@link VmaOwner}, {@link ProcessHome},
 * {@link PageMover}. The page pool may be smaller than what the vma owner lets be committed, to run memory out.
 */
final class RoleFixture implements AutoCloseable
{
    static final int PAGE = Prot.PAGE_BYTES;
    static final long VREGION_BYTES = 1L << 20;
    static final int MAX_VREGION_INDEX = 1023;
    static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    static final long TIMEOUT_NS = 5_000_000_000L;
    static final int MEMBER_ID = 5;

    final LocalNetwork network = new LocalNetwork();
    final Fabric fabric = newFabric();
    final MemoryMonitorCounters counters =
        new MemoryMonitorCounters(dev.splitkernel.monitor.status.MonitorStatus.inMemory("test", false));
    final PagePool pool;
    final VmaOwner owner;
    final LineServer lines;
    final Peers peers;
    final PageMover mover;
    final ProcessHome home;
    final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8192, 64));
    final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8192, 64));

    /**
     * @param capacityBytes what the vma owner lets be committed.
     * @param poolBytes     the page pool's capacity (pages that can exist at once).
     */
    RoleFixture(final long capacityBytes, final long poolBytes)
    {
        pool = new PagePool(fabric, PAGE, 64 * 1024, poolBytes);
        owner = new VmaOwner(pool, counters, PAGE, VREGION_BYTES, capacityBytes, MAX_VREGION_INDEX);
        peers = new Peers(fabric, owner, PAGE, TIMEOUT_NS);
        final VmaOwner standby = new VmaOwner(pool, counters, PAGE, VREGION_BYTES, capacityBytes, MAX_VREGION_INDEX);
        final WriteBackLog log = new WriteBackLog(null, org.agrona.concurrent.SystemNanoClock.INSTANCE, 64 * 1024,
            1 << 20, 1_000_000L, null);
        final Replication replication = new Replication(owner, standby, log, pool, peers, counters,
            Throwable::printStackTrace, PAGE, VREGION_BYTES);
        lines = new LineServer(owner, replication, pool, counters, 1, PAGE, VREGION_BYTES, MAX_VREGION_INDEX,
            TIMEOUT_NS);
        peers.joined(MEMBER_ID, null);
        mover = new PageMover(peers, lines, counters, PAGE, VREGION_BYTES);
        home = new ProcessHome(peers, mover, counters, VREGION_BYTES, MAX_VREGION_INDEX);
    }

    Fabric newFabric()
    {
        return new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
    }

    /** A system call at the home: its result (or a negative transport status). */
    long syscall(final int opcode, final int asid, final long address, final long lengthBytes, final int prot,
        final int flags, final long newLengthBytes, final long newAddress)
    {
        final int length = SyscallRequestDescriptor.encode(request, 0, asid, address, lengthBytes, prot, flags,
            newLengthBytes, newAddress);
        final int replyLength = home.onRequest(opcode, request, 0, length, reply, 0, reply.capacity());
        return replyLength < 0 ? replyLength : SyscallReplyDescriptor.result(reply, 0);
    }

    /** A line request to the line server: the reply's result, or a negative transport status. */
    int line(final int opcode, final int asid, final long lineAddress, final int lengthBytes)
    {
        LineRequestDescriptor.encode(request, 0, asid, 0, lineAddress, lengthBytes, 0, 0);
        final int replyLength = lines.onRequest(opcode, request, 0,
            LineRequestDescriptor.HEADER_LENGTH + (opcode == Opcodes.LINE_FETCH ? 0 : Math.max(0, lengthBytes)),
            reply, 0, reply.capacity());
        return replyLength < 0 ? replyLength : LineReplyDescriptor.result(reply, 0);
    }

    @Override
    public void close()
    {
        peers.close();
        pool.close();
        fabric.close();
    }
}
