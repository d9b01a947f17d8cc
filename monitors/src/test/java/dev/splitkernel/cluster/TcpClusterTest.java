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
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The same scenarios with the global manager and both memory monitors in separate JVMs (started from this test's
 * classpath with the project's jvm.options), over tcp on loopback; the processor monitor runs here. Every child is
 * killed in {@link #stop()}; each wait for a child has a watchdog timeout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TcpClusterTest extends ClusterScenarios
{
    private static final long START_TIMEOUT_MS = 30_000;

    private final List<Process> children = new ArrayList<>();
    private ProcessorMonitor processor;

    @BeforeAll
    void start() throws Exception
    {
        final String projectDir = System.getProperty("splitkernel.projectDir");
        Assumptions.assumeTrue(projectDir != null,
            "system property splitkernel.projectDir is not set (run through Maven): cannot find jvm.options");
        final Path jvmOptions = Path.of(projectDir, "native-config", "jvm.options");
        Assumptions.assumeTrue(Files.isRegularFile(jvmOptions), "no " + jvmOptions + ": cannot start monitor JVMs");

        final String global = startChild(jvmOptions, "global", "global", "--fabric", "tcp",
            "--listen", "127.0.0.1:0");
        for (int i = 0; i < 2; i++)
        {
            startChild(jvmOptions, "memory", "memory", "--fabric", "tcp", "--listen", "127.0.0.1:0",
                "--global", global, "--capacity", Long.toString(MEMORY_CAPACITY_BYTES),
                "--vregion", Long.toString(VREGION_BYTES));
        }
        processor = new ProcessorMonitor(new ProcessorMonitorContext()
            .fabricContext(new FabricContext().fabric("tcp").busyPoll(true))
            .listenAddress("127.0.0.1:0")
            .globalAddress(global)
            .vRegionBytes(VREGION_BYTES)
            .timeoutNs(TimeUnit.SECONDS.toNanos(5))
            .excache(new ExCacheContext().capacityBytes(EXCACHE_BYTES)));
    }

    private String startChild(final Path jvmOptions, final String role, final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("@" + jvmOptions);
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.splitkernel.cli.Main");
        command.addAll(List.of(args));
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        children.add(child);
        final BlockingQueue<String> lines = new ArrayBlockingQueue<>(1000);
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    lines.offer(line);
                }
            }
            catch (final IOException ignore)
            {
                // the child went away; the watchdog below reports it
            }
        }, role + "-output");
        reader.setDaemon(true);
        reader.start();
        final String prefix = role + ": listening at ";
        final long deadlineMs = System.currentTimeMillis() + START_TIMEOUT_MS;
        final StringBuilder seen = new StringBuilder();
        while (System.currentTimeMillis() < deadlineMs)
        {
            final String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null)
            {
                seen.append(line).append(File.separatorChar == '/' ? "\n" : "\r\n");
                if (line.startsWith(prefix))
                {
                    return line.substring(prefix.length()).trim();
                }
            }
            else if (!child.isAlive() && lines.isEmpty())
            {
                throw new IllegalStateException(role + " JVM exited with " + child.exitValue() + ":\n" + seen);
            }
        }
        throw new IllegalStateException(role + " JVM did not start listening within " + START_TIMEOUT_MS + " ms:\n"
            + seen);
    }

    @AfterAll
    void stop() throws InterruptedException
    {
        if (processor != null)
        {
            processor.close();
        }
        for (final Process child : children)
        {
            child.destroy();
        }
        for (final Process child : children)
        {
            if (!child.waitFor(5, TimeUnit.SECONDS))
            {
                child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

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
