package dev.splitkernel.monitor.runtime;

import java.util.Locale;

/**
 * Configuration of a {@link MonitorRuntime}: the threading mode and the idle strategies of its runners. Defaults and property names in one place, fluent setters, one {@link #conclude()} that
 * validates everything, names the setting at fault, and runs once.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to {@link MonitorRuntime#launch(MonitorContext)}.
 */
public final class MonitorContext
{
    /** dedicated, shared, invoker, or auto (the default: {@link ThreadingMode#forCores} of the cores here). */
    public static final String THREADING_MODE_PROP_NAME = "splitkernel.runtime.threadingMode";
    public static final String THREADING_MODE_DEFAULT = "auto";

    /** Cores the runtime may count on; default: what the JVM sees. */
    public static final String CORES_PROP_NAME = "splitkernel.runtime.cores";

    /** Idle duty cycles a network agent spins through before it yields, then parks. */
    public static final String SPINS_PROP_NAME = "splitkernel.runtime.idleSpins";
    public static final long SPINS_DEFAULT = 1_000;
    /** With {@link ThreadingMode#DEDICATED}: a thread that is ours spins longer before it backs off. */
    public static final long DEDICATED_SPINS_DEFAULT = 100_000;

    public static final String YIELDS_PROP_NAME = "splitkernel.runtime.idleYields";
    public static final long YIELDS_DEFAULT = 100;

    /** The longest park of an idle network agent: the latency of the first request after a quiet spell. */
    public static final String MAX_PARK_PROP_NAME = "splitkernel.runtime.maxParkNs";
    public static final long MAX_PARK_DEFAULT_NS = 1_000_000;

    /** The longest park of the idle background thread (interval agents: load reports, heartbeats). */
    public static final String BACKGROUND_PARK_PROP_NAME = "splitkernel.runtime.backgroundParkNs";
    public static final long BACKGROUND_PARK_DEFAULT_NS = 5_000_000;

    private String threadingMode = System.getProperty(THREADING_MODE_PROP_NAME, THREADING_MODE_DEFAULT);
    private int cores = Integer.getInteger(CORES_PROP_NAME, Runtime.getRuntime().availableProcessors());
    private long idleSpins = Long.getLong(SPINS_PROP_NAME, -1);
    private long idleYields = Long.getLong(YIELDS_PROP_NAME, YIELDS_DEFAULT);
    private long maxParkNs = Long.getLong(MAX_PARK_PROP_NAME, MAX_PARK_DEFAULT_NS);
    private long backgroundParkNs = Long.getLong(BACKGROUND_PARK_PROP_NAME, BACKGROUND_PARK_DEFAULT_NS);
    private boolean embedded;
    private ThreadingMode resolvedMode;
    private boolean concluded;

    /**
     * Validate every setting and resolve the defaults (the threading mode from the cores). Runs once: a runtime owns
     * its context, and a second conclusion would mean two runtimes share one.
     *
     * @throws IllegalArgumentException naming the setting (and its property) that is wrong.
     * @throws IllegalStateException    if it already ran.
     */
    public MonitorContext conclude()
    {
        if (concluded)
        {
            throw new IllegalStateException("MonitorContext.conclude() already ran: give each runtime its own context");
        }
        if (cores < 1)
        {
            throw new IllegalArgumentException("cores " + cores + " must be at least 1 (" + CORES_PROP_NAME + ")");
        }
        final String mode = threadingMode == null ? THREADING_MODE_DEFAULT : threadingMode.trim()
            .toLowerCase(Locale.ROOT);
        switch (mode)
        {
            case "auto": resolvedMode = ThreadingMode.forCores(cores, embedded); break;
            case "dedicated": resolvedMode = ThreadingMode.DEDICATED; break;
            case "shared": resolvedMode = ThreadingMode.SHARED; break;
            case "invoker": resolvedMode = ThreadingMode.INVOKER; break;
            default:
                throw new IllegalArgumentException("threadingMode '" + threadingMode + "' is unknown ("
                    + THREADING_MODE_PROP_NAME + "): use auto, dedicated, shared or invoker");
        }
        if (idleSpins < 0)
        {
            idleSpins = resolvedMode == ThreadingMode.DEDICATED ? DEDICATED_SPINS_DEFAULT : SPINS_DEFAULT;
        }
        if (idleYields < 0)
        {
            throw new IllegalArgumentException("idleYields " + idleYields + " must not be negative ("
                + YIELDS_PROP_NAME + ")");
        }
        if (maxParkNs < 1_000 || maxParkNs > 100_000_000)
        {
            throw new IllegalArgumentException("maxParkNs " + maxParkNs + " must be within 1 us..100 ms ("
                + MAX_PARK_PROP_NAME + ")");
        }
        if (backgroundParkNs < 100_000 || backgroundParkNs > 1_000_000_000)
        {
            throw new IllegalArgumentException("backgroundParkNs " + backgroundParkNs + " must be within 100 us..1 s ("
                + BACKGROUND_PARK_PROP_NAME + ")");
        }
        concluded = true;
        return this;
    }

    public boolean isConcluded()
    {
        return concluded;
    }

    /**
     * Every peer of the runtime's monitors is in this process (an embedded cluster): the automatic threading mode
     * may then let waiters invoke the servers.
     */
    public MonitorContext embedded(final boolean embedded)
    {
        this.embedded = embedded;
        return this;
    }

    public boolean embedded()
    {
        return embedded;
    }

    /** auto, dedicated, shared or invoker. */
    public MonitorContext threadingMode(final String threadingMode)
    {
        this.threadingMode = threadingMode;
        return this;
    }

    public MonitorContext threadingMode(final ThreadingMode threadingMode)
    {
        this.threadingMode = threadingMode.name();
        return this;
    }

    /** The mode in force (after {@link #conclude()}). */
    public ThreadingMode resolvedThreadingMode()
    {
        return resolvedMode;
    }

    public MonitorContext cores(final int cores)
    {
        this.cores = cores;
        return this;
    }

    public int cores()
    {
        return cores;
    }

    public MonitorContext idleSpins(final long idleSpins)
    {
        this.idleSpins = idleSpins;
        return this;
    }

    public long idleSpins()
    {
        return idleSpins;
    }

    public MonitorContext idleYields(final long idleYields)
    {
        this.idleYields = idleYields;
        return this;
    }

    public long idleYields()
    {
        return idleYields;
    }

    public MonitorContext maxParkNs(final long maxParkNs)
    {
        this.maxParkNs = maxParkNs;
        return this;
    }

    public long maxParkNs()
    {
        return maxParkNs;
    }

    public MonitorContext backgroundParkNs(final long backgroundParkNs)
    {
        this.backgroundParkNs = backgroundParkNs;
        return this;
    }

    public long backgroundParkNs()
    {
        return backgroundParkNs;
    }

    /** Where each distinct error is reported once (stderr by default). */
    @Override
    public String toString()
    {
        return "MonitorContext{threadingMode=" + (resolvedMode != null ? resolvedMode : threadingMode) + ", cores="
            + cores + ", idleSpins=" + idleSpins + ", idleYields=" + idleYields + ", maxParkNs=" + maxParkNs
            + ", backgroundParkNs=" + backgroundParkNs + "}";
    }
}
