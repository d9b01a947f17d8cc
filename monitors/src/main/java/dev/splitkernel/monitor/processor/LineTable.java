package dev.splitkernel.monitor.processor;

import org.agrona.collections.Int2ObjectHashMap;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the processor knows about each line of one process, per vRegion:
 * <ul>
 *   <li>whether the line was ever written back (otherwise fresh anonymous memory is p-local: zero-filled here,
 *       with no network call);</li>
 *   <li>where the line's page lives in its owner's registered memory (remote address and rkey, learned from a
 *       miss reply), so a later miss is a one-sided READ that uses no memory-monitor CPU.</li>
 * </ul>
 * Thread-safe: per-line state is in atomic arrays; the vRegion directory is copy-on-write, so the miss path reads
 * it without a lock and allocates only at the first touch of a vRegion.
 */
final class LineTable
{
    static final class Region
    {
        final AtomicLongArray writtenBack;
        final AtomicLongArray remoteAddresses;
        final AtomicIntegerArray rkeys;

        Region(final int lines, final boolean oneSided)
        {
            writtenBack = new AtomicLongArray((lines + 63) >>> 6);
            remoteAddresses = oneSided ? new AtomicLongArray(lines) : null;
            rkeys = oneSided ? new AtomicIntegerArray(lines) : null;
        }
    }

    private final int lineShift;
    private final int vRegionShift;
    private final int linesPerRegionMask;
    private final int linesPerRegion;
    private final boolean oneSided;
    private volatile Int2ObjectHashMap<Region> regions = new Int2ObjectHashMap<>();

    LineTable(final int lineBytes, final long vRegionBytes, final boolean oneSided)
    {
        lineShift = Integer.numberOfTrailingZeros(lineBytes);
        vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        linesPerRegion = (int)(vRegionBytes >>> lineShift);
        linesPerRegionMask = linesPerRegion - 1;
        this.oneSided = oneSided;
    }

    boolean isWrittenBack(final long lineNumber)
    {
        final Region r = regions.get(regionOf(lineNumber));
        if (r == null)
        {
            return false;
        }
        final int i = (int)lineNumber & linesPerRegionMask;
        return (r.writtenBack.get(i >>> 6) & (1L << i)) != 0;
    }

    void markWrittenBack(final long lineNumber)
    {
        final Region r = region(regionOf(lineNumber));
        final int i = (int)lineNumber & linesPerRegionMask;
        final long bit = 1L << i;
        final int word = i >>> 6;
        long v;
        while (((v = r.writtenBack.get(word)) & bit) == 0 && !r.writtenBack.compareAndSet(word, v, v | bit))
        {
            Thread.onSpinWait();
        }
    }

    /** The remote address of the line's page (0 when unknown); {@link #rkey(long)} gives its key. */
    long remoteAddress(final long lineNumber)
    {
        if (!oneSided)
        {
            return 0;
        }
        final Region r = regions.get(regionOf(lineNumber));
        return r == null ? 0 : r.remoteAddresses.get((int)lineNumber & linesPerRegionMask);
    }

    int rkey(final long lineNumber)
    {
        final Region r = regions.get(regionOf(lineNumber));
        return r == null ? 0 : r.rkeys.get((int)lineNumber & linesPerRegionMask);
    }

    void learn(final long lineNumber, final long remoteAddress, final int rkey)
    {
        if (!oneSided || remoteAddress == 0)
        {
            return;
        }
        final Region r = region(regionOf(lineNumber));
        final int i = (int)lineNumber & linesPerRegionMask;
        r.rkeys.set(i, rkey);
        r.remoteAddresses.set(i, remoteAddress);
    }

    /**
     * Forget lines [firstLine, endLine): no longer written back (a later mapping there starts as fresh p-local
     * memory) and no known remote address. For munmap.
     */
    void forget(final long firstLine, final long endLine)
    {
        for (long line = firstLine; line < endLine; line++)
        {
            final Region r = regions.get(regionOf(line));
            if (r == null)
            {
                line |= linesPerRegionMask;
                continue;
            }
            final int i = (int)line & linesPerRegionMask;
            if (oneSided)
            {
                r.remoteAddresses.set(i, 0);
            }
            final long bit = 1L << i;
            final int word = i >>> 6;
            long v;
            while (((v = r.writtenBack.get(word)) & bit) != 0 && !r.writtenBack.compareAndSet(word, v, v & ~bit))
            {
                Thread.onSpinWait();
            }
        }
    }

    /** Forget only the remote addresses of [firstLine, endLine): the pages may move (mremap). */
    void forgetLocations(final long firstLine, final long endLine)
    {
        if (!oneSided)
        {
            return;
        }
        for (long line = firstLine; line < endLine; line++)
        {
            final Region r = regions.get(regionOf(line));
            if (r == null)
            {
                line |= linesPerRegionMask;
                continue;
            }
            r.remoteAddresses.set((int)line & linesPerRegionMask, 0);
        }
    }

    /** Lines [firstLine, endLine) must be fetched from now on (their content lives at the memory side). */
    void markAllWrittenBack(final long firstLine, final long endLine)
    {
        for (long line = firstLine; line < endLine; line++)
        {
            markWrittenBack(line);
        }
    }

    private int regionOf(final long lineNumber)
    {
        return (int)(lineNumber >>> (vRegionShift - lineShift));
    }

    private Region region(final int index)
    {
        Region r = regions.get(index);
        if (r == null)
        {
            synchronized (this)
            {
                r = regions.get(index);
                if (r == null)
                {
                    r = new Region(linesPerRegion, oneSided);
                    final Int2ObjectHashMap<Region> copy = new Int2ObjectHashMap<>(regions);
                    copy.put(index, r);
                    regions = copy;
                }
            }
        }
        return r;
    }
}
