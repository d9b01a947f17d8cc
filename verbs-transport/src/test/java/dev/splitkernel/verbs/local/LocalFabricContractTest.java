package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricContractTest;

import java.util.concurrent.atomic.AtomicInteger;

class LocalFabricContractTest extends FabricContractTest
{
    private static final AtomicInteger NEXT = new AtomicInteger();
    private final LocalNetwork network = new LocalNetwork();

    @Override
    protected FabricContext newContext()
    {
        return new FabricContext().fabric("local").timing("none");
    }

    @Override
    protected Fabric newFabric(final FabricContext ctx)
    {
        return new LocalFabric(ctx, network);
    }

    @Override
    protected String listenAddress()
    {
        return "memory-" + NEXT.incrementAndGet();
    }
}
