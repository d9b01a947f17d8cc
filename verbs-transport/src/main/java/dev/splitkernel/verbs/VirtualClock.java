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
    /** Per thread: [0] the stall time charged, [1] the model's full cost of the operations charged. */
    private static final ThreadLocal<long[]> STALL_NS = ThreadLocal.withInitial(() -> new long[2]);

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

    /**
     * Add {@code stallNs} (ignored when not positive) to the calling thread's stall time, and the operation's full
     * modelled cost {@code modelledNs} to its modelled network time.
     */
    public static void charge(final long stallNs, final long modelledNs)
    {
        final long[] clock = STALL_NS.get();
        if (stallNs > 0)
        {
            clock[0] += stallNs;
        }
        clock[1] += modelledNs;
    }

    /** The calling thread's stall time so far; subtract two readings to get a phase's. */
    public static long stallNs()
    {
        return STALL_NS.get()[0];
    }

    /**
     * The model's full cost of every operation charged to the calling thread so far, whatever part of it the
     * operation's own measured time already covered: a sum of the timing model's constants over the operations,
     * so it does not depend on the machine's speed or load (the gate's modelled slowdown is built on it).
     */
    public static long modelledNs()
    {
        return STALL_NS.get()[1];
    }
}
