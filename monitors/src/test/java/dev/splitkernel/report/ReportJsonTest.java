package dev.splitkernel.report;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportJsonTest
{
    @Test
    void shouldWriteNumbersAsNumbersAndReadThemBack() throws Exception
    {
        final Path dir = Files.createTempDirectory("report-json");
        final Path file = dir.resolve("sub/report.json");
        final Map<String, Object> report = new LinkedHashMap<>();
        report.put("name", "tf \"quoted\"");
        report.put("bytes", 1L << 40);
        report.put("ratio", 1.25);
        report.put("nan", Double.NaN);
        report.put("slowdown", Samples.of(1.0, 2.0, 3.0));
        report.put("list", List.of(1, 2.5, "x", true));
        ReportJson.write(file, report);

        final String text = Files.readString(file);
        assertTrue(text.contains("\"ratio\" : 1.25"), text);
        final Map<String, Object> back = ReportJson.read(file);
        assertEquals("tf \"quoted\"", back.get("name"));
        assertEquals(1L << 40, ((Number)back.get("bytes")).longValue());
        assertNull(back.get("nan"));
        @SuppressWarnings("unchecked")
        final Map<String, Object> slowdown = (Map<String, Object>)back.get("slowdown");
        assertEquals(2.0, ((Number)slowdown.get("median")).doubleValue());
        assertEquals(List.of(1.0, 2.0, 3.0), slowdown.get("samples"));
        assertEquals(List.of(1, 2.5, "x", true), back.get("list"));
    }

    @Test
    void shouldRefuseAnObjectItCannotWriteNamingIt()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ReportJson.toJson(Map.of("thread", new Thread())));
        assertTrue(ex.getMessage().contains("java.lang.Thread"), ex.getMessage());
    }
}
