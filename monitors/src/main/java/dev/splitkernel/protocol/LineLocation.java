package dev.splitkernel.protocol;

/**
 * Where a line lives in a memory monitor's registered memory, learned from a miss reply, so that a later miss on
 * the line can be a one-sided READ. A mutable holder the caller preallocates (one per thread) and reuses.
 * <p>
 * Not thread-safe.
 */
public final class LineLocation
{
    private long remoteAddress;
    private int rkey;
    private int replicaTicket;
    private int fences;

    /** True when the last reply named a registered address (the page exists at the owner). */
    public boolean isKnown()
    {
        return remoteAddress != 0;
    }

    public long remoteAddress()
    {
        return remoteAddress;
    }

    public int rkey()
    {
        return rkey;
    }

    public LineLocation set(final long remoteAddress, final int rkey)
    {
        this.remoteAddress = remoteAddress;
        this.rkey = rkey;
        return this;
    }

    public LineLocation reset()
    {
        replicaTicket = 0;
        fences = 0;
        return set(0, 0);
    }

    /**
     * A piggybacked write-back sent with {@link LineRequestDescriptor#FLAG_REPLICA_ASYNC}: its ticket when the owner
     * answered "applied here, replication pending" (&gt; 0), or 0 when it was acknowledged outright.
     */
    public int replicaTicket()
    {
        return replicaTicket;
    }

    /** The owner's fence count when it applied the pending write-back. */
    public int fences()
    {
        return fences;
    }

    LineLocation pending(final int replicaTicket, final int fences)
    {
        this.replicaTicket = replicaTicket;
        this.fences = fences;
        return this;
    }
}
