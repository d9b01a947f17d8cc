package dev.splitkernel.bench;

import java.util.List;

/** {@code scripts/bench workloads}: the benchmarks in {@code dev.splitkernel.bench.workload}. */
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
        return List.of();
    }
}
