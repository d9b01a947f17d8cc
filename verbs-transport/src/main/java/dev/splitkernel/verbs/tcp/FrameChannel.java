package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Status;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

import static dev.splitkernel.verbs.tcp.FrameDescriptor.BYTE_ORDER;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.FRAME_LENGTH_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.HEADER_LENGTH;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.TYPE_OFFSET;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.VERSION;
import static dev.splitkernel.verbs.tcp.FrameDescriptor.VERSION_OFFSET;

/**
 * One end of a tcp fabric connection: a non-blocking socket with a preallocated receive buffer that frames are
 * parsed from in place and a preallocated send buffer that frames are encoded into in place. Validates every
 * inbound header before anything reads the payload.
 * <p>
 * Not thread-safe: receiving belongs to one thread at a time, and so does sending; the owners serialise.
 */
final class FrameChannel implements AutoCloseable
{
    /** Handles one complete, validated frame that starts at {@code offset} in {@code buffer}. */
    interface FrameHandler
    {
        void onFrame(UnsafeBuffer buffer, int offset, int frameLength, byte type);
    }

    /** What {@link #poll} returns when the peer closed the connection or it failed. */
    static final int CLOSED = -1;
    /** What {@link #poll} returns for a frame that breaks the protocol. */
    static final int MALFORMED = -2;

    private static final java.util.function.Consumer<SelectionKey> IGNORE_READY_KEY = key -> { };

    private final SocketChannel channel;
    private volatile Selector selector;
    private final int maxPayloadBytes;
    private final ByteBuffer receiveByteBuffer;
    private final UnsafeBuffer receiveBuffer;
    private final ByteBuffer sendByteBuffer;
    private final UnsafeBuffer sendBuffer;
    private String malformedReason;

    FrameChannel(final SocketChannel channel, final int maxPayloadBytes) throws IOException
    {
        this.channel = channel;
        this.maxPayloadBytes = maxPayloadBytes;
        channel.configureBlocking(false);
        channel.socket().setTcpNoDelay(true);
        receiveByteBuffer = ByteBuffer.allocateDirect(HEADER_LENGTH + maxPayloadBytes);
        receiveBuffer = new UnsafeBuffer(receiveByteBuffer);
        sendByteBuffer = ByteBuffer.allocateDirect(HEADER_LENGTH + maxPayloadBytes);
        sendBuffer = new UnsafeBuffer(sendByteBuffer);
    }

    SocketChannel channel()
    {
        return channel;
    }

    /** Where outbound frames are encoded: a header at 0, the payload at {@link FrameDescriptor#HEADER_LENGTH}. */
    UnsafeBuffer sendBuffer()
    {
        return sendBuffer;
    }

    String malformedReason()
    {
        return malformedReason;
    }

    /**
     * Read what the socket has and hand every complete frame to {@code handler}.
     *
     * @param acceptRequests true at a server (requests in), false at a client (responses in).
     * @return frames handled (0 when none were complete), {@link #CLOSED} or {@link #MALFORMED}.
     */
    int poll(final FrameHandler handler, final boolean acceptRequests)
    {
        try
        {
            final int read = channel.read(receiveByteBuffer);
            if (read < 0)
            {
                if (receiveByteBuffer.position() > 0)
                {
                    malformedReason = "truncated frame: the peer closed after " + receiveByteBuffer.position()
                        + " bytes of it";
                    return MALFORMED;
                }
                return CLOSED;
            }
        }
        catch (final IOException ex)
        {
            return CLOSED;
        }

        int frames = 0;
        int offset = 0;
        final int limit = receiveByteBuffer.position();
        while (limit - offset >= 4)
        {
            final int frameLength = receiveBuffer.getInt(offset + FRAME_LENGTH_OFFSET, BYTE_ORDER);
            if (frameLength < HEADER_LENGTH || frameLength - HEADER_LENGTH > maxPayloadBytes)
            {
                malformedReason = "frame length " + frameLength + " outside " + HEADER_LENGTH + ".."
                    + (HEADER_LENGTH + maxPayloadBytes);
                return MALFORMED;
            }
            if (limit - offset < HEADER_LENGTH)
            {
                break;
            }
            final byte type = receiveBuffer.getByte(offset + TYPE_OFFSET);
            if (acceptRequests ? !FrameDescriptor.isRequest(type) : !FrameDescriptor.isResponse(type))
            {
                malformedReason = "unexpected frame type " + type;
                return MALFORMED;
            }
            if (receiveBuffer.getByte(offset + VERSION_OFFSET) != VERSION)
            {
                malformedReason = "unsupported frame version " + receiveBuffer.getByte(offset + VERSION_OFFSET);
                return MALFORMED;
            }
            if (limit - offset < frameLength)
            {
                break;
            }
            handler.onFrame(receiveBuffer, offset, frameLength, type);
            frames++;
            offset += frameLength;
        }

        if (offset > 0)
        {
            final int remaining = limit - offset;
            if (remaining > 0)
            {
                receiveBuffer.putBytes(0, receiveBuffer, offset, remaining);
            }
            receiveByteBuffer.clear().position(remaining);
        }
        return frames;
    }

    /**
     * Write {@code length} bytes of the send buffer, waiting for socket space for up to {@code timeoutNs}. The clock
     * is read only when the socket is full: a frame that fits (nearly all) costs the write alone.
     *
     * @return OK, TIMEOUT (the frame may be half written: the caller must close) or NOT_CONNECTED.
     */
    int flush(final int length, final long timeoutNs, final boolean busyPoll)
    {
        sendByteBuffer.limit(length).position(0);
        try
        {
            long deadlineNs = 0;
            boolean waiting = false;
            while (sendByteBuffer.hasRemaining())
            {
                if (channel.write(sendByteBuffer) == 0)
                {
                    final long nowNs = System.nanoTime();
                    if (!waiting)
                    {
                        waiting = true;
                        deadlineNs = nowNs + timeoutNs;
                    }
                    else if (nowNs - deadlineNs >= 0)
                    {
                        return Status.TIMEOUT;
                    }
                    if (busyPoll)
                    {
                        Thread.onSpinWait();
                    }
                    else
                    {
                        java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                    }
                }
            }
            return Status.OK;
        }
        catch (final IOException ex)
        {
            return Status.NOT_CONNECTED;
        }
    }

    /**
     * Sleep in the kernel until the socket is readable or {@code timeoutMs} passes. The selector is opened at the
     * first call (control path); the caller must hold the receive side.
     */
    void awaitReadable(final long timeoutMs)
    {
        try
        {
            Selector s = selector;
            if (s == null)
            {
                s = Selector.open();
                channel.register(s, SelectionKey.OP_READ);
                selector = s;
            }
            // The consumer form hands ready keys to a preallocated action instead of adding them to the selected-key
            // set, which allocates a node per wake-up.
            s.select(IGNORE_READY_KEY, timeoutMs);
        }
        catch (final IOException | RuntimeException ex)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(timeoutMs * 1_000_000);
        }
    }

    @Override
    public void close()
    {
        final Selector s = selector;
        if (s != null)
        {
            s.wakeup();
            try
            {
                s.close();
            }
            catch (final IOException ignore)
            {
                // closing
            }
        }
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // closing: nothing more to do
        }
    }
}
