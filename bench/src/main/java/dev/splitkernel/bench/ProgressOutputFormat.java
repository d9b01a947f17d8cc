package dev.splitkernel.bench;

import dev.splitkernel.report.Progress;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.format.OutputFormat;

import java.io.IOException;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * JMH's own output, with the suites' progress as a bar kept below it on a terminal: JMH's "# Run progress: P%
 * complete" (its estimate over the whole run) and which benchmark runs now. Elsewhere (CI, a pipe) JMH's output as
 * it is: its "# Run progress" and "# Benchmark" lines are the plain progress lines.
 */
final class ProgressOutputFormat implements OutputFormat
{
    private static final Pattern RUN_PROGRESS = Pattern.compile("# Run progress: ([0-9.]+)% complete.*");

    private final OutputFormat out;
    private final Progress progress;
    private int benchmarks;
    private String label = "starting";
    private int permille = -1;

    /** {@code out} on a terminal gets the bar; otherwise {@code out} itself is what to use. */
    static OutputFormat wrap(final OutputFormat out)
    {
        return Progress.isInteractive() ? new ProgressOutputFormat(out, Progress.forConsole()) : out;
    }

    private ProgressOutputFormat(final OutputFormat out, final Progress progress)
    {
        this.out = out;
        this.progress = progress;
    }

    private void redraw()
    {
        if (permille >= 0)
        {
            progress.update(permille, 1000, label);
        }
    }

    @Override
    public void iteration(final BenchmarkParams benchmark, final IterationParams params, final int iteration)
    {
        progress.clear();
        out.iteration(benchmark, params, iteration);
    }

    @Override
    public void iterationResult(final BenchmarkParams benchmark, final IterationParams params, final int iteration,
        final IterationResult data)
    {
        progress.clear();
        out.iterationResult(benchmark, params, iteration, data);
        out.flush();
        redraw();
    }

    @Override
    public void startBenchmark(final BenchmarkParams benchmark)
    {
        benchmarks++;
        final String name = benchmark.getBenchmark();
        label = "benchmark " + benchmarks + ": " + name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
        progress.clear();
        out.startBenchmark(benchmark);
    }

    @Override
    public void endBenchmark(final BenchmarkResult result)
    {
        progress.clear();
        out.endBenchmark(result);
    }

    @Override
    public void startRun()
    {
        out.startRun();
    }

    @Override
    public void endRun(final Collection<RunResult> result)
    {
        progress.clear();
        out.endRun(result);
    }

    @Override
    public void print(final String s)
    {
        progress.clear();
        out.print(s);
    }

    @Override
    public void println(final String s)
    {
        progress.clear();
        out.println(s);
        final Matcher m = RUN_PROGRESS.matcher(s);
        if (m.matches())
        {
            permille = (int)Math.round(Double.parseDouble(m.group(1)) * 10);
        }
        out.flush();
        redraw();
    }

    @Override
    public void flush()
    {
        out.flush();
    }

    @Override
    public void close()
    {
        progress.clear();
        out.close();
    }

    @Override
    public void verbosePrintln(final String s)
    {
        progress.clear();
        out.verbosePrintln(s);
    }

    @Override
    public void write(final int b)
    {
        out.write(b);
    }

    @Override
    public void write(final byte[] b) throws IOException
    {
        out.write(b);
    }
}
