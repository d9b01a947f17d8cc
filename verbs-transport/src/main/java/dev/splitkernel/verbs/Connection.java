package dev.splitkernel.verbs;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A connection to one peer: one-sided READ and WRITE into the peer's registered regions, and two-sided
 * requests (RPC with a reply, or one-way). Every operation returns a {@link Status}; none waits past its timeout.
 * <p>
 * Thread-safe: several threads may issue operations on one connection at once.
 */
public interface Connection extends AutoCloseable
{
    /** The address this connection was made to. */
    String peerAddress();

    boolean isConnected();

    /**
     * Post a one-sided READ of {@code lengthBytes} from the peer's region ({@code remoteAddress}, {@code rkey})
     * into {@code local} at {@code localOffset}; {@code completion} (reset by this call) is completed with the
     * status. Returns OK if posted, or a negative status if it could not be posted (then the completion is not used).
     */
    int postRead(MemoryRegion local, int localOffset, long remoteAddress, int rkey, int lengthBytes, Completion completion);

    /** Post a one-sided WRITE; as {@link #postRead} in the other direction. */
    int postWrite(MemoryRegion local, int localOffset, long remoteAddress, int rkey, int lengthBytes, Completion completion);

    /** Blocking READ: the status of the completed operation, or {@link Status#TIMEOUT}. */
    int read(MemoryRegion local, int localOffset, long remoteAddress, int rkey, int lengthBytes, long timeoutNs);

    /** Blocking WRITE: the status of the completed operation, or {@link Status#TIMEOUT}. */
    int write(MemoryRegion local, int localOffset, long remoteAddress, int rkey, int lengthBytes, long timeoutNs);

    /**
     * Send a request and wait for its reply, written into {@code reply} at {@code replyOffset}.
     *
     * @return the reply's length, or a negative status: the handler's own, or TIMEOUT, NOT_CONNECTED, TOO_LARGE,
     *         UNKNOWN_OPCODE.
     */
    int call(int opcode, DirectBuffer request, int offset, int length,
        MutableDirectBuffer reply, int replyOffset, int replyCapacity, long timeoutNs);

    /**
     * A call whose reply carries bulk data (a line fetch): the reply's first {@code headerLength} bytes land in
     * {@code reply} at {@code replyOffset}, the rest (at most {@code dataCapacity}) in {@code data} at
     * {@code dataOffset}, with no copy through a scratch buffer on fabrics that support it (local, tcp). The default
     * calls into a scratch buffer and copies the parts out.
     *
     * @return the reply's whole length (header and data), or a negative status as {@link #call}.
     */
    default int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength, final MutableDirectBuffer data,
        final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        if (headerLength < 0 || replyOffset < 0 || replyOffset > reply.capacity() - headerLength || dataCapacity < 0 ||
            dataOffset < 0 || dataOffset > data.capacity() - dataCapacity)
        {
            return Status.OUT_OF_BOUNDS;
        }
        final org.agrona.concurrent.UnsafeBuffer scratch = ScatterScratch.get(headerLength + dataCapacity);
        final int result = call(opcode, request, offset, length, scratch, 0, headerLength + dataCapacity, timeoutNs);
        if (result > 0)
        {
            reply.putBytes(replyOffset, scratch, 0, Math.min(result, headerLength));
            if (result > headerLength)
            {
                data.putBytes(dataOffset, scratch, headerLength, result - headerLength);
            }
        }
        return result;
    }

    /** Send a one-way message: no reply. Returns OK once handed to the fabric, or a negative status. */
    int send(int opcode, DirectBuffer message, int offset, int length);

    @Override
    void close();
}
