package dev.splitkernel.cli;

import dev.splitkernel.exec.linux.Userfaultfd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input to {@code splitkernel exec} gets a clear message and exit code 2 (127 for a missing program). */
class ExecCommandTest
{
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int exec(final String... args)
    {
        final String[] all = new String[args.length + 1];
        all[0] = "exec";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.execute(all, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err()
    {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldPrintHelp()
    {
        assertEquals(0, exec("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("usage: scripts/splitkernel exec"));
    }

    @Test
    void shouldRefuseAMissingProgram()
    {
        assertEquals(2, exec("--excache", "16m"));
        assertTrue(err().contains("no program to run"), err());
    }

    @Test
    void shouldRefuseAPercentageWithoutAWorkingSet()
    {
        assertEquals(2, exec("--excache", "25%", "--", "true"));
        assertTrue(err().contains("needs --working-set"), err());
    }

    @Test
    void shouldRefuseBadValues()
    {
        assertEquals(2, exec("--policy", "lru", "--", "true"));
        assertTrue(err().contains("is not fifo or clock"), err());
        assertEquals(2, exec("--excache", "12q", "--", "true"));
        assertTrue(err().contains("is not a size or a percentage"), err());
        assertEquals(2, exec("--excache", "100", "--", "true"));
        assertTrue(err().contains("less than one 4 KB page"), err());
        assertEquals(2, exec("--fabric", "carrier-pigeon", "--", "true"));
        assertEquals(2, exec("--sizes", "25,0", "--", "true"));
        assertTrue(err().contains("--sizes: 0 is not a percentage"), err());
        assertEquals(2, exec("--repeat", "0", "--", "true"));
        assertEquals(2, exec("--bogus", "1", "--", "true"));
        assertTrue(err().contains("unknown option --bogus"), err());
    }

    @Test
    void shouldRefuseAnUnknownUserOrAUserWithTheReport()
    {
        assertEquals(2, exec("--user", "no-such-user-anywhere", "--", "true"));
        assertTrue(err().contains("--user: no such user 'no-such-user-anywhere'"), err());
        assertEquals(2, exec("--user", "nobody", "--sizes", "25", "--", "true"));
        assertTrue(err().contains("--user is for one run, not with --sizes"), err());
    }

    /** The report: native and emulated runs at two sizes, outputs compared, JSON and plot written. */
    @Test
    @Timeout(300)
    void shouldWriteTheReportOfAProgramAtSeveralExcacheSizes(@TempDir final Path tmp) throws Exception
    {
        final String why = Userfaultfd.probe();
        Assumptions.assumeTrue(why == null, why);
        final Path program = Path.of(System.getProperty("splitkernel.projectDir", "."), "monitors", "target",
            "test-programs", "random_rw");
        assertEquals(0, exec("--sizes", "25,100", "--repeat", "1", "--out", tmp.toString(), "--", program.toString(),
            "4", "20000", "9"), err());
        final String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("heap touched: 4.0 MiB"), text);
        try (var files = Files.list(tmp))
        {
            final List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("exec-") && n.endsWith(".json")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.startsWith("exec-") && n.endsWith(".png")), names.toString());
        }
    }

    @Test
    void shouldSayWhenTheProgramIsNotFound()
    {
        assertEquals(127, exec("--", "no-such-program-anywhere"));
        assertTrue(err().contains("no-such-program-anywhere: command not found"), err());
    }
}
