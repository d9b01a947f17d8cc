package dev.splitkernel.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A cluster file: which monitor runs on which host. One line per setting or member, words separated by blanks,
 * {@code #} starts a comment; read the same way by {@code scripts/cluster}, {@code scripts/testbed} (bash
 * {@code read -r kind name host port extra}) and by {@code splitkernel run --cluster}.
 * <pre>
 *   fabric tcp                                  # the fabric of every monitor (tcp or rdma)
 *   secret-file native-config/cluster.secret    # optional; relative paths are under SPLITKERNEL_HOME
 *   home /opt/splitkernel                       # optional: SPLITKERNEL_HOME on the hosts (default: this one's)
 *   config native-config/presets/tcp-cluster.properties   # optional: the settings preset (this is the default)
 *   member-timeout-ms 3000                      # optional: the global managers' heartbeat timeout
 *   global    g0 10.77.0.1 7000                 # role name host port [flags for scripts/splitkernel ROLE]
 *   memory    m0 10.77.0.2 7001 --capacity 64m
 *   processor p0 10.77.0.4 7003
 * </pre>
 * Exactly one {@code global}; names unique (a testbed names its namespace {@code sk-NAME}); ports 1 to 65535.
 * <p>
 * Immutable once read.
 */
public final class ClusterFile
{
    public static final List<String> ROLES = List.of("global", "memory", "processor", "storage");
    public static final String CONFIG_DEFAULT = "native-config/presets/tcp-cluster.properties";

    /** One monitor of the cluster. */
    public static final class Member
    {
        private final String role;
        private final String name;
        private final String host;
        private final int port;
        private final List<String> flags;

        Member(final String role, final String name, final String host, final int port, final List<String> flags)
        {
            this.role = role;
            this.name = name;
            this.host = host;
            this.port = port;
            this.flags = Collections.unmodifiableList(flags);
        }

        public String role()
        {
            return role;
        }

        public String name()
        {
            return name;
        }

        public String host()
        {
            return host;
        }

        public int port()
        {
            return port;
        }

        public String address()
        {
            return host + ":" + port;
        }

        /** Extra flags for {@code scripts/splitkernel ROLE}, as written. */
        public List<String> flags()
        {
            return flags;
        }

        @Override
        public String toString()
        {
            return role + " " + name + " " + address();
        }
    }

    private final Path path;
    private final String fabric;
    private final String secretFile;
    private final String home;
    private final String config;
    private final long memberTimeoutMs;
    private final List<Member> members;

    private ClusterFile(final Path path, final String fabric, final String secretFile, final String home,
        final String config, final long memberTimeoutMs, final List<Member> members)
    {
        this.config = config;
        this.path = path;
        this.fabric = fabric;
        this.secretFile = secretFile;
        this.home = home;
        this.memberTimeoutMs = memberTimeoutMs;
        this.members = Collections.unmodifiableList(members);
    }

    /** @throws IllegalArgumentException naming the file, the line and the fix. */
    public static ClusterFile read(final Path path)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read cluster file " + path + ": " + ex.getMessage(), ex);
        }
        return parse(path, lines);
    }

    public static ClusterFile parse(final Path path, final List<String> lines)
    {
        String fabric = "tcp";
        String secretFile = null;
        String home = null;
        String config = CONFIG_DEFAULT;
        long memberTimeoutMs = -1;
        final List<Member> members = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        final Set<String> addresses = new HashSet<>();
        for (int n = 0; n < lines.size(); n++)
        {
            String line = lines.get(n);
            final int hash = line.indexOf('#');
            line = (hash >= 0 ? line.substring(0, hash) : line).trim();
            if (line.isEmpty())
            {
                continue;
            }
            final String where = path + ":" + (n + 1) + ": ";
            final String[] words = line.split("\\s+");
            final String kind = words[0];
            switch (kind)
            {
                case "fabric":
                    fabric = single(words, where);
                    if (!fabric.equals("tcp") && !fabric.equals("rdma"))
                    {
                        throw new IllegalArgumentException(where + "fabric '" + fabric +
                            "' cannot reach other hosts: use tcp or rdma");
                    }
                    break;
                case "secret-file":
                    secretFile = single(words, where);
                    break;
                case "home":
                    home = single(words, where);
                    break;
                case "config":
                    config = single(words, where);
                    break;
                case "member-timeout-ms":
                    try
                    {
                        memberTimeoutMs = Long.parseLong(single(words, where));
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new IllegalArgumentException(where + "member-timeout-ms needs a number of ms", ex);
                    }
                    break;
                default:
                    if (!ROLES.contains(kind))
                    {
                        throw new IllegalArgumentException(where + "unknown line kind '" + kind + "': expected " +
                            "fabric, secret-file, home, config, member-timeout-ms or a role " + ROLES);
                    }
                    if (words.length < 4)
                    {
                        throw new IllegalArgumentException(where + "a member line is 'ROLE NAME HOST PORT [flags]', got '" +
                            line + "'");
                    }
                    final String name = words[1];
                    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,11}"))
                    {
                        throw new IllegalArgumentException(where + "member name '" + name +
                            "' must be 1 to 12 letters, digits, '-' or '_' (it names a network namespace and files)");
                    }
                    if (!names.add(name))
                    {
                        throw new IllegalArgumentException(where + "member name '" + name + "' is used twice");
                    }
                    final int port;
                    try
                    {
                        port = Integer.parseInt(words[3]);
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new IllegalArgumentException(where + "port '" + words[3] + "' is not a number", ex);
                    }
                    if (port < 1 || port > 65535)
                    {
                        throw new IllegalArgumentException(where + "port " + port + " must be 1 to 65535 (others " +
                            "must know it: 0 is not allowed here)");
                    }
                    if (!addresses.add(words[2] + ":" + port))
                    {
                        throw new IllegalArgumentException(where + words[2] + ":" + port + " is used twice");
                    }
                    members.add(new Member(kind, name, words[2], port,
                        new ArrayList<>(Arrays.asList(words).subList(4, words.length))));
                    break;
            }
        }
        final long globals = members.stream().filter(m -> m.role().equals("global")).count();
        if (globals != 1)
        {
            throw new IllegalArgumentException(path + ": needs exactly one 'global' member line, found " + globals);
        }
        return new ClusterFile(path, fabric, secretFile, home, config, memberTimeoutMs, members);
    }

    private static String single(final String[] words, final String where)
    {
        if (words.length != 2)
        {
            throw new IllegalArgumentException(where + "'" + words[0] + "' takes one value, got " +
                (words.length - 1));
        }
        return words[1];
    }

    public Path path()
    {
        return path;
    }

    public String fabric()
    {
        return fabric;
    }

    /** As written (may be relative to SPLITKERNEL_HOME), or null. */
    public String secretFile()
    {
        return secretFile;
    }

    /** SPLITKERNEL_HOME on the hosts, or null for the same as here. */
    public String home()
    {
        return home;
    }

    /** The settings preset every monitor reads (--config), relative to SPLITKERNEL_HOME unless absolute. */
    public String config()
    {
        return config;
    }

    /** The global managers' member timeout, or -1 to use their default. */
    public long memberTimeoutMs()
    {
        return memberTimeoutMs;
    }

    public List<Member> members()
    {
        return members;
    }

    public Member global()
    {
        return members.stream().filter(m -> m.role().equals("global")).findFirst().orElseThrow();
    }

    public Member member(final String name)
    {
        return members.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * The arguments of {@code scripts/splitkernel} that start {@code member} (what scripts/cluster and
     * scripts/testbed run; kept here too so it is tested).
     */
    public List<String> commandOf(final Member member)
    {
        final List<String> args = new ArrayList<>();
        args.add(member.role());
        args.add("--config");
        args.add(config);
        args.add("--fabric");
        args.add(fabric);
        args.add("--listen");
        args.add(member.address());
        if (!member.role().equals("global"))
        {
            args.add("--global");
            args.add(global().address());
        }
        args.addAll(member.flags());
        return args;
    }
}
