package dev.splitkernel.monitor.global;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;

/**
 * Declares members dead when their heartbeats (load reports) stop: checks the {@link GlobalManager}'s members once
 * per check interval against its member timeout.
 * <p>
 * Not thread-safe: owned by its agent runner thread (or by a test calling {@link #doWork()} with its own clock).
 */
public final class MembershipAgent implements Agent
{
    private final GlobalManager manager;
    private final NanoClock clock;
    private final long checkIntervalNs;
    private long deadlineNs;

    public MembershipAgent(final GlobalManager manager, final NanoClock clock, final long checkIntervalNs)
    {
        if (checkIntervalNs <= 0)
        {
            throw new IllegalArgumentException("checkIntervalNs must be positive: " + checkIntervalNs);
        }
        this.manager = manager;
        this.clock = clock;
        this.checkIntervalNs = checkIntervalNs;
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
        deadlineNs = nowNs + checkIntervalNs;
        return manager.checkMembers(nowNs);
    }

    @Override
    public String roleName()
    {
        return "global-membership";
    }
}
