package dev.splitkernel.monitor.status;

import dev.splitkernel.counting.Counting;

import org.agrona.BufferUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.ConcurrentCountersManager;
import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;

import static dev.splitkernel.monitor.status.StatusFileDescriptor.*;

/**
 * One monitor's status file ({@link StatusFileDescriptor}), written by the monitor: its counters (every counter of the
 * monitor, its cache and its fabric is an Agrona {@link AtomicCounter} here), gauges sampled every interval (values
 * kept elsewhere, such as the cache's per-thread hit counts), latency histograms, the distinct-error log, and a
 * heartbeat. The file stays after the monitor closes or dies, for {@code splitkernel stat} and {@code errors}.
 * <p>
 * Without a directory the same layout lives in memory: counters still count, nobody outside reads them.
 * <p>
 * Thread-safe. The mapping is never unmapped by hand (a counter incremented late must not fault); it goes with the
 * last counter that refers to it.
 */
public final class MonitorStatus implements AutoCloseable
{
    /** Directory of the status files; default {@code /dev/shm/splitkernel-stat} (or under java.io.tmpdir). */
    public static final String DIR_PROP_NAME = "splitkernel.stat.dir";
    /** false: no status file (counters and errors stay in memory). Default true. */
    public static final String FILE_PROP_NAME = "splitkernel.stat.file";
    /** false: nothing counted ({@link Counting}), for measuring counting's cost only. Default true. */
    public static final String COUNT_PROP_NAME = Counting.PROP_NAME;
    /** false: no latency histograms (the clock is not even read). Default true. */
    public static final String LATENCY_PROP_NAME = "splitkernel.stat.latency";
    /** How often histograms, gauges and the heartbeat are published, in ms; default 250. */
    public static final String INTERVAL_PROP_NAME = "splitkernel.stat.intervalMs";
    public static final int INTERVAL_DEFAULT_MS = 250;
    /** Files of monitors that closed or died are removed by the next monitor that starts once this old (24 h). */
    public static final long KEEP_MS = 24L * 3600 * 1000;
    /**
     * And beyond this many, the oldest of them go sooner: a day of test runs left 23,000 files (1.6 GB of tmpfs) here,
     * which every monitor's start scanned and every {@code stat} listed.
     */
    public static final int KEEP_STOPPED = 200;

    /** Type ids of counters by what they count (the cache's and the fabric's own are theirs). */
    public static final int TYPE_MONITOR = 3;
    public static final int TYPE_SENT_OPCODE = 7;
    public static final int TYPE_SERVED_OPCODE = 8;
    public static final int TYPE_VREGION_BYTES = 9;

    private static final System.Logger LOG = System.getLogger(MonitorStatus.class.getName());

    private volatile String monitorName;
    private final Path file;
    private final AtomicBuffer buffer;
    private final ConcurrentCountersManager counters;
    private final DistinctErrorLog errorLog;
    private final LatencyHistogram[] histograms = new LatencyHistogram[HISTOGRAM_COUNT];
    private final int intervalMs;
    private final List<Gauge> gauges = new CopyOnWriteArrayList<>();
    private final List<Runnable> publishHooks = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private MonitorStatus(final String monitorName, final Path file, final AtomicBuffer buffer, final boolean latency,
        final int intervalMs)
    {
        this.monitorName = monitorName;
        this.file = file;
        this.buffer = buffer;
        this.intervalMs = intervalMs;
        buffer.putLong(PID_OFFSET, ProcessHandle.current().pid());
        buffer.putLong(START_TIME_OFFSET, System.currentTimeMillis());
        buffer.putLong(HEARTBEAT_OFFSET, System.currentTimeMillis());
        buffer.putInt(STATE_OFFSET, STATE_RUNNING);
        buffer.putInt(INTERVAL_OFFSET, intervalMs);
        buffer.putInt(METADATA_LENGTH_OFFSET, METADATA_LENGTH);
        buffer.putInt(VALUES_LENGTH_OFFSET, VALUES_LENGTH);
        buffer.putInt(ERROR_LOG_LENGTH_OFFSET, ERROR_LOG_LENGTH);
        buffer.putInt(HISTOGRAM_COUNT_OFFSET, HISTOGRAM_COUNT);
        buffer.putInt(HISTOGRAM_REGION_LENGTH_OFFSET, HISTOGRAM_REGION_LENGTH);
        putString(buffer, MONITOR_NAME_OFFSET, MONITOR_NAME_MAX_BYTES, monitorName);
        putString(buffer, HOST_NAME_OFFSET, HOST_NAME_MAX_BYTES, StatusReader.localHostName());
        buffer.putInt(VERSION_OFFSET, LAYOUT_VERSION);
        // Last: a reader that sees the magic sees a whole header.
        buffer.putIntOrdered(MAGIC_OFFSET, MAGIC);
        counters = Counting.newManager(
            new UnsafeBuffer(buffer, metadataOffset(), METADATA_LENGTH),
            new UnsafeBuffer(buffer, valuesOffset(buffer), VALUES_LENGTH));
        errorLog = new DistinctErrorLog(
            new UnsafeBuffer(buffer, errorLogOffset(buffer), ERROR_LOG_LENGTH), SystemEpochClock.INSTANCE);
        for (int i = 0; i < HISTOGRAM_COUNT; i++)
        {
            histograms[i] = new LatencyHistogram(latency);
        }
    }

    /**
     * Open the status of {@code monitorName} with the settings of the system properties: a new file in the status
     * directory, or memory only when {@link #FILE_PROP_NAME} is false.
     */
    public static MonitorStatus open(final String monitorName)
    {
        final boolean latency = Boolean.parseBoolean(System.getProperty(LATENCY_PROP_NAME, "true"));
        final int intervalMs = Math.max(1, Integer.getInteger(INTERVAL_PROP_NAME, INTERVAL_DEFAULT_MS));
        if (!Boolean.parseBoolean(System.getProperty(FILE_PROP_NAME, "true")))
        {
            return inMemory(monitorName, latency);
        }
        return open(monitorName, defaultDirectory(), latency, intervalMs);
    }

    /** A status that lives in memory only. */
    public static MonitorStatus inMemory(final String monitorName, final boolean latency)
    {
        return new MonitorStatus(monitorName, null,
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(FILE_LENGTH, 4096)), latency, INTERVAL_DEFAULT_MS);
    }

    /**
     * A new status file in {@code directory}, named after the monitor and this process: {@code NAME-PID[-N].stat}.
     *
     * @throws UncheckedIOException naming the file when it cannot be made.
     */
    public static MonitorStatus open(final String monitorName, final Path directory, final boolean latency,
        final int intervalMs)
    {
        final String stem = fileStem(monitorName) + "-" + ProcessHandle.current().pid();
        Path path = directory.resolve(stem + SUFFIX);
        try
        {
            Files.createDirectories(directory);
            prune(directory, System.currentTimeMillis(), KEEP_STOPPED);
            for (int n = 1; ; n++)
            {
                try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.READ, StandardOpenOption.WRITE))
                {
                    final MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, FILE_LENGTH);
                    return new MonitorStatus(monitorName, path, new UnsafeBuffer(mapped), latency, intervalMs);
                }
                catch (final FileAlreadyExistsException ex)
                {
                    path = directory.resolve(stem + "-" + n + SUFFIX);
                }
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create the status file " + path + " of " + monitorName
                + " (set " + DIR_PROP_NAME + " to a writable directory, or " + FILE_PROP_NAME + "=false)", ex);
        }
    }

    /**
     * Remove the files of monitors that stopped (closed, or dead: killed) more than {@link #KEEP_MS} ago, and the
     * oldest stopped ones beyond the newest {@code keepStopped}, by last heartbeat. Files of running monitors stay.
     */
    static void prune(final Path directory, final long nowMs, final int keepStopped)
    {
        final List<StoppedFile> stopped = new ArrayList<>();
        try
        {
            for (final Path file : StatusReader.list(directory))
            {
                try
                {
                    final StatusReader reader = StatusReader.open(file);
                    try
                    {
                        if (!"running".equals(reader.state(nowMs)))
                        {
                            stopped.add(new StoppedFile(file, reader.heartbeatMs()));
                        }
                    }
                    finally
                    {
                        reader.unmap();
                    }
                }
                catch (final IOException ex)
                {
                    // not a status file of ours, or gone meanwhile: leave it
                }
            }
        }
        catch (final IOException ex)
        {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot list " + directory + ": " + ex);
            return;
        }
        stopped.sort(Comparator.comparingLong(StoppedFile::heartbeatMs).reversed());
        for (int rank = 0; rank < stopped.size(); rank++)
        {
            final StoppedFile old = stopped.get(rank);
            if (rank >= keepStopped || nowMs - old.heartbeatMs() > KEEP_MS)
            {
                try
                {
                    Files.deleteIfExists(old.file());
                }
                catch (final IOException ex)
                {
                    LOG.log(System.Logger.Level.DEBUG, () -> "cannot remove " + old.file() + ": " + ex);
                }
            }
        }
    }

    private record StoppedFile(Path file, long heartbeatMs)
    {
    }

    /** The status directory of the system properties, or the default. */
    public static Path defaultDirectory()
    {
        final String dir = System.getProperty(DIR_PROP_NAME);
        if (dir != null && !dir.isBlank())
        {
            return Path.of(dir);
        }
        final Path shm = Path.of("/dev/shm");
        return (Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")))
            .resolve("splitkernel-stat");
    }

    /** The stem of a monitor's file names: its name with [A-Za-z0-9._-] only. */
    public static String fileStem(final String monitorName)
    {
        final String stem = monitorName.replaceAll("[^A-Za-z0-9._-]+", "_");
        return stem.length() > 64 ? stem.substring(0, 64) : stem;
    }

    public String monitorName()
    {
        return monitorName;
    }

    /** Name the monitor anew in the file (once it knows its address). */
    public synchronized void rename(final String monitorName)
    {
        this.monitorName = monitorName;
        putString(buffer, MONITOR_NAME_OFFSET, MONITOR_NAME_MAX_BYTES, monitorName);
    }

    /** The file, or null when the status lives in memory only. */
    public Path file()
    {
        return file;
    }

    public boolean isClosed()
    {
        return closed;
    }

    /** Where the monitor's counters live: give it to the cache and the fabric. */
    public CountersManager countersManager()
    {
        return counters;
    }

    /** A new counter of the monitor: {@code label} as {@code stat} shows it, e.g. "processor: rpc fetches". */
    public AtomicCounter newCounter(final String label, final int typeId)
    {
        return counters.newCounter(label, typeId);
    }

    /** True while the file has room for more counters than the monitors' fixed ones (keep some for those). */
    public boolean hasRoomForCounters()
    {
        return counters.available() > 64;
    }

    /**
     * A counter whose value is sampled from {@code value} every interval (and at close): for values kept elsewhere,
     * such as the cache's per-thread hit counts or the bytes of a vRegion.
     *
     * @return the counter, to {@link #removeGauge} when what it measures goes away.
     */
    public AtomicCounter gauge(final String label, final int typeId, final LongSupplier value)
    {
        final AtomicCounter counter = counters.newCounter(label, typeId);
        gauges.add(new Gauge(counter, value));
        return counter;
    }

    /** Stop sampling the gauge and free its counter. */
    public void removeGauge(final AtomicCounter counter)
    {
        gauges.removeIf(g -> g.counter == counter);
        counter.close();
    }

    /** Run {@code hook} at every publication, before the gauges are sampled: it may add and remove gauges. */
    public void onPublish(final Runnable hook)
    {
        publishHooks.add(hook);
    }

    public LatencyHistogram histogram(final int index)
    {
        return histograms[index];
    }

    /** Record an error in the distinct-error log (a repeat only counts). */
    public void recordError(final Throwable error)
    {
        if (!errorLog.record(error))
        {
            LOG.log(System.Logger.Level.WARNING, () -> monitorName + ": the error log is full; not logged: " + error);
        }
    }

    public int intervalMs()
    {
        return intervalMs;
    }

    /** Sample the gauges, publish the histograms, beat the heart. Called every interval by one thread. */
    public synchronized void publish()
    {
        for (final Runnable hook : publishHooks)
        {
            try
            {
                hook.run();
            }
            catch (final RuntimeException ex)
            {
                recordError(ex);
            }
        }
        for (final Gauge gauge : gauges)
        {
            try
            {
                gauge.counter.setRelease(gauge.value.getAsLong());
            }
            catch (final RuntimeException ex)
            {
                recordError(ex);
            }
        }
        for (int i = 0; i < HISTOGRAM_COUNT; i++)
        {
            if (histograms[i].enabled())
            {
                histograms[i].publish(buffer, histogramOffset(buffer, i));
            }
        }
        buffer.putLongOrdered(HEARTBEAT_OFFSET, System.currentTimeMillis());
    }

    /** Publish a last time and mark the file closed; it stays for later reading. Idempotent. */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        publish();
        buffer.putIntOrdered(STATE_OFFSET, STATE_CLOSED);
        closed = true;
    }

    private static final class Gauge
    {
        final AtomicCounter counter;
        final LongSupplier value;

        Gauge(final AtomicCounter counter, final LongSupplier value)
        {
            this.counter = counter;
            this.value = value;
        }
    }

    @Override
    public String toString()
    {
        return "MonitorStatus{" + monitorName + (file != null ? ", " + file : "") + "}";
    }
}
