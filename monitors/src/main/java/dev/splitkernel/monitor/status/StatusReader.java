package dev.splitkernel.monitor.status;

import org.HdrHistogram.Histogram;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.ErrorLogReader;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.splitkernel.monitor.status.StatusFileDescriptor.*;

/**
 * Reads a monitor's status file from outside, while the monitor runs or after it died: header, counters, latency
 * histograms, distinct errors. Never writes to the file.
 * <p>
 * Not thread-safe.
 */
public final class StatusReader
{
    /** A monitor counts as alive while its heartbeat is at most this many intervals old (and its pid lives here). */
    public static final int LIVENESS_INTERVALS = 8;

    private final Path file;
    private final AtomicBuffer buffer;
    private final CountersReader counters;

    private StatusReader(final Path file, final AtomicBuffer buffer)
    {
        this.file = file;
        this.buffer = buffer;
        counters = new CountersReader(new UnsafeBuffer(buffer, metadataOffset(), buffer.getInt(METADATA_LENGTH_OFFSET)),
            new UnsafeBuffer(buffer, valuesOffset(buffer), buffer.getInt(VALUES_LENGTH_OFFSET)));
    }

    /**
     * Map {@code file} read-only.
     *
     * @throws IOException naming the file when it cannot be read or is not a status file (of this layout).
     */
    public static StatusReader open(final Path file) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = channel.size();
            if (size < HEADER_LENGTH)
            {
                throw new IOException(file + " is not a splitkernel status file (" + size + " bytes)");
            }
            final MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            final UnsafeBuffer buffer = new UnsafeBuffer(mapped);
            if (buffer.getIntVolatile(MAGIC_OFFSET) != MAGIC)
            {
                throw new IOException(file + " is not a splitkernel status file (no magic number)");
            }
            if (buffer.getInt(VERSION_OFFSET) != LAYOUT_VERSION)
            {
                throw new IOException(file + " has status layout " + buffer.getInt(VERSION_OFFSET) + ", this reader "
                    + "knows " + LAYOUT_VERSION + ": read it with the splitkernel version that wrote it");
            }
            if (expectedLength(buffer) > size)
            {
                throw new IOException(file + " is truncated: " + size + " bytes, its header says "
                    + expectedLength(buffer));
            }
            return new StatusReader(file, buffer);
        }
    }

    /**
     * Whether {@code file} is a status file (of this layout) marked closed, from its first bytes: one small read, no
     * mapping. {@code stat} skips closed files this way: a shared status directory keeps a day's worth of them
     * (8541 files on the shared test host), and mapping each to read one word was most of {@code stat}'s time.
     * False when it is not readable or not such a file ({@link #open} says why).
     */
    public static boolean isClosedFile(final Path file)
    {
        final ByteBuffer head = ByteBuffer.allocate(STATE_OFFSET + Integer.BYTES).order(ByteOrder.nativeOrder());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            while (head.hasRemaining() && channel.read(head) >= 0)
            {
                // a regular file fills the buffer or ends
            }
        }
        catch (final IOException ex)
        {
            return false;
        }
        return !head.hasRemaining() && head.getInt(MAGIC_OFFSET) == MAGIC &&
            head.getInt(VERSION_OFFSET) == LAYOUT_VERSION && head.getInt(STATE_OFFSET) == STATE_CLOSED;
    }

    /**
     * Unmap the file now instead of at some later garbage collection; this reader must not be used after. A process
     * that looks at many files (the prune at every monitor's start) would otherwise keep a mapping of each until a
     * collection, and thousands of files reached the kernel's limit on mappings (vm.max_map_count): the JVM could
     * then not grow its heap and died.
     */
    public void unmap()
    {
        final java.nio.ByteBuffer mapped = buffer.byteBuffer();
        if (mapped instanceof java.nio.MappedByteBuffer)
        {
            org.agrona.IoUtil.unmap((java.nio.MappedByteBuffer)mapped);
        }
    }

    /** The status files in {@code directory}, by name; none if it does not exist. */
    public static List<Path> list(final Path directory) throws IOException
    {
        if (!Files.isDirectory(directory))
        {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
    }

    public Path file()
    {
        return file;
    }

    public String monitorName()
    {
        return getString(buffer, MONITOR_NAME_OFFSET, MONITOR_NAME_MAX_BYTES);
    }

    public String hostName()
    {
        return getString(buffer, HOST_NAME_OFFSET, HOST_NAME_MAX_BYTES);
    }

    public long pid()
    {
        return buffer.getLong(PID_OFFSET);
    }

    public long startTimeMs()
    {
        return buffer.getLong(START_TIME_OFFSET);
    }

    public long heartbeatMs()
    {
        return buffer.getLongVolatile(HEARTBEAT_OFFSET);
    }

    public int intervalMs()
    {
        return buffer.getInt(INTERVAL_OFFSET);
    }

    public boolean isClosed()
    {
        return buffer.getIntVolatile(STATE_OFFSET) == STATE_CLOSED;
    }

    /**
     * "running", "closed" (it closed itself) or "dead" (no heartbeat for {@link #LIVENESS_INTERVALS} intervals, or,
     * on this host, its process is gone: killed or crashed).
     */
    public String state(final long nowMs)
    {
        if (isClosed())
        {
            return "closed";
        }
        final boolean stale = nowMs - heartbeatMs() > (long)LIVENESS_INTERVALS * Math.max(1, intervalMs());
        final boolean here = hostName().equals(localHostName());
        final boolean gone = here && ProcessHandle.of(pid()).map(h -> !h.isAlive()).orElse(true);
        return stale || gone ? "dead" : "running";
    }

    /** One counter: its id, type, label and value. */
    public record Counter(int id, int typeId, String label, long value)
    {
    }

    /** Every allocated counter, in id order. */
    public List<Counter> counters()
    {
        final List<Counter> result = new ArrayList<>();
        counters.forEach((value, id, label) -> result.add(new Counter(id, counters.getCounterTypeId(id), label,
            value)));
        return result;
    }

    /** How many histograms the file has (files of older builds have fewer). */
    public int histogramCount()
    {
        return buffer.getInt(HISTOGRAM_COUNT_OFFSET);
    }

    /** The latest published total of histogram {@code index} ({@link StatusFileDescriptor#HISTOGRAM_NAMES}). */
    public Histogram histogram(final int index)
    {
        if (index < 0 || index >= buffer.getInt(HISTOGRAM_COUNT_OFFSET))
        {
            throw new IllegalArgumentException("no histogram " + index);
        }
        final int region = histogramOffset(buffer, index);
        final int slotLength = (buffer.getInt(HISTOGRAM_REGION_LENGTH_OFFSET) - HISTOGRAM_SLOTS_OFFSET) / 2;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            final long generation = buffer.getLongVolatile(region + HISTOGRAM_GENERATION_OFFSET);
            if (generation == 0)
            {
                break;
            }
            final int slot = region + HISTOGRAM_SLOTS_OFFSET + (int)(generation & 1) * slotLength;
            final int length = buffer.getInt(slot + SLOT_LENGTH_OFFSET);
            if (length <= 0 || length > slotLength - SLOT_DATA_OFFSET)
            {
                continue;
            }
            final byte[] copy = new byte[length];
            buffer.getBytes(slot + SLOT_DATA_OFFSET, copy);
            // The writer wrote the other slot meanwhile at most: ours is whole.
            if (buffer.getLongVolatile(region + HISTOGRAM_GENERATION_OFFSET) - generation <= 1)
            {
                try
                {
                    return Histogram.decodeFromByteBuffer(ByteBuffer.wrap(copy), 0);
                }
                catch (final RuntimeException ex)
                {
                    continue;
                }
            }
        }
        return new Histogram(1, LatencyHistogram.HIGHEST_NS, LatencyHistogram.SIGNIFICANT_DIGITS);
    }

    /** One distinct error: how often, first and last seen (epoch ms), and its text (with the stack trace). */
    public record DistinctError(int count, long firstMs, long lastMs, String text)
    {
    }

    public List<DistinctError> errors()
    {
        final List<DistinctError> result = new ArrayList<>();
        final AtomicBuffer log = new UnsafeBuffer(buffer, errorLogOffset(buffer), buffer.getInt(ERROR_LOG_LENGTH_OFFSET));
        ErrorLogReader.read(log, (count, first, last, text) -> result.add(new DistinctError(count, first, last, text)));
        return result;
    }

    static String localHostName()
    {
        try
        {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        }
        catch (final IOException | RuntimeException ex)
        {
            return System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
    }
}
