package dev.splitkernel.cluster;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code progress_watch} of scripts/lib/common.sh, as {@code native-config/softroce-vm} uses it for its guests' start:
 * plain lines in CI, one per change of the steps the guests write, ending at the total or when the guests are gone.
 */
class ProgressWatchScriptTest
{
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(30);

    @TempDir
    Path dir;

    @Test
    void shouldPrintOnePlainLinePerChangeInCiAndEndAtTheTotal() throws Exception
    {
        final Process guest = new ProcessBuilder("sleep", "60").start();
        try
        {
            final Process watch = watch(guest.pid());
            awaitLine("[0/6] waiting, waiting");
            write("guest0", "1 guest 0: booted");
            awaitLine("[1/6] guest 0: booted, waiting");
            write("guest0", "3 guest 0: command started");
            write("guest1", "3 guest 1: command started");
            assertTrue(watch.waitFor(30, TimeUnit.SECONDS), "progress_watch ends at the total");
            assertEquals(0, watch.exitValue());
            final List<String> lines = lines();
            assertEquals("[6/6] guest 0: command started, guest 1: command started", lines.get(lines.size() - 1));
            assertEquals(lines.size(), lines.stream().distinct().count(), "a line per change only: " + lines);
        }
        finally
        {
            guest.destroyForcibly();
        }
    }

    @Test
    void shouldEndWhenTheGuestsAreGoneBeforeTheTotal() throws Exception
    {
        final Process guest = new ProcessBuilder("sleep", "60").start();
        final Process watch = watch(guest.pid());
        write("guest0", "1 guest 0: booted");
        awaitLine("[1/6] guest 0: booted, waiting");
        guest.destroyForcibly().waitFor();
        assertTrue(watch.waitFor(30, TimeUnit.SECONDS), "progress_watch ends when no guest is alive");
        assertEquals(0, watch.exitValue());
    }

    private Process watch(final long guestPid) throws IOException
    {
        final Path projectDir = ScriptRunner.projectDirOrNull();
        Assumptions.assumeTrue(projectDir != null, "splitkernel.projectDir is not set (run through Maven)");
        final ProcessBuilder builder = new ProcessBuilder("bash", "-c",
            ". scripts/lib/common.sh && progress_watch 6 \"$GUEST_PID\" \"$0\" \"$1\"",
            dir.resolve("guest0").toString(), dir.resolve("guest1").toString())
            .directory(projectDir.toFile())
            .redirectError(dir.resolve("stderr").toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("CI", "true");
        builder.environment().put("PROGRESS_POLL_S", "0.05");
        builder.environment().put("GUEST_PID", Long.toString(guestPid));
        return builder.start();
    }

    /** As the guest does: whole lines only (a temporary file moved in place). */
    private void write(final String name, final String line) throws IOException
    {
        final Path tmp = dir.resolve(name + ".tmp");
        Files.writeString(tmp, line + "\n");
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private List<String> lines() throws IOException
    {
        final Path stderr = dir.resolve("stderr");
        return Files.exists(stderr) ? Files.readAllLines(stderr) : List.of();
    }

    private void awaitLine(final String line) throws IOException
    {
        final long deadlineNs = System.nanoTime() + WAIT_NS;
        while (!lines().contains(line))
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "no line '" + line + "' within 30 s: " + lines());
            LockSupport.parkNanos(20_000_000);
        }
    }
}
