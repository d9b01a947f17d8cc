package dev.splitkernel.verbs;

import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Configuration of a {@link Fabric}: defaults and system-property names in one place, fluent setters, and one
 * {@link #conclude()} that validates everything and names the setting at fault.
 * <p>
 * Timing model (local fabric): every one-sided operation costs {@code opLatencyNs + bytes / bandwidth}; an RPC
 * costs {@code rpcLatencyNs + (requestBytes + replyBytes) / bandwidth} on top of the handler's own time. The cost is
 * busy-waited in the caller's thread. Presets ({@link #timing(String)}):
 * <pre>
 *   preset     opLatencyNs  bandwidthBytesPerSecond  4 KB READ  128 B RPC  calibration
 *   none                 0          0 (unlimited)        0 us       0 us   plain memory copy
 *   rdma-cx3         4_539            2_088_000_000     6.50 us    4.60 us   LegoOS testbed (ConnectX-3 40 Gb)
 *   rdma-cx6         2_670           12_500_000_000     3.00 us    2.68 us   100 Gb ConnectX-6
 *   cxl                240           64_000_000_000     0.30 us    0.24 us   CXL.mem load path
 * </pre>
 * The rdma-cx3 values solve LegoOS's two published RPC figures (4.6 us at 128 B, 6.5 us at 4 KB) for one latency
 * and one bandwidth. Setting {@link #opLatencyNs(long)} or {@link #bandwidthBytesPerSecond(long)} after a preset
 * overrides that value only; the preset then reads "custom".
 * <p>
 * Not thread-safe: build it in one thread, then hand it to {@link Fabrics#create(FabricContext)}.
 */
public final class FabricContext
{
    /** Fabric name, or a comma-separated fallback list such as {@code rdma,tcp}: the first available is used. */
    public static final String FABRIC_PROP_NAME = "splitkernel.fabric";
    public static final String FABRIC_DEFAULT = "local";

    /** Timing preset of the local fabric: none, rdma-cx3, rdma-cx6, cxl. */
    public static final String TIMING_PROP_NAME = "splitkernel.fabric.timing";
    public static final String TIMING_DEFAULT = "none";

    /**
     * How the local fabric charges its timing model: {@code inject} busy-waits the modelled time in the calling
     * thread; {@code account} adds it to the thread's {@link VirtualClock} without waiting (deterministic in its
     * network part, and fast: fit for CI and for shared or slow machines).
     */
    public static final String TIMING_MODE_PROP_NAME = "splitkernel.fabric.timingMode";
    public static final String TIMING_MODE_INJECT = "inject";
    public static final String TIMING_MODE_ACCOUNT = "account";
    public static final List<String> TIMING_MODES = List.of(TIMING_MODE_INJECT, TIMING_MODE_ACCOUNT);

    /** Custom one-sided latency per operation, overriding the preset's. */
    public static final String OP_LATENCY_PROP_NAME = "splitkernel.fabric.opLatencyNs";
    /** Custom RPC latency per round trip (defaults to the one-sided latency). */
    public static final String RPC_LATENCY_PROP_NAME = "splitkernel.fabric.rpcLatencyNs";
    /** Custom bandwidth; 0 means unlimited. */
    public static final String BANDWIDTH_PROP_NAME = "splitkernel.fabric.bandwidthBytesPerSecond";

    /** Spin on the network instead of sleeping in the kernel (tcp: non-blocking polling in the waiting thread). */
    public static final String BUSY_POLL_PROP_NAME = "splitkernel.fabric.busyPoll";
    public static final boolean BUSY_POLL_DEFAULT = false;

    public static final String CONNECT_TIMEOUT_PROP_NAME = "splitkernel.fabric.connectTimeoutNs";
    public static final long CONNECT_TIMEOUT_DEFAULT_NS = 5_000_000_000L;

    /** Default timeout of blocking operations, and the lifetime of an asynchronous one still unanswered. */
    public static final String OPERATION_TIMEOUT_PROP_NAME = "splitkernel.fabric.operationTimeoutNs";
    public static final long OPERATION_TIMEOUT_DEFAULT_NS = 1_000_000_000L;

    /** Largest payload of one operation (READ, WRITE, request or reply). */
    public static final String MAX_MESSAGE_PROP_NAME = "splitkernel.fabric.maxMessageBytes";
    public static final int MAX_MESSAGE_DEFAULT_BYTES = 1024 * 1024;
    public static final int MAX_MESSAGE_LIMIT_BYTES = 64 * 1024 * 1024;

    /** Operations in flight per connection (tcp slot table); a power of two. */
    public static final String MAX_IN_FLIGHT_PROP_NAME = "splitkernel.fabric.maxInFlight";
    public static final int MAX_IN_FLIGHT_DEFAULT = 256;

    /**
     * Threads that run request handlers at a listening fabric. 0 (the default): inline, in the thread that received
     * the request (tcp: each connection's service thread; local: the caller's thread, any number at once). N &gt; 0:
     * at most N handlers run at once (tcp: a shared pool of N worker threads; local: callers take turns), as
     * LegoOS's memory workers do. One-sided operations never use these threads.
     */
    public static final String SERVER_WORKERS_PROP_NAME = "splitkernel.fabric.serverWorkers";
    public static final int SERVER_WORKERS_DEFAULT = 0;

    /**
     * A file holding the cluster secret that every peer must prove it knows (challenge-response; the secret never
     * crosses the wire). Read at {@link #conclude()}; trailing CR/LF are ignored. There is deliberately no property
     * for the secret itself: a command line is visible to every user of the host. Without a secret (the default)
     * any peer may connect.
     */
    public static final String SECRET_FILE_PROP_NAME = "splitkernel.secretFile";

    public static final String TIMING_CUSTOM = "custom";
    private static final List<String> TIMING_PRESETS = List.of("none", "rdma-cx3", "rdma-cx6", "cxl");

    private String fabric = System.getProperty(FABRIC_PROP_NAME, FABRIC_DEFAULT);
    private String timing = System.getProperty(TIMING_PROP_NAME, TIMING_DEFAULT);
    private String timingMode = System.getProperty(TIMING_MODE_PROP_NAME, TIMING_MODE_INJECT);
    private long opLatencyNs = Long.getLong(OP_LATENCY_PROP_NAME, -1L);
    private long rpcLatencyNs = Long.getLong(RPC_LATENCY_PROP_NAME, -1L);
    private long bandwidthBytesPerSecond = Long.getLong(BANDWIDTH_PROP_NAME, -1L);
    private boolean busyPoll = Boolean.parseBoolean(
        System.getProperty(BUSY_POLL_PROP_NAME, Boolean.toString(BUSY_POLL_DEFAULT)));
    private long connectTimeoutNs = Long.getLong(CONNECT_TIMEOUT_PROP_NAME, CONNECT_TIMEOUT_DEFAULT_NS);
    private long operationTimeoutNs = Long.getLong(OPERATION_TIMEOUT_PROP_NAME, OPERATION_TIMEOUT_DEFAULT_NS);
    private int maxMessageBytes = Integer.getInteger(MAX_MESSAGE_PROP_NAME, MAX_MESSAGE_DEFAULT_BYTES);
    private int maxInFlight = Integer.getInteger(MAX_IN_FLIGHT_PROP_NAME, MAX_IN_FLIGHT_DEFAULT);
    private int serverWorkers = Integer.getInteger(SERVER_WORKERS_PROP_NAME, SERVER_WORKERS_DEFAULT);
    private Path secretFile = System.getProperty(SECRET_FILE_PROP_NAME) == null ?
        null : Path.of(System.getProperty(SECRET_FILE_PROP_NAME));
    private byte[] secret;
    private AgentHost agentHost = AgentHost.OWN_THREAD;
    private CountersManager countersManager;

    private boolean concluded;
    private List<String> fabricNames;

    /**
     * Validate every setting and resolve the timing preset. Idempotent.
     *
     * @throws FabricException naming the setting (and its property) that is wrong.
     */
    public FabricContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (fabric == null || fabric.isBlank())
        {
            throw new FabricException("fabric is empty: set " + FABRIC_PROP_NAME + " to local, tcp, rdma or a list "
                + "such as rdma,tcp");
        }
        final List<String> names = new ArrayList<>();
        for (final String part : fabric.split(","))
        {
            final String name = part.trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty())
            {
                throw new FabricException("fabric list '" + fabric + "' has an empty entry (" + FABRIC_PROP_NAME + ")");
            }
            names.add(name);
        }
        if (timing == null)
        {
            timing = TIMING_DEFAULT;
        }
        timing = timing.trim().toLowerCase(Locale.ROOT);
        long presetLatencyNs;
        long presetBandwidth;
        switch (timing)
        {
            case "none": presetLatencyNs = 0; presetBandwidth = 0; break;
            case "rdma-cx3": presetLatencyNs = 4_539; presetBandwidth = 2_088_000_000L; break;
            case "rdma-cx6": presetLatencyNs = 2_670; presetBandwidth = 12_500_000_000L; break;
            case "cxl": presetLatencyNs = 240; presetBandwidth = 64_000_000_000L; break;
            case TIMING_CUSTOM: presetLatencyNs = 0; presetBandwidth = 0; break;
            default:
                throw new FabricException("timing '" + timing + "' is unknown (" + TIMING_PROP_NAME + "): use one of "
                    + TIMING_PRESETS + ", or set " + OP_LATENCY_PROP_NAME + "/" + BANDWIDTH_PROP_NAME);
        }
        timingMode = timingMode == null ? TIMING_MODE_INJECT : timingMode.trim().toLowerCase(Locale.ROOT);
        if (!TIMING_MODES.contains(timingMode))
        {
            throw new FabricException("timing mode '" + timingMode + "' is unknown (" + TIMING_MODE_PROP_NAME
                + "): use one of " + TIMING_MODES);
        }
        if (opLatencyNs < -1)
        {
            throw new FabricException("opLatencyNs " + opLatencyNs + " is negative (" + OP_LATENCY_PROP_NAME + ")");
        }
        if (rpcLatencyNs < -1)
        {
            throw new FabricException("rpcLatencyNs " + rpcLatencyNs + " is negative (" + RPC_LATENCY_PROP_NAME + ")");
        }
        if (bandwidthBytesPerSecond < -1)
        {
            throw new FabricException("bandwidthBytesPerSecond " + bandwidthBytesPerSecond + " is negative ("
                + BANDWIDTH_PROP_NAME + "); 0 means unlimited");
        }
        if (opLatencyNs >= 0 || bandwidthBytesPerSecond >= 0 || rpcLatencyNs >= 0)
        {
            timing = TIMING_CUSTOM;
        }
        if (opLatencyNs < 0)
        {
            opLatencyNs = presetLatencyNs;
        }
        if (bandwidthBytesPerSecond < 0)
        {
            bandwidthBytesPerSecond = presetBandwidth;
        }
        if (rpcLatencyNs < 0)
        {
            rpcLatencyNs = opLatencyNs;
        }
        if (connectTimeoutNs <= 0)
        {
            throw new FabricException("connectTimeoutNs " + connectTimeoutNs + " must be positive ("
                + CONNECT_TIMEOUT_PROP_NAME + ")");
        }
        if (operationTimeoutNs <= 0)
        {
            throw new FabricException("operationTimeoutNs " + operationTimeoutNs + " must be positive ("
                + OPERATION_TIMEOUT_PROP_NAME + ")");
        }
        if (maxMessageBytes < 64 || maxMessageBytes > MAX_MESSAGE_LIMIT_BYTES)
        {
            throw new FabricException("maxMessageBytes " + maxMessageBytes + " must be within 64.."
                + MAX_MESSAGE_LIMIT_BYTES + " (" + MAX_MESSAGE_PROP_NAME + ")");
        }
        if (maxInFlight < 1 || maxInFlight > 65536 || Integer.bitCount(maxInFlight) != 1)
        {
            throw new FabricException("maxInFlight " + maxInFlight + " must be a power of two within 1..65536 ("
                + MAX_IN_FLIGHT_PROP_NAME + ")");
        }
        if (serverWorkers < 0 || serverWorkers > 1024)
        {
            throw new FabricException("serverWorkers " + serverWorkers + " must be within 0..1024, 0 meaning inline ("
                + SERVER_WORKERS_PROP_NAME + ")");
        }
        if (secretFile != null)
        {
            secret = readSecret(secretFile);
        }
        fabricNames = Collections.unmodifiableList(names);
        concluded = true;
        return this;
    }

    public boolean isConcluded()
    {
        return concluded;
    }

    /** The fabric names to try, in order; valid after {@link #conclude()}. */
    public List<String> fabricNames()
    {
        checkConcluded();
        return fabricNames;
    }

    /** The same settings for exactly one fabric: what {@link Fabrics} hands to the chosen provider. */
    public FabricContext forFabric(final String name)
    {
        final FabricContext copy = new FabricContext()
            .fabric(name)
            .busyPoll(busyPoll)
            .connectTimeoutNs(connectTimeoutNs)
            .operationTimeoutNs(operationTimeoutNs)
            .maxMessageBytes(maxMessageBytes)
            .maxInFlight(maxInFlight)
            .serverWorkers(serverWorkers)
            .agentHost(agentHost)
            .countersManager(countersManager);
        copy.secret = secret == null ? null : secret.clone();
        copy.timing = timing;
        copy.timingMode = timingMode;
        copy.opLatencyNs = opLatencyNs;
        copy.rpcLatencyNs = rpcLatencyNs;
        copy.bandwidthBytesPerSecond = bandwidthBytesPerSecond;
        return copy.conclude();
    }

    public FabricContext fabric(final String fabric)
    {
        this.fabric = fabric;
        concluded = false;
        return this;
    }

    public String fabric()
    {
        return fabric;
    }

    /** A timing preset (none, rdma-cx3, rdma-cx6, cxl); clears custom values set before it. */
    public FabricContext timing(final String preset)
    {
        this.timing = preset;
        this.opLatencyNs = -1;
        this.rpcLatencyNs = -1;
        this.bandwidthBytesPerSecond = -1;
        concluded = false;
        return this;
    }

    /** The preset, or "custom" once a value was overridden (after {@link #conclude()}). */
    public String timing()
    {
        return timing;
    }

    /** {@code inject} (busy-wait the modelled time) or {@code account} (add it to the thread's virtual clock). */
    public FabricContext timingMode(final String timingMode)
    {
        this.timingMode = timingMode;
        concluded = false;
        return this;
    }

    public String timingMode()
    {
        return timingMode;
    }

    public FabricContext opLatencyNs(final long opLatencyNs)
    {
        this.opLatencyNs = opLatencyNs;
        concluded = false;
        return this;
    }

    public long opLatencyNs()
    {
        return opLatencyNs;
    }

    public FabricContext rpcLatencyNs(final long rpcLatencyNs)
    {
        this.rpcLatencyNs = rpcLatencyNs;
        concluded = false;
        return this;
    }

    public long rpcLatencyNs()
    {
        return rpcLatencyNs;
    }

    /** Bytes per second moved by the emulated link; 0 means unlimited. */
    public FabricContext bandwidthBytesPerSecond(final long bandwidthBytesPerSecond)
    {
        this.bandwidthBytesPerSecond = bandwidthBytesPerSecond;
        concluded = false;
        return this;
    }

    public long bandwidthBytesPerSecond()
    {
        return bandwidthBytesPerSecond;
    }

    public FabricContext busyPoll(final boolean busyPoll)
    {
        this.busyPoll = busyPoll;
        return this;
    }

    public boolean busyPoll()
    {
        return busyPoll;
    }

    public FabricContext connectTimeoutNs(final long connectTimeoutNs)
    {
        this.connectTimeoutNs = connectTimeoutNs;
        concluded = false;
        return this;
    }

    public long connectTimeoutNs()
    {
        return connectTimeoutNs;
    }

    public FabricContext operationTimeoutNs(final long operationTimeoutNs)
    {
        this.operationTimeoutNs = operationTimeoutNs;
        concluded = false;
        return this;
    }

    public long operationTimeoutNs()
    {
        return operationTimeoutNs;
    }

    public FabricContext maxMessageBytes(final int maxMessageBytes)
    {
        this.maxMessageBytes = maxMessageBytes;
        concluded = false;
        return this;
    }

    public int maxMessageBytes()
    {
        return maxMessageBytes;
    }

    public FabricContext maxInFlight(final int maxInFlight)
    {
        this.maxInFlight = maxInFlight;
        concluded = false;
        return this;
    }

    public int maxInFlight()
    {
        return maxInFlight;
    }

    /** See {@link #SERVER_WORKERS_PROP_NAME}: 0 runs handlers inline, N &gt; 0 at most N at once. */
    public FabricContext serverWorkers(final int serverWorkers)
    {
        this.serverWorkers = serverWorkers;
        concluded = false;
        return this;
    }

    public int serverWorkers()
    {
        return serverWorkers;
    }

    /**
     * Who runs the fabric's agents (the tcp poller): a monitor runtime's host, or by default a thread of the
     * fabric's own ({@link AgentHost#OWN_THREAD}).
     */
    public FabricContext agentHost(final AgentHost agentHost)
    {
        this.agentHost = agentHost == null ? AgentHost.OWN_THREAD : agentHost;
        return this;
    }

    public AgentHost agentHost()
    {
        return agentHost;
    }

    /** Where the fabric's {@link FabricCounters} live (a monitor's counters file); null (default) for a private place. */
    public FabricContext countersManager(final CountersManager countersManager)
    {
        this.countersManager = countersManager;
        return this;
    }

    public CountersManager countersManager()
    {
        return countersManager;
    }

    /**
     * Read the cluster secret from this file at {@link #conclude()} (see {@link #SECRET_FILE_PROP_NAME}); null for
     * none. Replaces a secret given with {@link #secret(byte[])}.
     */
    public FabricContext secretFile(final Path secretFile)
    {
        this.secretFile = secretFile;
        this.secret = null;
        concluded = false;
        return this;
    }

    public Path secretFile()
    {
        return secretFile;
    }

    /**
     * The cluster secret itself, for embedded use and tests (copied); null or empty for none. Replaces a
     * {@link #secretFile(Path)}.
     */
    public FabricContext secret(final byte[] secret)
    {
        this.secret = secret == null || secret.length == 0 ? null : secret.clone();
        this.secretFile = null;
        concluded = false;
        return this;
    }

    /** Whether a cluster secret is set (after {@link #conclude()} when it comes from a file). */
    public boolean hasSecret()
    {
        return secret != null;
    }

    /** A copy of the cluster secret, or null when none is set. Never log it. */
    public byte[] secret()
    {
        return secret == null ? null : secret.clone();
    }

    private static byte[] readSecret(final Path file)
    {
        final String setting = "secretFile " + file + " (" + SECRET_FILE_PROP_NAME + ")";
        if (!Files.exists(file))
        {
            throw new FabricException(setting + " does not exist: create it with the cluster secret, readable only "
                + "by this user (chmod 600), or unset it to run without authentication");
        }
        if (!Files.isRegularFile(file))
        {
            throw new FabricException(setting + " is not a regular file");
        }
        final byte[] bytes;
        try
        {
            bytes = Files.readAllBytes(file);
        }
        catch (final IOException | SecurityException ex)
        {
            throw new FabricException(setting + " cannot be read (" + ex.getMessage() + "): check its permissions",
                ex);
        }
        int length = bytes.length;
        while (length > 0 && (bytes[length - 1] == '\n' || bytes[length - 1] == '\r'))
        {
            length--;
        }
        if (length == 0)
        {
            throw new FabricException(setting + " is empty: put the cluster secret in it (e.g. 32 random bytes: "
                + "head -c 32 /dev/urandom > file)");
        }
        try
        {
            if (Files.getPosixFilePermissions(file).contains(PosixFilePermission.OTHERS_READ))
            {
                System.getLogger(FabricContext.class.getName()).log(System.Logger.Level.WARNING,
                    "fabric: " + setting + " is readable by every user of this host: chmod 600 it");
            }
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            // no POSIX permissions here: nothing to warn about
        }
        final byte[] secretBytes = Arrays.copyOf(bytes, length);
        Arrays.fill(bytes, (byte)0);
        return secretBytes;
    }

    private void checkConcluded()
    {
        if (!concluded)
        {
            throw new IllegalStateException("FabricContext.conclude() has not been called");
        }
    }

    @Override
    public String toString()
    {
        return "FabricContext{fabric=" + fabric + ", timing=" + timing + ", timingMode=" + timingMode + ", opLatencyNs=" + opLatencyNs
            + ", rpcLatencyNs=" + rpcLatencyNs + ", bandwidthBytesPerSecond=" + bandwidthBytesPerSecond
            + ", busyPoll=" + busyPoll + ", connectTimeoutNs=" + connectTimeoutNs + ", operationTimeoutNs="
            + operationTimeoutNs + ", maxMessageBytes=" + maxMessageBytes + ", maxInFlight=" + maxInFlight
            + ", serverWorkers=" + serverWorkers + ", secret=" + (secret != null ? "set" : secretFile != null ?
            "file " + secretFile : "none") + "}";
    }
}
