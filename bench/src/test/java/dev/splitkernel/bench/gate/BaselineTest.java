package dev.splitkernel.bench.gate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Baselines derived from recorded runs, compared with new values, and kept across a write and a read. */
class BaselineTest
{
    @TempDir
    Path dir;

    private static List<List<Measured>> runs(final MetricKind kind, final double... values)
    {
        return java.util.Arrays.stream(values).mapToObj(v -> List.of(new Measured("m", kind, v, "u"))).toList();
    }

    @Test
    void shouldTakeTheMedianAndDeriveTheToleranceFromTheSpread()
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.MODELLED, 2.0, 2.4, 2.2), "why", "now",
            "0.1").entries.get("m");
        assertEquals(2.2, e.value(), 1e-12);
        assertEquals(0.4 / 2.2, e.spread(), 1e-12);
        assertEquals(3 * 0.4 / 2.2, e.tolerance(), 1e-12);
    }

    @Test
    void shouldKeepTheKindsFloorWhenTheRunsAgree()
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.COUNTED, 100, 100, 100), "why", "now", "0.1")
            .entries.get("m");
        assertEquals(0.0, e.spread());
        assertEquals(MetricKind.COUNTED.relativeFloor, e.tolerance());
    }

    @Test
    void shouldFailACountedMetricThatMovesEitherWay()
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.COUNTED, 100, 100), "why", "now", "0").entries.get("m");
        assertTrue(e.accepts(101));
        assertTrue(e.accepts(99));
        assertFalse(e.accepts(103));
        assertFalse(e.accepts(97));
    }

    @Test
    void shouldFailATimedMetricOnlyWhenItRises()
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.CPU_RATIO, 1.5, 1.5), "why", "now", "0").entries
            .get("m");
        assertTrue(e.accepts(0.5));
        assertTrue(e.accepts(2.9));
        assertFalse(e.accepts(3.1));
    }

    @Test
    void shouldFailAnAllocationOfAFewBytesPerMissEvenFromZero()
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.ALLOCATION, 0, 0), "why", "now", "0").entries
            .get("m");
        assertTrue(e.accepts(15));
        assertFalse(e.accepts(32));
    }

    @Test
    void shouldFailAValueThatCouldNotBeMeasured()
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.COUNTED, 1, 1), "why", "now", "0").entries.get("m");
        assertFalse(e.accepts(Double.NaN));
    }

    @Test
    void shouldRefuseToRecordAMetricThatARunCouldNotMeasure()
    {
        assertThrows(IllegalStateException.class,
            () -> Baseline.derive(runs(MetricKind.COUNTED, 1, Double.NaN), "why", "now", "0"));
    }

    @Test
    void shouldReadBackWhatItWroteWithTheReason() throws Exception
    {
        final Baseline written = Baseline.derive(runs(MetricKind.COUNTED, 5, 6, 7), "the tcp miss path changed",
            "2026-12-06 18:00 UTC", "1.0, 0.5, 0.2");
        final Path file = Baseline.file(dir, true);
        written.write(file, "quick");
        final Baseline read = Baseline.read(file);
        assertEquals("the tcp miss path changed", read.reason);
        assertEquals(3, read.runs);
        assertEquals(written.entries, read.entries);
    }

    @Test
    void shouldNameTheMissingFieldOfABrokenFile() throws Exception
    {
        final Path file = dir.resolve("broken.json");
        Files.writeString(file, "{\"metrics\": {\"m\": {\"kind\": \"COUNTED\", \"unit\": \"u\"}}}");
        final Exception ex = assertThrows(java.io.IOException.class, () -> Baseline.read(file));
        assertTrue(ex.getMessage().contains("baseline"), ex.getMessage());
    }

    @Test
    void shouldWriteAFailureIntoTheJUnitReportNamingTheMetric() throws Exception
    {
        final Baseline.Entry e = Baseline.derive(runs(MetricKind.COUNTED, 1, 1), "why", "now", "0").entries.get("m");
        final GateTable table = new GateTable();
        table.add(new GateTable.Row("random.messagesPerMiss", e, 2.0, false, "confirmed by a re-run"));
        table.add(new GateTable.Row("kv.misses", e, 1.0, true, ""));
        final Path xml = dir.resolve("gate.xml");
        table.writeJUnit(xml, 1.0);
        final String text = Files.readString(xml);
        assertTrue(text.contains("tests=\"2\" failures=\"1\""), text);
        assertTrue(text.contains("<failure message=\"random.messagesPerMiss: FAIL (confirmed by a re-run)\""), text);
        assertEquals(List.of("random.messagesPerMiss"), table.failures());
    }
}
