package dev.splitkernel.monitor.global;

import dev.splitkernel.monitor.IntervalAgent;
import org.agrona.concurrent.NanoClock;

/**
 * Declares members dead when their heartbeats (load reports) stop: checks the {@link GlobalManager}'s members once
 * per check interval against its member timeout.
 */
public final class MembershipAgent extends IntervalAgent
{
    private final GlobalManager manager;

    public MembershipAgent(final GlobalManager manager, final NanoClock clock, final long checkIntervalNs)
    {
        super(clock, checkIntervalNs);
        this.manager = manager;
    }

    @Override
    protected int onInterval(final long nowNs)
    {
        return manager.checkMembers(nowNs);
    }

    @Override
    public String roleName()
    {
        return "global-membership";
    }
}
