package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCReqNotify;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The fabric's one completion queue and the thread that drains it. Without {@code splitkernel.fabric.busyPoll} it
 * sleeps on the completion channel as soon as the queue is empty (its event wakes the thread when a completion
 * arrives); with it, it spins, but only for {@value #BUSY_SPIN_WINDOW_NS} ns after the last completion (then it sleeps
 * on the channel as well), and not at all while callers busy-poll for their own completions ({@link #callerWaits}):
 * such a caller is then the one thread spinning on the queue, as in perftest's, and dispatches whatever it finds. Never asleep longer than
 * {@value #CQ_EVENT_TIMEOUT_MS} ms at a time (so stopping and teardown are never held up by a quiet queue).
 * A thread waiting for its own completion may poll too ({@link #pollFromCaller}); one thread polls at a time.
 * Each completion goes to {@link RdmaFabric#dispatch}; between batches the fabric destroys connections nobody
 * posts on any more.
 */
final class RdmaCompletionPoller
{
    private static final int POLL_BATCH = 16;
    /**
     * Empty polls before sleeping on the channel when not busy-polling: one. A poller that spins on while idle holds
     * a CPU its callers and the device's kernel work need, and where CPUs are scarce (two emulated CPUs on one host
     * thread, as in CI's guest) every operation then waits for the spin to end; the channel's event wakes it at once.
     */
    static final int IDLE_POLLS_BEFORE_SLEEP = 1;
    private static final int CQ_EVENT_TIMEOUT_MS = 10;
    /**
     * Busy-polling: how long the poller spins on after the last completion before it sleeps on the channel. Back to
     * back traffic keeps it spinning; an idle fabric (a memory monitor serving only one-sided READs, which complete at
     * the reader) holds no CPU.
     */
    static final long BUSY_SPIN_WINDOW_NS = 100_000;
    /**
     * Busy-polling: while callers poll the queue themselves the poller parks this long at a time, and takes the queue
     * back only after a whole period without a caller. Waking it as each caller leaves cost a futex call and a thread
     * switch per operation, and the woken poller then raced the next operation's caller for its completion (in a
     * guest it took 196 of 200). The price: a completion that arrives within this period after the last caller left,
     * with no caller polling, waits for the poller's next look (at most this long).
     */
    static final long STAND_ASIDE_NS = 1_000_000;

    private final RdmaFabric fabric;
    private final boolean busyPoll;
    private final IbvCompChannel compChannel;
    private final IbvCQ cq;
    private final IbvWC[] wcs = new IbvWC[POLL_BATCH];
    private final SVCPollCq pollCall;
    private final SVCReqNotify notifyCall;
    private final Thread thread;
    private volatile boolean running = true;
    // Counted by the poller thread only (read by tests and diagnostics): waits on the channel, how they ended, and
    // completions found right after a wait that timed out (ones the channel's event should have woken us for).
    private final AtomicLong channelWaits = new AtomicLong();
    private final AtomicLong channelEvents = new AtomicLong();
    private final AtomicLong channelTimeouts = new AtomicLong();
    private final AtomicLong completionsAfterTimeout = new AtomicLong();
    private volatile long emptyPolls;
    private final AtomicLong callerPolled = new AtomicLong();
    private final AtomicLong standAsides = new AtomicLong();
    /** Busy-polling callers waiting for their own completion right now: the poller parks while there are any. */
    private final AtomicInteger callersWaiting = new AtomicInteger();
    /** How many waits callers have begun: the poller sees whether any came during its last stand-aside period. */
    private final AtomicLong callerWaitsBegun = new AtomicLong();
    /** When a completion was last dispatched, by anyone (busy-polling's spin window starts there). */
    private volatile long lastCompletionNs;
    /** Held while polling: by the poller thread, or by a caller waiting for its own completion. */
    private final ReentrantLock pollLock = new ReentrantLock();
    private boolean released;
    private boolean lastWaitTimedOut;

    RdmaCompletionPoller(final RdmaFabric fabric, final IbvContext verbs, final int entries, final boolean busyPoll)
        throws IOException
    {
        this.fabric = fabric;
        this.busyPoll = busyPoll;
        this.compChannel = verbs.createCompChannel();
        this.cq = verbs.createCQ(compChannel, entries, 0);
        for (int i = 0; i < POLL_BATCH; i++)
        {
            wcs[i] = new IbvWC();
        }
        this.pollCall = cq.poll(wcs, POLL_BATCH);
        this.notifyCall = cq.reqNotification(false);
        this.thread = new Thread(this::pollLoop, "rdma-poller");
        thread.setDaemon(true);
    }

    IbvCQ cq()
    {
        return cq;
    }

    void start()
    {
        thread.start();
    }

    /** Stop the thread (waiting up to {@code joinMs}); completions are no longer dispatched. */
    void stop(final long joinMs)
    {
        running = false;
        LockSupport.unpark(thread); // not to wait out a stand-aside period
        if (thread.isAlive() && thread != Thread.currentThread())
        {
            try
            {
                thread.join(joinMs);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Poll the queue from a thread waiting for its own completion, unless another thread is polling it right now:
     * the waiter then sees its completion at once instead of when the poller thread is next scheduled (which, where
     * CPUs are scarce, can be a scheduler time slice away). Returns the completions dispatched.
     */
    int pollFromCaller()
    {
        if (!pollLock.tryLock())
        {
            return 0;
        }
        try
        {
            if (released)
            {
                return 0;
            }
            final int polled = drain();
            if (polled > 0)
            {
                callerPolled.addAndGet(polled);
            }
            return polled;
        }
        finally
        {
            pollLock.unlock();
        }
    }

    /**
     * A busy-polling caller starts waiting for its own completion, polling the queue itself: the poller thread stands
     * aside (parks) until the last such caller is done, so two threads never spin on one queue (where CPUs are scarce,
     * as on two emulated CPUs, the second spinner takes the CPU the operation's device work needs). Pair with
     * {@link #callerDone}. Callers that may park (no busy-polling) rely on the poller and do not call this.
     */
    void callerWaits()
    {
        callerWaitsBegun.incrementAndGet();
        callersWaiting.incrementAndGet();
    }

    /**
     * The caller's wait ended (see {@link #callerWaits}). The poller is not woken: it takes the queue back once a
     * whole {@link #STAND_ASIDE_NS} period has passed without callers.
     */
    void callerDone()
    {
        callersWaiting.decrementAndGet();
    }

    /** Release the queue and its channel, after {@link #stop} and once no queue pair uses it. */
    void close() throws IOException
    {
        pollLock.lock();
        try
        {
            released = true; // a waiter may still poll: it must find the queue gone, not freed memory
        }
        finally
        {
            pollLock.unlock();
        }
        pollCall.free();
        notifyCall.free();
        cq.destroyCQ();
        compChannel.destroyCompChannel();
    }

    /**
     * {channel waits, ended by an event, timed out, completions found right after a timed-out wait, empty polls spun
     * past before sleeping, completions dispatched by waiting callers, times the poller stood aside for callers}.
     */
    long[] channelCounts()
    {
        return new long[] { channelWaits.get(), channelEvents.get(), channelTimeouts.get(),
            completionsAfterTimeout.get(), emptyPolls, callerPolled.get(), standAsides.get() };
    }

    private void pollLoop()
    {
        int idlePolls = 0;
        while (running)
        {
            if (busyPoll && callersWaiting.get() > 0)
            {
                standAside(); // before polling: the callers' completions are theirs to find
                continue;
            }
            final int polled = pollOnce();
            if (lastWaitTimedOut)
            {
                lastWaitTimedOut = false;
                if (polled > 0)
                {
                    completionsAfterTimeout.incrementAndGet();
                }
            }
            fabric.destroyClosedConnections();
            if (polled > 0)
            {
                idlePolls = 0;
            }
            else if (busyPoll ? System.nanoTime() - lastCompletionNs < BUSY_SPIN_WINDOW_NS
                : ++idlePolls < IDLE_POLLS_BEFORE_SLEEP)
            {
                emptyPolls = emptyPolls + 1; // the poller thread is the only writer
                Thread.onSpinWait();
            }
            else
            {
                sleepOnCompletionChannel();
                idlePolls = 0;
            }
        }
    }

    /** Park while busy-polling callers poll the queue themselves, until a whole period passes without any. */
    private void standAside()
    {
        long begun;
        do
        {
            standAsides.incrementAndGet();
            begun = callerWaitsBegun.get();
            LockSupport.parkNanos(STAND_ASIDE_NS);
            fabric.destroyClosedConnections(); // teardown does not wait for the callers to pause
        }
        while (running && (callersWaiting.get() > 0 || callerWaitsBegun.get() != begun));
    }

    private int pollOnce()
    {
        pollLock.lock();
        try
        {
            return released ? 0 : drain();
        }
        finally
        {
            pollLock.unlock();
        }
    }

    /** Poll once and dispatch what was found (holding {@link #pollLock}: the call and its array are not shared). */
    private int drain()
    {
        final int polled;
        try
        {
            polled = pollCall.execute().getPolls();
        }
        catch (final IOException ex)
        {
            fabric.recordError("polling the completion queue", ex);
            return 0;
        }
        if (polled > 0 && busyPoll)
        {
            lastCompletionNs = System.nanoTime();
        }
        for (int i = 0; i < polled; i++)
        {
            final IbvWC wc = wcs[i];
            fabric.dispatch(wc.getWr_id(), wc.getStatus(), wc.getByte_len());
        }
        return polled;
    }

    private void sleepOnCompletionChannel()
    {
        try
        {
            notifyCall.execute();
            // A completion may have arrived between the last poll and arming the notification: poll once more.
            if (pollOnce() == 0)
            {
                channelWaits.incrementAndGet();
                if (compChannel.getCqEvent(cq, CQ_EVENT_TIMEOUT_MS))
                {
                    channelEvents.incrementAndGet();
                    cq.ackEvents(1);
                }
                else
                {
                    channelTimeouts.incrementAndGet();
                    lastWaitTimedOut = true;
                }
            }
        }
        catch (final IOException ex)
        {
            LockSupport.parkNanos(CQ_EVENT_TIMEOUT_MS * 1_000_000L);
        }
    }
}
