package dev.splitkernel.workload;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * The baseline: a plain off-heap buffer of up to 1 GiB, addressed from {@link #BASE_ADDRESS}, and files in a local
 * folder. No cache, no network: the "Linux holding the whole working set" column of LegoOS's tables. Close it to
 * delete its files.
 */
public final class LocalMemory implements WordMemory, AutoCloseable
{
    /** Where the buffer's first byte appears to a workload; matches nothing, it only keeps addresses non-zero. */
    public static final long BASE_ADDRESS = 1L << 32;
    public static final long MAX_BYTES = 1L << 30;

    private final UnsafeBuffer buffer;
    private LocalFiles files;

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

    private int offset(final long address)
    {
        return (int)(address - BASE_ADDRESS);
    }

    @Override
    public byte getByte(final long address)
    {
        return buffer.getByte(offset(address));
    }

    @Override
    public void putByte(final long address, final byte value)
    {
        buffer.putByte(offset(address), value);
    }

    @Override
    public int getInt(final long address)
    {
        return buffer.getInt(offset(address));
    }

    @Override
    public void putInt(final long address, final int value)
    {
        buffer.putInt(offset(address), value);
    }

    @Override
    public float getFloat(final long address)
    {
        return buffer.getFloat(offset(address));
    }

    @Override
    public void putFloat(final long address, final float value)
    {
        buffer.putFloat(offset(address), value);
    }

    @Override
    public double getDouble(final long address)
    {
        return buffer.getDouble(offset(address));
    }

    @Override
    public void putDouble(final long address, final double value)
    {
        buffer.putDouble(offset(address), value);
    }

    @Override
    public void getBytes(final long address, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        buffer.getBytes(offset(address), dst, dstOffset, length);
    }

    @Override
    public void putBytes(final long address, final DirectBuffer src, final int srcOffset, final int length)
    {
        buffer.putBytes(offset(address), src, srcOffset, length);
    }

    @Override
    public synchronized WorkloadFiles files()
    {
        if (files == null)
        {
            files = new LocalFiles();
        }
        return files;
    }

    @Override
    public synchronized void close()
    {
        if (files != null)
        {
            files.close();
            files = null;
        }
    }
}
