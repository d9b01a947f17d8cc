package dev.splitkernel.bench.idle;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * The CPU an idle embedded cluster uses: every monitor (global managers, two memory monitors, a storage and a
 * processor monitor) running, their load reports, heartbeats and membership checks going, and no workload. Measured
 * as this JVM's CPU time over a wall-clock window, after a settling period, as a percentage of one core (target:
 * under 5%). {@code scripts/bench idle [--quick] [seconds] [local|tcp ...]}; a quick run proves it runs and prints no
 * verdict.
 * <p>
 * Not a JMH benchmark: it times nothing per operation, it samples a process's CPU over seconds.
 */
public final class IdleClusterCpu
{
    private static final double TARGET_PERCENT = 5.0;

    private IdleClusterCpu()
    {
    }

    public static void main(final String[] args)
    {
        boolean quick = false;
        long seconds = 10;
        final List<String> fabrics = new ArrayList<>();
        for (final String arg : args)
        {
            if ("--quick".equals(arg))
            {
                quick = true;
            }
            else if (arg.matches("\\d+"))
            {
                seconds = Long.parseLong(arg);
            }
            else if (arg.startsWith("-"))
            {
                System.err.println("usage: scripts/bench idle [--quick] [SECONDS] [local|tcp|rdma ...]");
                System.exit("--help".equals(arg) || "-h".equals(arg) ? 0 : 2);
            }
            else
            {
                fabrics.add(arg);
            }
        }
        if (fabrics.isEmpty())
        {
            fabrics.addAll(List.of("local", "tcp"));
        }
        for (final String fabric : fabrics)
        {
            if (!List.of("local", "tcp", "rdma").contains(fabric))
            {
                System.err.println("error: fabric '" + fabric + "' is not one of local, tcp, rdma");
                System.exit(2);
            }
        }
        if (quick)
        {
            seconds = 1;
        }
        final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();
        boolean met = true;
        for (final String fabric : fabrics)
        {
            try (EmbeddedCluster cluster = EmbeddedCluster.start(new ClusterContext().fabric(fabric).preset("none")))
            {
                // Settle: class loading, JIT of the start-up paths, the first reports.
                parkFor(quick ? 200_000_000L : 2_000_000_000L);
                final long cpu0 = os.getProcessCpuTime();
                final long wall0 = System.nanoTime();
                parkFor(seconds * 1_000_000_000L);
                final long cpuNs = os.getProcessCpuTime() - cpu0;
                final long wallNs = System.nanoTime() - wall0;
                final double percent = 100.0 * cpuNs / wallNs;
                System.out.printf(Locale.ROOT, "idle embedded cluster, %s, threading %s: %.2f%% of one core over %.1f s"
                    + " (%.0f ms of CPU)%s%n", fabric, cluster.runtime().threadingMode(), percent, wallNs / 1e9,
                    cpuNs / 1e6, quick ? " (quick run: no verdict)" :
                    percent < TARGET_PERCENT ? " (target < 5%: met)" : " (target < 5%: MISSED)");
                met &= quick || percent < TARGET_PERCENT;
            }
        }
        System.exit(met ? 0 : 1);
    }

    private static void parkFor(final long ns)
    {
        final long deadlineNs = System.nanoTime() + ns;
        long left;
        while ((left = deadlineNs - System.nanoTime()) > 0)
        {
            LockSupport.parkNanos(left);
        }
    }
}
