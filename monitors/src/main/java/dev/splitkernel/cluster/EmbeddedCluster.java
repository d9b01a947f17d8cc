package dev.splitkernel.cluster;

import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.LegoThread;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.ProcessorMonitorContext;
import dev.splitkernel.monitor.processor.Workload;
import dev.splitkernel.monitor.runtime.MonitorContext;
import dev.splitkernel.monitor.runtime.MonitorErrors;
import dev.splitkernel.monitor.runtime.MonitorRuntime;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.monitor.storage.StorageMonitor;
import dev.splitkernel.monitor.storage.StorageMonitorContext;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.StorageManagerProxy;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.CloseHelper;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A whole cluster in one JVM: the global managers (GPM and GMM), one processor monitor, N memory monitors and one
 * storage monitor (vNode "default" on a temporary directory), each
 * with its own fabric instance. Over {@code local} they find each other on a private in-process network (so several
 * clusters may coexist in one JVM) and pay the preset's network time in the caller's thread; over {@code tcp} each
 * listens on its own loopback port; over {@code rdma} each listens on its own port of the RDMA interface.
 * <p>
 * Thread-safe for {@link #createProcess} and {@link #spawn}; start and close from one thread.
 */
public final class EmbeddedCluster implements AutoCloseable
{
    private final ClusterContext ctx;
    private final MonitorRuntime runtime;
    private final LocalNetwork network = new LocalNetwork();
    private final List<Fabric> fabrics = new ArrayList<>();
    private final List<MemoryMonitor> memoryMonitors = new ArrayList<>();
    private final List<ProcessorMonitor> processors = new ArrayList<>();
    private GlobalManager global;
    private StorageMonitor storage;
    private java.nio.file.Path storageDir;
    private GlobalManagerProxy gpm;

    private EmbeddedCluster(final ClusterContext ctx)
    {
        this.ctx = ctx;
        this.runtime = MonitorRuntime.launch(
            new MonitorContext().embedded(true).threadingMode(ctx.threadingMode()));
    }

    /**
     * Boot the cluster: global managers first, then the memory monitors, then the processor monitor.
     *
     * @throws RuntimeException naming what failed; everything started so far is closed.
     */
    public static EmbeddedCluster start(final ClusterContext ctx)
    {
        ctx.conclude();
        final EmbeddedCluster cluster = new EmbeddedCluster(ctx);
        try
        {
            cluster.boot();
            return cluster;
        }
        catch (final RuntimeException | Error ex)
        {
            cluster.close();
            throw ex;
        }
    }

    private void boot()
    {
        global = new GlobalManager(new GlobalManagerContext()
            .runtime(runtime)
            .fabric(newFabric("global"))
            .replication(ctx.replication())
            .listenAddress(listenAddress("global")))
            .start();
        final String globalAddress = global.address();
        for (int i = 0; i < ctx.memoryMonitors(); i++)
        {
            final MemoryMonitor memory = new MemoryMonitor(new MemoryMonitorContext()
                .runtime(runtime)
                .fabric(newFabric("memory-" + i))
                .listenAddress(listenAddress("memory-" + i))
                .globalAddress(globalAddress)
                .capacityBytes(ctx.memoryCapacityBytes())
                .workers(ctx.memoryWorkers())
                .vRegionBytes(ctx.vRegionBytes())
                .requestTimeoutNs(ctx.timeoutNs()));
            memoryMonitors.add(memory);
            memory.start();
            memory.reportLoadNow();
        }
        bootStorage(globalAddress);
        final ProcessorMonitor processor = new ProcessorMonitor(new ProcessorMonitorContext()
            .runtime(runtime)
            .fabric(newFabric("processor-0"))
            .listenAddress(listenAddress("processor-0"))
            .globalAddress(globalAddress)
            .excache(ctx.excache())
            .oneSided(ctx.oneSided())
            .vRegionBytes(ctx.vRegionBytes())
            .timeoutNs(ctx.timeoutNs()));
        processors.add(processor);
        gpm = new GlobalManagerProxy(newPeerFabric("cluster").connect(globalAddress), ctx.timeoutNs());
    }

    /** One storage monitor on a temporary directory (deleted at close) and the vNode "default" on it. */
    private void bootStorage(final String globalAddress)
    {
        try
        {
            storageDir = java.nio.file.Files.createTempDirectory("splitkernel-storage");
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException("cannot create the storage monitor's temporary directory", ex);
        }
        storage = new StorageMonitor(new StorageMonitorContext()
            .runtime(runtime)
            .fabric(newFabric("storage-0"))
            .dataDir(storageDir)
            .listenAddress(listenAddress("storage-0"))
            .globalAddress(globalAddress)
            .requestTimeoutNs(ctx.timeoutNs()))
            .start();
        try (StorageManagerProxy gsm = new StorageManagerProxy(
            newPeerFabric("cluster").connect(globalAddress), ctx.timeoutNs()))
        {
            final int vNode = gsm.createVNode("default", "/");
            if (vNode != FileCalls.DEFAULT_VNODE_ID)
            {
                throw new IllegalStateException("the GSM refused the default vNode: " + Errno.describe(vNode));
            }
        }
    }

    /** The storage monitor (it holds the files of the default vNode). */
    public StorageMonitor storage()
    {
        return storage;
    }

    /** Where a monitor listens: its name in-process, a port on loopback over tcp, one on the RDMA interface. */
    private String listenAddress(final String monitorName)
    {
        switch (ctx.fabric())
        {
            case "local":
                return monitorName;
            case "rdma":
                return "0.0.0.0:0";
            default:
                return "127.0.0.1:0";
        }
    }

    /** A fabric for one monitor, its agents run by the cluster's runtime and their errors reported as that monitor's. */
    private Fabric newFabric(final String monitorName)
    {
        return newFabric(runtime.errors(monitorName));
    }

    /** A fabric counting into {@code errors}' status file: a monitor's (its resources publish it) or a peer's. */
    private Fabric newFabric(final MonitorErrors errors)
    {
        final FabricContext fabricCtx = new FabricContext().fabric(ctx.fabric()).busyPoll(ctx.busyPoll())
            .agentHost(runtime.fabricHost(errors)).countersManager(errors.status().countersManager());
        if ("local".equals(ctx.fabric()))
        {
            fabricCtx.timing(ctx.preset()).timingMode(ctx.timingMode()).conclude();
        }
        final Fabric fabric = "local".equals(ctx.fabric())
            ? new LocalFabric(fabricCtx, network)
            : Fabrics.create(fabricCtx, null);
        fabrics.add(fabric);
        return fabric;
    }

    /**
     * A fabric of this cluster (its network, timing and runtime) for a peer that is not a monitor: the cluster's own
     * client ("cluster"), a benchmark's or a tool's. Closed with the cluster; its status file is published meanwhile.
     */
    public Fabric newPeerFabric(final String name)
    {
        // A peer has no monitor whose resources publish its status: the runtime does, so stat shows it running.
        return newFabric(runtime.peerErrors(name));
    }

    public ClusterContext context()
    {
        return ctx;
    }

    /** The runtime that runs every monitor's agents in this cluster. */
    public MonitorRuntime runtime()
    {
        return runtime;
    }

    public GlobalManager global()
    {
        return global;
    }

    /** The global manager's listen address. */
    public String globalAddress()
    {
        return global.address();
    }

    public List<MemoryMonitor> memoryMonitors()
    {
        return Collections.unmodifiableList(memoryMonitors);
    }

    /**
     * Kill memory monitor {@code memberId} as a crash would: its fabric goes first (every connection to it drops, a
     * call in flight fails), then the monitor; its heartbeats stop. It leaves {@link #memoryMonitors()}.
     */
    public void killMemoryMonitor(final int memberId)
    {
        final MemoryMonitor victim = memoryMonitors.stream().filter(m -> m.memberId() == memberId).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no live memory monitor " + memberId + " in this cluster"));
        memoryMonitors.remove(victim);
        CloseHelper.quietClose(victim.fabric());
        CloseHelper.quietClose(victim);
    }

    public List<ProcessorMonitor> processors()
    {
        return Collections.unmodifiableList(processors);
    }

    /** The (first) processor monitor. */
    public ProcessorMonitor processor()
    {
        return processors.get(0);
    }

    /**
     * Create a process on the processor monitor the GPM chooses (fewest running threads); the caller's thread is
     * its main thread.
     */
    public LegoProcess createProcess(final String name)
    {
        return chooseProcessor().createProcess(name);
    }

    /** Start a process running {@code main} on the processor monitor the GPM chooses. */
    public LegoThread spawn(final String name, final Workload main)
    {
        return chooseProcessor().spawn(name, main);
    }

    private ProcessorMonitor chooseProcessor()
    {
        final Placement placement;
        synchronized (this)
        {
            placement = gpm.chooseProcessor();
        }
        if (!placement.isOk())
        {
            throw new IllegalStateException("the GPM chose no processor monitor: " + Errno.describe(placement.result()));
        }
        for (final ProcessorMonitor p : processors)
        {
            if (p.memberId() == placement.memberId())
            {
                return p;
            }
        }
        throw new IllegalStateException("the GPM chose processor " + placement.memberId()
            + ", which is not in this cluster");
    }

    /** Close the processor monitors, then the memory monitors, then the global managers and every fabric. */
    @Override
    public void close()
    {
        for (final ProcessorMonitor p : processors)
        {
            CloseHelper.quietClose(p);
        }
        CloseHelper.quietClose(gpm);
        for (final MemoryMonitor m : memoryMonitors)
        {
            CloseHelper.quietClose(m);
        }
        CloseHelper.quietClose(storage);
        CloseHelper.quietClose(global);
        for (final Fabric f : fabrics)
        {
            CloseHelper.quietClose(f);
        }
        runtime.close();
        if (storageDir != null)
        {
            try (java.util.stream.Stream<java.nio.file.Path> walk = java.nio.file.Files.walk(storageDir))
            {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            catch (final java.io.IOException | RuntimeException ignore)
            {
                // Best effort: a temporary directory.
            }
        }
    }
}
