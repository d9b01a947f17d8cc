package dev.splitkernel.verbs.support;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.VirtualClock;

/**
 * The cost of an emulated network operation: {@code latency + bytes / bandwidth}, paid until a deadline counted from
 * the operation's start. In the {@code inject} mode the caller busy-waits: that needs no spare core and keeps the
 * charge accurate from about a microsecond up (sleeping would cost tens of microseconds of wake-up). In the
 * {@code account} mode the time left until the deadline goes to the caller's {@link VirtualClock} instead.
 * <p>
 * Thread-safe: immutable.
 */
public final class TimingModel
{
    private final long opLatencyNs;
    private final long rpcLatencyNs;
    private final double nsPerByte;
    private final boolean free;
    private final boolean account;

    public TimingModel(final FabricContext ctx)
    {
        this(ctx.opLatencyNs(), ctx.rpcLatencyNs(), ctx.bandwidthBytesPerSecond(),
            FabricContext.TIMING_MODE_ACCOUNT.equals(ctx.timingMode()));
    }

    public TimingModel(final long opLatencyNs, final long rpcLatencyNs, final long bandwidthBytesPerSecond)
    {
        this(opLatencyNs, rpcLatencyNs, bandwidthBytesPerSecond, false);
    }

    public TimingModel(
        final long opLatencyNs, final long rpcLatencyNs, final long bandwidthBytesPerSecond, final boolean account)
    {
        this.account = account;
        this.opLatencyNs = opLatencyNs;
        this.rpcLatencyNs = rpcLatencyNs;
        this.nsPerByte = bandwidthBytesPerSecond <= 0 ? 0.0 : 1e9 / bandwidthBytesPerSecond;
        this.free = opLatencyNs == 0 && rpcLatencyNs == 0 && nsPerByte == 0.0;
    }

    /** True when every operation costs nothing: callers can skip reading the clock. */
    public boolean isFree()
    {
        return free;
    }

    public long oneSidedNs(final int bytes)
    {
        return opLatencyNs + (long)(bytes * nsPerByte);
    }

    public long rpcNs(final int requestBytes, final int replyBytes)
    {
        return rpcLatencyNs + (long)(((long)requestBytes + replyBytes) * nsPerByte);
    }

    /** True in the {@code account} mode: costs go to the caller's virtual clock, nobody waits. */
    public boolean isAccounted()
    {
        return account;
    }

    /** Pay an operation that started at {@code startNs} and costs {@code costNs}: wait for it, or account it. */
    public void pay(final long startNs, final long costNs)
    {
        if (account)
        {
            VirtualClock.charge(startNs + costNs - System.nanoTime(), costNs);
        }
        else
        {
            spinUntil(startNs + costNs);
        }
    }

    /** Pay {@code costNs} from now (an RPC's network time, after its handler ran). */
    public void pay(final long costNs)
    {
        if (account)
        {
            VirtualClock.charge(costNs, costNs);
        }
        else
        {
            spinUntil(System.nanoTime() + costNs);
        }
    }

    /** Busy-wait until {@code deadlineNs} (System.nanoTime() time base). */
    public static void spinUntil(final long deadlineNs)
    {
        while (System.nanoTime() - deadlineNs < 0)
        {
            Thread.onSpinWait();
        }
    }
}
