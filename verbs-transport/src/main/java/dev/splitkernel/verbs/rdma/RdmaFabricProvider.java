package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.FabricProvider;

/**
 * The "rdma" entry of {@link dev.splitkernel.verbs.Fabrics}: available when {@link RdmaProbe} finds libdisni with
 * the right JNI version, an ACTIVE RDMA port and enough locked memory; otherwise its reason is the probe's message.
 * <p>
 * Thread-safe: stateless apart from the injected environment.
 */
public final class RdmaFabricProvider implements FabricProvider
{
    private final RdmaProbe.Environment environment;

    public RdmaFabricProvider()
    {
        this(new RdmaProbe.SystemEnvironment());
    }

    /** A provider that probes {@code environment} instead of this machine (for tests). */
    public RdmaFabricProvider(final RdmaProbe.Environment environment)
    {
        this.environment = environment;
    }

    @Override
    public String name()
    {
        return "rdma";
    }

    @Override
    public String unavailableReason(final FabricContext ctx)
    {
        final RdmaContext rdmaContext = new RdmaContext(ctx).conclude();
        return new RdmaProbe(environment, rdmaContext.requiredMemlockBytes()).unavailableReason();
    }

    @Override
    public Fabric create(final FabricContext ctx)
    {
        final String reason = unavailableReason(ctx);
        if (reason != null)
        {
            throw new FabricException(reason);
        }
        return new RdmaFabric(new RdmaContext(ctx));
    }
}
