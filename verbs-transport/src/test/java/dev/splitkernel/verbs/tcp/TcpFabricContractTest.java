package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricContractTest;

import java.io.IOException;
import java.net.ServerSocket;

class TcpFabricContractTest extends FabricContractTest
{
    @Override
    protected FabricContext newContext()
    {
        return new FabricContext().fabric("tcp").busyPoll(false);
    }

    @Override
    protected Fabric newFabric(final FabricContext ctx)
    {
        return new TcpFabric(ctx);
    }

    @Override
    protected String listenAddress()
    {
        return "127.0.0.1:0";
    }

    @Override
    protected String unusedAddress(final String freshListenAddress)
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return "127.0.0.1:" + socket.getLocalPort();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
