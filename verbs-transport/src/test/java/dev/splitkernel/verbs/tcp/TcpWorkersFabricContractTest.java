package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricContext;

/** The contract with requests handled by a pool of two server workers instead of inline. */
class TcpWorkersFabricContractTest extends TcpFabricContractTest
{
    @Override
    protected FabricContext newContext()
    {
        return new FabricContext().fabric("tcp").serverWorkers(2);
    }
}
