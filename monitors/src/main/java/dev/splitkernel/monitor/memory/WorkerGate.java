package dev.splitkernel.monitor.memory;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lets at most {@code workers} threads serve data requests at once, emulating that many memory-side cores when
 * the fabric runs handlers in its callers' threads. Waiters spin, as requests queued at a busy memory core would wait.
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

    void acquire()
    {
        int spins = 0;
        while (true)
        {
            final int f = free.get();
            if (f > 0 && free.compareAndSet(f, f - 1))
            {
                return;
            }
            // Spin as a waiting core would; yield now and then in case the holder lost its CPU (small machines).
            if ((++spins & 127) == 0)
            {
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
