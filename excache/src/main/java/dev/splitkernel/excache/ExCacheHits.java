package dev.splitkernel.excache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A hit count that one thread holds, for the cache's typed loads that take it ({@link ExCache#getLong(ExCacheHits,
 * int, long)} and the like). A hit on their inline path adds one to this object's field, one instruction: no thread
 * lookup, no atomic add (each instruction on a DRAM-bound random hit is a share of a DRAM round trip, see
 * {@link ExCache}). Every load takes one (a cursor holds its own); stores and bulk copies made without one count
 * with an atomic add in the cache; {@link ExCacheCounters#hits()} adds both, so every hit is counted exactly once.
 * <p>
 * The count is written only by its thread, with plain increments; readers take it with an opaque read. Every hit
 * path ends in an acquire load of the slot state, so the JIT cannot hold the count in a register across hits: a
 * reader sees each hit once the hit has returned (and all of them once the thread has stopped or closed this).
 * <p>
 * The count has a cache line to itself (padding on both sides, {@link ExCacheHitsPadding}): the handles of threads
 * that hit at the same time are often allocated next to each other, and would otherwise share a line.
 * <p>
 * Not thread-safe: one thread. {@link #close()} when the thread is done with it: its hits join the cache's total and
 * the cache stops reading it; loads through a closed handle are not counted (a bug in the caller).
 */
public final class ExCacheHits extends ExCacheHitsPadding.Right implements AutoCloseable
{
    private static final VarHandle COUNT;

    static
    {
        try
        {
            COUNT = MethodHandles.lookup().findVarHandle(ExCacheHitsPadding.Count.class, "count", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    private final ExCache cache;

    ExCacheHits(final ExCache cache)
    {
        this.cache = cache;
    }

    /** @return the hits counted in this handle so far (any thread). */
    public long count()
    {
        return (long)COUNT.getOpaque(this);
    }

    /** Hands this handle's hits over to the cache's total and unregisters it; idempotent. */
    @Override
    public void close()
    {
        cache.retire(this);
    }
}
