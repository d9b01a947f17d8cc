package dev.splitkernel.cli;

import dev.splitkernel.report.ReportJson;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest
{
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @Test
    void shouldPrintHelpForEveryCommand()
    {
        for (final String command : new String[]{"run", "global", "memory", "processor"})
        {
            assertEquals(0, Main.execute(new String[]{command, "--help"}, out, err), command);
        }
        assertTrue(outBytes.toString(StandardCharsets.UTF_8).contains("--working-set"));
        assertTrue(outBytes.toString(StandardCharsets.UTF_8).contains("--target-halfwidth"));
    }

    @Test
    void shouldRejectBadOptionsNamingThem()
    {
        assertEquals(2, Main.execute(new String[]{"run", "--workload", "nope"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--preset", "rdma-cx9"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--working-set", "12x"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--repeat", "0"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--timing", "sleep"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--warmup", "-1"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--local-runs", "0"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--max-repeat", "5"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--repeat", "4", "--max-repeat", "3"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--target-halfwidth", "-1"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--target-halfwidth", "lots"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--budget", "soon"}, out, err));
        assertEquals(2, Main.execute(new String[]{"run", "--budget", "0s"}, out, err));
        assertEquals(2, Main.execute(new String[]{"memory", "--bogus", "1"}, out, err));
        assertEquals(2, Main.execute(new String[]{"frobnicate"}, out, err));
        final String errors = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(errors.contains("nope"), errors);
        assertTrue(errors.contains("rdma-cx9"), errors);
        assertTrue(errors.contains("--bogus"), errors);
        assertTrue(errors.contains("--max-repeat: 5 is below --repeat 6"), errors);
        assertTrue(errors.contains("--budget: 'soon' is not a duration (600s, 10m, 1h or none)"), errors);
    }

    @Test
    void shouldRunAWorkloadAndWriteTableJsonAndPlot() throws Exception
    {
        final Path dir = Files.createTempDirectory("splitkernel-run");
        final int code = Main.execute(new String[]{"run", "--workload", "kv", "--sizes", "50,100", "--working-set", "2m",
            "--preset", "none", "--repeat", "3", "--warmup", "0", "--target-halfwidth", "off", "--out", dir.toString()},
            out, err);
        final String text = outBytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text + errBytes.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("slowdown"), text);
        try (var files = Files.list(dir))
        {
            final var names = files.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.endsWith(".json")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.endsWith(".png")), names.toString());
            final Path json = dir.resolve(names.stream().filter(n -> n.endsWith(".json")).findFirst().orElseThrow());
            final Map<String, Object> report = ReportJson.read(json);
            @SuppressWarnings("unchecked")
            final List<Map<String, Object>> cells = (List<Map<String, Object>>)report.get("cells");
            assertEquals(2, cells.size());
            for (final Map<String, Object> cell : cells)
            {
                assertEquals(3, ((List<?>)cell.get("runs")).size(), cell.toString());
                assertEquals(3, ((Number)cell.get("rounds")).intValue(), cell.toString());
                assertEquals("adaptive off", cell.get("stoppedBecause"), cell.toString());
                @SuppressWarnings("unchecked")
                final Map<String, Object> slowdown = (Map<String, Object>)cell.get("slowdown");
                assertEquals(3, ((List<?>)slowdown.get("samples")).size());
                assertTrue(slowdown.get("median") instanceof Number, slowdown.toString());
            }
            // Each round's reference is the median of its own 3 local runs (the default), one set per round, shared
            // by that round's cells: never a single local run.
            for (int rep = 0; rep < 3; rep++)
            {
                final List<Object> roundRuns = new ArrayList<>();
                for (final Map<String, Object> cell : cells)
                {
                    @SuppressWarnings("unchecked")
                    final Map<String, Object> run = ((List<Map<String, Object>>)cell.get("runs")).get(rep);
                    final List<Double> localRuns = ((List<?>)run.get("localRunsSeconds")).stream()
                        .map(v -> ((Number)v).doubleValue()).sorted().toList();
                    assertEquals(3, localRuns.size(), run.toString());
                    assertEquals(localRuns.get(1), ((Number)run.get("localSeconds")).doubleValue(), 1e-9,
                        run.toString());
                    roundRuns.add(localRuns);
                }
                assertEquals(roundRuns.get(0), roundRuns.get(1));
            }
        }
    }
}
