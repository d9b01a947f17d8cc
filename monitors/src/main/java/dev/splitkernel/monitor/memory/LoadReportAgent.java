package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.IntervalAgent;
import org.agrona.concurrent.NanoClock;

/** Sends the memory monitor's load report (its heartbeat) to the GMM every interval. */
final class LoadReportAgent extends IntervalAgent
{
    private final MemoryMonitor monitor;

    LoadReportAgent(final MemoryMonitor monitor, final NanoClock clock, final long intervalNs)
    {
        super(clock, intervalNs);
        this.monitor = monitor;
    }

    @Override
    protected int onInterval(final long nowNs)
    {
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
