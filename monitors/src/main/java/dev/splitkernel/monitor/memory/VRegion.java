package dev.splitkernel.monitor.memory;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One vRegion of one process owned by this memory monitor: its vma table and its page table (page index within
 * the vRegion to physical page id).
 * <p>
 * The page table has two levels: a directory of leaves of {@link #LEAF_PAGES} entries, each leaf created at the
 * first page in its range. An entry holds the page id plus one (0: no page), so a new leaf means "no pages".
 * <p>
 * Thread-safe: the vma table is an immutable snapshot replaced under the monitor's control lock; the page table is
 * lock-free (a new page is installed by compare-and-set; the loser of a race frees its page). A page freed by an
 * unmap while another thread copies it is the user's own race (as touching memory during munmap on Linux).
 */
final class VRegion
{
    static final int LEAF_SHIFT = 9;
    static final int LEAF_PAGES = 1 << LEAF_SHIFT;
    /** {@link #secondary} of a vRegion that is not replicated. */
    static final int NO_SECONDARY = -1;

    final int asid;
    final int index;
    final long base;
    final long limit;
    volatile VmaTable vmas = VmaTable.EMPTY;
    /**
     * The member id of the memory monitor holding this vRegion's replica (its write-backs and vma changes are
     * forwarded there before they are acknowledged), or {@link #NO_SECONDARY}.
     */
    volatile int secondary = NO_SECONDARY;
    /**
     * This monitor lost the vRegion to another owner (declared dead while alive): every access is answered ESTALE.
     * Checked after a fetch's copy and, under the page's stripe, before a write-back's.
     */
    volatile boolean fenced;
    /** Guarded by the monitor's control lock. */
    long committedBytes;
    private final long pageCount;
    private final AtomicReferenceArray<AtomicIntegerArray> directory;

    VRegion(final int asid, final int index, final long vRegionBytes, final int pageBytes)
    {
        this.asid = asid;
        this.index = index;
        this.base = index * vRegionBytes;
        this.limit = base + vRegionBytes;
        this.pageCount = vRegionBytes / pageBytes;
        this.directory = new AtomicReferenceArray<>((int)((pageCount + LEAF_PAGES - 1) >>> LEAF_SHIFT));
    }

    static long key(final int asid, final int index)
    {
        return ((long)asid << 32) | (index & 0xFFFF_FFFFL);
    }

    private AtomicIntegerArray leaf(final long pageIndex, final boolean create)
    {
        final int slot = (int)(pageIndex >>> LEAF_SHIFT);
        AtomicIntegerArray leaf = directory.get(slot);
        if (leaf == null && create)
        {
            final AtomicIntegerArray fresh = new AtomicIntegerArray(LEAF_PAGES);
            leaf = directory.compareAndSet(slot, null, fresh) ? fresh : directory.get(slot);
        }
        return leaf;
    }

    /** The page's id, or {@link PagePool#NO_PAGE}; if absent and {@code pool} is not null, a new zeroed one. */
    int page(final long pageIndex, final PagePool pool, final boolean[] created)
    {
        final AtomicIntegerArray leaf = leaf(pageIndex, pool != null);
        if (leaf == null)
        {
            return PagePool.NO_PAGE;
        }
        final int entry = (int)(pageIndex & (LEAF_PAGES - 1));
        final int existing = leaf.get(entry);
        if (existing != 0 || pool == null)
        {
            return existing - 1;
        }
        final int page = pool.allocate();
        if (page == PagePool.NO_PAGE)
        {
            return PagePool.NO_PAGE;
        }
        if (leaf.compareAndSet(entry, 0, page + 1))
        {
            created[0] = true;
            return page;
        }
        pool.free(page);
        return leaf.get(entry) - 1;
    }

    int pageIfPresent(final long pageIndex)
    {
        final AtomicIntegerArray leaf = leaf(pageIndex, false);
        return leaf == null ? PagePool.NO_PAGE : leaf.get((int)(pageIndex & (LEAF_PAGES - 1))) - 1;
    }

    /** Free the pages of page indexes [fromIndex, toIndex). */
    void freePages(final long fromIndex, final long toIndex, final PagePool pool)
    {
        long i = Math.max(0, fromIndex);
        final long end = Math.min(toIndex, pageCount);
        while (i < end)
        {
            final AtomicIntegerArray leaf = leaf(i, false);
            final long leafEnd = Math.min(end, ((i >>> LEAF_SHIFT) + 1) << LEAF_SHIFT);
            if (leaf != null)
            {
                for (long p = i; p < leafEnd; p++)
                {
                    final int old = leaf.getAndSet((int)(p & (LEAF_PAGES - 1)), 0);
                    if (old != 0)
                    {
                        pool.free(old - 1);
                    }
                }
            }
            i = leafEnd;
        }
    }

    /** Remove a page from the table without freeing it; its id or {@link PagePool#NO_PAGE}. */
    int removePage(final long pageIndex)
    {
        final AtomicIntegerArray leaf = leaf(pageIndex, false);
        return leaf == null ? PagePool.NO_PAGE : leaf.getAndSet((int)(pageIndex & (LEAF_PAGES - 1)), 0) - 1;
    }

    /** Put a page in the table, freeing the one it replaces. */
    void putPage(final long pageIndex, final int page, final PagePool pool)
    {
        final int old = leaf(pageIndex, true).getAndSet((int)(pageIndex & (LEAF_PAGES - 1)), page + 1);
        if (old != 0)
        {
            pool.free(old - 1);
        }
    }

    /** The lowest page index in [fromIndex, toIndex) that has a page, or -1. */
    long nextPage(final long fromIndex, final long toIndex)
    {
        long i = Math.max(0, fromIndex);
        final long end = Math.min(toIndex, pageCount);
        while (i < end)
        {
            final AtomicIntegerArray leaf = leaf(i, false);
            final long leafEnd = Math.min(end, ((i >>> LEAF_SHIFT) + 1) << LEAF_SHIFT);
            if (leaf != null)
            {
                for (long p = i; p < leafEnd; p++)
                {
                    if (leaf.get((int)(p & (LEAF_PAGES - 1))) != 0)
                    {
                        return p;
                    }
                }
            }
            i = leafEnd;
        }
        return -1;
    }

    int pageCount()
    {
        int count = 0;
        for (int slot = 0; slot < directory.length(); slot++)
        {
            final AtomicIntegerArray leaf = directory.get(slot);
            if (leaf != null)
            {
                for (int e = 0; e < LEAF_PAGES; e++)
                {
                    count += leaf.get(e) != 0 ? 1 : 0;
                }
            }
        }
        return count;
    }
}
