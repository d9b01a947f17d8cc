package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.LineReplyDescriptor;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The memory monitor as a line server, the data path: line fetches (a page is created zero-filled at its first miss),
 * write-backs (or at the first write-back of a p-local line), and both in one request when the processor piggybacks
 * a dirty victim on a fetch. A write-back of a replicated vRegion is acknowledged once its secondary has it too
 * ({@link Replication}): a plain one waits for that; a piggybacked one whose processor keeps the victim until then
 * ({@link LineRequestDescriptor#FLAG_REPLICA_ASYNC}) does not: the fetch is served at once and the reply carries the
 * forward's ticket, acknowledged later ({@link Opcodes#LINE_REPLICA_ACKS}). A fetch reply names the page's registered address and key, so the processor can re-read
 * it one-sided, without this monitor's CPU. At most {@code workers} requests are served at once.
 * <p>
 * Thread-safe: lock-free on the vma tables, with a short lock on the page pool.
 */
final class LineServer implements RequestHandler
{
    private final VmaOwner owner;
    private final Replication replication;
    private final PagePool pool;
    private final WorkerGate gate;
    private final MemoryMonitorCounters counters;
    private final int pageBytes;
    private final int pageShift;
    private final int vRegionShift;
    private final int maxVRegionIndex;
    private final long requestTimeoutNs;
    private final ThreadLocal<boolean[]> createdFlag = ThreadLocal.withInitial(() -> new boolean[1]);

    LineServer(final VmaOwner owner, final Replication replication, final PagePool pool,
        final MemoryMonitorCounters counters, final int workers, final int pageBytes, final long vRegionBytes,
        final int maxVRegionIndex, final long requestTimeoutNs)
    {
        this.owner = owner;
        this.replication = replication;
        this.pool = pool;
        this.gate = new WorkerGate(workers);
        this.counters = counters;
        this.pageBytes = pageBytes;
        this.pageShift = Integer.numberOfTrailingZeros(pageBytes);
        this.vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        this.maxVRegionIndex = maxVRegionIndex;
        this.requestTimeoutNs = requestTimeoutNs;
    }

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        return onLine(opcode, request, offset, length, reply, replyOffset, replyCapacity, reply,
            replyOffset + LineReplyDescriptor.DATA_OFFSET);
    }

    /** The fetched line's bytes go straight to {@code data} (the caller's cache line), the header to {@code reply}. */
    @Override
    public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity)
    {
        if (headerLength != LineReplyDescriptor.DATA_OFFSET)
        {
            return RequestHandler.super.onRequest(opcode, request, offset, length, reply, replyOffset, headerLength,
                data, dataOffset, dataCapacity);
        }
        return onLine(opcode, request, offset, length, reply, replyOffset, headerLength + dataCapacity, data,
            dataOffset);
    }

    /** A line request; a fetched line's bytes go to {@code data} at {@code dataOffset} (after the header, or apart). */
    private int onLine(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity,
        final MutableDirectBuffer data, final int dataOffset)
    {
        if (length < LineRequestDescriptor.HEADER_LENGTH || replyCapacity < LineReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final int asid = LineRequestDescriptor.asid(request, offset);
        final int flags = LineRequestDescriptor.flags(request, offset);
        final long lineAddress = LineRequestDescriptor.lineAddress(request, offset);
        if (opcode == Opcodes.LINE_REPLICA_ACKS)
        {
            // lineAddress: the ticket the processor waits for. Fences read first: a ticket done with an unchanged
            // count was not refused by a new owner.
            final int fenceCount = replication.fences();
            final long done = replication.acks(lineAddress, (flags & LineRequestDescriptor.FLAG_WAIT) != 0);
            LineReplyDescriptor.encode(reply, replyOffset, 0, done, fenceCount, 0);
            return LineReplyDescriptor.HEADER_LENGTH;
        }
        final int lengthBytes = LineRequestDescriptor.lengthBytes(request, offset);
        if (!isValidLine(lineAddress, lengthBytes))
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            LineReplyDescriptor.encode(reply, replyOffset, Errno.EINVAL, 0, 0, 0);
            return LineReplyDescriptor.HEADER_LENGTH;
        }

        if (opcode == Opcodes.LINE_WRITE_BACK)
        {
            if (length < LineRequestDescriptor.HEADER_LENGTH + lengthBytes)
            {
                counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
                return Status.MALFORMED;
            }
            if (!gate.acquire(requestTimeoutNs))
            {
                counters.increment(MemoryMonitorCounters.WORKER_TIMEOUTS);
                return Status.BACK_PRESSURED;
            }
            final int result;
            try
            {
                result = serveWriteBack(asid, flags & ~LineRequestDescriptor.FLAG_REPLICA_ASYNC, lineAddress,
                    lengthBytes, request, offset + LineRequestDescriptor.DATA_OFFSET);
            }
            finally
            {
                gate.release();
            }
            LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
            return LineReplyDescriptor.HEADER_LENGTH;
        }

        if (replyCapacity < LineReplyDescriptor.HEADER_LENGTH + lengthBytes)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.TOO_LARGE;
        }
        int writeBackResult = 0;
        int fenceCount = 0;
        if (!gate.acquire(requestTimeoutNs))
        {
            counters.increment(MemoryMonitorCounters.WORKER_TIMEOUTS);
            return Status.BACK_PRESSURED;
        }
        try
        {
            if (opcode == Opcodes.LINE_FETCH_WITH_WRITE_BACK)
            {
                final int victimAsid = LineRequestDescriptor.victimAsid(request, offset);
                final long victimLineAddress = LineRequestDescriptor.victimLineAddress(request, offset);
                if (length < LineRequestDescriptor.HEADER_LENGTH + lengthBytes ||
                    !isValidLine(victimLineAddress, lengthBytes))
                {
                    counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
                    return Status.MALFORMED;
                }
                counters.increment(MemoryMonitorCounters.PIGGYBACKED_WRITE_BACKS);
                fenceCount = replication.fences(); // before the write-back: see Replication#fence
                writeBackResult = serveWriteBack(victimAsid, flags & LineRequestDescriptor.FLAG_REPLICA_ASYNC,
                    victimLineAddress, lengthBytes, request, offset + LineRequestDescriptor.DATA_OFFSET);
            }
            serveFetch(asid, flags, lineAddress, lengthBytes, reply, replyOffset, data, dataOffset);
        }
        finally
        {
            gate.release();
        }
        reply.putInt(replyOffset + LineReplyDescriptor.WRITE_BACK_RESULT_OFFSET, writeBackResult);
        reply.putInt(replyOffset + LineReplyDescriptor.FENCES_OFFSET, fenceCount);
        return LineReplyDescriptor.result(reply, replyOffset) >= 0 ?
            LineReplyDescriptor.HEADER_LENGTH + lengthBytes : LineReplyDescriptor.HEADER_LENGTH;
    }

    private boolean isValidLine(final long lineAddress, final int lengthBytes)
    {
        return lengthBytes > 0 && lengthBytes <= pageBytes && (lengthBytes & (lengthBytes - 1)) == 0 &&
            lineAddress >= 0 && (lineAddress & (lengthBytes - 1)) == 0 && (lineAddress >>> vRegionShift) <= maxVRegionIndex;
    }

    /** Encode a fetch reply (header, and the line on success) at {@code replyOffset}; returns its result. */
    int serveFetch(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final MutableDirectBuffer reply,
        final int replyOffset)
    {
        return serveFetch(asid, flags, lineAddress, lengthBytes, reply, replyOffset, reply,
            replyOffset + LineReplyDescriptor.DATA_OFFSET);
    }

    /** As {@link #serveFetch(int, int, long, int, MutableDirectBuffer, int)}, the line's bytes to {@code data}. */
    int serveFetch(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final MutableDirectBuffer reply,
        final int replyOffset, final MutableDirectBuffer data, final int dataOffset)
    {
        counters.increment(MemoryMonitorCounters.LINE_FETCHES);
        final VRegion region = owner.region(asid, lineAddress);
        final int prot = region == null ? -1 : region.vmas.protAt(lineAddress);
        if (prot < 0)
        {
            final int result = region == null && replication.movedAway(asid, lineAddress) ? Errno.ESTALE : Errno.EFAULT;
            counters.increment(MemoryMonitorCounters.FAULTS);
            LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
            return result;
        }
        final long pageIndex = (lineAddress - region.base) >>> pageShift;
        final boolean noCreate = (flags & LineRequestDescriptor.FLAG_NO_CREATE) != 0;
        final boolean[] created = createdFlag.get();
        created[0] = false;
        final int page = region.page(pageIndex, noCreate ? null : pool, created);
        if (page == PagePool.NO_PAGE)
        {
            final int result = noCreate ? Errno.ENOENT : Errno.ENOMEM;
            if (!noCreate)
            {
                counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
            }
            LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
            return result;
        }
        if (created[0])
        {
            counters.increment(MemoryMonitorCounters.PAGES_CREATED_BY_FETCH);
        }
        final int inPage = (int)(lineAddress & (pageBytes - 1));
        data.putBytes(dataOffset, pool.buffer(page), pool.offset(page) + inPage,
            lengthBytes);
        if (region.fenced)
        {
            // Fenced meanwhile: the new owner may have newer bytes than these.
            LineReplyDescriptor.encode(reply, replyOffset, Errno.ESTALE, 0, 0, 0);
            return Errno.ESTALE;
        }
        LineReplyDescriptor.encode(reply, replyOffset, prot, pool.remoteAddress(page) + inPage, pool.rkey(page), 0);
        return prot;
    }

    /**
     * Apply a write-back and forward it to the vRegion's secondary. Returns 0 (acknowledged), a negative Errno, or,
     * with {@link LineRequestDescriptor#FLAG_REPLICA_ASYNC} in {@code flags}, possibly a ticket (&gt; 0): applied
     * here, the secondary's acknowledgement pending.
     */
    int serveWriteBack(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final DirectBuffer src,
        final int srcOffset)
    {
        counters.increment(MemoryMonitorCounters.LINE_WRITE_BACKS);
        final VRegion region = owner.region(asid, lineAddress);
        final int prot = region == null ? -1 : region.vmas.protAt(lineAddress);
        if (prot < 0)
        {
            counters.increment(MemoryMonitorCounters.FAULTS);
            return region == null && replication.movedAway(asid, lineAddress) ? Errno.ESTALE : Errno.EFAULT;
        }
        if ((prot & Prot.PROT_WRITE) == 0 && (flags & LineRequestDescriptor.FLAG_FORCE) == 0)
        {
            counters.increment(MemoryMonitorCounters.FAULTS);
            return Errno.EACCES;
        }
        final boolean[] created = createdFlag.get();
        created[0] = false;
        final int page = region.page((lineAddress - region.base) >>> pageShift, pool, created);
        if (page == PagePool.NO_PAGE)
        {
            counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
            return Errno.ENOMEM;
        }
        if (created[0])
        {
            counters.increment(MemoryMonitorCounters.PAGES_CREATED_BY_WRITE_BACK);
        }
        final int inPage = (int)(lineAddress & (pageBytes - 1));
        // Applied and forwarded under the page's stripe: the secondary sees this page's versions in this order.
        // A fenced vRegion (another monitor owns it now) acknowledges nothing: ESTALE, the processor writes the line
        // back to the new owner.
        synchronized (replication.stripe(lineAddress))
        {
            if (region.fenced)
            {
                return Errno.ESTALE;
            }
            pool.buffer(page).putBytes(pool.offset(page) + inPage, src, srcOffset, lengthBytes);
            final long result = replication.forwardWriteBack(region, lineAddress, lengthBytes, src, srcOffset,
                (flags & LineRequestDescriptor.FLAG_REPLICA_ASYNC) != 0);
            if (result > 0)
            {
                counters.increment(MemoryMonitorCounters.REPLICA_PENDING_ACKS);
            }
            return (int)result;
        }
    }
}
