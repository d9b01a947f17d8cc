package dev.splitkernel.monitor.runtime;

/**
 * How a {@link MonitorRuntime} maps agents to threads, as Aeron's threading mode. Whatever the mode, idle strategies
 * back off (spin, then yield, then park): no runtime thread spins without bound, and the background agents (load
 * reports, heartbeats, membership checks, which may wait on a peer) share one thread that parks when idle.
 */
public enum ThreadingMode
{
    /**
     * A testbed host: each network agent (a fabric's poller) on its own busy-polling thread, as long as that leaves
     * a core for the work; the rest share one thread.
     */
    DEDICATED,

    /** A small machine: every network agent of the process on one shared thread. */
    SHARED,

    /**
     * No network thread at all: the threads that wait on the network drive the network agents themselves (a tcp
     * waiter invokes them while it polls for its reply, so a round trip between two monitors of one process runs in
     * one thread), as does {@link MonitorRuntime#invoke()}. The background thread invokes them too when nobody has
     * for a millisecond, so a request from outside the process is still served.
     */
    INVOKER;

    /**
     * The default for a machine with {@code cores} cores: dedicated threads from 4 cores up; below, an embedded
     * cluster (every peer in this process) invokes, a monitor serving other processes shares one thread.
     */
    public static ThreadingMode forCores(final int cores, final boolean embedded)
    {
        return cores >= 4 ? DEDICATED : embedded ? INVOKER : SHARED;
    }
}
