package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricContractTest;
import org.junit.jupiter.api.Tag;

/**
 * The fabric contract on real verbs: both fabrics in this JVM, on this host's RDMA device (a NIC's loopback, or
 * Soft-RoCE). Tagged {@value RdmaTestEnvironment#TAG}: see {@link RdmaTestEnvironment} for where it runs.
 * <p>
 * Settings (system properties, e.g. {@code mvn -pl verbs-transport test -Dtest=RdmaFabricContractTest
 * -Dsurefire.excludedGroups= -Dsplitkernel.rdma.localAddress=192.168.1.10}): {@code splitkernel.rdma.localAddress}
 * (default: the IPv4 address of the first ACTIVE RDMA port's interface), {@code splitkernel.fabric.busyPoll},
 * the other {@link RdmaContext} properties and the contract's deadlines. libdisni must be on
 * {@code java.library.path} (native-config/jvm.options puts /usr/local/lib there).
 */
@Tag(RdmaTestEnvironment.TAG)
class RdmaFabricContractTest extends FabricContractTest
{
    private String localAddress;

    /** Called first by every test (through the contract's set-up): fails or skips it where verbs cannot run. */
    @Override
    protected FabricContext newContext()
    {
        localAddress = RdmaTestEnvironment.localAddress();
        return new FabricContext().fabric("rdma");
    }

    @Override
    protected Fabric newFabric(final FabricContext ctx)
    {
        return new RdmaFabric(new RdmaContext(ctx).localAddress(localAddress));
    }

    @Override
    protected String listenAddress()
    {
        return localAddress + ":0";
    }

    @Override
    protected String unusedAddress(final String freshListenAddress)
    {
        // rdma_cm ports are not TCP ports; one far from the ephemeral range that nothing here listens on.
        return localAddress + ":" + (20_000 + (int)(ProcessHandle.current().pid() % 10_000));
    }
}
