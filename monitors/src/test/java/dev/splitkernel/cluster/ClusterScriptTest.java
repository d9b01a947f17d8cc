package dev.splitkernel.cluster;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * scripts/cluster with a stand-in for ssh (SPLITKERNEL_SSH: records the host, runs the command here), starting real
 * monitor JVMs on loopback ports: start, status, a monitor stopped and declared dead by the global managers within
 * their member timeout, restarted and alive again, stop (twice: idempotent).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClusterScriptTest
{
    private static final long SCRIPT_TIMEOUT_S = 60;
    private static final long MEMBER_TIMEOUT_MS = 1500;

    @TempDir
    Path dir;

    @Test
    void shouldStartCheckStopAndRestartMonitorsOverSsh() throws Exception
    {
        final Path projectDir = ScriptRunner.projectDirOrNull();
        Assumptions.assumeTrue(projectDir != null,
            "system property splitkernel.projectDir is not set (run through Maven): cannot find scripts/");
        final Path sshLog = dir.resolve("ssh.log");
        final Path fakeSsh = dir.resolve("fake-ssh");
        Files.writeString(fakeSsh, "#!/usr/bin/env bash\nhost=$1; shift\necho \"$host $*\" >> '" + sshLog +
            "'\nexec bash -c \"$*\"\n");
        Files.setPosixFilePermissions(fakeSsh, PosixFilePermissions.fromString("rwx------"));
        final int base = 20_000 + (int)(ProcessHandle.current().pid() % 20_000);
        final Path clusterFile = Files.writeString(dir.resolve("test.cluster"), String.join("\n",
            "fabric tcp",
            "member-timeout-ms " + MEMBER_TIMEOUT_MS,
            "global g0 127.0.0.1 " + base,
            "memory m0 127.0.0.1 " + (base + 1) + " --capacity 16m --vregion 4m",
            "memory m1 127.0.0.1 " + (base + 2) + " --capacity 16m --vregion 4m", ""));
        final ScriptRunner scripts = new ScriptRunner(projectDir, Map.of(
            "SPLITKERNEL_SSH", fakeSsh.toString(),
            "SPLITKERNEL_RUN_DIR", dir.resolve("run").toString(),
            "SPLITKERNEL_JAVA_OPTS", "-Xmx128m"));
        final String file = clusterFile.toString();
        try
        {
            final ScriptRunner.Result start = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "start", file);
            assertEquals(0, start.exitCode, start.toString());
            final String ssh = Files.readString(sshLog, StandardCharsets.UTF_8);
            assertTrue(ssh.contains("127.0.0.1 cd '" + projectDir + "'"), ssh);
            assertTrue(ssh.contains("scripts/splitkernel memory --config native-config/presets/tcp-cluster.properties" +
                " --fabric tcp --listen 127.0.0.1:" + (base + 1) + " --global 127.0.0.1:" + base +
                " --capacity 16m --vregion 4m"), ssh);
            assertTrue(ssh.contains("-Dsplitkernel.global.memberTimeoutMs=" + MEMBER_TIMEOUT_MS), ssh);

            final ScriptRunner.Result up = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "status", file);
            assertEquals(0, up.exitCode, up.toString());
            assertTrue(up.output.contains("memory 127.0.0.1:" + (base + 2) + " alive"), up.toString());

            final Path m1Pid = dir.resolve("run/m1.pid");
            final long pid = Long.parseLong(Files.readString(m1Pid).trim());
            final ProcessHandle m1 = ProcessHandle.of(pid).orElseThrow();
            m1.destroy();
            m1.onExit().get(20, TimeUnit.SECONDS);
            final String dead = awaitStatus(scripts, file, "memory 127.0.0.1:" + (base + 2) + " dead");
            assertTrue(dead.contains("m1 (memory, 127.0.0.1:" + (base + 2) + "): NOT RUNNING"), dead);
            assertTrue(dead.contains("memory 127.0.0.1:" + (base + 1) + " alive"), dead);

            final ScriptRunner.Result restart = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "start", file);
            assertEquals(0, restart.exitCode, restart.toString());
            assertTrue(restart.output.contains("g0: already running"), restart.toString());
            final ScriptRunner.Result rejoined = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "status", file);
            assertEquals(0, rejoined.exitCode, "the restarted monitor registered again and is alive: " + rejoined);
        }
        finally
        {
            final ScriptRunner.Result stop = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "stop", file);
            assertEquals(0, stop.exitCode, stop.toString());
            final ScriptRunner.Result again = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "stop", file);
            assertEquals(0, again.exitCode, again.toString());
            assertTrue(again.output.contains("g0: not running"), again.toString());
        }
    }

    /** Polls scripts/cluster status until its output contains {@code expected}; bounded by 10 member timeouts. */
    private static String awaitStatus(final ScriptRunner scripts, final String file, final String expected)
        throws Exception
    {
        final long deadlineMs = System.currentTimeMillis() + 10 * MEMBER_TIMEOUT_MS + 20_000;
        ScriptRunner.Result status;
        do
        {
            Thread.sleep(300);
            status = scripts.run(SCRIPT_TIMEOUT_S, "scripts/cluster", "status", file);
            if (status.output.contains(expected))
            {
                assertEquals(3, status.exitCode, "status reports a dead member with exit 3: " + status);
                return status.output;
            }
        }
        while (System.currentTimeMillis() < deadlineMs);
        throw new AssertionError("never saw '" + expected + "' in scripts/cluster status:\n" + status);
    }
}
