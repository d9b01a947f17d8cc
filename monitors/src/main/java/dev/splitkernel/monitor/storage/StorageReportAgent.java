package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.IntervalAgent;
import org.agrona.concurrent.NanoClock;

/**
 * Sends the storage monitor's load report (its heartbeat: used bytes and files) to the global manager every
 * interval.
 */
final class StorageReportAgent extends IntervalAgent
{
    private final StorageMonitor monitor;

    StorageReportAgent(final StorageMonitor monitor, final NanoClock clock, final long intervalNs)
    {
        super(clock, intervalNs);
        this.monitor = monitor;
    }

    @Override
    protected int onInterval(final long nowNs)
    {
        monitor.reportLoadNow();
        return 1;
    }

    @Override
    public String roleName()
    {
        return "storage-" + monitor.memberId() + "-load-report";
    }
}
