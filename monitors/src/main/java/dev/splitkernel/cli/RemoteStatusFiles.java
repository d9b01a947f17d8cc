package dev.splitkernel.cli;

import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.monitor.status.StatusFileDescriptor;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The status files of monitors on other hosts, copied here over ssh for {@code stat} and {@code errors}: one ssh per
 * host, all hosts at once, each bounded by a timeout. On the host, the files are looked for in the same status
 * directory as here ({@code --dir}, else the default), by the names the monitors' files get ({@code ROLE_HOST_PORT-PID
 * .stat}). The copies live in a temporary directory removed at {@link #close()}.
 * <p>
 * The ssh command is {@code $SPLITKERNEL_SSH} as for {@code scripts/cluster} (or the system property
 * {@code splitkernel.ssh}), default {@code ssh -o BatchMode=yes -o ConnectTimeout=5}; it is called as
 * {@code SSH HOST COMMAND}.
 * <p>
 * Not thread-safe.
 */
final class RemoteStatusFiles implements AutoCloseable
{
    static final String SSH_PROP_NAME = "splitkernel.ssh";
    static final String SSH_ENV_NAME = "SPLITKERNEL_SSH";
    static final String SSH_DEFAULT = "ssh -o BatchMode=yes -o ConnectTimeout=5";

    private final List<String> ssh;
    private final long timeoutMs;
    private Path copies;

    RemoteStatusFiles(final long timeoutMs)
    {
        final String configured = System.getProperty(SSH_PROP_NAME, System.getenv(SSH_ENV_NAME));
        this.ssh = Arrays.asList((configured == null || configured.isBlank() ? SSH_DEFAULT : configured).trim()
            .split("\\s+"));
        this.timeoutMs = timeoutMs;
    }

    /** True if {@code host} names this machine (loopback, or an address of one of its interfaces here). */
    static boolean isThisMachine(final String host)
    {
        try
        {
            final InetAddress address = InetAddress.getByName(host);
            return address.isLoopbackAddress() || address.isAnyLocalAddress()
                || NetworkInterface.getByInetAddress(address) != null;
        }
        catch (final UnknownHostException | SocketException ex)
        {
            return false;
        }
    }

    /** What became of one host: copies of its monitors' files, or a one-line reason there are none. */
    record Fetched(String host, List<Path> files, String error)
    {
    }

    /**
     * Copy the status files of the monitors named in {@code monitorsByHost} from their hosts, all hosts at once.
     * Returns one result per host, within {@link #timeoutMs} (and a little) whatever the hosts do.
     */
    List<Fetched> fetch(final Map<String, Collection<String>> monitorsByHost, final Path remoteDir) throws IOException
    {
        if (copies == null)
        {
            copies = Files.createTempDirectory("splitkernel-stat-remote");
        }
        final Map<String, Process> running = new LinkedHashMap<>();
        final Map<String, Path[]> outputs = new LinkedHashMap<>();
        final List<Fetched> results = new ArrayList<>();
        for (final Map.Entry<String, Collection<String>> e : monitorsByHost.entrySet())
        {
            final String host = e.getKey();
            final Path stdout = Files.createTempFile(copies, "ssh", ".out");
            final Path stderr = Files.createTempFile(copies, "ssh", ".err");
            final List<String> command = new ArrayList<>(ssh);
            command.add(host);
            command.add(remoteCommand(remoteDir, e.getValue()));
            try
            {
                running.put(host, new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start());
                outputs.put(host, new Path[] {stdout, stderr});
            }
            catch (final IOException ex)
            {
                results.add(new Fetched(host, List.of(), "cannot run '" + ssh.get(0) + "': " + ex.getMessage()));
            }
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (final Map.Entry<String, Process> e : running.entrySet())
        {
            final String host = e.getKey();
            final Process process = e.getValue();
            process.getOutputStream().close(); // no input: ssh must not wait for any
            boolean done;
            try
            {
                done = process.waitFor(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                done = false;
            }
            if (!done)
            {
                process.destroyForcibly();
                results.add(new Fetched(host, List.of(), "no answer over ssh within " + timeoutMs + " ms"));
                continue;
            }
            final Path[] out = outputs.get(host);
            if (process.exitValue() != 0)
            {
                results.add(new Fetched(host, List.of(), lastLine(out[1], "ssh exited with " + process.exitValue())));
                continue;
            }
            try
            {
                results.add(new Fetched(host, unpack(out[0], copies.resolve(safe(host))), null));
            }
            catch (final IOException ex)
            {
                results.add(new Fetched(host, List.of(), "garbled answer over ssh: " + ex.getMessage()));
            }
        }
        return results;
    }

    /**
     * A POSIX shell command that writes, for each status file of the named monitors in {@code dir}, a line
     * "LENGTH NAME" and then the file's bytes.
     */
    static String remoteCommand(final Path dir, final Collection<String> monitorNames)
    {
        final StringBuilder globs = new StringBuilder();
        for (final String name : monitorNames)
        {
            // Stems are [A-Za-z0-9._-] only: safe unquoted in a glob.
            globs.append(' ').append(MonitorStatus.fileStem(name)).append("-*").append(StatusFileDescriptor.SUFFIX);
        }
        final String quotedDir = "'" + dir.toString().replace("'", "'\\''") + "'";
        // The directory stays single-quoted in the message too: nothing the user wrote is expanded by the shell.
        return "cd " + quotedDir + " 2>/dev/null || { echo \"no status directory\" " + quotedDir +
            " \"on $(hostname)\" >&2; exit 3; }; for f in" + globs +
            "; do [ -f \"$f\" ] || continue; echo \"$(wc -c < \"$f\") $f\"; cat \"$f\"; done";
    }

    /** Split the answer into files under {@code into}. */
    static List<Path> unpack(final Path answer, final Path into) throws IOException
    {
        Files.createDirectories(into);
        final List<Path> files = new ArrayList<>();
        try (InputStream in = Files.newInputStream(answer); DataInputStream data = new DataInputStream(in))
        {
            String header;
            while ((header = readLine(data)) != null)
            {
                final String[] parts = header.trim().split(" ", 2);
                if (parts.length != 2 || !parts[1].matches("[A-Za-z0-9._-]+"))
                {
                    throw new IOException("bad header '" + header + "'");
                }
                final long length = Long.parseLong(parts[0]);
                if (length < 0 || length > (64L << 20))
                {
                    throw new IOException("bad length " + length + " of " + parts[1]);
                }
                final byte[] bytes = new byte[(int)length];
                data.readFully(bytes);
                final Path file = into.resolve(parts[1]);
                Files.write(file, bytes);
                files.add(file);
            }
        }
        catch (final NumberFormatException | EOFException ex)
        {
            throw new IOException("truncated or malformed: " + ex.getMessage(), ex);
        }
        return files;
    }

    private static String readLine(final DataInputStream in) throws IOException
    {
        final StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n')
        {
            if (sb.length() > 1024)
            {
                throw new IOException("header line too long");
            }
            sb.append((char)b);
        }
        return b == -1 && sb.length() == 0 ? null : sb.toString();
    }

    private static String lastLine(final Path file, final String otherwise)
    {
        try
        {
            final List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--)
            {
                if (!lines.get(i).isBlank())
                {
                    return lines.get(i).trim();
                }
            }
        }
        catch (final IOException ex)
        {
            // fall through
        }
        return otherwise;
    }

    private static String safe(final String host)
    {
        return host.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Override
    public void close()
    {
        if (copies == null)
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(copies))
        {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException ex)
        {
            // a temporary directory: left to the system
        }
        copies = null;
    }
}
