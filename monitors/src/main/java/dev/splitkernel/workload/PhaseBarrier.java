package dev.splitkernel.workload;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A barrier between the steps of a multi-threaded workload (map then reduce, one SGD step then the next). Waiters
 * spin briefly, then yield, never park: a parked thread's wake-up costs tens of milliseconds on a loaded machine,
 * which would swamp steps of a few milliseconds (as a spinning OpenMP barrier avoids). The time spent waiting is
 * not the workload's work: the barrier tells {@link StepClock} where each step ends and the next begins, so that
 * the run command's critical path leaves it out. Sense-reversing, reusable.
 * A thread that fails calls {@link #abort}; the others then fail instead of waiting, and no wait outlasts
 * {@value #TIMEOUT_MINUTES} minutes.
 */
public final class PhaseBarrier
{
    private static final long TIMEOUT_MINUTES = 30;
    private static final int SPINS = 1000;

    private final int parties;
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile int phase;
    private volatile Throwable failure;

    public PhaseBarrier(final int threads)
    {
        if (threads < 1)
        {
            throw new IllegalArgumentException("a barrier needs at least one thread: " + threads);
        }
        parties = threads;
    }

    /** A thread of the workload failed: every thread waiting, or arriving later, fails instead of waiting. */
    public void abort(final Throwable cause)
    {
        failure = cause;
    }

    public void await()
    {
        if (parties == 1)
        {
            return;
        }
        checkFailure();
        StepClock.arrive();
        try
        {
            waitForAll();
        }
        finally
        {
            StepClock.depart();
        }
    }

    private void waitForAll()
    {
        final int myPhase = phase;
        if (waiting.incrementAndGet() == parties)
        {
            waiting.set(0);
            phase = myPhase + 1;
            return;
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(TIMEOUT_MINUTES);
        int spins = 0;
        while (phase == myPhase)
        {
            checkFailure();
            if (++spins < SPINS)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
                if ((spins & 1023) == 0 && System.nanoTime() - deadlineNs > 0)
                {
                    throw new IllegalStateException("a workload barrier waited " + TIMEOUT_MINUTES
                        + " minutes for the other threads");
                }
            }
        }
    }

    private void checkFailure()
    {
        final Throwable cause = failure;
        if (cause != null)
        {
            throw new IllegalStateException("another thread of the workload failed: " + cause, cause);
        }
    }
}
