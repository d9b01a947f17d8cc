package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricContext;

/** The contract with busy-poll on: waiting threads receive responses themselves. */
class TcpBusyPollFabricContractTest extends TcpFabricContractTest
{
    @Override
    protected FabricContext newContext()
    {
        return new FabricContext().fabric("tcp").busyPoll(true);
    }
}
