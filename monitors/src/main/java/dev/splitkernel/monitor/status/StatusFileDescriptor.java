package dev.splitkernel.monitor.status;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.nio.charset.StandardCharsets;

/**
 * The layout of a monitor's status file (its counters, latency histograms and distinct-error log), memory-mapped by
 * the monitor and read from outside by {@code splitkernel stat} and {@code errors}, also after the monitor died.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |  magic 'SKST'                 |  layout version               |  0
 *  |  pid (long)                                                   |  8
 *  |  start time, epoch ms (long)                                  | 16
 *  |  heartbeat, epoch ms (long, written ordered every interval)   | 24
 *  |  state (1 running, 2 closed)  |  publication interval, ms     | 32
 *  |  counters metadata length     |  counters values length       | 40
 *  |  error log length             |  histogram count              | 48
 *  |  histogram region length (each)                               | 56
 *  |  monitor name: length (int), UTF-8 bytes (up to 124)       ...| 64
 *  |  host name: length (int), UTF-8 bytes (up to 60)           ...| 192
 *  |  reserved up to 4096                                       ...| 256
 *  |  counters metadata (Agrona CountersManager)                ...| 4096
 *  |  counters values (Agrona CountersManager)                  ...|
 *  |  distinct-error log (Agrona DistinctErrorLog)              ...|
 *  |  histogram regions, one per {@link #HISTOGRAM_NAMES}       ...|
 *  +---------------------------------------------------------------+
 * </pre>
 * A histogram region is double-buffered so that the writer never waits for a reader and a killed writer leaves a
 * whole histogram behind:
 * <pre>
 *  |  generation (long, ordered): slot (generation &amp; 1) holds the latest   |  0
 *  |  reserved up to 64                                                  |  8
 *  |  slot 0: length (int), reserved (int), HdrHistogram encoding     ...| 64
 *  |  slot 1: length (int), reserved (int), HdrHistogram encoding     ...| 64 + slot length
 * </pre>
 * A reader takes the generation, copies its slot, and keeps the copy if the generation has since moved by at most
 * one (the writer was then writing the other slot).
 */
public final class StatusFileDescriptor
{
    public static final int MAGIC = 0x534B5354;
    public static final int LAYOUT_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int PID_OFFSET = 8;
    public static final int START_TIME_OFFSET = 16;
    public static final int HEARTBEAT_OFFSET = 24;
    public static final int STATE_OFFSET = 32;
    public static final int INTERVAL_OFFSET = 36;
    public static final int METADATA_LENGTH_OFFSET = 40;
    public static final int VALUES_LENGTH_OFFSET = 44;
    public static final int ERROR_LOG_LENGTH_OFFSET = 48;
    public static final int HISTOGRAM_COUNT_OFFSET = 52;
    public static final int HISTOGRAM_REGION_LENGTH_OFFSET = 56;
    public static final int MONITOR_NAME_OFFSET = 64;
    public static final int MONITOR_NAME_MAX_BYTES = 124;
    public static final int HOST_NAME_OFFSET = 192;
    public static final int HOST_NAME_MAX_BYTES = 60;
    public static final int HEADER_LENGTH = 4096;

    public static final int STATE_RUNNING = 1;
    public static final int STATE_CLOSED = 2;

    /** Counters per file: enough for every component's counters, opcodes both ways and many vRegions. */
    public static final int MAX_COUNTERS = 1024;
    public static final int METADATA_LENGTH = MAX_COUNTERS * CountersReader.METADATA_LENGTH;
    public static final int VALUES_LENGTH = MAX_COUNTERS * CountersReader.COUNTER_LENGTH;
    public static final int ERROR_LOG_LENGTH = 256 * 1024;

    public static final int MISS_LATENCY = 0;
    public static final int WRITE_BACK_LATENCY = 1;
    /** Requests served: from the handler's start to its reply (server side). */
    public static final int RPC_LATENCY = 2;
    /** Requests made: from the call to its reply, as the caller sees it (client side, the network included). */
    public static final int RPC_CALL_LATENCY = 3;
    /** Names of the histograms by index, as {@code stat} shows them. */
    public static final String[] HISTOGRAM_NAMES = {"miss", "write-back", "rpc served", "rpc call"};
    public static final int HISTOGRAM_COUNT = HISTOGRAM_NAMES.length;

    public static final int HISTOGRAM_GENERATION_OFFSET = 0;
    public static final int HISTOGRAM_SLOTS_OFFSET = 64;
    public static final int SLOT_LENGTH_OFFSET = 0;
    public static final int SLOT_DATA_OFFSET = 8;
    public static final int SLOT_LENGTH = 64 * 1024;
    public static final int HISTOGRAM_REGION_LENGTH = HISTOGRAM_SLOTS_OFFSET + 2 * SLOT_LENGTH;

    public static final int FILE_LENGTH =
        HEADER_LENGTH + METADATA_LENGTH + VALUES_LENGTH + ERROR_LOG_LENGTH + HISTOGRAM_COUNT * HISTOGRAM_REGION_LENGTH;

    /** File names end so. */
    public static final String SUFFIX = ".stat";

    private StatusFileDescriptor()
    {
    }

    public static int metadataOffset()
    {
        return HEADER_LENGTH;
    }

    /** Where the counters' values start, in a file whose header says the lengths. */
    public static int valuesOffset(final AtomicBuffer file)
    {
        return HEADER_LENGTH + file.getInt(METADATA_LENGTH_OFFSET);
    }

    public static int errorLogOffset(final AtomicBuffer file)
    {
        return valuesOffset(file) + file.getInt(VALUES_LENGTH_OFFSET);
    }

    public static int histogramOffset(final AtomicBuffer file, final int index)
    {
        return errorLogOffset(file) + file.getInt(ERROR_LOG_LENGTH_OFFSET)
            + index * file.getInt(HISTOGRAM_REGION_LENGTH_OFFSET);
    }

    /** The length the header says the file has; a file shorter than this is not (or not yet) a status file. */
    public static long expectedLength(final AtomicBuffer file)
    {
        return (long)HEADER_LENGTH + file.getInt(METADATA_LENGTH_OFFSET) + file.getInt(VALUES_LENGTH_OFFSET)
            + file.getInt(ERROR_LOG_LENGTH_OFFSET)
            + (long)file.getInt(HISTOGRAM_COUNT_OFFSET) * file.getInt(HISTOGRAM_REGION_LENGTH_OFFSET);
    }

    static void putString(final AtomicBuffer file, final int offset, final int maxBytes, final String value)
    {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxBytes)
        {
            bytes = java.util.Arrays.copyOf(bytes, maxBytes);
        }
        file.putInt(offset, bytes.length);
        file.putBytes(offset + 4, bytes);
    }

    static String getString(final AtomicBuffer file, final int offset, final int maxBytes)
    {
        final int length = Math.max(0, Math.min(maxBytes, file.getInt(offset)));
        final byte[] bytes = new byte[length];
        file.getBytes(offset + 4, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
