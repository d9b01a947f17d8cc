package dev.splitkernel.bench.workload;

import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.FabricCounters;

/**
 * What the end-to-end miss benchmarks walk: a region 4x the ExCache ({@link #EXCACHE_BYTES}) whose pages all exist at
 * their owner (written, msync'ed, then swept once, so a one-sided READ knows every page's address), touched one 4 KB
 * line per access, so under FIFO every access misses.
 * <p>
 * Not thread-safe: one benchmark thread.
 */
final class MissSweep
{
    /** The ExCache the benchmarks give their processor monitor. */
    static final long EXCACHE_BYTES = 4L << 20;
    private static final long REGION_BYTES = 4 * EXCACHE_BYTES;
    private static final int LINE = 4096;

    private final LegoProcess process;
    /** The loads and stores of the benchmark's thread, their hits counted in this view. */
    private final LegoProcess.ThreadMemory memory;
    private final long base;
    private long offset;

    /** Map and fill the region in {@code process}. */
    MissSweep(final LegoProcess process)
    {
        this.process = process;
        memory = process.threadMemory();
        base = process.mmap(0, REGION_BYTES, Prot.PROT_READ | Prot.PROT_WRITE, Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
        if (base < 0)
        {
            throw new IllegalStateException("mmap failed: " + Errno.describe(base));
        }
        for (long off = 0; off < REGION_BYTES; off += LINE)
        {
            memory.putLong(base + off, off);
        }
        final int synced = process.msync(base, REGION_BYTES, Prot.MS_SYNC);
        if (synced != 0)
        {
            throw new IllegalStateException("msync failed: " + Errno.describe(synced));
        }
        for (long off = 0; off < REGION_BYTES; off += LINE)
        {
            memory.getLong(base + off);
        }
    }

    /** A load of the next line: a miss with a clean victim. */
    long load()
    {
        return memory.getLong(base + next());
    }

    /** A store to the next line: a miss whose victim is dirty. */
    long store()
    {
        final long off = next();
        memory.putLong(base + off, off);
        return off;
    }

    private long next()
    {
        final long off = offset;
        offset = off + LINE == REGION_BYTES ? 0 : off + LINE;
        return off;
    }

    /** The round trips a processor monitor waited for so far: calls, one-sided READs and WRITEs. */
    static long roundTrips(final ProcessorMonitor processor)
    {
        final FabricCounters c = processor.fabric().counters();
        return c.get(FabricCounters.CALLS) + c.get(FabricCounters.READS) + c.get(FabricCounters.WRITES);
    }
}
