package dev.splitkernel.cli;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.exec.ExecCounts;
import dev.splitkernel.exec.ExecException;
import dev.splitkernel.exec.ExecOptions;
import dev.splitkernel.exec.ExecResult;
import dev.splitkernel.exec.ExecRunner;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code scripts/splitkernel exec [options] -- PROGRAM ARGS...}: run an unmodified, dynamically linked program with
 * its heap on an embedded cluster. The program's stdout, stderr and exit code are its own; the emulation's summary
 * goes to stderr after it exits.
 */
final class ExecCommand
{
    static final String USAGE = String.join("\n",
        "usage: scripts/splitkernel exec [options] -- PROGRAM [ARGS...]",
        "  Runs PROGRAM unmodified with its heap (malloc, calloc, realloc, ...) on an embedded cluster: resident heap",
        "  pages are hardware hits; a missing page is a userfaultfd fault that the processor monitor serves from the",
        "  memory monitor that owns it. Its stdin, stdout, stderr and exit code are its own; a summary (faults,",
        "  evictions, write-backs, bytes moved, memory left local) goes to stderr at the end.",
        "",
        "  --excache SIZE|PCT%      most heap resident in the program: bytes (k/m/g) or a percentage of --working-set",
        "                           (default: no limit)",
        "  --working-set SIZE       the program's heap working set, for --excache PCT% (the summary of a run without",
        "                           a limit prints it as 'heap touched')",
        "  --policy fifo|clock      eviction policy (default fifo)",
        "  --fabric local|tcp       the cluster's fabric (default local)",
        "  --preset none|rdma-cx3|rdma-cx6|cxl   timing of the local fabric (default none)",
        "  --memory-monitors N      memory monitors (default 2)",
        "  --arena SIZE             heap arena reserved in the program (virtual; its heap limit; default 16g)",
        "  --spin-us N              the fault handler spins N us for the next fault before sleeping (default 0)",
        "  --user USER              run the program as USER (name or uid; its primary group and groups) with setpriv;",
        "                           the cluster and the fault handler stay with the caller (needs root; one run,",
        "                           not with --sizes)",
        "  --quiet                  no summary",
        "  --sizes 12.5,25,50,100   the report instead of one run: the program without a limit (measuring its heap),",
        "                           then natively and at each ExCache size (% of that heap), --repeat times each;",
        "                           every output compared with the native run's; slowdown with 95% CI, faults,",
        "                           evictions, write-backs, bytes moved; JSON and a plot under --out",
        "  --repeat N               runs per size in the report (default 3)",
        "  --out DIR                where the report's JSON and plot go (default results/)",
        "",
        "  Needs userfaultfd in the program: root, or sysctl vm.unprivileged_userfaultfd=1 (the kernel's faults on",
        "  the heap, as read(2) into a buffer, must be served too, so user-mode-only userfaultfd is not enough).",
        "  Static binaries cannot be served.",
        "  Left local (counted in the summary): the stack, static data, the program's own mmaps. A child forked",
        "  without exec gets a private heap of its own; a program started by exec runs outside the emulation.",
        "  Exit code: the program's; 126 when it cannot run under the emulation, 127 when it is not found, 2 on bad",
        "  options; 125 when the emulation had to stop it (a memory monitor died: the message says so).");

    private final PrintStream out;
    private final PrintStream err;

    ExecCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    int run(final String[] args) throws Exception
    {
        int i = 0;
        ExecOptions options = ExecOptions.of(List.of("-"));
        String excache = null;
        long workingSet = -1;
        boolean quiet = false;
        List<Double> sizes = null;
        int repeat = 3;
        java.nio.file.Path outDir = java.nio.file.Path.of("results");
        for (; i < args.length; i++)
        {
            final String arg = args[i];
            if ("--".equals(arg))
            {
                i++;
                break;
            }
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                out.println(USAGE);
                return 0;
            }
            if ("--quiet".equals(arg))
            {
                quiet = true;
                continue;
            }
            if (!arg.startsWith("--"))
            {
                break;
            }
            if (i + 1 >= args.length)
            {
                return usageError("option " + arg + " needs a value (or is unknown)");
            }
            final String value = args[++i];
            try
            {
                switch (arg)
                {
                    case "--excache":
                        excache = value;
                        break;
                    case "--sizes":
                        sizes = new java.util.ArrayList<>();
                        for (final String part : value.split(","))
                        {
                            final double pct = Double.parseDouble(part.trim().replace("%", ""));
                            if (!(pct > 0 && pct <= 1000))
                            {
                                return usageError("--sizes: " + part + " is not a percentage in (0, 1000]");
                            }
                            sizes.add(pct);
                        }
                        break;
                    case "--repeat":
                        repeat = Integer.parseInt(value);
                        if (repeat < 1 || repeat > 100)
                        {
                            return usageError("--repeat: " + value + " must be in 1..100");
                        }
                        break;
                    case "--out":
                        outDir = java.nio.file.Path.of(value);
                        break;
                    case "--working-set":
                        workingSet = Options.parseBytes(value);
                        break;
                    case "--policy":
                        if (!"fifo".equals(value) && !"clock".equals(value))
                        {
                            return usageError("--policy: '" + value + "' is not fifo or clock");
                        }
                        options = options.withPolicy(value);
                        break;
                    case "--fabric":
                        if (!ClusterContext.FABRICS.contains(value))
                        {
                            return usageError("--fabric: '" + value + "' is not one of " + ClusterContext.FABRICS);
                        }
                        options = options.withFabric(value, options.preset());
                        break;
                    case "--preset":
                        if (!ClusterContext.PRESETS.contains(value))
                        {
                            return usageError("--preset: '" + value + "' is not one of " + ClusterContext.PRESETS);
                        }
                        options = options.withFabric(options.fabric(), value);
                        break;
                    case "--memory-monitors":
                        final int n = Integer.parseInt(value);
                        if (n < 1 || n > 16)
                        {
                            return usageError("--memory-monitors: " + value + " must be in 1..16");
                        }
                        options = options.withMemoryMonitors(n);
                        break;
                    case "--arena":
                        final long arena = Options.parseBytes(value);
                        if (arena < 64L << 20 || arena > 1L << 40)
                        {
                            return usageError("--arena: " + value + " must be between 64m and 1t");
                        }
                        options = options.withArenaBytes(arena);
                        break;
                    case "--spin-us":
                        final long us = Long.parseLong(value);
                        if (us < 0 || us > 1_000_000)
                        {
                            return usageError("--spin-us: " + value + " must be in 0..1000000");
                        }
                        options = options.withSpinNs(us * 1000);
                        break;
                    case "--user":
                        if (value.isEmpty() || value.startsWith("-"))
                        {
                            return usageError("--user: '" + value + "' is not a user name or uid");
                        }
                        options = options.withUser(value);
                        break;
                    default:
                        return usageError("unknown option " + arg);
                }
            }
            catch (final NumberFormatException | ArithmeticException ex)
            {
                return usageError(arg + ": '" + value + "' is not a number");
            }
        }
        if (i >= args.length)
        {
            return usageError("no program to run: scripts/splitkernel exec [options] -- PROGRAM [ARGS...]");
        }
        options = options.withCommand(List.of(Arrays.copyOfRange(args, i, args.length)));
        if (excache != null)
        {
            final long bytes = excacheBytes(excache, workingSet);
            if (bytes < 0)
            {
                return 2;
            }
            options = options.withExcacheBytes(bytes);
        }
        final ExecResult result;
        try
        {
            if (sizes != null && options.user() != null)
            {
                // The report compares with native runs, which would run as the caller.
                return usageError("--user is for one run, not with --sizes");
            }
            if (sizes != null)
            {
                return new ExecSweep(out, err).run(options, sizes, repeat, outDir);
            }
            result = new ExecRunner(err).run(options);
        }
        catch (final ExecException ex)
        {
            err.println("splitkernel exec: " + ex.getMessage());
            return ex.exitCode();
        }
        if (!quiet)
        {
            printSummary(err, options, result);
        }
        if (result.failure() != null)
        {
            err.println("splitkernel exec: the emulation stopped " + options.command().get(0) + ": " + result.failure());
        }
        return result.exitCode();
    }

    /** Bytes for "256m" or "25%" (of the working set); -1 after printing why it is bad. */
    private long excacheBytes(final String value, final long workingSet)
    {
        try
        {
            if (value.endsWith("%"))
            {
                final double pct = Double.parseDouble(value.substring(0, value.length() - 1));
                if (!(pct > 0 && pct <= 1000))
                {
                    usageError("--excache: " + value + " is not a percentage in (0, 1000]");
                    return -1;
                }
                if (workingSet <= 0)
                {
                    usageError("--excache " + value + " needs --working-set SIZE (a run without --excache prints the "
                        + "program's 'heap touched')");
                    return -1;
                }
                return Math.max(4096, (long)(workingSet * pct / 100.0));
            }
            final long bytes = Options.parseBytes(value);
            if (bytes < 4096)
            {
                usageError("--excache: " + value + " is less than one 4 KB page");
                return -1;
            }
            return bytes;
        }
        catch (final NumberFormatException | ArithmeticException ex)
        {
            usageError("--excache: '" + value + "' is not a size or a percentage");
            return -1;
        }
    }

    static void printSummary(final PrintStream err, final ExecOptions options, final ExecResult r)
    {
        final ExecCounts c = r.counts();
        err.printf(Locale.ROOT, "splitkernel exec: %s exited with %d after %.3f s (fabric %s%s, policy %s)%n",
            options.command().get(0), r.exitCode(), r.wallNs() / 1e9, options.fabric(),
            "local".equals(options.fabric()) ? ", preset " + options.preset() : "", options.policy());
        if (c == null)
        {
            return;
        }
        err.printf(Locale.ROOT, "  ExCache %s (%d pages), heap touched %s, resident peak %s%n",
            options.excacheBytes() == ExecOptions.UNLIMITED ? "unlimited" : Options.formatBytes(options.excacheBytes()),
            c.capacityPages(), Options.formatBytes(c.touchedPages() * 4096), Options.formatBytes(c.residentPeak() * 4096));
        err.printf(Locale.ROOT, "  faults %d (p-local zero fills %d, fetched %d), write-protect faults %d, evictions %d,"
            + " write-backs %d, bytes moved %s%n", c.missingFaults(), c.pLocalFills(), c.fetches(),
            c.writeProtectFaults(), c.evictions(), c.writeBacks(), Options.formatBytes(c.bytesMoved()));
        final ExecResult.LocalMemory local = r.local();
        if (local != null)
        {
            err.printf(Locale.ROOT, "  left local: %d own mmaps (%s), stack %s, resident outside the heap %s anonymous"
                + " + %s file-backed; forks %d, programs run by exec %d%n", local.mmapCalls(),
                Options.formatBytes(local.mmapBytes()), Options.formatBytes(local.stackBytes()),
                Options.formatBytes(local.rssAnonBytes()), Options.formatBytes(local.rssFileBytes()), local.forks(),
                r.outsideExecs());
        }
    }

    private int usageError(final String message)
    {
        err.println("error: " + message);
        err.println(USAGE);
        return 2;
    }
}
