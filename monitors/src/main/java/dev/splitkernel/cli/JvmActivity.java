package dev.splitkernel.cli;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the JVM and the kernel did to the whole process during a run, beside the run's own work: collection and
 * compilation time (milliseconds, as the JVM counts them) and page faults. Process-wide: with an embedded cluster
 * they include the monitors' threads. The run command keeps them per sample so that a slow sample can be told apart
 * (a collection, a compile, a fault burst) from one whose work grew.
 *
 * @param gcMs         collectors' total collection time.
 * @param jitMs        JIT compilers' total compilation time (0 when the JVM does not count it).
 * @param minorFaults  the process's minor page faults (0 where /proc/self/stat cannot be read).
 * @param majorFaults  its major page faults.
 */
record JvmActivity(long gcMs, long jitMs, long minorFaults, long majorFaults)
{
    static final JvmActivity NONE = new JvmActivity(0, 0, 0, 0);
    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    static JvmActivity now()
    {
        long gc = 0;
        for (final GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans())
        {
            gc += Math.max(0, bean.getCollectionTime());
        }
        final long jit = JIT != null && JIT.isCompilationTimeMonitoringSupported() ? JIT.getTotalCompilationTime() : 0;
        final long[] faults = faults();
        return new JvmActivity(gc, jit, faults[0], faults[1]);
    }

    /** What happened between {@code before} and this. */
    JvmActivity since(final JvmActivity before)
    {
        return new JvmActivity(gcMs - before.gcMs, jitMs - before.jitMs, minorFaults - before.minorFaults,
            majorFaults - before.majorFaults);
    }

    /** Minor and major faults from /proc/self/stat (fields 10 and 12, counted after the command's closing paren). */
    private static long[] faults()
    {
        try
        {
            final String stat = Files.readString(Path.of("/proc/self/stat"));
            final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[]{Long.parseLong(f[7]), Long.parseLong(f[9])};
        }
        catch (final IOException | RuntimeException ex)
        {
            return new long[]{0, 0};
        }
    }
}
