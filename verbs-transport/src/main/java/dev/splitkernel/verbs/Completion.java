package dev.splitkernel.verbs;

import java.util.concurrent.locks.LockSupport;

/**
 * The completion of one asynchronous operation: the fabric sets its status once; the poster polls or awaits it.
 * Reusable after {@link #reset()}, so the steady state allocates nothing.
 * <p>
 * A fabric whose progress is made by the waiting thread (tcp, like polling a completion queue) resets the completion
 * with a {@link Progressor}; {@link #await(long)} and {@link #isDone()} then drive it: spinning, then yielding, and,
 * when the progressor {@link Progressor#mayPark() may park}, parking for growing periods (up to 1 ms) between polls.
 * Otherwise a waiter spins briefly, then parks until {@link #complete(int)} unparks it. No wait spins without bound:
 * every one ends at its timeout.
 * <p>
 * Thread-safe for one poster and one completer.
 */
public final class Completion
{
    /** Makes progress on the network from the waiting thread. */
    @FunctionalInterface
    public interface Progressor
    {
        /** Poll once; returns the amount of work done (0 when idle). Must not block. */
        int progress();

        /** Whether a waiter may park between polls once it has spun and yielded (false: busy-poll, never park). */
        default boolean mayPark()
        {
            return false;
        }

        /**
         * Wait up to {@code maxNs} for progress to become possible (a waiter that may park calls this instead of
         * parking): a tcp connection sleeps in the kernel until its socket is readable, so the reply wakes it at once.
         * The default parks.
         */
        default void idle(final long maxNs)
        {
            LockSupport.parkNanos(maxNs);
        }
    }

    private static final int PENDING = Integer.MIN_VALUE;
    private static final int SPINS_BEFORE_PARK = 2_000;
    private static final int SPINS_BEFORE_YIELD = 50;
    private static final int YIELDS_BEFORE_PARK = 50;
    private static final long MIN_PARK_NS = 20_000;
    private static final long MAX_PARK_NS = 1_000_000;

    private volatile int status = Status.OK;
    private volatile Thread waiter;
    private Progressor progressor;

    /** Mark pending before posting the operation. */
    public Completion reset()
    {
        progressor = null;
        status = PENDING;
        return this;
    }

    /** Mark pending; waiting drives {@code progressor} (null: wait passively). */
    public Completion reset(final Progressor progressor)
    {
        this.progressor = progressor;
        status = PENDING;
        return this;
    }

    /** Called by the fabric exactly once per posted operation. */
    public void complete(final int status)
    {
        this.status = status;
        final Thread w = waiter;
        if (w != null)
        {
            LockSupport.unpark(w);
        }
    }

    public boolean isDone()
    {
        if (status != PENDING)
        {
            return true;
        }
        final Progressor p = progressor;
        if (p != null)
        {
            p.progress();
        }
        return status != PENDING;
    }

    /** The operation's status; meaningful once {@link #isDone()}. */
    public int status()
    {
        return status;
    }

    /**
     * Wait until done or the timeout passes: drive the progressor if there is one, otherwise spin with hints and
     * then park until completed.
     *
     * @return the operation's status, or {@link Status#TIMEOUT}.
     */
    public int await(final long timeoutNs)
    {
        final Progressor p = progressor;
        if (p != null && status == PENDING)
        {
            // One poll before the clock is read: it usually completes the operation (an in-process server answers
            // within it), and a clock read costs as much as a tenth of a loopback round trip on a virtual machine.
            p.progress();
        }
        int s = status;
        if (s != PENDING)
        {
            return s;
        }
        final long deadlineNs = System.nanoTime() + timeoutNs;
        final boolean mayPark = p != null && p.mayPark();
        long parkNs = MIN_PARK_NS;
        int spins = 0;
        while ((s = status) == PENDING)
        {
            final long nowNs = System.nanoTime();
            if (nowNs - deadlineNs >= 0)
            {
                return Status.TIMEOUT;
            }
            if (p != null)
            {
                if (p.progress() > 0)
                {
                    spins = 0;
                }
                else if (++spins < SPINS_BEFORE_YIELD)
                {
                    Thread.onSpinWait();
                }
                else if (!mayPark || spins < SPINS_BEFORE_YIELD + YIELDS_BEFORE_PARK)
                {
                    // Let the thread that holds the network (or the peer) run when cores are oversubscribed.
                    Thread.yield();
                }
                else
                {
                    waiter = Thread.currentThread();
                    if (status == PENDING)
                    {
                        p.idle(Math.min(deadlineNs - nowNs, parkNs));
                    }
                    waiter = null;
                    parkNs = Math.min(MAX_PARK_NS, parkNs << 1);
                }
            }
            else if (++spins < SPINS_BEFORE_PARK)
            {
                Thread.onSpinWait();
            }
            else
            {
                waiter = Thread.currentThread();
                if (status == PENDING)
                {
                    LockSupport.parkNanos(Math.min(deadlineNs - nowNs, MAX_PARK_NS));
                }
                waiter = null;
            }
        }
        return s;
    }
}
