package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;

/**
 * Configuration of a {@link MemoryMonitor}: defaults and property names in one place, fluent setters, one
 * {@link #conclude()} that validates everything and names the setting at fault.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to the monitor.
 */
public final class MemoryMonitorContext
{
    public static final String VREGION_BYTES_PROP_NAME = "splitkernel.memory.vRegionBytes";
    public static final long VREGION_BYTES_DEFAULT = 1L << 30;

    public static final String CAPACITY_BYTES_PROP_NAME = "splitkernel.memory.capacityBytes";
    public static final long CAPACITY_BYTES_DEFAULT = 1L << 30;

    /** Memory-side cores that serve line misses and write-backs concurrently. */
    public static final String WORKERS_PROP_NAME = "splitkernel.memory.workers";
    public static final int WORKERS_DEFAULT = 1;

    public static final String PAGE_BYTES_PROP_NAME = "splitkernel.memory.pageBytes";
    public static final int PAGE_BYTES_DEFAULT = Prot.PAGE_BYTES;

    /** Registered memory is allocated from the fabric in chunks of this size (or less, up to the capacity). */
    public static final String CHUNK_BYTES_PROP_NAME = "splitkernel.memory.chunkBytes";
    public static final int CHUNK_BYTES_DEFAULT = 64 * 1024 * 1024;

    public static final String LISTEN_ADDRESS_PROP_NAME = "splitkernel.memory.listen";
    public static final String LISTEN_ADDRESS_DEFAULT = "memory-0";

    /** Where the global manager listens; empty: standalone (this monitor owns every vRegion, member id 0). */
    public static final String GLOBAL_ADDRESS_PROP_NAME = "splitkernel.global.address";
    public static final String GLOBAL_ADDRESS_DEFAULT = "";

    public static final String LOAD_REPORT_INTERVAL_PROP_NAME = "splitkernel.memory.loadReportIntervalNs";
    public static final long LOAD_REPORT_INTERVAL_DEFAULT_NS = 100_000_000L;

    /** The storage buffer cache's size (4 KB pages of files); its memory is allocated at first use. */
    public static final String BUFFER_CACHE_BYTES_PROP_NAME = "splitkernel.memory.bufferCacheBytes";
    public static final long BUFFER_CACHE_BYTES_DEFAULT = 16L << 20;

    public static final String REQUEST_TIMEOUT_PROP_NAME = "splitkernel.memory.requestTimeoutNs";
    public static final long REQUEST_TIMEOUT_DEFAULT_NS = 2_000_000_000L;

    /**
     * The storage monitor that keeps this monitor's write-back log backup when it is a secondary: its address;
     * {@link #REPLICA_BACKUP_FROM_GLOBAL} (the default): the first alive storage monitor the global managers list,
     * asked when the log first has a batch to ship (again every second while they list none; standalone: none);
     * {@link #REPLICA_BACKUP_NONE} or empty: no backup, the log stays in memory and is compacted (each line's newest
     * version kept).
     */
    public static final String REPLICA_BACKUP_ADDRESS_PROP_NAME = "splitkernel.memory.replicaBackupAddress";
    public static final String REPLICA_BACKUP_FROM_GLOBAL = "auto";
    public static final String REPLICA_BACKUP_NONE = "none";
    public static final String REPLICA_BACKUP_ADDRESS_DEFAULT = REPLICA_BACKUP_FROM_GLOBAL;

    /** Bytes of write-back log entries shipped to the backup file at once (LegoOS: about 1 MB). */
    public static final String REPLICA_LOG_BATCH_BYTES_PROP_NAME = "splitkernel.memory.replicaLogBatchBytes";
    public static final int REPLICA_LOG_BATCH_BYTES_DEFAULT = 1 << 20;

    /**
     * Bytes of write-back log entries kept in memory while they wait to be shipped, beyond which appends get EAGAIN;
     * without a backup, the size at which the in-memory log is first compacted.
     */
    public static final String REPLICA_LOG_MAX_BYTES_PROP_NAME = "splitkernel.memory.replicaLogMaxBytes";
    public static final long REPLICA_LOG_MAX_BYTES_DEFAULT = 64L << 20;

    private long vRegionBytes = Long.getLong(VREGION_BYTES_PROP_NAME, VREGION_BYTES_DEFAULT);
    private long capacityBytes = Long.getLong(CAPACITY_BYTES_PROP_NAME, CAPACITY_BYTES_DEFAULT);
    private int workers = Integer.getInteger(WORKERS_PROP_NAME, WORKERS_DEFAULT);
    private int pageBytes = Integer.getInteger(PAGE_BYTES_PROP_NAME, PAGE_BYTES_DEFAULT);
    private int chunkBytes = Integer.getInteger(CHUNK_BYTES_PROP_NAME, CHUNK_BYTES_DEFAULT);
    private String listenAddress = System.getProperty(LISTEN_ADDRESS_PROP_NAME, LISTEN_ADDRESS_DEFAULT);
    private String globalAddress = System.getProperty(GLOBAL_ADDRESS_PROP_NAME, GLOBAL_ADDRESS_DEFAULT);
    private long loadReportIntervalNs = Long.getLong(LOAD_REPORT_INTERVAL_PROP_NAME, LOAD_REPORT_INTERVAL_DEFAULT_NS);
    private long requestTimeoutNs = Long.getLong(REQUEST_TIMEOUT_PROP_NAME, REQUEST_TIMEOUT_DEFAULT_NS);
    private long bufferCacheBytes = Long.getLong(BUFFER_CACHE_BYTES_PROP_NAME, BUFFER_CACHE_BYTES_DEFAULT);
    private String replicaBackupAddress =
        System.getProperty(REPLICA_BACKUP_ADDRESS_PROP_NAME, REPLICA_BACKUP_ADDRESS_DEFAULT);
    private int replicaLogBatchBytes = Integer.getInteger(REPLICA_LOG_BATCH_BYTES_PROP_NAME,
        REPLICA_LOG_BATCH_BYTES_DEFAULT);
    private long replicaLogMaxBytes = Long.getLong(REPLICA_LOG_MAX_BYTES_PROP_NAME, REPLICA_LOG_MAX_BYTES_DEFAULT);
    private FabricContext fabricContext;
    private Fabric fabric;
    private dev.splitkernel.monitor.runtime.MonitorRuntime runtime;
    private boolean concluded;

    /**
     * Validate every setting. Idempotent.
     *
     * @throws IllegalArgumentException naming the setting (and its property) that is wrong.
     */
    public MemoryMonitorContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (pageBytes < 512 || pageBytes > Prot.PAGE_BYTES || Integer.bitCount(pageBytes) != 1)
        {
            throw new IllegalArgumentException("pageBytes " + pageBytes + " must be a power of two within 512.." +
                Prot.PAGE_BYTES + ", the mmap granularity (" + PAGE_BYTES_PROP_NAME + ")");
        }
        if (vRegionBytes < Prot.PAGE_BYTES || Long.bitCount(vRegionBytes) != 1 || vRegionBytes < pageBytes)
        {
            throw new IllegalArgumentException("vRegionBytes " + vRegionBytes + " must be a power of two >= " +
                Math.max(pageBytes, Prot.PAGE_BYTES) + " (" + VREGION_BYTES_PROP_NAME + ")");
        }
        if (capacityBytes < pageBytes)
        {
            throw new IllegalArgumentException("capacityBytes " + capacityBytes + " must be at least one page of " +
                pageBytes + " (" + CAPACITY_BYTES_PROP_NAME + ")");
        }
        if (workers < 1 || workers > 1024)
        {
            throw new IllegalArgumentException("workers " + workers + " must be within 1..1024 (" +
                WORKERS_PROP_NAME + ")");
        }
        if (chunkBytes < pageBytes || chunkBytes % pageBytes != 0)
        {
            throw new IllegalArgumentException("chunkBytes " + chunkBytes + " must be a multiple of pageBytes " +
                pageBytes + " (" + CHUNK_BYTES_PROP_NAME + ")");
        }
        if (listenAddress == null || listenAddress.isBlank())
        {
            throw new IllegalArgumentException("listenAddress is empty (" + LISTEN_ADDRESS_PROP_NAME + ")");
        }
        if (loadReportIntervalNs <= 0)
        {
            throw new IllegalArgumentException("loadReportIntervalNs " + loadReportIntervalNs + " must be positive (" +
                LOAD_REPORT_INTERVAL_PROP_NAME + ")");
        }
        if (requestTimeoutNs <= 0)
        {
            throw new IllegalArgumentException("requestTimeoutNs " + requestTimeoutNs + " must be positive (" +
                REQUEST_TIMEOUT_PROP_NAME + ")");
        }
        if (globalAddress == null)
        {
            globalAddress = "";
        }
        if (fabric == null)
        {
            if (fabricContext == null)
            {
                fabricContext = new FabricContext();
            }
            fabricContext.conclude();
        }
        if (bufferCacheBytes < 4096 || bufferCacheBytes % 4096 != 0 || bufferCacheBytes >= (1L << 31))
        {
            throw new IllegalArgumentException(BUFFER_CACHE_BYTES_PROP_NAME + " must be a multiple of 4096 below 2 GiB: " +
                bufferCacheBytes);
        }
        if (replicaBackupAddress == null || replicaBackupAddress.isBlank())
        {
            replicaBackupAddress = REPLICA_BACKUP_NONE;
        }
        if (replicaLogBatchBytes < 2 * pageBytes)
        {
            throw new IllegalArgumentException("replicaLogBatchBytes " + replicaLogBatchBytes +
                " must hold at least two pages of " + pageBytes + " (" + REPLICA_LOG_BATCH_BYTES_PROP_NAME + ")");
        }
        if (replicaLogMaxBytes < replicaLogBatchBytes)
        {
            throw new IllegalArgumentException("replicaLogMaxBytes " + replicaLogMaxBytes + " must be at least " +
                "replicaLogBatchBytes " + replicaLogBatchBytes + " (" + REPLICA_LOG_MAX_BYTES_PROP_NAME + ")");
        }
        concluded = true;
        return this;
    }

    public long vRegionBytes()
    {
        return vRegionBytes;
    }

    public MemoryMonitorContext vRegionBytes(final long vRegionBytes)
    {
        this.vRegionBytes = vRegionBytes;
        concluded = false;
        return this;
    }

    public long capacityBytes()
    {
        return capacityBytes;
    }

    /** Physical memory this monitor may hand out (committed by vmas); beyond it requests get ENOMEM. */
    public MemoryMonitorContext capacityBytes(final long capacityBytes)
    {
        this.capacityBytes = capacityBytes;
        concluded = false;
        return this;
    }

    public int workers()
    {
        return workers;
    }

    public MemoryMonitorContext workers(final int workers)
    {
        this.workers = workers;
        concluded = false;
        return this;
    }

    public int pageBytes()
    {
        return pageBytes;
    }

    public MemoryMonitorContext pageBytes(final int pageBytes)
    {
        this.pageBytes = pageBytes;
        concluded = false;
        return this;
    }

    public int chunkBytes()
    {
        return chunkBytes;
    }

    public MemoryMonitorContext chunkBytes(final int chunkBytes)
    {
        this.chunkBytes = chunkBytes;
        concluded = false;
        return this;
    }

    public String listenAddress()
    {
        return listenAddress;
    }

    /** tcp: "host:port" (port 0 picks one); local: any unique name. */
    public MemoryMonitorContext listenAddress(final String listenAddress)
    {
        this.listenAddress = listenAddress;
        concluded = false;
        return this;
    }

    public String globalAddress()
    {
        return globalAddress;
    }

    /** The global manager's address; empty or null: standalone (no GMM, this monitor owns every vRegion). */
    public MemoryMonitorContext globalAddress(final String globalAddress)
    {
        this.globalAddress = globalAddress;
        concluded = false;
        return this;
    }

    public long loadReportIntervalNs()
    {
        return loadReportIntervalNs;
    }

    public MemoryMonitorContext loadReportIntervalNs(final long loadReportIntervalNs)
    {
        this.loadReportIntervalNs = loadReportIntervalNs;
        concluded = false;
        return this;
    }

    public MemoryMonitorContext bufferCacheBytes(final long bufferCacheBytes)
    {
        this.bufferCacheBytes = bufferCacheBytes;
        return this;
    }

    public long bufferCacheBytes()
    {
        return bufferCacheBytes;
    }

    public MemoryMonitorContext replicaBackupAddress(final String replicaBackupAddress)
    {
        this.replicaBackupAddress = replicaBackupAddress;
        return this;
    }

    public String replicaBackupAddress()
    {
        return replicaBackupAddress;
    }

    public MemoryMonitorContext replicaLogBatchBytes(final int replicaLogBatchBytes)
    {
        this.replicaLogBatchBytes = replicaLogBatchBytes;
        return this;
    }

    public int replicaLogBatchBytes()
    {
        return replicaLogBatchBytes;
    }

    public MemoryMonitorContext replicaLogMaxBytes(final long replicaLogMaxBytes)
    {
        this.replicaLogMaxBytes = replicaLogMaxBytes;
        return this;
    }

    public long replicaLogMaxBytes()
    {
        return replicaLogMaxBytes;
    }

    public long requestTimeoutNs()
    {
        return requestTimeoutNs;
    }

    /** Timeout of this monitor's own requests (to the GMM and to other memory monitors). */
    public MemoryMonitorContext requestTimeoutNs(final long requestTimeoutNs)
    {
        this.requestTimeoutNs = requestTimeoutNs;
        concluded = false;
        return this;
    }

    public FabricContext fabricContext()
    {
        return fabricContext;
    }

    /** Settings of the fabric the monitor creates (and closes) when no {@link #fabric(Fabric)} is given. */
    public MemoryMonitorContext fabricContext(final FabricContext fabricContext)
    {
        this.fabricContext = fabricContext;
        concluded = false;
        return this;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    /** A fabric instance to use; the monitor does not close it (embedded mode: one per monitor). */
    public MemoryMonitorContext fabric(final Fabric fabric)
    {
        this.fabric = fabric;
        concluded = false;
        return this;
    }


    @Override
    public String toString()
    {
        return "MemoryMonitorContext{vRegionBytes=" + vRegionBytes + ", capacityBytes=" + capacityBytes +
            ", workers=" + workers + ", pageBytes=" + pageBytes + ", listenAddress=" + listenAddress +
            ", globalAddress=" + globalAddress + "}";
    }
    /**
     * The runtime that runs this monitor's agents (an embedded cluster's shared one); null (the default): the monitor
     * launches its own and closes it with itself.
     */
    public MemoryMonitorContext runtime(final dev.splitkernel.monitor.runtime.MonitorRuntime runtime)
    {
        this.runtime = runtime;
        return this;
    }

    public dev.splitkernel.monitor.runtime.MonitorRuntime runtime()
    {
        return runtime;
    }

}
