package dev.splitkernel.monitor.runtime;

import dev.splitkernel.monitor.IntervalAgent;
import dev.splitkernel.monitor.status.MonitorStatus;
import org.agrona.concurrent.SystemNanoClock;

/**
 * Publishes a status file (gauges, histograms, heartbeat) every interval, on the background thread: a monitor's
 * ({@link MonitorResources}) or a peer's ({@link MonitorRuntime#peerErrors}). Without it the heartbeat stops and
 * {@code stat} calls the file's process dead although it runs.
 */
final class StatusPublisher extends IntervalAgent
{
    private final MonitorStatus status;

    StatusPublisher(final MonitorStatus status)
    {
        super(SystemNanoClock.INSTANCE, status.intervalMs() * 1_000_000L);
        this.status = status;
    }

    @Override
    protected int onInterval(final long nowNs)
    {
        status.publish();
        return 1;
    }

    @Override
    public String roleName()
    {
        return "status-publisher " + status.monitorName();
    }
}
