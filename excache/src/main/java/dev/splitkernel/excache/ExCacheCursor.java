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
 * The fence forces the JIT to reload this cursor's fields on every access, so the window is kept in the shape the
 * check wants: two signed compares against its first and last start address for the width (no unsigned compare,
 * which the JIT builds out of four instructions), the value at {@code windowBias + vaddr} (one addressing mode),
 * and the state word's address and value. A scan then takes fewer instructions per load than a bounds-checked
 * plain buffer.
 * <p>
 * Not thread-safe: one cursor per thread.
 */
public final class ExCacheCursor
{
    private final ExCache cache;
    private final int asid;
    /** This cursor's hits (its thread's): it stays registered with the cache for as long as the cache lives. */
    private final ExCacheHits hits;
    private final int lineShift;
    private final int lineBytes;
    /** The window: loads of a width w at vaddr in [windowStart, windowStart + lineBytes - w] stay in its line. */
    private long windowStart = Long.MAX_VALUE;
    private long windowLastLong = Long.MIN_VALUE;
    private long windowLastInt = Long.MIN_VALUE;
    private long windowLastByte = Long.MIN_VALUE;
    /** The line's address minus windowStart: a value is at windowBias + vaddr. */
    private long windowBias;
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
        hits = cache.newHits();
        lineShift = cache.lineShift();
        lineBytes = cache.lineBytes();
    }

    /** @return the address space this cursor works in. */
    public int asid()
    {
        return asid;
    }

    public long getLong(final long vaddr)
    {
        if (vaddr >= windowStart && vaddr <= windowLastLong)
        {
            final long value = UnsafeApi.getLong(windowBias + vaddr);
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
        if (reposition(vaddr) && vaddr <= windowLastLong)
        {
            final long value = UnsafeApi.getLong(windowBias + vaddr);
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(stateAddress) == state)
            {
                cache.cursorHit(hits, stateAddress - SLOT_STATE_OFFSET);
                return value;
            }
        }
        final long value = cache.getLong(hits, asid, vaddr); // miss, fault, a value across lines, or a change under us
        reposition(vaddr);
        return value;
    }

    public int getInt(final long vaddr)
    {
        if (vaddr >= windowStart && vaddr <= windowLastInt)
        {
            final int value = UnsafeApi.getInt(windowBias + vaddr);
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
        if (reposition(vaddr) && vaddr <= windowLastInt)
        {
            final int value = UnsafeApi.getInt(windowBias + vaddr);
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(stateAddress) == state)
            {
                cache.cursorHit(hits, stateAddress - SLOT_STATE_OFFSET);
                return value;
            }
        }
        final int value = cache.getInt(hits, asid, vaddr); // miss, fault, a value across lines, or a change under us
        reposition(vaddr);
        return value;
    }

    public byte getByte(final long vaddr)
    {
        if (vaddr >= windowStart && vaddr <= windowLastByte)
        {
            final byte value = UnsafeApi.getByte(windowBias + vaddr);
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
        if (reposition(vaddr) && vaddr <= windowLastByte)
        {
            final byte value = UnsafeApi.getByte(windowBias + vaddr);
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(stateAddress) == state)
            {
                cache.cursorHit(hits, stateAddress - SLOT_STATE_OFFSET);
                return value;
            }
        }
        final byte value = cache.getByte(hits, asid, vaddr); // miss, fault, a value across lines, or a change under us
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
        closeWindow();
        final long m = cache.metaOf(asid, vaddr);
        if (m != 0)
        {
            final long s = UnsafeApi.getLongVolatile(null, m + SLOT_STATE_OFFSET);
            if ((s & (STATE_BUSY | STATE_UNREADABLE)) == 0 &&
                UnsafeApi.getLong(m + SLOT_TAG_OFFSET) == key(asid, vaddr, lineShift))
            {
                final long start = (vaddr >>> lineShift) << lineShift;
                stateAddress = m + SLOT_STATE_OFFSET;
                state = s;
                windowBias = cache.lineAddressOfMeta(m) - start;
                windowStart = start;
                windowLastLong = start + lineBytes - Long.BYTES;
                windowLastInt = start + lineBytes - Integer.BYTES;
                windowLastByte = start + lineBytes - Byte.BYTES;
                return true;
            }
        }
        return false;
    }

    /** An empty window: every load takes the slow path until the next reposition. */
    private void closeWindow()
    {
        windowStart = Long.MAX_VALUE;
        windowLastLong = Long.MIN_VALUE;
        windowLastInt = Long.MIN_VALUE;
        windowLastByte = Long.MIN_VALUE;
    }
}
