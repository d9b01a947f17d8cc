package dev.splitkernel.bench;

import dev.splitkernel.verbs.rdma.RdmaProbe;

import java.util.List;

/**
 * {@code scripts/bench transport}: the benchmarks in {@code dev.splitkernel.bench.transport}. Ratios put the tcp
 * fabric beside the free local fabric, busy-poll beside kernel sleeps, and the timing model's measured delay beside
 * the configured one (target: within 10%).
 */
final class TransportSuite implements Suite
{
    private static final String LOCAL = "LocalFabricBenchmark.";
    private static final String TCP = "TcpFabricBenchmark.";
    private static final String TIMING = "TimingModelBenchmark.";
    private static final String RDMA = "RdmaFabricBenchmark.";

    @Override
    public String name()
    {
        return "transport";
    }

    @Override
    public List<String> includes()
    {
        // RdmaFabricBenchmark needs libdisni and an RDMA device: include it only where the probe passes.
        final String rdmaMissing = RdmaProbe.ofSystem().unavailableReason();
        if (rdmaMissing != null)
        {
            System.err.println("transport: RdmaFabricBenchmark left out: " + rdmaMissing);
            return List.of("dev\\.splitkernel\\.bench\\.transport\\.(?!Rdma).*");
        }
        return List.of("dev\\.splitkernel\\.bench\\.transport\\..*");
    }

    @Override
    public List<Ratio> ratios()
    {
        return List.of(
            Ratio.atMost("timing model: 1 us configured, measured / exact delay",
                TIMING + "read8BAtConfiguredLatency:configuredNs=1000", TIMING + "configuredDelay:configuredNs=1000",
                1.10),
            Ratio.atMost("timing model: 5 us configured, measured / exact delay",
                TIMING + "read8BAtConfiguredLatency:configuredNs=5000", TIMING + "configuredDelay:configuredNs=5000",
                1.10),
            Ratio.atMost("timing model: 10 us configured, measured / exact delay",
                TIMING + "read8BAtConfiguredLatency:configuredNs=10000",
                TIMING + "configuredDelay:configuredNs=10000", 1.10),
            Ratio.report("local rdma-cx3 4 KB READ / 128 B RPC (LegoOS: 6.5/4.6 = 1.41)",
                LOCAL + "read4KB:timing=rdma-cx3", LOCAL + "rpc128B:timing=rdma-cx3"),
            Ratio.report("tcp busy-poll 4 KB READ / local none 4 KB READ",
                TCP + "read4KB:busyPoll=true", LOCAL + "read4KB:timing=none"),
            Ratio.report("tcp busy-poll 4 KB READ / local rdma-cx3 4 KB READ",
                TCP + "read4KB:busyPoll=true", LOCAL + "read4KB:timing=rdma-cx3"),
            Ratio.report("tcp kernel-sleep / busy-poll, 4 KB READ",
                TCP + "read4KB:busyPoll=false", TCP + "read4KB:busyPoll=true"),
            Ratio.report("tcp kernel-sleep / busy-poll, 128 B RPC",
                TCP + "rpc128B:busyPoll=false", TCP + "rpc128B:busyPoll=true"),
            Ratio.report("pipelined 4 KB READ throughput: tcp busy-poll, times below local none",
                TCP + "read4KBThroughput:busyPoll=true", LOCAL + "read4KBThroughput:timing=none"),
            // References measured by scripts/bench just before the JMH run, on the same machine.
            Ratio.atMost("tcp busy-poll 4 KB READ / Redis GET 4 KB, 1 client, p50",
                TCP + "read4KB:busyPoll=true", Ratio.REFERENCE + "redisGet4kUs", 1.0),
            Ratio.report("tcp busy-poll 4 KB READ / kernel TCP round trip, 4 KB (qperf tcp_lat x 2)",
                TCP + "read4KB:busyPoll=true", Ratio.REFERENCE + "qperfRoundTrip4kUs"),
            // perftest on the same RDMA device, same run: what the JVM, DiSNI and our completion handling add.
            Ratio.atMost("rdma busy-poll 4 KB READ / ib_read_lat 4 KB",
                RDMA + "read4KB:busyPoll=true", Ratio.REFERENCE + "ibReadLat4kUs", 1.5),
            Ratio.report("rdma busy-poll 8 B READ / ib_read_lat 8 B",
                RDMA + "read8B:busyPoll=true", Ratio.REFERENCE + "ibReadLat8BUs"),
            Ratio.report("rdma busy-poll 128 B RPC / ib_send_lat 128 B",
                RDMA + "rpc128B:busyPoll=true", Ratio.REFERENCE + "ibSendLat128BUs"),
            Ratio.report("rdma kernel-sleep 4 KB READ / ib_read_lat 4 KB",
                RDMA + "read4KB:busyPoll=false", Ratio.REFERENCE + "ibReadLat4kUs"),
            Ratio.report("rdma kernel-sleep 8 B READ / ib_read_lat 8 B",
                RDMA + "read8B:busyPoll=false", Ratio.REFERENCE + "ibReadLat8BUs"),
            Ratio.report("rdma kernel-sleep 128 B RPC / ib_send_lat 128 B",
                RDMA + "rpc128B:busyPoll=false", Ratio.REFERENCE + "ibSendLat128BUs"));
    }

    @Override
    public List<String> quickParams()
    {
        return List.of("timing=none,rdma-cx3", "busyPoll=true", "configuredNs=1000");
    }
}
