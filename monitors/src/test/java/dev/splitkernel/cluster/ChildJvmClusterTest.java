package dev.splitkernel.cluster;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.ProcessorMonitorContext;
import dev.splitkernel.verbs.FabricContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The same scenarios with the global manager and both memory monitors in separate JVMs (started from this test's
 * classpath with the project's jvm.options), over the fabric a subclass names; the processor monitor runs here.
 * Every child is killed in {@link #stop()}; each wait for a child has a watchdog timeout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ChildJvmClusterTest extends ClusterScenarios
{
    private static final long START_TIMEOUT_MS = TimeUnit.NANOSECONDS.toMillis(6 * TIMEOUT_NS);

    private final List<ChildMonitor> children = new ArrayList<>();
    private ProcessorMonitor processor;

    @BeforeAll
    void start() throws Exception
    {
        final String projectDir = System.getProperty("splitkernel.projectDir");
        Assumptions.assumeTrue(projectDir != null,
            "system property splitkernel.projectDir is not set (run through Maven): cannot find jvm.options");
        final Path jvmOptions = Path.of(projectDir, "native-config", "jvm.options");
        Assumptions.assumeTrue(Files.isRegularFile(jvmOptions), "no " + jvmOptions + ": cannot start monitor JVMs");

        final String listen = listenHost() + ":0";
        final String global = startChild(jvmOptions, "global", "global", "--fabric", fabric(), "--listen", listen);
        for (int i = 0; i < 2; i++)
        {
            startChild(jvmOptions, "memory", "memory", "--fabric", fabric(), "--listen", listen,
                "--global", global, "--capacity", Long.toString(MEMORY_CAPACITY_BYTES),
                "--vregion", Long.toString(VREGION_BYTES));
        }
        processor = new ProcessorMonitor(new ProcessorMonitorContext()
            .fabricContext(new FabricContext().fabric(fabric())
                .busyPoll(Boolean.parseBoolean(System.getProperty(FabricContext.BUSY_POLL_PROP_NAME, "true"))))
            .listenAddress(listen)
            .globalAddress(global)
            .vRegionBytes(VREGION_BYTES)
            .timeoutNs(TIMEOUT_NS)
            .excache(new ExCacheContext().capacityBytes(EXCACHE_BYTES)));
    }

    private String startChild(final Path jvmOptions, final String role, final String... args) throws Exception
    {
        // The scenarios' capacities are sized for the vRegions alone: no replicas (FailoverTest covers those).
        final ChildMonitor child = ChildMonitor.startRole(role, "global".equals(role) ?
            List.of("-Xmx256m", "-Dsplitkernel.global.replication=false") : List.of("-Xmx256m"),
            List.of(args).subList(1, args.length), START_TIMEOUT_MS);
        children.add(child);
        return child.address();
    }

    @AfterAll
    void stop() throws InterruptedException
    {
        if (processor != null)
        {
            processor.close();
        }
        for (final ChildMonitor child : children)
        {
            child.close();
        }
    }

    /** The fabric of every monitor. */
    abstract String fabric();

    /** The address every monitor listens at (port 0 picks one). */
    abstract String listenHost();

    @Override
    ProcessorMonitor processor()
    {
        return processor;
    }

    @Override
    LegoProcess createProcess(final String name)
    {
        return processor.createProcess(name);
    }
}
