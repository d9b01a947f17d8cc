package dev.splitkernel.excache;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The CPU time each thread spends waiting inside the cache for another thread: for a set lock it did not get at
 * once, for another thread's fetch of the line it wants, for pinned stores to leave a slot it takes. The run command
 * leaves this out of a thread's work, as it leaves out barrier waits: how long such a wait spins depends on whether
 * the thread it waits for holds a core (4 threads on 2 cores, or a machine shared with other jobs), not on the
 * workload. Only contended waits are timed (two CPU-clock reads each); the uncontended path reads no clock.
 * Thread-confined: each thread adds only to its own total.
 */
public final class CacheWaits
{
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final ThreadLocal<long[]> WAITED = ThreadLocal.withInitial(() -> new long[1]);

    private CacheWaits()
    {
    }

    /** The calling thread's CPU time spent in contended cache waits so far, in nanoseconds. */
    public static long waitedNs()
    {
        return WAITED.get()[0];
    }

    /** A contended wait starts: returns the token to pass to {@link #end}. */
    static long begin()
    {
        return THREADS.getCurrentThreadCpuTime();
    }

    /** The wait begun with {@code token} ended: its CPU time goes to the calling thread's total. */
    static void end(final long token)
    {
        WAITED.get()[0] += THREADS.getCurrentThreadCpuTime() - token;
    }
}
