package dev.splitkernel.verbs;

/**
 * Result codes of fabric operations. Zero or a positive value is success (for a call, the reply length);
 * a negative value is an expected failure that the caller handles. Bugs are exceptions, never codes.
 */
public final class Status
{
    public static final int OK = 0;
    /** The operation did not complete within its timeout. */
    public static final int TIMEOUT = -1;
    /** The connection is closed or the peer is dead. */
    public static final int NOT_CONNECTED = -2;
    /** The remote key names no region registered at the target. */
    public static final int BAD_RKEY = -3;
    /** The access falls outside the registered region, or outside the local buffer. */
    public static final int OUT_OF_BOUNDS = -4;
    /** No handler is registered for the request's opcode. */
    public static final int UNKNOWN_OPCODE = -5;
    /** The message could not be decoded. */
    public static final int MALFORMED = -6;
    /** The message or its reply is larger than the buffer or the fabric's limit. */
    public static final int TOO_LARGE = -7;
    /** The send queue is full; try again. */
    public static final int BACK_PRESSURED = -8;
    /** The peer refused the connection or the request (for example, it failed authentication). */
    public static final int REFUSED = -9;
    /** The handler failed; the target is still serving. */
    public static final int HANDLER_ERROR = -10;

    private Status()
    {
    }

    public static boolean isError(final int status)
    {
        return status < 0;
    }

    /** A short human-readable name of a status code, for error messages and counters. */
    public static String describe(final int status)
    {
        switch (status)
        {
            case TIMEOUT: return "timeout";
            case NOT_CONNECTED: return "not connected";
            case BAD_RKEY: return "bad remote key";
            case OUT_OF_BOUNDS: return "out of bounds";
            case UNKNOWN_OPCODE: return "unknown opcode";
            case MALFORMED: return "malformed message";
            case TOO_LARGE: return "too large";
            case BACK_PRESSURED: return "back-pressured";
            case REFUSED: return "refused";
            case HANDLER_ERROR: return "handler error";
            default: return status >= 0 ? "ok" : "unknown status " + status;
        }
    }
}
