package dev.splitkernel.cli;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets the JVM's own background work finish before a timed run, so that it does not share the machine with the run
 * (on 2 cores a compiler or collector thread takes the other core, and with it part of the shared cache and memory
 * bandwidth, which a memory-bound run's CPU time feels): a collection now, for the garbage of the runs before (and the
 * off-heap buffers only a collection frees), then a wait, at most {@value #MAX_WAIT_MS} ms, until the JIT compilers'
 * total compilation time has not grown for {@value #QUIET_MS} ms. Untimed: called before the run's clocks start.
 */
final class JvmQuiet
{
    static final long MAX_WAIT_MS = 2_000;
    static final long QUIET_MS = 50;
    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();

    private JvmQuiet()
    {
    }

    static void settle()
    {
        System.gc();
        if (JIT == null || !JIT.isCompilationTimeMonitoringSupported())
        {
            return;
        }
        final long deadlineNs = System.nanoTime() + MAX_WAIT_MS * 1_000_000;
        long compiled = JIT.getTotalCompilationTime();
        while (System.nanoTime() - deadlineNs < 0)
        {
            LockSupport.parkNanos(QUIET_MS * 1_000_000);
            final long now = JIT.getTotalCompilationTime();
            if (now == compiled)
            {
                return;
            }
            compiled = now;
        }
    }
}
