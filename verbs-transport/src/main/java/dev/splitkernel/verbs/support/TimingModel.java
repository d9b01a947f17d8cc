package dev.splitkernel.verbs.support;

import dev.splitkernel.verbs.FabricContext;

/**
 * The cost of an emulated network operation: {@code latency + bytes / bandwidth}, charged by busy-waiting in the
 * caller's thread until a deadline counted from the operation's start. Busy-waiting needs no spare core and keeps
 * the charge accurate from about a microsecond up; sleeping would cost tens of microseconds of wake-up.
 * <p>
 * Thread-safe: immutable.
 */
public final class TimingModel
{
    private final long opLatencyNs;
    private final long rpcLatencyNs;
    private final double nsPerByte;
    private final boolean free;

    public TimingModel(final FabricContext ctx)
    {
        this(ctx.opLatencyNs(), ctx.rpcLatencyNs(), ctx.bandwidthBytesPerSecond());
    }

    public TimingModel(final long opLatencyNs, final long rpcLatencyNs, final long bandwidthBytesPerSecond)
    {
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

    /** Busy-wait until {@code deadlineNs} (System.nanoTime() time base). */
    public static void spinUntil(final long deadlineNs)
    {
        while (System.nanoTime() - deadlineNs < 0)
        {
            Thread.onSpinWait();
        }
    }
}
