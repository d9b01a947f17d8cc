package dev.splitkernel.bench;

import java.util.List;

/**
 * {@code scripts/bench workloads}: the benchmarks in {@code dev.splitkernel.bench.workload}: the built-in workloads
 * on the splitkernel (ExCache at 25% of the working set, local fabric, preset rdma-cx3) against local memory, the
 * end-to-end miss over tcp, and the memory monitor's throughput.
 */
final class WorkloadSuite implements Suite
{
    @Override
    public String name()
    {
        return "workloads";
    }

    @Override
    public List<String> includes()
    {
        return List.of("dev\\.splitkernel\\.bench\\.workload\\..*");
    }

    @Override
    public List<Ratio> ratios()
    {
        return List.of(
            Ratio.report("kv slowdown, ExCache 25%, rdma-cx3 (LegoOS: 1.3-1.7x at ~25%)",
                "WorkloadBenchmark.run:workload=kv,memory=splitkernel", "WorkloadBenchmark.run:workload=kv,memory=local"),
            Ratio.report("seq slowdown, ExCache 25%, rdma-cx3",
                "WorkloadBenchmark.run:workload=seq,memory=splitkernel",
                "WorkloadBenchmark.run:workload=seq,memory=local"),
            Ratio.report("random slowdown, ExCache 25%, rdma-cx3",
                "WorkloadBenchmark.run:workload=random,memory=splitkernel",
                "WorkloadBenchmark.run:workload=random,memory=local"),
            Ratio.report("tcp miss: RPC / one-sided READ (mean)",
                "EndToEndMissBenchmark.miss:oneSided=false,fabric=tcp",
                "EndToEndMissBenchmark.miss:oneSided=true,fabric=tcp"),
            // With -p fabric=tcp,rdma (on a host with an RDMA device): the same miss over both, same run.
            Ratio.atMost("end-to-end one-sided miss: rdma / tcp",
                "EndToEndMissBenchmark.miss:oneSided=true,fabric=rdma",
                "EndToEndMissBenchmark.miss:oneSided=true,fabric=tcp", 1.0),
            Ratio.report("end-to-end RPC miss: rdma / tcp",
                "EndToEndMissBenchmark.miss:oneSided=false,fabric=rdma",
                "EndToEndMissBenchmark.miss:oneSided=false,fabric=tcp"),
            Ratio.report("file 4 KB random read, cache hit: Linux time / ours (LegoOS: 0.84 of Linux)",
                "StorageBenchmark.randomReadHit:system=linux", "StorageBenchmark.randomReadHit:system=splitkernel"),
            Ratio.report("file 4 KB random read, cache miss: Linux time / ours (LegoOS: 0.84 of Linux)",
                "StorageBenchmark.randomReadMiss:system=linux", "StorageBenchmark.randomReadMiss:system=splitkernel"),
            Ratio.report("file 4 KB sequential read: Linux time / ours (LegoOS: 0.49 of Linux)",
                "StorageBenchmark.sequentialRead:system=linux", "StorageBenchmark.sequentialRead:system=splitkernel"),
            Ratio.report("file 4 KB random write + fsync: Linux time / ours (LegoOS: 0.54 of Linux)",
                "StorageBenchmark.randomWriteFsync:system=linux",
                "StorageBenchmark.randomWriteFsync:system=splitkernel"));
    }

    @Override
    public List<String> quickParams()
    {
        return List.of("workingSetMiB=4", "fabric=tcp");
    }
}
