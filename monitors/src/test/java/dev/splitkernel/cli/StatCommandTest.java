package dev.splitkernel.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.splitkernel.cluster.ChildMonitor;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.monitor.status.StatusFileDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code stat} and {@code errors} read real monitor processes' status files: running ones, and one killed. */
class StatCommandTest
{
    private static final long START_TIMEOUT_MS = 60_000;

    @TempDir
    Path statDir;

    @Test
    void shouldReadALiveMonitorProcessAndOneKilledBySigkill() throws Exception
    {
        final List<String> jvm = List.of("-Xmx256m", "-Dsplitkernel.stat.dir=" + statDir,
            "-Dsplitkernel.stat.intervalMs=50");
        try (ChildMonitor global = ChildMonitor.startRole("global", jvm,
                List.of("--fabric", "tcp", "--listen", "127.0.0.1:0"), START_TIMEOUT_MS);
            ChildMonitor memory = ChildMonitor.startRole("memory", jvm, List.of("--fabric", "tcp", "--listen",
                "127.0.0.1:0", "--global", global.address(), "--capacity", "16m"), START_TIMEOUT_MS))
        {
            final String memoryName = "memory " + memory.address();
            // Live: both monitors running; the memory monitor's heartbeats reached the global manager.
            Map<String, Object> memoryStat = awaitMonitor(memoryName, "running", "memory: load reports");
            final Map<String, Object> globalStat = awaitMonitor("global " + global.address(), "running",
                "served: LOAD_REPORT");
            assertEquals(memory.process().pid(), ((Number)memoryStat.get("pid")).longValue());
            assertEquals(global.process().pid(), ((Number)globalStat.get("pid")).longValue());

            memory.kill();
            memoryStat = awaitMonitor(memoryName, "dead", "memory: load reports");
            assertTrue(counter(memoryStat, "memory: load reports") >= 1, memoryStat.toString());

            final String table = run("stat", "--dir", statDir.toString(), "--monitor", "memory");
            assertTrue(table.contains(memoryName) && table.contains("[dead]") && table.contains("memory: load reports"),
                table);
            final Map<String, Object> errors = JSON.std.mapFrom(run("errors", "--json", "--dir", statDir.toString()));
            assertEquals(2, ((List<?>)errors.get("monitors")).size(), errors.toString());
        }
    }

    /**
     * Closed files are skipped by their header alone (no mapping), a file that is no status file is passed over, and
     * --all shows the closed ones too.
     */
    @Test
    void shouldShowClosedMonitorsOnlyWithAll() throws Exception
    {
        MonitorStatus.open("stopped", statDir, false, 50).close();
        java.nio.file.Files.writeString(statDir.resolve("not-a-status" + StatusFileDescriptor.SUFFIX), "hello");
        try (MonitorStatus running = MonitorStatus.open("running", statDir, false, 50))
        {
            running.publish();
            assertEquals(List.of("running"), names(run("stat", "--json", "--dir", statDir.toString())));
            assertEquals(List.of("running", "stopped"),
                names(run("stat", "--json", "--all", "--dir", statDir.toString())).stream().sorted().toList());
        }
    }

    private static List<Object> names(final String json) throws java.io.IOException
    {
        return ((List<?>)JSON.std.mapFrom(json).get("monitors")).stream()
            .map(m -> ((Map<?, ?>)m).get("monitor")).map(Object.class::cast).toList();
    }

    private Map<String, Object> awaitMonitor(final String name, final String state, final String counter)
        throws Exception
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        Map<String, Object> last = null;
        while (System.nanoTime() - deadlineNs < 0)
        {
            final Map<String, Object> doc = JSON.std.mapFrom(run("stat", "--json", "--dir", statDir.toString()));
            for (final Object o : (List<?>)doc.get("monitors"))
            {
                @SuppressWarnings("unchecked") final Map<String, Object> m = (Map<String, Object>)o;
                if (name.equals(m.get("monitor")))
                {
                    last = m;
                    if (state.equals(m.get("state")) && counter(m, counter) >= 1)
                    {
                        return m;
                    }
                }
            }
            LockSupport.parkNanos(50_000_000);
        }
        throw new AssertionError(name + " not " + state + " with " + counter + " >= 1 within 30 s: " + last);
    }

    @SuppressWarnings("unchecked")
    private static long counter(final Map<String, Object> monitor, final String label)
    {
        final Object value = ((Map<String, Object>)monitor.get("counters")).get(label);
        return value == null ? 0 : ((Number)value).longValue();
    }

    private static String run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int code = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, String.join(" ", args) + ": " + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }
}
