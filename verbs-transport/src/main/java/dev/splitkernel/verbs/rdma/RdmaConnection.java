package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvRecvWR;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvSge;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import com.ibm.disni.verbs.SVCPostSend;
import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.auth.HandshakeDescriptor;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.CORRELATION_ID_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.HEADER_LENGTH;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.OPCODE_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.PAYLOAD_LENGTH_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.REGION_ADDRESS_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.REGION_ENTRY_LENGTH;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.REGION_LENGTH_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.REGION_RKEY_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.STATUS_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.TYPE_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.VERSION;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.VERSION_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaSendSlot.DELIVERING;
import static dev.splitkernel.verbs.rdma.RdmaSendSlot.NO_CALL;
import static dev.splitkernel.verbs.rdma.RdmaWorkRequestId.KIND_CONTROL;
import static dev.splitkernel.verbs.rdma.RdmaWorkRequestId.KIND_RECV;
import static dev.splitkernel.verbs.rdma.RdmaWorkRequestId.KIND_SEND;

/**
 * One reliable-connected queue pair to a peer, on the fabric's shared protection domain and completion queue.
 * <p>
 * Sends: a fixed table of send slots, each with a registered message buffer and three stateful verb calls
 * (SEND, RDMA READ, RDMA WRITE) prepared once; posting only patches addresses, keys and lengths in the prepared
 * native work request, so the data path allocates nothing. A slot is held by reference count: its owner (the
 * posting thread) and the work request in flight ({@link RdmaSendSlot}); the last to let go frees it, so a
 * timed-out operation never frees a message buffer the NIC may still use, and a timed-out blocking READ or WRITE
 * fences the connection before its caller's buffer is given back. Receives: {@code recvDepth} registered buffers
 * pre-posted ({@link RdmaRecvSlot}), each with its own prepared receive call, re-posted once the message is consumed.
 * <p>
 * Connector side: replies and the listener's region announcements are handled where completions are polled.
 * Listener side: requests go to the connection's {@link RdmaRequestService}, so a handler that blocks never stalls
 * completions.
 * <p>
 * Thread-safe: any thread may post; completions are handled by one thread at a time (the fabric's poller thread, or
 * a thread awaiting a one-sided operation, which polls the completion queue itself).
 */
final class RdmaConnection implements Connection
{
    /** Without busy-polling, a caller polls this often for its reply before parking until it is delivered. */
    private static final int REPLY_SPINS_BEFORE_PARK = 100;
    private static final int SUCCESS = IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal();
    private static final int REM_ACCESS_ERR = IbvWC.IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal();
    private static final int REM_INV_REQ_ERR = IbvWC.IbvWcStatus.IBV_WC_REM_INV_REQ_ERR.ordinal();
    private static final int LOC_LEN_ERR = IbvWC.IbvWcStatus.IBV_WC_LOC_LEN_ERR.ordinal();
    private static final int LOC_PROT_ERR = IbvWC.IbvWcStatus.IBV_WC_LOC_PROT_ERR.ordinal();

    /** Map a work completion status to ours. */
    static int mapWcStatus(final int wcStatus)
    {
        if (wcStatus == SUCCESS)
        {
            return Status.OK;
        }
        if (wcStatus == REM_ACCESS_ERR || wcStatus == REM_INV_REQ_ERR)
        {
            return Status.BAD_RKEY;
        }
        if (wcStatus == LOC_LEN_ERR || wcStatus == LOC_PROT_ERR)
        {
            return Status.OUT_OF_BOUNDS;
        }
        return Status.NOT_CONNECTED;
    }

    private final RdmaFabric fabric;
    private final RdmaContext ctx;
    private final FabricCounters counters;
    private final int index;
    private final int generation;
    private final boolean accepted;
    private final String peerAddress;
    private final RdmaEventChannel ownChannel;
    private final RdmaCmId id;
    private final IbvQP qp;
    private final IbvMr buffersMr;
    private final int maxMessageBytes;
    private final int maxInlineBytes;
    private final int maxOneSidedBytes;
    private final RdmaSendSlot[] slots;
    private final RdmaSendSlot control;
    private final RdmaRecvSlot[] recvs;
    private final AtomicInteger nextSlotHint = new AtomicInteger();
    private final AtomicInteger activePosters = new AtomicInteger();
    private final RdmaRemoteRegions remoteRegions = new RdmaRemoteRegions();

    // Listener side: requests to the service, region-removal acknowledgements from the peer.
    private final AtomicLong removeSequence = new AtomicLong();
    private volatile long ackedRemoveSequence;
    private final RdmaRequestService service;

    // Connector side: what the control slot still has to acknowledge (poller thread only).
    private long ackToSend;
    private boolean controlBusy;

    // Authentication: the handshake message received last, from the poller to the thread running the handshake.
    private final AtomicReference<byte[]> authInbox = new AtomicReference<>();
    private volatile boolean authenticated;

    private volatile boolean established;
    private volatile boolean tableComplete;
    private volatile boolean closed;
    private boolean scheduledForDestroy; // guarded by the fabric's teardown queue

    RdmaConnection(final RdmaFabric fabric, final int index, final int generation, final boolean accepted,
        final String peerAddress, final RdmaEventChannel ownChannel, final RdmaCmId id, final IbvQP qp,
        final RequestHandler handler) throws IOException
    {
        this.fabric = fabric;
        this.ctx = fabric.rdmaContext();
        this.counters = fabric.counters();
        this.index = index;
        this.generation = generation;
        this.accepted = accepted;
        this.peerAddress = peerAddress;
        this.ownChannel = ownChannel;
        this.id = id;
        this.qp = qp;
        this.maxMessageBytes = ctx.maxMessageBytes();
        this.maxInlineBytes = ctx.maxInlineBytes();
        this.maxOneSidedBytes = ctx.fabricContext().maxMessageBytes();

        final int frameBytes = HEADER_LENGTH + maxMessageBytes;
        final int slotCount = ctx.sendSlots();
        final int recvCount = ctx.recvDepth();
        final long totalBytes = (long)frameBytes * (slotCount + 1 + recvCount);
        if (totalBytes > Integer.MAX_VALUE)
        {
            throw new IOException("message buffers of " + totalBytes + " bytes exceed 2 GiB: lower "
                + RdmaContext.MAX_MESSAGE_PROP_NAME + ", " + RdmaContext.SEND_SLOTS_PROP_NAME + " or "
                + RdmaContext.RECV_DEPTH_PROP_NAME);
        }
        final ByteBuffer all = ByteBuffer.allocateDirect((int)totalBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.buffersMr = fabric.registerMessageBuffers(all);
        final long base = buffersMr.getAddr();
        final int lkey = buffersMr.getLkey();

        this.slots = new RdmaSendSlot[slotCount];
        for (int i = 0; i < slotCount; i++)
        {
            slots[i] = newSendSlot(i, KIND_SEND, all, base, lkey, i * frameBytes, frameBytes);
        }
        this.control = newSendSlot(0, KIND_CONTROL, all, base, lkey, slotCount * frameBytes, frameBytes);

        this.recvs = new RdmaRecvSlot[recvCount];
        for (int i = 0; i < recvCount; i++)
        {
            final int offset = (slotCount + 1 + i) * frameBytes;
            final IbvRecvWR wr = new IbvRecvWR();
            wr.setWr_id(RdmaWorkRequestId.encode(index, generation, KIND_RECV, i));
            wr.setSg_list(sgeList(base + offset, frameBytes, lkey));
            wr.setNum_sge(1);
            final List<IbvRecvWR> wrs = new ArrayList<>(1);
            wrs.add(wr);
            recvs[i] = new RdmaRecvSlot(new UnsafeBuffer(all, offset, frameBytes), qp.postRecv(wrs, null));
        }

        this.service = accepted && handler != null
            ? new RdmaRequestService(this, handler, fabric, recvCount, ctx.fabricContext()) : null;
    }

    private RdmaSendSlot newSendSlot(final int slotIndex, final int kind, final ByteBuffer all, final long base,
        final int lkey, final int offset, final int frameBytes) throws IOException
    {
        final long wrId = RdmaWorkRequestId.encode(index, generation, kind, slotIndex);
        final SVCPostSend send = prepare(wrId, IbvSendWR.IBV_WR_SEND, base + offset, frameBytes, lkey);
        final SVCPostSend read = prepare(wrId, IbvSendWR.IBV_WR_RDMA_READ, base + offset, frameBytes, lkey);
        final SVCPostSend write = prepare(wrId, IbvSendWR.IBV_WR_RDMA_WRITE, base + offset, frameBytes, lkey);
        return new RdmaSendSlot(slotIndex, new UnsafeBuffer(all, offset, frameBytes), base + offset, send, read, write);
    }

    private SVCPostSend prepare(final long wrId, final int opcode, final long address, final int length,
        final int lkey) throws IOException
    {
        final IbvSendWR wr = new IbvSendWR();
        wr.setWr_id(wrId);
        wr.setOpcode(opcode);
        wr.setSend_flags(IbvSendWR.IBV_SEND_SIGNALED);
        wr.setSg_list(sgeList(address, length, lkey));
        wr.setNum_sge(1);
        wr.getRdma().setRemote_addr(0);
        wr.getRdma().setRkey(0);
        final List<IbvSendWR> wrs = new ArrayList<>(1);
        wrs.add(wr);
        return qp.postSend(wrs, null);
    }

    private static LinkedList<IbvSge> sgeList(final long address, final int length, final int lkey)
    {
        final IbvSge sge = new IbvSge();
        sge.setAddr(address);
        sge.setLength(length);
        sge.setLkey(lkey);
        final LinkedList<IbvSge> list = new LinkedList<>();
        list.add(sge);
        return list;
    }

    /** Allow exactly these remote operations on this connection's queue pair ({@link QueuePairAccess}). */
    void setRemoteAccess(final int flags) throws IOException
    {
        QueuePairAccess.set(qp, flags);
    }

    /** The regions this side may address at the peer (a test plays a peer that guessed one). */
    RdmaRemoteRegions remoteRegions()
    {
        return remoteRegions;
    }

    /** Post every receive: before accept/connect, so the peer's first message finds a buffer. */
    void postAllReceives() throws IOException
    {
        for (final RdmaRecvSlot recv : recvs)
        {
            recv.post.execute();
        }
    }

    int index()
    {
        return index;
    }

    int generation()
    {
        return generation;
    }

    RdmaCmId cmId()
    {
        return id;
    }

    RdmaEventChannel ownChannel()
    {
        return ownChannel;
    }

    boolean isAccepted()
    {
        return accepted;
    }

    boolean isTableComplete()
    {
        return tableComplete;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Connection API
    // ---------------------------------------------------------------------------------------------------------

    @Override
    public String peerAddress()
    {
        return peerAddress;
    }

    /** Established, authenticated (the cluster handshake succeeded) and not closed. */
    @Override
    public boolean isConnected()
    {
        return established && authenticated && !closed;
    }

    boolean isAuthenticated()
    {
        return authenticated;
    }

    /** The handshake succeeded: at the listener, requests are dispatched from now on. */
    void markAuthenticated()
    {
        authenticated = true;
    }

    /** Send one handshake message as an AUTH frame. Control path. */
    int sendAuth(final byte[] message, final long timeoutNs)
    {
        final int slotIndex = acquireSlot(System.nanoTime() + timeoutNs);
        if (slotIndex < 0)
        {
            return slotIndex;
        }
        final RdmaSendSlot slot = slots[slotIndex];
        encodeHeader(slot.buffer, RdmaFrameDescriptor.TYPE_AUTH, 0, 0, message.length);
        slot.buffer.putBytes(HEADER_LENGTH, message);
        final int posted = postSend(slot, HEADER_LENGTH + message.length);
        if (posted != Status.OK)
        {
            release(slot);
        }
        return posted;
    }

    /** The next handshake message from the peer, or null when the connection broke or the deadline passed. */
    byte[] awaitAuth(final long deadlineNs)
    {
        while (true)
        {
            final byte[] message = authInbox.getAndSet(null);
            if (message != null)
            {
                return message;
            }
            if (closed || System.nanoTime() - deadlineNs > 0)
            {
                return null;
            }
            LockSupport.parkNanos(20_000);
        }
    }

    @Override
    public int postRead(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        return postOneSided(true, local, localOffset, remoteAddress, rkey, lengthBytes, completion, false);
    }

    @Override
    public int postWrite(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        return postOneSided(false, local, localOffset, remoteAddress, rkey, lengthBytes, completion, false);
    }

    @Override
    public int read(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        return blockingOneSided(true, local, localOffset, remoteAddress, rkey, lengthBytes, timeoutNs);
    }

    @Override
    public int write(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        return blockingOneSided(false, local, localOffset, remoteAddress, rkey, lengthBytes, timeoutNs);
    }

    private int blockingOneSided(final boolean isRead, final MemoryRegion local, final int localOffset,
        final long remoteAddress, final int rkey, final int lengthBytes, final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        // From before the post: the poller thread then stays aside across back-to-back operations of this caller.
        final boolean polling = fabric.callerWaits();
        try
        {
            return postAndAwait(isRead, local, localOffset, remoteAddress, rkey, lengthBytes, deadlineNs);
        }
        finally
        {
            if (polling)
            {
                fabric.callerDone();
            }
        }
    }

    private int postAndAwait(final boolean isRead, final MemoryRegion local, final int localOffset,
        final long remoteAddress, final int rkey, final int lengthBytes, final long deadlineNs)
    {
        final int slotIndex = acquireSlot(deadlineNs);
        if (slotIndex < 0)
        {
            return count(slotIndex);
        }
        final RdmaSendSlot slot = slots[slotIndex];
        final int posted = postOneSidedOn(slot, isRead, local, localOffset, remoteAddress, rkey, lengthBytes,
            slot.ownCompletion, true);
        if (posted != Status.OK)
        {
            release(slot);
            return posted;
        }
        int status = slot.ownCompletion.await(Math.max(0, deadlineNs - System.nanoTime()));
        if (status == Status.TIMEOUT)
        {
            status = fenceTimedOut(slot);
        }
        release(slot);
        return count(status);
    }

    /**
     * The operation outlived its deadline but the NIC may still carry it out: a READ landing after we returned
     * would overwrite a buffer the caller has reused (an ExCache line now holding another address). So the
     * connection is torn down (its queue pair moves to the error state, which flushes the request) and we wait for
     * the request's own completion (flushed, or late but done) before the caller gets its buffer back.
     *
     * @return TIMEOUT once the request is finished with the buffer; NOT_CONNECTED if even the teardown did not
     *     finish it within the fence timeout (the fabric records that).
     */
    private int fenceTimedOut(final RdmaSendSlot slot)
    {
        fabric.closeConnection(this);
        final int fenced = slot.ownCompletion.await(ctx.fenceTimeoutNs());
        if (fenced == Status.TIMEOUT)
        {
            fabric.recordError("a timed-out one-sided operation to " + peerAddress + " was not flushed within "
                + ctx.fenceTimeoutNs() / 1_000_000 + " ms of the teardown (" + RdmaContext.FENCE_TIMEOUT_PROP_NAME
                + ")", null);
            return Status.NOT_CONNECTED;
        }
        return Status.TIMEOUT;
    }

    private int postOneSided(final boolean isRead, final MemoryRegion local, final int localOffset,
        final long remoteAddress, final int rkey, final int lengthBytes, final Completion completion,
        final boolean ownerKeepsHold)
    {
        final int slotIndex = acquireSlot(0);
        if (slotIndex < 0)
        {
            return count(slotIndex);
        }
        final RdmaSendSlot slot = slots[slotIndex];
        final int posted = postOneSidedOn(slot, isRead, local, localOffset, remoteAddress, rkey, lengthBytes,
            completion, ownerKeepsHold);
        if (posted != Status.OK)
        {
            release(slot);
        }
        return posted;
    }

    /** Validate and post on a held slot. On OK the work request holds the slot (plus the owner if it keeps it). */
    private int postOneSidedOn(final RdmaSendSlot slot, final boolean isRead, final MemoryRegion local,
        final int localOffset, final long remoteAddress, final int rkey, final int lengthBytes,
        final Completion completion, final boolean ownerKeepsHold)
    {
        if (!(local instanceof RdmaRegion) || ((RdmaRegion)local).owner() != fabric)
        {
            throw new IllegalArgumentException("local region " + local + " was not allocated by this rdma fabric: "
                + "allocate it with the fabric that owns the connection");
        }
        final RdmaRegion region = (RdmaRegion)local;
        if (!region.isRegistered() || localOffset < 0 || lengthBytes < 0
            || localOffset > region.lengthBytes() - lengthBytes)
        {
            return count(Status.OUT_OF_BOUNDS);
        }
        if (lengthBytes > maxOneSidedBytes)
        {
            return count(Status.TOO_LARGE);
        }
        final int check = remoteRegions.check(rkey, remoteAddress, lengthBytes);
        if (check != Status.OK)
        {
            return count(check);
        }

        completion.reset(fabric.callerPolling()); // its waiter polls the completion queue itself
        slot.opCompletion = completion;
        slot.opCounter = isRead ? FabricCounters.BYTES_READ : FabricCounters.BYTES_WRITTEN;
        slot.opBytes = lengthBytes;
        if (ownerKeepsHold)
        {
            slot.holds.incrementAndGet();
        }
        final SVCPostSend call = isRead ? slot.read : slot.write;
        if (!enterPost())
        {
            undoPost(slot, ownerKeepsHold);
            return count(Status.NOT_CONNECTED);
        }
        try
        {
            final SVCPostSend.SendWRMod wr = call.getWrMod(0);
            final SVCPostSend.SgeMod sge = wr.getSgeMod(0);
            sge.setAddr(region.address() + localOffset);
            sge.setLength(lengthBytes);
            sge.setLkey(region.lkey());
            wr.getRdmaMod().setRemote_addr(remoteAddress);
            wr.getRdmaMod().setRkey(rkey);
            call.execute();
        }
        catch (final IOException ex)
        {
            undoPost(slot, ownerKeepsHold);
            markBroken();
            return count(Status.NOT_CONNECTED);
        }
        finally
        {
            activePosters.decrementAndGet();
        }
        counters.increment(isRead ? FabricCounters.READS : FabricCounters.WRITES);
        return Status.OK;
    }

    private void undoPost(final RdmaSendSlot slot, final boolean ownerKeepsHold)
    {
        slot.opCompletion = null;
        if (ownerKeepsHold)
        {
            slot.holds.decrementAndGet();
        }
    }

    @Override
    public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final long timeoutNs)
    {
        if (replyOffset < 0 || replyCapacity < 0 || replyOffset > reply.capacity() - replyCapacity)
        {
            return count(Status.OUT_OF_BOUNDS);
        }
        return callInto(opcode, request, offset, length, reply, replyOffset, replyCapacity, null, 0, 0, timeoutNs);
    }

    /**
     * A scattered call: the poller copies the reply from its receive buffer straight into the header target and the
     * data target (a line fetch's ExCache line), with no scratch buffer between. (A two-sided SEND must land in a
     * pre-posted receive buffer first, so that one copy remains.)
     */
    @Override
    public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength, final MutableDirectBuffer data,
        final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        if (headerLength < 0 || replyOffset < 0 || replyOffset > reply.capacity() - headerLength || dataCapacity < 0 ||
            dataOffset < 0 || dataOffset > data.capacity() - dataCapacity)
        {
            return count(Status.OUT_OF_BOUNDS);
        }
        return callInto(opcode, request, offset, length, reply, replyOffset, headerLength, data, dataOffset,
            dataCapacity, timeoutNs);
    }

    /**
     * A call whose reply's first {@code headerLength} bytes go to {@code reply}, the rest (if any) to {@code data}.
     * Busy-polling, the caller is the one thread spinning on the completion queue from before its post.
     */
    private int callInto(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength, final MutableDirectBuffer data,
        final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        final boolean polling = fabric.callerWaits();
        try
        {
            return callAndAwait(opcode, request, offset, length, reply, replyOffset, headerLength, data, dataOffset,
                dataCapacity, timeoutNs);
        }
        finally
        {
            if (polling)
            {
                fabric.callerDone();
            }
        }
    }

    private int callAndAwait(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength, final MutableDirectBuffer data,
        final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        if (length < 0 || offset < 0 || offset > request.capacity() - length)
        {
            return count(Status.OUT_OF_BOUNDS);
        }
        if (length > maxMessageBytes)
        {
            return count(Status.TOO_LARGE);
        }
        final long deadlineNs = System.nanoTime() + timeoutNs;
        final int slotIndex = acquireSlot(deadlineNs);
        if (slotIndex < 0)
        {
            return count(slotIndex);
        }
        final RdmaSendSlot slot = slots[slotIndex];
        final long correlationId = (++slot.sequence << 16) | slot.index;
        slot.replyBuffer = reply;
        slot.replyOffset = replyOffset;
        slot.replyCapacity = headerLength + dataCapacity;
        slot.dataBuffer = data;
        slot.dataOffset = dataOffset;
        slot.headerLength = headerLength;
        slot.replyDone = false;
        slot.expectedCorrelationId.set(correlationId);

        encodeHeader(slot.buffer, RdmaFrameDescriptor.TYPE_REQUEST, opcode, correlationId, length);
        slot.buffer.putBytes(HEADER_LENGTH, request, offset, length);
        slot.holds.incrementAndGet();
        final int posted = postSend(slot, HEADER_LENGTH + length);
        if (posted != Status.OK)
        {
            slot.expectedCorrelationId.set(NO_CALL);
            slot.holds.decrementAndGet();
            release(slot);
            return count(posted);
        }
        counters.increment(FabricCounters.CALLS);
        counters.add(FabricCounters.BYTES_REQUESTED, length);

        int result = awaitReply(slot, deadlineNs);
        if (result == Status.TIMEOUT && !slot.expectedCorrelationId.compareAndSet(correlationId, NO_CALL))
        {
            // The poller is delivering this very reply: it completes in moments.
            while (!slot.replyDone)
            {
                Thread.onSpinWait();
            }
            result = slot.replyResult;
        }
        slot.replyBuffer = null;
        slot.dataBuffer = null;
        release(slot);
        return count(result);
    }

    /** The call's result is in: wake its caller if it parks (poller thread, or a teardown). */
    private static void deliverReply(final RdmaSendSlot slot, final int result)
    {
        slot.replyResult = result;
        slot.replyDone = true;
        final Thread waiter = slot.replyWaiter;
        if (waiter != null)
        {
            LockSupport.unpark(waiter);
        }
    }

    /**
     * Poll the completion queue for the reply (busy-polling: until it comes) or, after a few empty polls, park until
     * {@link #deliverReply} wakes us: a caller that wakes on a timer instead holds a CPU the poller and the device
     * need where CPUs are scarce, and answers late.
     */
    private int awaitReply(final RdmaSendSlot slot, final long deadlineNs)
    {
        int spins = 0;
        final boolean busyPoll = ctx.fabricContext().busyPoll();
        while (!slot.replyDone)
        {
            final long leftNs = deadlineNs - System.nanoTime();
            if (leftNs < 0)
            {
                return Status.TIMEOUT;
            }
            if (fabric.callerPolling().progress() > 0)
            {
                spins = 0; // the reply may be among what this thread just dispatched
            }
            else if (busyPoll || ++spins < REPLY_SPINS_BEFORE_PARK)
            {
                Thread.onSpinWait();
            }
            else
            {
                slot.replyWaiter = Thread.currentThread();
                if (!slot.replyDone)
                {
                    LockSupport.parkNanos(leftNs);
                }
                slot.replyWaiter = null;
            }
        }
        return slot.replyResult;
    }

    @Override
    public int send(final int opcode, final DirectBuffer message, final int offset, final int length)
    {
        if (length < 0 || offset < 0 || offset > message.capacity() - length)
        {
            return count(Status.OUT_OF_BOUNDS);
        }
        if (length > maxMessageBytes)
        {
            return count(Status.TOO_LARGE);
        }
        // Every slot busy means the peer has not yet acknowledged earlier messages: wait for one, boundedly.
        final int slotIndex = acquireSlot(System.nanoTime() + ctx.fabricContext().operationTimeoutNs());
        if (slotIndex < 0)
        {
            return count(slotIndex == Status.TIMEOUT ? Status.BACK_PRESSURED : slotIndex);
        }
        final RdmaSendSlot slot = slots[slotIndex];
        encodeHeader(slot.buffer, RdmaFrameDescriptor.TYPE_ONE_WAY, opcode, 0, length);
        slot.buffer.putBytes(HEADER_LENGTH, message, offset, length);
        final int posted = postSend(slot, HEADER_LENGTH + length);
        if (posted != Status.OK)
        {
            release(slot);
            return count(posted);
        }
        counters.increment(FabricCounters.SENDS);
        counters.add(FabricCounters.BYTES_REQUESTED, length);
        return Status.OK;
    }

    @Override
    public void close()
    {
        fabric.closeConnection(this);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Posting helpers
    // ---------------------------------------------------------------------------------------------------------

    private static void encodeHeader(final UnsafeBuffer buffer, final byte type, final int opcodeOrStatus,
        final long correlationId, final int payloadLength)
    {
        buffer.putByte(TYPE_OFFSET, type);
        buffer.putByte(VERSION_OFFSET, VERSION);
        buffer.putShort(VERSION_OFFSET + 1, (short)0);
        buffer.putInt(OPCODE_OFFSET, opcodeOrStatus);
        buffer.putLong(CORRELATION_ID_OFFSET, correlationId);
        buffer.putInt(PAYLOAD_LENGTH_OFFSET, payloadLength);
        buffer.putInt(PAYLOAD_LENGTH_OFFSET + 4, 0);
    }

    /** Post the slot's SEND of {@code frameLength} bytes; the work request takes over the caller's hold on OK. */
    private int postSend(final RdmaSendSlot slot, final int frameLength)
    {
        slot.opCompletion = null;
        if (!enterPost())
        {
            return Status.NOT_CONNECTED;
        }
        try
        {
            final SVCPostSend.SendWRMod wr = slot.send.getWrMod(0);
            wr.setSend_flags(frameLength <= maxInlineBytes
                ? IbvSendWR.IBV_SEND_SIGNALED | IbvSendWR.IBV_SEND_INLINE : IbvSendWR.IBV_SEND_SIGNALED);
            wr.getSgeMod(0).setLength(frameLength);
            slot.send.execute();
            return Status.OK;
        }
        catch (final IOException ex)
        {
            markBroken();
            return Status.NOT_CONNECTED;
        }
        finally
        {
            activePosters.decrementAndGet();
        }
    }

    private boolean enterPost()
    {
        activePosters.incrementAndGet();
        if (closed || !established)
        {
            activePosters.decrementAndGet();
            return false;
        }
        return true;
    }

    boolean hasActivePosters()
    {
        return activePosters.get() != 0;
    }

    /**
     * Take a free slot (reference count 0 to 1), spinning until {@code deadlineNs} (0: try once).
     *
     * @return the slot index, or BACK_PRESSURED / TIMEOUT / NOT_CONNECTED.
     */
    private int acquireSlot(final long deadlineNs)
    {
        final int n = slots.length;
        int spins = 0;
        while (true)
        {
            if (closed || !established)
            {
                return Status.NOT_CONNECTED;
            }
            final int start = nextSlotHint.getAndIncrement() & 0x7FFF_FFFF;
            for (int i = 0; i < n; i++)
            {
                final RdmaSendSlot slot = slots[(start + i) % n];
                if (slot.holds.get() == 0 && slot.holds.compareAndSet(0, 1))
                {
                    return slot.index;
                }
            }
            if (deadlineNs == 0)
            {
                return Status.BACK_PRESSURED;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                return Status.TIMEOUT;
            }
            if (++spins > 1_000)
            {
                Thread.yield();
            }
            else
            {
                Thread.onSpinWait();
            }
        }
    }

    private static void release(final RdmaSendSlot slot)
    {
        slot.holds.decrementAndGet();
    }

    private int count(final int status)
    {
        counters.countError(status);
        return status;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Region announcements (listener side; callers hold the fabric's region lock)
    // ---------------------------------------------------------------------------------------------------------

    /** Send entries for {@code regions} and then TABLE_END. Control path. */
    int sendRegionTable(final List<RdmaRegion> regions, final long timeoutNs)
    {
        final int perFrame = Math.max(1, RdmaFrameDescriptor.regionEntriesPerFrame(maxMessageBytes));
        for (int from = 0; from < regions.size(); from += perFrame)
        {
            final int status = sendRegions(regions.subList(from, Math.min(regions.size(), from + perFrame)),
                timeoutNs);
            if (status != Status.OK)
            {
                return status;
            }
        }
        return sendControl(RdmaFrameDescriptor.TYPE_TABLE_END, 0, 0, timeoutNs);
    }

    int sendRegions(final List<RdmaRegion> regions, final long timeoutNs)
    {
        final int slotIndex = acquireSlot(System.nanoTime() + timeoutNs);
        if (slotIndex < 0)
        {
            return slotIndex;
        }
        final RdmaSendSlot slot = slots[slotIndex];
        encodeHeader(slot.buffer, RdmaFrameDescriptor.TYPE_REGION_ADD, regions.size(), 0,
            regions.size() * REGION_ENTRY_LENGTH);
        int offset = HEADER_LENGTH;
        for (final RdmaRegion region : regions)
        {
            slot.buffer.putInt(offset + REGION_RKEY_OFFSET, region.rkey());
            slot.buffer.putInt(offset + REGION_LENGTH_OFFSET, region.lengthBytes());
            slot.buffer.putLong(offset + REGION_ADDRESS_OFFSET, region.address());
            offset += REGION_ENTRY_LENGTH;
        }
        final int posted = postSend(slot, offset);
        if (posted != Status.OK)
        {
            release(slot);
        }
        return posted;
    }

    /** Announce a removed region; returns the sequence number to await with {@link #awaitRemoveAck}, or < 0. */
    long sendRegionRemove(final int rkey, final long timeoutNs)
    {
        final long sequence = removeSequence.incrementAndGet();
        final int status = sendControl(RdmaFrameDescriptor.TYPE_REGION_REMOVE, rkey, sequence, timeoutNs);
        return status == Status.OK ? sequence : status;
    }

    boolean awaitRemoveAck(final long sequence, final long deadlineNs)
    {
        while (ackedRemoveSequence < sequence)
        {
            if (closed || System.nanoTime() - deadlineNs > 0)
            {
                return false;
            }
            Thread.yield();
        }
        return true;
    }

    private int sendControl(final byte type, final int opcode, final long correlationId, final long timeoutNs)
    {
        final int slotIndex = acquireSlot(System.nanoTime() + timeoutNs);
        if (slotIndex < 0)
        {
            return slotIndex;
        }
        final RdmaSendSlot slot = slots[slotIndex];
        encodeHeader(slot.buffer, type, opcode, correlationId, 0);
        final int posted = postSend(slot, HEADER_LENGTH);
        if (posted != Status.OK)
        {
            release(slot);
        }
        return posted;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Completions: called by the fabric's poller thread, or a waiter polling for its own (one at a time)
    // ---------------------------------------------------------------------------------------------------------

    void onEstablished()
    {
        established = true;
    }

    void onCompletion(final int kind, final int slotIndex, final int wcStatus, final int byteLength)
    {
        final int status = mapWcStatus(wcStatus);
        if (status != Status.OK)
        {
            // Any error completion moves the queue pair to the error state: the connection is gone.
            markBroken();
        }
        switch (kind)
        {
            case KIND_SEND:
                onSendCompletion(slots[slotIndex], status);
                break;
            case KIND_RECV:
                if (status == Status.OK)
                {
                    onReceive(slotIndex, byteLength);
                }
                break;
            case KIND_CONTROL:
                controlBusy = false;
                if (status == Status.OK && ackToSend > 0)
                {
                    sendAck();
                }
                break;
            default:
                break;
        }
    }

    private void onSendCompletion(final RdmaSendSlot slot, final int status)
    {
        final Completion completion = slot.opCompletion;
        if (completion != null)
        {
            slot.opCompletion = null;
            if (status == Status.OK)
            {
                counters.add(slot.opCounter, slot.opBytes);
            }
            completion.complete(status);
        }
        else if (status != Status.OK)
        {
            // A request whose SEND failed gets no reply: fail the waiting call now rather than at its timeout.
            final long expected = slot.expectedCorrelationId.get();
            if (expected > 0 && slot.expectedCorrelationId.compareAndSet(expected, DELIVERING))
            {
                deliverReply(slot, status);
            }
        }
        release(slot);
    }

    private void onReceive(final int recvIndex, final int byteLength)
    {
        final RdmaRecvSlot recv = recvs[recvIndex];
        final UnsafeBuffer buffer = recv.buffer;
        if (byteLength < HEADER_LENGTH || buffer.getByte(VERSION_OFFSET) != VERSION
            || buffer.getInt(PAYLOAD_LENGTH_OFFSET) < 0
            || buffer.getInt(PAYLOAD_LENGTH_OFFSET) > byteLength - HEADER_LENGTH)
        {
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            repost(recv);
            return;
        }
        final byte type = buffer.getByte(TYPE_OFFSET);
        if (type == RdmaFrameDescriptor.TYPE_AUTH)
        {
            onAuth(buffer);
            repost(recv);
            return;
        }
        if (accepted && !authenticated)
        {
            // Nothing from a peer that has not proven it knows the cluster secret reaches a handler: drop it and
            // break the connection; the handshake thread then refuses the peer and counts it.
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            markBroken();
            repost(recv);
            return;
        }
        switch (type)
        {
            case RdmaFrameDescriptor.TYPE_REQUEST:
            case RdmaFrameDescriptor.TYPE_ONE_WAY:
                if (service != null)
                {
                    recv.byteLength = byteLength;
                    service.offer(recvIndex);
                    return;
                }
                counters.increment(FabricCounters.MALFORMED_FRAMES);
                break;
            case RdmaFrameDescriptor.TYPE_REPLY:
                deliverReply(buffer);
                break;
            case RdmaFrameDescriptor.TYPE_REGION_ADD:
                onRegionAdd(buffer);
                break;
            case RdmaFrameDescriptor.TYPE_REGION_REMOVE:
                remoteRegions.remove(buffer.getInt(OPCODE_OFFSET));
                ackToSend = Math.max(ackToSend, buffer.getLong(CORRELATION_ID_OFFSET));
                if (!controlBusy)
                {
                    sendAck();
                }
                break;
            case RdmaFrameDescriptor.TYPE_REGION_ACK:
                ackedRemoveSequence = Math.max(ackedRemoveSequence, buffer.getLong(CORRELATION_ID_OFFSET));
                break;
            case RdmaFrameDescriptor.TYPE_TABLE_END:
                tableComplete = true;
                break;
            default:
                counters.increment(FabricCounters.MALFORMED_FRAMES);
                break;
        }
        repost(recv);
    }

    /** A handshake message: hand a copy to the handshake thread (control path: allocates). */
    private void onAuth(final UnsafeBuffer buffer)
    {
        final int length = buffer.getInt(PAYLOAD_LENGTH_OFFSET);
        if (authenticated || length != HandshakeDescriptor.MESSAGE_LENGTH)
        {
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            markBroken();
            return;
        }
        final byte[] message = new byte[length];
        buffer.getBytes(HEADER_LENGTH, message);
        if (!authInbox.compareAndSet(null, message))
        {
            // The handshake alternates strictly: a second message before the first was taken breaks the protocol.
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            markBroken();
        }
    }

    private void deliverReply(final UnsafeBuffer buffer)
    {
        final long correlationId = buffer.getLong(CORRELATION_ID_OFFSET);
        final int slotIndex = (int)(correlationId & 0xFFFF);
        if (correlationId <= 0 || slotIndex >= slots.length)
        {
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            return;
        }
        final RdmaSendSlot slot = slots[slotIndex];
        if (!slot.expectedCorrelationId.compareAndSet(correlationId, DELIVERING))
        {
            return; // the call timed out and left: drop its late reply
        }
        final int status = buffer.getInt(STATUS_OFFSET);
        final int length = buffer.getInt(PAYLOAD_LENGTH_OFFSET);
        int result;
        if (status < 0)
        {
            result = status;
        }
        else if (length > slot.replyCapacity)
        {
            result = Status.TOO_LARGE;
        }
        else if (slot.dataBuffer != null && length > slot.headerLength)
        {
            slot.replyBuffer.putBytes(slot.replyOffset, buffer, HEADER_LENGTH, slot.headerLength);
            slot.dataBuffer.putBytes(slot.dataOffset, buffer, HEADER_LENGTH + slot.headerLength,
                length - slot.headerLength);
            counters.add(FabricCounters.BYTES_REPLIED, length);
            result = length;
        }
        else
        {
            slot.replyBuffer.putBytes(slot.replyOffset, buffer, HEADER_LENGTH, length);
            counters.add(FabricCounters.BYTES_REPLIED, length);
            result = length;
        }
        deliverReply(slot, result);
    }

    private void onRegionAdd(final UnsafeBuffer buffer)
    {
        final int count = buffer.getInt(OPCODE_OFFSET);
        if (count < 0 || count * REGION_ENTRY_LENGTH != buffer.getInt(PAYLOAD_LENGTH_OFFSET))
        {
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            return;
        }
        int offset = HEADER_LENGTH;
        for (int i = 0; i < count; i++)
        {
            remoteRegions.add(buffer.getInt(offset + REGION_RKEY_OFFSET), buffer.getLong(offset + REGION_ADDRESS_OFFSET),
                buffer.getInt(offset + REGION_LENGTH_OFFSET));
            offset += REGION_ENTRY_LENGTH;
        }
    }

    /** Acknowledge the newest region removal on the control slot (poller thread; one in flight at a time). */
    private void sendAck()
    {
        if (closed)
        {
            return;
        }
        encodeHeader(control.buffer, RdmaFrameDescriptor.TYPE_REGION_ACK, 0, ackToSend, 0);
        ackToSend = 0;
        controlBusy = true;
        activePosters.incrementAndGet();
        try
        {
            final SVCPostSend.SendWRMod wr = control.send.getWrMod(0);
            wr.setSend_flags(HEADER_LENGTH <= maxInlineBytes
                ? IbvSendWR.IBV_SEND_SIGNALED | IbvSendWR.IBV_SEND_INLINE : IbvSendWR.IBV_SEND_SIGNALED);
            wr.getSgeMod(0).setLength(HEADER_LENGTH);
            control.send.execute();
        }
        catch (final IOException ex)
        {
            controlBusy = false;
            markBroken();
        }
        finally
        {
            activePosters.decrementAndGet();
        }
    }

    void repost(final RdmaRecvSlot recv)
    {
        if (closed)
        {
            return;
        }
        activePosters.incrementAndGet();
        try
        {
            if (!closed)
            {
                recv.post.execute();
            }
        }
        catch (final IOException ex)
        {
            markBroken();
        }
        finally
        {
            activePosters.decrementAndGet();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Listener side: what the request service ({@link RdmaRequestService}) uses
    // ---------------------------------------------------------------------------------------------------------

    RdmaRecvSlot recvSlot(final int recvIndex)
    {
        return recvs[recvIndex];
    }

    /** A send slot for a reply, waiting until {@code deadlineNs}; null (counted) when none frees up. */
    RdmaSendSlot acquireReplySlot(final long deadlineNs)
    {
        final int slotIndex = acquireSlot(deadlineNs);
        if (slotIndex < 0)
        {
            counters.countError(slotIndex);
            return null;
        }
        return slots[slotIndex];
    }

    /** Send the reply the handler wrote at the slot's payload: {@code result} bytes, or a negative status. */
    void postReply(final RdmaSendSlot slot, final int result, final long correlationId)
    {
        final int replyLength = Math.max(0, result);
        encodeHeader(slot.buffer, RdmaFrameDescriptor.TYPE_REPLY, Math.min(0, result), correlationId, replyLength);
        if (postSend(slot, HEADER_LENGTH + replyLength) != Status.OK)
        {
            release(slot);
        }
    }

    int maxMessageBytes()
    {
        return maxMessageBytes;
    }

    void startService()
    {
        service.start("rdma-service-" + index + "-" + peerAddress);
    }

    Thread serviceThread()
    {
        return service == null ? null : service.thread();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Teardown
    // ---------------------------------------------------------------------------------------------------------

    /** The queue pair failed or the peer left: no new operation starts; waiting ones see NOT_CONNECTED or time out. */
    void markBroken()
    {
        closed = true;
        if (service != null)
        {
            service.wake(); // its thread ends, so the teardown need not wait out its idle park
        }
    }

    boolean isClosed()
    {
        return closed;
    }

    /** True the first time only: the fabric schedules each connection's teardown once. */
    boolean markScheduledForDestroy()
    {
        if (scheduledForDestroy)
        {
            return false;
        }
        scheduledForDestroy = true;
        return true;
    }

    /** Fail every call still waiting for a reply (after the queue pair is gone, none will come). */
    void failPendingCalls()
    {
        for (final RdmaSendSlot slot : slots)
        {
            final long expected = slot.expectedCorrelationId.get();
            if (expected > 0 && slot.expectedCorrelationId.compareAndSet(expected, DELIVERING))
            {
                deliverReply(slot, Status.NOT_CONNECTED);
            }
            final Completion completion = slot.opCompletion;
            if (completion != null)
            {
                slot.opCompletion = null;
                completion.complete(Status.NOT_CONNECTED);
            }
        }
    }

    /**
     * Release the queue pair, buffers and cm id; the caller made sure no thread posts any more and the service
     * thread ended. The connector's event channel ({@link #ownChannel()}) is left to the caller.
     */
    void destroy()
    {
        try
        {
            id.destroyQP();
        }
        catch (final IOException | RuntimeException ex)
        {
            fabric.recordError("destroying the queue pair to " + peerAddress, ex);
        }
        for (final RdmaSendSlot slot : slots)
        {
            slot.send.free();
            slot.read.free();
            slot.write.free();
        }
        control.send.free();
        control.read.free();
        control.write.free();
        for (final RdmaRecvSlot recv : recvs)
        {
            recv.post.free();
        }
        fabric.deregisterMessageBuffers(buffersMr);
        try
        {
            id.destroyId();
        }
        catch (final IOException | RuntimeException ex)
        {
            fabric.recordError("destroying the cm id of " + peerAddress, ex);
        }
        // The connector's own event channel is destroyed by the connection-management thread, which polls it.
    }

    @Override
    public String toString()
    {
        return "RdmaConnection{peer=" + peerAddress + ", index=" + index + ", accepted=" + accepted
            + ", established=" + established + ", closed=" + closed + ", peerRegions=" + remoteRegions.size() + "}";
    }
}
