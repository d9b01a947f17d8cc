package dev.splitkernel.monitor.storage;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.verbs.FabricContractTest;
import dev.splitkernel.verbs.rdma.RdmaTestEnvironment;
import org.junit.jupiter.api.Tag;

import java.util.concurrent.TimeUnit;

/**
 * The file path (processor, memory monitor's buffer cache, storage monitor) with every monitor of an embedded
 * cluster over real verbs. Tagged {@value RdmaTestEnvironment#TAG} (see {@link RdmaTestEnvironment}).
 */
@Tag(RdmaTestEnvironment.TAG)
class RdmaEmbeddedClusterFilesTest extends EmbeddedClusterFilesTest
{
    @Override
    ClusterContext context()
    {
        RdmaTestEnvironment.localAddress();
        return new ClusterContext().fabric("rdma")
            .timeoutNs(Long.getLong(FabricContractTest.TIMEOUT_PROP_NAME, TimeUnit.SECONDS.toNanos(5)));
    }
}
