package dev.splitkernel.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the project's scripts from tests, each with a watchdog timeout; children run from the test's classes. */
final class ScriptRunner
{
    /** What a script printed (stdout and stderr together) and its exit code. */
    static final class Result
    {
        final int exitCode;
        final String output;

        Result(final int exitCode, final String output)
        {
            this.exitCode = exitCode;
            this.output = output;
        }

        @Override
        public String toString()
        {
            return "exit " + exitCode + ":\n" + output;
        }
    }

    private final Path projectDir;
    private final Map<String, String> env;

    ScriptRunner(final Path projectDir, final Map<String, String> env)
    {
        this.projectDir = projectDir;
        this.env = env;
    }

    Path projectDir()
    {
        return projectDir;
    }

    /** Run {@code scripts/NAME args...} (or any command); kills it (and fails) after {@code timeoutS}. */
    Result run(final long timeoutS, final String... command) throws IOException, InterruptedException
    {
        final Process process = start(command);
        if (!process.waitFor(timeoutS, TimeUnit.SECONDS))
        {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError(String.join(" ", command) + " did not finish within " + timeoutS + " s");
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(),
            StandardCharsets.UTF_8));
    }

    /** Start {@code scripts/NAME args...} with output to a pipe (stdout and stderr together). */
    Process start(final String... command) throws IOException
    {
        final List<String> line = new ArrayList<>(List.of(command));
        if (command[0].startsWith("scripts/"))
        {
            line.set(0, projectDir.resolve(command[0]).toString());
        }
        final ProcessBuilder builder = new ProcessBuilder(line).directory(projectDir.toFile()).redirectErrorStream(true);
        builder.environment().put("SPLITKERNEL_CLASSPATH", classpathSnapshot());
        builder.environment().remove("SPLITKERNEL_JAVA_OPTS");
        builder.environment().putAll(env);
        return builder.start();
    }

    private static String classpathSnapshot;

    /**
     * The test's classpath with its class folders copied once to a temporary folder: the child JVMs keep working
     * when a build elsewhere in the checkout rewrites target/classes while they run.
     */
    static synchronized String classpathSnapshot() throws IOException
    {
        if (classpathSnapshot == null)
        {
            final Path copies = Files.createTempDirectory("sk-classpath");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(copies), "sk-classpath-cleanup"));
            final List<String> entries = new ArrayList<>();
            int n = 0;
            for (final String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            {
                final Path source = Path.of(entry);
                if (Files.isDirectory(source))
                {
                    final Path target = copies.resolve(Integer.toString(n++));
                    try (java.util.stream.Stream<Path> files = Files.walk(source))
                    {
                        for (final Path file : (Iterable<Path>)files::iterator)
                        {
                            final Path to = target.resolve(source.relativize(file).toString());
                            if (Files.isDirectory(file))
                            {
                                Files.createDirectories(to);
                            }
                            else
                            {
                                Files.copy(file, to);
                            }
                        }
                    }
                    entries.add(target.toString());
                }
                else
                {
                    entries.add(entry);
                }
            }
            classpathSnapshot = String.join(java.io.File.pathSeparator, entries);
        }
        return classpathSnapshot;
    }

    /** Delete a folder and everything in it, as far as possible (cleanup: never fails the test). */
    static void deleteTree(final Path root)
    {
        if (root == null || !Files.exists(root))
        {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(root))
        {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        }
        catch (final IOException | java.io.UncheckedIOException ignore)
        {
            // best effort: a temporary folder left behind is harmless
        }
    }

    static Path projectDirOrNull()
    {
        final String dir = System.getProperty("splitkernel.projectDir");
        if (dir == null)
        {
            return null;
        }
        final Path path = Path.of(dir);
        return Files.isExecutable(path.resolve("scripts/splitkernel")) ? path : null;
    }
}
