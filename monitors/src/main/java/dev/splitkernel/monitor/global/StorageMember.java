package dev.splitkernel.monitor.global;

/**
 * What the GSM knows of one storage monitor, from its registration and its load reports. Its {@code name} is the
 * monitor's persistent identity: a restart on the same data directory registers under the same name and gets this
 * member (and its vNodes) back at a new address.
 * <p>
 * Not thread-safe: owned by the {@link GlobalManager}, which serialises access.
 */
final class StorageMember
{
    final int memberId;
    final String name;
    String address;
    long capacityBytes;
    long usedBytes;
    int files;
    long lastHeartbeatNs;

    StorageMember(final int memberId, final String name, final String address, final long capacityBytes,
        final long nowNs)
    {
        this.memberId = memberId;
        this.name = name;
        this.address = address;
        this.capacityBytes = capacityBytes;
        this.lastHeartbeatNs = nowNs;
    }

    @Override
    public String toString()
    {
        return "StorageMember{id=" + memberId + ", name=" + name + ", address=" + address + ", used=" + usedBytes +
            "/" + capacityBytes + ", files=" + files + "}";
    }
}
