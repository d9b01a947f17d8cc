package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;

import static dev.splitkernel.verbs.tcp.FrameDescriptor.BYTE_ORDER;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.CORRELATION_ID_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.HEADER_LENGTH;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.OPCODE_OR_STATUS_OFFSET;

/**
 * The client end of a tcp fabric connection. Many threads may issue operations at once: each claims a slot of a
 * preallocated table, indexed by its correlation id, encodes its frame under the send lock, and waits for the
 * response; nothing is allocated per operation.
 * <p>
 * Responses are received by whichever waiting thread holds the receive baton at the moment (leader/follower: a
 * waiter polls the socket without blocking and completes everyone's operations it finds), so no receiver thread
 * competes for the cores and a round trip costs no thread wake-up. With {@code busyPoll} waiters spin and yield until
 * their response or timeout; without it they spin briefly, then park between polls ({@link Completion}).
 * <p>
 * A closed socket, a malformed response or a failed send closes the connection and fails every pending operation
 * with NOT_CONNECTED; a response that does not come within the timeout fails its operation with TIMEOUT and is
 * dropped if it comes later. An asynchronous operation that is never answered is completed with TIMEOUT when its
 * slot is next needed after {@code operationTimeoutNs}.
 * <p>
 * Thread-safe.
 */
final class TcpConnection implements Connection, FrameChannel.FrameHandler, Completion.Progressor
{
    private static final int FREE = 0;
    private static final int CLAIMED = 1;
    private static final int IN_FLIGHT = 2;
    private static final int COMPLETING = 3;
    private static final int DONE = 4;

    /** One pending operation. Fields are written by the poster before it publishes IN_FLIGHT. */
    static final class Slot
    {
        static final AtomicIntegerFieldUpdater<Slot> STATE =
            AtomicIntegerFieldUpdater.newUpdater(Slot.class, "state");

        volatile int state;
        long correlationId;
        byte responseType;
        MutableDirectBuffer destination;
        int destinationOffset;
        int destinationCapacity;
        /** A scattered call reply: what follows destinationCapacity bytes goes here (null: nothing may follow). */
        MutableDirectBuffer data;
        int dataOffset;
        int dataCapacity;
        Completion completion;
        boolean callerFrees;
        long deadlineNs;
        final Completion own = new Completion();

        boolean cas(final int expect, final int update)
        {
            return STATE.compareAndSet(this, expect, update);
        }
    }

    private final TcpFabric fabric;
    private final String peerAddress;
    private final FrameChannel frames;
    private final FabricCounters counters;
    private final boolean busyPoll;
    private final dev.splitkernel.verbs.AgentHost host;
    private final long operationTimeoutNs;
    private final int maxMessageBytes;
    private final Slot[] slots;
    private final int slotMask;
    private final AtomicLong nextCorrelationId = new AtomicLong(1);
    private final AtomicBoolean receiving = new AtomicBoolean();
    private final Object sendLock = new Object();
    private final String localPeerKey;
    /** The server end when it is served in this process ({@link LocalPeers}); guarded by the send lock. */
    private TcpServerConnection localPeer;
    private int localPeerLookups;
    private volatile boolean closed;

    /** Sends that look for a server end in this process before giving up (a peer elsewhere is never found). */
    private static final int LOCAL_PEER_LOOKUPS = 64;

    TcpConnection(final TcpFabric fabric, final String peerAddress, final FrameChannel frames)
    {
        final FabricContext ctx = fabric.context();
        this.fabric = fabric;
        this.peerAddress = peerAddress;
        this.frames = frames;
        this.counters = fabric.counters();
        this.busyPoll = ctx.busyPoll();
        this.host = ctx.agentHost();
        this.operationTimeoutNs = ctx.operationTimeoutNs();
        this.maxMessageBytes = ctx.maxMessageBytes();
        this.slots = new Slot[ctx.maxInFlight()];
        this.slotMask = slots.length - 1;
        this.localPeerKey = LocalPeers.keyAtClient(frames.channel());
        for (int i = 0; i < slots.length; i++)
        {
            slots[i] = new Slot();
        }
    }

    java.nio.channels.SocketChannel channel()
    {
        return frames.channel();
    }

    @Override
    public String peerAddress()
    {
        return peerAddress;
    }

    @Override
    public boolean isConnected()
    {
        return !closed;
    }

    @Override
    public int postRead(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        final int check = checkLocal(local, localOffset, lengthBytes);
        if (check != Status.OK)
        {
            return check;
        }
        return postAsync(FrameDescriptor.READ_REQUEST, 0, lengthBytes, remoteAddress, rkey, null, 0, 0,
            local.buffer(), localOffset, lengthBytes, completion);
    }

    @Override
    public int postWrite(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        final int check = checkLocal(local, localOffset, lengthBytes);
        if (check != Status.OK)
        {
            return check;
        }
        return postAsync(FrameDescriptor.WRITE_REQUEST, 0, 0, remoteAddress, rkey, local.buffer(), localOffset,
            lengthBytes, null, 0, 0, completion);
    }

    @Override
    public int read(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        final int check = checkLocal(local, localOffset, lengthBytes);
        if (check != Status.OK)
        {
            return check;
        }
        final int status = roundTrip(FrameDescriptor.READ_REQUEST, 0, lengthBytes, remoteAddress, rkey, null, 0, 0,
            local.buffer(), localOffset, lengthBytes, null, 0, 0, timeoutNs);
        if (status == Status.OK)
        {
            counters.increment(FabricCounters.READS);
            counters.add(FabricCounters.BYTES_READ, lengthBytes);
        }
        return status;
    }

    @Override
    public int write(
        final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        final int check = checkLocal(local, localOffset, lengthBytes);
        if (check != Status.OK)
        {
            return check;
        }
        final int status = roundTrip(FrameDescriptor.WRITE_REQUEST, 0, 0, remoteAddress, rkey, local.buffer(),
            localOffset, lengthBytes, null, 0, 0, null, 0, 0, timeoutNs);
        if (status == Status.OK)
        {
            counters.increment(FabricCounters.WRITES);
            counters.add(FabricCounters.BYTES_WRITTEN, lengthBytes);
        }
        return status;
    }

    @Override
    public int call(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final long timeoutNs)
    {
        if (length < 0 || offset < 0 || offset > request.capacity() - length ||
            replyCapacity < 0 || replyOffset < 0 || replyOffset > reply.capacity() - replyCapacity)
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        if (length > maxMessageBytes)
        {
            counters.increment(FabricCounters.TOO_LARGE);
            return Status.TOO_LARGE;
        }
        final int result = roundTrip(FrameDescriptor.CALL_REQUEST, opcode, replyCapacity, 0, 0, request, offset,
            length, reply, replyOffset, replyCapacity, null, 0, 0, timeoutNs);
        counters.increment(FabricCounters.CALLS);
        counters.add(FabricCounters.BYTES_REQUESTED, length);
        if (result > 0)
        {
            counters.add(FabricCounters.BYTES_REPLIED, result);
        }
        return result;
    }

    /** The reply's header and bulk land where the caller wants them, straight from the receive buffer. */
    @Override
    public int call(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        if (length < 0 || offset < 0 || offset > request.capacity() - length || headerLength < 0 || replyOffset < 0 ||
            replyOffset > reply.capacity() - headerLength || dataCapacity < 0 || dataOffset < 0 ||
            dataOffset > data.capacity() - dataCapacity)
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        if (length > maxMessageBytes || (long)headerLength + dataCapacity > maxMessageBytes)
        {
            counters.increment(FabricCounters.TOO_LARGE);
            return Status.TOO_LARGE;
        }
        final int result = roundTrip(FrameDescriptor.CALL_REQUEST, opcode, headerLength + dataCapacity, 0, 0, request,
            offset, length, reply, replyOffset, headerLength, data, dataOffset, dataCapacity, timeoutNs);
        counters.increment(FabricCounters.CALLS);
        counters.add(FabricCounters.BYTES_REQUESTED, length);
        if (result > 0)
        {
            counters.add(FabricCounters.BYTES_REPLIED, result);
        }
        return result;
    }

    @Override
    public int send(final int opcode, final DirectBuffer message, final int offset, final int length)
    {
        if (length < 0 || offset < 0 || offset > message.capacity() - length)
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        if (length > maxMessageBytes)
        {
            counters.increment(FabricCounters.TOO_LARGE);
            return Status.TOO_LARGE;
        }
        final int status = sendFrame(FrameDescriptor.SEND, opcode, 0, 0, 0, 0, message, offset, length);
        if (status == Status.OK)
        {
            counters.increment(FabricCounters.SENDS);
            counters.add(FabricCounters.BYTES_REQUESTED, length);
        }
        return status;
    }

    private int checkLocal(final MemoryRegion local, final int localOffset, final int lengthBytes)
    {
        if (lengthBytes < 0 || localOffset < 0 || localOffset > local.lengthBytes() - lengthBytes)
        {
            counters.increment(FabricCounters.OUT_OF_BOUNDS);
            return Status.OUT_OF_BOUNDS;
        }
        if (lengthBytes > maxMessageBytes)
        {
            counters.increment(FabricCounters.TOO_LARGE);
            return Status.TOO_LARGE;
        }
        return Status.OK;
    }

    private static byte responseTypeOf(final byte requestType)
    {
        return (byte)(requestType + 1);
    }

    /** A free slot, or null; {@code nowNs} 0: the clock is read only if an unanswered asynchronous slot is met. */
    private Slot claim(final long nowNs)
    {
        long now = nowNs;
        for (int i = 0, n = slots.length * 2; i < n; i++)
        {
            final long id = nextCorrelationId.getAndIncrement();
            final Slot slot = slots[(int)id & slotMask];
            if (slot.cas(FREE, CLAIMED))
            {
                slot.correlationId = id;
                return slot;
            }
            if (slot.state == IN_FLIGHT && !slot.callerFrees &&
                (now != 0 ? now : (now = System.nanoTime())) - slot.deadlineNs >= 0 && slot.cas(IN_FLIGHT, COMPLETING))
            {
                counters.increment(FabricCounters.TIMEOUTS);
                finish(slot, Status.TIMEOUT);
            }
        }
        return null;
    }

    private int roundTrip(
        final byte type, final int opcode, final int lengthField, final long remoteAddress, final int rkey,
        final DirectBuffer payload, final int payloadOffset, final int payloadLength,
        final MutableDirectBuffer destination, final int destinationOffset, final int destinationCapacity,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        if (closed)
        {
            counters.increment(FabricCounters.NOT_CONNECTED);
            return Status.NOT_CONNECTED;
        }
        final Slot slot = claim(0);
        if (slot == null)
        {
            return Status.BACK_PRESSURED;
        }
        slot.responseType = responseTypeOf(type);
        slot.destination = destination;
        slot.destinationOffset = destinationOffset;
        slot.destinationCapacity = destinationCapacity;
        slot.data = data;
        slot.dataOffset = dataOffset;
        slot.dataCapacity = dataCapacity;
        slot.completion = null;
        slot.callerFrees = true;
        // No deadline: the caller times its own wait, and only asynchronous slots expire in claim().
        slot.deadlineNs = 0;
        slot.own.reset(this);
        slot.state = IN_FLIGHT;

        int status = closed ? Status.NOT_CONNECTED : sendFrame(type, opcode, lengthField, slot.correlationId,
            remoteAddress, rkey, payload, payloadOffset, payloadLength);
        if (status != Status.OK && slot.cas(IN_FLIGHT, FREE))
        {
            slot.destination = null;
            counters.countError(status);
            return status;
        }

        // The timeout runs from here: the send took at most its own timeout, and reading the clock again costs
        // as much as a tenth of a loopback round trip on a virtual machine.
        slot.own.await(timeoutNs);
        while (!slot.own.isDone())
        {
            if (slot.cas(IN_FLIGHT, FREE))
            {
                slot.destination = null;
                counters.increment(FabricCounters.TIMEOUTS);
                return Status.TIMEOUT;
            }
            Thread.onSpinWait();
        }
        status = slot.own.status();
        slot.destination = null;
        slot.data = null;
        slot.state = FREE;
        if (status == Status.NOT_CONNECTED)
        {
            counters.increment(FabricCounters.NOT_CONNECTED);
        }
        return status;
    }

    private int postAsync(
        final byte type, final int opcode, final int lengthField, final long remoteAddress, final int rkey,
        final DirectBuffer payload, final int payloadOffset, final int payloadLength,
        final MutableDirectBuffer destination, final int destinationOffset, final int destinationCapacity,
        final Completion completion)
    {
        if (closed)
        {
            counters.increment(FabricCounters.NOT_CONNECTED);
            return Status.NOT_CONNECTED;
        }
        final long nowNs = System.nanoTime();
        final Slot slot = claim(nowNs);
        if (slot == null)
        {
            return Status.BACK_PRESSURED;
        }
        completion.reset(this);
        slot.responseType = responseTypeOf(type);
        slot.destination = destination;
        slot.destinationOffset = destinationOffset;
        slot.destinationCapacity = destinationCapacity;
        slot.data = null;
        slot.dataCapacity = 0;
        slot.completion = completion;
        slot.callerFrees = false;
        slot.deadlineNs = nowNs + operationTimeoutNs;
        slot.state = IN_FLIGHT;

        final int status = closed ? Status.NOT_CONNECTED : sendFrame(type, opcode, lengthField, slot.correlationId,
            remoteAddress, rkey, payload, payloadOffset, payloadLength);
        if (status != Status.OK && slot.cas(IN_FLIGHT, FREE))
        {
            slot.destination = null;
            slot.completion = null;
            counters.countError(status);
            return status;
        }
        if (type == FrameDescriptor.READ_REQUEST)
        {
            counters.increment(FabricCounters.READS);
            counters.add(FabricCounters.BYTES_READ, destinationCapacity);
        }
        else
        {
            counters.increment(FabricCounters.WRITES);
            counters.add(FabricCounters.BYTES_WRITTEN, payloadLength);
        }
        return Status.OK;
    }

    private int sendFrame(
        final byte type, final int opcode, final int lengthField, final long correlationId, final long remoteAddress,
        final int rkey, final DirectBuffer payload, final int payloadOffset, final int payloadLength)
    {
        synchronized (sendLock)
        {
            if (closed)
            {
                return Status.NOT_CONNECTED;
            }
            final UnsafeBuffer buffer = frames.sendBuffer();
            final int frameLength = HEADER_LENGTH + payloadLength;
            FrameDescriptor.encodeHeader(buffer, 0, frameLength, type, opcode, lengthField, correlationId,
                remoteAddress, rkey);
            if (payloadLength > 0)
            {
                buffer.putBytes(HEADER_LENGTH, payload, payloadOffset, payloadLength);
            }
            final int status = frames.flush(frameLength, operationTimeoutNs, busyPoll);
            if (status != Status.OK)
            {
                closeOnFailure();
                return Status.NOT_CONNECTED;
            }
            TcpServerConnection peer = localPeer;
            if (peer == null && localPeerLookups < LOCAL_PEER_LOOKUPS)
            {
                // The server registers its end just after the handshake: a first send may come before.
                localPeerLookups++;
                peer = localPeer = LocalPeers.find(localPeerKey);
            }
            if (peer != null)
            {
                peer.expectFrame();
            }
            return Status.OK;
        }
    }

    @Override
    public boolean mayPark()
    {
        return !busyPoll;
    }

    /**
     * A waiter that may park: the one holding the receive baton sleeps in the kernel until the socket is readable (at
     * most 1 ms), so a reply wakes it at once; the others park until it completes their operations. With an invoking
     * host the waiter parks briefly instead: it drives the servers it waits for.
     */
    @Override
    public void idle(final long maxNs)
    {
        if (host.isInvoker() || closed || !receiving.compareAndSet(false, true))
        {
            java.util.concurrent.locks.LockSupport.parkNanos(maxNs);
            return;
        }
        try
        {
            frames.awaitReadable(Math.max(1, maxNs / 1_000_000));
        }
        finally
        {
            receiving.set(false);
        }
    }

    /**
     * The waiting thread reads responses if no other thread is doing so, and drives the agent host when it is an
     * invoker (the servers of its own process, whose replies it may be waiting for).
     */
    @Override
    public int progress()
    {
        final int invoked = host.invoke();
        if (closed || !receiving.compareAndSet(false, true))
        {
            return invoked;
        }
        try
        {
            return invoked + handlePoll(frames.poll(this, false));
        }
        finally
        {
            receiving.set(false);
        }
    }

    private int handlePoll(final int result)
    {
        if (result == FrameChannel.MALFORMED)
        {
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            closeOnFailure();
            return 1;
        }
        if (result == FrameChannel.CLOSED)
        {
            closeOnFailure();
            return 1;
        }
        return result;
    }

    @Override
    public void onFrame(final UnsafeBuffer buffer, final int offset, final int frameLength, final byte type)
    {
        final long correlationId = buffer.getLong(offset + CORRELATION_ID_OFFSET, BYTE_ORDER);
        final Slot slot = slots[(int)correlationId & slotMask];
        if (!slot.cas(IN_FLIGHT, COMPLETING))
        {
            return;
        }
        if (slot.correlationId != correlationId || slot.responseType != type)
        {
            slot.state = IN_FLIGHT;
            return;
        }
        int status = buffer.getInt(offset + OPCODE_OR_STATUS_OFFSET, BYTE_ORDER);
        final int payloadLength = frameLength - HEADER_LENGTH;
        if (type == FrameDescriptor.READ_RESPONSE && status == Status.OK)
        {
            if (payloadLength != slot.destinationCapacity)
            {
                counters.increment(FabricCounters.MALFORMED_FRAMES);
                status = Status.MALFORMED;
            }
            else
            {
                slot.destination.putBytes(slot.destinationOffset, buffer, offset + HEADER_LENGTH, payloadLength);
            }
        }
        else if (type == FrameDescriptor.CALL_RESPONSE && status >= 0)
        {
            if (payloadLength != status)
            {
                counters.increment(FabricCounters.MALFORMED_FRAMES);
                status = Status.MALFORMED;
            }
            else if (payloadLength > slot.destinationCapacity + slot.dataCapacity)
            {
                counters.increment(FabricCounters.TOO_LARGE);
                status = Status.TOO_LARGE;
            }
            else if (payloadLength > 0)
            {
                // Straight from the receive buffer to where the caller wants it: the header, then the bulk (a line).
                final int head = Math.min(payloadLength, slot.destinationCapacity);
                slot.destination.putBytes(slot.destinationOffset, buffer, offset + HEADER_LENGTH, head);
                if (payloadLength > head)
                {
                    slot.data.putBytes(slot.dataOffset, buffer, offset + HEADER_LENGTH + head, payloadLength - head);
                }
            }
        }
        finish(slot, status);
    }

    private void finish(final Slot slot, final int status)
    {
        if (slot.callerFrees)
        {
            slot.state = DONE;
            slot.own.complete(status);
        }
        else
        {
            final Completion completion = slot.completion;
            slot.completion = null;
            slot.destination = null;
            slot.state = FREE;
            completion.complete(status);
        }
    }

    private void closeOnFailure()
    {
        if (!closed)
        {
            close();
        }
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        frames.close();
        for (final Slot slot : slots)
        {
            if (slot.cas(IN_FLIGHT, COMPLETING))
            {
                finish(slot, Status.NOT_CONNECTED);
            }
        }
        fabric.removeConnection(this);
    }

    @Override
    public String toString()
    {
        return "TcpConnection{peer=" + peerAddress + ", busyPoll=" + busyPoll + "}";
    }
}
