package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.support.Region;
import dev.splitkernel.verbs.support.RegionTable;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.splitkernel.verbs.tcp.FrameDescriptor.BYTE_ORDER;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.CORRELATION_ID_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.HEADER_LENGTH;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.LENGTH_FIELD_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.OPCODE_OR_STATUS_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.REMOTE_ADDRESS_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.RKEY_OFFSET;

/**
 * The target end of one accepted, authenticated connection, served by the fabric's {@link TcpPoller}: the NIC-like
 * part. It serves one-sided READ and WRITE itself, touching only registered regions after checking rkey and bounds,
 * and runs the {@link RequestHandler} inline (its reply encoded in place in the send buffer), or queues the request
 * to the fabric's {@link TcpServerWorkers} when the request {@link RequestHandler#mayBlock may block} or every
 * request goes to workers. A frame that breaks the protocol is counted and closes this connection only.
 * <p>
 * Receiving is owned by the poller; sending is serialised by the send lock (workers reply too); {@link #close()}
 * may be called from any thread.
 */
final class TcpServerConnection implements FrameChannel.FrameHandler
{
    private final FrameChannel frames;
    private final RegionTable regions;
    private final RequestHandler handler;
    private final FabricCounters counters;
    private final TcpFabric fabric;
    private final boolean busyPoll;
    private final long operationTimeoutNs;
    private final int maxMessageBytes;
    private final boolean allToWorkers;
    private final TcpPoller poller;
    private final String localPeerKey;
    private final Object sendLock = new Object();
    /** Its client runs in this process and says when a frame is on its way: the poller keeps it out of the hot list. */
    private volatile boolean hinted;
    private volatile boolean closed;
    private volatile boolean failed;

    TcpServerConnection(
        final TcpFabric fabric, final TcpPoller poller, final FrameChannel frames, final RegionTable regions,
        final RequestHandler handler, final boolean allToWorkers)
    {
        this.allToWorkers = allToWorkers;
        this.poller = poller;
        this.localPeerKey = LocalPeers.keyAtServer(frames.channel());
        this.fabric = fabric;
        this.frames = frames;
        this.regions = regions;
        this.handler = handler;
        this.counters = fabric.counters();
        this.busyPoll = fabric.context().busyPoll();
        this.operationTimeoutNs = fabric.context().operationTimeoutNs();
        this.maxMessageBytes = fabric.context().maxMessageBytes();
    }

    java.nio.channels.SocketChannel channel()
    {
        return frames.channel();
    }

    /** From now on a client in this process may find this end ({@link LocalPeers}) and hint its frames. */
    void registerLocal()
    {
        LocalPeers.add(localPeerKey, this);
    }

    /**
     * From the client's thread, after it wrote a frame to this connection: the poller reads this connection at its
     * next duty cycle instead of waiting for a select.
     */
    void expectFrame()
    {
        if (!hinted)
        {
            hinted = true;
        }
        poller.expect(this);
    }

    boolean isHinted()
    {
        return hinted;
    }

    /**
     * The socket is readable: serve every complete frame.
     *
     * @return frames served, or -1 when the connection is over (closed by the peer, broken, or malformed).
     */
    int onReadable()
    {
        if (closed || failed)
        {
            return -1;
        }
        final int result = frames.poll(this, true);
        if (result == FrameChannel.MALFORMED)
        {
            counters.increment(FabricCounters.MALFORMED_FRAMES);
            fabric.reportError("refused a malformed frame from " + remote() + " (" + frames.malformedReason()
                + "); closed that connection");
            return -1;
        }
        return result == FrameChannel.CLOSED || failed ? -1 : result;
    }

    @Override
    public void onFrame(final UnsafeBuffer buffer, final int offset, final int frameLength, final byte type)
    {
        final long correlationId = buffer.getLong(offset + CORRELATION_ID_OFFSET, BYTE_ORDER);
        final int payloadLength = frameLength - HEADER_LENGTH;
        switch (type)
        {
            case FrameDescriptor.READ_REQUEST:
                onRead(buffer, offset, correlationId);
                break;
            case FrameDescriptor.WRITE_REQUEST:
                onWrite(buffer, offset, payloadLength, correlationId);
                break;
            case FrameDescriptor.CALL_REQUEST:
            case FrameDescriptor.SEND:
                onRequest(buffer, offset, payloadLength, correlationId, type == FrameDescriptor.CALL_REQUEST);
                break;
            default:
                break;
        }
    }

    private void onRead(final UnsafeBuffer buffer, final int offset, final long correlationId)
    {
        final long remoteAddress = buffer.getLong(offset + REMOTE_ADDRESS_OFFSET, BYTE_ORDER);
        final int rkey = buffer.getInt(offset + RKEY_OFFSET, BYTE_ORDER);
        final int length = buffer.getInt(offset + LENGTH_FIELD_OFFSET, BYTE_ORDER);
        int status = Status.OK;
        Region region = null;
        long regionOffset = -1;
        if (length < 0 || length > maxMessageBytes)
        {
            status = length < 0 ? Status.OUT_OF_BOUNDS : Status.TOO_LARGE;
        }
        else if ((region = regions.lookup(rkey)) == null)
        {
            status = Status.BAD_RKEY;
        }
        else if ((regionOffset = region.offsetOf(remoteAddress, length)) < 0)
        {
            status = Status.OUT_OF_BOUNDS;
        }
        if (status == Status.OK)
        {
            counters.increment(FabricCounters.SERVED_READS);
            synchronized (sendLock)
            {
                frames.sendBuffer().putBytes(HEADER_LENGTH, region.buffer(), (int)regionOffset, length);
                reply(FrameDescriptor.READ_RESPONSE, status, correlationId, length);
            }
        }
        else
        {
            counters.countError(status);
            synchronized (sendLock)
            {
                reply(FrameDescriptor.READ_RESPONSE, status, correlationId, 0);
            }
        }
    }

    private void onWrite(final UnsafeBuffer buffer, final int offset, final int length, final long correlationId)
    {
        final long remoteAddress = buffer.getLong(offset + REMOTE_ADDRESS_OFFSET, BYTE_ORDER);
        final int rkey = buffer.getInt(offset + RKEY_OFFSET, BYTE_ORDER);
        int status = Status.OK;
        final Region region = regions.lookup(rkey);
        final long regionOffset;
        if (region == null)
        {
            status = Status.BAD_RKEY;
        }
        else if ((regionOffset = region.offsetOf(remoteAddress, length)) < 0)
        {
            status = Status.OUT_OF_BOUNDS;
        }
        else
        {
            region.buffer().putBytes((int)regionOffset, buffer, offset + HEADER_LENGTH, length);
            counters.increment(FabricCounters.SERVED_WRITES);
        }
        counters.countError(status);
        synchronized (sendLock)
        {
            reply(FrameDescriptor.WRITE_RESPONSE, status, correlationId, 0);
        }
    }

    private void onRequest(
        final UnsafeBuffer buffer, final int offset, final int length, final long correlationId, final boolean isCall)
    {
        final int opcode = buffer.getInt(offset + OPCODE_OR_STATUS_OFFSET, BYTE_ORDER);
        final int replyCapacity = isCall ?
            Math.max(0, Math.min(buffer.getInt(offset + LENGTH_FIELD_OFFSET, BYTE_ORDER), maxMessageBytes)) : 0;
        counters.increment(FabricCounters.SERVED_REQUESTS);
        final TcpServerWorkers workers = allToWorkers || handler.mayBlock(opcode) ? fabric.workers() : null;
        if (workers != null)
        {
            final int status = workers.dispatch(this, handler, buffer, offset + HEADER_LENGTH, length, correlationId,
                opcode, replyCapacity, isCall);
            if (status != Status.OK)
            {
                counters.countError(status);
                if (isCall)
                {
                    sendReply(correlationId, status, null, 0);
                }
            }
            return;
        }
        synchronized (sendLock)
        {
            final UnsafeBuffer out = frames.sendBuffer();
            int result;
            try
            {
                result = handler.onRequest(opcode, buffer, offset + HEADER_LENGTH, length, out, HEADER_LENGTH,
                    replyCapacity);
            }
            catch (final RuntimeException | Error ex)
            {
                fabric.reportError("handler failed on opcode " + opcode + ": " + ex);
                result = Status.HANDLER_ERROR;
            }
            if (result > replyCapacity)
            {
                result = Status.TOO_LARGE;
            }
            counters.countError(result);
            if (isCall)
            {
                reply(FrameDescriptor.CALL_RESPONSE, result, correlationId, Math.max(result, 0));
            }
        }
    }

    /** A worker's reply (or a refusal): copied into the send buffer under the send lock. */
    void sendReply(final long correlationId, final int result, final DirectBuffer replyBuffer, final int length)
    {
        synchronized (sendLock)
        {
            if (closed || failed)
            {
                return;
            }
            if (length > 0)
            {
                frames.sendBuffer().putBytes(HEADER_LENGTH, replyBuffer, 0, length);
            }
            reply(FrameDescriptor.CALL_RESPONSE, result, correlationId, length);
        }
        if (failed)
        {
            close();
        }
    }

    /** Encode a response header before the payload already in the send buffer, and send it. Holds the send lock. */
    private void reply(final byte type, final int status, final long correlationId, final int payloadLength)
    {
        final UnsafeBuffer out = frames.sendBuffer();
        final int frameLength = HEADER_LENGTH + payloadLength;
        FrameDescriptor.encodeHeader(out, 0, frameLength, type, status, 0, correlationId, 0, 0);
        if (frames.flush(frameLength, operationTimeoutNs, busyPoll) != Status.OK)
        {
            failed = true;
        }
    }

    private String remote()
    {
        try
        {
            return String.valueOf(frames.channel().getRemoteAddress());
        }
        catch (final Exception ex)
        {
            return "a closed peer";
        }
    }

    void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        LocalPeers.remove(localPeerKey, this);
        frames.close();
        counters.increment(FabricCounters.CONNECTIONS_CLOSED);
        fabric.removeServerConnection(this);
    }
}
