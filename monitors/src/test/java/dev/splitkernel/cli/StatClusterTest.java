package dev.splitkernel.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.splitkernel.monitor.status.MonitorStatus;
import org.agrona.concurrent.status.AtomicCounter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code stat --cluster} and {@code errors --cluster} over all the cluster's hosts: a monitor whose file is not here is
 * read from its host over ssh. ssh is replaced by a script that plays three hosts: one that answers (its status
 * directory is another directory here), one that refuses, one that never answers.
 */
class StatClusterTest
{
    /** Documentation addresses (TEST-NET-1): never this machine's, and no packet goes to them (ssh is faked). */
    private static final String ANSWERS = "192.0.2.3";
    private static final String REFUSES = "192.0.2.4";
    private static final String HANGS = "192.0.2.6";

    @TempDir
    Path here;

    @AfterEach
    void restoreSsh()
    {
        System.clearProperty(RemoteStatusFiles.SSH_PROP_NAME);
    }

    @Test
    void shouldReadMonitorsOnOtherHostsOverSshAndNameEachUnreachableHostInOneLine() throws Exception
    {
        final Path localDir = Files.createDirectories(here.resolve("stat-here"));
        final Path remoteDir = Files.createDirectories(here.resolve("stat-on-" + ANSWERS));
        final String remoteName = "memory " + ANSWERS + ":7002";
        try (MonitorStatus remote = MonitorStatus.open(remoteName, remoteDir, true, 50);
            MonitorStatus local = MonitorStatus.open("global 127.0.0.1:7000", localDir, true, 50))
        {
            final AtomicCounter reports = remote.newCounter("memory: load reports", MonitorStatus.TYPE_MONITOR);
            reports.getAndAdd(3);
            remote.recordError(new IllegalStateException("a failure on the other host"));
            remote.publish();
            local.publish();
            final Path ssh = fakeSsh(localDir, remoteDir);
            System.setProperty(RemoteStatusFiles.SSH_PROP_NAME, ssh.toString());
            final Path cluster = Files.writeString(here.resolve("test.cluster"), String.join("\n",
                "fabric tcp",
                "global    g0 127.0.0.1 7000",
                "memory    m0 " + ANSWERS + " 7002",
                "memory    m1 " + REFUSES + " 7002",
                "storage   s0 " + HANGS + " 7003",
                ""));

            final long startNs = System.nanoTime();
            final String[] result = run("stat", "--json", "--cluster", cluster.toString(), "--dir",
                localDir.toString(), "--ssh-timeout", "2000");
            final long elapsedMs = (System.nanoTime() - startNs) / 1_000_000;
            final Map<String, Object> doc = JSON.std.mapFrom(result[0]);
            final List<?> monitors = (List<?>)doc.get("monitors");
            assertEquals(2, monitors.size(), result[0]);
            final Map<?, ?> memory = monitors.stream().map(m -> (Map<?, ?>)m)
                .filter(m -> remoteName.equals(m.get("monitor"))).findFirst()
                .orElseThrow(() -> new AssertionError(result[0] + result[1]));
            assertEquals(3L, ((Number)((Map<?, ?>)memory.get("counters")).get("memory: load reports")).longValue());

            final List<String> errors = result[1].lines().toList();
            assertEquals(2, errors.size(), result[1]);
            assertTrue(errors.get(0).startsWith("stat: host " + REFUSES + " (memory " + REFUSES + ":7002): ")
                && errors.get(0).contains("Connection refused"), errors.get(0));
            assertTrue(errors.get(1).equals("stat: host " + HANGS + " (storage " + HANGS + ":7003): no answer over ssh "
                + "within 2000 ms"), errors.get(1));
            assertTrue(elapsedMs < 8_000, "all hosts within the timeout, not one after another: " + elapsedMs + " ms");

            final String[] errorsResult = run("errors", "--cluster", cluster.toString(), "--dir",
                localDir.toString(), "--ssh-timeout", "2000", "--monitor", "memory");
            assertTrue(errorsResult[0].contains(remoteName) && errorsResult[0].contains("a failure on the other host"),
                errorsResult[0]);
        }
    }

    /** ssh HOST COMMAND: runs COMMAND here for ANSWERS (its status directory mapped), fails or hangs for the others. */
    @Test
    void shouldExpandNothingOfTheStatusDirectoryInTheRemoteCommand() throws Exception
    {
        final Path marker = here.resolve("expanded");
        final String dir = here.resolve("missing").toString() + "/$(touch " + marker + ")`touch " + marker + "`'\"";
        final Process shell = new ProcessBuilder("sh", "-c",
            RemoteStatusFiles.remoteCommand(Path.of(dir), List.of("memory 127.0.0.1:7002"))).start();
        final String stderr = new String(shell.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(3, shell.waitFor());
        assertTrue(stderr.startsWith("no status directory " + dir + " on "), stderr);
        assertTrue(Files.notExists(marker), "the shell ran a command written in --dir");
    }

    private Path fakeSsh(final Path localDir, final Path remoteDir) throws IOException
    {
        final Path script = here.resolve("fake-ssh");
        Files.writeString(script, String.join("\n",
            "#!/bin/sh",
            "host=$1; shift",
            "case $host in",
            "  " + ANSWERS + ") exec sh -c \"$(printf '%s' \"$1\" | sed 's#" + localDir + "#" + remoteDir + "#')\" ;;",
            "  " + REFUSES + ") echo \"ssh: connect to host $host port 22: Connection refused\" >&2; exit 255 ;;",
            "  *) exec sleep 30 ;;",
            "esac",
            ""));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private static String[] run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int code = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, String.join(" ", args) + ": " + err.toString(StandardCharsets.UTF_8));
        return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }
}
