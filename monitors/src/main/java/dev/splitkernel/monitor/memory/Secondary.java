package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.LineReplyDescriptor;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The memory monitor as a secondary (LegoOS's memory replication): a primary forwards each write-back and page copy
 * of a replicated vRegion ({@link Opcodes#REPLICA_WRITE_BACK}) and acknowledges its own only after this reply, which
 * comes once the line is in the {@link WriteBackLog} (shipped in batches to a backup file when backup storage is
 * configured). The secondary keeps no pages: only the vRegion's vma table ({@code standby}, which commits the
 * replica's bytes against the capacity) and the log, which a promotion replays into pages ({@link Replication}). A line
 * outside the standby vma table (its vma table was never replicated here) is refused with EFAULT; one of a vRegion
 * promoted here (the sender was declared dead while alive) with ESTALE, which fences it at the sender.
 * <p>
 * Thread-safe.
 */
final class Secondary implements RequestHandler
{
    private final WriteBackLog log;
    private final VmaOwner standby;
    private final VmaOwner owner;
    private final MemoryMonitorCounters counters;
    private final int pageBytes;
    private volatile int refusal;

    Secondary(final WriteBackLog log, final VmaOwner standby, final VmaOwner owner,
        final MemoryMonitorCounters counters, final int pageBytes)
    {
        this.log = log;
        this.standby = standby;
        this.owner = owner;
        this.counters = counters;
        this.pageBytes = pageBytes;
    }

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < LineRequestDescriptor.HEADER_LENGTH || replyCapacity < LineReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final long lineAddress = LineRequestDescriptor.lineAddress(request, offset);
        final int lengthBytes = LineRequestDescriptor.lengthBytes(request, offset);
        final int result;
        if (lengthBytes <= 0 || lengthBytes > pageBytes || Integer.bitCount(lengthBytes) != 1 || lineAddress < 0 ||
            (lineAddress & (lengthBytes - 1)) != 0)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            result = Errno.EINVAL;
        }
        else if (length < LineRequestDescriptor.HEADER_LENGTH + lengthBytes)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        else
        {
            final int asid = LineRequestDescriptor.asid(request, offset);
            final int dataOffset = offset + LineRequestDescriptor.DATA_OFFSET;
            if (standby.region(asid, lineAddress) == null && owner.region(asid, lineAddress) != null)
            {
                // Promoted here: the sender is a former owner declared dead while alive. Refused distinctly, so it
                // fences the vRegion and fails the write-back rather than acknowledge what this owner lacks.
                LineReplyDescriptor.encode(reply, replyOffset, Errno.ESTALE, 0, 0, 0);
                return LineReplyDescriptor.HEADER_LENGTH;
            }
            final int refused = refusal;
            result = refused != 0 ? refused : logLine(asid, lineAddress, lengthBytes, request, dataOffset);
            if (result == 0)
            {
                counters.increment(MemoryMonitorCounters.REPLICA_WRITE_BACKS);
            }
        }
        LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
        return LineReplyDescriptor.HEADER_LENGTH;
    }

    /** Refuse every forwarded write-back with {@code errno} (0: take them again), as a full log would (tests). */
    void refuseWriteBacks(final int errno)
    {
        refusal = errno;
    }

    /** Append the line to the log if the standby vma table maps it: 0, EFAULT, or the log's refusal. */
    private int logLine(final int asid, final long lineAddress, final int lengthBytes, final DirectBuffer src,
        final int srcOffset)
    {
        // Under the log's lock: a promotion takes the vRegion out of the standby table under it too, so no line of
        // the vRegion enters the log after the promotion's replay has read it.
        synchronized (log)
        {
            final VRegion region = standby.region(asid, lineAddress);
            if (region == null || region.vmas.protAt(lineAddress) < 0)
            {
                return Errno.EFAULT;
            }
            return log.append(asid, lineAddress, src, srcOffset, lengthBytes);
        }
    }
}
