package dev.splitkernel.monitor.memory;

/**
 * Layout of one entry of a secondary memory monitor's write-back log, in memory and in its backup file on a storage
 * monitor (batches of entries appended back to back).
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |            entryLength (whole entry, with the checksum)       |  0
 *  +---------------------------------------------------------------+
 *  |                             asid                              |  4
 *  +---------------------------------------------------------------+
 *  |                  lineAddress (virtual, 64 bits)               |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |               sequence (entries before this one)              | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          lengthBytes                          | 24
 *  +---------------------------------------------------------------+
 *  |                  kind (KIND_LINE or KIND_DISCARD)             | 28
 *  +---------------------------------------------------------------+
 *  |  the line's bytes, or a discard's range length (64 bits)  ... 32
 *  +---------------------------------------------------------------+
 *  |                CRC32 of bytes 0 .. here                       |
 *  +---------------------------------------------------------------+
 * </pre>
 * Replaying the entries in sequence order rebuilds the logged lines (a later entry of a line wins); a discard (the
 * range was unmapped at the secondary, or its vRegion promoted or dropped there) voids the entries before it in
 * {@code [lineAddress, lineAddress + length)} of its asid.
 */
final class WriteBackLogDescriptor
{
    static final int ENTRY_LENGTH_OFFSET = 0;
    static final int ASID_OFFSET = 4;
    static final int LINE_ADDRESS_OFFSET = 8;
    static final int SEQUENCE_OFFSET = 16;
    static final int LENGTH_OFFSET = 24;
    static final int KIND_OFFSET = 28;
    static final int DATA_OFFSET = 32;
    static final int HEADER_LENGTH = 32;
    /** A write-back or a page copy: the line's bytes. */
    static final int KIND_LINE = 1;
    /** The range's older entries are void: its data is the range's length. */
    static final int KIND_DISCARD = 2;
    static final int DISCARD_DATA_LENGTH = 8;
    static final int CHECKSUM_LENGTH = 4;

    private WriteBackLogDescriptor()
    {
    }

    static int entryLength(final int lengthBytes)
    {
        return HEADER_LENGTH + lengthBytes + CHECKSUM_LENGTH;
    }
}
