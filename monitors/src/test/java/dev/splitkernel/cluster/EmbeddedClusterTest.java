package dev.splitkernel.cluster;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scenarios with every monitor in this JVM over the local fabric (preset none: no emulated network time). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbeddedClusterTest extends ClusterScenarios
{
    private EmbeddedCluster cluster;

    @BeforeAll
    void start()
    {
        cluster = EmbeddedCluster.start(new ClusterContext()
            .fabric("local")
            .preset("none")
            .memoryMonitors(2)
            .memoryCapacityBytes(MEMORY_CAPACITY_BYTES)
            .vRegionBytes(VREGION_BYTES)
            .excache(new ExCacheContext().capacityBytes(EXCACHE_BYTES)));
    }

    @AfterAll
    void stop()
    {
        if (cluster != null)
        {
            cluster.close();
        }
    }

    @Override
    ProcessorMonitor processor()
    {
        return cluster.processor();
    }

    @Override
    LegoProcess createProcess(final String name)
    {
        return cluster.createProcess(name);
    }

    @Test
    void shouldPlaceProcessesThroughTheGpmAndFreeTheirMemoryAtExit()
    {
        final long committed0 = cluster.memoryMonitors().get(0).committedBytes()
            + cluster.memoryMonitors().get(1).committedBytes();
        try (LegoProcess p = cluster.createProcess("gpm"))
        {
            final long a = p.mmap(0, 4L << 20, RW, ANON);
            assertTrue(a > 0);
            assertTrue(cluster.memoryMonitors().get(0).committedBytes()
                + cluster.memoryMonitors().get(1).committedBytes() > committed0);
        }
        assertEquals(committed0, cluster.memoryMonitors().get(0).committedBytes()
            + cluster.memoryMonitors().get(1).committedBytes());
    }
}
