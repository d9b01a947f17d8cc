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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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

    static String program(final String name)
    {
        return PROGRAMS.resolve(name).toString();
    }

    Run exec(final ExecOptions options) throws Exception
    {
        final Path out = Files.createTempFile(tmp, "stdout", ".txt");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final ExecResult result;
        try (PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            result = new ExecRunner(errStream).run(options, ProcessBuilder.Redirect.to(out.toFile()));
        }
        return new Run(result, Files.readString(out), err.toString(StandardCharsets.UTF_8));
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

    static void assertClean(final Run run)
    {
        assertNull(run.result.failure(), run.stderr);
        assertFalse(run.stdout.isEmpty());
    }
}
