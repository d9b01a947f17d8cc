package dev.splitkernel.protocol;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * File requests ({@link StorageDescriptor}) to a buffer cache or a storage monitor over one {@link Connection}.
 * Results: 0 or more on success, a negative {@link Errno} for a refused request, or a negative transport
 * {@link Status}. Expected failures never throw.
 * <p>
 * Thread-safe: requests are serialised over preallocated buffers; nothing is allocated per request.
 */
public final class StorageProxy implements AutoCloseable
{
    /** Largest data of one read or write request; callers split larger ones. */
    public static final int MAX_DATA_BYTES = 256 * 1024;

    private final Connection connection;
    private final long timeoutNs;
    private final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
        align(StorageDescriptor.REQUEST_HEADER_LENGTH + 2 * StorageDescriptor.MAX_PATH_BYTES + MAX_DATA_BYTES), 64));
    private final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
        align(StorageDescriptor.REPLY_HEADER_LENGTH + MAX_DATA_BYTES), 64));

    public StorageProxy(final Connection connection, final long timeoutNs)
    {
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("timeoutNs must be positive: " + timeoutNs);
        }
        this.connection = connection;
        this.timeoutNs = timeoutNs;
    }

    public Connection connection()
    {
        return connection;
    }

    /**
     * One file request.
     *
     * @param opcode      one of the file opcodes.
     * @param lengthBytes for write, the bytes taken from {@code src}; for read, the most bytes put in {@code dst}
     *                    (both at most {@link #MAX_DATA_BYTES}).
     * @param newPath     rename's target, else null.
     * @param src         write data (else null).
     * @param dst         read data or readdir names (else null).
     * @param stat        (may be null) learns the reply's size, type and data length.
     * @return the reply's result, or a negative Errno / Status.
     */
    public synchronized long request(
        final int opcode, final int vNodeId, final int flags, final long fileOffset, final long lengthBytes,
        final byte[] path, final byte[] newPath, final DirectBuffer src, final int srcOffset,
        final MutableDirectBuffer dst, final int dstOffset, final FileStat stat)
    {
        if (path.length > StorageDescriptor.MAX_PATH_BYTES || (newPath != null &&
            newPath.length > StorageDescriptor.MAX_PATH_BYTES))
        {
            return Errno.ENAMETOOLONG;
        }
        final boolean carriesData = opcode == Opcodes.FILE_WRITE || opcode == Opcodes.FILE_READ;
        if (carriesData && (lengthBytes < 0 || lengthBytes > MAX_DATA_BYTES))
        {
            return Status.TOO_LARGE;
        }
        int length = StorageDescriptor.encodeRequest(request, 0, vNodeId, flags, fileOffset, lengthBytes, path, newPath);
        if (opcode == Opcodes.FILE_WRITE)
        {
            request.putBytes(length, src, srcOffset, (int)lengthBytes);
            length += (int)lengthBytes;
        }
        final int replyLength = connection.call(
            opcode, request, 0, length, reply, 0, reply.capacity(), timeoutNs);
        if (replyLength < 0)
        {
            return replyLength;
        }
        if (replyLength < StorageDescriptor.REPLY_HEADER_LENGTH)
        {
            return Status.MALFORMED;
        }
        final int dataLength = StorageDescriptor.dataLength(reply, 0);
        if (dataLength < 0 || StorageDescriptor.REPLY_HEADER_LENGTH + dataLength > replyLength)
        {
            return Status.MALFORMED;
        }
        if (dataLength > 0 && dst != null)
        {
            dst.putBytes(dstOffset, reply, StorageDescriptor.DATA_OFFSET, dataLength);
        }
        if (stat != null)
        {
            stat.set(StorageDescriptor.sizeBytes(reply, 0), StorageDescriptor.type(reply, 0), dataLength);
        }
        return StorageDescriptor.result(reply, 0);
    }

    /** Pass an encoded request through unchanged (the buffer cache forwarding to storage). */
    public int forward(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        return connection.call(opcode, request, offset, length, reply, replyOffset, replyCapacity, timeoutNs);
    }

    /** Closes the connection. */
    @Override
    public void close()
    {
        connection.close();
    }

    private static int align(final int value)
    {
        return (value + 63) & ~63;
    }
}
