package dev.splitkernel.monitor.status;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.agrona.concurrent.AtomicBuffer;

import java.nio.ByteBuffer;

import static dev.splitkernel.monitor.status.StatusFileDescriptor.*;

/**
 * One latency histogram of a monitor (miss, write-back or RPC time, in ns). Threads record into an HdrHistogram
 * {@link Recorder} (wait-free, many writers); {@link #publish} swaps out the interval's histogram, adds it to the
 * total and writes the total into the status file's double-buffered region, so neither writers nor readers ever
 * wait for each other.
 * <p>
 * Switched off (setting {@code splitkernel.stat.latency=false}), {@link #startNs()} returns 0 without reading the
 * clock and {@link #recordSince} does nothing: what measuring costs can be compared with it off. The setting is read
 * once, into a static final, so that off the JIT drops the measuring code altogether (an instance field would leave
 * a load and a branch per operation); a histogram made switched off ({@link MonitorStatus#inMemory}) is off too.
 * <p>
 * Thread-safe.
 */
public final class LatencyHistogram
{
    /** Longest latency kept apart: a minute; longer ones count as a minute. */
    public static final long HIGHEST_NS = 60_000_000_000L;
    static final int SIGNIFICANT_DIGITS = 2;

    /** The JVM's setting, read once: false removes every histogram's clock reads from the compiled code. */
    static final boolean ON = Boolean.parseBoolean(System.getProperty(MonitorStatus.LATENCY_PROP_NAME, "true"));

    private final boolean enabled;
    private final Recorder recorder;
    private final Histogram total;
    private Histogram interval;
    private ByteBuffer scratch;

    LatencyHistogram(final boolean enabled)
    {
        this.enabled = ON && enabled;
        recorder = this.enabled ? new Recorder(1, HIGHEST_NS, SIGNIFICANT_DIGITS) : null;
        total = new Histogram(1, HIGHEST_NS, SIGNIFICANT_DIGITS);
    }

    public boolean enabled()
    {
        return enabled;
    }

    /** The start of a measured operation: {@link System#nanoTime()}, or 0 when switched off. */
    public long startNs()
    {
        return ON && enabled ? System.nanoTime() : 0;
    }

    /** Record the time since {@code startNs} (from {@link #startNs()}). */
    public void recordSince(final long startNs)
    {
        if (ON && enabled)
        {
            recordNs(System.nanoTime() - startNs);
        }
    }

    public void recordNs(final long latencyNs)
    {
        if (ON && enabled)
        {
            recorder.recordValue(Math.max(1, Math.min(HIGHEST_NS, latencyNs)));
        }
    }

    /** Everything recorded so far, as a copy. */
    public synchronized Histogram snapshot()
    {
        collect();
        return total.copy();
    }

    /** Write the total so far into the region at {@code regionOffset} of {@code file}: the slot readers do not use. */
    synchronized void publish(final AtomicBuffer file, final int regionOffset)
    {
        collect();
        final int needed = total.getNeededByteBufferCapacity();
        if (scratch == null || scratch.capacity() < needed)
        {
            scratch = ByteBuffer.allocate(needed);
        }
        scratch.clear();
        final int length = total.encodeIntoByteBuffer(scratch);
        if (length > SLOT_LENGTH - SLOT_DATA_OFFSET)
        {
            return; // cannot happen with this range and precision; readers keep the previous total
        }
        final long generation = file.getLongVolatile(regionOffset + HISTOGRAM_GENERATION_OFFSET) + 1;
        final int slot = regionOffset + HISTOGRAM_SLOTS_OFFSET + (int)(generation & 1) * SLOT_LENGTH;
        file.putInt(slot + SLOT_LENGTH_OFFSET, length);
        file.putBytes(slot + SLOT_DATA_OFFSET, scratch.array(), 0, length);
        file.putLongOrdered(regionOffset + HISTOGRAM_GENERATION_OFFSET, generation);
    }

    private void collect()
    {
        if (enabled)
        {
            interval = recorder.getIntervalHistogram(interval);
            total.add(interval);
        }
    }
}
