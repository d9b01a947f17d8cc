package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricProvider;

/** The in-JVM fabric, on {@link LocalNetwork#DEFAULT}. Always available. */
public final class LocalFabricProvider implements FabricProvider
{
    @Override
    public String name()
    {
        return LocalFabric.NAME;
    }

    @Override
    public String unavailableReason(final FabricContext ctx)
    {
        return null;
    }

    @Override
    public Fabric create(final FabricContext ctx)
    {
        return new LocalFabric(ctx, LocalNetwork.DEFAULT);
    }
}
