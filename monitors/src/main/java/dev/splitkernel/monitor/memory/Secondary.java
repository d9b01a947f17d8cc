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
 * once the line is in the {@link WriteBackLog}. Without a log (no backup storage configured) it answers ENOSYS.
 * <p>
 * Thread-safe.
 */
final class Secondary implements RequestHandler
{
    private final WriteBackLog log;
    private final MemoryMonitorCounters counters;
    private final int pageBytes;

    /**
     * @param log null: this monitor keeps no write-back log.
     */
    Secondary(final WriteBackLog log, final MemoryMonitorCounters counters, final int pageBytes)
    {
        this.log = log;
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
        else if (log == null)
        {
            result = Errno.ENOSYS;
        }
        else
        {
            result = log.append(LineRequestDescriptor.asid(request, offset), lineAddress, request,
                offset + LineRequestDescriptor.DATA_OFFSET, lengthBytes);
        }
        LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
        return LineReplyDescriptor.HEADER_LENGTH;
    }
}
