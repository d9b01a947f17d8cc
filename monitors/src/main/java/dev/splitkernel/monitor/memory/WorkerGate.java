package dev.splitkernel.monitor.memory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lets at most {@code workers} threads serve data requests at once, emulating that many memory-side cores when
 * the fabric runs handlers in its callers' threads. Waiters spin, as requests queued at a busy memory core would
 * wait, yielding now and then in case the holder lost its CPU; no wait outlasts its deadline.
 * <p>
 * Thread-safe.
 */
final class WorkerGate
{
    private final AtomicInteger free;

    WorkerGate(final int workers)
    {
        free = new AtomicInteger(workers);
    }

    /**
     * Take a worker, waiting {@code timeoutNs} at most. The clock is read only once the gate is found full: a free
     * worker (the usual case) costs a compare-and-set alone.
     *
     * @return true when taken (release it), false when none came free in time.
     */
    boolean acquire(final long timeoutNs)
    {
        int f = free.get();
        if (f > 0 && free.compareAndSet(f, f - 1))
        {
            return true;
        }
        final long deadlineNs = System.nanoTime() + timeoutNs;
        int spins = 0;
        while (true)
        {
            f = free.get();
            if (f > 0 && free.compareAndSet(f, f - 1))
            {
                return true;
            }
            if ((++spins & 127) == 0)
            {
                if (System.nanoTime() - deadlineNs >= 0)
                {
                    return false;
                }
                Thread.yield();
            }
            else
            {
                Thread.onSpinWait();
            }
        }
    }

    void release()
    {
        free.incrementAndGet();
    }
}
