package dev.splitkernel.cluster;

import dev.splitkernel.verbs.rdma.RdmaTestEnvironment;
import org.junit.jupiter.api.Tag;

/**
 * The scenarios with the global manager and both memory monitors in separate JVMs, every monitor over real verbs on
 * this host's RDMA device. Tagged {@value RdmaTestEnvironment#TAG} (see {@link RdmaTestEnvironment}); each test's
 * limit is JUnit's {@code junit.jupiter.execution.timeout.testable.method.default}, which scripts/test-rdma sets.
 */
@Tag(RdmaTestEnvironment.TAG)
class RdmaClusterTest extends ChildJvmClusterTest
{
    @Override
    String fabric()
    {
        return "rdma";
    }

    @Override
    String listenHost()
    {
        return RdmaTestEnvironment.localAddress();
    }
}
