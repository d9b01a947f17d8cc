package dev.splitkernel.verbs.support;

import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The regions a fabric has registered, found by rkey in constant time without locks or allocation. An rkey is
 * {@code salt << 16 | index}: the index finds the entry, the random salt makes a stale or guessed key miss.
 * <p>
 * Thread-safe: lookups from any thread; registration and deregistration are serialised on the table.
 */
public final class RegionTable
{
    /** Most regions one fabric may hold at once. */
    public static final int CAPACITY = 65536;
    private static final int INDEX_MASK = CAPACITY - 1;

    private final AtomicReferenceArray<Region> regions = new AtomicReferenceArray<>(CAPACITY);
    private int nextIndex;

    /** Allocate zeroed direct memory and register it. */
    public synchronized Region allocate(final int lengthBytes)
    {
        if (lengthBytes <= 0)
        {
            throw new IllegalArgumentException("region length must be positive: " + lengthBytes);
        }
        for (int i = 0; i < CAPACITY; i++)
        {
            final int index = (nextIndex + i) & INDEX_MASK;
            if (regions.get(index) == null)
            {
                nextIndex = index + 1;
                final int salt = ThreadLocalRandom.current().nextInt(1, 1 << 15);
                final Region region = new Region(lengthBytes, salt << 16 | index);
                regions.set(index, region);
                return region;
            }
        }
        throw new FabricException("more than " + CAPACITY + " regions registered: deregister unused ones");
    }

    /** Withdraw a region; later lookups of its rkey fail. Unknown regions are ignored. */
    public synchronized void deregister(final MemoryRegion region)
    {
        final int index = region.rkey() & INDEX_MASK;
        if (regions.get(index) == region)
        {
            regions.set(index, null);
        }
    }

    /** The region registered under {@code rkey}, or null. */
    public Region lookup(final int rkey)
    {
        final Region region = regions.get(rkey & INDEX_MASK);
        return region != null && region.rkey() == rkey ? region : null;
    }

    public synchronized void clear()
    {
        for (int i = 0; i < CAPACITY; i++)
        {
            regions.set(i, null);
        }
    }
}
