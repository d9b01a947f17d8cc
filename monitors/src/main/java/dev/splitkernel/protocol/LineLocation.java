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
        return set(0, 0);
    }
}
