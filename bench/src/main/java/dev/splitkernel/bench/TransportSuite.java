package dev.splitkernel.bench;

import java.util.List;

/** {@code scripts/bench transport}: the benchmarks in {@code dev.splitkernel.bench.transport}. */
final class TransportSuite implements Suite
{
    @Override
    public String name()
    {
        return "transport";
    }

    @Override
    public List<String> includes()
    {
        return List.of("dev\\.splitkernel\\.bench\\.transport\\..*");
    }

    @Override
    public List<Ratio> ratios()
    {
        return List.of();
    }
}
