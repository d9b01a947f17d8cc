package dev.splitkernel.bench.transport;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import dev.splitkernel.verbs.support.TimingModel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * How exactly the local fabric charges a configured latency: an 8 B READ with a custom latency of
 * {@code configuredNs} (unlimited bandwidth) against {@link #configuredDelay()}, a bare busy-wait of the same length
 * timed the same way. Their ratio is the emulation's error; the target is at most 1.10.
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TimingModelBenchmark
{
    @Param({ "1000", "5000", "10000" })
    public long configuredNs;

    private LocalFabric server;
    private LocalFabric client;
    private Connection connection;
    private MemoryRegion remote;
    private MemoryRegion local;

    @Setup
    public void setUp()
    {
        final LocalNetwork network = new LocalNetwork();
        final FabricContext ctx = new FabricContext().fabric("local").opLatencyNs(configuredNs)
            .bandwidthBytesPerSecond(0);
        server = new LocalFabric(ctx, network);
        client = new LocalFabric(new FabricContext().fabric("local").opLatencyNs(configuredNs)
            .bandwidthBytesPerSecond(0), network);
        remote = server.allocate(4096);
        local = client.allocate(4096);
        server.listen("memory", (opcode, request, offset, length, reply, replyOffset, capacity) -> 0);
        connection = client.connect("memory", TransportBenchmarkOps.TIMEOUT_NS);
    }

    @TearDown
    public void tearDown()
    {
        client.close();
        server.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public int read8BAtConfiguredLatency()
    {
        final int status = connection.read(local, 0, remote.address(), remote.rkey(), 8,
            TransportBenchmarkOps.TIMEOUT_NS);
        if (status != Status.OK)
        {
            throw new IllegalStateException(Status.describe(status));
        }
        return status;
    }

    /** The configured delay alone: what a perfect emulation would measure. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long configuredDelay()
    {
        final long deadlineNs = System.nanoTime() + configuredNs;
        TimingModel.spinUntil(deadlineNs);
        return deadlineNs;
    }
}
