package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricProvider;

/** The TCP fabric (Java NIO). Always available. */
public final class TcpFabricProvider implements FabricProvider
{
    @Override
    public String name()
    {
        return TcpFabric.NAME;
    }

    @Override
    public String unavailableReason(final FabricContext ctx)
    {
        return null;
    }

    @Override
    public Fabric create(final FabricContext ctx)
    {
        return new TcpFabric(ctx);
    }
}
