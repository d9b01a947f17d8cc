package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricException;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.function.IntConsumer;

/**
 * Pushes membership changes to the processor monitors, so that their miss paths never ask the global managers
 * anything: a memory monitor joined, was declared dead or came back ({@link Opcodes#MEMBER_UPDATE}), a vRegion has a
 * new owner ({@link Opcodes#VREGION_OWNER}). The {@link GlobalManager} queues pushes under its lock; a thread of
 * this pusher's own sends them as calls with a timeout, off that lock, in queue order. It sleeps on the queue while
 * there is nothing to push (changes are rare), and it is not a runtime agent on purpose: connecting blocks in a
 * handshake, which must not stall the runtime's background thread (in invoker mode that thread also drives the
 * in-process pollers the handshake waits for). A processor that a push cannot reach is reported to
 * {@code onFailure} (the manager sends it every memory monitor again at its next load report).
 * <p>
 * Thread-safe: the queue is concurrent; connections belong to the pusher's thread.
 */
final class MembershipPush implements AutoCloseable
{

    private static final class Push
    {
        final int processorId;
        final String processorAddress;
        final int opcode;
        final int memberId;
        final String memberAddress;
        final boolean alive;
        final int asid;
        final int vRegionIndex;

        Push(final int processorId, final String processorAddress, final int opcode, final int memberId,
            final String memberAddress, final boolean alive, final int asid, final int vRegionIndex)
        {
            this.processorId = processorId;
            this.processorAddress = processorAddress;
            this.opcode = opcode;
            this.memberId = memberId;
            this.memberAddress = memberAddress;
            this.alive = alive;
            this.asid = asid;
            this.vRegionIndex = vRegionIndex;
        }
    }

    private final Fabric fabric;
    private final long timeoutNs;
    private final IntConsumer onFailure;
    private final QueueThread<Push> thread;
    private final Int2ObjectHashMap<Connection> connections = new Int2ObjectHashMap<>();
    private final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
        GlobalDescriptor.HEADER_LENGTH + GlobalDescriptor.MAX_ADDRESS_LENGTH, 64));
    private final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
        GlobalDescriptor.HEADER_LENGTH, 64));
    private long sent;
    private long failed;

    MembershipPush(final Fabric fabric, final long timeoutNs, final IntConsumer onFailure)
    {
        this.fabric = fabric;
        this.timeoutNs = timeoutNs;
        this.onFailure = onFailure;
        thread = new QueueThread<>("global-membership-push", this::push,
            () -> connections.values().forEach(CloseHelper::quietClose));
    }

    void start()
    {
        thread.start();
    }

    /** Queue: tell processor {@code processorId} that memory monitor {@code memberId} is alive or dead. */
    void memberUpdate(final int processorId, final String processorAddress, final int memberId,
        final String memberAddress, final boolean alive)
    {
        thread.add(new Push(processorId, processorAddress, Opcodes.MEMBER_UPDATE, memberId, memberAddress, alive,
            0, 0));
    }

    /** Queue: tell processor {@code processorId} that vRegion {@code vRegionIndex} of {@code asid} is owned elsewhere. */
    void ownerChange(final int processorId, final String processorAddress, final int asid,
        final int vRegionIndex, final int ownerId)
    {
        thread.add(new Push(processorId, processorAddress, Opcodes.VREGION_OWNER, ownerId, "", true, asid,
            vRegionIndex));
    }

    /** Pushes delivered so far. */
    synchronized long sent()
    {
        return sent;
    }

    /** Pushes that could not be delivered (the processor gets a full update later). */
    synchronized long failed()
    {
        return failed;
    }

    private synchronized void count(final boolean delivered)
    {
        if (delivered)
        {
            sent++;
        }
        else
        {
            failed++;
        }
    }

    private void push(final Push push)
    {
        final boolean delivered = send(push);
        count(delivered);
        if (!delivered)
        {
            onFailure.accept(push.processorId);
        }
    }

    private boolean send(final Push push)
    {
        Connection connection = connections.get(push.processorId);
        if (connection == null || !connection.isConnected())
        {
            CloseHelper.quietClose(connection);
            connections.remove(push.processorId);
            try
            {
                connection = fabric.connect(push.processorAddress);
            }
            catch (final FabricException ex)
            {
                return false;
            }
            connections.put(push.processorId, connection);
        }
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, push.memberId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_MEMORY);
        request.putInt(GlobalDescriptor.COUNT_OFFSET, push.alive ? 1 : 0);
        request.putInt(GlobalDescriptor.ASID_OFFSET, push.asid);
        request.putInt(GlobalDescriptor.VREGION_INDEX_OFFSET, push.vRegionIndex);
        final int length = GlobalDescriptor.putAddress(request, 0, push.memberAddress);
        final int result = connection.call(push.opcode, request, 0, length, reply, 0, GlobalDescriptor.HEADER_LENGTH,
            timeoutNs);
        if (result < 0)
        {
            CloseHelper.quietClose(connection);
            connections.remove(push.processorId);
            return false;
        }
        return true;
    }

    /** Stop pushing (a push under way ends within its timeout) and close the connections. */
    @Override
    public void close()
    {
        thread.close();
    }
}
