package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Supplies the off-heap memory that holds cache lines, one segment per call. The processor monitor supplies one
 * that registers each segment with the fabric, so one-sided reads land straight in cache lines.
 */
@FunctionalInterface
public interface LineMemoryAllocator
{
    /** The largest segment the cache asks for: 1 GiB. */
    int MAX_SEGMENT_BYTES = 1 << 30;

    /**
     * @param lengthBytes size of the segment, a multiple of the line size, at most {@link #MAX_SEGMENT_BYTES}.
     * @return a buffer over off-heap memory (not a byte[]) of at least {@code lengthBytes}, aligned to 8 bytes,
     * that stays valid until {@link #free} or, when free does nothing, until it is garbage.
     */
    UnsafeBuffer allocate(int lengthBytes);

    /** Called once for each segment when the cache closes. The default does nothing (the GC frees it). */
    default void free(final UnsafeBuffer segment)
    {
    }
}
