package dev.splitkernel.monitor.global;

import dev.splitkernel.monitor.IntervalAgent;
import org.agrona.concurrent.NanoClock;

/**
 * Declares members dead when their heartbeats (load reports) stop: checks the {@link GlobalManager}'s members once
 * per check interval against its member timeout.
 * <p>
 * A check that runs more than one interval late means the GMM itself was not running (a starved process, a long
 * pause): the heartbeats that came meanwhile may still wait unread, so that lateness is not the members' silence.
 * It is forgiven ({@link GlobalManager#forgiveStall}) before the check, so a stalled judge declares no one dead.
 */
public final class MembershipAgent extends IntervalAgent
{
    private final GlobalManager manager;
    private final long checkIntervalNs;
    private long previousCheckNs;

    public MembershipAgent(final GlobalManager manager, final NanoClock clock, final long checkIntervalNs)
    {
        super(clock, checkIntervalNs);
        this.manager = manager;
        this.checkIntervalNs = checkIntervalNs;
        this.previousCheckNs = clock.nanoTime();
    }

    @Override
    protected int onInterval(final long nowNs)
    {
        final long lateNs = nowNs - previousCheckNs - checkIntervalNs;
        previousCheckNs = nowNs;
        if (lateNs > checkIntervalNs)
        {
            manager.forgiveStall(lateNs, nowNs);
        }
        return manager.checkMembers(nowNs);
    }

    @Override
    public String roleName()
    {
        return "global-membership";
    }
}
