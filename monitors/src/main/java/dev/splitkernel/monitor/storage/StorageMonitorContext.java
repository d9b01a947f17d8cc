package dev.splitkernel.monitor.storage;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;

import java.nio.file.Path;

/**
 * Configuration of a {@link StorageMonitor}: defaults and property names in one place, fluent setters, one
 * {@link #conclude()} that validates everything and names the setting at fault.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to the monitor.
 */
public final class StorageMonitorContext
{
    /** Where the files and the journal live; a restarted monitor given the same directory serves the same files. */
    public static final String DATA_DIR_PROP_NAME = "splitkernel.storage.dataDir";
    public static final String DATA_DIR_DEFAULT = "storage-data";

    /** Total bytes of file data this monitor stores; writes beyond get ENOSPC. */
    public static final String CAPACITY_BYTES_PROP_NAME = "splitkernel.storage.capacityBytes";
    public static final long CAPACITY_BYTES_DEFAULT = 16L << 30;

    public static final String LISTEN_ADDRESS_PROP_NAME = "splitkernel.storage.listen";
    public static final String LISTEN_ADDRESS_DEFAULT = "storage-0";

    /** Where the global manager listens; empty: standalone (no GSM registration). */
    public static final String GLOBAL_ADDRESS_PROP_NAME = "splitkernel.global.address";
    public static final String GLOBAL_ADDRESS_DEFAULT = "";

    public static final String REQUEST_TIMEOUT_PROP_NAME = "splitkernel.storage.requestTimeoutNs";
    public static final long REQUEST_TIMEOUT_DEFAULT_NS = 2_000_000_000L;

    /** Period of the load report (heartbeat: used bytes and files) to the global manager. */
    public static final String LOAD_REPORT_INTERVAL_PROP_NAME = "splitkernel.storage.loadReportIntervalNs";
    public static final long LOAD_REPORT_INTERVAL_DEFAULT_NS = 100_000_000L;

    private Path dataDir = Path.of(System.getProperty(DATA_DIR_PROP_NAME, DATA_DIR_DEFAULT));
    private long capacityBytes = Long.getLong(CAPACITY_BYTES_PROP_NAME, CAPACITY_BYTES_DEFAULT);
    private String listenAddress = System.getProperty(LISTEN_ADDRESS_PROP_NAME, LISTEN_ADDRESS_DEFAULT);
    private String globalAddress = System.getProperty(GLOBAL_ADDRESS_PROP_NAME, GLOBAL_ADDRESS_DEFAULT);
    private long requestTimeoutNs = Long.getLong(REQUEST_TIMEOUT_PROP_NAME, REQUEST_TIMEOUT_DEFAULT_NS);
    private long loadReportIntervalNs = Long.getLong(LOAD_REPORT_INTERVAL_PROP_NAME, LOAD_REPORT_INTERVAL_DEFAULT_NS);
    private boolean loadReports = true;
    private Disk disk = FileChannelDisk.INSTANCE;
    private FabricContext fabricContext;
    private Fabric fabric;
    private dev.splitkernel.monitor.runtime.MonitorRuntime runtime;
    private boolean concluded;

    /** Validate every setting. Idempotent. */
    public StorageMonitorContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (dataDir == null || dataDir.toString().isEmpty())
        {
            throw new IllegalArgumentException(DATA_DIR_PROP_NAME + " must name a directory");
        }
        if (capacityBytes <= 0)
        {
            throw new IllegalArgumentException(CAPACITY_BYTES_PROP_NAME + " must be positive: " + capacityBytes);
        }
        if (listenAddress == null || listenAddress.isEmpty())
        {
            throw new IllegalArgumentException(LISTEN_ADDRESS_PROP_NAME + " must not be empty");
        }
        if (requestTimeoutNs <= 0)
        {
            throw new IllegalArgumentException(REQUEST_TIMEOUT_PROP_NAME + " must be positive: " + requestTimeoutNs);
        }
        if (loadReportIntervalNs <= 0)
        {
            throw new IllegalArgumentException(LOAD_REPORT_INTERVAL_PROP_NAME + " must be positive: " +
                loadReportIntervalNs);
        }
        if (disk == null)
        {
            throw new IllegalArgumentException("the storage monitor needs a disk");
        }
        if (globalAddress == null)
        {
            globalAddress = "";
        }
        if (fabric == null && fabricContext == null)
        {
            fabricContext = new FabricContext();
        }
        concluded = true;
        return this;
    }

    public StorageMonitorContext dataDir(final Path dataDir)
    {
        this.dataDir = dataDir;
        return this;
    }

    public Path dataDir()
    {
        return dataDir;
    }

    public StorageMonitorContext capacityBytes(final long capacityBytes)
    {
        this.capacityBytes = capacityBytes;
        return this;
    }

    public long capacityBytes()
    {
        return capacityBytes;
    }

    public StorageMonitorContext listenAddress(final String listenAddress)
    {
        this.listenAddress = listenAddress;
        return this;
    }

    public String listenAddress()
    {
        return listenAddress;
    }

    public StorageMonitorContext globalAddress(final String globalAddress)
    {
        this.globalAddress = globalAddress;
        return this;
    }

    public String globalAddress()
    {
        return globalAddress;
    }

    public StorageMonitorContext requestTimeoutNs(final long requestTimeoutNs)
    {
        this.requestTimeoutNs = requestTimeoutNs;
        return this;
    }

    public long requestTimeoutNs()
    {
        return requestTimeoutNs;
    }

    public StorageMonitorContext loadReportIntervalNs(final long loadReportIntervalNs)
    {
        this.loadReportIntervalNs = loadReportIntervalNs;
        return this;
    }

    public long loadReportIntervalNs()
    {
        return loadReportIntervalNs;
    }

    /**
     * Whether {@link StorageMonitor#start()} runs the periodic load reports on a thread of its own (default true);
     * false lets a test send them itself with {@link StorageMonitor#reportLoadNow()}.
     */
    public StorageMonitorContext loadReports(final boolean loadReports)
    {
        this.loadReports = loadReports;
        return this;
    }

    public boolean loadReports()
    {
        return loadReports;
    }

    /**
     * The local disk the files, the journal and the member name go through: {@link FileChannelDisk} (the default), or
     * a test's crash-simulating one.
     */
    public StorageMonitorContext disk(final Disk disk)
    {
        this.disk = disk;
        return this;
    }

    public Disk disk()
    {
        return disk;
    }

    /** Use this fabric (not closed by the monitor) instead of creating one. */
    public StorageMonitorContext fabric(final Fabric fabric)
    {
        this.fabric = fabric;
        return this;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    public StorageMonitorContext fabricContext(final FabricContext fabricContext)
    {
        this.fabricContext = fabricContext;
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
    public StorageMonitorContext runtime(final dev.splitkernel.monitor.runtime.MonitorRuntime runtime)
    {
        this.runtime = runtime;
        return this;
    }

    public dev.splitkernel.monitor.runtime.MonitorRuntime runtime()
    {
        return runtime;
    }

}
