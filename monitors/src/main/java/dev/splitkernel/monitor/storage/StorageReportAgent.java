package dev.splitkernel.monitor.storage;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

/**
 * Sends the storage monitor's load report (its heartbeat: used bytes and files) to the global manager every
 * interval.
 * <p>
 * Not thread-safe: owned by its agent runner thread (or by a test calling {@link #doWork()} with its own clock).
 */
final class StorageReportAgent implements Agent
{
    private final StorageMonitor monitor;
    private final NanoClock clock;
    private final long intervalNs;
    private long deadlineNs;

    StorageReportAgent(final StorageMonitor monitor, final NanoClock clock, final long intervalNs)
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
        monitor.reportLoadNow();
        return 1;
    }

    @Override
    public String roleName()
    {
        return "storage-" + monitor.memberId() + "-load-report";
    }
}
