package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Reply to the line opcodes.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |        result: permission bits (>= 0) or Errno (< 0)          |  0
 *  +---------------------------------------------------------------+
 *  |                rkey of the page's registered region           |  4
 *  +---------------------------------------------------------------+
 *  |      remoteAddress of the line in registered memory, or 0     |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |          writeBackResult (piggyback: the victim's status)     | 16
 *  +---------------------------------------------------------------+
 *  |          fences (piggyback with a ticket: the fence count)    | 20
 *  +---------------------------------------------------------------+
 *  |                 data: the line (fetch only)                  ... 24
 *  +---------------------------------------------------------------+
 * </pre>
 * A fetch reply with result >= 0 carries the line. The remote address and rkey let the processor re-read the line
 * one-sided later; they stay valid until the range is unmapped or remapped. A piggybacked write-back sent with
 * {@link LineRequestDescriptor#FLAG_REPLICA_ASYNC} may come back with a positive writeBackResult: applied at the
 * owner, forwarded to its secondary under that ticket, with the owner's fence count read before it was applied.
 */
public final class LineReplyDescriptor
{
    public static final int RESULT_OFFSET = 0;
    public static final int RKEY_OFFSET = 4;
    public static final int REMOTE_ADDRESS_OFFSET = 8;
    public static final int WRITE_BACK_RESULT_OFFSET = 16;
    public static final int FENCES_OFFSET = 20;
    public static final int DATA_OFFSET = 24;
    public static final int HEADER_LENGTH = 24;

    private LineReplyDescriptor()
    {
    }

    public static void encode(
        final MutableDirectBuffer buffer, final int offset, final int result, final long remoteAddress, final int rkey,
        final int writeBackResult)
    {
        buffer.putInt(offset + RESULT_OFFSET, result);
        buffer.putInt(offset + RKEY_OFFSET, rkey);
        buffer.putLong(offset + REMOTE_ADDRESS_OFFSET, remoteAddress);
        buffer.putInt(offset + WRITE_BACK_RESULT_OFFSET, writeBackResult);
        buffer.putInt(offset + FENCES_OFFSET, 0);
        buffer.putInt(offset + 20, 0);
    }

    public static int result(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RESULT_OFFSET);
    }

    public static int rkey(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + RKEY_OFFSET);
    }

    public static long remoteAddress(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + REMOTE_ADDRESS_OFFSET);
    }

    public static int fences(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + FENCES_OFFSET);
    }

    public static int writeBackResult(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + WRITE_BACK_RESULT_OFFSET);
    }
}
