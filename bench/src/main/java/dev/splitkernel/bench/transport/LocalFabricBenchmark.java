package dev.splitkernel.bench.transport;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
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
 * The local fabric under each timing preset: one-sided READ latency (8 B, 4 KB), pipelined 4 KB READ throughput,
 * and a 128 B echo RPC. Latencies are sampled, so the table shows medians.
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LocalFabricBenchmark extends FabricBenchmark
{
    @Param({ "none", "rdma-cx3", "rdma-cx6", "cxl" })
    public String timing;

    private LocalFabric server;
    private LocalFabric client;

    @Setup
    public void setUp()
    {
        final LocalNetwork network = new LocalNetwork();
        server = new LocalFabric(new FabricContext().fabric("local").timing(timing), network);
        client = new LocalFabric(new FabricContext().fabric("local").timing(timing), network);
        final MemoryRegion remote = server.allocate(1024 * 1024);
        server.listen("memory", (opcode, request, offset, length, reply, replyOffset, capacity) ->
        {
            if (opcode != TransportBenchmarkOps.OPCODE_ECHO)
            {
                return Status.UNKNOWN_OPCODE;
            }
            reply.putBytes(replyOffset, request, offset, length);
            return length;
        });
        final Connection connection = client.connect("memory", TransportBenchmarkOps.TIMEOUT_NS);
        ops = new TransportBenchmarkOps(connection, client.allocate(1024 * 1024), remote.address(), remote.rkey());
    }

    @TearDown
    public void tearDown()
    {
        client.close();
        server.close();
    }
}
