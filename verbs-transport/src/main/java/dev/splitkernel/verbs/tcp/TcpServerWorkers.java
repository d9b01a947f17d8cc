package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A pool of N threads that run request handlers off the poller: for every request when {@code serverWorkers} N &gt; 0,
 * otherwise only for requests that {@link RequestHandler#mayBlock may block}. The poller copies each request into a preallocated task and queues it; a worker runs the
 * handler into the task's reply buffer and sends the reply on that connection. Tasks and their buffers are reused,
 * so the steady state allocates nothing (a buffer grows once to the largest message it has carried). When every
 * task is in use the poller waits for one (back-pressure on that connection) and, after
 * {@code operationTimeoutNs}, answers BACK_PRESSURED (a one-way message is then dropped and counted).
 * <p>
 * Thread-safe: {@link #dispatch} from any service thread.
 */
final class TcpServerWorkers implements AutoCloseable
{
    /** One queued request and room for its reply. */
    static final class Task
    {
        TcpServerConnection connection;
        RequestHandler handler;
        long correlationId;
        int opcode;
        int length;
        int replyCapacity;
        boolean isCall;
        UnsafeBuffer request = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));
        UnsafeBuffer reply = new UnsafeBuffer(ByteBuffer.allocateDirect(4096));

        static UnsafeBuffer ensure(final UnsafeBuffer buffer, final int capacity)
        {
            return buffer.capacity() >= capacity ? buffer : new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
        }
    }

    private static final int TASKS_PER_WORKER = 4;

    private final ManyToManyConcurrentArrayQueue<Task> queue;
    private final ManyToManyConcurrentArrayQueue<Task> free;
    private final Thread[] threads;
    private final AtomicIntegerArray parked;
    private final FabricCounters counters;
    private final TcpFabric fabric;
    /**
     * How long an idle worker yields before it parks when busy-polling: a request stream with gaps this short never
     * waits for a wake-up. Bounded by time, not by a count of yields: on a loaded machine each yield can give the core
     * away for a time slice, and a count of 20,000 kept every pool's workers yielding for seconds, beside the thread
     * that waits on a miss (seen: a third of a tcp run's system calls were these yields).
     */
    private static final long BUSY_POLL_YIELD_NS = 1_000_000;
    /** The same without busy-polling: a short spell, as a wake-up costs tens of microseconds on these machines. */
    private static final long YIELD_NS = 50_000;

    private final boolean busyPoll;
    private final long operationTimeoutNs;
    private volatile boolean running = true;

    TcpServerWorkers(final TcpFabric fabric, final int workers)
    {
        this.fabric = fabric;
        this.counters = fabric.counters();
        this.busyPoll = fabric.context().busyPoll();
        this.operationTimeoutNs = fabric.context().operationTimeoutNs();
        final int tasks = Math.max(16, workers * TASKS_PER_WORKER);
        queue = new ManyToManyConcurrentArrayQueue<>(tasks);
        free = new ManyToManyConcurrentArrayQueue<>(tasks);
        for (int i = 0; i < tasks; i++)
        {
            free.offer(new Task());
        }
        threads = new Thread[workers];
        parked = new AtomicIntegerArray(workers);
        for (int i = 0; i < workers; i++)
        {
            final int index = i;
            threads[i] = new Thread(() -> run(index), "tcp-fabric-worker-" + i);
            threads[i].setDaemon(true);
            threads[i].start();
        }
    }

    /**
     * Queue a request whose payload is {@code [offset, offset + length)} of {@code buffer} (copied here).
     *
     * @return OK, or BACK_PRESSURED when every task is in use.
     */
    int dispatch(
        final TcpServerConnection connection, final RequestHandler handler, final DirectBuffer buffer,
        final int offset, final int length, final long correlationId, final int opcode, final int replyCapacity,
        final boolean isCall)
    {
        Task task = free.poll();
        if (task == null)
        {
            // Every task is queued or running: hold this connection's service thread (back-pressure on its socket,
            // as a full receive queue does on rdma) until one frees, or refuse after the operation timeout.
            final long deadlineNs = System.nanoTime() + operationTimeoutNs;
            while ((task = free.poll()) == null)
            {
                if (!running || System.nanoTime() - deadlineNs >= 0)
                {
                    return Status.BACK_PRESSURED;
                }
                Thread.yield();
            }
        }
        task.connection = connection;
        task.handler = handler;
        task.correlationId = correlationId;
        task.opcode = opcode;
        task.length = length;
        task.replyCapacity = replyCapacity;
        task.isCall = isCall;
        task.request = Task.ensure(task.request, length);
        task.reply = Task.ensure(task.reply, replyCapacity);
        task.request.putBytes(0, buffer, offset, length);
        queue.offer(task);
        for (int i = 0; i < threads.length; i++)
        {
            if (parked.get(i) == 1)
            {
                LockSupport.unpark(threads[i]);
                break;
            }
        }
        return Status.OK;
    }

    private void run(final int index)
    {
        final long yieldNs = busyPoll ? BUSY_POLL_YIELD_NS : YIELD_NS;
        int idle = 0;
        long idleSinceNs = 0;
        while (running)
        {
            final Task task = queue.poll();
            if (task == null)
            {
                if (++idle < 100)
                {
                    Thread.onSpinWait();
                    idleSinceNs = System.nanoTime();
                }
                else if (System.nanoTime() - idleSinceNs < yieldNs)
                {
                    Thread.yield();
                }
                else
                {
                    // Until dispatch unparks us: an idle worker costs no wake-ups (the timeout is a safety net).
                    parked.set(index, 1);
                    if (queue.isEmpty() && running)
                    {
                        LockSupport.parkNanos(100_000_000L);
                    }
                    parked.set(index, 0);
                }
                continue;
            }
            idle = 0;
            execute(task);
        }
    }

    private void execute(final Task task)
    {
        int result;
        try
        {
            result = task.handler.onRequest(task.opcode, task.request, 0, task.length, task.reply, 0,
                task.replyCapacity);
        }
        catch (final RuntimeException | Error ex)
        {
            fabric.reportError("handler failed on opcode " + task.opcode + ": " + ex);
            result = Status.HANDLER_ERROR;
        }
        if (result > task.replyCapacity)
        {
            result = Status.TOO_LARGE;
        }
        counters.countError(result);
        if (task.isCall)
        {
            task.connection.sendReply(task.correlationId, result, task.reply, Math.max(result, 0));
        }
        task.connection = null;
        task.handler = null;
        free.offer(task);
    }

    @Override
    public void close()
    {
        running = false;
        for (final Thread thread : threads)
        {
            LockSupport.unpark(thread);
        }
    }
}
