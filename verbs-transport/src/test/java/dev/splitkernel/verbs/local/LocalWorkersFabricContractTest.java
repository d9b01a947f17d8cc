package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.FabricContext;

/** The contract with one server worker: callers take turns to run handlers. */
class LocalWorkersFabricContractTest extends LocalFabricContractTest
{
    @Override
    protected FabricContext newContext()
    {
        return new FabricContext().fabric("local").timing("none").serverWorkers(1);
    }
}
