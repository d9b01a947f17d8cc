package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Request and reply of the GSM's opcodes ({@link Opcodes#VNODE_CREATE} to {@link Opcodes#VNODE_LOOKUP}): one layout,
 * unused fields zero. Control path only.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |     result (reply: vNode id or count >= 0, or Errno < 0)      |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  vNodeId (remove, lookup)                     |  8
 *  +---------------------------------------------------------------+
 *  |               storageMemberId (reply), or -1                  | 12
 *  +---------------------------------------------------------------+
 *  |        cacheMemberId (reply: buffer-cache memory monitor), -1 | 16
 *  +---------------------------------------------------------------+
 *  |                          textLength                           | 20
 *  +---------------------------------------------------------------+
 *  |   text, UTF-8, fields split by TAB, records by LF:          ... 24
 *  |     create request: name TAB mountPoint                       |
 *  |     lookup reply:   name TAB mountPoint TAB storageAddress TAB cacheAddress
 *  |     list reply:     per vNode: id TAB name TAB mountPoint TAB storageMemberId TAB cacheMemberId
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class VNodeDescriptor
{
    public static final int RESULT_OFFSET = 0;
    public static final int VNODE_OFFSET = 8;
    public static final int STORAGE_MEMBER_OFFSET = 12;
    public static final int CACHE_MEMBER_OFFSET = 16;
    public static final int TEXT_LENGTH_OFFSET = 20;
    public static final int TEXT_OFFSET = 24;
    public static final int HEADER_LENGTH = 24;
    public static final int MAX_TEXT_LENGTH = 60 * 1024;

    private VNodeDescriptor()
    {
    }

    /** Zero the header (member ids -1); returns its length. */
    public static int clear(final MutableDirectBuffer buffer, final int offset)
    {
        buffer.setMemory(offset, HEADER_LENGTH, (byte)0);
        buffer.putInt(offset + STORAGE_MEMBER_OFFSET, -1);
        buffer.putInt(offset + CACHE_MEMBER_OFFSET, -1);
        return HEADER_LENGTH;
    }

    /** Write the text after the header; returns the message length, or -1 if it does not fit. */
    public static int putText(final MutableDirectBuffer buffer, final int offset, final String text, final int capacity)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_TEXT_LENGTH || HEADER_LENGTH + bytes.length > capacity)
        {
            return -1;
        }
        buffer.putInt(offset + TEXT_LENGTH_OFFSET, bytes.length);
        buffer.putBytes(offset + TEXT_OFFSET, bytes);
        return HEADER_LENGTH + bytes.length;
    }

    /** The text after the header, or null if a message of {@code length} bytes does not hold it all. */
    public static String text(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < HEADER_LENGTH)
        {
            return null;
        }
        final int textLength = buffer.getInt(offset + TEXT_LENGTH_OFFSET);
        if (textLength < 0 || textLength > MAX_TEXT_LENGTH || HEADER_LENGTH + textLength > length)
        {
            return null;
        }
        return buffer.getStringWithoutLengthUtf8(offset + TEXT_OFFSET, textLength);
    }
}
