package dev.splitkernel.bench.excache;

import dev.splitkernel.excache.LineSource;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A zero-latency line source over one off-heap buffer: a fetch or write-back is a copy, so a benchmark through it
 * measures the cache's software overhead alone. Lines below {@code pLocalLines} zero-fill (p-local).
 */
public final class InMemoryLineSource implements LineSource
{
    private final UnsafeBuffer memory;
    private final int lineBytes;
    private final long pLocalLines;

    public InMemoryLineSource(final int sizeBytes, final int lineBytes, final long pLocalLines)
    {
        this.memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(sizeBytes, 4096));
        this.lineBytes = lineBytes;
        this.pLocalLines = pLocalLines;
        for (int i = 0; i < sizeBytes; i += Long.BYTES)
        {
            memory.putLong(i, i);
        }
    }

    @Override
    public int zeroFill(final int asid, final long lineNumber)
    {
        return lineNumber < pLocalLines ? PROT_READ | PROT_WRITE : -1;
    }

    @Override
    public int fetch(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
    {
        final long offset = lineNumber * lineBytes;
        if (offset + lineBytes > memory.capacity())
        {
            return -14;
        }
        dst.putBytes(dstOffset, memory, (int)offset, lineBytes);
        return PROT_READ | PROT_WRITE;
    }

    @Override
    public int writeBack(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
    {
        final long offset = lineNumber * lineBytes;
        if (offset + lineBytes > memory.capacity())
        {
            return -14;
        }
        memory.putBytes((int)offset, src, srcOffset, lineBytes);
        return 0;
    }

    @Override
    public int targetOf(final int asid, final long lineNumber)
    {
        return 0;
    }
}
