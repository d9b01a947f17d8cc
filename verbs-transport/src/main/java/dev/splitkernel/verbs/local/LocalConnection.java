package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.support.Region;
import dev.splitkernel.verbs.support.TimingModel;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A connection of the local fabric: every operation runs to completion in the caller's thread, so a posted
 * operation is complete when {@code postRead}/{@code postWrite} return. See {@link LocalFabric}.
 * <p>
 * Thread-safe.
 */
final class LocalConnection implements Connection
{
    /** The reply buffer a one-way message's handler sees: no room. */
    private static final UnsafeBuffer NO_REPLY = new UnsafeBuffer(new byte[0]);

    private final LocalFabric self;
    private final LocalFabric peer;
    private final String peerAddress;
    private final TimingModel timing;
    private final FabricCounters counters;
    private final int maxMessageBytes;
    private final long operationTimeoutNs;
    private volatile boolean closed;

    LocalConnection(final LocalFabric self, final LocalFabric peer, final String peerAddress)
    {
        this.self = self;
        this.peer = peer;
        this.peerAddress = peerAddress;
        this.timing = self.timing();
        this.counters = self.counters();
        this.maxMessageBytes = self.context().maxMessageBytes();
        this.operationTimeoutNs = self.context().operationTimeoutNs();
    }

    @Override
    public String peerAddress()
    {
        return peerAddress;
    }

    @Override
    public boolean isConnected()
    {
        return !closed && peer.isOpen() && self.isOpen();
    }

    @Override
    public int postRead(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        completion.reset();
        completion.complete(read(local, localOffset, remoteAddress, rkey, lengthBytes, 0));
        return Status.OK;
    }

    @Override
    public int postWrite(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        completion.reset();
        completion.complete(write(local, localOffset, remoteAddress, rkey, lengthBytes, 0));
        return Status.OK;
    }

    @Override
    public int read(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        return oneSided(true, local, localOffset, remoteAddress, rkey, lengthBytes);
    }

    @Override
    public int write(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        return oneSided(false, local, localOffset, remoteAddress, rkey, lengthBytes);
    }

    private int oneSided(
        final boolean isRead, final MemoryRegion local, final int localOffset, final long remoteAddress,
        final int rkey, final int lengthBytes)
    {
        final long startNs = timing.isFree() ? 0 : System.nanoTime();
        if (!isConnected())
        {
            counters.increment(FabricCounters.NOT_CONNECTED);
            return Status.NOT_CONNECTED;
        }
        if (lengthBytes < 0 || localOffset < 0 || localOffset > local.lengthBytes() - lengthBytes)
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        int status = Status.OK;
        final Region region = peer.lookup(rkey);
        if (region == null)
        {
            peer.counters().increment(FabricCounters.BAD_RKEY);
            status = Status.BAD_RKEY;
        }
        else
        {
            final long offset = region.offsetOf(remoteAddress, lengthBytes);
            if (offset < 0)
            {
                peer.counters().increment(FabricCounters.OUT_OF_BOUNDS);
                status = Status.OUT_OF_BOUNDS;
            }
            else if (isRead)
            {
                local.buffer().putBytes(localOffset, region.buffer(), (int)offset, lengthBytes);
                counters.increment(FabricCounters.READS);
                counters.add(FabricCounters.BYTES_READ, lengthBytes);
                peer.counters().increment(FabricCounters.SERVED_READS);
            }
            else
            {
                region.buffer().putBytes((int)offset, local.buffer(), localOffset, lengthBytes);
                counters.increment(FabricCounters.WRITES);
                counters.add(FabricCounters.BYTES_WRITTEN, lengthBytes);
                peer.counters().increment(FabricCounters.SERVED_WRITES);
            }
        }
        if (!timing.isFree())
        {
            timing.pay(startNs, timing.oneSidedNs(status == Status.OK ? lengthBytes : 0));
        }
        return status;
    }

    @Override
    public int call(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final long timeoutNs)
    {
        final int result = invoke(opcode, request, offset, length, reply, replyOffset, replyCapacity, null, 0, 0, true,
            timeoutNs);
        if (!timing.isFree() && result != Status.NOT_CONNECTED)
        {
            timing.pay(timing.rpcNs(length, Math.max(result, 0)));
        }
        return result;
    }

    /** The handler writes the header into {@code reply} and the bulk straight into {@code data}: no copy. */
    @Override
    public int call(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        if (headerLength < 0 || dataCapacity < 0 || dataOffset < 0 || dataOffset > data.capacity() - dataCapacity)
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        final int result = invoke(opcode, request, offset, length, reply, replyOffset, headerLength, data, dataOffset,
            dataCapacity, true, timeoutNs);
        if (!timing.isFree() && result != Status.NOT_CONNECTED)
        {
            timing.pay(timing.rpcNs(length, Math.max(result, 0)));
        }
        return result;
    }

    @Override
    public int send(final int opcode, final DirectBuffer message, final int offset, final int length)
    {
        final int result = invoke(opcode, message, offset, length, NO_REPLY, 0, 0, null, 0, 0, false,
            operationTimeoutNs);
        if (!timing.isFree() && result != Status.NOT_CONNECTED)
        {
            timing.pay(timing.rpcNs(length, 0));
        }
        // As on tcp, a one-way message's result is the target's business (counted there), not the sender's.
        return result == Status.NOT_CONNECTED || result == Status.TOO_LARGE || result == Status.OUT_OF_BOUNDS ||
            result == Status.TIMEOUT ? result : Status.OK;
    }

    /** A request run in this thread; with {@code data} the reply is scattered (header to reply, bulk to data). */
    private int invoke(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity, final boolean isCall,
        final long timeoutNs)
    {
        if (!isConnected())
        {
            counters.increment(FabricCounters.NOT_CONNECTED);
            return Status.NOT_CONNECTED;
        }
        if (length < 0 || offset < 0 || offset > request.capacity() - length ||
            (isCall && (replyCapacity < 0 || replyOffset < 0 || replyOffset > reply.capacity() - replyCapacity)))
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        if (length > maxMessageBytes)
        {
            counters.increment(FabricCounters.TOO_LARGE);
            return Status.TOO_LARGE;
        }
        final RequestHandler handler = peer.handler();
        if (handler == null)
        {
            peer.counters().increment(FabricCounters.UNKNOWN_OPCODE);
            return Status.UNKNOWN_OPCODE;
        }
        counters.increment(isCall ? FabricCounters.CALLS : FabricCounters.SENDS);
        counters.add(FabricCounters.BYTES_REQUESTED, length);
        peer.counters().increment(FabricCounters.SERVED_REQUESTS);
        final int capacity = Math.min(replyCapacity + dataCapacity, maxMessageBytes);
        if (!peer.acquireHandler(System.nanoTime() + timeoutNs))
        {
            counters.increment(FabricCounters.TIMEOUTS);
            return Status.TIMEOUT;
        }
        int result;
        try
        {
            result = data == null ?
                handler.onRequest(opcode, request, offset, length, reply, replyOffset, capacity) :
                handler.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity, data, dataOffset,
                    Math.max(0, capacity - replyCapacity));
        }
        catch (final RuntimeException | Error ex)
        {
            result = Status.HANDLER_ERROR;
        }
        finally
        {
            peer.releaseHandler();
        }
        if (!isConnected())
        {
            counters.increment(FabricCounters.NOT_CONNECTED);
            return Status.NOT_CONNECTED;
        }
        if (result > capacity && isCall)
        {
            peer.counters().increment(FabricCounters.TOO_LARGE);
            return Status.TOO_LARGE;
        }
        if (result < 0)
        {
            peer.counters().countError(result);
        }
        else if (isCall)
        {
            counters.add(FabricCounters.BYTES_REPLIED, result);
        }
        return result;
    }

    @Override
    public void close()
    {
        closed = true;
        self.removeConnection(this);
    }

    @Override
    public String toString()
    {
        return "LocalConnection{peer=" + peerAddress + "}";
    }
}
