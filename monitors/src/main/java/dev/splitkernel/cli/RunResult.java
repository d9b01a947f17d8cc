package dev.splitkernel.cli;

import java.util.List;

/**
 * One row of the {@code run} command's table: a workload at one ExCache size, against the same workload on local
 * memory.
 *
 * @param workload        the workload's name.
 * @param fabric          the fabric the cluster ran on (local with its preset, or tcp).
 * @param timing          how the network time was charged: inject, account (local fabric) or wall (tcp).
 * @param sizePercent     ExCache capacity as a percentage of the working set.
 * @param cacheBytes      ExCache capacity.
 * @param workingSetBytes the workload's region.
 * @param runNs           time of populate + measured phase on the splitkernel.
 * @param localNs         time of the same phases on local memory: the round's reference, the median of its local
 *                        runs ({@link RoundReference}).
 * @param stallNs         virtual network stalls on the run's critical path (account mode; else 0): per phase those of
 *                        the slowest thread, the stalls that {@code runNs} contains.
 * @param hits            ExCache hits during the run.
 * @param misses          ExCache misses during the run (including p-local fills).
 * @param writeBacks      dirty lines written back during the run (including piggybacked ones).
 * @param oneSided        misses served by a one-sided READ.
 * @param pLocalFills     misses served by zero-filling locally.
 * @param roundTrips      round trips the processor monitor waited for (calls, one-sided READs and WRITEs).
 * @param missP50Ns       median time of a fetched miss (measured: in account mode without the modelled network time),
 *                        0 without fetches or with latency histograms off.
 * @param missP99Ns       its 99th percentile.
 * @param cacheWaitNs     CPU time the run's threads spun in the cache waiting for each other, left out of
 *                        {@code runNs}.
 * @param activity        collections, compiles and page faults of the process during the splitkernel run.
 * @param localActivity   the same during the round's local runs, summed.
 * @param localRunsNs     every local run of the round, in the same timing as {@code localNs}.
 */
public record RunResult(String workload, String fabric, String timing, double sizePercent, long cacheBytes,
    long workingSetBytes, long runNs, long localNs, long stallNs, long hits, long misses, long writeBacks, long oneSided,
    long pLocalFills, long roundTrips, long missP50Ns, long missP99Ns, long cacheWaitNs, JvmActivity activity,
    JvmActivity localActivity, List<Long> localRunsNs)
{
    /** This splitkernel run against its round's local reference (measured after it when runs follow it). */
    RunResult withLocal(final long referenceNs, final List<Long> runsNs, final JvmActivity runsActivity)
    {
        return new RunResult(workload, fabric, timing, sizePercent, cacheBytes, workingSetBytes, runNs, referenceNs,
            stallNs, hits, misses, writeBacks, oneSided, pLocalFills, roundTrips, missP50Ns, missP99Ns, cacheWaitNs,
            activity, runsActivity, List.copyOf(runsNs));
    }

    /** Round trips per miss (p-local fills count as misses that took none). */
    public double roundTripsPerMiss()
    {
        return misses == 0 ? 0.0 : (double)roundTrips / misses;
    }

    public double slowdown()
    {
        return localNs == 0 ? Double.NaN : (double)runNs / localNs;
    }

    /** Hits over accesses; 0 when none was counted (counting off), as the table says, so a report never fails. */
    public double hitRatio()
    {
        final long accesses = hits + misses;
        return accesses == 0 ? 0.0 : (double)hits / accesses;
    }
}
