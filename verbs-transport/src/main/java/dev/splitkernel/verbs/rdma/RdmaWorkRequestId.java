package dev.splitkernel.verbs.rdma;

/**
 * A work request id names what a completion belongs to: the connection's table index and generation (a completion
 * flushed from a torn-down connection finds another generation and is dropped), the kind of work and the slot.
 */
final class RdmaWorkRequestId
{
    static final int KIND_SEND = 1;
    static final int KIND_RECV = 2;
    static final int KIND_CONTROL = 3;

    private RdmaWorkRequestId()
    {
    }

    /** Encode a work request id: connection index, its generation, kind and slot index. */
    static long encode(final int connectionIndex, final int generation, final int kind, final int index)
    {
        return ((long)(connectionIndex & 0xFFFF) << 48) | ((long)(generation & 0xFFFF) << 32)
            | ((long)(kind & 0xFF) << 24) | (index & 0xFFFFFF);
    }

    static int connectionIndex(final long wrId)
    {
        return (int)(wrId >>> 48) & 0xFFFF;
    }

    static int generation(final long wrId)
    {
        return (int)(wrId >>> 32) & 0xFFFF;
    }

    static int kind(final long wrId)
    {
        return (int)(wrId >>> 24) & 0xFF;
    }

    static int index(final long wrId)
    {
        return (int)wrId & 0xFFFFFF;
    }
}
