package dev.splitkernel.monitor.memory;

import dev.splitkernel.verbs.Status;
import org.agrona.ErrorHandler;

import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Primary: the one ordered stream of everything this memory monitor forwards to its secondaries (write-backs, page
 * copies, vma changes). Each forward gets a ticket in the order it is queued (a write-back or a page copy queues
 * under its page's stripe, so a page's versions queue in the order they were applied) and is sent in ticket order,
 * one at a time: a secondary never applies an older version of a page over a newer one. The stream's own thread
 * sends what nobody waits for (a piggybacked write-back answered "replication pending"); a caller that waits for its
 * ticket sends the forwards before it in its own thread, so in the account timing mode the network time it waits
 * for is charged to it, and nothing it does not wait for.
 * <p>
 * Thread-safe.
 */
final class ForwardStream implements AutoCloseable
{
    /** One forward: sends itself and handles its own failure (dropping the secondary, fencing); returns its status. */
    interface Forward
    {
        long send();
    }

    /** A queued forward and, once sent, its status. */
    static final class Ticket
    {
        final long number;
        private final Forward forward;
        private volatile long result = Status.TIMEOUT;

        private Ticket(final long number, final Forward forward)
        {
            this.number = number;
            this.forward = forward;
        }

        /** The forward's status once {@link #await} returned true. */
        long result()
        {
            return result;
        }
    }

    private final ArrayDeque<Ticket> queue = new ArrayDeque<>();
    private final ReentrantLock sending = new ReentrantLock();
    private final ErrorHandler errors;
    private final Thread thread;
    private long queued; // guarded by queue
    private volatile long done;
    private volatile boolean closed;
    private boolean started; // guarded by this

    ForwardStream(final ErrorHandler errors)
    {
        this.errors = errors;
        thread = new Thread(this::sendLoop, "memory-replica-forwarder");
        thread.setDaemon(true);
    }

    /** Start the stream's thread (at the first replication). */
    synchronized void start()
    {
        if (!started)
        {
            started = true;
            thread.start();
        }
    }

    /** Queue a forward; it is sent after every forward queued before it. */
    Ticket add(final Forward forward)
    {
        synchronized (queue)
        {
            final Ticket ticket = new Ticket(++queued, forward);
            queue.addLast(ticket);
            queue.notifyAll();
            return ticket;
        }
    }

    /**
     * Hold the stream (tests): the forwards queued after this call wait until the latch is counted down, the stream
     * closes, or a minute passes.
     */
    CountDownLatch hold()
    {
        final CountDownLatch release = new CountDownLatch(1);
        add(() ->
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            try
            {
                while (!closed && System.nanoTime() - deadlineNs < 0 && !release.await(10, TimeUnit.MILLISECONDS))
                {
                    Thread.onSpinWait();
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            return 0;
        });
        return release;
    }

    /** Every ticket up to this one has been sent (or given up: see the forwards' own failure handling). */
    long done()
    {
        return done;
    }

    /** The last ticket queued so far. */
    long queued()
    {
        synchronized (queue)
        {
            return queued;
        }
    }

    /**
     * Wait until ticket {@code number} is sent, sending the forwards queued before it (and it) in this thread when
     * the stream is not sending one itself.
     *
     * @return false if the timeout passed first.
     */
    boolean await(final long number, final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (done < number)
        {
            if (sending.tryLock())
            {
                try
                {
                    if (done < number)
                    {
                        sendOne();
                    }
                }
                finally
                {
                    sending.unlock();
                }
                continue;
            }
            final long leftNs = deadlineNs - System.nanoTime();
            if (leftNs <= 0 || closed)
            {
                return done >= number;
            }
            synchronized (queue)
            {
                if (done < number && sending.isLocked())
                {
                    try
                    {
                        // Woken by sendOne; the slice bounds a missed wake-up.
                        queue.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(leftNs), 1)));
                    }
                    catch (final InterruptedException ex)
                    {
                        Thread.currentThread().interrupt();
                        return done >= number;
                    }
                }
            }
        }
        return true;
    }

    /** Send the oldest queued forward (the caller holds {@link #sending}); false if none is queued. */
    private boolean sendOne()
    {
        final Ticket ticket;
        synchronized (queue)
        {
            ticket = queue.pollFirst();
        }
        if (ticket == null)
        {
            return false;
        }
        try
        {
            ticket.result = ticket.forward.send();
        }
        catch (final RuntimeException ex)
        {
            errors.onError(ex);
        }
        done = ticket.number;
        synchronized (queue)
        {
            queue.notifyAll();
        }
        return true;
    }

    private void sendLoop()
    {
        while (!closed)
        {
            boolean sent;
            sending.lock();
            try
            {
                sent = sendOne();
            }
            finally
            {
                sending.unlock();
            }
            if (!sent)
            {
                synchronized (queue)
                {
                    if (queue.isEmpty() && !closed)
                    {
                        try
                        {
                            queue.wait(100);
                        }
                        catch (final InterruptedException ex)
                        {
                            Thread.currentThread().interrupt();
                            return;
                        }
                    }
                }
            }
        }
    }

    @Override
    public void close()
    {
        closed = true;
        synchronized (queue)
        {
            queue.notifyAll();
        }
        thread.interrupt();
        synchronized (this)
        {
            if (!started)
            {
                return;
            }
        }
        try
        {
            thread.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
