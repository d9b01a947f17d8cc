package dev.splitkernel.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs one benchmark suite: {@code BenchMain SUITE [--quick] [--results DIR] [JMH options...]}. Prints a table
 * of scores and the suite's ratios, and writes JMH's JSON under the results folder. Exits 2 on bad arguments. Targets
 * are shown (met or missed) only at full length: a quick run's figures mean nothing. The regression gate is
 * {@code scripts/bench gate} ({@link dev.splitkernel.bench.gate.GateMain}).
 */
public final class BenchMain
{
    private static final Map<String, Suite> SUITES = new LinkedHashMap<>();

    static
    {
        for (final Suite suite : List.of(new TransportSuite(), new ExCacheSuite(), new WorkloadSuite()))
        {
            SUITES.put(suite.name(), suite);
        }
    }

    private BenchMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length == 0 || "--help".equals(args[0]) || "-h".equals(args[0]))
        {
            usage();
            System.exit(args.length == 0 ? 2 : 0);
        }

        final String suiteName = args[0];
        final List<Suite> suites = new ArrayList<>();
        if ("all".equals(suiteName))
        {
            suites.addAll(SUITES.values());
        }
        else if (SUITES.containsKey(suiteName))
        {
            suites.add(SUITES.get(suiteName));
        }
        else
        {
            System.err.println("error: unknown suite '" + suiteName + "'");
            usage();
            System.exit(2);
        }

        boolean quick = false;
        Path resultsDir = Path.of("results");
        final List<String> jmhArgs = new ArrayList<>();
        for (int i = 1; i < args.length; i++)
        {
            if ("--quick".equals(args[i]))
            {
                quick = true;
            }
            else if ("--results".equals(args[i]) && i + 1 < args.length)
            {
                resultsDir = Path.of(args[++i]);
            }
            else
            {
                jmhArgs.add(args[i]);
            }
        }

        final Set<String> givenParams = new HashSet<>();
        for (int i = 0; i + 1 < jmhArgs.size(); i++)
        {
            if ("-p".equals(jmhArgs.get(i)) && jmhArgs.get(i + 1).contains("="))
            {
                givenParams.add(jmhArgs.get(i + 1).substring(0, jmhArgs.get(i + 1).indexOf('=')));
            }
        }

        Files.createDirectories(resultsDir);
        final String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        final Path json = resultsDir.resolve(suiteName + "-" + stamp + ".json");

        final ChainedOptionsBuilder options = new OptionsBuilder()
            .parent(new CommandLineOptions(jmhArgs.toArray(new String[0])))
            .resultFormat(ResultFormatType.JSON)
            .result(json.toString())
            .shouldFailOnError(true);
        for (final Suite suite : suites)
        {
            suite.includes().forEach(options::include);
            if (quick)
            {
                for (final String param : suite.quickParams())
                {
                    // A parameter given on the command line (-p NAME=...) wins over the quick run's choice.
                    final int eq = param.indexOf('=');
                    if (!givenParams.contains(param.substring(0, eq)))
                    {
                        options.param(param.substring(0, eq), param.substring(eq + 1).split(","));
                    }
                }
            }
        }
        final String jvmOptionsFile = System.getProperty("splitkernel.jvmOptions");
        if (jvmOptionsFile != null)
        {
            options.jvmArgsAppend("@" + jvmOptionsFile, "-Dsplitkernel.jvmOptions=" + jvmOptionsFile);
        }
        if (quick)
        {
            options.forks(1).warmupIterations(1).measurementIterations(1)
                .warmupTime(TimeValue.milliseconds(300)).measurementTime(TimeValue.milliseconds(300));
        }

        final Options built = options.build();
        // On a terminal, a progress bar below JMH's output (unless it goes to a file: -o).
        final Collection<RunResult> results = (built.getOutput().hasValue() ? new Runner(built) : new Runner(built,
            ProgressOutputFormat.wrap(OutputFormatFactory.createFormatInstance(System.out,
                built.verbosity().orElse(VerboseMode.NORMAL))))).run();
        final ResultTable table = new ResultTable(results);
        table.printScores(System.out);
        for (final Suite suite : suites)
        {
            table.printRatios(System.out, suite.name(), suite.ratios(), !quick);
        }
        System.out.println();
        System.out.println("JSON: " + json);
    }

    private static void usage()
    {
        System.err.println("usage: scripts/bench " + String.join("|", SUITES.keySet()) + "|all [--quick] "
            + "[--results DIR] [JMH options]");
        System.err.println("  --quick  one short iteration each: proves the suite runs (no figures to quote, no verdicts)");
        System.err.println("  suites: " + Arrays.toString(SUITES.keySet().toArray()).toLowerCase(Locale.ROOT));
    }
}
