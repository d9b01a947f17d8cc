package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.CloseHelper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A storage monitor, optionally behind a memory monitor's buffer cache, on a private local fabric. */
final class StorageFixture implements AutoCloseable
{
    static final long TIMEOUT_NS = 5_000_000_000L;

    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    final StorageMonitor storage;
    final MemoryMonitor memory;
    final StorageProxy target;

    /**
     * @param cacheBytes 0: processes talk straight to storage; else the buffer cache's size.
     */
    StorageFixture(final Path dataDir, final long cacheBytes, final long capacityBytes, final int... vNodes)
    {
        storage = new StorageMonitor(new StorageMonitorContext()
            .fabric(fabric()).dataDir(dataDir).capacityBytes(capacityBytes).listenAddress("storage").globalAddress(""))
            .start();
        closeables.add(storage);
        if (cacheBytes > 0)
        {
            memory = new MemoryMonitor(new MemoryMonitorContext()
                .fabric(fabric()).listenAddress("memory").globalAddress("").capacityBytes(64L << 20)
                .chunkBytes(1 << 20).bufferCacheBytes(cacheBytes))
                .start();
            closeables.add(0, memory);
            for (final int vNode : vNodes)
            {
                memory.bufferCache().route(vNode, storage.address());
            }
            target = new StorageProxy(fabric().connect(memory.address(), TIMEOUT_NS), TIMEOUT_NS);
        }
        else
        {
            memory = null;
            target = new StorageProxy(fabric().connect(storage.address(), TIMEOUT_NS), TIMEOUT_NS);
        }
    }

    FileCalls files(final int vNode)
    {
        return new FileCalls(target, vNode);
    }

    Fabric fabric()
    {
        final Fabric fabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
        closeables.add(fabric);
        return fabric;
    }

    static GlobalManager global(final Fabric fabric)
    {
        return new GlobalManager(new GlobalManagerContext().fabric(fabric).listenAddress("global")).start();
    }

    @Override
    public void close()
    {
        CloseHelper.quietClose(target);
        for (final AutoCloseable closeable : closeables)
        {
            CloseHelper.quietClose(closeable);
        }
    }
}
