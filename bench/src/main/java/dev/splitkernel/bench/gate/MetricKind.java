package dev.splitkernel.bench.gate;

/**
 * How the gate compares a metric with its baseline, and the least tolerance it allows whatever the recorded spread.
 * Counted metrics do not depend on the machine's speed and carry the gate's sensitivity: any change beyond their
 * small tolerance, up or down, fails until a new baseline accepts it. Timed metrics are same-run ratios on a shared
 * machine: only a rise fails, and their floors are wide enough to survive other jobs on the machine.
 */
enum MetricKind
{
    /** Counts that the code determines (misses, write-backs, messages): a change either way fails. */
    COUNTED(true, 0.02, 0.0),
    /** Bytes allocated per miss: a rise of more than 16 bytes per miss (or 5%) fails. */
    ALLOCATION(false, 0.05, 16.0),
    /**
     * Figures computed from counted events and the timing model's constants only (a workload's modelled slowdown,
     * its modelled network time per miss): no measured time enters, so a change either way fails, as for counts.
     */
    MODELLED(true, 0.02, 0.0),
    /**
     * A same-run ratio of operations timed in the thread's CPU time (an ExCache hit over a plain load): other jobs'
     * use of the shared caches still moves it (measured: a spread of 10% over 5 runs at load 20 on 2 cores).
     */
    CPU_RATIO(false, 1.0, 0.0),
    /**
     * A same-run ratio against a network round trip on loopback: the kernel's scheduling of other jobs' threads
     * enters (measured: the median over rounds moved by half from one run to the next at load 9 on 2 cores).
     */
    NETWORK_RATIO(false, 3.0, 0.0);

    /** How many spreads (max - min over the recorded runs, relative to their median) the tolerance spans. */
    static final double SPREADS = 3.0;

    final boolean twoSided;
    final double relativeFloor;
    final double absoluteFloor;

    MetricKind(final boolean twoSided, final double relativeFloor, final double absoluteFloor)
    {
        this.twoSided = twoSided;
        this.relativeFloor = relativeFloor;
        this.absoluteFloor = absoluteFloor;
    }

    /** The relative tolerance for a metric recorded with this relative spread. */
    double tolerance(final double relativeSpread)
    {
        return Math.max(relativeFloor, SPREADS * relativeSpread);
    }
}
