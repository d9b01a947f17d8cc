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
     * Whether serving {@code opcode} may wait on the network or the disk: the fabric then runs it off its poller, on
     * a worker thread. The data path (line fetches and write-backs) answers false.
     */
    default boolean mayBlock(final int opcode)
    {
        return false;
    }
}
