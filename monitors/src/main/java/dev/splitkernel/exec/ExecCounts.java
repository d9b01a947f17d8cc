package dev.splitkernel.exec;

/**
 * What the fault handler did for one program.
 *
 * @param missingFaults      faults on a page not resident (each installed one page)
 * @param writeProtectFaults first writes to clean resident pages (and writes racing an eviction)
 * @param pLocalFills        missing pages never written back: zero-filled here, no network call
 * @param fetches            missing pages fetched from their memory monitor
 * @param evictions          pages evicted to stay within the ExCache size
 * @param writeBacks         dirty victims written back to their memory monitor
 * @param duplicateFaults    faults already resolved by the time they were read (another thread's)
 * @param residentPeak       most pages resident at once
 * @param touchedPages       distinct heap pages the program touched (its heap's working set)
 * @param capacityPages      the ExCache size in pages
 */
public record ExecCounts(long missingFaults, long writeProtectFaults, long pLocalFills, long fetches, long evictions,
    long writeBacks, long duplicateFaults, long residentPeak, long touchedPages, long capacityPages)
{
    /** Bytes moved over the fabric: fetched pages and written-back pages. */
    public long bytesMoved()
    {
        return (fetches + writeBacks) * HeapSession.PAGE_BYTES;
    }
}
