package dev.splitkernel.verbs;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Serves one two-sided request at the target. The fabric may call it from several threads at once (callers'
 * threads on the local fabric; on tcp the fabric's poller, and its workers for requests that {@link #mayBlock}):
 * implementations are thread-safe or serialise themselves.
 * <p>
 * A request that waits on the network (a call to another peer) must say so with {@link #mayBlock(int)}: a tcp fabric
 * serves every connection from one poller, and a handler that waits there would stall them all (or deadlock when the
 * peer it waits for is served by the same thread).
 */
@FunctionalInterface
public interface RequestHandler
{
    /**
     * @param opcode      the request's opcode.
     * @param request     the payload, valid only during the call.
     * @param offset      where the payload starts in {@code request}.
     * @param length      the payload's length.
     * @param reply       where to encode the reply, valid only during the call.
     * @param replyOffset where the reply starts in {@code reply}.
     * @param replyCapacity how many bytes the reply may take.
     * @return the reply's length (0 or more), or a negative {@link Status} sent to the caller as the result.
     *         For one-way messages the result is dropped.
     */
    int onRequest(int opcode, DirectBuffer request, int offset, int length,
        MutableDirectBuffer reply, int replyOffset, int replyCapacity);

    /**
     * A request whose reply carries bulk data (a line): the reply's first {@code headerLength} bytes go to
     * {@code reply} at {@code replyOffset}, the rest (at most {@code dataCapacity}) to {@code data} at
     * {@code dataOffset}, so the bulk lands where the caller wants it (an ExCache line) without a copy. A handler that
     * can write the two parts itself overrides this; the default serves the request contiguously into a scratch buffer
     * and copies the parts out.
     *
     * @return the reply's whole length (header and data), or a negative {@link Status}.
     */
    default int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity)
    {
        final org.agrona.concurrent.UnsafeBuffer scratch = ScatterScratch.get(headerLength + dataCapacity);
        final int result = onRequest(opcode, request, offset, length, scratch, 0, headerLength + dataCapacity);
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

    /**
     * Whether serving {@code opcode} may wait on the network or the disk: the fabric then runs it off its poller, on
     * a worker thread. The data path (line fetches and write-backs) answers false.
     */
    default boolean mayBlock(final int opcode)
    {
        return false;
    }
}
