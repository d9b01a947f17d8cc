package dev.splitkernel.monitor.processor;

import java.util.Map;
import java.util.TreeMap;

/**
 * The processor's copy of one process's mappings: address ranges and their protection, kept from the system calls
 * the process made through this monitor (mmap, munmap, mremap, mprotect, brk). It answers the miss path's two
 * questions without a network call: is this address mapped, and with what protection.
 * <p>
 * Thread-safe: lock-free reads of an immutable snapshot (binary search, no allocation); writes are serialised and
 * publish a new snapshot.
 */
final class Mappings
{
    /** Returned by {@link #protOf(long)} for an unmapped address. */
    static final int UNMAPPED = -1;

    private static final class Snapshot
    {
        final long[] starts;
        final long[] ends;
        final int[] prots;

        Snapshot(final long[] starts, final long[] ends, final int[] prots)
        {
            this.starts = starts;
            this.ends = ends;
            this.prots = prots;
        }
    }

    private final TreeMap<Long, long[]> ranges = new TreeMap<>();
    private volatile Snapshot snapshot = new Snapshot(new long[0], new long[0], new int[0]);

    /** Protection bits of the mapping holding {@code address}, or {@link #UNMAPPED}. */
    int protOf(final long address)
    {
        final Snapshot s = snapshot;
        final long[] starts = s.starts;
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (starts[mid] <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return hi >= 0 && address < s.ends[hi] ? s.prots[hi] : UNMAPPED;
    }

    /** True when every byte of [start, end) is mapped. */
    synchronized boolean isFullyMapped(final long start, final long end)
    {
        long at = start;
        while (at < end)
        {
            final Map.Entry<Long, long[]> e = ranges.floorEntry(at);
            if (e == null || e.getValue()[0] <= at)
            {
                return false;
            }
            at = e.getValue()[0];
        }
        return true;
    }

    /** Map [start, end) with {@code prot}, replacing whatever overlapped it. */
    synchronized void map(final long start, final long end, final int prot)
    {
        cut(start, end);
        ranges.put(start, new long[]{end, prot});
        publish();
    }

    synchronized void unmap(final long start, final long end)
    {
        cut(start, end);
        publish();
    }

    /** Change the protection of the mapped parts of [start, end). */
    synchronized void protect(final long start, final long end, final int prot)
    {
        final TreeMap<Long, long[]> changed = new TreeMap<>();
        long at = start;
        while (at < end)
        {
            final Map.Entry<Long, long[]> e = ranges.floorEntry(at);
            final Map.Entry<Long, long[]> next = ranges.higherEntry(at);
            if (e != null && e.getValue()[0] > at)
            {
                final long segEnd = Math.min(end, e.getValue()[0]);
                changed.put(at, new long[]{segEnd, prot});
                at = segEnd;
            }
            else if (next != null && next.getKey() < end)
            {
                at = next.getKey();
            }
            else
            {
                break;
            }
        }
        for (final Map.Entry<Long, long[]> e : changed.entrySet())
        {
            cut(e.getKey(), e.getValue()[0]);
            ranges.put(e.getKey(), e.getValue());
        }
        publish();
    }

    /** The protection of the mapping that starts at or covers {@code address}, for mremap; UNMAPPED if none. */
    int protAt(final long address)
    {
        return protOf(address);
    }

    synchronized void clear()
    {
        ranges.clear();
        publish();
    }

    private void cut(final long start, final long end)
    {
        final Map.Entry<Long, long[]> before = ranges.lowerEntry(start);
        if (before != null && before.getValue()[0] > start)
        {
            final long[] v = before.getValue();
            final long oldEnd = v[0];
            v[0] = start;
            if (oldEnd > end)
            {
                ranges.put(end, new long[]{oldEnd, v[1]});
            }
        }
        Map.Entry<Long, long[]> e;
        while ((e = ranges.ceilingEntry(start)) != null && e.getKey() < end)
        {
            ranges.remove(e.getKey());
            if (e.getValue()[0] > end)
            {
                ranges.put(end, new long[]{e.getValue()[0], e.getValue()[1]});
            }
        }
    }

    private void publish()
    {
        final int n = ranges.size();
        final long[] starts = new long[n];
        final long[] ends = new long[n];
        final int[] prots = new int[n];
        int i = 0;
        for (final Map.Entry<Long, long[]> e : ranges.entrySet())
        {
            starts[i] = e.getKey();
            ends[i] = e.getValue()[0];
            prots[i] = (int)e.getValue()[1];
            i++;
        }
        snapshot = new Snapshot(starts, ends, prots);
    }
}
