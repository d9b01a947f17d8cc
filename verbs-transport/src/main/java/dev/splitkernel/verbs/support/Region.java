package dev.splitkernel.verbs.support;

import dev.splitkernel.verbs.MemoryRegion;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * A registered region of direct memory. Its peer-visible address is the memory's own virtual address, as on rdma,
 * so an address is meaningful only together with the rkey that names the region.
 * <p>
 * Thread-safe: immutable handle; the memory is shared.
 */
public final class Region implements MemoryRegion
{
    private final ByteBuffer byteBuffer;
    private final UnsafeBuffer buffer;
    private final long address;
    private final int rkey;
    private final int lengthBytes;

    Region(final int lengthBytes, final int rkey)
    {
        this.byteBuffer = ByteBuffer.allocateDirect(Math.max(lengthBytes, 1));
        this.buffer = new UnsafeBuffer(byteBuffer, 0, lengthBytes);
        this.address = BufferUtil.address(byteBuffer);
        this.rkey = rkey;
        this.lengthBytes = lengthBytes;
    }

    @Override
    public long address()
    {
        return address;
    }

    @Override
    public int rkey()
    {
        return rkey;
    }

    @Override
    public int lengthBytes()
    {
        return lengthBytes;
    }

    @Override
    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /**
     * The offset of {@code [remoteAddress, remoteAddress + length)} within this region, or -1 if any of it falls
     * outside.
     */
    public long offsetOf(final long remoteAddress, final int length)
    {
        final long offset = remoteAddress - address;
        if (length < 0 || offset < 0 || offset > (long)lengthBytes - length)
        {
            return -1;
        }
        return offset;
    }

    @Override
    public String toString()
    {
        return "Region{address=0x" + Long.toHexString(address) + ", rkey=0x" + Integer.toHexString(rkey)
            + ", lengthBytes=" + lengthBytes + "}";
    }
}
