package dev.splitkernel.monitor.global;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

/**
 * Configuration of a {@link GlobalManager}.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to the manager.
 */
public final class GlobalManagerContext
{
    public static final String LISTEN_ADDRESS_PROP_NAME = "splitkernel.global.listen";
    public static final String LISTEN_ADDRESS_DEFAULT = "global";

    /** Placement policy of the GMM: least-loaded (default) or first-fit. */
    public static final String POLICY_PROP_NAME = "splitkernel.global.policy";
    public static final String POLICY_DEFAULT = "least-loaded";

    /**
     * A member whose last heartbeat (load report) is older than this is declared dead and taken out of placement
     * until it reports again; 0 disables the check. Monitors report every 100 ms by default.
     */
    public static final String MEMBER_TIMEOUT_PROP_NAME = "splitkernel.global.memberTimeoutMs";
    public static final long MEMBER_TIMEOUT_DEFAULT_MS = 3000;

    /**
     * Memory replication: the GMM gives each new vRegion a secondary memory monitor besides its owner (when there are
     * two or more), and fails a dead owner's vRegions over to their secondaries. On by default.
     */
    public static final String REPLICATION_PROP_NAME = "splitkernel.global.replication";
    public static final boolean REPLICATION_DEFAULT = true;

    /** How long a suspected memory monitor (a call to it failed) gets to answer the GMM's probe. */
    public static final String PROBE_TIMEOUT_PROP_NAME = "splitkernel.global.probeTimeoutMs";
    public static final long PROBE_TIMEOUT_DEFAULT_MS = 500;

    /** How long the GMM waits for a promotion or a replication it asks of a memory monitor. */
    public static final long FAILOVER_CALL_TIMEOUT_NS = 5_000_000_000L;

    private String listenAddress = System.getProperty(LISTEN_ADDRESS_PROP_NAME, LISTEN_ADDRESS_DEFAULT);
    private boolean replication = Boolean.parseBoolean(
        System.getProperty(REPLICATION_PROP_NAME, Boolean.toString(REPLICATION_DEFAULT)));
    private long probeTimeoutMs = Long.getLong(PROBE_TIMEOUT_PROP_NAME, PROBE_TIMEOUT_DEFAULT_MS);
    private String memberTimeoutMsText = System.getProperty(MEMBER_TIMEOUT_PROP_NAME);
    private long memberTimeoutMs = MEMBER_TIMEOUT_DEFAULT_MS;
    private long pushTimeoutNs = 1_000_000_000L;
    private NanoClock nanoClock = SystemNanoClock.INSTANCE;
    private PlacementPolicy policy;
    private String policyName = System.getProperty(POLICY_PROP_NAME, POLICY_DEFAULT);
    private FabricContext fabricContext;
    private Fabric fabric;
    private dev.splitkernel.monitor.runtime.MonitorRuntime runtime;
    private boolean concluded;

    /** @throws IllegalArgumentException naming the setting that is wrong. */
    public GlobalManagerContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        if (listenAddress == null || listenAddress.isBlank())
        {
            throw new IllegalArgumentException("listenAddress is empty (" + LISTEN_ADDRESS_PROP_NAME + ")");
        }
        if (memberTimeoutMsText != null)
        {
            try
            {
                memberTimeoutMs = Long.parseLong(memberTimeoutMsText.trim());
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("memberTimeoutMs '" + memberTimeoutMsText + "' is not a number (" +
                    MEMBER_TIMEOUT_PROP_NAME + ")", ex);
            }
            memberTimeoutMsText = null;
        }
        if (memberTimeoutMs < 0)
        {
            throw new IllegalArgumentException("memberTimeoutMs " + memberTimeoutMs + " must be >= 0, 0 disables (" +
                MEMBER_TIMEOUT_PROP_NAME + ")");
        }
        if (probeTimeoutMs <= 0)
        {
            throw new IllegalArgumentException("probeTimeoutMs " + probeTimeoutMs + " must be positive (" +
                PROBE_TIMEOUT_PROP_NAME + ")");
        }
        if (nanoClock == null)
        {
            throw new IllegalArgumentException("nanoClock is null");
        }
        if (policy == null)
        {
            switch (policyName == null ? POLICY_DEFAULT : policyName)
            {
                case "least-loaded": policy = PlacementPolicy.LEAST_LOADED; break;
                case "first-fit": policy = PlacementPolicy.FIRST_FIT; break;
                default:
                    throw new IllegalArgumentException("policy '" + policyName + "' is unknown (" + POLICY_PROP_NAME +
                        "): use least-loaded or first-fit, or set a PlacementPolicy");
            }
        }
        if (fabric == null)
        {
            if (fabricContext == null)
            {
                fabricContext = new FabricContext();
            }
            fabricContext.conclude();
        }
        concluded = true;
        return this;
    }

    public boolean replication()
    {
        return replication;
    }

    /** Give each new vRegion a secondary (replica) memory monitor, and fail vRegions over to it. */
    public GlobalManagerContext replication(final boolean replication)
    {
        this.replication = replication;
        return this;
    }

    public long probeTimeoutMs()
    {
        return probeTimeoutMs;
    }

    public GlobalManagerContext probeTimeoutMs(final long probeTimeoutMs)
    {
        this.probeTimeoutMs = probeTimeoutMs;
        concluded = false;
        return this;
    }

    public String listenAddress()
    {
        return listenAddress;
    }

    public GlobalManagerContext listenAddress(final String listenAddress)
    {
        this.listenAddress = listenAddress;
        concluded = false;
        return this;
    }

    public PlacementPolicy policy()
    {
        return policy;
    }

    public GlobalManagerContext policy(final PlacementPolicy policy)
    {
        this.policy = policy;
        concluded = false;
        return this;
    }

    public GlobalManagerContext policyName(final String policyName)
    {
        this.policyName = policyName;
        this.policy = null;
        concluded = false;
        return this;
    }

    public FabricContext fabricContext()
    {
        return fabricContext;
    }

    public GlobalManagerContext fabricContext(final FabricContext fabricContext)
    {
        this.fabricContext = fabricContext;
        concluded = false;
        return this;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    /** A fabric instance to use; the manager does not close it. */
    public GlobalManagerContext fabric(final Fabric fabric)
    {
        this.fabric = fabric;
        concluded = false;
        return this;
    }

    public long memberTimeoutMs()
    {
        return memberTimeoutMs;
    }

    /** Heartbeat timeout of members; 0 disables it. */
    public GlobalManagerContext memberTimeoutMs(final long memberTimeoutMs)
    {
        this.memberTimeoutMs = memberTimeoutMs;
        this.memberTimeoutMsText = null;
        concluded = false;
        return this;
    }

    /** The timeout of a membership push to a processor (then it is sent every member again later). */
    public long pushTimeoutNs()
    {
        return pushTimeoutNs;
    }

    public GlobalManagerContext pushTimeoutNs(final long pushTimeoutNs)
    {
        if (pushTimeoutNs <= 0)
        {
            throw new IllegalArgumentException("pushTimeoutNs must be positive: " + pushTimeoutNs);
        }
        this.pushTimeoutNs = pushTimeoutNs;
        return this;
    }

    public NanoClock nanoClock()
    {
        return nanoClock;
    }

    /** The clock of heartbeats and timeouts (tests pass a controlled one). */
    public GlobalManagerContext nanoClock(final NanoClock nanoClock)
    {
        this.nanoClock = nanoClock;
        concluded = false;
        return this;
    }
    /**
     * The runtime that runs this monitor's agents (an embedded cluster's shared one); null (the default): the monitor
     * launches its own and closes it with itself.
     */
    public GlobalManagerContext runtime(final dev.splitkernel.monitor.runtime.MonitorRuntime runtime)
    {
        this.runtime = runtime;
        return this;
    }

    public dev.splitkernel.monitor.runtime.MonitorRuntime runtime()
    {
        return runtime;
    }

}
