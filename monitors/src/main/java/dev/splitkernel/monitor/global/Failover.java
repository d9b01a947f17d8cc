package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.HashMap;
import java.util.Map;

/**
 * The GMM's calls to memory monitors when one fails: probing a suspect, promoting a secondary
 * ({@link Opcodes#REPLICA_PROMOTE}), telling a process's home its vRegion's new owner ({@link Opcodes#VREGION_OWNER}),
 * asking an owner to replicate to a new secondary ({@link Opcodes#VMA_REPLICATE}). The {@link GlobalManager} decides
 * under its lock and queues the work here; this class's own thread does the calls, each with a timeout, off that
 * lock, in queue order. Like {@link MembershipPush} it is not a runtime agent: connecting blocks in a handshake.
 * <p>
 * Thread-safe: the queue is concurrent; connections and buffers belong to the failover thread.
 */
final class Failover implements AutoCloseable
{
    private final Fabric fabric;
    private final long callTimeoutNs;
    private final ErrorHandler errors;
    private final Map<String, Connection> connections = new HashMap<>();
    private final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
        GlobalDescriptor.HEADER_LENGTH + GlobalDescriptor.MAX_ADDRESS_LENGTH, 64));
    private final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private final QueueThread<Runnable> thread;

    Failover(final Fabric fabric, final long callTimeoutNs, final ErrorHandler errors)
    {
        this("global-failover", fabric, callTimeoutNs, errors);
    }

    Failover(final String threadName, final Fabric fabric, final long callTimeoutNs, final ErrorHandler errors)
    {
        this.fabric = fabric;
        this.callTimeoutNs = callTimeoutNs;
        this.errors = errors;
        thread = new QueueThread<>(threadName, this::run, this::closeConnections);
    }

    void start()
    {
        thread.start();
    }

    /** Run {@code work} on the failover thread, after the work queued before it. */
    void execute(final Runnable work)
    {
        thread.add(work);
    }

    /**
     * On the failover thread: does the memory monitor at {@code address} answer within {@code timeoutNs}? A fresh
     * connection and a request it must refuse (an unknown opcode): any answer means alive.
     */
    boolean probe(final String address, final long timeoutNs)
    {
        final Connection old = connections.remove(address);
        CloseHelper.quietClose(old);
        final Connection connection;
        try
        {
            connection = fabric.connect(address, timeoutNs);
        }
        catch (final FabricException ex)
        {
            return false;
        }
        try
        {
            GlobalDescriptor.clear(request, 0);
            final int result = connection.call(0, request, 0, GlobalDescriptor.HEADER_LENGTH, reply, 0,
                reply.capacity(), timeoutNs);
            return result != Status.TIMEOUT && result != Status.NOT_CONNECTED;
        }
        finally
        {
            connection.close();
        }
    }

    /**
     * On the failover thread: an owner-style call ({@link SyscallRequestDescriptor}) to the memory monitor at
     * {@code address}. Returns the result, or a negative transport status.
     */
    long callMemory(final String address, final int opcode, final int asid, final int prot, final int flags,
        final long newAddress)
    {
        final Connection connection = connection(address);
        if (connection == null)
        {
            return Status.NOT_CONNECTED;
        }
        final int length = SyscallRequestDescriptor.encode(request, 0, asid, 0, 0, prot, flags, 0, newAddress);
        final int replyLength = connection.call(opcode, request, 0, length, reply, 0, reply.capacity(), callTimeoutNs);
        if (replyLength < 0)
        {
            drop(address);
            return replyLength;
        }
        return replyLength < SyscallReplyDescriptor.HEADER_LENGTH ? Status.MALFORMED :
            SyscallReplyDescriptor.result(reply, 0);
    }

    /** On the failover thread: tell the home at {@code address} that a vRegion of {@code asid} has a new owner. */
    long tellHome(final String address, final int asid, final int vRegionIndex, final int ownerId)
    {
        final Connection connection = connection(address);
        if (connection == null)
        {
            return Status.NOT_CONNECTED;
        }
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, ownerId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_MEMORY);
        request.putInt(GlobalDescriptor.ASID_OFFSET, asid);
        request.putInt(GlobalDescriptor.VREGION_INDEX_OFFSET, vRegionIndex);
        final int replyLength = connection.call(Opcodes.VREGION_OWNER, request, 0, GlobalDescriptor.HEADER_LENGTH,
            reply, 0, reply.capacity(), callTimeoutNs);
        if (replyLength < 0)
        {
            drop(address);
            return replyLength;
        }
        return replyLength < GlobalDescriptor.HEADER_LENGTH ? Status.MALFORMED :
            reply.getLong(GlobalDescriptor.RESULT_OFFSET);
    }

    private Connection connection(final String address)
    {
        Connection connection = connections.get(address);
        if (connection == null || !connection.isConnected())
        {
            drop(address);
            try
            {
                connection = fabric.connect(address, callTimeoutNs);
            }
            catch (final FabricException ex)
            {
                return null;
            }
            connections.put(address, connection);
        }
        return connection;
    }

    private void drop(final String address)
    {
        CloseHelper.quietClose(connections.remove(address));
    }

    private void run(final Runnable work)
    {
        try
        {
            work.run();
        }
        catch (final RuntimeException ex)
        {
            errors.onError(ex);
        }
    }

    private void closeConnections()
    {
        connections.values().forEach(CloseHelper::quietClose);
        connections.clear();
    }

    /** Stop (a call under way ends within its timeout) and close the connections. */
    @Override
    public void close()
    {
        thread.close();
    }
}
