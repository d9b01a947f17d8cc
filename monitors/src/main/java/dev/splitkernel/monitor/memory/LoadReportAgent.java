package dev.splitkernel.monitor.memory;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

/**
 * Sends the memory monitor's load report (its heartbeat) to the GMM every interval.
 * <p>
 * Not thread-safe: owned by its agent runner thread (or by a test calling {@link #doWork()} with its own clock).
 */
final class LoadReportAgent implements Agent
{
    private final MemoryMonitor monitor;
    private final NanoClock clock;
    private final long intervalNs;
    private long deadlineNs;

    LoadReportAgent(final MemoryMonitor monitor, final NanoClock clock, final long intervalNs)
    {
        this.monitor = monitor;
        this.clock = clock;
        this.intervalNs = intervalNs;
        this.deadlineNs = clock.nanoTime();
    }

    @Override
    public int doWork()
    {
        final long nowNs = clock.nanoTime();
        if (nowNs - deadlineNs < 0)
        {
            return 0;
        }
        deadlineNs = nowNs + intervalNs;
        final int result = monitor.reportLoadNow();
        monitor.counters().increment(result < 0 ?
            MemoryMonitorCounters.LOAD_REPORT_FAILURES : MemoryMonitorCounters.LOAD_REPORTS);
        return 1;
    }

    @Override
    public String roleName()
    {
        return "memory-" + monitor.memberId() + "-load-report";
    }
}
