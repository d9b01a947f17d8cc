package dev.splitkernel.cli;

import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.ProcessorMonitorContext;
import dev.splitkernel.monitor.storage.StorageMonitor;
import dev.splitkernel.monitor.storage.StorageMonitorContext;
import dev.splitkernel.verbs.FabricContext;
import org.agrona.concurrent.ShutdownSignalBarrier;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one CLI: {@code run} (the main job), and the monitor roles {@code global}, {@code memory}, {@code processor}
 * as server processes. A role reads system properties and flags into its context, starts, prints
 * "listening at ADDRESS", waits for SIGTERM or SIGINT, and closes. Exit codes: 0 ok, 1 failure, 2 bad arguments.
 */
public final class Main
{
    private static final String USAGE = String.join("\n",
        "usage: scripts/splitkernel run|exec|global|memory|processor|storage|stat|errors [options]   (--help on each)",
        "  run        boot an embedded cluster, run workloads, print the slowdown table",
        "  exec       run an unmodified program with its heap on an embedded cluster: exec [options] -- PROGRAM ARGS",
        "  global     the global managers (GPM + GMM) as a server",
        "  memory     a memory monitor as a server",
        "  processor  a processor monitor as a server",
        "  storage    a storage monitor as a server (files under --data DIR)",
        "  members    list the members a running cluster's global managers know (alive or dead)",
        "  ping       check that a monitor is up (connects to it)",
        "  stat       monitors' counters, rates and latency percentiles from their status files (also of dead ones)",
        "  errors     monitors' distinct errors from their status files",
        "  Every command takes --config FILE (a .properties preset, e.g. native-config/presets/tcp-cluster.properties);",
        "  -D system properties override it, flags override both. run --global ADDRESS joins a running cluster.");

    private static final String ROLE_USAGE = String.join("\n",
        "usage: scripts/splitkernel %s [--key value ...]",
        "  common:     --fabric local|tcp|rdma   --listen ADDRESS (tcp, rdma: host:port, port 0 picks one;",
        "              rdma: an address on the RDMA interface)   --config FILE (e.g. native-config/disni.properties)",
        "              --preset none|rdma-cx3|rdma-cx6|cxl (local fabric timing)",
        "%s",
        "  Every setting may also be given as a system property (-Dsplitkernel....); flags win.",
        "  Prints 'listening at ADDRESS' once serving; stops on SIGTERM or SIGINT.");

    private Main()
    {
    }

    public static void main(final String[] args)
    {
        System.exit(execute(args, System.out, System.err));
    }

    static int execute(final String[] args, final PrintStream out, final PrintStream err)
    {
        if (args.length == 0 || "--help".equals(args[0]) || "-h".equals(args[0]))
        {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        final String[] allRest = new String[args.length - 1];
        System.arraycopy(args, 1, allRest, 0, allRest.length);
        try
        {
            if ("exec".equals(args[0]))
            {
                // The program's own arguments follow: no -D/--config processing of them.
                return new ExecCommand(out, err).run(allRest);
            }
            final String[] rest = Config.apply(allRest);
            switch (args[0])
            {
                case "run":
                    return ClusterCommands.isClusterRun(rest) ? ClusterCommands.run(rest, out, err) :
                        new RunCommand(out, err).run(rest);
                case "members":
                    return ClusterCommands.members(rest, out, err);
                case "ping":
                    return ClusterCommands.ping(rest, out, err);
                case "stat":
                case "errors":
                    return new StatCommand(out, err).run("errors".equals(args[0]), rest);
                case "global":
                case "memory":
                case "processor":
                case "storage":
                    return role(args[0], rest, out, err);
                default:
                    err.println("error: unknown command '" + args[0] + "'");
                    err.println(USAGE);
                    return 2;
            }
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("error: " + ex.getMessage());
            return 2;
        }
        catch (final Exception ex)
        {
            err.println("error: " + ex);
            return 1;
        }
    }

    private static int role(final String role, final String[] args, final PrintStream out, final PrintStream err)
    {
        final String roleFlags;
        switch (role)
        {
            case "global":
                roleFlags = "  global:     (no other settings)";
                break;
            case "memory":
                roleFlags = "  memory:     --global ADDRESS --capacity 1g --workers 1 --vregion 1g";
                break;
            case "storage":
                roleFlags = "  storage:    --global ADDRESS --data DIR --capacity 16g";
                break;
            default:
                roleFlags = "  processor:  --global ADDRESS --excache 256m --vregion 1g";
                break;
        }
        final Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++)
        {
            if ("--help".equals(args[i]) || "-h".equals(args[i]))
            {
                out.println(String.format(ROLE_USAGE, role, roleFlags));
                return 0;
            }
            if (!args[i].startsWith("--") || i + 1 >= args.length)
            {
                err.println("error: expected --key value, got '" + args[i] + "'");
                err.println(String.format(ROLE_USAGE, role, roleFlags));
                return 2;
            }
            flags.put(args[i].substring(2), args[++i]);
        }

        final FabricContext fabricCtx = new FabricContext();
        take(flags, "fabric", fabricCtx::fabric);
        take(flags, "preset", fabricCtx::timing);
        final String listen = flags.remove("listen");
        final AutoCloseable server;
        final String address;
        switch (role)
        {
            case "global":
            {
                final GlobalManagerContext ctx = new GlobalManagerContext().fabricContext(fabricCtx);
                if (listen != null)
                {
                    ctx.listenAddress(listen);
                }
                checkEmpty(flags, role);
                final GlobalManager g = new GlobalManager(ctx).start();
                server = g;
                address = g.address();
                break;
            }
            case "memory":
            {
                final MemoryMonitorContext ctx = new MemoryMonitorContext().fabricContext(fabricCtx);
                if (listen != null)
                {
                    ctx.listenAddress(listen);
                }
                take(flags, "global", ctx::globalAddress);
                take(flags, "capacity", v -> ctx.capacityBytes(Options.parseBytes(v)));
                take(flags, "workers", v -> ctx.workers(Integer.parseInt(v)));
                take(flags, "vregion", v -> ctx.vRegionBytes(Options.parseBytes(v)));
                checkEmpty(flags, role);
                final MemoryMonitor m = new MemoryMonitor(ctx).start();
                server = m;
                address = m.address();
                break;
            }
            case "storage":
            {
                final StorageMonitorContext ctx = new StorageMonitorContext().fabricContext(fabricCtx);
                if (listen != null)
                {
                    ctx.listenAddress(listen);
                }
                take(flags, "global", ctx::globalAddress);
                take(flags, "data", v -> ctx.dataDir(java.nio.file.Path.of(v)));
                take(flags, "capacity", v -> ctx.capacityBytes(Options.parseBytes(v)));
                checkEmpty(flags, role);
                final StorageMonitor s = new StorageMonitor(ctx).start();
                out.println("storage: " + s.recoverySummary());
                server = s;
                address = s.address();
                break;
            }
            default:
            {
                final ProcessorMonitorContext ctx = new ProcessorMonitorContext().fabricContext(fabricCtx);
                if (listen != null)
                {
                    ctx.listenAddress(listen);
                }
                take(flags, "global", ctx::globalAddress);
                take(flags, "excache", v -> ctx.excache(new ExCacheContext().capacityBytes(Options.parseBytes(v))));
                take(flags, "vregion", v -> ctx.vRegionBytes(Options.parseBytes(v)));
                checkEmpty(flags, role);
                final ProcessorMonitor p = new ProcessorMonitor(ctx);
                server = p;
                address = p.listenAddress();
                break;
            }
        }
        final ShutdownSignalBarrier shutdownBarrier = new ShutdownSignalBarrier();
        out.println(role + ": listening at " + address);
        out.flush();
        // Agrona 2: the barrier's shutdown hook waits until the barrier is closed, so close it once we are done.
        try (ShutdownSignalBarrier barrier = shutdownBarrier)
        {
            barrier.await();
            try
            {
                server.close();
            }
            catch (final Exception ex)
            {
                err.println("error: closing " + role + ": " + ex);
                return 1;
            }
            out.println(role + ": stopped");
            out.flush();
            return 0;
        }
    }

    private static void take(final Map<String, String> flags, final String key,
        final java.util.function.Consumer<String> setter)
    {
        final String value = flags.remove(key);
        if (value != null)
        {
            try
            {
                setter.accept(value);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("--" + key + ": '" + value + "' is not a number", ex);
            }
        }
    }

    private static void checkEmpty(final Map<String, String> flags, final String role)
    {
        if (!flags.isEmpty())
        {
            throw new IllegalArgumentException("unknown option(s) for " + role + ": --" + String.join(", --",
                flags.keySet()) + " (see --help)");
        }
    }
}
