package dev.splitkernel.cluster;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster of six hosts on this machine, built by {@code scripts/testbed up}: one network namespace per host
 * (global managers, a processor, three memory monitors with small capacities, a storage monitor), each monitor its
 * own JVM, over tcp
 * on a private bridge, with a cluster secret. A workload whose memory spans two memory monitors verifies; a memory
 * monitor holding none of its memory is stopped while the process holds its memory: the global managers declare it
 * dead within their member timeout and the process verifies again; a processor with a wrong secret is refused.
 * {@code scripts/testbed down} always runs. Needs root and {@code ip netns}; skipped with the reason otherwise.
 */
@Tag("system")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class TestbedSystemTest
{
    private static final long SCRIPT_TIMEOUT_S = 90;
    private static final long MEMBER_TIMEOUT_MS = 2000;
    private static final Pattern OWNERS = Pattern.compile("home memory monitor (\\d+), memory owners \\[([0-9, ]+)]");

    private Path dir;
    private Path clusterFile;
    private ScriptRunner scripts;
    private boolean up;

    @BeforeAll
    void up() throws Exception
    {
        final Path projectDir = ScriptRunner.projectDirOrNull();
        Assumptions.assumeTrue(projectDir != null,
            "system property splitkernel.projectDir is not set (run through Maven): cannot find scripts/");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
            "not root: the testbed's network namespaces need root");
        final Process probe = new ProcessBuilder("ip", "netns", "add", "sk-probe-test").redirectErrorStream(true).start();
        Assumptions.assumeTrue(probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0,
            "'ip netns add' is not permitted here (or iproute2 is missing)");
        new ProcessBuilder("ip", "netns", "del", "sk-probe-test").start().waitFor(10, TimeUnit.SECONDS);

        dir = Files.createTempDirectory("sk-testbed-test");
        final Path secret = dir.resolve("cluster.secret");
        Files.writeString(secret, "system-test-secret-" + System.nanoTime() + "\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        final Path wrongSecret = dir.resolve("wrong.secret");
        Files.writeString(wrongSecret, "not-the-cluster-secret\n");
        Files.setPosixFilePermissions(wrongSecret, PosixFilePermissions.fromString("rw-------"));
        // 4 MiB vRegions and 12 MiB capacities: an 8 MiB working set takes two vRegions, placed on two monitors by the
        // least-loaded GMM, which leaves the third free for the failure.
        clusterFile = Files.writeString(dir.resolve("system.cluster"), String.join("\n",
            "fabric tcp",
            "config native-config/presets/testbed.properties",
            "secret-file " + secret,
            "member-timeout-ms " + MEMBER_TIMEOUT_MS,
            "global    g0 10.77.0.1 7000",
            "processor p0 10.77.0.2 7001 --excache 4m --vregion 4m",
            "memory    m0 10.77.0.3 7002 --capacity 12m --vregion 4m",
            "memory    m1 10.77.0.4 7002 --capacity 12m --vregion 4m",
            "memory    m2 10.77.0.5 7002 --capacity 12m --vregion 4m",
            "storage   s0 10.77.0.6 7003 --data " + dir.resolve("storage-data") + " --capacity 64m", ""));
        scripts = new ScriptRunner(projectDir, Map.of("SPLITKERNEL_TESTBED_DIR", dir.resolve("state").toString()));
        up = true;
        final ScriptRunner.Result result = scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "up", clusterFile.toString());
        assertEquals(0, result.exitCode, "scripts/testbed up: " + result);
    }

    @AfterAll
    void down() throws Exception
    {
        if (up)
        {
            final ScriptRunner.Result result = scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "down",
                clusterFile.toString());
            assertEquals(0, result.exitCode, "scripts/testbed down: " + result);
            final Process list = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
            final String namespaces = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            list.waitFor(10, TimeUnit.SECONDS);
            for (final String name : new String[] {"sk-g0", "sk-p0", "sk-m0", "sk-m1", "sk-m2", "sk-s0"})
            {
                assertTrue(!namespaces.contains(name), "down left namespace " + name + ":\n" + namespaces);
            }
        }
        ScriptRunner.deleteTree(dir);
    }

    @Test
    @Order(1)
    void shouldRunAWorkloadWhoseMemorySpansTwoMemoryMonitorsAndSurviveAnUnrelatedMonitorDying() throws Exception
    {
        // The run holds its process (and memory) for a while after verifying, then verifies again.
        final Process run = scripts.start("scripts/testbed", "run", clusterFile.toString(), "--",
            "--workload", "seq", "--working-set", "8m", "--hold-ms", Long.toString(6 * MEMBER_TIMEOUT_MS));
        final BlockingQueue<String> lines = pump(run);
        final StringBuilder seen = new StringBuilder();
        try
        {
            final String placed = awaitLine(lines, seen, run, "memory owners", 120);
            awaitLine(lines, seen, run, "run: holding", 30);
            final Matcher matcher = OWNERS.matcher(placed);
            assertTrue(matcher.find(), placed);
            final Set<Integer> used = new HashSet<>();
            used.add(Integer.parseInt(matcher.group(1)));
            final List<Integer> owners = new ArrayList<>();
            for (final String id : matcher.group(2).split(",\\s*"))
            {
                owners.add(Integer.parseInt(id.trim()));
            }
            used.addAll(owners);
            assertTrue(owners.size() >= 2, "the memory spans at least two memory monitors: " + placed);

            // Which memory monitor holds none of it: member id -> address -> name, from the members list.
            final ScriptRunner.Result members = scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "status",
                clusterFile.toString());
            assertEquals(0, members.exitCode, members.toString());
            String victimName = null;
            String victimAddress = null;
            for (final String line : members.output.split("\n"))
            {
                final String[] words = line.trim().split(" ");
                if (words.length >= 4 && "memory".equals(words[1]) && "alive".equals(words[3]) &&
                    !used.contains(Integer.parseInt(words[0])))
                {
                    victimAddress = words[2];
                    victimName = "m" + (Integer.parseInt(victimAddress.substring("10.77.0.".length(),
                        victimAddress.indexOf(':'))) - 3);
                }
            }
            assertNotNull(victimName, "a memory monitor holding none of the process's memory: " + members);

            final ScriptRunner.Result stop = scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "stop", victimName,
                clusterFile.toString());
            assertEquals(0, stop.exitCode, stop.toString());
            final long stoppedMs = System.currentTimeMillis();
            ScriptRunner.Result status;
            do
            {
                Thread.sleep(250);
                status = scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "status", clusterFile.toString());
            }
            while (!status.output.contains("memory " + victimAddress + " dead") &&
                System.currentTimeMillis() - stoppedMs < 4 * MEMBER_TIMEOUT_MS + 10_000);
            assertTrue(status.output.contains("memory " + victimAddress + " dead"),
                "declared dead within the member timeout (plus the time to ask): " + status);

            assertTrue(run.waitFor(120, TimeUnit.SECONDS), "the run finishes");
            awaitLine(lines, seen, run, "verified again after holding", 5);
            awaitLine(lines, seen, run, "result: OK", 5);
            assertEquals(0, run.exitValue(), seen.toString());
        }
        finally
        {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
        }

        // A new process after the death: placed on the live monitors only, and verified.
        final ScriptRunner.Result again = scripts.run(150, "scripts/testbed", "run", clusterFile.toString(), "--",
            "--workload", "random", "--working-set", "8m");
        assertEquals(0, again.exitCode, again.toString());
        assertTrue(again.output.contains("result: OK"), again.toString());
    }

    @Test
    @Order(2)
    void shouldReachTheStorageMonitorAcrossNamespacesWithTheSecret() throws Exception
    {
        final ScriptRunner withSecret = new ScriptRunner(scripts.projectDir(), Map.of(
            "SPLITKERNEL_JAVA_OPTS", "-Dsplitkernel.secretFile=" + dir.resolve("cluster.secret")));
        final ScriptRunner.Result ping = withSecret.run(SCRIPT_TIMEOUT_S, "ip", "netns", "exec", "sk-p0",
            scripts.projectDir().resolve("scripts/splitkernel").toString(), "ping", "10.77.0.6:7003");
        assertEquals(0, ping.exitCode, ping.toString());
        assertTrue(ping.output.contains("10.77.0.6:7003: up"), ping.toString());
    }

    @Test
    @Order(3)
    void shouldRefuseAProcessorWithAWrongSecret() throws Exception
    {
        final ScriptRunner wrong = new ScriptRunner(scripts.projectDir(), Map.of(
            "SPLITKERNEL_TESTBED_DIR", dir.resolve("state").toString(),
            "SPLITKERNEL_JAVA_OPTS", "-Dsplitkernel.secretFile=" + dir.resolve("wrong.secret")));
        final ScriptRunner.Result result = wrong.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "run",
            clusterFile.toString(), "--", "--working-set", "1m");
        assertEquals(1, result.exitCode, result.toString());
        assertTrue(result.output.contains("cannot join the cluster") &&
            result.output.contains("does not share this cluster's secret"), result.toString());
    }

    /**
     * The kill test (scripts/testbed kill-test, one run per victim here; the script runs 20 for the tally), each run
     * a process whose memory spans two memory monitors: (1) the owner of part of it that is not the home is
     * SIGKILLed mid-run and the process verifies every value; (2) a monitor holding only a replica of its memory is
     * killed: the process verifies and the GMM names a new secondary; (3) an owner and its secondary are killed
     * together: the process gets a clear error in bounded time, nothing hangs and the other monitors keep running.
     * Each step checks the script's own line that the kill happened ("killed mN"), so a run that found nothing to
     * kill fails.
     */
    @Test
    @Order(4)
    @Timeout(value = 1200, unit = TimeUnit.SECONDS)
    void shouldLoseNothingWhenAnOwnerOrASecondaryIsKilledAndFailClearlyWhenBothAre() throws Exception
    {
        startAll();
        final ScriptRunner.Result primary = killTest("primary");
        assertTrue(primary.output.contains("verified 1, lost or corrupt values in 0, clean errors 0, hung 0, nothing "
            + "killed 0"), primary.output);
        assertTrue(Pattern.compile("run 1: killed m\\d \\(member \\d+\\) -> verified").matcher(primary.output).find(),
            primary.output);
        assertTrue(Pattern.compile("recovery median (\\d+) ms").matcher(primary.output).find(), primary.output);

        startAll();
        final ScriptRunner.Result secondary = killTest("secondary");
        assertTrue(secondary.output.contains("verified 1, lost or corrupt values in 0, clean errors 0, hung 0, "
            + "nothing killed 0"), secondary.output);
        assertTrue(Pattern.compile("run 1: killed m\\d \\(member \\d+\\) -> verified;.* new secondary after \\d+ ms")
            .matcher(secondary.output).find(), secondary.output);

        startAll();
        final ScriptRunner.Result both = killTest("both");
        assertTrue(both.output.contains("clear error 1, lost or corrupt values in 0, other failures 0, hung 0, "
            + "nothing killed 0"), both.output);
        assertTrue(Pattern.compile("run 1: killed m\\d m\\d \\(member \\d+ \\d+\\) -> clear error after \\d+ ms, the "
            + "other monitors alive: .*SegmentationFault").matcher(both.output).find(), both.output);

        final ScriptRunner.Result status = scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "status",
            clusterFile.toString());
        assertEquals(0, status.exitCode, "the global managers still answer: " + status);
    }

    private void startAll() throws Exception
    {
        for (final String name : new String[] {"m0", "m1", "m2"})
        {
            scripts.run(SCRIPT_TIMEOUT_S, "scripts/testbed", "start", name, clusterFile.toString()); // if stopped
        }
    }

    private ScriptRunner.Result killTest(final String victim) throws Exception
    {
        final ScriptRunner.Result result = scripts.run(390, "scripts/testbed", "kill-test", clusterFile.toString(),
            "--", "--runs", "1", "--victim", victim);
        System.out.println(result.output);
        assertEquals(0, result.exitCode, victim + ": " + result);
        return result;
    }

    private static BlockingQueue<String> pump(final Process process)
    {
        final BlockingQueue<String> lines = new ArrayBlockingQueue<>(10_000);
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    lines.offer(line);
                }
            }
            catch (final IOException ignore)
            {
                // the process went away: awaitLine reports what it printed
            }
        }, "testbed-run-output");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    private static String awaitLine(final BlockingQueue<String> lines, final StringBuilder seen, final Process process,
        final String text, final long timeoutS) throws InterruptedException
    {
        final long deadlineMs = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(timeoutS);
        while (System.currentTimeMillis() < deadlineMs)
        {
            final String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null)
            {
                seen.append(line).append('\n');
                if (line.contains(text))
                {
                    return line;
                }
            }
            else if (!process.isAlive() && lines.isEmpty())
            {
                break;
            }
        }
        throw new AssertionError("never saw '" + text + "' from scripts/testbed run:\n" + seen);
    }
}
