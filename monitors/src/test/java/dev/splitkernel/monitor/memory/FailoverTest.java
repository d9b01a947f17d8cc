package dev.splitkernel.monitor.memory;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.Loads;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.ProcessorMonitorContext;
import dev.splitkernel.monitor.processor.SegmentationFault;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.LineLocation;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.Fabric;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory replication and failover in one JVM (three memory monitors, a 1 MiB ExCache over 8 MiB of memory in two
 * 4 MiB vRegions, so most lines are written back): every vRegion has a secondary on another monitor, which has every
 * acknowledged write-back; a killed owner's vRegions are taken over by their secondaries with nothing lost, then
 * replicated again so a second death is survivable; a dead secondary costs nothing but a new copy; and when owner and
 * secondary both die, the process's access fails with a clear error in bounded time while the rest keep running.
 * A "kill" closes the monitor: its connections drop and its heartbeats stop.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FailoverTest
{
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long VREGION_BYTES = 4L << 20;
    private static final long REGION_BYTES = 8L << 20;
    private static final long STRIDE = 512;
    private static final long WAIT_NS = 20_000_000_000L;

    private static EmbeddedCluster start()
    {
        return EmbeddedCluster.start(new ClusterContext()
            .fabric("local")
            .replication(true)
            .preset("none")
            .memoryMonitors(3)
            .memoryCapacityBytes(64L << 20)
            .vRegionBytes(VREGION_BYTES)
            .excache(new ExCacheContext().capacityBytes(1L << 20)));
    }

    /** As {@link #start()}, with room for {@code pending} victims kept until their secondary has them. */
    private static EmbeddedCluster startWithPendingWriteBacks(final int pending)
    {
        final String property = ProcessorMonitorContext.PENDING_WRITE_BACKS_PROP_NAME;
        System.setProperty(property, Integer.toString(pending));
        try
        {
            return start();
        }
        finally
        {
            System.clearProperty(property);
        }
    }

    @Test
    void shouldGiveEveryVRegionASecondaryOnAnotherMonitorThatHasEveryWriteBack()
    {
        try (EmbeddedCluster cluster = start())
        {
            final LegoProcess p = cluster.createProcess("replicated");
            final long base = map(p);
            write(p, base, 1);
            assertTrue(cluster.processor().cache().flushAndDropAll(p.pid()) >= 0);
            for (final int index : indexes(p, base))
            {
                final int owner = cluster.global().ownerOf(p.pid(), index);
                final int secondary = cluster.global().secondaryOf(p.pid(), index);
                assertTrue(secondary >= 0 && secondary != owner, "vRegion " + index + ": owner " + owner +
                    ", secondary " + secondary);
            }
            long forwarded = 0;
            long logged = 0;
            for (final MemoryMonitor m : cluster.memoryMonitors())
            {
                forwarded += m.counters().get(MemoryMonitorCounters.REPLICA_FORWARDS);
                logged += m.counters().get(MemoryMonitorCounters.REPLICA_WRITE_BACKS);
                assertEquals(0, m.counters().get(MemoryMonitorCounters.REPLICAS_LOST), m.toString());
            }
            assertTrue(forwarded > 0 && logged >= forwarded, forwarded + " forwarded, " + logged + " logged");
            assertEquals(cluster.memoryMonitors().stream()
                .mapToLong(m -> m.counters().get(MemoryMonitorCounters.LINE_WRITE_BACKS)).sum(), forwarded,
                "every write-back was forwarded to the secondary before it was acknowledged");
            check(p, base, 1);
        }
    }

    @Test
    void shouldLoseNothingWhenAnOwnerDiesMidRunAndSurviveASecondDeathAfterReplicatingAgain() throws Exception
    {
        try (EmbeddedCluster cluster = start())
        {
            final ProcessorMonitor processor = cluster.processor();
            final LegoProcess p = cluster.createProcess("failover");
            final long base = map(p);
            write(p, base, 1);
            final int index = victimIndex(cluster, p, base);
            final int owner = cluster.global().ownerOf(p.pid(), index);
            final int secondary = cluster.global().secondaryOf(p.pid(), index);

            final long killedAtMs = System.currentTimeMillis();
            cluster.killMemoryMonitor(owner);
            // Half of round 2 is still in the ExCache, dirty, when the run goes on against the new owner.
            checkAndWrite(p, base, 1, 2);
            check(p, base, 2);
            assertTrue(processor.cache().flushAndDropAll(p.pid()) >= 0);
            check(p, base, 2);
            assertEquals(secondary, cluster.global().ownerOf(p.pid(), index), "the secondary took over");
            assertEquals(secondary, p.vRegionMap().ownerOf(index), "the processor's view follows");
            assertEquals(1, cluster.global().failoverCounts()[0]);
            final long[] times = processor.failoverTimesMs();
            assertTrue(times[1] > 0, "a miss was served by the new owner");
            System.out.printf("failover: owner down seen %d ms, first miss served by the new owner %d ms after "
                + "the kill%n", times[0] - killedAtMs, times[1] - killedAtMs);

            // Replicated again, in the background: a second death loses nothing either.
            await(() -> cluster.global().secondaryOf(p.pid(), index) >= 0 &&
                cluster.global().ownerOf(p.pid(), index) == secondary, "a new secondary for vRegion " + index);
            final int third = cluster.global().secondaryOf(p.pid(), index);
            assertNotEquals(secondary, third);
            assertTrue(monitor(cluster, secondary).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            assertNotEquals(p.homeId(), secondary, "the GMM keeps secondaries off the home while it can");
            cluster.killMemoryMonitor(secondary);
            checkAndWrite(p, base, 2, 3);
            assertTrue(processor.cache().flushAndDropAll(p.pid()) >= 0);
            check(p, base, 3);
            assertEquals(third, cluster.global().ownerOf(p.pid(), index));
            assertEquals(2, cluster.global().failoverCounts()[0], "two failovers, nothing lost");
        }
    }

    @Test
    void shouldServeEveryNewestValueFromALogPartlyInTheBackupFileTheClusterWiredByDefault()
    {
        // Small batches, so the log of one vRegion spans many shipped batches; the backup's address is not set.
        final String property = MemoryMonitorContext.REPLICA_LOG_BATCH_BYTES_PROP_NAME;
        System.setProperty(property, Integer.toString(64 << 10));
        final EmbeddedCluster started;
        try
        {
            started = start();
        }
        finally
        {
            System.clearProperty(property);
        }
        try (EmbeddedCluster cluster = started)
        {
            final Victim v = writtenAndFlushed(cluster, "backed-up");
            final WriteBackLog log = monitor(cluster, v.secondary).writeBackLog();
            await(() -> log.shippedBytes() > 0 && log.unshippedBytes() < (64 << 10),
                "the secondary's full batches shipped to the storage monitor the global managers list");
            assertTrue(log.hasBackup());
            // Newer values for a few lines: their entries are in the memory tail, the older ones in the file.
            final long first = Math.max(v.base, VREGION_BYTES * v.index);
            final long end = first + 16 * STRIDE;
            for (long a = first; a < end; a += STRIDE)
            {
                v.p.putLong(a, value(a, 2));
            }
            assertTrue(cluster.processor().cache().flushAndDropAll(v.p.pid()) >= 0);
            assertTrue(log.unshippedBytes() > 0, "the newest entries are still in memory");
            final long shipped = log.shippedBytes();

            cluster.killMemoryMonitor(v.owner);
            check(v.p, v.base, first, end, 2, 1);
            assertEquals(v.secondary, cluster.global().ownerOf(v.p.pid(), v.index), "the secondary took over");
            assertTrue(monitor(cluster, v.secondary).counters().get(MemoryMonitorCounters.REPLAYED_ENTRIES) >
                shipped / (64 << 10), "the replay read the shipped batches");
        }
    }

    @Test
    void shouldLoseNoPendingWriteBackWhenTheOwnerDiesBeforeItsSecondaryHasThem() throws Exception
    {
        try (EmbeddedCluster cluster = startWithPendingWriteBacks(4096))
        {
            final ProcessorMonitor processor = cluster.processor();
            final Victim v = writtenAndFlushed(cluster, "pending-failover");
            assertTrue(monitor(cluster, v.owner()).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            // The owner applies every write-back but forwards none: they are all pending at the processor.
            monitor(cluster, v.owner()).holdReplicaForwards();
            final long first = Math.max(v.base(), v.index() * VREGION_BYTES);
            final long end = Math.min(v.base() + REGION_BYTES, (v.index() + 1) * VREGION_BYTES);
            for (long a = first; a < end; a += STRIDE)
            {
                v.p().putLong(a, value(a, 2)); // only this vRegion: every victim rides on a fetch from its owner
            }
            final int pendingAtKill = processor.pendingWriteBacks();
            assertTrue(pendingAtKill > 0, "victims pending at the kill");

            cluster.killMemoryMonitor(v.owner());
            for (long a = first; a < end; a += STRIDE)
            {
                assertEquals(value(a, 2), Loads.getLong(v.p(), a), "at 0x" + Long.toHexString(a) + " (" + pendingAtKill +
                    " pending at the kill)");
            }
            assertTrue(processor.cache().flushAndDropAll(v.p().pid()) >= 0);
            check(v.p(), v.base(), first, end, 2, 1);
            assertEquals(v.secondary(), cluster.global().ownerOf(v.p().pid(), v.index()), "the secondary took over");
            assertTrue(processor.pendingWriteBacksResent() > 0, "pending victims were re-sent to the new owner");
        }
    }

    @Test
    void shouldNeverApplyAnOlderVersionOverANewerOneAtTheSecondary() throws Exception
    {
        try (EmbeddedCluster cluster = start())
        {
            final Victim v = writtenAndFlushed(cluster, "ordered-forwards");
            final int pid = v.p().pid();
            assertTrue(monitor(cluster, v.owner()).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            final int lineBytes = cluster.context().excache().lineBytes();
            final long line = Math.max(v.base(), v.index() * VREGION_BYTES);
            final Fabric fabric = cluster.newPeerFabric("writer");
            final MemoryMonitorProxy owner = new MemoryMonitorProxy(
                fabric.connect(monitor(cluster, v.owner()).address()), v.owner(), lineBytes, WAIT_NS);
            final UnsafeBuffer bytes = new UnsafeBuffer(new byte[lineBytes]);
            final UnsafeBuffer fetched = new UnsafeBuffer(new byte[lineBytes]);
            final LineLocation location = new LineLocation();
            // Versions 1..n of one line, queued behind a held forward, then a plain write-back of version n + 1
            // (which waits for its own forward): the secondary must end with n + 1.
            final MemoryMonitor ownerMonitor = monitor(cluster, v.owner());
            final java.util.concurrent.CountDownLatch release = ownerMonitor.holdReplicaForwards();
            final int n = 50;
            long lastTicket = 0;
            for (int version = 1; version <= n; version++)
            {
                bytes.putLong(0, version);
                assertTrue(owner.fetchLineWithWriteBack(pid, LineRequestDescriptor.FLAG_REPLICA_ASYNC,
                    line + lineBytes, lineBytes, fetched, 0, location.reset(), pid, line, bytes, 0) >= 0);
                assertTrue(location.replicaTicket() > lastTicket, "a later ticket for a later version");
                lastTicket = location.replicaTicket();
            }
            final long queued = ownerMonitor.replicaForwardsQueued();
            final long forwarded = ownerMonitor.counters().get(MemoryMonitorCounters.REPLICA_FORWARDS);
            final UnsafeBuffer newest = new UnsafeBuffer(new byte[lineBytes]);
            newest.putLong(0, n + 1);
            final int[] plain = {Integer.MIN_VALUE};
            final Thread writer = new Thread(() -> plain[0] = new MemoryMonitorProxy(
                fabric.connect(ownerMonitor.address()), v.owner(), lineBytes, WAIT_NS)
                .writeBackLine(pid, line, lineBytes, newest, 0));
            writer.start();
            // Queued behind the others (or, were it sent past the queue, sent already).
            await(() -> ownerMonitor.replicaForwardsQueued() > queued ||
                ownerMonitor.counters().get(MemoryMonitorCounters.REPLICA_FORWARDS) > forwarded,
                "the plain write-back's forward queued");
            release.countDown();
            writer.join(WAIT_NS / 1_000_000L);
            assertEquals(0, plain[0], "the plain write-back acknowledged");
            final long[] acks = new long[2];
            assertEquals(0, owner.replicaAcks(lastTicket, true, acks));
            assertTrue(acks[0] >= lastTicket, "every forward done: " + acks[0]);

            cluster.killMemoryMonitor(v.owner());
            await(() -> cluster.global().ownerOf(pid, v.index()) == v.secondary(), "the secondary promoted");
            final MemoryMonitorProxy promoted = new MemoryMonitorProxy(
                fabric.connect(monitor(cluster, v.secondary()).address()), v.secondary(), lineBytes, WAIT_NS);
            assertTrue(promoted.fetchLine(pid, line, lineBytes, fetched, 0, location.reset()) >= 0);
            assertEquals(n + 1, fetched.getLong(0), "the secondary applied the versions in order");
        }
    }

    @Test
    void shouldBoundThePendingWriteBacksAndFailClearlyWhenTheSecondaryNeverAcknowledges() throws Exception
    {
        final int capacity = 8;
        try (EmbeddedCluster cluster = startWithPendingWriteBacks(capacity))
        {
            final ProcessorMonitor processor = cluster.processor();
            final Victim v = writtenAndFlushed(cluster, "pending-bound");
            assertTrue(monitor(cluster, v.owner()).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            final java.util.concurrent.CountDownLatch release = monitor(cluster, v.owner()).holdReplicaForwards();
            final long first = Math.max(v.base(), v.index() * VREGION_BYTES);
            final long end = Math.min(v.base() + REGION_BYTES, (v.index() + 1) * VREGION_BYTES);
            final int[] most = new int[1];
            // Every forward is stuck: once the pending victims are full, a miss waits for acknowledgements (bounded),
            // then writes its victim back plainly, which times out: a clear error, never a hang.
            final RuntimeException fault = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThrows(
                RuntimeException.class, () ->
                {
                    for (long a = first; a < end; a += STRIDE)
                    {
                        v.p().putLong(a, value(a, 2));
                        most[0] = Math.max(most[0], processor.pendingWriteBacks());
                    }
                }, "a write-back that its secondary never acknowledged"));
            release.countDown();
            assertTrue(most[0] > 0 && most[0] <= capacity, "pending victims " + most[0] + ", at most " + capacity);
            assertTrue(fault instanceof SegmentationFault, fault.toString());
        }
    }

    @Test
    void shouldFenceAnOwnerDeclaredDeadWhileAliveSoItAcknowledgesNoWriteBackTheNewOwnerLacks() throws Exception
    {
        try (EmbeddedCluster cluster = start())
        {
            final Victim v = writtenAndFlushed(cluster, "false-death");
            final int pid = v.p().pid();
            assertTrue(monitor(cluster, v.owner()).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            // A probe lost under load: the owner is declared dead but keeps running.
            assertTrue(cluster.global().declareDead(v.owner()));
            await(() -> cluster.global().ownerOf(pid, v.index()) == v.secondary(), "the secondary promoted");

            // A processor that has not heard of the move still writes back to the old owner.
            final int lineBytes = cluster.context().excache().lineBytes();
            final long line = Math.max(v.base(), v.index() * VREGION_BYTES);
            final UnsafeBuffer bytes = new UnsafeBuffer(new byte[lineBytes]);
            bytes.putLong(0, 0xDEADL);
            final Fabric fabric = cluster.newPeerFabric("stale-processor");
            final MemoryMonitorProxy oldOwner = new MemoryMonitorProxy(
                fabric.connect(monitor(cluster, v.owner()).address()), v.owner(), lineBytes, WAIT_NS);
            final MemoryMonitorProxy newOwner = new MemoryMonitorProxy(
                fabric.connect(monitor(cluster, v.secondary()).address()), v.secondary(), lineBytes, WAIT_NS);
            assertEquals(Errno.ESTALE, oldOwner.writeBackLine(pid, line, lineBytes, bytes, 0),
                "the old owner must not acknowledge a write-back the new owner does not have");
            assertEquals(Errno.ESTALE, oldOwner.fetchLine(pid, line, lineBytes, bytes, 0, new LineLocation()),
                "the old owner no longer serves the vRegion");
            assertEquals(Errno.ESTALE, newOwner.replicaWriteBack(pid, line, lineBytes, bytes, 0),
                "the new owner refuses a forward for a vRegion it owns, distinctly");
            assertEquals(1, monitor(cluster, v.owner()).counters().get(MemoryMonitorCounters.VREGIONS_FENCED));

            // The process goes on at the new owner with every value it wrote.
            checkAndWrite(v.p(), v.base(), 1, 2);
            assertTrue(cluster.processor().cache().flushAndDropAll(pid) >= 0);
            check(v.p(), v.base(), 2);
            assertEquals(v.secondary(), v.p().vRegionMap().ownerOf(v.index()));
        }
    }

    @Test
    void shouldCountNoVRegionTwiceAtMonitorsDeclaredDeadByMistakeThatReturn() throws Exception
    {
        try (EmbeddedCluster cluster = start())
        {
            final Victim v = writtenAndFlushed(cluster, "false-deaths");
            final int pid = v.p().pid();
            assertTrue(monitor(cluster, v.owner()).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            // The secondary is declared dead by mistake: the vRegion gets another, the monitor rejoins.
            assertTrue(cluster.global().declareDead(v.secondary()));
            await(() -> cluster.global().secondaryOf(pid, v.index()) >= 0, "a new secondary");
            assertEquals(0, monitor(cluster, v.secondary()).reportLoadNow());
            assertPlacedBytesTrue(cluster);
            // Then the owner: the vRegion is promoted at its new secondary, the old owner rejoins empty-handed.
            final int promoted = cluster.global().secondaryOf(pid, v.index());
            assertTrue(monitor(cluster, v.owner()).awaitReplicaCopies(WAIT_NS / 1_000_000L));
            assertTrue(cluster.global().declareDead(v.owner()));
            await(() -> cluster.global().ownerOf(pid, v.index()) == promoted, "the secondary promoted");
            assertEquals(0, monitor(cluster, v.owner()).reportLoadNow());
            assertTrue(cluster.global().isAlive(v.owner()) && cluster.global().isAlive(v.secondary()));
            assertPlacedBytesTrue(cluster);

            checkAndWrite(v.p(), v.base(), 1, 2);
            assertTrue(cluster.processor().cache().flushAndDropAll(pid) >= 0);
            check(v.p(), v.base(), 2);
        }
    }

    /** The GMM counts at each monitor exactly the bytes of the vRegions its placements put there. */
    private static void assertPlacedBytesTrue(final EmbeddedCluster cluster)
    {
        for (final MemoryMonitor m : cluster.memoryMonitors())
        {
            // Read again at each try: a new secondary may still be being named (in the background) meanwhile.
            final long[] counted = new long[3];
            await(() ->
            {
                System.arraycopy(cluster.global().placedBytes(m.memberId()), 0, counted, 0, 3);
                return counted[1] == counted[0];
            }, "bytes counted at memory monitor " + m.memberId() + " equal to its placements' bytes");
            // The monitor's own count too: a copy it no longer replicates (another secondary was named) is freed.
            await(() ->
            {
                final long placed = cluster.global().placedBytes(m.memberId())[1];
                return m.reportLoadNow() == 0 && cluster.global().placedBytes(m.memberId())[2] == placed;
            }, "memory monitor " + m.memberId() + " reporting its placements' committed bytes: " + state(cluster));
        }
    }

    /**
     * A secondary that refuses forwards while alive (as with its log full) is dropped by the owner, which tells the
     * GMM: the replica there is released and the vRegion replicated again, so the owner's death later loses nothing.
     * Before, the GMM kept counting the dropped secondary (and its replica's bytes) and would have promoted it with a
     * log that lacks every write-back since the drop.
     */
    @Test
    void shouldReplicateAgainWhenAnOwnerDropsASecondaryThatIsAliveAndLoseNothingAtTheOwnersDeath() throws Exception
    {
        try (EmbeddedCluster cluster = start())
        {
            final LegoProcess p = cluster.createProcess("dropped-secondary");
            final long base = map(p);
            write(p, base, 1);
            final int index = victimIndex(cluster, p, base);
            final int owner = cluster.global().ownerOf(p.pid(), index);
            final int secondary = cluster.global().secondaryOf(p.pid(), index);
            assertTrue(monitor(cluster, owner).awaitReplicaCopies(WAIT_NS / 1_000_000L));

            monitor(cluster, secondary).refuseReplicaWriteBacks(Errno.EAGAIN);
            checkAndWrite(p, base, 1, 2);
            assertTrue(cluster.processor().cache().flushAndDropAll(p.pid()) >= 0);
            monitor(cluster, secondary).refuseReplicaWriteBacks(0);
            await(() -> cluster.global().failoverCounts()[2] > 0, "the GMM hears that the secondary was dropped");
            await(() ->
            {
                final int now = cluster.global().secondaryOf(p.pid(), index);
                return now >= 0 && monitor(cluster, now).hasCompleteReplica(p.pid(), index);
            }, "a complete replica again for vRegion " + index);
            assertNotEquals(secondary, cluster.global().secondaryOf(p.pid(), index),
                "another monitor than the one dropped, while one has room");
            // The dropped one's replica is freed there and its bytes are off the GMM's count: nothing leaks.
            assertPlacedBytesTrue(cluster);

            cluster.killMemoryMonitor(owner);
            check(p, base, 2);
            assertNotEquals(owner, cluster.global().ownerOf(p.pid(), index), "failed over");
        }
    }

    @Test
    void shouldReplicateAgainWhenASecondaryDiesAndKeepRunning()
    {
        try (EmbeddedCluster cluster = start())
        {
            final LegoProcess p = cluster.createProcess("secondary-dies");
            final long base = map(p);
            write(p, base, 1);
            final int index = victimIndex(cluster, p, base);
            final int owner = cluster.global().ownerOf(p.pid(), index);
            final int secondary = cluster.global().secondaryOf(p.pid(), index);
            assertTrue(secondary >= 0 && secondary != p.homeId(), () -> "a secondary but the home: " + state(cluster));
            cluster.killMemoryMonitor(secondary);
            checkAndWrite(p, base, 1, 2);
            assertTrue(cluster.processor().cache().flushAndDropAll(p.pid()) >= 0);
            check(p, base, 2);
            assertEquals(owner, cluster.global().ownerOf(p.pid(), index), "the owner keeps its vRegion");
            await(() -> cluster.global().secondaryOf(p.pid(), index) >= 0 &&
                cluster.global().secondaryOf(p.pid(), index) != secondary, "a new secondary");
        }
    }

    @Test
    void shouldFailWithAClearErrorWhenOwnerAndSecondaryBothDie()
    {
        try (EmbeddedCluster cluster = start())
        {
            final ProcessorMonitor processor = cluster.processor();
            final Victim v = writtenAndFlushed(cluster, "both-die");
            final LegoProcess p = v.p;
            final long base = v.base;
            final int index = v.index;
            final int owner = v.owner;
            final int secondary = v.secondary;
            cluster.killMemoryMonitor(secondary);
            cluster.killMemoryMonitor(owner);
            final long address = Math.max(base, (long)index * VREGION_BYTES);
            final long startNs = System.nanoTime();
            final SegmentationFault fault = assertThrows(SegmentationFault.class, () -> Loads.getLong(p, address));
            final long tookNs = System.nanoTime() - startNs;
            assertEquals(Errno.EHOSTDOWN, fault.code(), fault.getMessage());
            assertTrue(processor.errors().stream().anyMatch(e -> e.contains("memory monitor " + owner) &&
                e.contains("no new owner came")), processor.errors().toString());
            assertTrue(tookNs < processor.context().ownerWaitNs() + processor.context().timeoutNs() + 2_000_000_000L,
                tookNs + " ns");
            await(() -> cluster.global().failoverCounts()[1] >= 1, "the GMM says the vRegion is lost");
            // The other processes and monitors keep running.
            final LegoProcess q = cluster.createProcess("still-running");
            final long b = q.mmap(0, 1L << 20, RW, ANON);
            assertTrue(b > 0, Errno.describe(b));
            q.putLong(b, 99);
            assertTrue(processor.cache().flushAndDropAll(q.pid()) >= 0);
            assertEquals(99, Loads.getLong(q, b));
        }
    }

    /**
     * The owner dies, its secondary takes over and starts copying the vRegion to a new secondary; the new owner dies
     * before that copy is complete: the new secondary must not take over (it would serve zeros for the pages not yet
     * copied), so the vRegion is lost and says so, and no access returns a wrong value.
     */
    @Test
    void shouldNotPromoteASecondaryWhoseCopyIsIncomplete() throws Exception
    {
        try (EmbeddedCluster cluster = start())
        {
            final Victim v = writtenAndFlushed(cluster, "incomplete-copy");
            final LegoProcess p = v.p;
            final int index = v.index;
            final java.util.concurrent.CountDownLatch held = monitor(cluster, v.secondary).holdReplicaCopies();
            try
            {
                cluster.killMemoryMonitor(v.owner);
                await(() -> cluster.global().ownerOf(p.pid(), index) == v.secondary &&
                    cluster.global().secondaryOf(p.pid(), index) >= 0, "promoted and replicated again");
                cluster.killMemoryMonitor(v.secondary);
                await(() -> cluster.global().failoverCounts()[1] >= 1, "the GMM says the vRegion is lost");
                final long address = Math.max(v.base, (long)index * VREGION_BYTES);
                final SegmentationFault fault = assertThrows(SegmentationFault.class, () -> Loads.getLong(p, address),
                    "a wrong value instead of an error: the incomplete copy was promoted");
                assertEquals(Errno.EHOSTDOWN, fault.code(), fault.getMessage());
            }
            finally
            {
                held.countDown();
            }
        }
    }

    /**
     * Owner and secondary die while the ExCache holds dirty lines of their vRegion: the process's misses elsewhere
     * evict them, their write-backs fail, and the process must get a clear error rather than every miss waiting
     * forever for staging lines that cannot drain (a hang the kill test found).
     */
    @Test
    void shouldFaultRatherThanHangWhenDirtyLinesOfALostVRegionCannotBeWrittenBack()
    {
        try (EmbeddedCluster cluster = start())
        {
            final LegoProcess p = cluster.createProcess("dirty-and-lost");
            final long base = map(p);
            write(p, base, 1);
            final int index = victimIndex(cluster, p, base);
            final long victimBase = Math.max(base, (long)index * VREGION_BYTES);
            final long victimEnd = Math.min(base + REGION_BYTES, (long)(index + 1) * VREGION_BYTES);
            for (long a = victimBase; a < victimEnd; a += STRIDE)
            {
                p.putLong(a, value(a, 2)); // the ExCache ends full of the victim vRegion's dirty lines
            }
            final int owner = cluster.global().ownerOf(p.pid(), index);
            // Held: otherwise the owner's copy to the new secondary the GMM names when the secondary dies (the third
            // monitor) can finish before the owner dies, and that monitor then takes over with every line: nothing is
            // lost, and the test would fail though nothing is wrong.
            final java.util.concurrent.CountDownLatch held = monitor(cluster, owner).holdReplicaCopies();
            try
            {
                cluster.killMemoryMonitor(cluster.global().secondaryOf(p.pid(), index));
                cluster.killMemoryMonitor(owner);
                // Preemptive: a miss spinning on staging lines does not see an interrupt.
                final SegmentationFault fault = assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                    assertThrows(SegmentationFault.class, () ->
                    {
                        for (int round = 3; round < 10; round++)
                        {
                            for (long a = base; a < base + REGION_BYTES; a += STRIDE)
                            {
                                if (a < victimBase || a >= victimEnd)
                                {
                                    p.putLong(a, value(a, round));
                                }
                            }
                        }
                    }, "the dirty lines of the lost vRegion were dropped without an error"),
                    "the process's misses hang on staging lines that cannot be written back");
                assertEquals(Errno.EHOSTDOWN, fault.code(), fault.getMessage());
            }
            finally
            {
                held.countDown();
            }
        }
    }

    /** A process's vRegion owned by a monitor but the home, and its secondary (another monitor but the home). */
    private record Victim(LegoProcess p, long base, int index, int owner, int secondary)
    {
    }

    /** A process that wrote its region (round 1) and flushed it, and its victim vRegion. */
    private static Victim writtenAndFlushed(final EmbeddedCluster cluster, final String name)
    {
        final LegoProcess p = cluster.createProcess(name);
        final long base = map(p);
        write(p, base, 1);
        assertTrue(cluster.processor().cache().flushAndDropAll(p.pid()) >= 0);
        final int index = victimIndex(cluster, p, base);
        final int secondary = cluster.global().secondaryOf(p.pid(), index);
        assertTrue(secondary >= 0 && secondary != p.homeId(), () -> "a secondary but the home: " + state(cluster));
        return new Victim(p, base, index, cluster.global().ownerOf(p.pid(), index), secondary);
    }

    private static String state(final EmbeddedCluster cluster)
    {
        return cluster.global().describeMembers() + " failovers " +
            java.util.Arrays.toString(cluster.global().failoverCounts()) + " " + cluster.memoryMonitors();
    }

    /** A vRegion of the process whose owner is not its home (the home holds the process's map: not replicated). */
    private static int victimIndex(final EmbeddedCluster cluster, final LegoProcess p, final long base)
    {
        for (final int index : indexes(p, base))
        {
            if (cluster.global().ownerOf(p.pid(), index) != p.homeId())
            {
                return index;
            }
        }
        throw new AssertionError("every vRegion is at the home: " + p.homeId());
    }

    private static long map(final LegoProcess p)
    {
        final long base = p.mmap(0, REGION_BYTES, RW, ANON);
        assertTrue(base > 0, Errno.describe(base));
        return base;
    }

    private static List<Integer> indexes(final LegoProcess p, final long base)
    {
        final int first = p.vRegionMap().vRegionIndex(base);
        final int last = p.vRegionMap().vRegionIndex(base + REGION_BYTES - 1);
        final List<Integer> result = new java.util.ArrayList<>();
        for (int i = first; i <= last; i++)
        {
            result.add(i);
        }
        return result;
    }

    private static long value(final long address, final int round)
    {
        return address * 31 + round;
    }

    private static void write(final LegoProcess p, final long base, final int round)
    {
        for (long a = base; a < base + REGION_BYTES; a += STRIDE)
        {
            p.putLong(a, value(a, round));
        }
    }

    private static void checkAndWrite(final LegoProcess p, final long base, final int was, final int round)
    {
        for (long a = base; a < base + REGION_BYTES; a += STRIDE)
        {
            assertEquals(value(a, was), Loads.getLong(p, a), "at 0x" + Long.toHexString(a));
            p.putLong(a, value(a, round));
        }
    }

    /** Round {@code inside} in [first, end), {@code outside} elsewhere in the region. */
    private static void check(final LegoProcess p, final long base, final long first, final long end,
        final int inside, final int outside)
    {
        for (long a = base; a < base + REGION_BYTES; a += STRIDE)
        {
            assertEquals(value(a, a >= first && a < end ? inside : outside), Loads.getLong(p, a),
                "at 0x" + Long.toHexString(a));
        }
    }

    private static void check(final LegoProcess p, final long base, final int round)
    {
        for (long a = base; a < base + REGION_BYTES; a += STRIDE)
        {
            assertEquals(value(a, round), Loads.getLong(p, a), "at 0x" + Long.toHexString(a));
        }
    }

    private static MemoryMonitor monitor(final EmbeddedCluster cluster, final int memberId)
    {
        return cluster.memoryMonitors().stream().filter(m -> m.memberId() == memberId).findFirst().orElseThrow();
    }

    private static void await(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadlineNs, "timed out waiting: " + what);
            Thread.yield();
        }
    }
}
