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
 * The memory monitor as a secondary (LegoOS's memory replication): a primary forwards each write-back of a
 * replicated vRegion ({@link Opcodes#REPLICA_WRITE_BACK}) and acknowledges its own only after this reply, which comes
 * once the line is in the standby copy of the vRegion (the pages a promotion takes over: the log applied as it
 * arrives) and, when backup storage is configured, in the {@link WriteBackLog} shipped to it. A line of a vRegion with
 * no standby copy here (its vma table was never replicated here) is refused with EFAULT unless the log takes it; one
 * of a vRegion promoted here (the sender was declared dead while alive) with ESTALE, which fences it at the sender.
 * <p>
 * Thread-safe.
 */
final class Secondary implements RequestHandler
{
    private final WriteBackLog log;
    private final VmaOwner standby;
    private final VmaOwner owner;
    private final PagePool pool;
    private final MemoryMonitorCounters counters;
    private final int pageBytes;
    private final int pageShift;
    private final ThreadLocal<boolean[]> createdFlag = ThreadLocal.withInitial(() -> new boolean[1]);

    /**
     * @param log null: this monitor keeps no write-back log.
     */
    Secondary(final WriteBackLog log, final VmaOwner standby, final VmaOwner owner, final PagePool pool,
        final MemoryMonitorCounters counters, final int pageBytes)
    {
        this.log = log;
        this.standby = standby;
        this.owner = owner;
        this.pool = pool;
        this.counters = counters;
        this.pageBytes = pageBytes;
        this.pageShift = Integer.numberOfTrailingZeros(pageBytes);
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
            final int applied = applyToStandby(asid, lineAddress, lengthBytes, request, dataOffset);
            final int logged = log == null ? applied : log.append(asid, lineAddress, request, dataOffset, lengthBytes);
            result = applied == 0 || logged == 0 ? Math.min(0, Math.max(applied, logged)) : applied;
            if (result == 0)
            {
                counters.increment(MemoryMonitorCounters.REPLICA_WRITE_BACKS);
            }
        }
        LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
        return LineReplyDescriptor.HEADER_LENGTH;
    }

    /** Write the line into the standby copy's page (created at its first line): 0, EFAULT (no copy), ENOMEM. */
    private int applyToStandby(final int asid, final long lineAddress, final int lengthBytes, final DirectBuffer src,
        final int srcOffset)
    {
        final VRegion region = standby.region(asid, lineAddress);
        if (region == null || region.vmas.protAt(lineAddress) < 0)
        {
            return Errno.EFAULT;
        }
        final int page = region.page((lineAddress - region.base) >>> pageShift, pool, createdFlag.get());
        if (page == PagePool.NO_PAGE)
        {
            counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
            return Errno.ENOMEM;
        }
        pool.buffer(page).putBytes(pool.offset(page) + (int)(lineAddress & (pageBytes - 1)), src, srcOffset,
            lengthBytes);
        return 0;
    }
}
