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
 * JMH's own output, with the suites' progress as a bar on a terminal, drawn as a line of its own at the start of each
 * benchmark (JMH writes its iterations as partial lines, which a bar redrawn in place would break): benchmarks done of
 * how many (from JMH's "# Run progress: P% complete"), the share, the time left and which benchmark starts. Elsewhere
 * (CI, a pipe) JMH's output as it is: its "# Run progress" and "# Benchmark" lines are the plain progress lines.
 */
final class ProgressOutputFormat implements OutputFormat
{
    private static final Pattern RUN_PROGRESS = Pattern.compile("# Run progress: ([0-9.]+)% complete.*");

    private final OutputFormat out;
    private final Progress progress;
    private int benchmarks;
    private String label = "starting";

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

    @Override
    public void iteration(final BenchmarkParams benchmark, final IterationParams params, final int iteration)
    {
        out.iteration(benchmark, params, iteration);
    }

    @Override
    public void iterationResult(final BenchmarkParams benchmark, final IterationParams params, final int iteration,
        final IterationResult data)
    {
        out.iterationResult(benchmark, params, iteration, data);
    }

    @Override
    public void startBenchmark(final BenchmarkParams benchmark)
    {
        benchmarks++;
        final String name = benchmark.getBenchmark();
        label = "benchmark " + benchmarks + ": " + name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
        out.startBenchmark(benchmark);
    }

    @Override
    public void endBenchmark(final BenchmarkResult result)
    {
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
        out.endRun(result);
    }

    @Override
    public void print(final String s)
    {
        out.print(s);
    }

    @Override
    public void println(final String s)
    {
        out.println(s);
        final Matcher m = RUN_PROGRESS.matcher(s);
        final double share = m.matches() ? Double.parseDouble(m.group(1)) / 100 : 0;
        if (share > 0)
        {
            // JMH's share is of benchmarks done (those before this one): how many there are in all follows.
            final int done = benchmarks - 1;
            out.flush();
            progress.update(done, Math.max(done, (int)Math.round(done / share)), label);
            progress.keep();
        }
    }

    @Override
    public void flush()
    {
        out.flush();
    }

    @Override
    public void close()
    {
        out.close();
    }

    @Override
    public void verbosePrintln(final String s)
    {
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
