package dev.splitkernel.bench.gate;

import dev.splitkernel.report.ReportJson;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gate's one table: metric, baseline, now, ratio (now / baseline), tolerance, verdict. Printed for a person and
 * written as JSON, Markdown and JUnit XML (one test case per metric, a failure for each failed one).
 */
final class GateTable
{
    /**
     * One metric's row.
     *
     * @param name     the metric.
     * @param baseline its baseline entry, or null when it has none.
     * @param now      the value measured now (the confirming re-run's when there was one); NaN when not measured.
     * @param pass     the verdict.
     * @param note     why it failed, or that a re-run confirmed or cleared it; empty otherwise.
     */
    record Row(String name, Baseline.Entry baseline, double now, boolean pass, String note)
    {
        double ratio()
        {
            return baseline == null || baseline.value() == 0 ? Double.NaN : now / baseline.value();
        }

        String verdict()
        {
            return (pass ? "PASS" : "FAIL") + (note.isEmpty() ? "" : " (" + note + ")");
        }
    }

    private final List<Row> rows = new ArrayList<>();

    void add(final Row row)
    {
        rows.add(row);
    }

    List<Row> rows()
    {
        return rows;
    }

    List<String> failures()
    {
        return rows.stream().filter(r -> !r.pass()).map(Row::name).toList();
    }

    void print(final PrintStream out)
    {
        out.printf(Locale.ROOT, "%-42s %14s %14s %8s %14s  %s%n", "metric", "baseline", "now", "ratio", "tolerance",
            "verdict");
        for (final Row r : rows)
        {
            out.printf(Locale.ROOT, "%-42s %14s %14s %8s %14s  %s%n", r.name(),
                r.baseline() == null ? "-" : number(r.baseline().value()), number(r.now()), ratio(r),
                r.baseline() == null ? "-" : r.baseline().describe(), r.verdict());
        }
    }

    void writeMarkdown(final Path file, final List<String> header) throws IOException
    {
        final StringBuilder sb = new StringBuilder("# Performance gate\n\n");
        header.forEach(line -> sb.append(line).append("  \n"));
        sb.append("\n| metric | baseline | now | ratio | tolerance | verdict |\n|---|---:|---:|---:|---:|---|\n");
        for (final Row r : rows)
        {
            sb.append("| ").append(r.name()).append(" | ")
                .append(r.baseline() == null ? "-" : number(r.baseline().value())).append(" | ")
                .append(number(r.now())).append(" | ").append(ratio(r)).append(" | ")
                .append(r.baseline() == null ? "-" : r.baseline().describe()).append(" | ")
                .append(r.verdict()).append(" |\n");
        }
        Files.writeString(file, sb.toString());
    }

    void writeJson(final Path file, final Map<String, Object> settings) throws IOException
    {
        final Map<String, Object> root = new LinkedHashMap<>(settings);
        final List<Map<String, Object>> list = new ArrayList<>();
        for (final Row r : rows)
        {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("metric", r.name());
            m.put("kind", r.baseline() == null ? null : r.baseline().kind().name());
            m.put("unit", r.baseline() == null ? null : r.baseline().unit());
            m.put("baseline", r.baseline() == null ? null : r.baseline().value());
            m.put("now", r.now());
            m.put("ratio", r.ratio());
            m.put("tolerance", r.baseline() == null ? null : r.baseline().describe());
            m.put("verdict", r.pass() ? "PASS" : "FAIL");
            m.put("note", r.note());
            list.add(m);
        }
        root.put("metrics", list);
        root.put("failed", failures());
        ReportJson.write(file, root);
    }

    void writeJUnit(final Path file, final double seconds) throws IOException
    {
        final StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append(String.format(Locale.ROOT, "<testsuite name=\"performance-gate\" tests=\"%d\" failures=\"%d\" "
            + "errors=\"0\" skipped=\"0\" time=\"%.3f\">%n", rows.size(), failures().size(), seconds));
        for (final Row r : rows)
        {
            sb.append("  <testcase classname=\"performance-gate\" name=\"").append(xml(r.name())).append("\"");
            if (r.pass())
            {
                sb.append("/>\n");
                continue;
            }
            sb.append(">\n    <failure message=\"").append(xml(r.name() + ": " + r.verdict())).append("\">")
                .append(xml(String.format(Locale.ROOT, "baseline %s, now %s, ratio %s, tolerance %s",
                    r.baseline() == null ? "-" : number(r.baseline().value()), number(r.now()), ratio(r),
                    r.baseline() == null ? "-" : r.baseline().describe())))
                .append("</failure>\n  </testcase>\n");
        }
        sb.append("</testsuite>\n");
        Files.writeString(file, sb.toString());
    }

    private static String ratio(final Row r)
    {
        return Double.isNaN(r.ratio()) ? "-" : String.format(Locale.ROOT, "%.3f", r.ratio());
    }

    private static String number(final double v)
    {
        if (Double.isNaN(v))
        {
            return "n/a";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? String.format(Locale.ROOT, "%.0f", v)
            : String.format(Locale.ROOT, "%.4g", v);
    }

    private static String xml(final String s)
    {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
