package dev.splitkernel.excache;

import org.agrona.concurrent.UnsafeBuffer;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * An in-memory line source for tests: lines not yet written back hold a deterministic pattern, or are p-local
 * (zero-filled) from {@link #pLocalFromLine} on; lines from {@link #readOnlyFromLine} up to {@link #pLocalFromLine}
 * are read-only; lines at or above {@link #unmappedFromLine} are unmapped. Synchronized: one call at a time.
 */
class TestLineSource implements LineSource
{
    static final int EFAULT = -14;

    final int lineBytes;
    final Map<Long, byte[]> stored = new HashMap<>();
    final Set<Long> writtenBack = new HashSet<>();
    long readOnlyFromLine = Long.MAX_VALUE;
    long pLocalFromLine = Long.MAX_VALUE;
    long unmappedFromLine = Long.MAX_VALUE;
    int failWriteBacks;
    int failFetches;
    int fetches;
    int writeBacks;
    int piggybacks;
    int zeroFills;

    TestLineSource(final int lineBytes)
    {
        this.lineBytes = lineBytes;
    }

    static long id(final int asid, final long line)
    {
        return ((long)asid << 48) | line;
    }

    static byte pattern(final int asid, final long line, final int offset)
    {
        final long x = (asid * 31L + line) * 0x9E3779B97F4A7C15L + offset * 0xBF58476D1CE4E5B9L;
        return (byte)(x ^ (x >>> 29));
    }

    /** What a fetch or zero-fill would produce now. */
    synchronized byte[] current(final int asid, final long line)
    {
        final byte[] data = stored.get(id(asid, line));
        if (data != null)
        {
            return data.clone();
        }
        final byte[] fresh = new byte[lineBytes];
        if (line < pLocalFromLine)
        {
            for (int i = 0; i < lineBytes; i++)
            {
                fresh[i] = pattern(asid, line, i);
            }
        }
        return fresh;
    }

    int prot(final long line)
    {
        return line >= readOnlyFromLine && line < pLocalFromLine ? PROT_READ : PROT_READ | PROT_WRITE;
    }

    @Override
    public synchronized int zeroFill(final int asid, final long lineNumber)
    {
        if (lineNumber >= pLocalFromLine && lineNumber < unmappedFromLine && !writtenBack.contains(id(asid, lineNumber)))
        {
            zeroFills++;
            return PROT_READ | PROT_WRITE;
        }
        return -1;
    }

    @Override
    public synchronized int fetch(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
    {
        if (lineNumber >= unmappedFromLine)
        {
            return EFAULT;
        }
        if (failFetches > 0)
        {
            failFetches--;
            return -5;
        }
        fetches++;
        dst.putBytes(dstOffset, current(asid, lineNumber));
        return prot(lineNumber);
    }

    @Override
    public synchronized int writeBack(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
    {
        if (failWriteBacks > 0)
        {
            failWriteBacks--;
            return -110;
        }
        if (lineNumber >= unmappedFromLine || (prot(lineNumber) & PROT_WRITE) == 0)
        {
            throw new AssertionError("write-back of a line that cannot be dirty: asid=" + asid + " line=" + lineNumber);
        }
        writeBacks++;
        final byte[] data = new byte[lineBytes];
        src.getBytes(srcOffset, data);
        stored.put(id(asid, lineNumber), data);
        writtenBack.add(id(asid, lineNumber));
        return 0;
    }

    @Override
    public synchronized int fetchWithWriteBack(
        final int asid,
        final long lineNumber,
        final UnsafeBuffer dst,
        final int dstOffset,
        final int victimAsid,
        final long victimLine,
        final UnsafeBuffer victim,
        final int victimOffset)
    {
        if (targetOf(asid, lineNumber) != targetOf(victimAsid, victimLine))
        {
            throw new AssertionError("piggyback across targets");
        }
        if (lineNumber >= unmappedFromLine)
        {
            return EFAULT; // refused as a whole: the victim was not written
        }
        final int status = writeBack(victimAsid, victimLine, victim, victimOffset);
        if (status < 0)
        {
            return status;
        }
        piggybacks++;
        return fetch(asid, lineNumber, dst, dstOffset);
    }

    @Override
    public int targetOf(final int asid, final long lineNumber)
    {
        return (int)((lineNumber >>> 2) & 1);
    }
}
