package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Request and reply of the file opcodes ({@link Opcodes#FILE_OPEN} to {@link Opcodes#FILE_CLOSE}), the same at the
 * buffer cache and at the storage monitor. Stateless: every request names the vNode and the full path.
 * <p>
 * Request (unused fields zero; {@code newPath} only for rename; data only for write):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                            vNodeId                            |  0
 *  +---------------------------------------------------------------+
 *  |                 flags (open: O_* of FileFlags)                | 4
 *  +---------------------------------------------------------------+
 *  |   offset (read, write) / first entry index (readdir), 64 bits | 8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   lengthBytes (read, write) / new size (truncate), 64 bits    | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          pathLength                           | 24
 *  +---------------------------------------------------------------+
 *  |                         newPathLength                         | 28
 *  +---------------------------------------------------------------+
 *  |   path (UTF-8) | newPath (UTF-8) | data (write)              ... 32
 *  +---------------------------------------------------------------+
 * </pre>
 * Reply:
 * <pre>
 *  +---------------------------------------------------------------+
 *  |   result: bytes read/written, entry count, or Errno, 64 bits  |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |          sizeBytes (open, stat), 64 bits                      |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |          type (open, stat): TYPE_FILE or TYPE_DIRECTORY       | 16
 *  +---------------------------------------------------------------+
 *  |                          dataLength                           | 20
 *  +---------------------------------------------------------------+
 *  |   data: bytes read, or readdir names each ended by a 0 byte  ... 24
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class StorageDescriptor
{
    public static final int TYPE_FILE = 1;
    public static final int TYPE_DIRECTORY = 2;
    /** Linux's PATH_MAX: longer paths get ENAMETOOLONG. */
    public static final int MAX_PATH_BYTES = 4096;

    public static final int VNODE_OFFSET = 0;
    public static final int FLAGS_OFFSET = 4;
    public static final int OFFSET_OFFSET = 8;
    public static final int LENGTH_OFFSET = 16;
    public static final int PATH_LENGTH_OFFSET = 24;
    public static final int NEW_PATH_LENGTH_OFFSET = 28;
    public static final int PATH_OFFSET = 32;
    public static final int REQUEST_HEADER_LENGTH = 32;

    public static final int RESULT_OFFSET = 0;
    public static final int SIZE_OFFSET = 8;
    public static final int TYPE_OFFSET = 16;
    public static final int DATA_LENGTH_OFFSET = 20;
    public static final int DATA_OFFSET = 24;
    public static final int REPLY_HEADER_LENGTH = 24;

    private StorageDescriptor()
    {
    }

    /**
     * Encode a request header and its paths ({@code newPath} may be null).
     *
     * @return the offset of the data (the request's length when it carries none).
     */
    public static int encodeRequest(
        final MutableDirectBuffer buffer, final int offset, final int vNodeId, final int flags, final long fileOffset,
        final long lengthBytes, final byte[] path, final byte[] newPath)
    {
        final int newPathLength = newPath == null ? 0 : newPath.length;
        buffer.putInt(offset + VNODE_OFFSET, vNodeId);
        buffer.putInt(offset + FLAGS_OFFSET, flags);
        buffer.putLong(offset + OFFSET_OFFSET, fileOffset);
        buffer.putLong(offset + LENGTH_OFFSET, lengthBytes);
        buffer.putInt(offset + PATH_LENGTH_OFFSET, path.length);
        buffer.putInt(offset + NEW_PATH_LENGTH_OFFSET, newPathLength);
        buffer.putBytes(offset + PATH_OFFSET, path);
        if (newPathLength > 0)
        {
            buffer.putBytes(offset + PATH_OFFSET + path.length, newPath);
        }
        return REQUEST_HEADER_LENGTH + path.length + newPathLength;
    }

    public static int vNodeId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + VNODE_OFFSET);
    }

    public static int flags(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + FLAGS_OFFSET);
    }

    public static long fileOffset(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + OFFSET_OFFSET);
    }

    public static long lengthBytes(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + LENGTH_OFFSET);
    }

    public static int pathLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + PATH_LENGTH_OFFSET);
    }

    public static int newPathLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + NEW_PATH_LENGTH_OFFSET);
    }

    /** Where the data of a write starts (after both paths). */
    public static int dataOffset(final DirectBuffer buffer, final int offset)
    {
        return offset + PATH_OFFSET + pathLength(buffer, offset) + newPathLength(buffer, offset);
    }

    /** True when a request of {@code length} bytes holds its header and both paths, each of a valid length. */
    public static boolean isWellFormed(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < REQUEST_HEADER_LENGTH)
        {
            return false;
        }
        final int pathLength = pathLength(buffer, offset);
        final int newPathLength = newPathLength(buffer, offset);
        return pathLength >= 0 && pathLength <= MAX_PATH_BYTES && newPathLength >= 0 &&
            newPathLength <= MAX_PATH_BYTES && REQUEST_HEADER_LENGTH + pathLength + newPathLength <= length;
    }

    public static String path(final DirectBuffer buffer, final int offset)
    {
        return buffer.getStringWithoutLengthUtf8(offset + PATH_OFFSET, pathLength(buffer, offset));
    }

    public static String newPath(final DirectBuffer buffer, final int offset)
    {
        return buffer.getStringWithoutLengthUtf8(
            offset + PATH_OFFSET + pathLength(buffer, offset), newPathLength(buffer, offset));
    }

    /** Encode a reply header; returns the reply's length. */
    public static int encodeReply(
        final MutableDirectBuffer buffer, final int offset, final long result, final long sizeBytes, final int type,
        final int dataLength)
    {
        buffer.putLong(offset + RESULT_OFFSET, result);
        buffer.putLong(offset + SIZE_OFFSET, sizeBytes);
        buffer.putInt(offset + TYPE_OFFSET, type);
        buffer.putInt(offset + DATA_LENGTH_OFFSET, dataLength);
        return REPLY_HEADER_LENGTH + dataLength;
    }

    public static long result(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + RESULT_OFFSET);
    }

    public static long sizeBytes(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + SIZE_OFFSET);
    }

    public static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + TYPE_OFFSET);
    }

    public static int dataLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + DATA_LENGTH_OFFSET);
    }

    /** A path as the request carries it. */
    public static byte[] bytes(final String path)
    {
        return path.getBytes(StandardCharsets.UTF_8);
    }
}
