package dev.splitkernel.monitor.global;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;

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

    private String listenAddress = System.getProperty(LISTEN_ADDRESS_PROP_NAME, LISTEN_ADDRESS_DEFAULT);
    private PlacementPolicy policy;
    private String policyName = System.getProperty(POLICY_PROP_NAME, POLICY_DEFAULT);
    private FabricContext fabricContext;
    private Fabric fabric;
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
}
