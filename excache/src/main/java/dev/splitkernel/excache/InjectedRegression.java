package dev.splitkernel.excache;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Regressions put in on purpose, to prove that the performance gate catches them ({@code scripts/bench gate-proof}).
 * Test-only: system property {@value #PROP_NAME}, unset in every normal run, holds a comma-separated list of
 * {@link #NAMES}. The flags are static finals read once, so with the property unset the JIT folds every check away
 * and the paths run exactly as without them.
 * <ul>
 * <li>{@code extra-message}: the processor monitor fetches every remotely served line twice (one more request on
 * the wire per miss).</li>
 * <li>{@code slow-hit}: every ExCache hit through the typed loads spins for {@link #SLOW_HIT_NS} more.</li>
 * <li>{@code no-one-sided}: the processor monitor never re-fetches a line with a one-sided READ; every miss is an
 * RPC.</li>
 * <li>{@code alloc-per-miss}: every ExCache miss allocates a small array.</li>
 * </ul>
 */
public final class InjectedRegression
{
    public static final String PROP_NAME = "splitkernel.inject.regression";
    public static final String EXTRA_MESSAGE = "extra-message";
    public static final String SLOW_HIT = "slow-hit";
    public static final String NO_ONE_SIDED = "no-one-sided";
    public static final String ALLOC_PER_MISS = "alloc-per-miss";
    public static final List<String> NAMES = List.of(EXTRA_MESSAGE, SLOW_HIT, NO_ONE_SIDED, ALLOC_PER_MISS);

    /** What the slow hit path adds to every hit: a few DRAM round trips, beyond what a loaded machine moves the ratio. */
    public static final long SLOW_HIT_NS = 250;

    public static final boolean EXTRA_MESSAGE_PER_MISS_ON;
    public static final boolean SLOW_HIT_ON;
    public static final boolean NO_ONE_SIDED_ON;
    public static final boolean ALLOC_PER_MISS_ON;

    /** Where an injected allocation goes, so that escape analysis cannot remove it. */
    private static volatile Object sink;

    static
    {
        final List<String> active = parse(System.getProperty(PROP_NAME, ""));
        EXTRA_MESSAGE_PER_MISS_ON = active.contains(EXTRA_MESSAGE);
        SLOW_HIT_ON = active.contains(SLOW_HIT);
        NO_ONE_SIDED_ON = active.contains(NO_ONE_SIDED);
        ALLOC_PER_MISS_ON = active.contains(ALLOC_PER_MISS);
        if (!active.isEmpty())
        {
            System.err.println("WARNING: injected performance regressions active (" + PROP_NAME + "): " + active);
        }
    }

    private InjectedRegression()
    {
    }

    /**
     * The names in a {@value #PROP_NAME} value.
     *
     * @throws IllegalArgumentException naming the property and the known names, for an unknown name.
     */
    public static List<String> parse(final String value)
    {
        final List<String> names = new ArrayList<>();
        for (final String raw : value.split(","))
        {
            final String name = raw.trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty())
            {
                continue;
            }
            if (!NAMES.contains(name))
            {
                throw new IllegalArgumentException(PROP_NAME + ": unknown regression '" + raw + "': use " + NAMES);
            }
            names.add(name);
        }
        return names;
    }

    /** The regressions this JVM runs with, as given in {@value #PROP_NAME} (empty in normal runs). */
    public static List<String> active()
    {
        final List<String> active = new ArrayList<>();
        if (EXTRA_MESSAGE_PER_MISS_ON)
        {
            active.add(EXTRA_MESSAGE);
        }
        if (SLOW_HIT_ON)
        {
            active.add(SLOW_HIT);
        }
        if (NO_ONE_SIDED_ON)
        {
            active.add(NO_ONE_SIDED);
        }
        if (ALLOC_PER_MISS_ON)
        {
            active.add(ALLOC_PER_MISS);
        }
        return active;
    }

    static void slowHit()
    {
        final long deadlineNs = System.nanoTime() + SLOW_HIT_NS;
        while (System.nanoTime() - deadlineNs < 0)
        {
            Thread.onSpinWait();
        }
    }

    static void allocate()
    {
        sink = new long[4];
    }
}
