package dev.splitkernel.cli;

import dev.splitkernel.exec.ExecCounts;
import dev.splitkernel.exec.ExecOptions;
import dev.splitkernel.exec.ExecResult;
import dev.splitkernel.exec.ExecRunner;
import dev.splitkernel.exec.Machine;
import dev.splitkernel.report.ErrorBarPlot;
import dev.splitkernel.report.ReportJson;
import dev.splitkernel.report.Samples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code splitkernel exec --sizes ... -- PROGRAM}: the program's report. It runs once without an ExCache limit (which
 * measures its heap), then, {@code repeat} times each and interleaved, natively and at each ExCache size (a
 * percentage of that heap); every run's stdout must equal the native run's. Prints run time, slowdown against
 * native (median, 95% confidence interval), faults, evictions, write-backs and bytes moved per size, and writes
 * exec-*.json and exec-*.png.
 */
final class ExecSweep
{
    private final PrintStream out;
    private final PrintStream err;

    ExecSweep(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    /** Exit code 0 when every run matched the native output, 1 otherwise. */
    int run(final ExecOptions options, final List<Double> sizes, final int repeat, final Path outDir) throws Exception
    {
        final Path work = Files.createTempDirectory("splitkernel-exec-sweep-");
        final Path expected = work.resolve("native.txt");
        final Path actual = work.resolve("exec.txt");
        final Path programErr = work.resolve("stderr.txt");
        final List<String> command = options.command();
        out.printf(Locale.ROOT, "splitkernel exec report: %s, ExCache sizes %s%% of its heap, %d run(s) each, fabric %s%s,"
            + " policy %s; machine load %s%n", String.join(" ", command), sizes, repeat, options.fabric(),
            "local".equals(options.fabric()) ? " preset " + options.preset() : "", options.policy(), Machine.loadAverage());
        final int nativeCode = runNative(command, expected, programErr);
        final ExecResult first = execRun(options, actual, programErr);
        if (first.exitCode() != nativeCode || Files.mismatch(expected, actual) != -1)
        {
            err.println("splitkernel exec: without an ExCache limit the program's output differs from its native run"
                + " (exit code " + first.exitCode() + "): " + Files.readString(programErr));
            return 1;
        }
        final long heapBytes = first.counts().touchedPages() * 4096;
        out.printf(Locale.ROOT, "heap touched: %s%n", Options.formatBytes(heapBytes));

        final List<Double> nativeSeconds = new ArrayList<>();
        final Map<Double, List<Double>> seconds = new LinkedHashMap<>();
        final Map<Double, List<Double>> slowdowns = new LinkedHashMap<>();
        final Map<Double, List<ExecCounts>> counts = new LinkedHashMap<>();
        boolean failed = false;
        for (int round = 0; round < repeat; round++)
        {
            final long t0 = System.nanoTime();
            runNative(command, expected, programErr);
            final double nativeS = (System.nanoTime() - t0) / 1e9;
            nativeSeconds.add(nativeS);
            for (final double pct : sizes)
            {
                final long bytes = Math.max(4096, (long)(heapBytes * pct / 100.0));
                final ExecResult r = execRun(options.withExcacheBytes(bytes), actual, programErr);
                final boolean same = r.exitCode() == nativeCode && r.failure() == null && Files.mismatch(expected, actual) == -1;
                if (!same)
                {
                    failed = true;
                    err.printf(Locale.ROOT, "splitkernel exec: at %.1f%% the output differs from the native run (exit "
                        + "code %d%s)%n", pct, r.exitCode(), r.failure() == null ? "" : ", " + r.failure());
                    continue;
                }
                final double s = r.wallNs() / 1e9;
                seconds.computeIfAbsent(pct, k -> new ArrayList<>()).add(s);
                slowdowns.computeIfAbsent(pct, k -> new ArrayList<>()).add(s / nativeS);
                counts.computeIfAbsent(pct, k -> new ArrayList<>()).add(r.counts());
            }
        }

        final Samples nativeSamples = Samples.of(nativeSeconds);
        out.printf(Locale.ROOT, "%nnative: %.3f s median%n", nativeSamples.median());
        out.printf(Locale.ROOT, "%-8s %-10s %-10s %-22s %-10s %-10s %-11s %-10s%n", "ExCache", "size", "run s",
            "slowdown [95% CI]", "faults", "evictions", "write-backs", "moved");
        final Map<String, Object> rows = new LinkedHashMap<>();
        final ErrorBarPlot plot = new ErrorBarPlot("splitkernel exec: " + Path.of(command.get(0)).getFileName()
            + " slowdown against native", "ExCache (% of the heap)", "slowdown (x)");
        final ErrorBarPlot.Series series = plot.series(options.fabric() + ("local".equals(options.fabric())
            ? " " + options.preset() : ""));
        for (final double pct : sizes)
        {
            if (!slowdowns.containsKey(pct))
            {
                continue;
            }
            final Samples slowdown = Samples.of(slowdowns.get(pct));
            final Samples runSeconds = Samples.of(seconds.get(pct));
            final ExecCounts c = counts.get(pct).get(0);
            out.printf(Locale.ROOT, "%-8s %-10s %-10.3f %-22s %-10d %-10d %-11d %-10s%n", pct + "%",
                Options.formatBytes(c.capacityPages() * 4096), runSeconds.median(),
                String.format(Locale.ROOT, "%.2fx [%s]", slowdown.median(), slowdown.interval95Text()), c.missingFaults(), c.evictions(), c.writeBacks(),
                Options.formatBytes(c.bytesMoved()));
            series.add(pct, slowdown);
            final Map<String, Object> row = new LinkedHashMap<>();
            row.put("excachePercent", pct);
            row.put("excacheBytes", c.capacityPages() * 4096);
            row.put("seconds", runSeconds.toMap());
            row.put("slowdown", slowdown.toMap());
            final List<Map<String, Object>> perRun = new ArrayList<>();
            for (final ExecCounts k : counts.get(pct))
            {
                perRun.add(countsMap(k));
            }
            row.put("counts", perRun);
            rows.put(Double.toString(pct), row);
        }

        Files.createDirectories(outDir);
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        final Map<String, Object> report = new LinkedHashMap<>();
        report.put("command", command);
        report.put("fabric", options.fabric());
        report.put("preset", options.preset());
        report.put("policy", options.policy());
        report.put("heapBytes", heapBytes);
        report.put("repeat", repeat);
        report.put("loadAverage", Machine.loadAverage());
        report.put("nativeSeconds", nativeSamples.toMap());
        report.put("sizes", rows);
        if (first.local() != null)
        {
            report.put("leftLocal", Map.of("mmapCalls", first.local().mmapCalls(), "mmapBytes", first.local().mmapBytes(),
                "stackBytes", first.local().stackBytes(), "rssAnonBytes", first.local().rssAnonBytes()));
        }
        final Path json = outDir.resolve("exec-" + stamp + ".json");
        ReportJson.write(json, report);
        out.println();
        out.println("JSON: " + json.toAbsolutePath());
        if (series.count() > 0)
        {
            final Path png = outDir.resolve("exec-" + stamp + ".png");
            plot.writePng(png, 900, 600);
            out.println("plot: " + png.toAbsolutePath());
        }
        try (var files = Files.list(work))
        {
            files.forEach(p -> p.toFile().delete());
        }
        Files.deleteIfExists(work);
        return failed ? 1 : 0;
    }

    private static Map<String, Object> countsMap(final ExecCounts c)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("faults", c.missingFaults());
        m.put("writeProtectFaults", c.writeProtectFaults());
        m.put("pLocalFills", c.pLocalFills());
        m.put("fetches", c.fetches());
        m.put("evictions", c.evictions());
        m.put("writeBacks", c.writeBacks());
        m.put("bytesMoved", c.bytesMoved());
        return m;
    }

    private static ExecResult execRun(final ExecOptions options, final Path stdout, final Path stderr) throws Exception
    {
        return new ExecRunner(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
            .run(options, ProcessBuilder.Redirect.to(stdout.toFile()), ProcessBuilder.Redirect.to(stderr.toFile()));
    }

    /** Its exit code. */
    private static int runNative(final List<String> command, final Path stdout, final Path stderr) throws Exception
    {
        final Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
            .start();
        if (!p.waitFor(3600, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IllegalStateException(command + " did not end natively within an hour");
        }
        return p.exitValue();
    }
}
