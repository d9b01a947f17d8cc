package dev.splitkernel.bench.exec;

import dev.splitkernel.exec.ExecOptions;
import dev.splitkernel.exec.ExecResult;
import dev.splitkernel.exec.ExecRunner;
import dev.splitkernel.exec.Machine;
import dev.splitkernel.exec.PreloadLibrary;
import dev.splitkernel.exec.RandomLines;
import dev.splitkernel.report.ErrorBarPlot;
import dev.splitkernel.report.ReportJson;
import dev.splitkernel.report.Samples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code scripts/bench exec [--quick] [--rounds N] [--parts latency,sort,tally] [--sort-mb N] [--tally N]}: the
 * figures of {@code splitkernel exec}, each measured side by side in one run and repeated:
 * <ul>
 * <li><b>latency</b>: fault-to-resume of a heap miss (a fetch plus the eviction that makes room), seen by the
 * program ({@code fault_latency}), served by the processor monitor over {@code local} preset {@code none} and by
 * the minimal C handler the project keeps as its reference ({@code uffd_reference}, same protocol and same work per
 * fault), with the handler sleeping in poll() and spinning; target: Java within 1.3x of C.</li>
 * <li><b>sort</b>: GNU sort of a generated file, native and under exec with no ExCache limit (preset none);
 * target: within 2x of native. Outputs are compared.</li>
 * <li><b>tally</b>: each test program N times at an ExCache of 25% of its heap, output compared with its native run;
 * target: N of N correct.</li>
 * </ul>
 * Writes results/exec-*.json and a plot. Not JMH: each sample is a whole program run (or the median of thousands of
 * faults inside one). {@code --quick} proves it runs (small sizes, one round) and prints no verdict.
 */
public final class ExecBenchmark
{
    private static final Pattern MEDIAN = Pattern.compile("median (\\d+)");
    private static final double LATENCY_TARGET = 1.3;
    private static final double SORT_TARGET = 2.0;
    private static final int LATENCY_CAPACITY_PAGES = 256;
    private static final long SPIN_NS = 200_000;

    private final Path home = Path.of(System.getProperty("splitkernel.home", "."));
    private final Path programs = home.resolve("bench/target/native");
    private final Path work;
    private final boolean quick;
    private final int rounds;
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final ErrorBarPlot latencyPlot = new ErrorBarPlot("exec: fault-to-resume of a heap miss (median per run)",
        "handler (1 = sleeps in poll, 2 = spins)", "microseconds");
    private boolean met = true;

    private ExecBenchmark(final boolean quick, final int rounds) throws IOException
    {
        this.quick = quick;
        this.rounds = rounds;
        this.work = Files.createTempDirectory("splitkernel-exec-bench-");
    }

    public static void main(final String[] args) throws Exception
    {
        boolean quick = false;
        int rounds = 5;
        int sortMb = 100;
        int tally = 10;
        List<String> parts = List.of("latency", "sort", "tally");
        Path out = Path.of("results");
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--quick" -> quick = true;
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--sort-mb" -> sortMb = Integer.parseInt(args[++i]);
                case "--tally" -> tally = Integer.parseInt(args[++i]);
                case "--parts" -> parts = List.of(args[++i].split(","));
                case "--results" -> out = Path.of(args[++i]);
                default ->
                {
                    System.err.println("usage: scripts/bench exec [--quick] [--rounds N] [--parts latency,sort,tally]"
                        + " [--sort-mb N] [--tally N] [--results DIR]");
                    System.exit(2);
                }
            }
        }
        if (quick)
        {
            rounds = 1;
            sortMb = 4;
            tally = 1;
        }
        final ExecBenchmark bench = new ExecBenchmark(quick, rounds);
        System.out.printf(Locale.ROOT, "exec benchmark: %s, %d round(s); machine load %s%n", quick ? "quick" : "full",
            rounds, Machine.loadAverage());
        if (parts.contains("latency"))
        {
            bench.latency(quick ? 2048 : 16384);
        }
        if (parts.contains("sort"))
        {
            bench.sort(sortMb);
        }
        if (parts.contains("tally"))
        {
            bench.tally(tally, sortMb);
        }
        System.out.printf(Locale.ROOT, "machine load at the end %s%n", Machine.loadAverage());
        bench.write(out);
        if (!quick)
        {
            System.out.println(bench.met ? "exec: every target met" : "exec: a target was missed (see above)");
        }
        System.exit(bench.met || quick ? 0 : 1);
    }

    // ---------------------------------------------------------------------------------------------------------

    private void latency(final int pages) throws Exception
    {
        final List<String> command = List.of(programs.resolve("fault_latency").toString(), Integer.toString(pages));
        final long excache = (long)LATENCY_CAPACITY_PAGES * 4096;
        System.out.printf(Locale.ROOT, "%nlatency: %d pages written then read, ExCache %d pages: every read is a miss%n",
            pages, LATENCY_CAPACITY_PAGES);
        exec(ExecOptions.of(command).withExcacheBytes(excache)); // warms the Java handler up: not reported
        int x = 1;
        for (final long spinNs : new long[] {0, SPIN_NS})
        {
            final String mode = spinNs == 0 ? "sleeping" : "spinning";
            final List<Double> java = new ArrayList<>();
            final List<Double> c = new ArrayList<>();
            final List<Double> ratios = new ArrayList<>();
            for (int round = 0; round < rounds; round++)
            {
                // Alternate which goes first, so a drift in the machine's load does not favour one.
                final double cNs;
                final double javaNs;
                if (round % 2 == 0)
                {
                    cNs = median(reference(command, LATENCY_CAPACITY_PAGES, spinNs));
                    javaNs = median(exec(ExecOptions.of(command).withExcacheBytes(excache).withSpinNs(spinNs)));
                }
                else
                {
                    javaNs = median(exec(ExecOptions.of(command).withExcacheBytes(excache).withSpinNs(spinNs)));
                    cNs = median(reference(command, LATENCY_CAPACITY_PAGES, spinNs));
                }
                java.add(javaNs / 1000);
                c.add(cNs / 1000);
                ratios.add(javaNs / cNs);
            }
            final Samples j = Samples.of(java);
            final Samples r = Samples.of(c);
            final Samples ratio = Samples.of(ratios);
            System.out.printf(Locale.ROOT, "  %s handler: Java (processor monitor, local none) %.1f us [%.1f..%.1f], "
                + "C reference %.1f us [%.1f..%.1f]; Java / C = %.2fx median, %.2f..%.2f over %d rounds%s%n", mode,
                j.median(), j.min(), j.max(), r.median(), r.min(), r.max(), ratio.median(), ratio.min(), ratio.max(),
                rounds, verdict(ratio.median() <= LATENCY_TARGET, "target <= " + LATENCY_TARGET + "x"));
            report.put("latency_" + mode, Map.of("javaUs", j.toMap(), "referenceUs", r.toMap(), "ratio", ratio.toMap(),
                "pages", pages, "excachePages", LATENCY_CAPACITY_PAGES));
            latencyPlot.series("Java, " + mode).add(x, j);
            latencyPlot.series("C reference, " + mode).add(x, r);
            x++;
        }
    }

    private void sort(final int sortMb) throws Exception
    {
        final Path input = work.resolve("sort-input.txt");
        RandomLines.write(input, (long)sortMb << 20, 42);
        final List<String> command = List.of("sort", input.toString());
        System.out.printf(Locale.ROOT, "%nsort: %d MB, native and under exec (no ExCache limit, local none)%n", sortMb);
        final List<Double> nativeS = new ArrayList<>();
        final List<Double> execS = new ArrayList<>();
        final List<Double> ratios = new ArrayList<>();
        final Path expected = work.resolve("sort-native.txt");
        final Path actual = work.resolve("sort-exec.txt");
        for (int round = 0; round < rounds; round++)
        {
            final long t0 = System.nanoTime();
            runNative(command, expected);
            final double n = (System.nanoTime() - t0) / 1e9;
            final ExecResult r = new ExecRunner(quiet()).run(ExecOptions.of(command),
                ProcessBuilder.Redirect.to(actual.toFile()), ProcessBuilder.Redirect.INHERIT);
            final double e = r.wallNs() / 1e9;
            if (r.exitCode() != 0 || Files.mismatch(expected, actual) != -1)
            {
                System.out.println("  round " + round + ": sort under exec gave a different output: FAIL");
                met = false;
            }
            nativeS.add(n);
            execS.add(e);
            ratios.add(e / n);
        }
        final Samples ratio = Samples.of(ratios);
        System.out.printf(Locale.ROOT, "  native %.2f s, exec %.2f s (medians); exec / native = %.2fx median, %.2f..%.2f"
            + " over %d rounds%s%n", Samples.of(nativeS).median(), Samples.of(execS).median(), ratio.median(),
            ratio.min(), ratio.max(), rounds, verdict(ratio.median() <= SORT_TARGET, "target <= " + SORT_TARGET + "x"));
        report.put("sort", Map.of("mb", sortMb, "nativeSeconds", Samples.of(nativeS).toMap(), "execSeconds",
            Samples.of(execS).toMap(), "ratio", ratio.toMap()));
    }

    /** Each test program {@code runs} times at 25% of its heap (measured by a run without a limit). */
    private void tally(final int runs, final int sortMb) throws Exception
    {
        final Path input = work.resolve("tally-input.txt");
        RandomLines.write(input, (long)sortMb << 20, 7);
        final List<List<String>> commands = List.of(
            List.of(programs.resolve("random_rw").toString(), quick ? "8" : "32", quick ? "100000" : "1000000", "5"),
            List.of(programs.resolve("threads_rw").toString(), "4", quick ? "8" : "16", quick ? "20000" : "100000"),
            List.of("sort", input.toString()));
        System.out.printf(Locale.ROOT, "%ntally: each program %d time(s) at an ExCache of 25%% of its heap%n", runs);
        final Map<String, Object> tallies = new LinkedHashMap<>();
        for (final List<String> command : commands)
        {
            final String name = Path.of(command.get(0)).getFileName().toString();
            final Path expected = work.resolve(name + "-native.txt");
            runNative(command, expected);
            final Path actual = work.resolve(name + "-exec.txt");
            final ExecResult full = new ExecRunner(quiet()).run(ExecOptions.of(command),
                ProcessBuilder.Redirect.to(actual.toFile()), ProcessBuilder.Redirect.INHERIT);
            final long heapBytes = full.counts().touchedPages() * 4096;
            int correct = 0;
            final List<Double> seconds = new ArrayList<>();
            long faults = 0;
            long writeBacks = 0;
            for (int i = 0; i < runs; i++)
            {
                final ExecResult r = new ExecRunner(quiet()).run(ExecOptions.of(command).withExcacheBytes(heapBytes / 4),
                    ProcessBuilder.Redirect.to(actual.toFile()), ProcessBuilder.Redirect.INHERIT);
                if (r.exitCode() == 0 && r.failure() == null && Files.mismatch(expected, actual) == -1)
                {
                    correct++;
                }
                seconds.add(r.wallNs() / 1e9);
                faults += r.counts().missingFaults();
                writeBacks += r.counts().writeBacks();
            }
            System.out.printf(Locale.ROOT, "  %-10s heap %s MiB, ExCache %s MiB: %d of %d correct, %.1f s median per run, "
                + "%d faults and %d write-backs per run%s%n", name, heapBytes >> 20, heapBytes >> 22, correct, runs,
                Samples.of(seconds).median(), faults / runs, writeBacks / runs,
                verdict(correct == runs, "target " + runs + " of " + runs));
            tallies.put(name, Map.of("runs", runs, "correct", correct, "heapBytes", heapBytes, "seconds",
                Samples.of(seconds).toMap(), "faultsPerRun", faults / runs, "writeBacksPerRun", writeBacks / runs));
        }
        report.put("tally", tallies);
    }

    // ---------------------------------------------------------------------------------------------------------

    private String exec(final ExecOptions options) throws Exception
    {
        final Path out = work.resolve("exec-stdout.txt");
        final ExecResult r = new ExecRunner(quiet()).run(options, ProcessBuilder.Redirect.to(out.toFile()),
            ProcessBuilder.Redirect.INHERIT);
        if (r.exitCode() != 0)
        {
            throw new IllegalStateException(options.command() + " failed under exec: " + r.exitCode() + " "
                + r.failure());
        }
        return Files.readString(out);
    }

    /** Run {@code command} under the reference C handler; its stdout. */
    private String reference(final List<String> command, final int capacityPages, final long spinNs) throws Exception
    {
        final Path socket = work.resolve("reference.sock");
        Files.deleteIfExists(socket);
        final Process handler = new ProcessBuilder(programs.resolve("uffd_reference").toString(), socket.toString(),
            Integer.toString(capacityPages), Long.toString(spinNs / 1000)).redirectErrorStream(true).start();
        final byte[] ready = handler.getInputStream().readNBytes(6);
        if (!"READY\n".equals(new String(ready, StandardCharsets.US_ASCII)))
        {
            handler.destroyForcibly();
            throw new IllegalStateException("the reference handler did not start");
        }
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("LD_PRELOAD", PreloadLibrary.file().toString());
        builder.environment().put("SPLITKERNEL_EXEC_SOCKET", socket.toString());
        final Process program = builder.start();
        final String out = new String(program.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        final boolean ended = program.waitFor(300, TimeUnit.SECONDS) && handler.waitFor(30, TimeUnit.SECONDS);
        if (!ended || program.exitValue() != 0)
        {
            handler.destroyForcibly();
            program.destroyForcibly();
            throw new IllegalStateException("under the reference handler " + command + " failed: " + out);
        }
        return out;
    }

    private static void runNative(final List<String> command, final Path stdout) throws Exception
    {
        final Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0)
        {
            p.destroyForcibly();
            throw new IllegalStateException(command + " failed natively");
        }
    }

    private static double median(final String faultLatencyOutput)
    {
        final Matcher m = MEDIAN.matcher(faultLatencyOutput);
        if (!m.find())
        {
            throw new IllegalStateException("no median in: " + faultLatencyOutput);
        }
        return Double.parseDouble(m.group(1));
    }

    private static PrintStream quiet()
    {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    private String verdict(final boolean ok, final String target)
    {
        if (quick)
        {
            return "";
        }
        met &= ok;
        return " (" + target + ": " + (ok ? "met" : "MISSED") + ")";
    }

    private void write(final Path dir) throws IOException
    {
        Files.createDirectories(dir);
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        report.put("quick", quick);
        report.put("rounds", rounds);
        report.put("loadAverage", Machine.loadAverage());
        final Path json = dir.resolve("exec-" + stamp + ".json");
        ReportJson.write(json, report);
        System.out.println("JSON: " + json.toAbsolutePath());
        if (report.containsKey("latency_sleeping"))
        {
            final Path png = dir.resolve("exec-latency-" + stamp + ".png");
            latencyPlot.writePng(png, 900, 600);
            System.out.println("plot: " + png.toAbsolutePath());
        }
    }
}
