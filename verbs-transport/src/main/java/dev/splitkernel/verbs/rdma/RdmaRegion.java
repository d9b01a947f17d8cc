package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvMr;
import dev.splitkernel.verbs.MemoryRegion;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * Direct memory registered with the NIC: {@link #address()} is its real virtual address and {@link #rkey()} the
 * real remote key, as peers must present them in a one-sided operation.
 * <p>
 * Thread-safe: immutable except the registered flag.
 */
final class RdmaRegion implements MemoryRegion
{
    private final RdmaFabric owner;
    private final ByteBuffer byteBuffer;
    private final UnsafeBuffer buffer;
    private final IbvMr mr;
    private final long address;
    private final int rkey;
    private final int lkey;
    private final int lengthBytes;
    private volatile boolean registered = true;

    RdmaRegion(final RdmaFabric owner, final ByteBuffer byteBuffer, final IbvMr mr)
    {
        this.owner = owner;
        this.byteBuffer = byteBuffer;
        this.buffer = new UnsafeBuffer(byteBuffer);
        this.mr = mr;
        this.address = mr.getAddr();
        this.rkey = mr.getRkey();
        this.lkey = mr.getLkey();
        this.lengthBytes = byteBuffer.capacity();
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

    int lkey()
    {
        return lkey;
    }

    IbvMr mr()
    {
        return mr;
    }

    ByteBuffer byteBuffer()
    {
        return byteBuffer;
    }

    RdmaFabric owner()
    {
        return owner;
    }

    boolean isRegistered()
    {
        return registered;
    }

    void markDeregistered()
    {
        registered = false;
    }

    @Override
    public String toString()
    {
        return "RdmaRegion{address=0x" + Long.toHexString(address) + ", rkey=" + rkey + ", lengthBytes=" + lengthBytes
            + ", registered=" + registered + "}";
    }
}
