package dev.splitkernel.monitor.storage;

/**
 * Layout of one record of the storage monitor's journal ({@code journal.log} in the data directory), the durable
 * index of the flat path table. Records are appended; a restart replays them in order and cuts a torn tail (a
 * short record or a bad checksum).
 * <pre>
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
 *  |                          pathLength                           | 20
 *  +---------------------------------------------------------------+
 *  |                   newPathLength (RENAME)                      | 24
 *  +---------------------------------------------------------------+
 *  |   path (UTF-8) | newPath (UTF-8)                           ... 28
 *  +---------------------------------------------------------------+
 *  |                CRC32 of bytes 0 .. here                       |
 *  +---------------------------------------------------------------+
 * </pre>
 * A file's data lives in {@code v<vNodeId>/<fileId>.dat} under the data directory: a rename moves only the entry.
 */
final class JournalDescriptor
{
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
    static final int PATH_LENGTH_OFFSET = 20;
    static final int NEW_PATH_LENGTH_OFFSET = 24;
    static final int PATH_OFFSET = 28;
    static final int HEADER_LENGTH = 28;
    static final int CHECKSUM_LENGTH = 4;

    private JournalDescriptor()
    {
    }
}
