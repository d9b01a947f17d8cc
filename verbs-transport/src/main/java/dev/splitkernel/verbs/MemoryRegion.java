package dev.splitkernel.verbs;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A registered memory region: direct memory that peers may target with one-sided operations, named by
 * (address, remote key, length). Peers learn these three values by message and pass them back as primitives.
 * <p>
 * Thread-safe: the handle is immutable; the memory itself is shared, as registered memory is.
 */
public interface MemoryRegion
{
    /** The address peers use for this region's first byte (the virtual address on rdma; fabric-assigned elsewhere). */
    long address();

    /** The key a peer must present to access this region. */
    int rkey();

    int lengthBytes();

    /** The region's memory, for local access. */
    UnsafeBuffer buffer();
}
