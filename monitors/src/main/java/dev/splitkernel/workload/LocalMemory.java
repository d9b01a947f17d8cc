package dev.splitkernel.workload;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * The baseline: a plain off-heap buffer of up to 1 GiB, addressed from {@link #BASE_ADDRESS}. No cache, no
 * network: the "Linux holding the whole working set" column of LegoOS's tables.
 */
public final class LocalMemory implements WordMemory
{
    /** Where the buffer's first byte appears to a workload; matches nothing, it only keeps addresses non-zero. */
    public static final long BASE_ADDRESS = 1L << 32;
    public static final long MAX_BYTES = 1L << 30;

    private final UnsafeBuffer buffer;

    public LocalMemory(final long lengthBytes)
    {
        if (lengthBytes <= 0 || lengthBytes > MAX_BYTES)
        {
            throw new IllegalArgumentException("local memory length must be in (0, 1 GiB]: " + lengthBytes);
        }
        buffer = new UnsafeBuffer(ByteBuffer.allocateDirect((int)lengthBytes));
    }

    public long baseAddress()
    {
        return BASE_ADDRESS;
    }

    @Override
    public long getLong(final long address)
    {
        return buffer.getLong((int)(address - BASE_ADDRESS));
    }

    @Override
    public void putLong(final long address, final long value)
    {
        buffer.putLong((int)(address - BASE_ADDRESS), value);
    }
}
