package dev.splitkernel.excache;

import org.agrona.UnsafeApi;

import static dev.splitkernel.excache.ExCacheLayout.*;

/**
 * A faster accessor for one thread and one address space: it keeps a window on the line it last loaded from, so a
 * scan pays the tag lookup once per line. Each load in the window is still validated against eviction: the slot's
 * seqlock state is re-read after the value (behind a load fence), as {@link ExCache} does; the miss path marks it
 * busy before it touches the bytes and gives it a new sequence number after, so an unchanged state proves the bytes
 * were this line's. Stores go through the cache. Hits in a window count as one hit per line entered.
 * <p>
 * The fence forces the JIT to reload this cursor's fields on every access, so the window is kept in as few fields
 * as the check needs: its start, the line's address and the state word's address and value.
 * <p>
 * Not thread-safe: one cursor per thread.
 */
public final class ExCacheCursor
{
    private static final long NO_WINDOW = 1L << 62;

    private final ExCache cache;
    private final int asid;
    private final int lineShift;
    private final long longLimit;
    private final long intLimit;
    private final long byteLimit;
    private long lineVaddr = NO_WINDOW;
    private long lineAddress;
    private long stateAddress;
    private long state;

    ExCacheCursor(final ExCache cache, final int asid)
    {
        if ((asid >>> ASID_BITS) != 0)
        {
            throw new IllegalArgumentException("asid=" + asid + ": must be in [0, 65535]");
        }
        this.cache = cache;
        this.asid = asid;
        lineShift = cache.lineShift();
        longLimit = cache.lineBytes() - Long.BYTES;
        intLimit = cache.lineBytes() - Integer.BYTES;
        byteLimit = cache.lineBytes() - Byte.BYTES;
    }

    /** @return the address space this cursor works in. */
    public int asid()
    {
        return asid;
    }

    public long getLong(final long vaddr)
    {
        final long delta = vaddr - lineVaddr;
        if (Long.compareUnsigned(delta, longLimit) <= 0)
        {
            final long value = UnsafeApi.getLong(lineAddress + delta);
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(stateAddress) == state)
            {
                return value;
            }
        }
        return getLongSlow(vaddr);
    }

    /** Enters the line's window (one lookup, counted as one hit) and loads from it, or loads through the cache. */
    private long getLongSlow(final long vaddr)
    {
        if (reposition(vaddr))
        {
            final long delta = vaddr - lineVaddr;
            if (delta <= longLimit)
            {
                final long value = UnsafeApi.getLong(lineAddress + delta);
                UnsafeApi.loadFence();
                if (UnsafeApi.getLong(stateAddress) == state)
                {
                    cache.cursorHit(stateAddress - SLOT_STATE_OFFSET);
                    return value;
                }
            }
        }
        final long value = cache.getLong(asid, vaddr); // miss, fault, a value across lines, or a change under us
        reposition(vaddr);
        return value;
    }

    public int getInt(final long vaddr)
    {
        final long delta = vaddr - lineVaddr;
        if (Long.compareUnsigned(delta, intLimit) <= 0)
        {
            final int value = UnsafeApi.getInt(lineAddress + delta);
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(stateAddress) == state)
            {
                return value;
            }
        }
        return getIntSlow(vaddr);
    }

    /** Enters the line's window (one lookup, counted as one hit) and loads from it, or loads through the cache. */
    private int getIntSlow(final long vaddr)
    {
        if (reposition(vaddr))
        {
            final long delta = vaddr - lineVaddr;
            if (delta <= intLimit)
            {
                final int value = UnsafeApi.getInt(lineAddress + delta);
                UnsafeApi.loadFence();
                if (UnsafeApi.getLong(stateAddress) == state)
                {
                    cache.cursorHit(stateAddress - SLOT_STATE_OFFSET);
                    return value;
                }
            }
        }
        final int value = cache.getInt(asid, vaddr); // miss, fault, a value across lines, or a change under us
        reposition(vaddr);
        return value;
    }

    public byte getByte(final long vaddr)
    {
        final long delta = vaddr - lineVaddr;
        if (Long.compareUnsigned(delta, byteLimit) <= 0)
        {
            final byte value = UnsafeApi.getByte(lineAddress + delta);
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(stateAddress) == state)
            {
                return value;
            }
        }
        return getByteSlow(vaddr);
    }

    /** Enters the line's window (one lookup, counted as one hit) and loads from it, or loads through the cache. */
    private byte getByteSlow(final long vaddr)
    {
        if (reposition(vaddr))
        {
            final long delta = vaddr - lineVaddr;
            if (delta <= byteLimit)
            {
                final byte value = UnsafeApi.getByte(lineAddress + delta);
                UnsafeApi.loadFence();
                if (UnsafeApi.getLong(stateAddress) == state)
                {
                    cache.cursorHit(stateAddress - SLOT_STATE_OFFSET);
                    return value;
                }
            }
        }
        final byte value = cache.getByte(asid, vaddr); // miss, fault, a value across lines, or a change under us
        reposition(vaddr);
        return value;
    }

    public double getDouble(final long vaddr)
    {
        return Double.longBitsToDouble(getLong(vaddr));
    }

    public void putLong(final long vaddr, final long value)
    {
        cache.putLong(asid, vaddr, value);
    }

    public void putInt(final long vaddr, final int value)
    {
        cache.putInt(asid, vaddr, value);
    }

    public void putByte(final long vaddr, final byte value)
    {
        cache.putByte(asid, vaddr, value);
    }

    public void putDouble(final long vaddr, final double value)
    {
        cache.putDouble(asid, vaddr, value);
    }

    /** @return true if the window is now on the line of {@code vaddr} (cached and readable). */
    private boolean reposition(final long vaddr)
    {
        lineVaddr = NO_WINDOW;
        final long m = cache.metaOf(asid, vaddr);
        if (m != 0)
        {
            final long s = UnsafeApi.getLongVolatile(null, m + SLOT_STATE_OFFSET);
            if ((s & (STATE_BUSY | STATE_READABLE)) == STATE_READABLE &&
                UnsafeApi.getLong(m + SLOT_TAG_OFFSET) == key(asid, vaddr, lineShift))
            {
                stateAddress = m + SLOT_STATE_OFFSET;
                state = s;
                lineAddress = cache.lineAddressOfMeta(m);
                lineVaddr = (vaddr >>> lineShift) << lineShift;
                return true;
            }
        }
        return false;
    }
}
