package dev.splitkernel.workload;

import java.util.List;

/** The built-in workloads by name, with the default sizes of their measured phases and their default threads. */
public final class Workloads
{
    /** LegoOS's application shapes: what the main job runs by default. */
    public static final List<String> LEGOOS = List.of("tf", "wordcount", "pagerank", "ycsb");
    /** Access patterns with almost no computation per access: the worst cases. */
    public static final List<String> PATTERNS = List.of("seq", "random", "kv");
    public static final List<String> NAMES = List.of("tf", "wordcount", "pagerank", "ycsb", "seq", "random", "kv");

    /**
     * Mini-batches tf trains in the main job: its data set is hundreds of MB (populated whole), and a full epoch over
     * it through the emulated ExCache would take minutes per run; these steps are spread over the whole data set.
     */
    public static final long TF_STEPS = 32;

    private Workloads()
    {
    }

    /**
     * tf: one epoch of a small CNN; wordcount: Zipf text through the file API; pagerank: 10 iterations over an R-MAT
     * graph; ycsb: YCSB workload A (50% reads, 50% updates, scrambled Zipfian keys, 1 KB records); seq: 3 passes;
     * random: 16 ops per 4 KB; kv: 16 ops per 4 KB (256-byte values), 10% puts, theta 0.99.
     */
    public static MemoryWorkload byName(final String name)
    {
        return Copy.byName(name);
    }

    /** The constructors, in a class that {@link TwinLoader} copies, so that a copy's workload classes are its own. */
    public static final class Copy
    {
        private Copy()
        {
        }

        public static MemoryWorkload byName(final String name)
        {
            switch (name)
        {
                case "tf": return new ConvNetTraining(TF_STEPS);
                case "wordcount": return new WordCount();
                case "pagerank": return new PageRank(10);
                case "ycsb": return new YcsbStore(4);
                case "seq": return new SequentialScan(3);
                case "random": return new UniformRandom(16, 42);
                case "kv": return new ZipfKeyValue(16, 10, ZipfKeyValue.DEFAULT_THETA, 42);
                default: throw new IllegalArgumentException("unknown workload '" + name + "': use one of " + NAMES);
            }
        }
    }

    /** Threads a workload runs with unless told otherwise: 4 for tf and wordcount, as in LegoOS's evaluation. */
    public static int defaultThreads(final String name)
    {
        return "tf".equals(name) || "wordcount".equals(name) ? 4 : 1;
    }

    /**
     * Working set of a workload in the main job, hundreds of MB for LegoOS's two applications: tf gets LegoOS's
     * 0.9 GB / 4 (225 MB, trained for {@link #TF_STEPS} mini-batches spread over it) and wordcount 1.7 GB / 8
     * (212.5 MB, one full pass), so that LegoOS's ExCache sizes, scaled alike, are the same fractions of them;
     * pagerank (no LegoOS figure) 32 MB and ycsb 64 MB, sizes that keep the main job within its 10 minutes.
     */
    public static long defaultWorkingSetBytes(final String name)
    {
        switch (name)
        {
            case "tf": return 900L * (1 << 20) / 4;
            case "wordcount": return 1700L * (1 << 20) / 8;
            case "pagerank": return 32L << 20;
            case "ycsb": return 64L << 20;
            default: return 128L << 20;
        }
    }

    /** ExCache sizes in percent of the working set: LegoOS's ratios for tf (14, 28, 57%) and wordcount (15, 30, 60%). */
    public static List<Double> defaultSizes(final String name)
    {
        switch (name)
        {
            case "tf": return List.of(14.0, 28.0, 57.0);
            case "wordcount": return List.of(15.0, 30.0, 60.0);
            case "pagerank":
            case "ycsb": return List.of(12.5, 25.0, 50.0);
            default: return List.of(12.5, 25.0, 50.0, 100.0);
        }
    }
}
