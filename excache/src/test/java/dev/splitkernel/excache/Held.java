package dev.splitkernel.excache;

/**
 * One load for tests that check a value here and there: every load of the cache takes the caller's
 * {@link ExCacheHits}, so this opens one, loads and closes it; the hit stays counted in the cache's total.
 */
final class Held
{
    private Held()
    {
    }

    static byte getByte(final ExCache cache, final int asid, final long vaddr)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getByte(hits, asid, vaddr);
        }
    }

    static short getShort(final ExCache cache, final int asid, final long vaddr)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getShort(hits, asid, vaddr);
        }
    }

    static int getInt(final ExCache cache, final int asid, final long vaddr)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getInt(hits, asid, vaddr);
        }
    }

    static long getLong(final ExCache cache, final int asid, final long vaddr)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getLong(hits, asid, vaddr);
        }
    }

    static float getFloat(final ExCache cache, final int asid, final long vaddr)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getFloat(hits, asid, vaddr);
        }
    }

    static double getDouble(final ExCache cache, final int asid, final long vaddr)
    {
        try (ExCacheHits hits = cache.newHits())
        {
            return cache.getDouble(hits, asid, vaddr);
        }
    }
}
