package dev.splitkernel.monitor.global;

/**
 * What the GPM knows of one processor monitor.
 * <p>
 * Not thread-safe: owned by the {@link GlobalManager}.
 */
public final class ProcessorMember
{
    final int memberId;
    final String address;
    int runningThreads;
    long lastHeartbeatNs;

    ProcessorMember(final int memberId, final String address, final long nowNs)
    {
        this.memberId = memberId;
        this.address = address;
        this.lastHeartbeatNs = nowNs;
    }

    public int memberId()
    {
        return memberId;
    }

    public String address()
    {
        return address;
    }

    /** Threads running at the last report, plus processes placed there since. */
    public int runningThreads()
    {
        return runningThreads;
    }

    public long lastHeartbeatNs()
    {
        return lastHeartbeatNs;
    }

    @Override
    public String toString()
    {
        return "ProcessorMember{id=" + memberId + ", address=" + address + ", threads=" + runningThreads + "}";
    }
}
