package dev.splitkernel.verbs;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.ConcurrentCountersManager;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * Counters that nobody outside the process reads: the same Agrona counters as a monitor's counters file, in
 * off-heap memory of their own, for a fabric (or a test) made without a file.
 */
public final class PrivateCounters
{
    private PrivateCounters()
    {
    }

    /** A thread-safe manager with room for {@code capacity} counters. */
    public static CountersManager newManager(final int capacity)
    {
        return new ConcurrentCountersManager(
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * CountersReader.METADATA_LENGTH, 64)),
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * CountersReader.COUNTER_LENGTH, 64)));
    }
}
