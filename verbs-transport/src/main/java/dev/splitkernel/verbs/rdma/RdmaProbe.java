package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.FabricContext;

import com.ibm.disni.verbs.RdmaProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Says exactly what the rdma fabric is missing on this machine, before anything is attempted, and names the fix
 * of each problem: libdisni on {@code java.library.path} with the JNI version DiSNI 2.x needs, an RDMA device,
 * an ACTIVE port, and a locked-memory limit large enough to register memory.
 * <p>
 * The environment is injected ({@link Environment}) so that every branch is tested on machines without RDMA.
 * Thread-safe: immutable.
 */
public final class RdmaProbe
{
    /** The JNI interface version that DiSNI 2.x's Java side requires of libdisni (NativeDispatcher checks it). */
    public static final int REQUIRED_JNI_VERSION = 32;

    /** The native library's name: {@code libdisni.so} on {@code java.library.path}. */
    public static final String LIBRARY_NAME = "disni";

    private static final String README = "see README.md, section 'RDMA testbed (DiSNI, Soft-RoCE)', "
        + "and run native-config/doctor";

    private static final Pattern VERSION_FOUND = Pattern.compile("version found\\s*(-?\\d+)");

    /** What the probe reads: injectable so tests cover every branch. */
    public interface Environment
    {
        /** Load the native library by name, as {@link System#loadLibrary} does; throw if it cannot be loaded. */
        void loadLibrary(String name);

        /**
         * The JNI version of the loaded libdisni.
         *
         * @throws IOException if DiSNI cannot be initialised (its message names the cause).
         */
        int jniVersion() throws IOException;

        /** The value of {@code java.library.path}, for messages. */
        String libraryPath();

        /** {@code /sys/class/infiniband}: one directory per RDMA device. */
        Path infinibandClassDir();

        /** {@code /proc/self/limits}, to read "Max locked memory". */
        Path processLimits();
    }

    /** The real machine: {@link System#loadLibrary}, DiSNI's provider, sysfs and procfs. */
    public static final class SystemEnvironment implements Environment
    {
        @Override
        public void loadLibrary(final String name)
        {
            System.loadLibrary(name);
        }

        @Override
        public int jniVersion() throws IOException
        {
            try
            {
                return RdmaProvider.provider().getVersion();
            }
            catch (final IOException ex)
            {
                final int found = versionFound(ex.getMessage());
                if (found == Integer.MIN_VALUE)
                {
                    throw ex;
                }
                return found;
            }
        }

        @Override
        public String libraryPath()
        {
            return System.getProperty("java.library.path", "");
        }

        @Override
        public Path infinibandClassDir()
        {
            return Path.of("/sys/class/infiniband");
        }

        @Override
        public Path processLimits()
        {
            return Path.of("/proc/self/limits");
        }
    }

    /**
     * The library's version in DiSNI's refusal of a mismatched libdisni ("jverbs outdated, version found N, version
     * required 32"), or {@link Integer#MIN_VALUE} when the message is not such a refusal.
     */
    static int versionFound(final String message)
    {
        final Matcher m = VERSION_FOUND.matcher(String.valueOf(message));
        return m.find() ? Integer.parseInt(m.group(1)) : Integer.MIN_VALUE;
    }

    private final Environment environment;
    private final long requiredMemlockBytes;

    public RdmaProbe(final Environment environment, final long requiredMemlockBytes)
    {
        if (requiredMemlockBytes < 0)
        {
            throw new IllegalArgumentException("requiredMemlockBytes must be >= 0: " + requiredMemlockBytes);
        }
        this.environment = environment;
        this.requiredMemlockBytes = requiredMemlockBytes;
    }

    /**
     * A probe of this machine requiring the locked memory that the rdma settings (system properties) pin:
     * {@link RdmaContext#requiredMemlockBytes()}.
     */
    public static RdmaProbe ofSystem()
    {
        return new RdmaProbe(new SystemEnvironment(),
            new RdmaContext(new FabricContext().fabric("rdma")).conclude().requiredMemlockBytes());
    }

    /**
     * {@code java -cp ... dev.splitkernel.verbs.rdma.RdmaProbe [--library | --required-memlock]}: prints each
     * problem (or, with {@code --library}, only libdisni's) as {@code MISSING ...}, or {@code OK ...}; exit code 0
     * when none, else 1. {@code --required-memlock} prints the locked memory (bytes) the rdma settings pin and
     * what it is made of. native-config/doctor runs it.
     */
    public static void main(final String[] args)
    {
        if (args.length > 0 && "--required-memlock".equals(args[0]))
        {
            final RdmaContext ctx = new RdmaContext(new FabricContext().fabric("rdma")).conclude();
            System.out.println(ctx.requiredMemlockBytes() + " bytes: " + ctx.maxConnections() + " connections x "
                + ctx.pinnedBytesPerConnection() + " bytes of message buffers, plus "
                + (ctx.requiredMemlockBytes() - ctx.connectionsPinnedBytes()) + " for regions");
            System.exit(0);
        }
        final RdmaProbe probe = ofSystem();
        final boolean libraryOnly = args.length > 0 && "--library".equals(args[0]);
        final List<String> problems = new ArrayList<>();
        if (libraryOnly)
        {
            probe.checkLibrary(problems);
        }
        else
        {
            problems.addAll(probe.problems());
        }
        if (problems.isEmpty())
        {
            System.out.println("OK libdisni loads from java.library.path with JNI version " + REQUIRED_JNI_VERSION
                + (libraryOnly ? "" : "; an RDMA port is ACTIVE; the memlock limit suffices"));
            System.exit(0);
        }
        for (final String problem : problems)
        {
            System.out.println("MISSING " + problem);
        }
        System.exit(1);
    }

    /**
     * Every problem found, each naming its fix; empty when the rdma fabric can run here.
     * A JNI version is checked only once the library loads.
     */
    public List<String> problems()
    {
        final List<String> problems = new ArrayList<>();
        checkLibrary(problems);
        checkDevices(problems);
        checkMemlock(problems);
        return problems;
    }

    /** Null when the rdma fabric can run here, otherwise one message listing every problem and its fix. */
    public String unavailableReason()
    {
        final List<String> problems = problems();
        if (problems.isEmpty())
        {
            return null;
        }
        final StringBuilder sb = new StringBuilder("rdma fabric unavailable: ");
        for (int i = 0; i < problems.size(); i++)
        {
            sb.append(i == 0 ? "" : "; ").append('(').append(i + 1).append(") ").append(problems.get(i));
        }
        return sb.append(" (").append(README).append(')').toString();
    }

    /** The first ACTIVE (device, port) found, as "device/port", or null. */
    public String firstActivePort()
    {
        for (final String device : devices())
        {
            for (final String port : ports(device))
            {
                if (isActive(portState(device, port)))
                {
                    return device + "/" + port;
                }
            }
        }
        return null;
    }

    private void checkLibrary(final List<String> problems)
    {
        try
        {
            environment.loadLibrary(LIBRARY_NAME);
        }
        catch (final UnsatisfiedLinkError ex)
        {
            final String message = String.valueOf(ex.getMessage());
            if (message.contains("no " + LIBRARY_NAME + " in"))
            {
                problems.add("libdisni not found on java.library.path (" + environment.libraryPath() + "): build it "
                    + "from DiSNI 2.1's sources (cd libdisni; ./autoprepare.sh; ./configure --with-jdk=$JAVA_HOME; "
                    + "make install: it goes to /usr/local/lib, which native-config/jvm.options puts on "
                    + "java.library.path) or add its directory with -Djava.library.path=DIR");
            }
            else
            {
                problems.add("libdisni found but cannot be loaded (" + message + "): install its dependencies "
                    + "libibverbs1 and librdmacm1 (native-config/install-rdma-packages) or rebuild libdisni "
                    + "on this machine");
            }
            return;
        }
        catch (final SecurityException ex)
        {
            problems.add("libdisni may not be loaded here (" + ex.getMessage() + "): allow native libraries");
            return;
        }

        try
        {
            final int version = environment.jniVersion();
            if (version != REQUIRED_JNI_VERSION)
            {
                problems.add("libdisni has JNI version " + version + " but DiSNI 2.1 requires "
                    + REQUIRED_JNI_VERSION + ": rebuild libdisni from the DiSNI 2.1 sources (tag v2.1) and put it "
                    + "first on java.library.path");
            }
        }
        catch (final IOException | RuntimeException | LinkageError ex)
        {
            problems.add("libdisni loaded but DiSNI cannot start (" + ex + "): rebuild libdisni from the DiSNI 2.1 "
                + "sources against this machine's rdma-core");
        }
    }

    private void checkDevices(final List<String> problems)
    {
        final List<String> devices = devices();
        if (devices.isEmpty())
        {
            problems.add("no RDMA device (" + environment.infinibandClassDir() + " is empty or absent): plug in an "
                + "RDMA NIC, or create a Soft-RoCE device with 'sudo native-config/soft-roce up NETDEV' (needs the "
                + "kernel module rdma_rxe; 'modprobe rdma_rxe' fails when the kernel has no InfiniBand support)");
            return;
        }
        final StringBuilder states = new StringBuilder();
        for (final String device : devices)
        {
            final List<String> ports = ports(device);
            if (ports.isEmpty())
            {
                states.append(states.length() == 0 ? "" : ", ").append(device).append(": no ports");
            }
            for (final String port : ports)
            {
                final String state = portState(device, port);
                if (isActive(state))
                {
                    return;
                }
                states.append(states.length() == 0 ? "" : ", ")
                    .append(device).append('/').append(port).append(' ').append(state);
            }
        }
        problems.add("no ACTIVE RDMA port (" + states + "): bring the port's network interface up "
            + "('ip link set NETDEV up', check its cable or carrier); for Soft-RoCE run "
            + "'native-config/soft-roce verify NETDEV'");
    }

    private void checkMemlock(final List<String> problems)
    {
        final long limit = memlockLimitBytes();
        if (limit == UNKNOWN)
        {
            problems.add("cannot read 'Max locked memory' from " + environment.processLimits() + ": check "
                + "'ulimit -l' and raise it to unlimited (native-config/memlock.conf)");
        }
        else if (limit != UNLIMITED && limit < requiredMemlockBytes)
        {
            problems.add("locked-memory limit is " + limit + " bytes, below the " + requiredMemlockBytes
                + " bytes that registered memory needs: run 'ulimit -l unlimited' (as root), or install "
                + "native-config/memlock.conf into /etc/security/limits.d/ and log in again, or set "
                + "LimitMEMLOCK=infinity for a systemd service");
        }
    }

    static final long UNLIMITED = Long.MAX_VALUE;
    static final long UNKNOWN = -1;

    /** The soft "Max locked memory" limit in bytes, {@link #UNLIMITED}, or {@link #UNKNOWN}. */
    long memlockLimitBytes()
    {
        try
        {
            for (final String line : Files.readAllLines(environment.processLimits(), StandardCharsets.UTF_8))
            {
                if (line.startsWith("Max locked memory"))
                {
                    final String[] fields = line.substring("Max locked memory".length()).trim().split("\\s+");
                    if (fields.length == 0)
                    {
                        return UNKNOWN;
                    }
                    if ("unlimited".equals(fields[0]))
                    {
                        return UNLIMITED;
                    }
                    return Long.parseLong(fields[0]);
                }
            }
            return UNKNOWN;
        }
        catch (final IOException | NumberFormatException ex)
        {
            return UNKNOWN;
        }
    }

    private List<String> devices()
    {
        return listNames(environment.infinibandClassDir());
    }

    private List<String> ports(final String device)
    {
        return listNames(environment.infinibandClassDir().resolve(device).resolve("ports"));
    }

    private String portState(final String device, final String port)
    {
        final Path state = environment.infinibandClassDir().resolve(device).resolve("ports").resolve(port)
            .resolve("state");
        try
        {
            // sysfs says e.g. "4: ACTIVE" or "1: DOWN".
            return Files.readString(state, StandardCharsets.UTF_8).trim();
        }
        catch (final IOException ex)
        {
            return "state unreadable";
        }
    }

    private static boolean isActive(final String state)
    {
        return state.toUpperCase(Locale.ROOT).endsWith("ACTIVE");
    }

    private static List<String> listNames(final Path dir)
    {
        final List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir))
        {
            return names;
        }
        try (Stream<Path> entries = Files.list(dir))
        {
            entries.map(p -> p.getFileName().toString()).sorted().forEach(names::add);
        }
        catch (final IOException ex)
        {
            names.clear();
        }
        return names;
    }
}
