package dev.splitkernel.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Reply to the memory system calls and owner operations: a result and the vRegion-to-owner map entries that the
 * call changed (the processor applies them to its copy of the process's map).
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |      result: address or value (>= 0), or Errno (< 0)          |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        entryCount                             |  8
 *  +---------------------------------------------------------------+
 *  |                         reserved                              | 12
 *  +---------------------------------------------------------------+
 *  |      entry 0: vRegionIndex        |   entry 0: ownerId         | 16
 *  +---------------------------------------------------------------+
 *  |                           ...                                ...
 *  +---------------------------------------------------------------+
 * </pre>
 * An owner id of {@link VRegionMap#NO_OWNER} means the vRegion is no longer in use by the process.
 */
public final class SyscallReplyDescriptor
{
    public static final int RESULT_OFFSET = 0;
    public static final int ENTRY_COUNT_OFFSET = 8;
    public static final int ENTRIES_OFFSET = 16;
    public static final int HEADER_LENGTH = 16;
    public static final int ENTRY_LENGTH = 8;

    private SyscallReplyDescriptor()
    {
    }

    public static int encodeHeader(final MutableDirectBuffer buffer, final int offset, final long result, final int entryCount)
    {
        buffer.putLong(offset + RESULT_OFFSET, result);
        buffer.putInt(offset + ENTRY_COUNT_OFFSET, entryCount);
        buffer.putInt(offset + 12, 0);
        return HEADER_LENGTH + entryCount * ENTRY_LENGTH;
    }

    public static void encodeEntry(
        final MutableDirectBuffer buffer, final int offset, final int index, final int vRegionIndex, final int ownerId)
    {
        final int at = offset + ENTRIES_OFFSET + index * ENTRY_LENGTH;
        buffer.putInt(at, vRegionIndex);
        buffer.putInt(at + 4, ownerId);
    }

    /** How many entries fit in a reply of {@code capacity} bytes. */
    public static int maxEntries(final int capacity)
    {
        return Math.max(0, (capacity - HEADER_LENGTH) / ENTRY_LENGTH);
    }

    public static long result(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + RESULT_OFFSET);
    }

    public static int entryCount(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + ENTRY_COUNT_OFFSET);
    }

    public static int entryVRegionIndex(final DirectBuffer buffer, final int offset, final int index)
    {
        return buffer.getInt(offset + ENTRIES_OFFSET + index * ENTRY_LENGTH);
    }

    public static int entryOwnerId(final DirectBuffer buffer, final int offset, final int index)
    {
        return buffer.getInt(offset + ENTRIES_OFFSET + index * ENTRY_LENGTH + 4);
    }
}
