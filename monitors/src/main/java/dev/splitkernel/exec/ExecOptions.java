package dev.splitkernel.exec;

import java.util.List;

/**
 * How to run one program under {@code splitkernel exec}.
 *
 * @param command       the program and its arguments
 * @param excacheBytes  the most heap bytes resident in the program at once (rounded down to pages, at least one)
 * @param fabric        local or tcp (the cluster's fabric)
 * @param preset        the local fabric's timing model (none, rdma-cx3, rdma-cx6, cxl)
 * @param policy        fifo or clock
 * @param spinNs        how long the fault handler spins for the next fault before it sleeps in poll()
 * @param arenaBytes    the heap arena the preload library reserves (virtual; the program's heap limit)
 * @param memoryMonitors memory monitors in the embedded cluster
 * @param user          the user (name or uid) the program runs as, its credentials dropped before it starts; null
 *                      runs it as the caller
 */
public record ExecOptions(List<String> command, long excacheBytes, String fabric, String preset, String policy,
    long spinNs, long arenaBytes, int memoryMonitors, String user)
{
    public static final long UNLIMITED = Long.MAX_VALUE;
    public static final long ARENA_BYTES_DEFAULT = 16L << 30;

    /** Defaults: no ExCache limit, local fabric without timing model, FIFO, no spinning, 16 GiB arena. */
    public static ExecOptions of(final List<String> command)
    {
        return new ExecOptions(command, UNLIMITED, "local", "none", "fifo", 0, ARENA_BYTES_DEFAULT, 2, null);
    }

    public ExecOptions withExcacheBytes(final long bytes)
    {
        return new ExecOptions(command, bytes, fabric, preset, policy, spinNs, arenaBytes, memoryMonitors, user);
    }

    public ExecOptions withPolicy(final String p)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, p, spinNs, arenaBytes, memoryMonitors, user);
    }

    public ExecOptions withFabric(final String f, final String timing)
    {
        return new ExecOptions(command, excacheBytes, f, timing, policy, spinNs, arenaBytes, memoryMonitors, user);
    }

    public ExecOptions withSpinNs(final long ns)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, policy, ns, arenaBytes, memoryMonitors, user);
    }

    public ExecOptions withMemoryMonitors(final int n)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, policy, spinNs, arenaBytes, n, user);
    }

    public ExecOptions withArenaBytes(final long bytes)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, policy, spinNs, bytes, memoryMonitors, user);
    }

    public ExecOptions withUser(final String u)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, policy, spinNs, arenaBytes, memoryMonitors, u);
    }

    public ExecOptions withCommand(final List<String> c)
    {
        return new ExecOptions(c, excacheBytes, fabric, preset, policy, spinNs, arenaBytes, memoryMonitors, user);
    }
}
