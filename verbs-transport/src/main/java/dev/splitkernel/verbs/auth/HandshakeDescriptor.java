package dev.splitkernel.verbs.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The layout of the cluster-authentication handshake: four fixed-length messages exchanged before any frame, on
 * every fabric (tcp: the first bytes each way on the socket; rdma: the first SEND/RECV messages; local: passed
 * in-JVM). Little-endian.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      Magic 0x48414B53 "SKAH"                  |  0
 *  +---------------+---------------+---------------+---------------+
 *  |     Type      |    Version    |     Flags     |    Reason     |  4
 *  +---------------+---------------+---------------+---------------+
 *  |                                                               |  8
 *  +                     Nonce (32 bytes)                          +
 *  |                                                             ...
 *  +---------------------------------------------------------------+
 *  |                                                               | 40
 *  +                     Proof (32 bytes)                          +
 *  |                                                             ...
 *  +---------------------------------------------------------------+  72
 * </pre>
 * The exchange (C = connecting side, S = listening side, K = the cluster secret, Nc/Ns = 32 fresh bytes from
 * SecureRandom on each side):
 * <pre>
 *  HELLO      C->S  Nonce = Nc; Flags HAS_SECRET if C has one; no proof
 *  CHALLENGE  S->C  Nonce = Ns; Proof = HMAC-SHA256(K, "splitkernel-auth-v1 listener" | Nc | Ns)
 *                   (zero and no HAS_SECRET when S has no secret)
 *  PROOF      C->S  Proof = HMAC-SHA256(K, "splitkernel-auth-v1 connector" | Nc | Ns)
 *  ACCEPTED   S->C  the connection is authenticated; frames may follow
 *  REFUSED    S->C  instead of CHALLENGE or ACCEPTED; Reason says why; S closes
 * </pre>
 * Each proof binds both nonces and the direction, so neither a proof replayed from another connection nor one
 * reflected back to the side that made it verifies. Proofs are compared in constant time. K never crosses the wire.
 */
public final class HandshakeDescriptor
{
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;
    public static final int MAGIC = 0x48414B53;
    public static final byte VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int TYPE_OFFSET = 4;
    public static final int VERSION_OFFSET = 5;
    public static final int FLAGS_OFFSET = 6;
    public static final int REASON_OFFSET = 7;
    public static final int NONCE_OFFSET = 8;
    public static final int NONCE_LENGTH = 32;
    public static final int PROOF_OFFSET = 40;
    public static final int PROOF_LENGTH = 32;
    public static final int MESSAGE_LENGTH = 72;

    public static final byte HELLO = 1;
    public static final byte CHALLENGE = 2;
    public static final byte PROOF = 3;
    public static final byte ACCEPTED = 4;
    public static final byte REFUSED = 5;

    /** The sender has a cluster secret (HELLO, CHALLENGE). */
    public static final byte FLAG_HAS_SECRET = 1;

    /** REFUSED reasons. */
    public static final byte REASON_NONE = 0;
    public static final byte REASON_NO_SECRET = 1;
    public static final byte REASON_BAD_PROOF = 2;
    public static final byte REASON_BAD_MESSAGE = 3;

    private HandshakeDescriptor()
    {
    }

    /** A zeroed message of this type with magic and version set. */
    public static byte[] newMessage(final byte type)
    {
        final byte[] message = new byte[MESSAGE_LENGTH];
        ByteBuffer.wrap(message).order(BYTE_ORDER).putInt(MAGIC_OFFSET, MAGIC);
        message[TYPE_OFFSET] = type;
        message[VERSION_OFFSET] = VERSION;
        return message;
    }

    /** Why a received message is not a valid handshake message, or null when it is one. */
    public static String invalidReason(final byte[] message)
    {
        if (message == null || message.length != MESSAGE_LENGTH)
        {
            return "handshake message of " + (message == null ? 0 : message.length) + " bytes, not "
                + MESSAGE_LENGTH;
        }
        final int magic = ByteBuffer.wrap(message).order(BYTE_ORDER).getInt(MAGIC_OFFSET);
        if (magic != MAGIC)
        {
            return "no handshake magic (got 0x" + Integer.toHexString(magic) + "): not a splitkernel fabric peer, or "
                + "one too old to authenticate";
        }
        if (message[VERSION_OFFSET] != VERSION)
        {
            return "unsupported handshake version " + message[VERSION_OFFSET];
        }
        final byte type = message[TYPE_OFFSET];
        if (type < HELLO || type > REFUSED)
        {
            return "unknown handshake message type " + type;
        }
        return null;
    }

    public static String describeReason(final byte reason)
    {
        switch (reason)
        {
            case REASON_NO_SECRET: return "it requires the cluster secret and we have none (set "
                + "splitkernel.secretFile)";
            case REASON_BAD_PROOF: return "our proof did not verify: we do not share its cluster secret";
            case REASON_BAD_MESSAGE: return "it did not understand our handshake";
            default: return "reason " + reason;
        }
    }
}
