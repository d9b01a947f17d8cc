package dev.splitkernel.monitor.memory;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.MemoryRegion;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Physical pages in registered memory: chunks are allocated from the fabric on demand, pages are handed out by
 * id, up to the capacity. A page id names a chunk and an offset; its registered address and rkey let a processor
 * read it one-sided.
 * <p>
 * Thread-safe: allocation and free are serialised; the accessors read immutable state of an allocated page.
 */
final class PagePool implements AutoCloseable
{
    static final int NO_PAGE = -1;

    private final Fabric fabric;
    private final int pageBytes;
    private final int pagesPerChunk;
    private final int maxPages;
    private final MemoryRegion[] chunks;
    private final UnsafeBuffer[] buffers;
    private final long[] addresses;
    private final int[] rkeys;
    private int[] freePages = new int[1024];
    private int freeCount;
    private int nextFreshPage;
    private volatile int usedPages;

    PagePool(final Fabric fabric, final int pageBytes, final int chunkBytes, final long capacityBytes)
    {
        this.fabric = fabric;
        this.pageBytes = pageBytes;
        this.maxPages = (int)Math.min(Integer.MAX_VALUE - 1, capacityBytes / pageBytes);
        this.pagesPerChunk = Math.min(chunkBytes / pageBytes, maxPages);
        final int chunkCount = (maxPages + pagesPerChunk - 1) / pagesPerChunk;
        chunks = new MemoryRegion[chunkCount];
        buffers = new UnsafeBuffer[chunkCount];
        addresses = new long[chunkCount];
        rkeys = new int[chunkCount];
    }

    int pageBytes()
    {
        return pageBytes;
    }

    long usedBytes()
    {
        return (long)usedPages * pageBytes;
    }

    /** A zero-filled page's id, or {@link #NO_PAGE} when the capacity is used up. */
    synchronized int allocate()
    {
        final int page;
        if (freeCount > 0)
        {
            page = freePages[--freeCount];
            buffer(page).setMemory(offset(page), pageBytes, (byte)0);
        }
        else if (nextFreshPage < maxPages)
        {
            page = nextFreshPage;
            final int chunk = page / pagesPerChunk;
            if (chunks[chunk] == null)
            {
                final int pages = Math.min(pagesPerChunk, maxPages - chunk * pagesPerChunk);
                final MemoryRegion region = fabric.allocate(pages * pageBytes);
                buffers[chunk] = region.buffer();
                addresses[chunk] = region.address();
                rkeys[chunk] = region.rkey();
                chunks[chunk] = region;
            }
            nextFreshPage++;
        }
        else
        {
            return NO_PAGE;
        }
        usedPages++;
        return page;
    }

    synchronized void free(final int page)
    {
        if (freeCount == freePages.length)
        {
            freePages = java.util.Arrays.copyOf(freePages, freeCount * 2);
        }
        freePages[freeCount++] = page;
        usedPages--;
    }

    UnsafeBuffer buffer(final int page)
    {
        return buffers[page / pagesPerChunk];
    }

    int offset(final int page)
    {
        return (page % pagesPerChunk) * pageBytes;
    }

    long remoteAddress(final int page)
    {
        return addresses[page / pagesPerChunk] + offset(page);
    }

    int rkey(final int page)
    {
        return rkeys[page / pagesPerChunk];
    }

    @Override
    public synchronized void close()
    {
        for (int i = 0; i < chunks.length; i++)
        {
            if (chunks[i] != null)
            {
                try
                {
                    fabric.deregister(chunks[i]);
                }
                catch (final RuntimeException ignore)
                {
                    // The fabric may already be closed; its memory goes with it.
                }
                chunks[i] = null;
            }
        }
    }
}
