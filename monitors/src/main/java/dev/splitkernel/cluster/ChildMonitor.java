package dev.splitkernel.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A monitor in a child JVM of this one, for tests and benchmarks that need the real topology (monitors in processes
 * of their own): started with the project's JVM flags and this JVM's class path, its output pumped (and kept), its
 * address read from the line it prints once serving. {@link #close()} stops it (SIGTERM, then SIGKILL after 5 s);
 * {@link #kill()} kills it at once, as a crash would.
 * <p>
 * The JVM flags: the file named by {@code -Dsplitkernel.jvmOptions}, else {@code native-config/jvm.options} under
 * {@code -Dsplitkernel.projectDir}, else this JVM's own {@code --add-...} and {@code -XX:+Use...} flags; then this
 * JVM's own {@code -Dsplitkernel.*} settings and JIT limit.
 * <p>
 * Control path only. Thread-safe.
 */
public final class ChildMonitor implements AutoCloseable
{
    private final Process process;
    private final String address;
    private final StringBuilder output;

    private ChildMonitor(final Process process, final String address, final StringBuilder output)
    {
        this.process = process;
        this.address = address;
        this.output = output;
    }

    /**
     * {@code scripts/splitkernel ROLE ARGS} in a child JVM; returns once it prints {@code ROLE: listening at ADDR}.
     *
     * @param jvmArgs extra JVM arguments (system properties, -Xmx), before the class.
     * @throws IllegalStateException when it exits or does not listen within {@code startTimeoutMs}, with its output.
     */
    public static ChildMonitor startRole(final String role, final List<String> jvmArgs, final List<String> args,
        final long startTimeoutMs) throws IOException, InterruptedException
    {
        final List<String> mainArgs = new ArrayList<>();
        mainArgs.add(role);
        mainArgs.addAll(args);
        return start("dev.splitkernel.cli.Main", mainArgs, role + ": listening at ", jvmArgs, startTimeoutMs);
    }

    /**
     * Any main class in a child JVM; returns once a line of its output contains {@code marker}, and takes the rest of
     * that line as its address.
     */
    public static ChildMonitor start(final String mainClass, final List<String> mainArgs, final String marker,
        final List<String> jvmArgs, final long startTimeoutMs) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(mainArgs);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        final StringBuilder output = new StringBuilder();
        final BlockingQueue<String> found = new ArrayBlockingQueue<>(1);
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    synchronized (output)
                    {
                        output.append(line).append('\n');
                    }
                    final int at = line.indexOf(marker);
                    if (at >= 0)
                    {
                        found.offer(line.substring(at + marker.length()).trim());
                    }
                }
            }
            catch (final IOException ignore)
            {
                // the child went away: the start deadline or the caller notices
            }
        }, mainClass + "-output");
        reader.setDaemon(true);
        reader.start();
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(startTimeoutMs);
        String address = null;
        while (address == null && System.nanoTime() - deadlineNs < 0)
        {
            address = found.poll(100, TimeUnit.MILLISECONDS);
            if (address == null && !process.isAlive() && found.isEmpty())
            {
                reader.join(1_000);
                address = found.poll();
                if (address == null)
                {
                    throw new IllegalStateException(mainClass + " " + mainArgs + " exited with " + process.exitValue()
                        + ":\n" + text(output));
                }
            }
        }
        if (address == null)
        {
            process.destroyForcibly();
            throw new IllegalStateException(mainClass + " " + mainArgs + " did not start within " + startTimeoutMs
                + " ms:\n" + text(output));
        }
        return new ChildMonitor(process, address, output);
    }

    private static List<String> jvmFlags()
    {
        final List<String> flags = new ArrayList<>();
        final String file = System.getProperty("splitkernel.jvmOptions");
        final String projectDir = System.getProperty("splitkernel.projectDir");
        if (file != null && Files.isRegularFile(Path.of(file)))
        {
            flags.add("@" + Path.of(file).toAbsolutePath());
        }
        else if (projectDir != null && Files.isRegularFile(Path.of(projectDir, "native-config", "jvm.options")))
        {
            flags.add("@" + Path.of(projectDir, "native-config", "jvm.options").toAbsolutePath());
        }
        else
        {
            for (final String arg : ManagementFactory.getRuntimeMXBean().getInputArguments())
            {
                if (arg.startsWith("--add-") || arg.startsWith("-XX:+Use"))
                {
                    flags.add(arg);
                }
            }
        }
        // The settings this JVM was started with hold for its children too (deadlines raised for a slow machine,
        // the RDMA interface), as does a JIT limit a slow machine needs; the flags file is already there.
        for (final String arg : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if ((arg.startsWith("-Dsplitkernel.") && !arg.startsWith("-Dsplitkernel.jvmOptions="))
                || arg.startsWith("-XX:TieredStopAtLevel="))
            {
                flags.add(arg);
            }
        }
        return flags;
    }

    private static String text(final StringBuilder output)
    {
        synchronized (output)
        {
            return output.toString();
        }
    }

    /** The address it printed (with the port it chose). */
    public String address()
    {
        return address;
    }

    public Process process()
    {
        return process;
    }

    /** Everything it printed so far. */
    public String output()
    {
        return text(output);
    }

    /** Kill it at once (SIGKILL), as a crash would; waits until it is gone. */
    public void kill() throws InterruptedException
    {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS))
        {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
