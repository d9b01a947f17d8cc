package dev.splitkernel.bench;

import java.util.List;

/** {@code scripts/bench excache}: the benchmarks in {@code dev.splitkernel.bench.excache}. */
final class ExCacheSuite implements Suite
{
    @Override
    public String name()
    {
        return "excache";
    }

    @Override
    public List<String> includes()
    {
        return List.of("dev\\.splitkernel\\.bench\\.excache\\..*");
    }

    @Override
    public List<Ratio> ratios()
    {
        return List.of();
    }
}
