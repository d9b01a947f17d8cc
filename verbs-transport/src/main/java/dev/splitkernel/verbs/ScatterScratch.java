package dev.splitkernel.verbs;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A per-thread contiguous buffer for the default (copying) paths of a scattered reply ({@link RequestHandler} and
 * {@link Connection} default methods), grown to the largest reply it has held.
 * <p>
 * Thread-safe: one per thread.
 */
final class ScatterScratch
{
    private static final ThreadLocal<UnsafeBuffer> SCRATCH =
        ThreadLocal.withInitial(() -> new UnsafeBuffer(BufferUtil.allocateDirectAligned(8192, 64)));

    private ScatterScratch()
    {
    }

    static UnsafeBuffer get(final int capacity)
    {
        UnsafeBuffer buffer = SCRATCH.get();
        if (buffer.capacity() < capacity)
        {
            buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(Integer.highestOneBit(capacity - 1) << 1, 64));
            SCRATCH.set(buffer);
        }
        return buffer;
    }
}
