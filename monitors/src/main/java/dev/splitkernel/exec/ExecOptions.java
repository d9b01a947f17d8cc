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
 */
public record ExecOptions(List<String> command, long excacheBytes, String fabric, String preset, String policy,
    long spinNs, long arenaBytes, int memoryMonitors)
{
    public static final long UNLIMITED = Long.MAX_VALUE;
    public static final long ARENA_BYTES_DEFAULT = 16L << 30;

    /** Defaults: no ExCache limit, local fabric without timing model, FIFO, no spinning, 16 GiB arena. */
    public static ExecOptions of(final List<String> command)
    {
        return new ExecOptions(command, UNLIMITED, "local", "none", "fifo", 0, ARENA_BYTES_DEFAULT, 2);
    }

    public ExecOptions withExcacheBytes(final long bytes)
    {
        return new ExecOptions(command, bytes, fabric, preset, policy, spinNs, arenaBytes, memoryMonitors);
    }

    public ExecOptions withPolicy(final String p)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, p, spinNs, arenaBytes, memoryMonitors);
    }

    public ExecOptions withFabric(final String f, final String timing)
    {
        return new ExecOptions(command, excacheBytes, f, timing, policy, spinNs, arenaBytes, memoryMonitors);
    }

    public ExecOptions withSpinNs(final long ns)
    {
        return new ExecOptions(command, excacheBytes, fabric, preset, policy, ns, arenaBytes, memoryMonitors);
    }

    public ExecOptions withCommand(final List<String> c)
    {
        return new ExecOptions(c, excacheBytes, fabric, preset, policy, spinNs, arenaBytes, memoryMonitors);
    }
}
