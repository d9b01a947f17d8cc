package dev.splitkernel.verbs.rdma;

/**
 * The layout of one two-sided message (one SEND, one receive buffer) on the rdma fabric. All fields little-endian.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+-------------------------------+
 *  |     type      |    version    |           reserved            |  0
 *  +---------------+---------------+-------------------------------+
 *  |             opcode (request) or status (reply)                |  4
 *  +---------------------------------------------------------------+
 *  |                       correlation id                          |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                       payload length                          | 16
 *  +---------------------------------------------------------------+
 *  |                          reserved                             | 20
 *  +---------------------------------------------------------------+
 *  |                       payload ...                             | 24
 * </pre>
 * Types: REQUEST (a reply is expected, same correlation id), REPLY (status: the handler's negative status, or 0
 * with the reply payload), ONE_WAY (no reply), and control messages between the two fabrics: REGION_ADD and
 * REGION_REMOVE (the listener's registered regions, so the connector rejects a bad rkey or an out-of-bounds access
 * before posting it: on real RDMA the NIC would answer with a remote access error that kills the queue pair),
 * REGION_ACK (the connector has dropped a removed region) and TABLE_END (the initial region table is complete).
 * <p>
 * AUTH carries one cluster-authentication handshake message
 * ({@link dev.splitkernel.verbs.auth.HandshakeDescriptor}, {@code MESSAGE_LENGTH} bytes) as its payload. The
 * handshake is the first exchange after the rdma_cm connection is established: the listener dispatches no request
 * and sends no region entry before it has accepted the connector's proof, and drops the connection on any other
 * message before that.
 * <p>
 * A region entry in REGION_ADD's payload, {@code REGION_ENTRY_LENGTH} bytes each, count in the opcode field:
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                            rkey                               |  0
 *  +---------------------------------------------------------------+
 *  |                         length bytes                          |  4
 *  +---------------------------------------------------------------+
 *  |                      virtual address (64)                     |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 * </pre>
 * REGION_REMOVE carries the rkey in the opcode field and a sequence number as correlation id, echoed by REGION_ACK.
 */
public final class RdmaFrameDescriptor
{
    public static final int TYPE_OFFSET = 0;
    public static final int VERSION_OFFSET = 1;
    public static final int OPCODE_OFFSET = 4;
    public static final int STATUS_OFFSET = 4;
    public static final int CORRELATION_ID_OFFSET = 8;
    public static final int PAYLOAD_LENGTH_OFFSET = 16;
    public static final int HEADER_LENGTH = 24;

    public static final byte VERSION = 1;

    public static final byte TYPE_REQUEST = 1;
    public static final byte TYPE_REPLY = 2;
    public static final byte TYPE_ONE_WAY = 3;
    public static final byte TYPE_REGION_ADD = 4;
    public static final byte TYPE_REGION_REMOVE = 5;
    public static final byte TYPE_REGION_ACK = 6;
    public static final byte TYPE_TABLE_END = 7;
    public static final byte TYPE_AUTH = 8;

    public static final int REGION_ENTRY_LENGTH = 16;
    public static final int REGION_RKEY_OFFSET = 0;
    public static final int REGION_LENGTH_OFFSET = 4;
    public static final int REGION_ADDRESS_OFFSET = 8;

    private RdmaFrameDescriptor()
    {
    }

    /** How many region entries fit in one frame of {@code maxPayloadBytes}. */
    public static int regionEntriesPerFrame(final int maxPayloadBytes)
    {
        return maxPayloadBytes / REGION_ENTRY_LENGTH;
    }

    public static String typeName(final int type)
    {
        switch (type)
        {
            case TYPE_REQUEST: return "REQUEST";
            case TYPE_REPLY: return "REPLY";
            case TYPE_ONE_WAY: return "ONE_WAY";
            case TYPE_REGION_ADD: return "REGION_ADD";
            case TYPE_REGION_REMOVE: return "REGION_REMOVE";
            case TYPE_REGION_ACK: return "REGION_ACK";
            case TYPE_TABLE_END: return "TABLE_END";
            case TYPE_AUTH: return "AUTH";
            default: return "UNKNOWN(" + type + ")";
        }
    }
}
