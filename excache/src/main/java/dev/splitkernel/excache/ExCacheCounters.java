package dev.splitkernel.excache;

/**
 * Event counts of one {@link ExCache}, readable from any thread while the cache runs. Values are monotonic;
 * hits are summed from the calls that held no handle and the callers' {@link ExCacheHits} (live and closed) and may lag by the
 * accesses in flight.
 */
public interface ExCacheCounters
{
    /** @return loads and stores satisfied without a miss (a cursor counts one hit per line it enters). */
    long hits();

    /** @return lines brought in by a miss: fetched, zero-filled (p-local) or taken from the victim cache. */
    long misses();

    /** @return misses satisfied by zero-filling the line locally (p-local), with no fetch. */
    long pLocalFills();

    /** @return lines removed from a set to make room (including those moved to the victim cache). */
    long evictions();

    /** @return dirty lines written back to the line source (eviction, flush, exit), piggybacked or not. */
    long dirtyWriteBacks();

    /** @return the part of {@link #dirtyWriteBacks()} that rode along a fetch. */
    long piggybackedWriteBacks();

    /** @return misses satisfied from the victim cache. */
    long victimCacheHits();
}
