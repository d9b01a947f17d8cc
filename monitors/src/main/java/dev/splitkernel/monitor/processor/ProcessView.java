package dev.splitkernel.monitor.processor;

import dev.splitkernel.protocol.VRegionMap;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The processor's view of one process's memory, per vRegion: its owner (an {@link Owners.Owner}: the memory
 * monitor's connection and state) and, per line, what the processor learned:
 * <ul>
 *   <li>whether the line was ever written back (otherwise fresh anonymous memory is p-local: zero-filled here,
 *       with no network call);</li>
 *   <li>where the line's page lives in its owner's registered memory (remote address and rkey, learned from a
 *       miss reply), so a later miss is a one-sided READ that uses no memory-monitor CPU.</li>
 * </ul>
 * A miss resolves its line with one lookup here ({@link #region}): owner, connection and page location together.
 * The view follows the process's {@link VRegionMap} (it is its listener): a system call's reply or an owner change
 * pushed by the global managers rebinds a vRegion, and a vRegion that changes owner forgets its page locations
 * (they were the old owner's).
 * <p>
 * Thread-safe: per-line state is in atomic arrays, allocated at a vRegion's first use; the vRegion directory is
 * copy-on-write, so the miss path reads it without a lock.
 */
final class ProcessView implements VRegionMap.Listener
{
    /** One vRegion: its owner and what is known of its lines. */
    static final class Region
    {
        volatile Owners.Owner owner;
        private final int lines;
        private final boolean oneSided;
        private volatile AtomicLongArray writtenBack;
        private volatile AtomicLongArray remoteAddresses;
        private volatile AtomicIntegerArray rkeys;

        Region(final int lines, final boolean oneSided)
        {
            this.lines = lines;
            this.oneSided = oneSided;
        }

        boolean isWrittenBack(final int i)
        {
            final AtomicLongArray bits = writtenBack;
            return bits != null && (bits.get(i >>> 6) & (1L << i)) != 0;
        }

        void markWrittenBack(final int i)
        {
            setBit(bits(), i, true);
        }

        /** The remote address of line {@code i}'s page (0 when unknown); {@link #rkey(int)} gives its key. */
        long remoteAddress(final int i)
        {
            final AtomicLongArray addresses = remoteAddresses;
            return addresses == null ? 0 : addresses.get(i);
        }

        int rkey(final int i)
        {
            return rkeys.get(i);
        }

        void learn(final int i, final long remoteAddress, final int rkey)
        {
            if (!oneSided || remoteAddress == 0)
            {
                return;
            }
            if (remoteAddresses == null)
            {
                allocateLocations();
            }
            rkeys.set(i, rkey);
            remoteAddresses.set(i, remoteAddress);
        }

        void forgetLocation(final int i)
        {
            final AtomicLongArray addresses = remoteAddresses;
            if (addresses != null)
            {
                addresses.set(i, 0);
            }
        }

        void forget(final int i)
        {
            forgetLocation(i);
            final AtomicLongArray bits = writtenBack;
            if (bits != null)
            {
                setBit(bits, i, false);
            }
        }

        /** Every page location of this vRegion: they belong to an owner it no longer has. */
        void forgetLocations()
        {
            final AtomicLongArray addresses = remoteAddresses;
            if (addresses != null)
            {
                for (int i = 0; i < lines; i++)
                {
                    addresses.set(i, 0);
                }
            }
        }

        private AtomicLongArray bits()
        {
            AtomicLongArray bits = writtenBack;
            if (bits == null)
            {
                synchronized (this)
                {
                    bits = writtenBack;
                    if (bits == null)
                    {
                        bits = new AtomicLongArray((lines + 63) >>> 6);
                        writtenBack = bits;
                    }
                }
            }
            return bits;
        }

        private synchronized void allocateLocations()
        {
            if (remoteAddresses == null)
            {
                rkeys = new AtomicIntegerArray(lines);
                remoteAddresses = new AtomicLongArray(lines);
            }
        }

        private static void setBit(final AtomicLongArray bits, final int i, final boolean set)
        {
            final long bit = 1L << i;
            final int word = i >>> 6;
            long v;
            while (((v = bits.get(word)) & bit) == 0 == set && !bits.compareAndSet(word, v, set ? v | bit : v & ~bit))
            {
                Thread.onSpinWait();
            }
        }
    }

    private final Owners owners;
    private final int lineShift;
    private final int vRegionShift;
    private final int linesPerRegionMask;
    private final int linesPerRegion;
    private final boolean oneSided;
    private volatile Int2ObjectHashMap<Region> regions = new Int2ObjectHashMap<>();

    ProcessView(final Owners owners, final int lineBytes, final long vRegionBytes, final boolean oneSided)
    {
        this.owners = owners;
        lineShift = Integer.numberOfTrailingZeros(lineBytes);
        vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        linesPerRegion = (int)(vRegionBytes >>> lineShift);
        linesPerRegionMask = linesPerRegion - 1;
        this.oneSided = oneSided;
    }

    /** The vRegion of a line, or null if it was never bound or touched. The miss path's one lookup. */
    Region region(final long lineNumber)
    {
        return regions.get(regionOf(lineNumber));
    }

    /** The line's index within its vRegion, for the {@link Region} methods. */
    int indexOf(final long lineNumber)
    {
        return (int)lineNumber & linesPerRegionMask;
    }

    /** The process's vRegion map changed (a system call's reply, or an owner change pushed by a global manager). */
    @Override
    public void onOwner(final int vRegionIndex, final int ownerId)
    {
        final Owners.Owner owner = ownerId == VRegionMap.NO_OWNER ? null : owners.entry(ownerId);
        final Region r = owner == null ? regions.get(vRegionIndex) : regionAt(vRegionIndex);
        if (r == null)
        {
            return;
        }
        final Owners.Owner old = r.owner;
        if (old != null && old != owner)
        {
            r.forgetLocations();
            owners.moved(); // before the new owner shows: a miss that sees it first re-sends what is pending
        }
        r.owner = owner;
        owners.changed();
    }

    boolean isWrittenBack(final long lineNumber)
    {
        final Region r = region(lineNumber);
        return r != null && r.isWrittenBack(indexOf(lineNumber));
    }

    void markWrittenBack(final long lineNumber)
    {
        regionAt(regionOf(lineNumber)).markWrittenBack(indexOf(lineNumber));
    }

    /**
     * Forget lines [firstLine, endLine): no longer written back (a later mapping there starts as fresh p-local
     * memory) and no known remote address. For munmap.
     */
    void forget(final long firstLine, final long endLine)
    {
        forget(firstLine, endLine, false);
    }

    /** Forget only the remote addresses of [firstLine, endLine): the pages may move (mremap). */
    void forgetLocations(final long firstLine, final long endLine)
    {
        if (oneSided)
        {
            forget(firstLine, endLine, true);
        }
    }

    private void forget(final long firstLine, final long endLine, final boolean locationsOnly)
    {
        for (long line = firstLine; line < endLine; line++)
        {
            final Region r = region(line);
            if (r == null)
            {
                line |= linesPerRegionMask;
                continue;
            }
            if (locationsOnly)
            {
                r.forgetLocation(indexOf(line));
            }
            else
            {
                r.forget(indexOf(line));
            }
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

    private Region regionAt(final int index)
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
