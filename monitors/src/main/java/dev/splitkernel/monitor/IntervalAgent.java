package dev.splitkernel.monitor;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

/**
 * An agent whose work comes once per interval: heartbeats, load reports, membership checks. The first interval
 * fires at the first duty cycle, so a monitor reports as soon as it starts.
 * <p>
 * Not thread-safe: owned by its agent runner thread (or by a test calling {@link #doWork()} with its own clock).
 */
public abstract class IntervalAgent implements Agent
{
    private final NanoClock clock;
    private final long intervalNs;
    private long deadlineNs;

    protected IntervalAgent(final NanoClock clock, final long intervalNs)
    {
        if (intervalNs <= 0)
        {
            throw new IllegalArgumentException("intervalNs must be positive: " + intervalNs);
        }
        this.clock = clock;
        this.intervalNs = intervalNs;
        this.deadlineNs = clock.nanoTime();
    }

    @Override
    public final int doWork()
    {
        final long nowNs = clock.nanoTime();
        if (nowNs - deadlineNs < 0)
        {
            return 0;
        }
        deadlineNs = nowNs + intervalNs;
        return onInterval(nowNs);
    }

    /**
     * The periodic work.
     *
     * @return how much work was done, for the idle strategy.
     */
    protected abstract int onInterval(long nowNs);
}
