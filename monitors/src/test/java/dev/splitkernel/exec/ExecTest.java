package dev.splitkernel.exec;

import dev.splitkernel.exec.linux.Userfaultfd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unmodified C programs (src/test/c, built by Maven) under {@code splitkernel exec} with a small ExCache: their
 * output must equal their native run's, with pages fetched, evicted and written back on the way (a lost or corrupt
 * dirty page changes the checksum). The long tallies (10 runs each) are in {@code scripts/bench exec}.
 */
class ExecTest
{
    static final Path PROGRAMS = Path.of(System.getProperty("splitkernel.projectDir", "."), "monitors", "target",
        "test-programs");

    @TempDir
    Path tmp;

    @BeforeAll
    static void needsUserfaultfd()
    {
        final String why = Userfaultfd.probe();
        if (why != null)
        {
            System.out.println("ExecTest skipped: " + why);
        }
        Assumptions.assumeTrue(why == null, why);
        Assumptions.assumeTrue(Files.isExecutable(PROGRAMS.resolve("random_rw")),
            "the test programs were not built (" + PROGRAMS + ")");
    }

    @Test
    @Timeout(300)
    void shouldRunRandomReadsAndWritesAtQuarterExcacheWithNativeOutput() throws Exception
    {
        final List<String> command = List.of(program("random_rw"), "16", "200000", "11");
        final Run run = exec(ExecOptions.of(command).withExcacheBytes(4L << 20));
        assertEquals(0, run.result.exitCode(), run.stderr);
        assertEquals(nativeOutput(command), run.stdout);
        final ExecCounts c = run.result.counts();
        assertTrue(c.fetches() > 1000, "pages fetched back from memory monitors: " + c);
        assertTrue(c.writeBacks() > 1000, "dirty pages written back: " + c);
        assertTrue(c.residentPeak() <= 1024, "resident pages within the ExCache: " + c);
    }

    @Test
    @Timeout(300)
    void shouldRunThreadsSharingTheHeapAtQuarterExcacheWithNativeOutput() throws Exception
    {
        final List<String> command = List.of(program("threads_rw"), "4", "16", "60000");
        final Run run = exec(ExecOptions.of(command).withExcacheBytes(4L << 20).withPolicy("clock"));
        assertEquals(0, run.result.exitCode(), run.stderr);
        assertEquals(nativeOutput(command), run.stdout);
        final ExecCounts c = run.result.counts();
        assertTrue(c.fetches() > 1000 && c.writeBacks() > 1000, "pages fetched and written back: " + c);
    }

    /** GNU sort of 100 MB, once with no ExCache limit (which measures its heap) and once at 25% of that heap. */
    @Test
    @Timeout(900)
    void shouldSortAHundredMegabytesAtQuarterExcacheLikeNativeSort() throws Exception
    {
        final Path input = tmp.resolve("input.txt");
        RandomLines.write(input, 100L << 20, 42);
        final Path expected = tmp.resolve("expected.txt");
        final Process sort = new ProcessBuilder("sort", input.toString()).redirectOutput(expected.toFile()).start();
        assertTrue(sort.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, sort.exitValue());
        final List<String> command = List.of("sort", input.toString());

        final Path all = tmp.resolve("unlimited.txt");
        final ExecResult unlimited = new ExecRunner(System.err).run(ExecOptions.of(command),
            ProcessBuilder.Redirect.to(all.toFile()), ProcessBuilder.Redirect.INHERIT);
        assertEquals(0, unlimited.exitCode());
        assertEquals(-1L, Files.mismatch(expected, all), "sort's output with no ExCache limit");
        Files.delete(all);

        final long heapBytes = unlimited.counts().touchedPages() * 4096;
        final Path quarter = tmp.resolve("quarter.txt");
        final ExecResult r = new ExecRunner(System.err).run(ExecOptions.of(command).withExcacheBytes(heapBytes / 4),
            ProcessBuilder.Redirect.to(quarter.toFile()), ProcessBuilder.Redirect.INHERIT);
        assertEquals(0, r.exitCode());
        assertEquals(-1L, Files.mismatch(expected, quarter), "sort's output at an ExCache of 25% of its heap");
        assertTrue(r.counts().writeBacks() > 0 && r.counts().fetches() > 0, "pages moved: " + r.counts());
        System.out.println("sort 100 MB at 25% of its " + (heapBytes >> 20) + " MiB heap: " + r.counts());
    }

    @Test
    @Timeout(120)
    void shouldKeepAChildForkedWithoutExecOffItsParentsHeap() throws Exception
    {
        final Run run = exec(ExecOptions.of(List.of(program("fork_child"), "touch")));
        assertEquals(0, run.result.exitCode(), run.stderr);
        assertTrue(run.stdout.contains("child heap ok c"), run.stdout);
        assertTrue(run.stdout.contains("parent heap intact; child killed by a signal"), run.stdout);
        assertTrue(run.stderr.contains("touched its parent's heap"), run.stderr);
        assertEquals(1, run.result.local().forks());
    }

    @Test
    @Timeout(120)
    void shouldRunProgramsStartedByExecOutsideTheEmulationAndSaySoOnce() throws Exception
    {
        final Run run = exec(ExecOptions.of(List.of("/bin/sh", "-c", "ls / >/dev/null; ls / >/dev/null; echo done")));
        assertEquals(0, run.result.exitCode(), run.stderr);
        assertEquals("done\n", run.stdout);
        assertEquals(2, run.result.outsideExecs());
        assertEquals(1, run.stderr.split("said once", -1).length - 1, run.stderr);
    }

    @Test
    void shouldRefuseAStaticBinaryWithAClearMessage()
    {
        final ExecException ex = org.junit.jupiter.api.Assertions.assertThrows(ExecException.class,
            () -> exec(ExecOptions.of(List.of(program("random_rw_static"), "1", "1", "1"))));
        assertTrue(ex.getMessage().contains("statically linked"), ex.getMessage());
        assertEquals(ExecRunner.CANNOT_EXECUTE, ex.exitCode());
    }

    /**
     * No userfaultfd permission, for real: the program runs as nobody (--user) with vm.unprivileged_userfaultfd 0,
     * so the kernel refuses its preload library's userfaultfd (EPERM, and /dev/userfaultfd is root's). The preload
     * asks for kernel-mode faults too (no UFFD_USER_MODE_ONLY, which an unprivileged process could still get): the
     * kernel's own accesses to the heap, as read(2) into a malloc'ed buffer, must be served.
     */
    @Test
    @Timeout(120)
    void shouldRefuseAProgramWithoutUserfaultfdPermissionWithAClearMessage() throws Exception
    {
        assumeUnprivilegedUserAvailable();
        final Run run = withUnprivilegedUserfaultfd("0",
            () -> exec(ExecOptions.of(List.of("true")).withUser(UNPRIVILEGED)));
        assertEquals(ExecRunner.CANNOT_EXECUTE, run.result.exitCode(), run.stderr);
        assertTrue(run.stderr.contains("splitkernel exec: userfaultfd refused (Operation not permitted): run as root, "
            + "or set sysctl vm.unprivileged_userfaultfd=1"), run.stderr);
        assertTrue(run.stderr.contains("could not start under the emulation (exit 126)"), run.stderr);
        assertEquals(null, run.result.counts(), "never served");
    }

    /** The same user with vm.unprivileged_userfaultfd 1: served, with sort reading into its heap (kernel faults). */
    @Test
    @Timeout(300)
    void shouldServeAnUnprivilegedProgramWhenTheSysctlAllowsIt() throws Exception
    {
        assumeUnprivilegedUserAvailable();
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // nobody reads the input
        final Path input = tmp.resolve("input.txt");
        RandomLines.write(input, 8L << 20, 7);
        final List<String> command = List.of("sort", input.toString());
        final Run run = withUnprivilegedUserfaultfd("1",
            () -> exec(ExecOptions.of(command).withUser(UNPRIVILEGED).withExcacheBytes(1L << 20)));
        assertEquals(0, run.result.exitCode(), run.stderr);
        assertEquals(nativeOutput(command), run.stdout);
        assertTrue(run.result.counts().fetches() > 0 && run.result.counts().writeBacks() > 0, "pages moved: "
            + run.result.counts());
    }

    static final String UNPRIVILEGED = "nobody";
    static final Path UNPRIVILEGED_USERFAULTFD = Path.of("/proc/sys/vm/unprivileged_userfaultfd");
    static final Path DEV_USERFAULTFD = Path.of("/dev/userfaultfd");

    static void assumeUnprivilegedUserAvailable() throws Exception
    {
        final String why;
        if (!Files.isWritable(UNPRIVILEGED_USERFAULTFD))
        {
            why = UNPRIVILEGED_USERFAULTFD + " is not writable here (not root)";
        }
        else if (ProgramCheck.resolve("setpriv") == null)
        {
            why = "no setpriv (util-linux) to run a program as " + UNPRIVILEGED;
        }
        else if (new ProcessBuilder("id", UNPRIVILEGED).start().waitFor() != 0)
        {
            why = "no user " + UNPRIVILEGED;
        }
        else if (Files.exists(DEV_USERFAULTFD) && Files.getPosixFilePermissions(DEV_USERFAULTFD).containsAll(
            List.of(PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE)))
        {
            why = "/dev/userfaultfd is open to every user: an unprivileged program is never refused here";
        }
        else
        {
            why = null;
        }
        if (why != null)
        {
            System.out.println("ExecTest: unprivileged-user test skipped: " + why);
        }
        Assumptions.assumeTrue(why == null, why);
    }

    /** Run with the sysctl set to {@code value}, restored after (it is the machine's). */
    static Run withUnprivilegedUserfaultfd(final String value, final Callable<Run> body) throws Exception
    {
        final String saved = Files.readString(UNPRIVILEGED_USERFAULTFD).trim();
        try
        {
            Files.writeString(UNPRIVILEGED_USERFAULTFD, value);
            return body.call();
        }
        finally
        {
            Files.writeString(UNPRIVILEGED_USERFAULTFD, saved);
        }
    }

    @Test
    @Timeout(120)
    void shouldStopTheProgramWithAMessageWhenItsMemoryMonitorsDie() throws Exception
    {
        final List<String> command = List.of(program("random_rw"), "16", "500000000", "3");
        final ExecRunner runner = new ExecRunner(null).onServing(cluster ->
        {
            final Thread killer = new Thread(() ->
            {
                // Kill them mid-run: once the program's misses are being served. Past the deadline they are killed
                // anyway; the program then either never ran (no exit 125: the test fails) or runs into the dead
                // monitors as it should, so no timing makes the test pass wrongly.
                pollUntil(() -> cluster.processor().cache().counters().misses() >= 1_000,
                    System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
                // A dead monitor: gone, and its fabric endpoint with it (closing the monitor alone leaves its
                // registered memory readable in this JVM).
                cluster.memoryMonitors().forEach(m ->
                {
                    m.close();
                    m.fabric().close();
                });
            });
            killer.setDaemon(true);
            killer.start();
        });
        final Run run = exec(runner, ExecOptions.of(command).withExcacheBytes(4L << 20));
        assertEquals(125, run.result.exitCode(), run.stderr);
        assertTrue(run.result.failure() != null && run.result.failure().contains("memory monitor"), run.stderr);
        assertTrue(run.stderr.contains("stopped by the processor monitor"), run.stderr);
    }

    @Test
    @Timeout(120)
    void shouldStopTheProgramWithAMessageWhenItsFaultHandlerDies() throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString(), "@" + Path.of(System.getProperty("splitkernel.projectDir", "."), "native-config", "jvm.options"),
            "-cp", System.getProperty("java.class.path"), "dev.splitkernel.cli.Main", "exec", "--",
            program("random_rw"), "16", "500000000", "5"));
        final Process jvm = new ProcessBuilder(command).redirectErrorStream(true).start();
        final ByteArrayOutputStream output = new ByteArrayOutputStream();
        final Thread reader = new Thread(() ->
        {
            try
            {
                jvm.getInputStream().transferTo(output);
            }
            catch (final IOException ignored)
            {
                // the stream ends with the processes
            }
        });
        reader.start();
        final AtomicReference<ProcessHandle> found = new AtomicReference<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        pollUntil(() ->
        {
            jvm.children().filter(c -> c.info().command().orElse("").endsWith("random_rw")).findFirst()
                .ifPresent(found::set);
            return found.get() != null;
        }, deadline);
        final ProcessHandle program = found.get();
        assertTrue(program != null, "the program did not start: " + output);
        // A deliberate wait, not synchronisation: let the program run (its faults are served as it goes) until it
        // has used 300 ms of CPU, so that the kill lands mid-run. The timing decides only when the handler dies;
        // the test passes only if the program then reports it gone, so no timing makes it pass wrongly.
        pollUntil(() -> program.info().totalCpuDuration().map(cpu -> cpu.toMillis() >= 300).orElse(false)
            || !program.isAlive(), deadline);
        jvm.toHandle().destroyForcibly(); // SIGKILL; Process.destroyForcibly would also close our end of its output
        assertTrue(jvm.waitFor(30, TimeUnit.SECONDS));
        assertTrue(program.onExit().get(30, TimeUnit.SECONDS) != null);
        assertFalse(program.isAlive());
        reader.join(10_000);
        final String text = output.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("the fault handler is gone"), "the program said: " + text);
    }

    /**
     * Look at {@code condition} every 10 ms until it holds or {@code deadlineNs} (System.nanoTime) passes: polling
     * with a deadline, the pause only spacing the looks. Returns whether it held.
     */
    static boolean pollUntil(final BooleanSupplier condition, final long deadlineNs)
    {
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs >= 0)
            {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            if (Thread.currentThread().isInterrupted())
            {
                return condition.getAsBoolean();
            }
        }
        return true;
    }

    static String program(final String name)
    {
        return PROGRAMS.resolve(name).toString();
    }

    Run exec(final ExecOptions options) throws Exception
    {
        return exec(new ExecRunner(null), options);
    }

    /** Run with the program's stdout in {@link Run#stdout}, and its stderr and the runner's in {@link Run#stderr}. */
    Run exec(final ExecRunner runner, final ExecOptions options) throws Exception
    {
        final Path out = Files.createTempFile(tmp, "stdout", ".txt");
        final Path programErr = Files.createTempFile(tmp, "stderr", ".txt");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final ExecResult result;
        try (PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            result = runner.err(errStream).run(options, ProcessBuilder.Redirect.to(out.toFile()),
                ProcessBuilder.Redirect.to(programErr.toFile()));
        }
        return new Run(result, Files.readString(out), Files.readString(programErr) + err.toString(StandardCharsets.UTF_8));
    }

    static String nativeOutput(final List<String> command) throws IOException, InterruptedException
    {
        final Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    record Run(ExecResult result, String stdout, String stderr)
    {
    }
}
