package dev.splitkernel.excache;

import dev.splitkernel.counting.Counting;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * Configuration of an {@link ExCache}: fluent setters, defaults from system properties, one {@link #conclude()}
 * that validates everything and names the setting at fault.
 */
public final class ExCacheContext
{
    /** Capacity in bytes; default 256 MiB (LegoOS's default). */
    public static final String CAPACITY_BYTES_PROP = "splitkernel.excache.capacityBytes";
    /** Line size in bytes; default 4096. */
    public static final String LINE_BYTES_PROP = "splitkernel.excache.lineBytes";
    /** Associativity; default 64. */
    public static final String WAYS_PROP = "splitkernel.excache.ways";
    /** FIFO or CLOCK; default FIFO. */
    public static final String POLICY_PROP = "splitkernel.excache.policy";
    /**
     * true (the default) to send a dirty victim with the fetch that replaces it when both go to the same target, so a
     * miss costs one round trip; false to write it back on its own first.
     */
    public static final String PIGGYBACK_PROP = "splitkernel.excache.piggyback";
    /** Lines in the victim cache, 0 for none; default 0. */
    public static final String VICTIM_CACHE_LINES_PROP = "splitkernel.excache.victimCacheLines";

    public static final long CAPACITY_BYTES_DEFAULT = 256L << 20;
    public static final int LINE_BYTES_DEFAULT = 4096;
    public static final int WAYS_DEFAULT = 64;
    public static final int MIN_LINE_BYTES = 64;
    public static final int MAX_LINE_BYTES = 1 << 20;
    public static final int MAX_WAYS = 256;
    public static final int MAX_VICTIM_CACHE_LINES = 4096;
    /** Most lines in one cache: metadata (2 x 32 bytes per line) lives in single direct buffers. */
    public static final long MAX_LINES = 1L << 25;

    private long capacityBytes = Long.getLong(CAPACITY_BYTES_PROP, CAPACITY_BYTES_DEFAULT);
    private int lineBytes = Integer.getInteger(LINE_BYTES_PROP, LINE_BYTES_DEFAULT);
    private int ways = Integer.getInteger(WAYS_PROP, WAYS_DEFAULT);
    private EvictionPolicy policy = parsePolicy(System.getProperty(POLICY_PROP, "FIFO"));
    private boolean piggyback = Boolean.parseBoolean(System.getProperty(PIGGYBACK_PROP, "true"));
    private ExCacheFault.Handler faultHandler = ExCacheFault.Handler.DEFAULT;
    private int victimCacheLines = Integer.getInteger(VICTIM_CACHE_LINES_PROP, 0);
    private LineMemoryAllocator segmentAllocator = ExCacheContext::allocateDirect;
    private CountersManager countersManager;
    private boolean concluded;

    /**
     * Checks every setting.
     *
     * @return this.
     * @throws IllegalArgumentException naming the setting and the fix.
     */
    public ExCacheContext conclude()
    {
        if (lineBytes < MIN_LINE_BYTES || lineBytes > MAX_LINE_BYTES || Integer.bitCount(lineBytes) != 1)
        {
            throw new IllegalArgumentException("lineBytes=" + lineBytes + ": must be a power of two between " +
                MIN_LINE_BYTES + " and " + MAX_LINE_BYTES + " (default " + LINE_BYTES_DEFAULT + ")");
        }
        if (ways < 1 || ways > MAX_WAYS || Integer.bitCount(ways) != 1)
        {
            throw new IllegalArgumentException("ways=" + ways + ": must be a power of two between 1 and " + MAX_WAYS +
                " (default " + WAYS_DEFAULT + ")");
        }
        final long setBytes = (long)lineBytes * ways;
        if (capacityBytes < setBytes || capacityBytes % setBytes != 0 ||
            Long.bitCount(capacityBytes / setBytes) != 1)
        {
            throw new IllegalArgumentException("capacityBytes=" + capacityBytes + ": must be lineBytes x ways (" +
                setBytes + ") times a power of two (the number of sets), e.g. " +
                Math.max(setBytes, Long.highestOneBit(Math.max(1, capacityBytes / setBytes)) * setBytes));
        }
        if (capacityBytes / lineBytes > MAX_LINES)
        {
            throw new IllegalArgumentException("capacityBytes=" + capacityBytes + ": at most 2^25 lines; " +
                "use a larger lineBytes or a smaller capacity");
        }
        if (policy == null)
        {
            throw new IllegalArgumentException("policy: must be FIFO or CLOCK, not null");
        }
        if (victimCacheLines < 0 || victimCacheLines > MAX_VICTIM_CACHE_LINES)
        {
            throw new IllegalArgumentException("victimCacheLines=" + victimCacheLines + ": must be between 0 (off) and " +
                MAX_VICTIM_CACHE_LINES);
        }
        if ((long)(victimCacheLines + 16) * lineBytes > LineMemoryAllocator.MAX_SEGMENT_BYTES)
        {
            throw new IllegalArgumentException("victimCacheLines=" + victimCacheLines + ": victim cache lines (plus 16 " +
                "staging lines) must fit in one 1 GiB segment at lineBytes=" + lineBytes);
        }
        if (segmentAllocator == null)
        {
            throw new IllegalArgumentException("segmentAllocator: must not be null");
        }
        concluded = true;
        return this;
    }

    boolean isConcluded()
    {
        return concluded;
    }

    public ExCacheContext capacityBytes(final long capacityBytes)
    {
        this.capacityBytes = capacityBytes;
        return this;
    }

    public long capacityBytes()
    {
        return capacityBytes;
    }

    public ExCacheContext lineBytes(final int lineBytes)
    {
        this.lineBytes = lineBytes;
        return this;
    }

    public int lineBytes()
    {
        return lineBytes;
    }

    public ExCacheContext ways(final int ways)
    {
        this.ways = ways;
        return this;
    }

    public int ways()
    {
        return ways;
    }

    public ExCacheContext policy(final EvictionPolicy policy)
    {
        this.policy = policy;
        return this;
    }

    public EvictionPolicy policy()
    {
        return policy;
    }

    /** What a faulting access throws (default: an {@link ExCacheFault}). */
    public ExCacheContext faultHandler(final ExCacheFault.Handler faultHandler)
    {
        this.faultHandler = faultHandler == null ? ExCacheFault.Handler.DEFAULT : faultHandler;
        return this;
    }

    public ExCacheFault.Handler faultHandler()
    {
        return faultHandler;
    }

    public ExCacheContext piggyback(final boolean piggyback)
    {
        this.piggyback = piggyback;
        return this;
    }

    public boolean piggyback()
    {
        return piggyback;
    }

    public ExCacheContext victimCacheLines(final int victimCacheLines)
    {
        this.victimCacheLines = victimCacheLines;
        return this;
    }

    public int victimCacheLines()
    {
        return victimCacheLines;
    }

    public ExCacheContext segmentAllocator(final LineMemoryAllocator segmentAllocator)
    {
        this.segmentAllocator = segmentAllocator;
        return this;
    }

    public LineMemoryAllocator segmentAllocator()
    {
        return segmentAllocator;
    }

    /**
     * Where the cache's event counters live (a monitor's counters file): Agrona counters, thread-safe. Default: a
     * private place of the cache's own.
     */
    public ExCacheContext countersManager(final CountersManager countersManager)
    {
        this.countersManager = countersManager;
        return this;
    }

    /** The counters' place: the one given, or a new private one. */
    CountersManager countersManagerOrPrivate(final int counters)
    {
        return countersManager != null ? countersManager : Counting.newManager(
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(counters * CountersReader.METADATA_LENGTH, 64)),
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(counters * CountersReader.COUNTER_LENGTH, 64)));
    }

    @Override
    public String toString()
    {
        return "ExCacheContext{capacityBytes=" + capacityBytes + ", lineBytes=" + lineBytes + ", ways=" + ways +
            ", policy=" + policy + ", piggyback=" + piggyback + ", victimCacheLines=" + victimCacheLines + "}";
    }

    private static EvictionPolicy parsePolicy(final String value)
    {
        for (final EvictionPolicy policy : EvictionPolicy.values())
        {
            if (policy.name().equalsIgnoreCase(value.trim()))
            {
                return policy;
            }
        }
        throw new IllegalArgumentException(POLICY_PROP + "=" + value + ": must be FIFO or CLOCK");
    }

    private static UnsafeBuffer allocateDirect(final int lengthBytes)
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(lengthBytes, 4096));
    }
}
