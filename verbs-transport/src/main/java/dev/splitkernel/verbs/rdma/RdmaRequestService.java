package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.CORRELATION_ID_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.HEADER_LENGTH;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.OPCODE_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.PAYLOAD_LENGTH_OFFSET;
import static dev.splitkernel.verbs.rdma.RdmaFrameDescriptor.TYPE_OFFSET;

/**
 * The listener side of one connection: the completion poller hands each received request (its receive slot's
 * index) over an SPSC ring to this service's own thread, which runs the handler, sends the reply and re-posts the
 * receive. A handler that blocks therefore never stalls completions; while it blocks, its receive stays unposted
 * (the peer's further SENDs meet RNR, a bounded wait: {@link RdmaContext#RNR_RETRY_PROP_NAME}).
 */
final class RdmaRequestService
{
    /** Bounds an idle park only so a closed connection's thread ends; requests wake it at once. */
    private static final long IDLE_PARK_BOUND_NS = 50_000_000L;

    private final RdmaConnection connection;
    private final RequestHandler handler;
    private final RdmaFabric fabric;
    private final FabricContext ctx;
    private final FabricCounters counters;
    private final AtomicIntegerArray ring;
    private final int ringMask;
    private final AtomicLong head = new AtomicLong();
    private final AtomicLong tail = new AtomicLong();
    private Thread thread;
    /** The service thread while it parks for a request ({@link #offer} unparks it). */
    private volatile Thread sleeper;

    RdmaRequestService(final RdmaConnection connection, final RequestHandler handler, final RdmaFabric fabric,
        final int recvCount, final FabricContext ctx)
    {
        this.connection = connection;
        this.handler = handler;
        this.fabric = fabric;
        this.ctx = ctx;
        this.counters = fabric.counters();
        // At most recvCount requests are outstanding (one per posted receive): the ring never overflows.
        final int capacity = Integer.highestOneBit(Math.max(2, recvCount) * 2 - 1);
        this.ring = new AtomicIntegerArray(capacity);
        this.ringMask = capacity - 1;
    }

    /** A request arrived in this receive slot (poller thread only). */
    void offer(final int recvIndex)
    {
        final long t = tail.get();
        ring.set((int)t & ringMask, recvIndex);
        tail.set(t + 1);
        wake();
    }

    /** Wake the service thread if it sleeps: a request came, or the connection closed. */
    void wake()
    {
        final Thread waiting = sleeper;
        if (waiting != null)
        {
            LockSupport.unpark(waiting);
        }
    }

    void start(final String name)
    {
        final Thread t = new Thread(this::loop, name);
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    Thread thread()
    {
        return thread;
    }

    private void loop()
    {
        // An idle service sleeps until offer() wakes it: a thread per connection spinning or waking on a timer
        // would take the CPUs that the callers and the device's kernel work need where CPUs are scarce.
        final IdleStrategy idle = new BusySpinIdleStrategy();
        final int maxMessageBytes = connection.maxMessageBytes();
        final UnsafeBuffer discard = new UnsafeBuffer(ByteBuffer.allocateDirect(maxMessageBytes));
        final long replyWaitNs = ctx.operationTimeoutNs();
        long lastServedNs = System.nanoTime();
        while (!connection.isClosed())
        {
            final long h = head.get();
            if (h == tail.get())
            {
                // Busy-polling spins only shortly after a request, as the completion poller does: an idle
                // connection's service thread holds no CPU (the poller unparks it when a request comes).
                if (ctx.busyPoll() && System.nanoTime() - lastServedNs < RdmaCompletionPoller.BUSY_SPIN_WINDOW_NS)
                {
                    idle.idle(0);
                }
                else
                {
                    sleepUntilOffered(h);
                }
                continue;
            }
            idle.reset();
            final RdmaRecvSlot recv = connection.recvSlot(ring.get((int)h & ringMask));
            head.lazySet(h + 1);
            serve(recv, discard, replyWaitNs, maxMessageBytes);
            connection.repost(recv);
            lastServedNs = System.nanoTime();
        }
    }

    /** Park until a request follows {@code head} (or the safety bound passes, for a closing connection). */
    private void sleepUntilOffered(final long h)
    {
        sleeper = Thread.currentThread();
        if (h == tail.get() && !connection.isClosed())
        {
            LockSupport.parkNanos(IDLE_PARK_BOUND_NS);
        }
        sleeper = null;
    }

    private void serve(final RdmaRecvSlot recv, final UnsafeBuffer discard, final long replyWaitNs,
        final int maxMessageBytes)
    {
        final UnsafeBuffer request = recv.buffer;
        final byte type = request.getByte(TYPE_OFFSET);
        final int opcode = request.getInt(OPCODE_OFFSET);
        final long correlationId = request.getLong(CORRELATION_ID_OFFSET);
        final int length = request.getInt(PAYLOAD_LENGTH_OFFSET);
        counters.increment(FabricCounters.SERVED_REQUESTS);
        if (type == RdmaFrameDescriptor.TYPE_ONE_WAY)
        {
            invoke(opcode, request, length, discard, 0, discard.capacity());
            return;
        }
        final RdmaSendSlot slot = connection.acquireReplySlot(System.nanoTime() + replyWaitNs);
        if (slot == null)
        {
            return; // the caller times out
        }
        int result = invoke(opcode, request, length, slot.buffer, HEADER_LENGTH, maxMessageBytes);
        if (result > maxMessageBytes)
        {
            result = Status.TOO_LARGE;
        }
        counters.countError(result);
        connection.postReply(slot, result, correlationId);
    }

    private int invoke(final int opcode, final UnsafeBuffer request, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        try
        {
            return handler.onRequest(opcode, request, HEADER_LENGTH, length, reply, replyOffset, replyCapacity);
        }
        catch (final RuntimeException | AssertionError ex)
        {
            fabric.recordError("handler failed on opcode " + opcode + " from " + connection.peerAddress(), ex);
            return Status.HANDLER_ERROR;
        }
    }
}
