package dev.splitkernel.monitor.processor;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The processor's per-process view (vRegion to owner connection to learned page location) and the membership pushes
 * that keep it current: a miss resolves there once, never asks the global managers, follows a pushed owner change,
 * and fails with a clear error, in bounded time, when its owner is dead.
 */
class ProcessViewTest
{
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long VREGION_BYTES = 4L << 20;
    private static final long WAIT_NS = 10_000_000_000L;

    private static EmbeddedCluster start()
    {
        return start("local");
    }

    private static EmbeddedCluster start(final String fabric)
    {
        return start(fabric, true);
    }

    private static EmbeddedCluster start(final String fabric, final boolean replication)
    {
        return EmbeddedCluster.start(new ClusterContext()
            .fabric(fabric)
            .replication(replication)
            .preset("none")
            .memoryMonitors(2)
            .memoryCapacityBytes(64L << 20)
            .vRegionBytes(VREGION_BYTES)
            .excache(new ExCacheContext().capacityBytes(1L << 20)));
    }

    @Test
    void shouldLearnMembersFromPushesAndReuseALearnedPageLocation()
    {
        learnMembersAndReuseALocation("local");
    }

    /** Over tcp the pushes connect while the runtime's one background thread must keep driving the pollers. */
    @Test
    void shouldLearnMembersFromPushesOverTcp()
    {
        learnMembersAndReuseALocation("tcp");
    }

    private static void learnMembersAndReuseALocation(final String fabric)
    {
        try (EmbeddedCluster cluster = start(fabric))
        {
            final ProcessorMonitor processor = cluster.processor();
            // Both memory monitors reach the processor's view by push, not by a lookup.
            await(() -> cluster.global().pushCounts()[0] >= 2, "the memory monitors pushed to the processor");
            try (LegoProcess p = cluster.createProcess("learn"))
            {
                final long a = p.mmap(0, 1L << 20, RW, ANON);
                assertTrue(a > 0, Errno.describe(a));
                p.putLong(a, 42);
                assertTrue(processor.cache().flushAndDrop(p.pid(), a, 4096) >= 0);

                final long rpc0 = processor.rpcFetches();
                final long oneSided0 = processor.oneSidedReads();
                assertEquals(42, Loads.getLong(p, a));               // fetched by RPC: the reply teaches the page's location
                assertEquals(rpc0 + 1, processor.rpcFetches());
                assertTrue(processor.cache().flushAndDrop(p.pid(), a, 4096) >= 0);
                assertEquals(42, Loads.getLong(p, a));               // a one-sided READ of the learned location
                assertEquals(oneSided0 + 1, processor.oneSidedReads());
                assertEquals(rpc0 + 1, processor.rpcFetches());
            }
            assertEquals(0, processor.memberLookups(), "no member address was asked of the global managers");
        }
    }

    @Test
    void shouldSendMissesToTheOwnerTheGlobalManagersPush()
    {
        try (EmbeddedCluster cluster = start())
        {
            final ProcessorMonitor processor = cluster.processor();
            try (LegoProcess p = cluster.createProcess("move"))
            {
                final long a = p.mmap(0, 1L << 20, RW, ANON);
                assertTrue(a > 0, Errno.describe(a));
                p.putLong(a, 42);
                assertTrue(processor.cache().flushAndDrop(p.pid(), a, 4096) >= 0);
                assertEquals(42, Loads.getLong(p, a));               // from the first owner; its page location is learned
                final int index = p.vRegionMap().vRegionIndex(a);
                final int from = p.vRegionMap().ownerOf(index);
                final MemoryMonitor to = other(cluster, from);

                // A replica at the other memory monitor holding a different value: where the miss goes shows.
                final UnsafeBuffer line = new UnsafeBuffer(new byte[processor.cache().lineBytes()]);
                line.putLong(0, 7);
                try (MemoryMonitorProxy replica = new MemoryMonitorProxy(cluster.newPeerFabric("test")
                    .connect(to.address(), WAIT_NS), to.memberId(), line.capacity(), WAIT_NS))
                {
                    assertEquals(0, replica.ownerOperation(Opcodes.VMA_MAP_FIXED, p.pid(), a, 1L << 20, RW, 0, 0, 0));
                    assertEquals(0, replica.writeBackLine(p.pid(), a, line.capacity(), line, 0));
                }
                assertEquals(0, cluster.global().moveVRegion(p.pid(), index, to.memberId()));
                await(() -> processor.ownerChanges() == 1, "the owner change reached the processor");
                assertEquals(to.memberId(), p.vRegionMap().ownerOf(index));

                assertTrue(processor.cache().flushAndDrop(p.pid(), a, 4096) >= 0);
                assertEquals(7, Loads.getLong(p, a), "the miss went to the pushed owner, not to the learned old location");
            }
        }
    }

    @Test
    void shouldFailAMissWhoseOwnerIsDeadWithAClearErrorInBoundedTime()
    {
        // Without replication nothing can take over from the dead owner.
        try (EmbeddedCluster cluster = start("local", false))
        {
            final ProcessorMonitor processor = cluster.processor();
            final LegoProcess p = cluster.createProcess("dead-owner");
            final long a = p.mmap(0, 1L << 20, RW, ANON);
            assertTrue(a > 0, Errno.describe(a));
            p.putLong(a, 42);
            assertTrue(processor.cache().flushAndDrop(p.pid(), a, 4096) >= 0);
            final int owner = p.vRegionMap().ownerOfAddress(a);
            final MemoryMonitor dead = cluster.memoryMonitors().stream().filter(m -> m.memberId() == owner)
                .findFirst().orElseThrow();
            dead.close();
            // Its heartbeats stopped: the membership check declares it dead (a late clock instead of a 3 s wait).
            cluster.global().checkMembers(System.nanoTime() + 60_000_000_000L);
            await(() -> processor.isOwnerDead(owner), "the processor was told");

            final long ownerWaitNs = processor.context().ownerWaitNs();
            final long startNs = System.nanoTime();
            final SegmentationFault fault = assertTimeoutPreemptively(Duration.ofNanos(ownerWaitNs + WAIT_NS),
                () -> assertThrows(SegmentationFault.class, () -> Loads.getLong(p, a)));
            final long tookNs = System.nanoTime() - startNs;
            assertEquals(Errno.EHOSTDOWN, fault.code(), fault.getMessage());
            assertTrue(fault.getMessage().contains("dead"), fault.getMessage());
            assertTrue(processor.errors().stream().anyMatch(e -> e.contains("memory monitor " + owner)
                && e.contains("dead (declared by the global managers)")), processor.errors().toString());
            assertTrue(tookNs < ownerWaitNs + processor.context().timeoutNs() + 1_000_000_000L, tookNs + " ns");
            assertTrue(processor.ownerWaits() > 0);
        }
    }

    private static MemoryMonitor other(final EmbeddedCluster cluster, final int memberId)
    {
        return cluster.memoryMonitors().stream().filter(m -> m.memberId() != memberId).findFirst().orElseThrow();
    }

    private static void await(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadlineNs, "timed out waiting: " + what);
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
