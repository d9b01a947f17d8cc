package dev.splitkernel.bench.transport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;

/**
 * The operations every fabric is timed on: one-sided READ latency (8 B, 4 KB), pipelined 4 KB READ throughput and a
 * 128 B echo RPC. A subclass per fabric sets up {@link #ops} in its {@code @Setup}; JMH names each benchmark after
 * the subclass (e.g. {@code TcpFabricBenchmark.read4KB}). Latencies are sampled, so the table shows medians.
 */
public abstract class FabricBenchmark
{
    protected TransportBenchmarkOps ops;

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public int read8B()
    {
        return ops.read(8);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public int read4KB()
    {
        return ops.read(4096);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OperationsPerInvocation(TransportBenchmarkOps.PIPELINE_DEPTH)
    public int read4KBThroughput()
    {
        return ops.readPipelined(4096);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public int rpc128B()
    {
        return ops.call(128);
    }
}
