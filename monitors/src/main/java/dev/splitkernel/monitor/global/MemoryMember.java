package dev.splitkernel.monitor.global;

/**
 * What the GMM knows of one memory monitor, from its registration, its load reports and its own placements since
 * the last report.
 * <p>
 * Not thread-safe: owned by the {@link GlobalManager}, which serialises access; policies only read it.
 */
public final class MemoryMember
{
    final int memberId;
    final String address;
    long capacityBytes;
    long committedBytes;
    long usedBytes;
    int ownedVRegions;
    /** What the GMM itself placed here (vRegions not yet freed): a floor under the reported figures. */
    long placedBytes;
    int placedVRegions;
    long lastHeartbeatNs;

    MemoryMember(final int memberId, final String address, final long capacityBytes, final long nowNs)
    {
        this.memberId = memberId;
        this.address = address;
        this.capacityBytes = capacityBytes;
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

    public long capacityBytes()
    {
        return capacityBytes;
    }

    /** Bytes mapped at the member: its last report plus what the GMM placed there since. */
    public long committedBytes()
    {
        return committedBytes;
    }

    public long freeBytes()
    {
        return Math.max(0, capacityBytes - committedBytes);
    }

    public long usedBytes()
    {
        return usedBytes;
    }

    public int ownedVRegions()
    {
        return ownedVRegions;
    }

    /** When the last report arrived ({@link System#nanoTime()}): for membership timeouts. */
    public long lastHeartbeatNs()
    {
        return lastHeartbeatNs;
    }

    /** Committed fraction of the capacity, 0 to 1. */
    public double load()
    {
        return capacityBytes <= 0 ? 1.0 : (double)committedBytes / capacityBytes;
    }

    @Override
    public String toString()
    {
        return "MemoryMember{id=" + memberId + ", address=" + address + ", committed=" + committedBytes + "/" +
            capacityBytes + ", used=" + usedBytes + ", vRegions=" + ownedVRegions + "}";
    }
}
