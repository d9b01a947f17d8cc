package dev.splitkernel.verbs;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Serves one two-sided request at the target. The fabric may call it from several threads at once
 * (callers' threads on the local fabric, one service thread per connection on tcp): implementations are
 * thread-safe or serialise themselves.
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
}
