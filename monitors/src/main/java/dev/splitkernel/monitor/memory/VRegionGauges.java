package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.status.MonitorStatus;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * The memory used per vRegion (bytes of vmas committed in it), one counter each in the status file: added when the
 * monitor comes to own a vRegion, freed when it stops. Refreshed at each publication of the status.
 * <p>
 * Not thread-safe: run by the status publication (one thread at a time).
 */
final class VRegionGauges implements Runnable
{
    private final MonitorStatus status;
    private final VmaOwner owner;
    private final Long2ObjectHashMap<AtomicCounter> counters = new Long2ObjectHashMap<>();

    VRegionGauges(final MonitorStatus status, final VmaOwner owner)
    {
        this.status = status;
        this.owner = owner;
    }

    @Override
    public void run()
    {
        final Long2ObjectHashMap<VRegion> regions = owner.regions();
        counters.entrySet().removeIf(e ->
        {
            if (regions.containsKey(e.getKey()))
            {
                return false;
            }
            e.getValue().close();
            return true;
        });
        regions.forEach((key, region) ->
        {
            AtomicCounter counter = counters.get(key);
            if (counter == null && status.hasRoomForCounters())
            {
                counter = status.newCounter("memory: vRegion " + region.index + " of pid " + region.asid
                    + " committed bytes", MonitorStatus.TYPE_VREGION_BYTES);
                counters.put(key, counter);
            }
            if (counter != null)
            {
                counter.setRelease(region.committedBytes);
            }
        });
    }
}
