package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.FabricContext;

/** The contract with the rdma-cx3 timing model charged: behaviour must not change, only cost. */
class LocalFabricTimedContractTest extends LocalFabricContractTest
{
    @Override
    protected FabricContext newContext()
    {
        return new FabricContext().fabric("local").timing("rdma-cx3");
    }
}
