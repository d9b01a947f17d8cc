package dev.splitkernel.monitor.status;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.Loads;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.runtime.MonitorErrors;
import dev.splitkernel.monitor.runtime.MonitorRuntime;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Prot;
import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusFileTest
{
    private static final int LINE = 4096;
    private static final int LINES = 64;

    /** N fresh lines written (N p-local misses), flushed (N write-backs), read back (N fetches), read again (N hits). */
    @Test
    void shouldCountAKnownWorkloadExactlyInTheStatusFile() throws IOException, InterruptedException
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(new ClusterContext()
            .fabric("local")
            .preset("none")
            .memoryMonitors(1)
            .oneSided(false)
            .memoryCapacityBytes(64L << 20)
            .excache(new ExCacheContext().capacityBytes(1L << 20))))
        {
            final ProcessorMonitor processor = cluster.processor();
            final MonitorStatus status = cluster.runtime().errors("processor-0").status();
            final MonitorStatus memoryStatus = cluster.runtime().errors("memory-0").status();
            final long hits0 = processor.cache().counters().hits();
            try (LegoProcess p = cluster.createProcess("counted"))
            {
                final long a = p.mmap(0, (long)LINES * LINE, Prot.PROT_READ | Prot.PROT_WRITE,
                    Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
                assertTrue(a > 0, Errno.describe(a));
                final StatusReader before = StatusReader.open(status.file());
                final long misses0 = value(before, "excache: misses");
                final long fetches0 = value(before, "processor: rpc fetches");
                final long missCount0 = status.histogram(StatusFileDescriptor.MISS_LATENCY).snapshot().getTotalCount();
                final long sentFetches0 = valueOrZero(before, "sent: LINE_FETCH");
                final long sentWriteBacks0 = valueOrZero(before, "sent: LINE_WRITE_BACK");
                final long calls0 = status.histogram(StatusFileDescriptor.RPC_CALL_LATENCY).snapshot().getTotalCount();
                for (int i = 0; i < LINES; i++)
                {
                    p.putLong(a + (long)i * LINE, i);
                }
                assertTrue(processor.cache().flushAndDrop(p.pid(), a, (long)LINES * LINE) >= 0);
                for (int i = 0; i < LINES; i++)
                {
                    assertEquals(i, Loads.getLong(p, a + (long)i * LINE));
                }
                final long hitsBefore = processor.cache().counters().hits();
                for (int i = 0; i < LINES; i++)
                {
                    assertEquals(i, Loads.getLong(p, a + (long)i * LINE));
                }
                assertEquals(LINES, processor.cache().counters().hits() - hitsBefore);
                // Through per-thread views, as the main job's threads load: their hits are counted in the views and
                // in the file's total too, exactly, whether the view is still open (this one, until the end) or not.
                final LegoProcess.ThreadMemory view = p.threadMemory();
                for (int i = 0; i < LINES; i++)
                {
                    assertEquals(i, view.getLong(a + (long)i * LINE));
                }
                final long[] otherSum = new long[1];
                final Thread other = new Thread(() ->
                {
                    try (LegoProcess.ThreadMemory memory = p.threadMemory())
                    {
                        for (int i = 0; i < LINES; i++)
                        {
                            otherSum[0] += memory.getLong(a + (long)i * LINE);
                        }
                    }
                });
                other.start();
                other.join(60_000);
                assertEquals((long)LINES * (LINES - 1) / 2, otherSum[0]);
                assertEquals(3 * LINES, processor.cache().counters().hits() - hitsBefore);

                status.publish();
                memoryStatus.publish();
                final StatusReader reader = StatusReader.open(status.file());
                assertEquals("processor-0", reader.monitorName());
                assertEquals(ProcessHandle.current().pid(), reader.pid());
                assertEquals("running", reader.state(System.currentTimeMillis()));
                assertEquals(2 * LINES, value(reader, "excache: misses") - misses0);
                assertEquals(LINES, value(reader, "excache: p-local fills"));
                assertEquals(LINES, value(reader, "excache: write-backs"));
                assertEquals(LINES, value(reader, "processor: write-backs"));
                assertEquals(LINES, value(reader, "processor: rpc fetches") - fetches0);
                assertEquals(processor.cache().counters().hits(), value(reader, "excache: hits"));
                assertTrue(value(reader, "excache: hits") - hits0 >= 3 * LINES);
                view.close();
                assertEquals(value(reader, "excache: hits"), processor.cache().counters().hits());
                assertEquals(LINES, reader.histogram(StatusFileDescriptor.MISS_LATENCY).getTotalCount() - missCount0);
                assertEquals(LINES, reader.histogram(StatusFileDescriptor.WRITE_BACK_LATENCY).getTotalCount());
                // The processor's side of the same RPCs: sent by opcode; their round trips are the misses and
                // write-backs timed above, not timed again as calls (the background agents' few calls are).
                assertEquals(LINES, value(reader, "sent: LINE_FETCH") - sentFetches0);
                assertEquals(LINES, value(reader, "sent: LINE_WRITE_BACK") - sentWriteBacks0);
                assertTrue(reader.histogram(StatusFileDescriptor.RPC_CALL_LATENCY).getTotalCount() - calls0 < LINES);

                final StatusReader memory = StatusReader.open(memoryStatus.file());
                assertEquals(LINES, value(memory, "memory: line write-backs"));
                assertEquals(LINES, value(memory, "served: LINE_WRITE_BACK"));
                assertEquals(LINES, value(memory, "served: LINE_FETCH"));
                // Served, the data path is counted by opcode above and not timed (the misses are, at the processor).
                assertTrue(memory.histogram(StatusFileDescriptor.RPC_LATENCY).getTotalCount() < LINES);
                assertTrue(memory.counters().stream().anyMatch(c -> c.label().contains("vRegion")
                    && c.label().contains("pid " + p.pid()) && c.value() >= (long)LINES * LINE), memory.counters()
                    .toString());
            }
        }
    }

    /**
     * The embedded cluster's own client ("cluster", a peer that is no monitor) keeps its status file's heartbeat
     * going: stat once listed it dead while its JVM ran, because nothing published its file after it opened.
     */
    @Test
    void shouldKeepAPeersStatusRunningWhileItsClusterRuns() throws IOException
    {
        final int intervalMs = 20;
        final String previous = System.setProperty(MonitorStatus.INTERVAL_PROP_NAME, Integer.toString(intervalMs));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(new ClusterContext()
            .fabric("local")
            .preset("none")
            .memoryMonitors(1)
            .memoryCapacityBytes(64L << 20)
            .excache(new ExCacheContext().capacityBytes(1L << 20))))
        {
            final StatusReader peer = StatusReader.open(cluster.runtime().errors("cluster").status().file());
            assertEquals(intervalMs, peer.intervalMs());
            // Past the liveness window: a file nobody publishes has gone stale by then.
            final long staleAfterMs = peer.startTimeMs() + (StatusReader.LIVENESS_INTERVALS + 2L) * intervalMs;
            final long deadlineMs = System.currentTimeMillis() + 30_000;
            while (peer.heartbeatMs() <= staleAfterMs && System.currentTimeMillis() < deadlineMs)
            {
                LockSupport.parkNanos(intervalMs * 1_000_000L);
            }
            assertTrue(peer.heartbeatMs() > staleAfterMs, "the peer's heartbeat stopped at " +
                (peer.heartbeatMs() - peer.startTimeMs()) + " ms after its start");
            assertEquals("running", peer.state(System.currentTimeMillis()));
        }
        finally
        {
            if (previous == null)
            {
                System.clearProperty(MonitorStatus.INTERVAL_PROP_NAME);
            }
            else
            {
                System.setProperty(MonitorStatus.INTERVAL_PROP_NAME, previous);
            }
        }
    }

    @Test
    void shouldLogARepeatedAgentErrorOnceWithItsCountWhileTheAgentKeepsRunning() throws IOException
    {
        final AtomicLong cycles = new AtomicLong();
        final int failures = 50;
        try (MonitorRuntime runtime = MonitorRuntime.launch())
        {
            final MonitorErrors errors = runtime.errors("failing-test-monitor");
            try (AutoCloseable ignored = runtime.runBackground(new Agent()
            {
                @Override
                public int doWork()
                {
                    if (cycles.incrementAndGet() <= failures)
                    {
                        throw new IllegalStateException("the same failure");
                    }
                    return 0;
                }

                @Override
                public String roleName()
                {
                    return "failing";
                }
            }, errors))
            {
                final long deadlineNs = System.nanoTime() + 10_000_000_000L;
                while (cycles.get() < failures + 100 && System.nanoTime() - deadlineNs < 0)
                {
                    LockSupport.parkNanos(1_000_000);
                }
                assertTrue(cycles.get() >= failures + 100, "the agent kept running after its errors: " + cycles);
            }
            catch (final Exception ex)
            {
                throw new AssertionError(ex);
            }
            final StatusReader reader = StatusReader.open(errors.status().file());
            final List<StatusReader.DistinctError> distinct = reader.errors();
            assertEquals(1, distinct.size(), distinct.toString());
            assertEquals(failures, distinct.get(0).count());
            assertTrue(distinct.get(0).text().contains("the same failure"), distinct.get(0).text());
            assertTrue(distinct.get(0).lastMs() >= distinct.get(0).firstMs());
            assertEquals(failures, value(reader, "errors"));
        }
    }

    @Test
    void shouldRemoveOnlyFilesOfStoppedMonitorsOnceTheyAreOld(@TempDir final Path dir) throws IOException
    {
        final MonitorStatus closed = MonitorStatus.open("closed-one", dir, false, 50);
        closed.close();
        final MonitorStatus running = MonitorStatus.open("running-one", dir, false, 50);
        final long nowMs = System.currentTimeMillis();
        MonitorStatus.prune(dir, nowMs, MonitorStatus.KEEP_STOPPED);
        assertTrue(Files.exists(closed.file()), "a fresh closed file stays");
        MonitorStatus.prune(dir, nowMs + MonitorStatus.KEEP_MS + 60_000, MonitorStatus.KEEP_STOPPED);
        assertFalse(Files.exists(closed.file()), "an old closed file goes");
        running.close();
    }

    @Test
    void shouldKeepOnlyTheNewestStoppedFilesBeyondTheCap(@TempDir final Path dir) throws IOException
    {
        final Map<Path, Long> heartbeats = new HashMap<>();
        for (int i = 0; i < 10; i++)
        {
            final MonitorStatus status = MonitorStatus.open("stopped-" + i, dir, false, 50);
            status.close();
            final StatusReader reader = StatusReader.open(status.file());
            heartbeats.put(status.file(), reader.heartbeatMs());
            reader.unmap();
        }
        final MonitorStatus running = MonitorStatus.open("running-one", dir, false, 50);
        MonitorStatus.prune(dir, System.currentTimeMillis(), 4);
        assertTrue(Files.exists(running.file()), "a running monitor's file stays, whatever the cap");
        final List<Path> kept = heartbeats.keySet().stream().filter(Files::exists).toList();
        assertEquals(4, kept.size(), "stopped files kept: " + kept);
        final long oldestKept = kept.stream().mapToLong(heartbeats::get).min().orElseThrow();
        final long newestRemoved = heartbeats.entrySet().stream().filter(e -> !kept.contains(e.getKey()))
            .mapToLong(Map.Entry::getValue).max().orElseThrow();
        assertTrue(oldestKept >= newestRemoved, "the newest stay: kept from " + oldestKept + ", removed up to " +
            newestRemoved);
        running.close();
    }

    @Test
    void shouldLeaveNoMappingOfTheFilesItPrunes(@TempDir final Path dir) throws IOException
    {
        for (int i = 0; i < 20; i++)
        {
            MonitorStatus.open("stopped-" + i, dir, false, 50).close();
        }
        final long before = mappingsOf(dir);
        for (int i = 0; i < 5; i++)
        {
            MonitorStatus.prune(dir, System.currentTimeMillis(), MonitorStatus.KEEP_STOPPED);
        }
        // Without unmapping, each prune kept one mapping per file until a garbage collection: 100 here.
        assertEquals(before, mappingsOf(dir), "mappings of the status files after 5 prunes of 20 files");
    }

    private static long mappingsOf(final Path dir) throws IOException
    {
        final String prefix = dir.toRealPath().toString();
        try (java.util.stream.Stream<String> lines = Files.lines(Path.of("/proc/self/maps")))
        {
            return lines.filter(line -> line.contains(prefix)).count();
        }
    }

    private static long valueOrZero(final StatusReader reader, final String label)
    {
        return reader.counters().stream().filter(c -> c.label().equals(label)).mapToLong(StatusReader.Counter::value)
            .sum();
    }

    private static long value(final StatusReader reader, final String label)
    {
        final List<StatusReader.Counter> matching = reader.counters().stream().filter(c -> c.label().equals(label))
            .toList();
        assertEquals(1, matching.size(), "one counter '" + label + "' in " + reader.counters());
        return matching.get(0).value();
    }
}
