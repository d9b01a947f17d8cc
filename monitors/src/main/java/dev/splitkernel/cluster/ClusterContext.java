package dev.splitkernel.cluster;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.verbs.FabricContext;

import java.util.List;

/**
 * Configuration of an {@link EmbeddedCluster}: how many monitors, their sizes, the fabric and its timing preset.
 * One {@link #conclude()} validates everything and names the setting at fault.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to {@link EmbeddedCluster#start(ClusterContext)}.
 */
public final class ClusterContext
{
    public static final List<String> FABRICS = List.of("local", "tcp", "rdma");
    public static final List<String> PRESETS = List.of("none", "rdma-cx3", "rdma-cx6", "cxl");
    /**
     * Every request the embedded monitors make of each other waits this long (the global managers' proxies, the
     * memory, storage and processor monitors' requests): a setting, so a slow host (an emulated CPU) can raise it.
     */
    public static final String TIMEOUT_PROP_NAME = "splitkernel.cluster.timeoutNs";
    public static final long TIMEOUT_DEFAULT_NS = 2_000_000_000L;

    private String fabric = "local";
    private String preset = "rdma-cx3";
    private String timingMode = FabricContext.TIMING_MODE_INJECT;
    private int memoryMonitors = 2;
    private long memoryCapacityBytes = MemoryMonitorContext.CAPACITY_BYTES_DEFAULT;
    private int memoryWorkers = MemoryMonitorContext.WORKERS_DEFAULT;
    private long vRegionBytes = MemoryMonitorContext.VREGION_BYTES_DEFAULT;
    private ExCacheContext excache = new ExCacheContext();
    private boolean oneSided = true;
    /** Off in embedded clusters (the main job's slowdowns compare with LegoOS's, measured without replication). */
    private boolean replication;
    private long timeoutNs = Long.getLong(TIMEOUT_PROP_NAME, TIMEOUT_DEFAULT_NS);
    private boolean busyPoll = Boolean.parseBoolean(System.getProperty(FabricContext.BUSY_POLL_PROP_NAME, "true"));
    private String threadingMode = System.getProperty(
        dev.splitkernel.monitor.runtime.MonitorContext.THREADING_MODE_PROP_NAME,
        dev.splitkernel.monitor.runtime.MonitorContext.THREADING_MODE_DEFAULT);
    private boolean concluded;

    public ClusterContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (!FABRICS.contains(fabric))
        {
            throw new IllegalArgumentException("fabric '" + fabric + "' is not one of " + FABRICS);
        }
        if (!PRESETS.contains(preset))
        {
            throw new IllegalArgumentException("preset '" + preset + "' is not one of " + PRESETS);
        }
        if (!FabricContext.TIMING_MODES.contains(timingMode))
        {
            throw new IllegalArgumentException("timing mode '" + timingMode + "' is not one of "
                + FabricContext.TIMING_MODES);
        }
        if (memoryMonitors < 1 || memoryMonitors > 64)
        {
            throw new IllegalArgumentException("memoryMonitors " + memoryMonitors + " must be in 1..64");
        }
        if (memoryCapacityBytes <= 0)
        {
            throw new IllegalArgumentException("memoryCapacityBytes " + memoryCapacityBytes + " must be positive");
        }
        if (memoryWorkers < 1)
        {
            throw new IllegalArgumentException("memoryWorkers " + memoryWorkers + " must be at least 1");
        }
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("timeoutNs " + timeoutNs + " must be positive (" + TIMEOUT_PROP_NAME
                + ")");
        }
        excache.conclude();
        concluded = true;
        return this;
    }

    /**
     * local (default, all monitors in this JVM over the in-process fabric), tcp (loopback) or rdma (real verbs on
     * this host's RDMA device: every monitor its own fabric, connected through the device's loopback).
     */
    public ClusterContext fabric(final String fabric)
    {
        this.fabric = fabric;
        concluded = false;
        return this;
    }

    public String fabric()
    {
        return fabric;
    }

    /** Timing preset of the local fabric: none, rdma-cx3 (default), rdma-cx6, cxl. Ignored by tcp. */
    public ClusterContext preset(final String preset)
    {
        this.preset = preset;
        concluded = false;
        return this;
    }

    public String preset()
    {
        return preset;
    }

    /**
     * How the local fabric charges its timing model: inject (busy-wait, the default) or account (add the cost to
     * the waiting thread's {@link dev.splitkernel.verbs.VirtualClock}). Ignored by tcp.
     */
    public ClusterContext timingMode(final String timingMode)
    {
        this.timingMode = timingMode;
        concluded = false;
        return this;
    }

    public String timingMode()
    {
        return timingMode;
    }

    public ClusterContext memoryMonitors(final int memoryMonitors)
    {
        this.memoryMonitors = memoryMonitors;
        concluded = false;
        return this;
    }

    public int memoryMonitors()
    {
        return memoryMonitors;
    }

    /** Capacity of each memory monitor. */
    public ClusterContext memoryCapacityBytes(final long memoryCapacityBytes)
    {
        this.memoryCapacityBytes = memoryCapacityBytes;
        concluded = false;
        return this;
    }

    public long memoryCapacityBytes()
    {
        return memoryCapacityBytes;
    }

    public ClusterContext memoryWorkers(final int memoryWorkers)
    {
        this.memoryWorkers = memoryWorkers;
        concluded = false;
        return this;
    }

    public int memoryWorkers()
    {
        return memoryWorkers;
    }

    public ClusterContext vRegionBytes(final long vRegionBytes)
    {
        this.vRegionBytes = vRegionBytes;
        concluded = false;
        return this;
    }

    public long vRegionBytes()
    {
        return vRegionBytes;
    }

    /** The processor's ExCache settings (capacity, ways, policy, ...). */
    public ClusterContext excache(final ExCacheContext excache)
    {
        this.excache = excache;
        concluded = false;
        return this;
    }

    public ExCacheContext excache()
    {
        return excache;
    }

    public ClusterContext oneSided(final boolean oneSided)
    {
        this.oneSided = oneSided;
        return this;
    }

    public boolean oneSided()
    {
        return oneSided;
    }

    /** Memory replication: each vRegion also on a secondary memory monitor, failed over to it (the GMM's switch). */
    public ClusterContext replication(final boolean replication)
    {
        this.replication = replication;
        return this;
    }

    public boolean replication()
    {
        return replication;
    }

    public ClusterContext timeoutNs(final long timeoutNs)
    {
        this.timeoutNs = timeoutNs;
        concluded = false;
        return this;
    }

    public long timeoutNs()
    {
        return timeoutNs;
    }

    /**
     * tcp and rdma: spin on the sockets or completion queues instead of sleeping in the kernel (default true, or
     * splitkernel.fabric.busyPoll: a machine with fewer cores than spinning threads sets it false).
     */
    public ClusterContext busyPoll(final boolean busyPoll)
    {
        this.busyPoll = busyPoll;
        return this;
    }

    public boolean busyPoll()
    {
        return busyPoll;
    }

    /** How the cluster's runtime runs the monitors' agents: auto (default, from the cores), dedicated, shared, invoker. */
    public ClusterContext threadingMode(final String threadingMode)
    {
        this.threadingMode = threadingMode;
        return this;
    }

    public String threadingMode()
    {
        return threadingMode;
    }
}
