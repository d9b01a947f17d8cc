package dev.splitkernel.excache;

import org.agrona.UnsafeApi;

import static dev.splitkernel.excache.ExCacheLayout.*;

/**
 * A faster accessor for one thread and one address space: it keeps a window on the line it last loaded from, so a
 * scan pays the tag lookup once per line. Each load in the window is still validated against eviction: the slot's
 * version is re-read after the value, as {@link ExCache} does (the miss path makes it odd before it touches the
 * bytes). Stores go through the cache. Hits in a window count as one hit per line entered.
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
    private long meta;
    private long version;

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
            if (UnsafeApi.getLong(meta + SLOT_VERSION_OFFSET) == version)
            {
                return value;
            }
        }
        final long value = cache.getLong(asid, vaddr);
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
            if (UnsafeApi.getLong(meta + SLOT_VERSION_OFFSET) == version)
            {
                return value;
            }
        }
        final int value = cache.getInt(asid, vaddr);
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
            if (UnsafeApi.getLong(meta + SLOT_VERSION_OFFSET) == version)
            {
                return value;
            }
        }
        final byte value = cache.getByte(asid, vaddr);
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

    private void reposition(final long vaddr)
    {
        lineVaddr = NO_WINDOW;
        final long m = cache.metaOf(asid, vaddr);
        if (m != 0)
        {
            final long v = UnsafeApi.getLongVolatile(null, m + SLOT_VERSION_OFFSET);
            if ((v & 1) == 0 && UnsafeApi.getLong(m + SLOT_TAG_OFFSET) == key(asid, vaddr, lineShift) &&
                (UnsafeApi.getByte(m + SLOT_PROT_OFFSET) & LineSource.PROT_READ) != 0)
            {
                meta = m;
                version = v;
                lineAddress = cache.lineAddressOfMeta(m);
                lineVaddr = (vaddr >>> lineShift) << lineShift;
            }
        }
    }
}
