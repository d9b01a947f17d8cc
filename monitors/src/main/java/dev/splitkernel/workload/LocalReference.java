package dev.splitkernel.workload;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Results of runs on local memory that a workload's other twin must reproduce bit for bit (the trained weights of
 * tf), by a key the workload chooses. Shared by every copy of a workload ({@link TwinLoader}). Thread-safe.
 */
public final class LocalReference
{
    private static final Map<String, Long> CHECKSUMS = new ConcurrentHashMap<>();

    private LocalReference()
    {
    }

    public static void put(final String key, final long checksum)
    {
        CHECKSUMS.put(key, checksum);
    }

    /** The checksum recorded for {@code key}, or null when no local run recorded one. */
    public static Long get(final String key)
    {
        return CHECKSUMS.get(key);
    }
}
