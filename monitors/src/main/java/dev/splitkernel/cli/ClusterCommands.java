package dev.splitkernel.cli;

import dev.splitkernel.cluster.ClusterFile;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.processor.ProcessorMonitorContext;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.Workloads;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Commands against a running cluster: {@code members} (the global managers' member list, alive or dead),
 * {@code ping} (connect to a monitor, proving it is up and, with a secret, that we share it), and
 * {@code run --global ADDRESS | --cluster FILE} (start a processor monitor here that joins the cluster, run one
 * workload in a process on it, verify, print the result and where its memory went, leave).
 */
final class ClusterCommands
{
    static final String MEMBERS_USAGE = String.join("\n",
        "usage: scripts/splitkernel members --global ADDRESS | --cluster FILE [--fabric tcp] [--timeout-ms 5000]",
        "  Prints every member the global managers know: id role address alive|dead heartbeat-age-ms load.",
        "  Exit 0 if the global managers answered, 1 if not.");
    static final String PING_USAGE = String.join("\n",
        "usage: scripts/splitkernel ping ADDRESS [--fabric tcp] [--timeout-ms 5000]",
        "  Connects to the monitor at ADDRESS (host:port) and closes: exit 0 if it is up (and, with",
        "  -Dsplitkernel.secretFile, accepted our secret), 1 if not.");
    static final String RUN_USAGE = String.join("\n",
        "usage: scripts/splitkernel run --global ADDRESS | --cluster FILE [options]",
        "  Starts a processor monitor in this JVM that joins the running cluster (it registers with the global",
        "  managers, which choose the process's home and vRegion owners among the live memory monitors), runs one",
        "  workload in one process, verifies every value, prints the result and the owners of its memory, leaves.",
        "  --workload seq|random|kv   (default seq)      --working-set 16m  (default 16m)",
        "  --excache 4m               (default 4m)       --vregion 4m       (vRegion size, default 1g; must match",
        "                                                                   the memory monitors' --vregion)",
        "  --listen HOST:0            where this processor listens (default 127.0.0.1:0; give an address the",
        "                             memory monitors can reach)",
        "  --fabric tcp|rdma          (default: the cluster file's, else tcp)  --timeout-ms 5000",
        "  --rounds N                 run the workload N times over the same memory, then verify (default 1;",
        "                             prints 'run: populated' with the owners first: e.g. kill one meanwhile)",
        "  --hold-ms N                after verifying, keep the process and its memory N ms, then verify again",
        "                             (prints 'run: holding' first: e.g. stop an unrelated monitor meanwhile)",
        "  Exit 0 verified, 1 failed or did not verify, 2 bad options.");

    private ClusterCommands()
    {
    }

    static boolean isClusterRun(final String[] args)
    {
        for (final String arg : args)
        {
            if ("--global".equals(arg) || "--cluster".equals(arg))
            {
                return true;
            }
        }
        return false;
    }

    private static Map<String, String> flags(final String[] args, final int first, final String usage)
    {
        final Map<String, String> flags = new LinkedHashMap<>();
        for (int i = first; i < args.length; i++)
        {
            if (!args[i].startsWith("--") || i + 1 >= args.length)
            {
                throw new IllegalArgumentException("expected --key value, got '" + args[i] + "'\n" + usage);
            }
            flags.put(args[i].substring(2), args[++i]);
        }
        return flags;
    }

    private static boolean wantsHelp(final String[] args)
    {
        for (final String arg : args)
        {
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                return true;
            }
        }
        return false;
    }

    private static long timeoutNs(final Map<String, String> flags)
    {
        final String value = flags.remove("timeout-ms");
        try
        {
            final long ms = value == null ? 5000 : Long.parseLong(value);
            if (ms <= 0)
            {
                throw new IllegalArgumentException("--timeout-ms must be positive: " + ms);
            }
            return TimeUnit.MILLISECONDS.toNanos(ms);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("--timeout-ms: '" + value + "' is not a number", ex);
        }
    }

    private static void checkEmpty(final Map<String, String> flags, final String usage)
    {
        if (!flags.isEmpty())
        {
            throw new IllegalArgumentException("unknown option(s): --" + String.join(", --", flags.keySet()) + "\n" +
                usage);
        }
    }

    /** The global address and fabric from --global / --cluster (and --fabric). */
    private static String[] target(final Map<String, String> flags, final String usage)
    {
        final String clusterFile = flags.remove("cluster");
        String global = flags.remove("global");
        String fabric = flags.remove("fabric");
        if (clusterFile != null)
        {
            final ClusterFile cluster = ClusterFile.read(Path.of(clusterFile));
            if (global == null)
            {
                global = cluster.global().address();
            }
            if (fabric == null)
            {
                fabric = cluster.fabric();
            }
            if (cluster.secretFile() != null && System.getProperty(FabricContext.SECRET_FILE_PROP_NAME) == null)
            {
                final Path secret = Path.of(cluster.secretFile());
                final String home = System.getProperty("splitkernel.home", ".");
                System.setProperty(FabricContext.SECRET_FILE_PROP_NAME,
                    (secret.isAbsolute() ? secret : Path.of(home).resolve(secret)).toString());
            }
        }
        if (global == null)
        {
            throw new IllegalArgumentException("give --global ADDRESS or --cluster FILE\n" + usage);
        }
        return new String[] {global, fabric == null ? "tcp" : fabric};
    }

    static int members(final String[] args, final PrintStream out, final PrintStream err)
    {
        if (wantsHelp(args))
        {
            out.println(MEMBERS_USAGE);
            return 0;
        }
        final Map<String, String> flags = flags(args, 0, MEMBERS_USAGE);
        final String[] target = target(flags, MEMBERS_USAGE);
        final long timeoutNs = timeoutNs(flags);
        checkEmpty(flags, MEMBERS_USAGE);
        try (Fabric fabric = Fabrics.create(new FabricContext().fabric(target[1]));
            GlobalManagerProxy global = new GlobalManagerProxy(fabric.connect(target[0], timeoutNs), timeoutNs))
        {
            final String text = global.listMembers();
            if (text == null)
            {
                err.println("error: the global managers at " + target[0] + " did not answer within the timeout");
                return 1;
            }
            out.print(text);
            out.flush();
            return 0;
        }
        catch (final FabricException ex)
        {
            err.println("error: cannot reach the global managers at " + target[0] + ": " + ex.getMessage());
            return 1;
        }
    }

    static int ping(final String[] args, final PrintStream out, final PrintStream err)
    {
        if (args.length == 0 || wantsHelp(args))
        {
            (args.length == 0 ? err : out).println(PING_USAGE);
            return args.length == 0 ? 2 : 0;
        }
        final String address = args[0];
        final Map<String, String> flags = flags(args, 1, PING_USAGE);
        final String fabricName = flags.getOrDefault("fabric", "tcp");
        flags.remove("fabric");
        final long timeoutNs = timeoutNs(flags);
        checkEmpty(flags, PING_USAGE);
        try (Fabric fabric = Fabrics.create(new FabricContext().fabric(fabricName));
            Connection connection = fabric.connect(address, timeoutNs))
        {
            out.println(address + ": up (" + connection.getClass().getSimpleName() + ")");
            return 0;
        }
        catch (final FabricException ex)
        {
            err.println(address + ": down (" + ex.getMessage() + ")");
            return 1;
        }
    }

    static int run(final String[] args, final PrintStream out, final PrintStream err) throws Exception
    {
        if (wantsHelp(args))
        {
            out.println(RUN_USAGE);
            return 0;
        }
        final Map<String, String> flags = flags(args, 0, RUN_USAGE);
        final String[] target = target(flags, RUN_USAGE);
        final long timeoutNs = timeoutNs(flags);
        final String workloadName = remove(flags, "workload", "seq");
        final long workingSetBytes = bytes(flags, "working-set", "16m");
        final long excacheBytes = bytes(flags, "excache", "4m");
        final long vRegionBytes = bytes(flags, "vregion", "1g");
        final String listen = remove(flags, "listen", "127.0.0.1:0");
        final String holdText = remove(flags, "hold-ms", "0");
        final String roundsText = remove(flags, "rounds", "1");
        final int rounds;
        try
        {
            rounds = Integer.parseInt(roundsText);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("--rounds: '" + roundsText + "' is not a number", ex);
        }
        if (rounds < 1 || rounds > 100_000)
        {
            throw new IllegalArgumentException("--rounds must be 1 to 100000: " + rounds);
        }
        final long holdMs;
        try
        {
            holdMs = Long.parseLong(holdText);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("--hold-ms: '" + holdText + "' is not a number", ex);
        }
        if (holdMs < 0 || holdMs > TimeUnit.HOURS.toMillis(1))
        {
            throw new IllegalArgumentException("--hold-ms must be 0 to 3600000: " + holdMs);
        }
        checkEmpty(flags, RUN_USAGE);
        final MemoryWorkload workload;
        try
        {
            workload = Workloads.byName(workloadName);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("--workload: '" + workloadName + "' is unknown: use one of " +
                Workloads.NAMES, ex);
        }
        final long regionBytes = workload.regionBytes(workingSetBytes);
        out.printf(Locale.ROOT, "run: %s, working set %s, ExCache %s, joining the cluster at %s over %s%n",
            workloadName, Options.formatBytes(regionBytes), Options.formatBytes(excacheBytes), target[0], target[1]);
        out.flush();
        try (ProcessorMonitor processor = new ProcessorMonitor(new ProcessorMonitorContext()
            .fabricContext(new FabricContext().fabric(target[1]))
            .listenAddress(listen)
            .globalAddress(target[0])
            .vRegionBytes(vRegionBytes)
            .timeoutNs(timeoutNs)
            .excache(new ExCacheContext().capacityBytes(excacheBytes))))
        {
            out.println("run: processor " + processor.memberId() + " joined, listening at " +
                processor.listenAddress());
            final LegoProcess process = processor.createProcess(workloadName);
            final long base = process.mmap(0, regionBytes, Prot.PROT_READ | Prot.PROT_WRITE,
                Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
            if (base < 0)
            {
                err.println("error: mmap of " + regionBytes + " bytes failed: " + Errno.describe(base) +
                    " (do the live memory monitors have room? see 'splitkernel members')");
                return 1;
            }
            // One thread loads through its own view of the process (its hits counted in the view).
            final LegoProcess.ThreadMemory memory = process.threadMemory();
            final long startNs = System.nanoTime();
            workload.populate(memory, base, regionBytes, 0, 1);
            if (rounds > 1)
            {
                out.printf(Locale.ROOT, "run: populated at %d ms, home memory monitor %d, memory owners %s%n",
                    System.currentTimeMillis(), process.homeId(), owners(process, base, regionBytes));
                out.flush();
            }
            long writes = 0;
            for (int round = 0; round < rounds; round++)
            {
                writes += workload.run(memory, base, regionBytes, 0, 1);
            }
            final long elapsedNs = System.nanoTime() - startNs;
            workload.verify(memory, base, regionBytes, writes);
            out.printf(Locale.ROOT, "run: %s verified: %d writes, %.3f s, home memory monitor %d, memory owners %s,"
                + " ExCache hits %d misses %d%n", workloadName, writes, elapsedNs / 1e9, process.homeId(),
                owners(process, base, regionBytes), processor.cache().counters().hits(),
                processor.cache().counters().misses());
            final long[] failover = processor.failoverTimesMs();
            if (failover[0] != 0)
            {
                out.printf(Locale.ROOT, "run: failover: owner down at %d ms, first access served by a new owner at %d"
                    + " ms, %d accesses served by new owners%n", failover[0], failover[1], failover[2]);
            }
            if (holdMs > 0)
            {
                out.println("run: holding the process for " + holdMs + " ms");
                out.flush();
                Thread.sleep(holdMs);
                // Every line again: what the ExCache no longer holds comes back from the owners.
                workload.verify(memory, base, regionBytes, writes);
                out.printf(Locale.ROOT, "run: verified again after holding, ExCache misses %d%n",
                    processor.cache().counters().misses());
            }
            out.println("result: OK");
            return 0;
        }
        catch (final FabricException ex)
        {
            err.println("error: cannot join the cluster at " + target[0] + ": " + ex.getMessage());
            return 1;
        }
        catch (final RuntimeException ex)
        {
            err.println("error: the workload failed: " + ex);
            err.println("result: FAILED");
            return 1;
        }
    }

    /** The memory monitors owning [base, base + length) of the process, by its vRegion map. */
    private static TreeSet<Integer> owners(final LegoProcess process, final long base, final long length)
    {
        final VRegionMap map = process.vRegionMap();
        final TreeSet<Integer> owners = new TreeSet<>();
        for (long a = base; a < base + length; a += map.vRegionBytes())
        {
            owners.add(map.ownerOfAddress(a));
        }
        owners.add(map.ownerOfAddress(base + length - 1));
        return owners;
    }

    private static String remove(final Map<String, String> flags, final String key, final String dflt)
    {
        final String value = flags.remove(key);
        return value == null ? dflt : value;
    }

    private static long bytes(final Map<String, String> flags, final String key, final String dflt)
    {
        final String value = remove(flags, key, dflt);
        try
        {
            final long bytes = Options.parseBytes(value);
            if (bytes <= 0)
            {
                throw new IllegalArgumentException("--" + key + " must be positive: " + value);
            }
            return bytes;
        }
        catch (final NumberFormatException | ArithmeticException ex)
        {
            throw new IllegalArgumentException("--" + key + ": '" + value + "' is not a size (e.g. 16m)", ex);
        }
    }
}
