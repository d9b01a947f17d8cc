package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.SVCPostSend;
import dev.splitkernel.verbs.Completion;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A send slot: a registered message buffer and the verb calls that use it, prepared once. Held by reference count
 * ({@link #holds}): its owner (the posting thread) and the work request in flight; the last to let go frees it.
 * A call's reply finds its slot by correlation id ({@link #expectedCorrelationId}).
 */
final class RdmaSendSlot
{
    /** {@link #expectedCorrelationId} when no call waits for a reply. */
    static final long NO_CALL = 0;
    /** {@link #expectedCorrelationId} while the poller copies a reply in: the caller waits for it to finish. */
    static final long DELIVERING = -1;

    final int index;
    final UnsafeBuffer buffer;
    final long bufferAddress;
    final SVCPostSend send;
    final SVCPostSend read;
    final SVCPostSend write;
    final AtomicInteger holds = new AtomicInteger();
    final Completion ownCompletion = new Completion();
    volatile Completion opCompletion;
    int opCounter;
    int opBytes;

    final AtomicLong expectedCorrelationId = new AtomicLong(NO_CALL);
    long sequence;
    MutableDirectBuffer replyBuffer;
    int replyOffset;
    int replyCapacity;
    /** A scattered call's data target (null for a plain call): the reply past headerLength goes there. */
    MutableDirectBuffer dataBuffer;
    int dataOffset;
    int headerLength;
    volatile int replyResult;
    volatile boolean replyDone;
    /** The caller while it parks for the reply (the deliverer unparks it). */
    volatile Thread replyWaiter;

    RdmaSendSlot(final int index, final UnsafeBuffer buffer, final long bufferAddress,
        final SVCPostSend send, final SVCPostSend read, final SVCPostSend write)
    {
        this.index = index;
        this.buffer = buffer;
        this.bufferAddress = bufferAddress;
        this.send = send;
        this.read = read;
        this.write = write;
    }
}
