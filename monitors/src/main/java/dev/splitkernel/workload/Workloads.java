package dev.splitkernel.workload;

import java.util.List;

/** The built-in workloads by name, with the default sizes of their measured phases. */
public final class Workloads
{
    public static final List<String> NAMES = List.of("seq", "random", "kv");

    private Workloads()
    {
    }

    /** seq: 3 passes; random: 16 ops per 4 KB; kv: 16 ops per 4 KB (256-byte values), 10% puts, theta 0.99. */
    public static MemoryWorkload byName(final String name)
    {
        switch (name)
        {
            case "seq": return new SequentialScan(3);
            case "random": return new UniformRandom(16, 42);
            case "kv": return new ZipfKeyValue(16, 10, ZipfKeyValue.DEFAULT_THETA, 42);
            default: throw new IllegalArgumentException("unknown workload '" + name + "': use one of " + NAMES);
        }
    }
}
