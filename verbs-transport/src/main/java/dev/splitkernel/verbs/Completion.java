package dev.splitkernel.verbs;

import java.util.concurrent.locks.LockSupport;

/**
 * The completion of one asynchronous operation: the fabric sets its status once; the poster polls or awaits it.
 * Reusable after {@link #reset()}, so the steady state allocates nothing.
 * <p>
 * Thread-safe for one poster and one completer.
 */
public final class Completion
{
    private static final int PENDING = Integer.MIN_VALUE;

    private volatile int status = Status.OK;

    /** Mark pending before posting the operation. */
    public Completion reset()
    {
        status = PENDING;
        return this;
    }

    /** Called by the fabric exactly once per posted operation. */
    public void complete(final int status)
    {
        this.status = status;
    }

    public boolean isDone()
    {
        return status != PENDING;
    }

    /** The operation's status; meaningful once {@link #isDone()}. */
    public int status()
    {
        return status;
    }

    /**
     * Busy-wait (with spin hints, then short parks) until done or the timeout passes.
     *
     * @return the operation's status, or {@link Status#TIMEOUT}.
     */
    public int await(final long timeoutNs)
    {
        final long deadlineNs = System.nanoTime() + timeoutNs;
        int spins = 0;
        int s;
        while ((s = status) == PENDING)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                return Status.TIMEOUT;
            }
            if (++spins < 10_000)
            {
                Thread.onSpinWait();
            }
            else
            {
                LockSupport.parkNanos(1_000);
            }
        }
        return s;
    }
}
