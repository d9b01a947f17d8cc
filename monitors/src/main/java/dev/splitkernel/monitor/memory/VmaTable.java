package dev.splitkernel.monitor.memory;

import java.util.Arrays;

/**
 * The vma tree of one vRegion, as an immutable sorted array of non-overlapping [start, end) ranges with their
 * protection: the miss path reads it without locks (binary search, no allocation); the control path replaces it
 * with a modified copy. Adjacent ranges with the same protection are merged.
 * <p>
 * Thread-safe: immutable.
 */
final class VmaTable
{
    static final VmaTable EMPTY = new VmaTable(new long[0], new long[0], new int[0]);

    private final long[] starts;
    private final long[] ends;
    private final int[] prots;

    private VmaTable(final long[] starts, final long[] ends, final int[] prots)
    {
        this.starts = starts;
        this.ends = ends;
        this.prots = prots;
    }

    int count()
    {
        return starts.length;
    }

    boolean isEmpty()
    {
        return starts.length == 0;
    }

    long start(final int i)
    {
        return starts[i];
    }

    long end(final int i)
    {
        return ends[i];
    }

    int prot(final int i)
    {
        return prots[i];
    }

    /** Index of the vma holding {@code address}, or -1. */
    int indexOf(final long address)
    {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi)
        {
            final int mid = (lo + hi) >>> 1;
            if (address < starts[mid])
            {
                hi = mid - 1;
            }
            else if (address >= ends[mid])
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }
        return -1;
    }

    /** Protection at {@code address}, or -1 if no vma holds it. */
    int protAt(final long address)
    {
        final int i = indexOf(address);
        return i < 0 ? -1 : prots[i];
    }

    /** Bytes of [start, end) covered by vmas. */
    long mappedBytes(final long start, final long end)
    {
        long bytes = 0;
        for (int i = 0; i < starts.length; i++)
        {
            final long s = Math.max(start, starts[i]);
            final long e = Math.min(end, ends[i]);
            if (e > s)
            {
                bytes += e - s;
            }
        }
        return bytes;
    }

    long mappedBytes()
    {
        long bytes = 0;
        for (int i = 0; i < starts.length; i++)
        {
            bytes += ends[i] - starts[i];
        }
        return bytes;
    }

    boolean isFree(final long start, final long end)
    {
        return mappedBytes(start, end) == 0;
    }

    boolean isMapped(final long start, final long end)
    {
        return mappedBytes(start, end) == end - start;
    }

    /** The lowest start of a free gap of {@code length} bytes within [base, limit), or -1. */
    long findGap(final long base, final long limit, final long length)
    {
        long candidate = base;
        for (int i = 0; i < starts.length; i++)
        {
            if (ends[i] <= candidate)
            {
                continue;
            }
            if (starts[i] - candidate >= length)
            {
                break;
            }
            candidate = Math.max(candidate, ends[i]);
        }
        return limit - candidate >= length ? candidate : -1;
    }

    /** A copy where [start, end) has protection {@code prot}, whatever was there before. */
    VmaTable with(final long start, final long end, final int prot)
    {
        final VmaTable without = without(start, end);
        final int n = without.starts.length;
        final long[] s = new long[n + 1];
        final long[] e = new long[n + 1];
        final int[] p = new int[n + 1];
        int j = 0;
        boolean inserted = false;
        for (int i = 0; i < n; i++)
        {
            if (!inserted && without.starts[i] >= end)
            {
                s[j] = start;
                e[j] = end;
                p[j++] = prot;
                inserted = true;
            }
            s[j] = without.starts[i];
            e[j] = without.ends[i];
            p[j++] = without.prots[i];
        }
        if (!inserted)
        {
            s[j] = start;
            e[j] = end;
            p[j] = prot;
        }
        return merged(s, e, p);
    }

    /** A copy with [start, end) unmapped (vmas split as needed). */
    VmaTable without(final long start, final long end)
    {
        final int n = starts.length;
        final long[] s = new long[n + 1];
        final long[] e = new long[n + 1];
        final int[] p = new int[n + 1];
        int j = 0;
        for (int i = 0; i < n; i++)
        {
            if (ends[i] <= start || starts[i] >= end)
            {
                s[j] = starts[i];
                e[j] = ends[i];
                p[j++] = prots[i];
                continue;
            }
            if (starts[i] < start)
            {
                s[j] = starts[i];
                e[j] = start;
                p[j++] = prots[i];
            }
            if (ends[i] > end)
            {
                s[j] = end;
                e[j] = ends[i];
                p[j++] = prots[i];
            }
        }
        return new VmaTable(Arrays.copyOf(s, j), Arrays.copyOf(e, j), Arrays.copyOf(p, j));
    }

    /** A copy where the mapped parts of [start, end) get protection {@code prot}. */
    VmaTable protect(final long start, final long end, final int prot)
    {
        VmaTable result = this;
        for (int i = 0; i < starts.length; i++)
        {
            final long s = Math.max(start, starts[i]);
            final long e = Math.min(end, ends[i]);
            if (e > s)
            {
                result = result.with(s, e, prot);
            }
        }
        return result;
    }

    private static VmaTable merged(final long[] s, final long[] e, final int[] p)
    {
        int j = 0;
        for (int i = 0; i < s.length; i++)
        {
            if (j > 0 && e[j - 1] == s[i] && p[j - 1] == p[i])
            {
                e[j - 1] = e[i];
            }
            else
            {
                s[j] = s[i];
                e[j] = e[i];
                p[j++] = p[i];
            }
        }
        return new VmaTable(Arrays.copyOf(s, j), Arrays.copyOf(e, j), Arrays.copyOf(p, j));
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < starts.length; i++)
        {
            sb.append(i == 0 ? "" : ", ").append(Long.toHexString(starts[i])).append('-')
                .append(Long.toHexString(ends[i])).append(':').append(prots[i]);
        }
        return sb.append(']').toString();
    }
}
