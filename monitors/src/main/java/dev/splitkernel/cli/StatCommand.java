package dev.splitkernel.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.splitkernel.cluster.ClusterFile;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.monitor.status.StatusFileDescriptor;
import dev.splitkernel.monitor.status.StatusReader;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

/**
 * {@code splitkernel stat} and {@code splitkernel errors}: read monitors' status files from outside (running,
 * closed, or killed), a refreshing table of counters with rates and latency percentiles, a one-shot JSON document,
 * or the distinct errors. Never writes to the files.
 */
final class StatCommand
{
    private static final String USAGE = String.join("\n",
        "usage: scripts/splitkernel stat|errors [options] [STATUS_FILE ...]",
        "  Reads the status files of monitors (default: every file in the status directory that was not closed",
        "  cleanly: running ones and killed ones).",
        "  --dir DIR          status directory (default: " + MonitorStatus.DIR_PROP_NAME + " or "
            + "/dev/shm/splitkernel-stat)",
        "  --cluster FILE     only the monitors of this cluster file, over all its hosts: a monitor whose file is",
        "                     not here (a testbed's are: its namespaces share this machine's files) is read from",
        "                     its host over ssh ($SPLITKERNEL_SSH HOST, default 'ssh -o BatchMode=yes -o",
        "                     ConnectTimeout=5'), in the same status directory there; an unreachable host gets",
        "                     one line on stderr, the others are shown",
        "  --ssh-timeout MS   --cluster: the longest wait for all hosts' files over ssh (default 10000)",
        "  --monitor REGEX    only monitors whose name matches (e.g. 'memory')",
        "  --filter REGEX     stat: only counters whose label matches (e.g. 'excache|served')",
        "  --all              also monitors that closed cleanly",
        "  --zeros            stat: also counters at zero",
        "  --json             one JSON document, then exit",
        "  --interval MS      stat: refresh period (default 1000)   --count N  stat: refreshes, then exit",
        "                     (default: until interrupted on a terminal, 1 otherwise)");

    private static final double[] PERCENTILES = {50, 90, 99, 99.9};

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, Long> previous = new HashMap<>();
    private long previousMs;

    StatCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    int run(final boolean errorsOnly, final String[] args) throws IOException
    {
        Path dir = MonitorStatus.defaultDirectory();
        Path clusterFile = null;
        Pattern monitor = null;
        Pattern filter = null;
        boolean all = false;
        boolean zeros = false;
        boolean json = false;
        long intervalMs = 1000;
        long sshTimeoutMs = 10_000;
        long count = System.console() != null ? Long.MAX_VALUE : 1;
        final List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++)
        {
            final String a = args[i];
            switch (a)
            {
                case "--help":
                case "-h":
                    out.println(USAGE);
                    return 0;
                case "--all": all = true; break;
                case "--zeros": zeros = true; break;
                case "--json": json = true; break;
                case "--dir": dir = Path.of(value(args, ++i, a)); break;
                case "--cluster": clusterFile = Path.of(value(args, ++i, a)); break;
                case "--monitor": monitor = pattern(value(args, ++i, a), a); break;
                case "--filter": filter = pattern(value(args, ++i, a), a); break;
                case "--interval": intervalMs = positive(value(args, ++i, a), a); break;
                case "--count": count = positive(value(args, ++i, a), a); break;
                case "--ssh-timeout": sshTimeoutMs = positive(value(args, ++i, a), a); break;
                default:
                    if (a.startsWith("--"))
                    {
                        throw new IllegalArgumentException("unknown option " + a + " (see --help)");
                    }
                    files.add(Path.of(a));
            }
        }
        final Map<String, String> clusterHosts = clusterFile == null ? null : clusterMonitorHosts(clusterFile);
        try (RemoteStatusFiles remote = new RemoteStatusFiles(sshTimeoutMs))
        {
            return show(errorsOnly, files, dir, clusterHosts, monitor, filter, all, zeros, json, intervalMs, count,
                remote);
        }
    }

    private int show(final boolean errorsOnly, final List<Path> files, final Path dir,
        final Map<String, String> clusterHosts, final Pattern monitor, final Pattern filter, final boolean all,
        final boolean zeros, final boolean json, final long intervalMs, final long count,
        final RemoteStatusFiles remote) throws IOException
    {
        final Set<String> clusterNames = clusterHosts == null ? null : clusterHosts.keySet();
        for (long n = 0; n < count; n++)
        {
            if (n > 0)
            {
                LockSupport.parkNanos(intervalMs * 1_000_000L);
            }
            final List<StatusReader> readers = open(files, dir, clusterNames, monitor, all);
            if (clusterHosts != null && files.isEmpty())
            {
                readers.addAll(openRemote(readers, clusterHosts, dir, monitor, all, remote));
            }
            if (readers.isEmpty())
            {
                err.println("no monitor status files" + (files.isEmpty() ? " in " + dir + (all ? "" :
                    " (closed ones need --all)") : ""));
                return 1;
            }
            if (json)
            {
                out.println(JSON.std.asString(errorsOnly ? errorsJson(readers) : statJson(readers, filter)));
                return 0;
            }
            if (errorsOnly)
            {
                printErrors(readers);
                return 0;
            }
            printTable(readers, filter, zeros, n > 0 && System.console() != null);
            if (clusterNames != null)
            {
                reportMissing(readers, clusterNames);
            }
            out.flush();
        }
        return 0;
    }

    private List<StatusReader> open(final List<Path> files, final Path dir, final Set<String> clusterNames,
        final Pattern monitor, final boolean all) throws IOException
    {
        final boolean explicit = !files.isEmpty();
        return open(explicit ? files : StatusReader.list(dir), clusterNames, monitor, all, explicit);
    }

    /** {@code explicit}: files named by the user (all shown, an unreadable one is an error). */
    private static List<StatusReader> open(final List<Path> candidates, final Set<String> clusterNames,
        final Pattern monitor, final boolean all, final boolean explicit) throws IOException
    {
        final List<StatusReader> readers = new ArrayList<>();
        for (final Path file : candidates)
        {
            if (!all && !explicit && StatusReader.isClosedFile(file))
            {
                continue; // closed: not shown, and not worth a mapping
            }
            final StatusReader reader;
            try
            {
                reader = StatusReader.open(file);
            }
            catch (final IOException ex)
            {
                if (explicit)
                {
                    throw ex;
                }
                continue; // being created, or not ours
            }
            if ((!all && !explicit && reader.isClosed())
                || (clusterNames != null && !clusterNames.contains(reader.monitorName()))
                || (monitor != null && !monitor.matcher(reader.monitorName()).find()))
            {
                reader.unmap();
                continue;
            }
            readers.add(reader);
        }
        return readers;
    }

    /** The monitor names that the members of a cluster file get ("ROLE HOST:PORT"), with their hosts. */
    private static Map<String, String> clusterMonitorHosts(final Path clusterFile) throws IOException
    {
        final Map<String, String> hosts = new TreeMap<>();
        for (final ClusterFile.Member member : ClusterFile.read(clusterFile).members())
        {
            hosts.put(member.role() + " " + member.address(), member.host());
        }
        return hosts;
    }

    /**
     * The cluster's monitors whose files are not here, read from their hosts over ssh (not from hosts that are this
     * machine: there the file is missing, and {@link #reportMissing} says so). One line on stderr per host that
     * could not be read.
     */
    private List<StatusReader> openRemote(final List<StatusReader> local, final Map<String, String> clusterHosts,
        final Path dir, final Pattern monitor, final boolean all, final RemoteStatusFiles remote) throws IOException
    {
        final Set<String> found = new HashSet<>();
        local.forEach(r -> found.add(r.monitorName()));
        final Map<String, Collection<String>> byHost = new TreeMap<>();
        for (final Map.Entry<String, String> e : clusterHosts.entrySet())
        {
            if (!found.contains(e.getKey()) && (monitor == null || monitor.matcher(e.getKey()).find())
                && !RemoteStatusFiles.isThisMachine(e.getValue()))
            {
                byHost.computeIfAbsent(e.getValue(), h -> new ArrayList<>()).add(e.getKey());
            }
        }
        final List<StatusReader> readers = new ArrayList<>();
        if (byHost.isEmpty())
        {
            return readers;
        }
        for (final RemoteStatusFiles.Fetched fetched : remote.fetch(byHost, dir))
        {
            if (fetched.error() != null)
            {
                err.println("stat: host " + fetched.host() + " (" + String.join(", ", byHost.get(fetched.host()))
                    + "): " + fetched.error());
                continue;
            }
            readers.addAll(open(fetched.files(), clusterHosts.keySet(), monitor, all, false));
        }
        return readers;
    }

    private void reportMissing(final List<StatusReader> readers, final Set<String> clusterNames)
    {
        final Set<String> missing = new TreeSet<>(clusterNames);
        readers.forEach(r -> missing.remove(r.monitorName()));
        for (final String name : missing)
        {
            out.println("(" + name + ": no status file found, here or on its host)");
        }
    }

    private void printTable(final List<StatusReader> readers, final Pattern filter, final boolean zeros,
        final boolean clear)
    {
        final long nowMs = System.currentTimeMillis();
        final double seconds = previousMs == 0 ? 0 : (nowMs - previousMs) / 1000.0;
        if (clear)
        {
            out.print("\033[H\033[2J");
        }
        out.println("splitkernel stat  " + Instant.ofEpochMilli(nowMs));
        for (final StatusReader r : readers)
        {
            out.printf("%n== %s  [%s]  pid %d on %s, up %s, heartbeat %s ago  (%s)%n", r.monitorName(),
                r.state(nowMs), r.pid(), r.hostName(), duration(r.heartbeatMs() - r.startTimeMs()),
                duration(nowMs - r.heartbeatMs()), r.file());
            out.printf("   %-52s %16s %14s%n", "counter", "total", "per second");
            for (final StatusReader.Counter c : r.counters())
            {
                if ((filter != null && !filter.matcher(c.label()).find()) || (!zeros && c.value() == 0))
                {
                    continue;
                }
                final Long before = previous.put(r.file() + "#" + c.id() + c.label(), c.value());
                final String rate = before == null || seconds <= 0 ? "-" :
                    String.format("%.1f", (c.value() - before) / seconds);
                out.printf("   %-52s %16d %14s%n", c.label(), c.value(), rate);
            }
            for (int h = 0; h < Math.min(r.histogramCount(), StatusFileDescriptor.HISTOGRAM_COUNT); h++)
            {
                final Histogram histogram = r.histogram(h);
                if (histogram.getTotalCount() == 0)
                {
                    continue;
                }
                final StringBuilder sb = new StringBuilder();
                for (final double p : PERCENTILES)
                {
                    sb.append(String.format("  p%s %.1f", trim(p), histogram.getValueAtPercentile(p) / 1000.0));
                }
                out.printf("   latency %-10s n=%d%s  max %.1f us%n", StatusFileDescriptor.HISTOGRAM_NAMES[h],
                    histogram.getTotalCount(), sb, histogram.getMaxValue() / 1000.0);
            }
            final int errors = r.errors().size();
            if (errors > 0)
            {
                out.println("   distinct errors: " + errors + " (scripts/splitkernel errors " + r.file() + ")");
            }
        }
        previousMs = nowMs;
    }

    private void printErrors(final List<StatusReader> readers)
    {
        for (final StatusReader r : readers)
        {
            final List<StatusReader.DistinctError> errors = r.errors();
            out.printf("== %s  [%s]  pid %d on %s: %d distinct error(s)  (%s)%n", r.monitorName(),
                r.state(System.currentTimeMillis()), r.pid(), r.hostName(), errors.size(), r.file());
            for (final StatusReader.DistinctError e : errors)
            {
                out.printf("%d x, first %s, last %s%n%s%n", e.count(), Instant.ofEpochMilli(e.firstMs()),
                    Instant.ofEpochMilli(e.lastMs()), e.text().stripTrailing());
            }
        }
    }

    private static Map<String, Object> statJson(final List<StatusReader> readers, final Pattern filter)
    {
        final long nowMs = System.currentTimeMillis();
        final List<Object> monitors = new ArrayList<>();
        for (final StatusReader r : readers)
        {
            final Map<String, Object> m = header(r, nowMs);
            final Map<String, Object> counters = new LinkedHashMap<>();
            for (final StatusReader.Counter c : r.counters())
            {
                if (filter == null || filter.matcher(c.label()).find())
                {
                    counters.merge(c.label(), c.value(), (a, b) -> (Long)a + (Long)b);
                }
            }
            m.put("counters", counters);
            final Map<String, Object> latency = new LinkedHashMap<>();
            for (int h = 0; h < Math.min(r.histogramCount(), StatusFileDescriptor.HISTOGRAM_COUNT); h++)
            {
                final Histogram histogram = r.histogram(h);
                final Map<String, Object> hm = new LinkedHashMap<>();
                hm.put("count", histogram.getTotalCount());
                for (final double p : PERCENTILES)
                {
                    hm.put("p" + trim(p) + "Ns", histogram.getTotalCount() == 0 ? 0 :
                        histogram.getValueAtPercentile(p));
                }
                hm.put("maxNs", histogram.getMaxValue());
                latency.put(StatusFileDescriptor.HISTOGRAM_NAMES[h], hm);
            }
            m.put("latency", latency);
            m.put("distinctErrors", r.errors().size());
            monitors.add(m);
        }
        final Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("timeMs", nowMs);
        doc.put("monitors", monitors);
        return doc;
    }

    private static Map<String, Object> errorsJson(final List<StatusReader> readers)
    {
        final long nowMs = System.currentTimeMillis();
        final List<Object> monitors = new ArrayList<>();
        for (final StatusReader r : readers)
        {
            final Map<String, Object> m = header(r, nowMs);
            final List<Object> errors = new ArrayList<>();
            for (final StatusReader.DistinctError e : r.errors())
            {
                final Map<String, Object> em = new LinkedHashMap<>();
                em.put("count", e.count());
                em.put("firstMs", e.firstMs());
                em.put("lastMs", e.lastMs());
                em.put("text", e.text());
                errors.add(em);
            }
            m.put("errors", errors);
            monitors.add(m);
        }
        return Map.of("monitors", monitors);
    }

    private static Map<String, Object> header(final StatusReader r, final long nowMs)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("monitor", r.monitorName());
        m.put("state", r.state(nowMs));
        m.put("pid", r.pid());
        m.put("host", r.hostName());
        m.put("startMs", r.startTimeMs());
        m.put("heartbeatMs", r.heartbeatMs());
        m.put("file", r.file().toString());
        return m;
    }

    private static String trim(final double p)
    {
        return p == Math.rint(p) ? Long.toString((long)p) : Double.toString(p);
    }

    private static String duration(final long ms)
    {
        if (ms < 10_000)
        {
            return String.format("%.1fs", Math.max(0, ms) / 1000.0);
        }
        return ms < 3_600_000 ? (ms / 60_000) + "m" + (ms / 1000 % 60) + "s" : (ms / 3_600_000) + "h" + (ms / 60_000
            % 60) + "m";
    }

    private static String value(final String[] args, final int i, final String option)
    {
        if (i >= args.length)
        {
            throw new IllegalArgumentException(option + " needs a value (see --help)");
        }
        return args[i];
    }

    private static Pattern pattern(final String regex, final String option)
    {
        try
        {
            return Pattern.compile(regex);
        }
        catch (final java.util.regex.PatternSyntaxException ex)
        {
            throw new IllegalArgumentException(option + ": '" + regex + "' is not a regular expression", ex);
        }
    }

    private static long positive(final String v, final String option)
    {
        try
        {
            final long n = Long.parseLong(v);
            if (n > 0)
            {
                return n;
            }
        }
        catch (final NumberFormatException ignored)
        {
            // reported below
        }
        throw new IllegalArgumentException(option + ": '" + v + "' is not a positive number");
    }
}
