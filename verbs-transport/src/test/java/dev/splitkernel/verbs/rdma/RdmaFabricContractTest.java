package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricContractTest;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fabric contract on real verbs: both fabrics in this JVM, on this host's RDMA device (a NIC's loopback, or
 * Soft-RoCE). Runs only where {@link RdmaProbe} passes; elsewhere every test is skipped with the probe's message.
 * <p>
 * Settings (system properties, e.g. {@code mvn -pl verbs-transport test -Dtest=RdmaFabricContractTest
 * -Dsplitkernel.rdma.localAddress=192.168.1.10}): {@code splitkernel.rdma.localAddress} (default: the IPv4
 * address of the first ACTIVE RDMA port's interface), {@code splitkernel.fabric.busyPoll}, and the other
 * {@link RdmaContext} properties. libdisni must be on {@code java.library.path}: add
 * {@code -DargLine="@native-config/jvm.options -Djava.library.path=/usr/local/lib"} or set it in
 * native-config/jvm.options.
 */
class RdmaFabricContractTest extends FabricContractTest
{
    private static String unavailableReason;
    private static String localAddress;

    @BeforeAll
    static void probe()
    {
        unavailableReason = RdmaProbe.ofSystem().unavailableReason();
        if (unavailableReason == null)
        {
            final String configured = System.getProperty(RdmaContext.LOCAL_ADDRESS_PROP_NAME, "").trim();
            localAddress = configured.isEmpty() ? RdmaFabric.detectLocalAddress(Path.of("/sys/class/infiniband"))
                : configured;
            if (localAddress == null)
            {
                unavailableReason = "no IPv4 address on the interface of an ACTIVE RDMA port: set "
                    + RdmaContext.LOCAL_ADDRESS_PROP_NAME;
            }
        }
        if (unavailableReason != null)
        {
            System.out.println("RdmaFabricContractTest skipped: " + unavailableReason);
        }
    }

    /** Called first by every test (through the contract's set-up): skips it, with the probe's message, here. */
    @Override
    protected FabricContext newContext()
    {
        assumeTrue(unavailableReason == null, unavailableReason);
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
