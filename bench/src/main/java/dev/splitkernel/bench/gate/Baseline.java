package dev.splitkernel.bench.gate;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.splitkernel.report.ReportJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The baselines of one gate mode ({@code bench/baselines/gate-full.json}, {@code gate-quick.json}): per metric the
 * median of several recorded runs, its relative spread (max - min over the median), and the tolerance derived from
 * that spread and the metric's kind; plus why the file last changed, when, and the machine's load then.
 */
final class Baseline
{
    /**
     * One metric's baseline.
     *
     * @param kind              how it is compared.
     * @param unit              for a person.
     * @param value             the median of the recorded runs.
     * @param spread            (max - min) / median over the recorded runs (0 when the median is 0).
     * @param tolerance         the relative tolerance: max(kind's floor, 3 x spread).
     * @param absoluteTolerance the least absolute difference tolerated (the kind's floor, e.g. 16 B/miss).
     * @param samples           the recorded values.
     */
    record Entry(MetricKind kind, String unit, double value, double spread, double tolerance,
        double absoluteTolerance, List<Double> samples)
    {
        /** The difference from the baseline this entry tolerates. */
        double allowed()
        {
            return Math.max(tolerance * Math.abs(value), absoluteTolerance);
        }

        boolean accepts(final double now)
        {
            if (Double.isNaN(now))
            {
                return false;
            }
            final double diff = now - value;
            return (kind.twoSided ? Math.abs(diff) : diff) <= allowed();
        }

        /** The tolerance for a person: "+-2%", "+60%", "+16 B/miss". */
        String describe()
        {
            final String sign = kind.twoSided ? "+-" : "+";
            if (absoluteTolerance > tolerance * Math.abs(value))
            {
                return String.format(Locale.ROOT, "%s%.4g %s", sign, absoluteTolerance, unit);
            }
            return String.format(Locale.ROOT, "%s%.0f%%", sign, 100 * tolerance);
        }
    }

    final Map<String, Entry> entries;
    final String reason;
    final String recorded;
    final String load;
    final int runs;

    Baseline(final Map<String, Entry> entries, final String reason, final String recorded, final String load,
        final int runs)
    {
        this.entries = entries;
        this.reason = reason;
        this.recorded = recorded;
        this.load = load;
        this.runs = runs;
    }

    static Path file(final Path dir, final boolean quick)
    {
        return dir.resolve(quick ? "gate-quick.json" : "gate-full.json");
    }

    /** Derive baselines from several runs' measurements (every run must have measured every metric). */
    static Baseline derive(final List<List<Measured>> runs, final String reason, final String recorded,
        final String load)
    {
        final Map<String, Entry> entries = new LinkedHashMap<>();
        for (final Measured first : runs.get(0))
        {
            final double[] values = new double[runs.size()];
            final List<Double> samples = new ArrayList<>();
            for (int r = 0; r < runs.size(); r++)
            {
                values[r] = valueOf(runs.get(r), first.name());
                if (Double.isNaN(values[r]))
                {
                    throw new IllegalStateException(first.name() + " could not be measured in recording run " + (r + 1)
                        + ": no baseline recorded");
                }
                samples.add(values[r]);
            }
            Arrays.sort(values);
            final double median = values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
            final double spread = median == 0 ? 0.0 : (values[values.length - 1] - values[0]) / Math.abs(median);
            final MetricKind kind = first.kind();
            entries.put(first.name(), new Entry(kind, first.unit(), median, spread, kind.tolerance(spread),
                kind.absoluteFloor, samples));
        }
        return new Baseline(entries, reason, recorded, load, runs.size());
    }

    private static double valueOf(final List<Measured> run, final String name)
    {
        for (final Measured m : run)
        {
            if (m.name().equals(name))
            {
                return m.value();
            }
        }
        return Double.NaN;
    }

    static Baseline read(final Path file) throws IOException
    {
        final Map<String, Object> root = JSON.std.mapFrom(Files.readString(file));
        final Map<String, Entry> entries = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        final Map<String, Object> metrics = (Map<String, Object>)root.get("metrics");
        if (metrics == null)
        {
            throw new IOException(file + ": no \"metrics\" object");
        }
        for (final Map.Entry<String, Object> e : metrics.entrySet())
        {
            @SuppressWarnings("unchecked")
            final Map<String, Object> m = (Map<String, Object>)e.getValue();
            final List<Double> samples = new ArrayList<>();
            for (final Object o : (List<?>)m.getOrDefault("samples", List.of()))
            {
                samples.add(((Number)o).doubleValue());
            }
            entries.put(e.getKey(), new Entry(MetricKind.valueOf((String)m.get("kind")), (String)m.get("unit"),
                number(m, "baseline", file), number(m, "spread", file), number(m, "tolerance", file),
                number(m, "absoluteTolerance", file), samples));
        }
        return new Baseline(entries, String.valueOf(root.get("reason")), String.valueOf(root.get("recorded")),
            String.valueOf(root.get("load")), ((Number)root.getOrDefault("runs", 0)).intValue());
    }

    private static double number(final Map<String, Object> m, final String key, final Path file) throws IOException
    {
        final Object o = m.get(key);
        if (!(o instanceof Number))
        {
            throw new IOException(file + ": metric field \"" + key + "\" is missing or not a number");
        }
        return ((Number)o).doubleValue();
    }

    void write(final Path file, final String mode) throws IOException
    {
        final Map<String, Object> root = new LinkedHashMap<>();
        root.put("mode", mode);
        root.put("reason", reason);
        root.put("recorded", recorded);
        root.put("load", load);
        root.put("runs", runs);
        root.put("tolerance", "relative: max(the kind's floor, " + MetricKind.SPREADS + " x spread), spread = (max - min)"
            + " / median over the recorded runs; counted metrics fail on a change either way, the others on a rise");
        final Map<String, Object> metrics = new LinkedHashMap<>();
        entries.forEach((name, e) ->
        {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", e.kind().name());
            m.put("unit", e.unit());
            m.put("baseline", e.value());
            m.put("spread", e.spread());
            m.put("tolerance", e.tolerance());
            m.put("absoluteTolerance", e.absoluteTolerance());
            m.put("samples", e.samples());
            metrics.put(name, m);
        });
        root.put("metrics", metrics);
        ReportJson.write(file, root);
    }
}
