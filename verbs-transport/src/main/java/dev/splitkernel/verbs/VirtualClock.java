package dev.splitkernel.verbs;

/**
 * Per-thread network stall time charged by the local fabric in the {@code account} timing mode: instead of
 * busy-waiting an operation's modelled cost, the fabric adds it here, to the thread that would have waited. A run's
 * emulated time is then its measured time plus the stalls on its critical path (see
 * {@link FabricContext#TIMING_MODE_PROP_NAME}).
 * <p>
 * Thread-safe: each thread reads and charges only its own clock.
 */
public final class VirtualClock
{
    private static final ThreadLocal<long[]> STALL_NS = ThreadLocal.withInitial(() -> new long[1]);

    private VirtualClock()
    {
    }

    /** Add {@code ns} (ignored when not positive) to the calling thread's stall time. */
    public static void charge(final long ns)
    {
        if (ns > 0)
        {
            STALL_NS.get()[0] += ns;
        }
    }

    /** The calling thread's stall time so far; subtract two readings to get a phase's. */
    public static long stallNs()
    {
        return STALL_NS.get()[0];
    }
}
