package dev.splitkernel.verbs.tcp;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The layout of every frame on a tcp fabric connection: a fixed header, then the payload. Little-endian.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                  Frame Length (header + payload)              |  0
 *  +---------------+---------------+-------------------------------+
 *  |     Type      |    Version    |           Reserved            |  4
 *  +---------------+---------------+-------------------------------+
 *  |          Opcode (requests) or Status (responses)              |  8
 *  +---------------------------------------------------------------+
 *  |                        Length Field                           | 12
 *  +---------------------------------------------------------------+
 *  |                                                               | 16
 *  +                        Correlation Id                         +
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                                                               | 24
 *  +                        Remote Address                         +
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          Remote Key                           | 32
 *  +---------------------------------------------------------------+
 *  |                           Reserved                            | 36
 *  +---------------------------------------------------------------+
 *  |                         Payload ...                          ... 40
 *  +---------------------------------------------------------------+
 * </pre>
 * Types and their fields (payload length is always Frame Length - 40):
 * <pre>
 *  READ_REQUEST    client->server  address, rkey; Length Field = bytes to read; no payload
 *  READ_RESPONSE   server->client  Status; payload = the bytes when Status is OK
 *  WRITE_REQUEST   client->server  address, rkey; payload = the bytes to write
 *  WRITE_RESPONSE  server->client  Status; no payload
 *  CALL_REQUEST    client->server  Opcode; Length Field = reply capacity; payload = request
 *  CALL_RESPONSE   server->client  Status = reply length or negative status; payload = reply
 *  SEND            client->server  Opcode; payload = message; never answered
 * </pre>
 */
public final class FrameDescriptor
{
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;
    public static final byte VERSION = 1;

    public static final int FRAME_LENGTH_OFFSET = 0;
    public static final int TYPE_OFFSET = 4;
    public static final int VERSION_OFFSET = 5;
    public static final int OPCODE_OR_STATUS_OFFSET = 8;
    public static final int LENGTH_FIELD_OFFSET = 12;
    public static final int CORRELATION_ID_OFFSET = 16;
    public static final int REMOTE_ADDRESS_OFFSET = 24;
    public static final int RKEY_OFFSET = 32;
    public static final int HEADER_LENGTH = 40;

    public static final byte READ_REQUEST = 1;
    public static final byte READ_RESPONSE = 2;
    public static final byte WRITE_REQUEST = 3;
    public static final byte WRITE_RESPONSE = 4;
    public static final byte CALL_REQUEST = 5;
    public static final byte CALL_RESPONSE = 6;
    public static final byte SEND = 7;

    private FrameDescriptor()
    {
    }

    public static boolean isRequest(final int type)
    {
        return type == READ_REQUEST || type == WRITE_REQUEST || type == CALL_REQUEST || type == SEND;
    }

    public static boolean isResponse(final int type)
    {
        return type == READ_RESPONSE || type == WRITE_RESPONSE || type == CALL_RESPONSE;
    }

    /** Encode a header at {@code offset}; the payload follows it. */
    public static void encodeHeader(
        final MutableDirectBuffer buffer, final int offset, final int frameLength, final byte type,
        final int opcodeOrStatus, final int lengthField, final long correlationId, final long remoteAddress,
        final int rkey)
    {
        buffer.putInt(offset + FRAME_LENGTH_OFFSET, frameLength, BYTE_ORDER);
        buffer.putByte(offset + TYPE_OFFSET, type);
        buffer.putByte(offset + VERSION_OFFSET, VERSION);
        buffer.putShort(offset + VERSION_OFFSET + 1, (short)0, BYTE_ORDER);
        buffer.putInt(offset + OPCODE_OR_STATUS_OFFSET, opcodeOrStatus, BYTE_ORDER);
        buffer.putInt(offset + LENGTH_FIELD_OFFSET, lengthField, BYTE_ORDER);
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId, BYTE_ORDER);
        buffer.putLong(offset + REMOTE_ADDRESS_OFFSET, remoteAddress, BYTE_ORDER);
        buffer.putInt(offset + RKEY_OFFSET, rkey, BYTE_ORDER);
        buffer.putInt(offset + RKEY_OFFSET + 4, 0, BYTE_ORDER);
    }
}
