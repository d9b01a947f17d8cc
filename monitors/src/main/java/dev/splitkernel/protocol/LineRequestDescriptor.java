package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Request of {@link Opcodes#LINE_FETCH}, {@link Opcodes#LINE_WRITE_BACK} and
 * {@link Opcodes#LINE_FETCH_WITH_WRITE_BACK}.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                             asid                              |  0
 *  +---------------------------------------------------------------+
 *  |                             flags                             |  4
 *  +---------------------------------------------------------------+
 *  |                  lineAddress (virtual, 64 bits)               |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          lengthBytes                          | 16
 *  +---------------------------------------------------------------+
 *  |             victimAsid (piggybacked write-back only)          | 20
 *  +---------------------------------------------------------------+
 *  |            victimLineAddress (piggybacked write-back)         | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |  data: the line (write-back) or the victim line (piggyback)  ... 32
 *  +---------------------------------------------------------------+
 * </pre>
 * A line is {@code lengthBytes} (a power of two, at most the memory monitor's page) at an address aligned to its
 * length. A fetch carries no data.
 */
public final class LineRequestDescriptor
{
    public static final int ASID_OFFSET = 0;
    public static final int FLAGS_OFFSET = 4;
    public static final int LINE_ADDRESS_OFFSET = 8;
    public static final int LENGTH_OFFSET = 16;
    public static final int VICTIM_ASID_OFFSET = 20;
    public static final int VICTIM_LINE_ADDRESS_OFFSET = 24;
    public static final int DATA_OFFSET = 32;
    public static final int HEADER_LENGTH = 32;

    /** Fetch only if the page exists: ENOENT otherwise (used to move pages, never by the processor). */
    public static final int FLAG_NO_CREATE = 1;
    /** Write even without PROT_WRITE (moving pages between owners, never by the processor). */
    public static final int FLAG_FORCE = 2;
    /**
     * Piggyback: the processor keeps the victim until it is replicated, so the owner may answer before its secondary
     * has it (the reply's writeBackResult is then a positive ticket, see {@link Opcodes#LINE_REPLICA_ACKS}).
     */
    public static final int FLAG_REPLICA_ASYNC = 4;
    /** {@link Opcodes#LINE_REPLICA_ACKS}: wait (at most the request timeout) until the ticket is done. */
    public static final int FLAG_WAIT = 8;

    private LineRequestDescriptor()
    {
    }

    public static void encode(
        final MutableDirectBuffer buffer, final int offset, final int asid, final int flags, final long lineAddress,
        final int lengthBytes, final int victimAsid, final long victimLineAddress)
    {
        buffer.putInt(offset + ASID_OFFSET, asid);
        buffer.putInt(offset + FLAGS_OFFSET, flags);
        buffer.putLong(offset + LINE_ADDRESS_OFFSET, lineAddress);
        buffer.putInt(offset + LENGTH_OFFSET, lengthBytes);
        buffer.putInt(offset + VICTIM_ASID_OFFSET, victimAsid);
        buffer.putLong(offset + VICTIM_LINE_ADDRESS_OFFSET, victimLineAddress);
    }

    public static int asid(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + ASID_OFFSET);
    }

    public static int flags(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + FLAGS_OFFSET);
    }

    public static long lineAddress(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + LINE_ADDRESS_OFFSET);
    }

    public static int lengthBytes(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + LENGTH_OFFSET);
    }

    public static int victimAsid(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + VICTIM_ASID_OFFSET);
    }

    public static long victimLineAddress(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + VICTIM_LINE_ADDRESS_OFFSET);
    }
}
