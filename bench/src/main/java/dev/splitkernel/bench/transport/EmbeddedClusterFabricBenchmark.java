package dev.splitkernel.bench.transport;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The transport inside the real topology: a whole embedded cluster runs (global managers, two memory monitors, a
 * storage and a processor monitor, their load reports and heartbeats), and the timed operations go between two more
 * peers on the cluster's network and runtime, so they share its threads, pollers and idle strategies. {@code local}:
 * preset none; {@code tcp}: loopback. Compare with {@link TcpFabricBenchmark} (a bare peer in another JVM).
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EmbeddedClusterFabricBenchmark extends FabricBenchmark
{
    @Param({ "local", "tcp" })
    public String fabric;

    private EmbeddedCluster cluster;

    @Setup
    public void setUp()
    {
        cluster = EmbeddedCluster.start(new ClusterContext().fabric(fabric).preset("none"));
        final Fabric server = cluster.newPeerFabric("bench-server");
        final Fabric client = cluster.newPeerFabric("bench-client");
        final MemoryRegion remote = server.allocate(1024 * 1024);
        final String address = server.listen("local".equals(fabric) ? "bench-server" : "127.0.0.1:0",
            (opcode, request, offset, length, reply, replyOffset, capacity) ->
            {
                if (opcode != TransportBenchmarkOps.OPCODE_ECHO)
                {
                    return Status.UNKNOWN_OPCODE;
                }
                reply.putBytes(replyOffset, request, offset, length);
                return length;
            });
        final Connection connection = client.connect(address, TransportBenchmarkOps.TIMEOUT_NS);
        ops = new TransportBenchmarkOps(connection, client.allocate(1024 * 1024), remote.address(), remote.rkey());
    }

    @TearDown
    public void tearDown()
    {
        cluster.close();
    }
}
