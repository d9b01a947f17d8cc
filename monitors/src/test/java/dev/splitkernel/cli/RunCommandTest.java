package dev.splitkernel.cli;

import dev.splitkernel.report.ReportJson;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCommandTest
{
    /** Local runs whose JIT activity is, in turn, {@code jitMs}; counts the runs made. */
    private static final class FakeLocal implements RunCommand.LocalRun
    {
        final Deque<Long> jitMs;
        int runs;

        FakeLocal(final Long... jitMs)
        {
            this.jitMs = new ArrayDeque<>(List.of(jitMs));
        }

        @Override
        public WorkloadThreads.Outcome run()
        {
            runs++;
            return new WorkloadThreads.Outcome(0, 1, 1, 0, 0, 0, new JvmActivity(0, jitMs.removeFirst(), 0, 0));
        }
    }

    @Test
    void shouldRunTheLocalTwinUntilARunCompilesNothing() throws Exception
    {
        final FakeLocal local = new FakeLocal(6L, 9L, 0L, 0L, 0L);
        assertEquals(3, RunCommand.settleLocal(local, 5));
        assertEquals(3, local.runs);
    }

    @Test
    void shouldStopSettlingAfterTheLimitWhenTheJitNeverGoesQuiet() throws Exception
    {
        final FakeLocal local = new FakeLocal(1L, 1L, 1L, 1L, 1L, 1L, 1L);
        assertEquals(5, RunCommand.settleLocal(local, 5));
        assertEquals(5, local.runs);
    }

    @Test
    void shouldRunExtraRoundsWhileACellIsAboveTheTargetAndReportThem() throws Exception
    {
        // One round at least, three at most: under 6 repeats a cell has no interval, so it stays above any target
        // and the rounds go on to the cap.
        final Job job = runJob("--repeat", "1", "--max-repeat", "3", "--target-halfwidth", "5");
        assertEquals(0, job.code, job.text);
        assertTrue(job.text.contains("kv: widest half-width none (no 95% interval under 6 repeats), above 5%: round 2 "
            + "of at most 3"), job.text);
        assertTrue(job.text.contains("rounds per workload: kv 3 (max repeat)"), job.text);
        assertTrue(job.text.contains("above: max repeat"), job.text);
        assertLastRunClosesTheProgressCount(job.text, 6);
        final Map<String, Object> cell = job.cells().get(0);
        assertEquals(3, ((Number)cell.get("rounds")).intValue(), cell.toString());
        assertEquals("max repeat", cell.get("stoppedBecause"));
        assertEquals(3, ((List<?>)cell.get("runs")).size());
        @SuppressWarnings("unchecked")
        final Map<String, Object> slowdown = (Map<String, Object>)cell.get("slowdown");
        assertEquals(3, ((List<?>)slowdown.get("samples")).size());
        assertEquals(0.05, ((Number)job.settings().get("targetHalfWidth")).doubleValue(), 1e-12);
        assertEquals(3, ((Number)job.settings().get("maxRepeat")).intValue());
        assertEquals(600.0, ((Number)job.settings().get("budgetSeconds")).doubleValue(), 1e-9);
    }

    /** The extra rounds come after every workload's minimum rounds, and go to each workload still above target. */
    @Test
    void shouldRunEveryWorkloadsMinimumRoundsBeforeAnyExtraRound() throws Exception
    {
        final Job job = runJob("--workload", "kv,seq", "--repeat", "1", "--max-repeat", "2");
        assertEquals(0, job.code, job.text);
        assertTrue(job.text.contains("rounds per workload: kv 2 (max repeat), seq 2 (max repeat)"), job.text);
        final int seqFirst = job.text.indexOf("seq with ExCache");
        final int kvExtra = job.text.indexOf("kv: widest half-width");
        assertTrue(seqFirst >= 0 && kvExtra > seqFirst, "kv's extra round after seq's first: " + job.text);
        assertLastRunClosesTheProgressCount(job.text, 8);
    }

    @Test
    void shouldStopExtraRoundsWhenTheBudgetIsSpent() throws Exception
    {
        final Job job = runJob("--repeat", "1", "--max-repeat", "3", "--budget", "0.001s");
        assertEquals(0, job.code, job.text);
        assertTrue(job.text.contains("rounds per workload: kv 1 (budget)"), job.text);
        assertTrue(job.text.contains("above: budget"), job.text);
        assertLastRunClosesTheProgressCount(job.text, 2);
        assertEquals("budget", job.cells().get(0).get("stoppedBecause"));
        assertEquals(1, ((List<?>)job.cells().get(0).get("runs")).size());
    }

    @Test
    void shouldRunExactlyTheRepeatsWithQuickOrTheTargetOff() throws Exception
    {
        final Job job = runJob("--repeat", "2", "--target-halfwidth", "off");
        assertEquals(0, job.code, job.text);
        assertTrue(job.text.contains("rounds per workload: kv 2 (adaptive off)"), job.text);
        assertEquals(2, ((List<?>)job.cells().get(0).get("runs")).size());
        assertEquals("off", job.settings().get("targetHalfWidth"));
    }

    /** The last "[run/total]" line: its run is the total, which grew by the extra rounds' runs. */
    private static void assertLastRunClosesTheProgressCount(final String text, final int runs)
    {
        final Matcher m = Pattern.compile("\\[(\\d+)/(\\d+)]").matcher(text);
        String last = null;
        while (m.find())
        {
            assertTrue(Integer.parseInt(m.group(1)) <= Integer.parseInt(m.group(2)), m.group());
            last = m.group();
        }
        assertEquals("[" + runs + "/" + runs + "]", last, text);
    }

    private record Job(int code, String text, Map<String, Object> report)
    {
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cells()
        {
            return (List<Map<String, Object>>)report.get("cells");
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> settings()
        {
            return (Map<String, Object>)report.get("settings");
        }
    }

    /** The kv workload at one small cell, one local run per round, no warm-up: a job of a second or so. */
    private static Job runJob(final String... options) throws Exception
    {
        final Path dir = Files.createTempDirectory("adaptive-repeats");
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        final String[] base = {"run", "--workload", "kv", "--sizes", "50", "--working-set", "1m", "--preset", "none",
            "--warmup", "0", "--local-runs", "1", "--out", dir.toString()};
        final String[] args = new String[base.length + options.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(options, 0, args, base.length, options.length);
        final int code = Main.execute(args, stream, stream);
        final String text = bytes.toString(StandardCharsets.UTF_8);
        try (var files = Files.list(dir))
        {
            final Path json = files.filter(p -> p.toString().endsWith(".json")).findFirst().orElse(null);
            return new Job(code, text, json == null ? Map.of() : ReportJson.read(json));
        }
    }
}
