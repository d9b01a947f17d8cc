package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Request and reply of the global managers' opcodes ({@link Opcodes#MEMBER_REGISTER} to
 * {@link Opcodes#FREE_VREGION}): one layout, unused fields zero. Control path only.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |       result (reply: id >= 0 or Errno < 0; request: 0)        |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   memberId (sender, chosen member, or member to look up)      |  8
 *  +---------------------------------------------------------------+
 *  |             role (ROLE_MEMORY, _PROCESSOR, _STORAGE)          | 12
 *  +---------------------------------------------------------------+
 *  |                             asid                              | 16
 *  +---------------------------------------------------------------+
 *  |   vRegionIndex (ALLOCATE_VREGION, FREE_VREGION)               | 20
 *  +---------------------------------------------------------------+
 *  |   capacityBytes (load report, register), 64 bits              | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   committedBytes (load report) / bytes needed (ALLOCATE_VREGION) 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   usedBytes: pages (memory) / file bytes (storage) in use     | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   runningThreads (processor) / ownedVRegions (memory) / files | 48
 *  +---------------------------------------------------------------+
 *  |  excludeMemberId (ALLOCATE_VREGION request) / secondary (reply) | 52
 *  +---------------------------------------------------------------+
 *  |                       addressLength                           | 56
 *  +---------------------------------------------------------------+
 *  |      address: listen address, US-ASCII (register, lookup)    ... 60
 *  +---------------------------------------------------------------+
 * </pre>
 * A registration may follow the address with {@link #NAME_SEPARATOR} and the member's persistent name: a known name
 * gets its earlier member id back at the new address.
 */
public final class GlobalDescriptor
{
    public static final int ROLE_MEMORY = 1;
    public static final int ROLE_PROCESSOR = 2;
    /** A storage monitor (registers under a persistent name, reports its load; the GSM places vNodes on it). */
    public static final int ROLE_STORAGE = 3;

    /** Separates the address from the member name in a registration. */
    public static final char NAME_SEPARATOR = '\t';

    public static final int RESULT_OFFSET = 0;
    public static final int MEMBER_ID_OFFSET = 8;
    public static final int ROLE_OFFSET = 12;
    public static final int ASID_OFFSET = 16;
    public static final int VREGION_INDEX_OFFSET = 20;
    public static final int CAPACITY_OFFSET = 24;
    public static final int COMMITTED_OFFSET = 32;
    public static final int USED_OFFSET = 40;
    public static final int COUNT_OFFSET = 48;
    public static final int EXCLUDE_OFFSET = 52;
    public static final int ADDRESS_LENGTH_OFFSET = 56;
    public static final int ADDRESS_OFFSET = 60;
    public static final int HEADER_LENGTH = 60;
    public static final int MAX_ADDRESS_LENGTH = 1024;

    private GlobalDescriptor()
    {
    }

    /** Zero the header; returns its length. */
    public static int clear(final MutableDirectBuffer buffer, final int offset)
    {
        buffer.setMemory(offset, HEADER_LENGTH, (byte)0);
        buffer.putInt(offset + EXCLUDE_OFFSET, -1);
        return HEADER_LENGTH;
    }

    /** Write the address after the header; returns the message length. */
    public static int putAddress(final MutableDirectBuffer buffer, final int offset, final String address)
    {
        final byte[] bytes = address.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length > MAX_ADDRESS_LENGTH)
        {
            throw new IllegalArgumentException("address longer than " + MAX_ADDRESS_LENGTH + " bytes: " + address);
        }
        buffer.putInt(offset + ADDRESS_LENGTH_OFFSET, bytes.length);
        buffer.putBytes(offset + ADDRESS_OFFSET, bytes);
        return HEADER_LENGTH + bytes.length;
    }

    /** The address after the header, or null if the message of {@code length} bytes does not hold it all. */
    public static String address(final DirectBuffer buffer, final int offset, final int length)
    {
        final int addressLength = buffer.getInt(offset + ADDRESS_LENGTH_OFFSET);
        if (addressLength < 0 || addressLength > MAX_ADDRESS_LENGTH || HEADER_LENGTH + addressLength > length)
        {
            return null;
        }
        final byte[] bytes = new byte[addressLength];
        buffer.getBytes(offset + ADDRESS_OFFSET, bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
