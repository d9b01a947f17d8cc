package dev.splitkernel.monitor.processor;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;

/**
 * Configuration of a {@link ProcessorMonitor}: defaults and property names in one place, fluent setters, and one
 * {@link #conclude()} that validates everything and names the setting at fault.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to the monitor.
 */
public final class ProcessorMonitorContext
{
    /** The global manager's listen address: the same property the memory monitors read. */
    public static final String GLOBAL_ADDRESS_PROP_NAME = MemoryMonitorContext.GLOBAL_ADDRESS_PROP_NAME;
    public static final String LISTEN_ADDRESS_PROP_NAME = "splitkernel.processor.listen";
    public static final String LISTEN_ADDRESS_DEFAULT = "processor";


    /** Re-read lines whose page address is known with a one-sided READ instead of an RPC. */
    public static final String ONE_SIDED_PROP_NAME = "splitkernel.processor.oneSided";
    /** Must match the memory monitors': the same property they read. */
    public static final String VREGION_BYTES_PROP_NAME = MemoryMonitorContext.VREGION_BYTES_PROP_NAME;
    public static final long VREGION_BYTES_DEFAULT = 1L << 30;
    public static final String TIMEOUT_PROP_NAME = "splitkernel.processor.timeoutNs";
    public static final long TIMEOUT_DEFAULT_NS = 2_000_000_000L;
    /**
     * How long a miss whose owner is down (declared dead by the global managers, or failing) waits for a new owner
     * pushed by them (a replica) or for the owner to come back, before it fails with EHOSTDOWN.
     */
    public static final String OWNER_WAIT_PROP_NAME = "splitkernel.processor.ownerWaitNs";
    public static final long OWNER_WAIT_DEFAULT_NS = 2_000_000_000L;
    /**
     * How many piggybacked victims this processor keeps while their owner's secondary has not acknowledged them (so
     * a miss need not wait for the secondary); 0 waits for it on every miss, as without replication. When they are
     * all taken, a miss first waits (at most its timeout) for acknowledgements, then writes its victim back and
     * waits for its secondary.
     */
    public static final String PENDING_WRITE_BACKS_PROP_NAME = "splitkernel.processor.pendingWriteBacks";
    public static final int PENDING_WRITE_BACKS_DEFAULT = 256;
    public static final String REPORT_INTERVAL_PROP_NAME = "splitkernel.processor.reportIntervalNs";
    public static final long REPORT_INTERVAL_DEFAULT_NS = 100_000_000L;

    private String globalAddress = System.getProperty(GLOBAL_ADDRESS_PROP_NAME);
    private String listenAddress = System.getProperty(LISTEN_ADDRESS_PROP_NAME, LISTEN_ADDRESS_DEFAULT);
    private ExCacheContext excache;
    private boolean oneSided = Boolean.parseBoolean(System.getProperty(ONE_SIDED_PROP_NAME, "true"));
    private long vRegionBytes = Long.getLong(VREGION_BYTES_PROP_NAME, VREGION_BYTES_DEFAULT);
    private long timeoutNs = Long.getLong(TIMEOUT_PROP_NAME, TIMEOUT_DEFAULT_NS);
    private long ownerWaitNs = Long.getLong(OWNER_WAIT_PROP_NAME, OWNER_WAIT_DEFAULT_NS);
    private long reportIntervalNs = Long.getLong(REPORT_INTERVAL_PROP_NAME, REPORT_INTERVAL_DEFAULT_NS);
    private int pendingWriteBacks = Integer.getInteger(PENDING_WRITE_BACKS_PROP_NAME, PENDING_WRITE_BACKS_DEFAULT);
    private Fabric fabric;
    private dev.splitkernel.monitor.runtime.MonitorRuntime runtime;
    private FabricContext fabricContext;
    private boolean concluded;

    /**
     * Validate every setting; create the fabric from {@link #fabricContext} when no {@link #fabric} was given.
     *
     * @throws IllegalArgumentException naming the setting (and its property) that is wrong.
     */
    public ProcessorMonitorContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (globalAddress == null || globalAddress.isBlank())
        {
            throw new IllegalArgumentException("globalAddress is not set (" + GLOBAL_ADDRESS_PROP_NAME
                + "): the global manager's listen address");
        }
        if (listenAddress == null || listenAddress.isBlank())
        {
            throw new IllegalArgumentException("listenAddress is empty (" + LISTEN_ADDRESS_PROP_NAME + ")");
        }
        if (excache == null)
        {
            excache = new ExCacheContext();
        }
        excache.conclude();
        final int lineBytes = excache.lineBytes();
        if (vRegionBytes < lineBytes || Long.bitCount(vRegionBytes) != 1 || vRegionBytes > (1L << 40))
        {
            throw new IllegalArgumentException("vRegionBytes " + vRegionBytes + " must be a power of two between "
                + "the line size and 1 TiB (" + VREGION_BYTES_PROP_NAME + ")");
        }
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("timeoutNs " + timeoutNs + " must be positive (" + TIMEOUT_PROP_NAME
                + ")");
        }
        if (ownerWaitNs < 0)
        {
            throw new IllegalArgumentException("ownerWaitNs " + ownerWaitNs + " must be >= 0 (" + OWNER_WAIT_PROP_NAME
                + ")");
        }
        if (pendingWriteBacks < 0)
        {
            throw new IllegalArgumentException("pendingWriteBacks " + pendingWriteBacks + " must be >= 0 ("
                + PENDING_WRITE_BACKS_PROP_NAME + ")");
        }
        if (reportIntervalNs <= 0)
        {
            throw new IllegalArgumentException("reportIntervalNs " + reportIntervalNs + " must be positive ("
                + REPORT_INTERVAL_PROP_NAME + ")");
        }
        if (fabric == null)
        {
            if (fabricContext == null)
            {
                fabricContext = new FabricContext();
            }
            fabricContext.conclude();
        }
        concluded = true;
        return this;
    }

    public ProcessorMonitorContext globalAddress(final String globalAddress)
    {
        this.globalAddress = globalAddress;
        concluded = false;
        return this;
    }

    public String globalAddress()
    {
        return globalAddress;
    }

    public ProcessorMonitorContext listenAddress(final String listenAddress)
    {
        this.listenAddress = listenAddress;
        concluded = false;
        return this;
    }

    public String listenAddress()
    {
        return listenAddress;
    }

    /** The ExCache's settings (capacity, line size, ways, policy, piggyback, victim cache); the monitor supplies
     *  its segment allocator. Defaults come from the ExCache's system properties. */
    public ProcessorMonitorContext excache(final ExCacheContext excache)
    {
        this.excache = excache;
        concluded = false;
        return this;
    }

    public ExCacheContext excache()
    {
        return excache;
    }

    public ProcessorMonitorContext oneSided(final boolean oneSided)
    {
        this.oneSided = oneSided;
        return this;
    }

    public boolean oneSided()
    {
        return oneSided;
    }

    public ProcessorMonitorContext vRegionBytes(final long vRegionBytes)
    {
        this.vRegionBytes = vRegionBytes;
        concluded = false;
        return this;
    }

    public long vRegionBytes()
    {
        return vRegionBytes;
    }

    /** The timeout of every remote wait (miss, write-back, system call, global manager). */
    public ProcessorMonitorContext timeoutNs(final long timeoutNs)
    {
        this.timeoutNs = timeoutNs;
        concluded = false;
        return this;
    }

    public long timeoutNs()
    {
        return timeoutNs;
    }

    /** See {@link #OWNER_WAIT_PROP_NAME}; 0 fails such a miss at once. */
    public ProcessorMonitorContext ownerWaitNs(final long ownerWaitNs)
    {
        this.ownerWaitNs = ownerWaitNs;
        concluded = false;
        return this;
    }

    public long ownerWaitNs()
    {
        return ownerWaitNs;
    }

    public ProcessorMonitorContext pendingWriteBacks(final int pendingWriteBacks)
    {
        this.pendingWriteBacks = pendingWriteBacks;
        concluded = false;
        return this;
    }

    public int pendingWriteBacks()
    {
        return pendingWriteBacks;
    }

    public ProcessorMonitorContext reportIntervalNs(final long reportIntervalNs)
    {
        this.reportIntervalNs = reportIntervalNs;
        concluded = false;
        return this;
    }

    public long reportIntervalNs()
    {
        return reportIntervalNs;
    }

    /** A fabric shared with others (embedded mode); the monitor does not close it. */
    public ProcessorMonitorContext fabric(final Fabric fabric)
    {
        this.fabric = fabric;
        return this;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    /** Settings of a fabric the monitor creates (and closes) itself, when no {@link #fabric(Fabric)} is given. */
    public ProcessorMonitorContext fabricContext(final FabricContext fabricContext)
    {
        this.fabricContext = fabricContext;
        concluded = false;
        return this;
    }

    public FabricContext fabricContext()
    {
        return fabricContext;
    }

    /**
     * The runtime that runs this monitor's agents (an embedded cluster's shared one); null (the default): the monitor
     * launches its own and closes it with itself.
     */
    public ProcessorMonitorContext runtime(final dev.splitkernel.monitor.runtime.MonitorRuntime runtime)
    {
        this.runtime = runtime;
        return this;
    }

    public dev.splitkernel.monitor.runtime.MonitorRuntime runtime()
    {
        return runtime;
    }

}
