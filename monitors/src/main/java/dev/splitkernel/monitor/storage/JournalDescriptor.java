package dev.splitkernel.monitor.storage;

import dev.splitkernel.protocol.StorageDescriptor;

/**
 * Layout of the storage monitor's journal ({@code journal.log} in the data directory), the durable index of the flat
 * path table: a file header, then records appended in order.
 * <pre>
 *   File header
 *  +---------------------------------------------------------------+
 *  |                     magic "SKJ\1" (0x014A4B53)                |  0
 *  +---------------------------------------------------------------+
 *  |                            version                            |  4
 *  +---------------------------------------------------------------+
 *
 *   Record
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |          recordLength (whole record, with this field)         |  0
 *  +---------------------------------------------------------------+
 *  |   type: CREATE, MKDIR, REMOVE, RENAME, DROP_VNODE             |  4
 *  +---------------------------------------------------------------+
 *  |                            vNodeId                            |  8
 *  +---------------------------------------------------------------+
 *  |                     fileId (CREATE), 64 bits                  | 12
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |   syncedLength, 64 bits: journal bytes already forced to      | 20
 *  |   disk when this record was appended                          |
 *  +---------------------------------------------------------------+
 *  |                          pathLength                           | 28
 *  +---------------------------------------------------------------+
 *  |                   newPathLength (RENAME)                      | 32
 *  +---------------------------------------------------------------+
 *  |   path (UTF-8) | newPath (UTF-8)                           ... 36
 *  +---------------------------------------------------------------+
 *  |                CRC32 of bytes 0 .. here                       |
 *  +---------------------------------------------------------------+
 * </pre>
 * A restart replays the records in order. A bad record (short, bad length or bad checksum) is a <em>torn tail</em> if
 * no valid record after it says that it had been forced (every later {@code syncedLength} is at most its offset):
 * it was never acknowledged, and the journal is cut there. Otherwise it was forced and then damaged: corruption in
 * the middle, reported, never cut (acknowledged records follow it).
 * <p>
 * A file's data lives in {@code v<vNodeId>/<fileId>.dat} under the data directory: a rename moves only the entry.
 */
final class JournalDescriptor
{
    static final int MAGIC = 0x014A4B53;
    static final int VERSION = 1;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int FILE_HEADER_LENGTH = 8;

    static final int TYPE_CREATE = 1;
    static final int TYPE_MKDIR = 2;
    static final int TYPE_REMOVE = 3;
    static final int TYPE_RENAME = 4;
    /** The whole vNode removed (path empty). */
    static final int TYPE_DROP_VNODE = 5;

    static final int RECORD_LENGTH_OFFSET = 0;
    static final int TYPE_OFFSET = 4;
    static final int VNODE_OFFSET = 8;
    static final int FILE_ID_OFFSET = 12;
    static final int SYNCED_LENGTH_OFFSET = 20;
    static final int PATH_LENGTH_OFFSET = 28;
    static final int NEW_PATH_LENGTH_OFFSET = 32;
    static final int PATH_OFFSET = 36;
    static final int HEADER_LENGTH = 36;
    static final int CHECKSUM_LENGTH = 4;
    /** Two paths of at most MAX_PATH_BYTES characters, up to 4 UTF-8 bytes each. */
    static final int MAX_PATH_UTF8_BYTES = StorageDescriptor.MAX_PATH_BYTES * 4;
    static final int MAX_RECORD_LENGTH = HEADER_LENGTH + 2 * MAX_PATH_UTF8_BYTES + CHECKSUM_LENGTH;

    private JournalDescriptor()
    {
    }

    static boolean isKnownType(final int type)
    {
        return type >= TYPE_CREATE && type <= TYPE_DROP_VNODE;
    }
}
