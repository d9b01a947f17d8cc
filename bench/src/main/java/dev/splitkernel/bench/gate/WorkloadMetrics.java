package dev.splitkernel.bench.gate;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.excache.ExCacheCounters;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.VirtualClock;
import dev.splitkernel.workload.LocalMemory;
import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.TwinLoader;
import dev.splitkernel.workload.WordMemory;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The gate's machine-independent metrics: built-in workloads (seeded, one thread) on an embedded cluster over the
 * local fabric, preset rdma-cx3, timing mode {@code account}, at an ExCache of 25% of the working set. Per workload:
 * misses, dirty write-backs, one-sided re-fetches, requests and payload bytes on the wire per miss, bytes the
 * workload's thread allocated per miss beyond the same workload on local memory, the model's network time per miss
 * on the workload's thread, and the modelled slowdown in account mode (see {@link #modelledSlowdown}).
 * <p>
 * The account mode's measured slowdown (measured time plus virtual stalls, over the local run's measured time) is
 * not gated: both of its times are measured, so it follows the machine's speed and load (one workload measured 138x
 * idle against 25x under load). The modelled slowdown replaces every measured time with a constant of the model.
 */
final class WorkloadMetrics
{
    static final List<String> WORKLOADS = List.of("random", "kv");
    private static final double CACHE_PERCENT = 25.0;
    private static final long SET_BYTES = 64L * 4096;
    /**
     * The modelled slowdown's cost of one access that the ExCache serves (hit or miss) besides its network time: a
     * random 8-byte load from local DRAM on this machine type (the README's ExCache table: 20.6 to 21.6 ns). A fixed
     * constant, so the slowdown is a model's figure, not a prediction of a measured one.
     */
    static final double MODEL_ACCESS_NS = 20.0;

    private final long workingSetBytes;

    WorkloadMetrics(final long workingSetBytes)
    {
        this.workingSetBytes = workingSetBytes;
    }

    /**
     * The slowdown of a run whose every access costs {@link #MODEL_ACCESS_NS} and which also waits the timing
     * model's full cost of each network operation on its thread: {@code (accesses x MODEL_ACCESS_NS + modelled
     * network ns) / (accesses x MODEL_ACCESS_NS)}. Every term is counted or a constant, so it does not depend on the
     * machine; it moves with misses, messages and bytes per miss, and with the accesses the cache serves.
     */
    static double modelledSlowdown(final double accesses, final double modelledNetworkNs)
    {
        final double computeNs = accesses * MODEL_ACCESS_NS;
        return (computeNs + modelledNetworkNs) / computeNs;
    }

    List<Measured> measure() throws Exception
    {
        final List<Measured> metrics = new ArrayList<>();
        for (final String name : WORKLOADS)
        {
            metrics.addAll(measure(name));
        }
        return metrics;
    }

    private List<Measured> measure(final String name) throws Exception
    {
        final MemoryWorkload localTwin = TwinLoader.builtIn(name);
        final MemoryWorkload workload = TwinLoader.builtIn(name);
        final long regionBytes = workload.regionBytes(workingSetBytes);
        // Warm the code of both sides up once, unmeasured: the first run in a JVM pays for class loading and the JIT
        // (and allocates for it). Nothing measured is timed, so one measured run of each suffices.
        runLocal(localTwin, regionBytes);
        runSplitkernel(workload, regionBytes);
        final Sample local = runLocal(localTwin, regionBytes);
        final Sample counted = runSplitkernel(workload, regionBytes).minusAllocation(local.allocatedBytes);
        final double misses = counted.misses;
        final List<Measured> metrics = new ArrayList<>();
        metrics.add(new Measured(name + ".misses", MetricKind.COUNTED, misses, "misses"));
        metrics.add(new Measured(name + ".writeBacks", MetricKind.COUNTED, counted.writeBacks, "lines"));
        metrics.add(new Measured(name + ".oneSidedRefetches", MetricKind.COUNTED, counted.oneSided, "READs"));
        metrics.add(new Measured(name + ".messagesPerMiss", MetricKind.COUNTED, counted.messages / misses,
            "requests/miss"));
        metrics.add(new Measured(name + ".wireBytesPerMiss", MetricKind.COUNTED, counted.wireBytes / misses,
            "B/miss"));
        metrics.add(new Measured(name + ".allocatedBytesPerMiss", MetricKind.ALLOCATION,
            Math.max(0.0, counted.allocatedBytes / misses), "B/miss"));
        metrics.add(new Measured(name + ".modelledNetworkNsPerMiss", MetricKind.MODELLED,
            counted.modelledNs / misses, "model ns/miss"));
        metrics.add(new Measured(name + ".slowdownModelled", MetricKind.MODELLED,
            modelledSlowdown(counted.accesses, counted.modelledNs), "x local (model)"));
        return metrics;
    }

    /**
     * What one run counted: allocation is the calling thread's; accesses the ExCache's hits and misses; modelledNs
     * the timing model's full cost of the network operations charged to the workload's thread.
     */
    private record Sample(double allocatedBytes, double accesses, double misses, double writeBacks, double oneSided,
        double messages, double wireBytes, double modelledNs)
    {
        Sample minusAllocation(final double bytes)
        {
            return new Sample(allocatedBytes - bytes, accesses, misses, writeBacks, oneSided, messages, wireBytes,
                modelledNs);
        }
    }

    private static Sample runLocal(final MemoryWorkload workload, final long regionBytes)
    {
        try (LocalMemory memory = new LocalMemory(regionBytes))
        {
            final long base = memory.baseAddress();
            workload.prepare(memory, base, regionBytes, 1);
            final long alloc0 = allocatedBytes();
            final long result = phases(workload, memory, base, regionBytes);
            final long allocated = allocatedBytes() - alloc0;
            workload.verify(memory, base, regionBytes, result);
            return new Sample(allocated, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    private static Sample runSplitkernel(final MemoryWorkload workload, final long regionBytes) throws Exception
    {
        final long cacheBytes = Math.max(SET_BYTES, (long)(regionBytes * CACHE_PERCENT / 100) / SET_BYTES * SET_BYTES);
        final ClusterContext ctx = new ClusterContext()
            .fabric("local")
            .preset("rdma-cx3")
            .timingMode(FabricContext.TIMING_MODE_ACCOUNT)
            .memoryMonitors(2)
            .memoryCapacityBytes(Math.max(1L << 30, regionBytes * 2))
            .excache(new ExCacheContext().capacityBytes(Long.highestOneBit(cacheBytes)));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(ctx))
        {
            final ProcessorMonitor processor = cluster.processor();
            final LegoProcess process = cluster.createProcess(workload.name());
            try (LegoProcess.ThreadMemory memory = process.threadMemory())
            {
                final long base = process.mmapWorkingSet(regionBytes);
                workload.prepare(memory, base, regionBytes, 1);
                final ExCacheCounters counters = processor.cache().counters();
                final FabricCounters wire = processor.fabric().counters();
                final long hits0 = counters.hits();
                final long misses0 = counters.misses();
                final long writeBacks0 = counters.dirtyWriteBacks();
                final long oneSided0 = processor.oneSidedReads();
                final long messages0 = messages(wire);
                final long wireBytes0 = wireBytes(wire);
                final long modelled0 = VirtualClock.modelledNs();
                final long alloc0 = allocatedBytes();
                final long result = phases(workload, memory, base, regionBytes);
                final long allocated = allocatedBytes() - alloc0;
                final long misses = counters.misses() - misses0;
                final Sample sample = new Sample(allocated, counters.hits() - hits0 + misses, misses,
                    counters.dirtyWriteBacks() - writeBacks0, processor.oneSidedReads() - oneSided0,
                    messages(wire) - messages0, wireBytes(wire) - wireBytes0, VirtualClock.modelledNs() - modelled0);
                workload.verify(memory, base, regionBytes, result);
                if (sample.misses == 0)
                {
                    throw new IllegalStateException(workload.name() + " missed nothing at ExCache " + cacheBytes
                        + " bytes: the working set is too small to measure misses");
                }
                return sample;
            }
            finally
            {
                process.exit(0);
            }
        }
    }

    private static long phases(final MemoryWorkload workload, final WordMemory memory, final long base,
        final long regionBytes)
    {
        workload.populate(memory, base, regionBytes, 0, 1);
        return workload.run(memory, base, regionBytes, 0, 1);
    }

    /** Requests the processor put on the wire: RPC calls, one-way sends, one-sided READs and WRITEs. */
    private static long messages(final FabricCounters c)
    {
        return c.get(FabricCounters.CALLS) + c.get(FabricCounters.SENDS) + c.get(FabricCounters.READS)
            + c.get(FabricCounters.WRITES);
    }

    /** Payload bytes the processor moved: read, written, requested and replied. */
    private static long wireBytes(final FabricCounters c)
    {
        return c.get(FabricCounters.BYTES_READ) + c.get(FabricCounters.BYTES_WRITTEN)
            + c.get(FabricCounters.BYTES_REQUESTED) + c.get(FabricCounters.BYTES_REPLIED);
    }

    private static long allocatedBytes()
    {
        return ((com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
