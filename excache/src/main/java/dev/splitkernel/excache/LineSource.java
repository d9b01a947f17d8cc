package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Where the {@link ExCache} gets lines on a miss and puts dirty lines back: the processor monitor implements it over
 * the fabric. The cache calls it in the faulting thread while it holds the lock of the line's set, so an
 * implementation must not call back into the same cache, and every wait in it must have a timeout.
 * <p>
 * Expected failures (unmapped address, dead memory monitor, timeout) are negative return values, never exceptions;
 * the cache turns a negative value into an {@link ExCacheFault} of the faulting access only.
 * <p>
 * Must be thread-safe: any thread that misses calls it.
 */
public interface LineSource
{
    /** Permission bit: the line may be read. */
    int PROT_READ = 1;

    /** Permission bit: the line may be written. */
    int PROT_WRITE = 2;

    /**
     * May this line be created locally as zeros (a p-local line: fresh anonymous memory never written back)?
     *
     * @param asid       address-space id.
     * @param lineNumber virtual line number (virtual address / line size).
     * @return the line's permission bits (>= 0) to create it as zeros, or a negative value meaning "fetch it".
     */
    int zeroFill(int asid, long lineNumber);

    /**
     * Copies the line into {@code dst} at {@code dstOffset} (line size bytes).
     *
     * @return the line's permission bits (>= 0) or a negative error code.
     */
    int fetch(int asid, long lineNumber, UnsafeBuffer dst, int dstOffset);

    /**
     * Writes a dirty line back ({@code src} at {@code srcOffset}, line size bytes).
     *
     * @return 0 when done, or a negative error code (the cache then keeps the line dirty).
     */
    int writeBack(int asid, long lineNumber, UnsafeBuffer src, int srcOffset);

    /**
     * Fetches one line and writes back a dirty victim to the same target in one call (piggyback). The cache only
     * calls this when {@link #targetOf} is the same for both lines. The default writes back, then fetches.
     * <p>
     * A negative return means the operation failed; the cache then assumes the victim was <em>not</em> written
     * back and keeps it (a second write-back of the same bytes is harmless).
     *
     * @return the fetched line's permission bits (>= 0) or a negative error code.
     */
    default int fetchWithWriteBack(
        final int asid,
        final long lineNumber,
        final UnsafeBuffer dst,
        final int dstOffset,
        final int victimAsid,
        final long victimLine,
        final UnsafeBuffer victim,
        final int victimOffset)
    {
        final int status = writeBack(victimAsid, victimLine, victim, victimOffset);
        if (status < 0)
        {
            return status;
        }
        return fetch(asid, lineNumber, dst, dstOffset);
    }

    /**
     * @return the id of the memory node backing this line, so a dirty victim can ride along a fetch to the same
     * node; any value when piggyback is off.
     */
    int targetOf(int asid, long lineNumber);
}
