package dev.splitkernel.monitor.processor;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A memory monitor with no worker free in time answers BACK_PRESSURED and serves nothing: on a loaded machine that is
 * a busy owner, not a dead one, so the processor sends the miss or write-back again (within ownerWaitNs) instead of
 * killing the process.
 */
class BusyOwnerTest
{
    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stop()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    @Test
    void shouldSendAMissAndAWriteBackAgainWhileTheOwnerIsBusy()
    {
        closeables.add(new GlobalManager(new GlobalManagerContext().fabric(fabric()).listenAddress("global")).start());
        final MemoryMonitor memory = new MemoryMonitor(new MemoryMonitorContext().fabric(fabric())
            .listenAddress("memory-0").globalAddress("global").capacityBytes(64L << 20)).start();
        closeables.add(memory);
        memory.reportLoadNow();
        final GatedFabric busy = new GatedFabric(fabric());
        final ProcessorMonitor processor = new ProcessorMonitor(new ProcessorMonitorContext().fabric(busy)
            .listenAddress("processor-0").globalAddress("global").excache(new ExCacheContext().capacityBytes(1L << 20)));
        closeables.add(processor);
        final LegoProcess p = processor.createProcess("busy");
        final long a = p.mmap(0, 1L << 20, Prot.PROT_READ | Prot.PROT_WRITE, Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
        assertTrue(a > 0);
        p.putLong(a, 42);

        busy.busy(Opcodes.LINE_WRITE_BACK, 3);
        assertEquals(0, processor.cache().flushAndDrop(p.pid(), a, 4096));
        busy.busy(Opcodes.LINE_FETCH, 3);
        assertEquals(42, Loads.getLong(p, a));
        assertEquals(6, processor.busyRetries());
        assertEquals(0, processor.segfaults());
        p.exit(0);
    }

    private Fabric fabric()
    {
        final Fabric fabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
        closeables.add(fabric);
        return fabric;
    }
}
