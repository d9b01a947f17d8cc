package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Request of the memory system calls (processor -> home) and of the owner operations (home -> owner); see
 * {@link Opcodes}. Unused fields are zero.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                             asid                              |  0
 *  +---------------------------------------------------------------+
 *  |                             prot                              |  4
 *  +---------------------------------------------------------------+
 *  |                             flags                             |  8
 *  +---------------------------------------------------------------+
 *  |                           reserved                            | 12
 *  +---------------------------------------------------------------+
 *  |                      address (64 bits)                        | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                    lengthBytes (64 bits)                      | 24
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |        newLengthBytes (mremap), 64 bits                       | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   newAddress (mremap MREMAP_FIXED; vRegion index for          | 40
 *  |   VMA_ALLOCATE), 64 bits                                      |
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class SyscallRequestDescriptor
{
    public static final int ASID_OFFSET = 0;
    public static final int PROT_OFFSET = 4;
    public static final int FLAGS_OFFSET = 8;
    public static final int ADDRESS_OFFSET = 16;
    public static final int LENGTH_OFFSET = 24;
    public static final int NEW_LENGTH_OFFSET = 32;
    public static final int NEW_ADDRESS_OFFSET = 40;
    public static final int LENGTH = 48;

    private SyscallRequestDescriptor()
    {
    }

    public static int encode(
        final MutableDirectBuffer buffer, final int offset, final int asid, final long address, final long lengthBytes,
        final int prot, final int flags, final long newLengthBytes, final long newAddress)
    {
        buffer.putInt(offset + ASID_OFFSET, asid);
        buffer.putInt(offset + PROT_OFFSET, prot);
        buffer.putInt(offset + FLAGS_OFFSET, flags);
        buffer.putInt(offset + 12, 0);
        buffer.putLong(offset + ADDRESS_OFFSET, address);
        buffer.putLong(offset + LENGTH_OFFSET, lengthBytes);
        buffer.putLong(offset + NEW_LENGTH_OFFSET, newLengthBytes);
        buffer.putLong(offset + NEW_ADDRESS_OFFSET, newAddress);
        return LENGTH;
    }

    public static int asid(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + ASID_OFFSET);
    }

    public static int prot(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + PROT_OFFSET);
    }

    public static int flags(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + FLAGS_OFFSET);
    }

    public static long address(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + ADDRESS_OFFSET);
    }

    public static long lengthBytes(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + LENGTH_OFFSET);
    }

    public static long newLengthBytes(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + NEW_LENGTH_OFFSET);
    }

    public static long newAddress(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + NEW_ADDRESS_OFFSET);
    }
}
