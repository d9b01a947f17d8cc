package dev.splitkernel.bench.transport;

import dev.splitkernel.bench.workload.EndToEndMissBenchmark;
import dev.splitkernel.cluster.ChildMonitor;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.rdma.RdmaContext;
import dev.splitkernel.verbs.rdma.RdmaFabric;
import dev.splitkernel.verbs.rdma.RdmaPeerServer;
import dev.splitkernel.verbs.rdma.RdmaProbe;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The rdma fabric on real verbs: 8 B and 4 KB one-sided READ latency, pipelined 4 KB READ throughput, and a 128 B
 * RPC, the same operations as {@link TcpFabricBenchmark}. {@code scripts/bench transport} includes it only where
 * {@link RdmaProbe} passes.
 * <p>
 * The peer: by default an {@link RdmaPeerServer} in a child JVM on this host (through the device's loopback). For
 * two hosts, start {@code RdmaPeerServer IP:PORT 1048576 --forever} on the other host and pass the property it
 * prints, {@code -Dsplitkernel.bench.rdma.peer=IP:PORT,REGION_ADDRESS,RKEY}, to the benchmark forks
 * ({@code scripts/bench transport -jvmArgsPrepend -Dsplitkernel.bench.rdma.peer=...}).
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RdmaFabricBenchmark extends FabricBenchmark
{
    /** "IP:PORT,REGION_ADDRESS,RKEY" of a peer started by hand; empty: start one in a child JVM. */
    public static final String PEER_PROP_NAME = "splitkernel.bench.rdma.peer";

    @Param({ "true", "false" })
    public boolean busyPoll;

    private ChildMonitor peer;
    private RdmaFabric client;

    @Setup
    public void setUp() throws IOException
    {
        final String reason = RdmaProbe.ofSystem().unavailableReason();
        if (reason != null)
        {
            throw new IllegalStateException(reason);
        }
        String[] fields = System.getProperty(PEER_PROP_NAME, "").trim().split("[,\\s]+");
        if (fields.length < 3)
        {
            fields = startLocalPeer();
        }
        client = new RdmaFabric(new RdmaContext(new FabricContext().fabric("rdma").busyPoll(busyPoll)));
        final Connection connection = client.connect(fields[0]);
        ops = new TransportBenchmarkOps(connection, client.allocate(1024 * 1024), Long.parseLong(fields[1]),
            Integer.parseInt(fields[2]));
    }

    /**
     * Start an RdmaPeerServer in a child JVM (this JVM's settings, then this trial's busy-poll); returns the address,
     * region address and rkey it printed. Waits at most {@code splitkernel.bench.startTimeoutMs}.
     */
    private String[] startLocalPeer() throws IOException
    {
        try
        {
            peer = ChildMonitor.start(RdmaPeerServer.class.getName(), List.of(":0", Integer.toString(1024 * 1024)),
                "READY ", List.of("-D" + FabricContext.BUSY_POLL_PROP_NAME + "=" + busyPoll),
                EndToEndMissBenchmark.START_TIMEOUT_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the rdma peer server", ex);
        }
        return peer.address().split(" ");
    }

    @TearDown
    public void tearDown() throws Exception
    {
        if (client != null)
        {
            client.close();
        }
        if (peer != null)
        {
            peer.process().getOutputStream().close();   // it exits when its stdin closes
            if (!peer.process().waitFor(5, TimeUnit.SECONDS))
            {
                peer.kill();
            }
        }
    }
}
