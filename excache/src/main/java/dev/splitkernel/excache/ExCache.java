package dev.splitkernel.excache;

import dev.splitkernel.counting.Counting;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

import static dev.splitkernel.excache.ExCacheLayout.*;

/**
 * The processor-side cache of remote memory (LegoOS's ExCache): set-associative, virtually indexed and tagged by
 * (address-space id, virtual line number), lines in off-heap segments.
 *
 * <h2>Hit path: no lock, no allocation</h2>
 * A hit looks at the line's predicted way first, then at a direct-mapped lookaside of slot hints (a software TLB),
 * then scans the set's tags, all without a lock ({@link ExCacheLayout}).
 * <ul>
 * <li><b>Loads</b> are seqlock readers of the slot: read its state word (acquire), check its tag, read the value,
 * load fence, then re-read the state word. The miss path marks the state busy before it changes the slot's tag or
 * bytes and stores a new sequence number after, so an unchanged state proves the value was the line's. The state
 * also carries the busy bit and an unreadable bit (the slot lacks PROT_READ); the re-read must equal the first read
 * with both bits cleared, which proves in one compare that the first read was settled and readable and that nothing
 * changed since: a state with either bit set is never followed by its own value with them clear, because every
 * change ends with a new sequence number. Tag and state share 16 bytes of a dense array, so a hit costs one
 * metadata access (1 MB of metadata for 65536 lines: it stays in L2/L3). With the predicted way, the slot metadata
 * and the line's bytes are both addressed from the virtual address alone, so the two loads overlap.</li>
 * <li><b>Stores</b> pin the slot (an atomic add to its guard word), check the tag and the write permission, mark
 * the line dirty, write, unpin. Eviction and flush set the guard's exclusive bit and wait for the pins to drain
 * before they read the bytes, so a store either lands before the write-back copies the line or sees the exclusive
 * bit and retries through the miss path: no store is lost and none lands in a reused slot.</li>
 * </ul>
 * A value that crosses a line boundary is accessed one byte at a time (each byte is safe; the value as a whole is
 * not atomic, as with a split access on hardware). Byte order is little-endian.
 *
 * <h2>Miss path: in the faulting thread, under the set lock</h2>
 * The set lock is held across the victim's write-back and the fetch, so concurrent misses on one line cause one
 * fetch, and a line being evicted is fetched again only after its write-back is done. Empty ways are used first,
 * then the {@link EvictionPolicy} picks a victim; clean victims are dropped, dirty ones written back (optionally
 * piggybacked on the fetch when {@link LineSource#targetOf} matches), or moved to the victim cache when there is
 * one. A failed fetch or write-back leaves the cache consistent and raises {@link ExCacheFault} in this thread.
 * <p>
 * Addresses: asid in [0, 65535], virtual addresses below 2^48.
 * <p>
 * Thread-safe. {@link #close()} only when no thread uses the cache any more.
 */
public final class ExCache implements AutoCloseable
{
    private static final long LONG_ARRAY_BASE = UnsafeApi.arrayBaseOffset(long[].class);
    private static final long BYTE_ARRAY_BASE = UnsafeApi.arrayBaseOffset(byte[].class);
    private static final int STAGING_LINES = 16;
    /** Type id of the cache's counters in a counters file. */
    public static final int COUNTERS_TYPE_ID = 1;
    /** A cache line just below the hot slot metadata, in the same allocation: it holds the sentinel slot. */
    private static final int BELOW_META_BYTES = 64;
    /** The sentinel slot (tag EMPTY_KEY, not readable) sits at the end of the line below the slot metadata. */
    private static final int SENTINEL_BELOW_META = 1 << SLOT_META_SHIFT;
    private static final int SPINS_BEFORE_YIELD = 128;
    private static final int STAGED_FREE = 0;
    /** A thread works on it: its write-back (alone or with a fetch) is in flight, or it is being filled or taken. */
    private static final int STAGED_OWNED = 1;
    /** Waiting to be written back by {@link #drainWriteBacks}, or taken back by a miss on its line. */
    private static final int STAGED_PENDING = 2;

    private final ExCacheContext ctx;
    private final LineSource source;
    private final int lineBytes;
    private final int lineShift;
    private final int lineMask;
    private final int ways;
    private final int waysShift;
    private final int setMask;
    private final int slotMask;
    private final long singleSegmentAddress;
    /** For {@link #load}: the slot mask, or 0 when it cannot take that path. */
    private final long loadSlotMask;
    /** For {@link #load}: the hash multiplier times the line size (see there). */
    private final long loadHashStep;
    /** For {@link #load}: the capacity minus one (the line memory is one segment), or 0 with the sentinel. */
    private final long loadCapacityMask;
    /** For {@link #load}: the slot metadata, or the never-matching sentinel when it cannot take that path. */
    private final long loadMetaAddress;
    private final int slotCount;
    private final int lookasideMask;
    private final boolean clock;
    /** FIFO: per slot, when its line was filled (from the set's fill counter); set lock held. */
    private final long[] fillStamps;
    private final boolean piggyback;

    private final UnsafeBuffer[] segments;
    private final long[] segmentAddresses;
    private final int segmentSlotShift;
    private final int segmentSlotMask;

    private final ByteBuffer slotMetaBuffer;
    private final long slotMetaAddress;
    private final ByteBuffer slotColdBuffer;
    private final long slotColdAddress;
    private final ByteBuffer lookasideBuffer;
    private final long lookasideAddress;
    private final ByteBuffer setMetaBuffer;
    private final long setMetaAddress;

    // Miss-path events, as Agrona counters (a monitor's counters file, or private); hits in the callers' ExCacheHits
    // handles, and those of calls without one in unheldHits.
    private final AtomicCounter misses;
    private final AtomicCounter pLocalFills;
    private final AtomicCounter evictions;
    private final AtomicCounter dirtyWriteBacks;
    private final AtomicCounter piggybackedWriteBacks;
    private final AtomicCounter victimCacheHits;
    private final Counters counters = new Counters();
    /** Hit handles in use ({@link #newHits}); guards itself and {@link #retiredHits}. */
    private final java.util.ArrayList<ExCacheHits> liveHits = new java.util.ArrayList<>();
    /** Hits of the handles closed so far. */
    private long retiredHits;
    /**
     * Hits of the stores and bulk copies made without a handle (every load takes one): an atomic add each, exact
     * with any number of threads.
     */
    private final java.util.concurrent.atomic.AtomicLong unheldHits = new java.util.concurrent.atomic.AtomicLong();

    /** Victim cache lines then staging lines (piggyback copies of dirty victims); null when neither is used. */
    private final UnsafeBuffer extraSegment;
    private final VictimCache victimCache;
    /** Per slot: the key being fetched into it (its line is in flight), or EMPTY_KEY. Written under the set lock. */
    private final long[] fetching;
    /** Per staging line: the dirty victim it holds, its prot and state; guarded by {@code stagedKeys}' monitor. */
    private final long[] stagedKeys = new long[STAGING_LINES];
    private final byte[] stagedProt = new byte[STAGING_LINES];
    private final int[] stagedState = new int[STAGING_LINES];
    private final SlotWriter writer;
    private final ExCacheFault.Handler faults;
    private volatile boolean closed;

    /**
     * @param ctx    configuration; concluded here if it was not.
     * @param source where misses are served and dirty lines go.
     */
    public ExCache(final ExCacheContext ctx, final LineSource source)
    {
        this(ctx, source, SlotWriter.INSTANCE);
    }

    /** For tests: with a slot writer that records the seqlock protocol. */
    ExCache(final ExCacheContext ctx, final LineSource source, final SlotWriter writer)
    {
        Objects.requireNonNull(ctx, "ctx");
        this.writer = Objects.requireNonNull(writer, "writer");
        Objects.requireNonNull(source, "source");
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new UnsupportedOperationException("ExCache needs a little-endian platform");
        }
        ctx.conclude();
        this.ctx = ctx;
        this.source = source;
        final CountersManager countersManager = ctx.countersManagerOrPrivate(6);
        misses = countersManager.newCounter("excache: misses", COUNTERS_TYPE_ID);
        pLocalFills = countersManager.newCounter("excache: p-local fills", COUNTERS_TYPE_ID);
        evictions = countersManager.newCounter("excache: evictions", COUNTERS_TYPE_ID);
        dirtyWriteBacks = countersManager.newCounter("excache: write-backs", COUNTERS_TYPE_ID);
        piggybackedWriteBacks = countersManager.newCounter("excache: piggybacked write-backs", COUNTERS_TYPE_ID);
        victimCacheHits = countersManager.newCounter("excache: victim cache hits", COUNTERS_TYPE_ID);
        this.faults = ctx.faultHandler();
        lineBytes = ctx.lineBytes();
        lineShift = Integer.numberOfTrailingZeros(lineBytes);
        lineMask = lineBytes - 1;
        ways = ctx.ways();
        waysShift = Integer.numberOfTrailingZeros(ways);
        slotCount = (int)(ctx.capacityBytes() >>> lineShift);
        setMask = (slotCount >>> waysShift) - 1;
        slotMask = slotCount - 1;
        lookasideMask = slotCount - 1;
        clock = ctx.policy() == EvictionPolicy.CLOCK;
        fillStamps = new long[slotCount];
        fetching = new long[slotCount];
        java.util.Arrays.fill(fetching, EMPTY_KEY);
        java.util.Arrays.fill(stagedKeys, EMPTY_KEY);
        piggyback = ctx.piggyback();

        final int segmentBytes = (int)Math.min(ctx.capacityBytes(), LineMemoryAllocator.MAX_SEGMENT_BYTES);
        final int segmentCount = (int)(ctx.capacityBytes() / segmentBytes);
        segmentSlotShift = Integer.numberOfTrailingZeros(segmentBytes) - lineShift;
        segmentSlotMask = (1 << segmentSlotShift) - 1;
        segments = new UnsafeBuffer[segmentCount];
        segmentAddresses = new long[segmentCount];
        for (int i = 0; i < segmentCount; i++)
        {
            segments[i] = allocateSegment(ctx.segmentAllocator(), segmentBytes);
            segmentAddresses[i] = segments[i].addressOffset();
        }
        singleSegmentAddress = segmentCount == 1 ? segmentAddresses[0] : 0;

        slotMetaBuffer = BufferUtil.allocateDirectAligned(BELOW_META_BYTES + (slotCount << SLOT_META_SHIFT), 64);
        slotMetaAddress = BufferUtil.address(slotMetaBuffer) + BELOW_META_BYTES;
        final boolean loadsInline = segmentCount == 1 && !clock;
        loadMetaAddress = loadsInline ? slotMetaAddress : slotMetaAddress - SENTINEL_BELOW_META;
        loadSlotMask = loadsInline ? slotMask : 0;
        loadHashStep = (long)HASH_MULTIPLIER << lineShift;
        loadCapacityMask = loadsInline ? ctx.capacityBytes() - 1 : 0;
        UnsafeApi.putLong(slotMetaAddress - SENTINEL_BELOW_META + SLOT_TAG_OFFSET, EMPTY_KEY);
        UnsafeApi.putLong(slotMetaAddress - SENTINEL_BELOW_META + SLOT_STATE_OFFSET, 0);
        slotColdBuffer = BufferUtil.allocateDirectAligned(slotCount << SLOT_COLD_SHIFT, 64);
        slotColdAddress = BufferUtil.address(slotColdBuffer);
        lookasideBuffer = BufferUtil.allocateDirectAligned(slotCount << ENTRY_SHIFT, 64);
        lookasideAddress = BufferUtil.address(lookasideBuffer);
        setMetaBuffer = BufferUtil.allocateDirectAligned((setMask + 1) << SET_META_SHIFT, 64);
        setMetaAddress = BufferUtil.address(setMetaBuffer);
        for (int slot = 0; slot < slotCount; slot++)
        {
            UnsafeApi.putLong(slotMeta(slot) + SLOT_TAG_OFFSET, EMPTY_KEY);
            UnsafeApi.putLong(lookasideAddress + ((long)slot << ENTRY_SHIFT) + ENTRY_KEY_OFFSET, EMPTY_KEY);
        }

        final int victimLines = ctx.victimCacheLines();
        // Staging lines hold dirty victims on their way to memory (not used with the victim cache).
        final int extraLines = victimLines > 0 ? victimLines : STAGING_LINES;
        extraSegment = extraLines == 0 ? null : allocateSegment(ctx.segmentAllocator(), extraLines * lineBytes);
        victimCache = victimLines == 0 ? null : new VictimCache(victimLines);
        UnsafeApi.fullFence();
    }

    /** @return line size in bytes. */
    public int lineBytes()
    {
        return lineBytes;
    }

    /** @return capacity in bytes (victim cache not included). */
    public long capacityBytes()
    {
        return ctx.capacityBytes();
    }

    /** @return associativity. */
    public int ways()
    {
        return ways;
    }

    /** @return the configuration. */
    public ExCacheContext context()
    {
        return ctx;
    }

    /**
     * @return a hit count for the calling thread to pass to the typed loads that take one: their hits then cost one
     * increment of its field instead of an atomic add. Close it when the thread is done; the cache's hit total
     * includes it.
     */
    public ExCacheHits newHits()
    {
        final ExCacheHits hits = new ExCacheHits(this);
        synchronized (liveHits)
        {
            liveHits.add(hits);
        }
        return hits;
    }

    /** {@link ExCacheHits#close()}: its hits move to the retired total, once. */
    void retire(final ExCacheHits hits)
    {
        synchronized (liveHits)
        {
            if (liveHits.remove(hits))
            {
                retiredHits += hits.count();
            }
        }
    }

    /** @return live counters, readable from any thread. */
    public ExCacheCounters counters()
    {
        return counters;
    }

    /**
     * @param asid address space the cursor reads and writes.
     * @return a new cursor: a faster accessor for one thread that keeps its current line between accesses.
     */
    public ExCacheCursor cursor(final int asid)
    {
        return new ExCacheCursor(this, asid);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Loads: the predicted way inline (load), anything else in readSlow (lookaside, scan, miss, split values)
    // ----------------------------------------------------------------------------------------------------------

    /** A load, its hit counted in {@code hits} (from {@link #newHits()}, held by this thread). */
    public byte getByte(final ExCacheHits hits, final int asid, final long vaddr)
    {
        return (byte)load(hits, asid, vaddr, Byte.BYTES);
    }

    /** A load, its hit counted in {@code hits} (from {@link #newHits()}, held by this thread). */
    public short getShort(final ExCacheHits hits, final int asid, final long vaddr)
    {
        return (short)load(hits, asid, vaddr, Short.BYTES);
    }

    /** A load, its hit counted in {@code hits} (from {@link #newHits()}, held by this thread). */
    public int getInt(final ExCacheHits hits, final int asid, final long vaddr)
    {
        return (int)load(hits, asid, vaddr, Integer.BYTES);
    }

    /** A load, its hit counted in {@code hits} (from {@link #newHits()}, held by this thread). */
    public long getLong(final ExCacheHits hits, final int asid, final long vaddr)
    {
        return load(hits, asid, vaddr, Long.BYTES);
    }

    /**
     * The hit path of every typed load, inlined into each with a constant width. A random hit waits on DRAM, and the
     * core overlaps only as many hits as its reorder window holds, so every instruction on this path costs a share
     * of a DRAM round trip (measured: about 1 ns each for random loads over 256 MB); it is written for the fewest.
     * <ul>
     * <li>One test for the range and the alignment: vaddr below 2^48 and aligned to the width. An aligned value
     * never crosses a line; unaligned values, and asids out of range, take readSlow. The asid test folds away for a
     * constant asid.</li>
     * <li>{@code hashed = vaddr + asid * HASH_MULTIPLIER * lineBytes}: above the line offset it holds the slot hash
     * {@code vline + asid * HASH_MULTIPLIER}, below it the offset, so {@code hashed >>> lineShift} masked is the
     * predicted slot and {@code hashed} masked with the capacity is the value's offset in the line memory
     * (slot * lineBytes + offset).</li>
     * <li>{@link #loadMetaAddress} is the slot metadata, or a sentinel slot that never matches when the cache cannot
     * take this path (CLOCK marks every hit; several segments need a table lookup to find a line): then
     * {@link #loadSlotMask} is 0 and every load goes to readSlow, which tries the predicted way first.</li>
     * <li>The key test compares {@code tag ^ vline} with {@code asid << 48}: a constant for a constant asid.</li>
     * <li>The value's address comes from the address alone: the core issues the load while the metadata load is
     * still in flight.</li>
     * <li>The seqlock read of the class comment: state (acquire), tag check, value, load fence, then one compare:
     * the state again against the first read with its busy and unreadable bits cleared.</li>
     * <li>The hit is counted in the caller's {@code hits} (one increment of a field, {@link #countHit}): every load
     * holds one, so no load has to find its thread's counter.</li>
     * </ul>
     */
    private long load(final ExCacheHits hits, final int asid, final long vaddr, final int width)
    {
        if ((vaddr & (~VIRTUAL_ADDRESS_MASK | (width - 1))) == 0 && (asid >>> ASID_BITS) == 0)
        {
            final int shift = lineShift;
            final long hashed = vaddr + asid * loadHashStep;
            final long meta = loadMetaAddress + (((hashed >>> shift) & loadSlotMask) << SLOT_META_SHIFT);
            final long state = UnsafeApi.getLongVolatile(null, meta + SLOT_STATE_OFFSET);
            if ((UnsafeApi.getLong(meta + SLOT_TAG_OFFSET) ^ (vaddr >>> shift)) == (long)asid << ASID_KEY_SHIFT)
            {
                final long address = singleSegmentAddress + (hashed & loadCapacityMask);
                final long value = width == Long.BYTES ? UnsafeApi.getLong(address) :
                    width == Integer.BYTES ? UnsafeApi.getInt(address) :
                    width == Short.BYTES ? UnsafeApi.getShort(address) : UnsafeApi.getByte(address);
                UnsafeApi.loadFence();
                if (UnsafeApi.getLong(meta + SLOT_STATE_OFFSET) == (state & ~(STATE_BUSY | STATE_UNREADABLE)))
                {
                    countHit(hits);
                    if (InjectedRegression.SLOW_HIT_ON)
                    {
                        InjectedRegression.slowHit();
                    }
                    return value;
                }
            }
        }
        return readSlow(hits, asid, vaddr, width);
    }

    public float getFloat(final ExCacheHits hits, final int asid, final long vaddr)
    {
        return Float.intBitsToFloat(getInt(hits, asid, vaddr));
    }

    public double getDouble(final ExCacheHits hits, final int asid, final long vaddr)
    {
        return Double.longBitsToDouble(getLong(hits, asid, vaddr));
    }

    // ----------------------------------------------------------------------------------------------------------
    // Stores: the predicted way inline, anything else in writeSlow
    // ----------------------------------------------------------------------------------------------------------

    public void putByte(final int asid, final long vaddr, final byte value)
    {
        putByte(null, asid, vaddr, value);
    }

    /** As {@link #putByte(int, long, byte)}: the hit counted in {@code hits} (this thread's). */
    public void putByte(final ExCacheHits hits, final int asid, final long vaddr, final byte value)
    {
        final int offset = (int)vaddr & lineMask;
        if (((vaddr >>> VIRTUAL_ADDRESS_BITS) | (asid >>> ASID_BITS)) == 0)
        {
            final int slot = predictedSlot(hash(asid, vaddr >>> lineShift));
            final long meta = slotMetaAddress + ((long)slot << SLOT_META_SHIFT);
            if (pinForStore(meta, key(asid, vaddr, lineShift)))
            {
                UnsafeApi.putByte(lineAddress(slot) + offset, value);
                unpin(meta);
                hit(hits, meta);
                return;
            }
        }
        writeSlow(hits, asid, vaddr, Byte.BYTES, value);
    }

    public void putShort(final int asid, final long vaddr, final short value)
    {
        putShort(null, asid, vaddr, value);
    }

    /** As {@link #putShort(int, long, short)}: the hit counted in {@code hits} (this thread's). */
    public void putShort(final ExCacheHits hits, final int asid, final long vaddr, final short value)
    {
        final int offset = (int)vaddr & lineMask;
        if (offset <= lineBytes - Short.BYTES && ((vaddr >>> VIRTUAL_ADDRESS_BITS) | (asid >>> ASID_BITS)) == 0)
        {
            final int slot = predictedSlot(hash(asid, vaddr >>> lineShift));
            final long meta = slotMetaAddress + ((long)slot << SLOT_META_SHIFT);
            if (pinForStore(meta, key(asid, vaddr, lineShift)))
            {
                UnsafeApi.putShort(lineAddress(slot) + offset, value);
                unpin(meta);
                hit(hits, meta);
                return;
            }
        }
        writeSlow(hits, asid, vaddr, Short.BYTES, value);
    }

    public void putInt(final int asid, final long vaddr, final int value)
    {
        putInt(null, asid, vaddr, value);
    }

    /** As {@link #putInt(int, long, int)}: the hit counted in {@code hits} (this thread's). */
    public void putInt(final ExCacheHits hits, final int asid, final long vaddr, final int value)
    {
        final int offset = (int)vaddr & lineMask;
        if (offset <= lineBytes - Integer.BYTES && ((vaddr >>> VIRTUAL_ADDRESS_BITS) | (asid >>> ASID_BITS)) == 0)
        {
            final int slot = predictedSlot(hash(asid, vaddr >>> lineShift));
            final long meta = slotMetaAddress + ((long)slot << SLOT_META_SHIFT);
            if (pinForStore(meta, key(asid, vaddr, lineShift)))
            {
                UnsafeApi.putInt(lineAddress(slot) + offset, value);
                unpin(meta);
                hit(hits, meta);
                return;
            }
        }
        writeSlow(hits, asid, vaddr, Integer.BYTES, value);
    }

    public void putLong(final int asid, final long vaddr, final long value)
    {
        putLong(null, asid, vaddr, value);
    }

    /** As {@link #putLong(int, long, long)}: the hit counted in {@code hits} (this thread's). */
    public void putLong(final ExCacheHits hits, final int asid, final long vaddr, final long value)
    {
        final int offset = (int)vaddr & lineMask;
        if (offset <= lineBytes - Long.BYTES && ((vaddr >>> VIRTUAL_ADDRESS_BITS) | (asid >>> ASID_BITS)) == 0)
        {
            final int slot = predictedSlot(hash(asid, vaddr >>> lineShift));
            final long meta = slotMetaAddress + ((long)slot << SLOT_META_SHIFT);
            if (pinForStore(meta, key(asid, vaddr, lineShift)))
            {
                UnsafeApi.putLong(lineAddress(slot) + offset, value);
                unpin(meta);
                hit(hits, meta);
                return;
            }
        }
        writeSlow(hits, asid, vaddr, Long.BYTES, value);
    }

    public void putFloat(final int asid, final long vaddr, final float value)
    {
        putInt(asid, vaddr, Float.floatToRawIntBits(value));
    }

    public void putFloat(final ExCacheHits hits, final int asid, final long vaddr, final float value)
    {
        putInt(hits, asid, vaddr, Float.floatToRawIntBits(value));
    }

    public void putDouble(final int asid, final long vaddr, final double value)
    {
        putLong(asid, vaddr, Double.doubleToRawLongBits(value));
    }

    public void putDouble(final ExCacheHits hits, final int asid, final long vaddr, final double value)
    {
        putLong(hits, asid, vaddr, Double.doubleToRawLongBits(value));
    }

    // ----------------------------------------------------------------------------------------------------------
    // Bulk
    // ----------------------------------------------------------------------------------------------------------

    /** Copies {@code length} bytes at {@code vaddr} into {@code dst}; may span many lines. */
    public void getBytes(
        final int asid, final long vaddr, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        getBytes(null, asid, vaddr, dst, dstOffset, length);
    }

    /** As {@link #getBytes(int, long, MutableDirectBuffer, int, int)}, hits counted in {@code hits} (this thread's). */
    public void getBytes(final ExCacheHits hits,
        final int asid, final long vaddr, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        dst.boundsCheck(dstOffset, length);
        copyOut(hits, asid, vaddr, dst.byteArray(), dst.addressOffset() + dstOffset, length);
    }

    /** Copies {@code length} bytes at {@code vaddr} into {@code dst}; may span many lines. */
    public void getBytes(final int asid, final long vaddr, final byte[] dst, final int dstOffset, final int length)
    {
        Objects.checkFromIndexSize(dstOffset, length, dst.length);
        copyOut(null, asid, vaddr, dst, BYTE_ARRAY_BASE + dstOffset, length);
    }

    /** Copies {@code length} bytes of {@code src} to {@code vaddr}; may span many lines. */
    public void putBytes(final int asid, final long vaddr, final DirectBuffer src, final int srcOffset, final int length)
    {
        putBytes(null, asid, vaddr, src, srcOffset, length);
    }

    /** As {@link #putBytes(int, long, DirectBuffer, int, int)}, hits counted in {@code hits} (this thread's). */
    public void putBytes(final ExCacheHits hits,
        final int asid, final long vaddr, final DirectBuffer src, final int srcOffset, final int length)
    {
        src.boundsCheck(srcOffset, length);
        copyIn(hits, asid, vaddr, src.byteArray(), src.addressOffset() + srcOffset, length);
    }

    /** Copies {@code length} bytes of {@code src} to {@code vaddr}; may span many lines. */
    public void putBytes(final int asid, final long vaddr, final byte[] src, final int srcOffset, final int length)
    {
        Objects.checkFromIndexSize(srcOffset, length, src.length);
        copyIn(null, asid, vaddr, src, BYTE_ARRAY_BASE + srcOffset, length);
    }

    private void copyOut(
        final ExCacheHits hits, final int asid, final long vaddr, final Object dst, final long dstAddress,
        final int length)
    {
        checkAddress(asid, vaddr, length, false);
        long va = vaddr;
        long to = dstAddress;
        int remaining = length;
        while (remaining > 0)
        {
            final int chunk = Math.min(remaining, lineBytes - ((int)va & lineMask));
            accessInLine(hits, asid, va, chunk, 0, dst, to, false);
            va += chunk;
            to += chunk;
            remaining -= chunk;
        }
    }

    private void copyIn(
        final ExCacheHits hits, final int asid, final long vaddr, final Object src, final long srcAddress,
        final int length)
    {
        checkAddress(asid, vaddr, length, true);
        long va = vaddr;
        long from = srcAddress;
        int remaining = length;
        while (remaining > 0)
        {
            final int chunk = Math.min(remaining, lineBytes - ((int)va & lineMask));
            accessInLine(hits, asid, va, chunk, 0, src, from, true);
            va += chunk;
            from += chunk;
            remaining -= chunk;
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Range operations
    // ----------------------------------------------------------------------------------------------------------

    /**
     * Writes back the dirty lines of a range and keeps them, clean.
     *
     * @return 0, or the first negative status from the line source (those lines stay dirty).
     */
    public int flush(final int asid, final long vaddr, final long lengthBytes)
    {
        return rangeOp(asid, vaddr, lengthBytes, RANGE_FLUSH);
    }

    /**
     * Drops the lines of a range without writing them back (munmap). A miss of the range in flight is waited for and
     * its line dropped too, so once this returns no thread reads the range's memory through the cache: the owner may
     * free it.
     */
    public void invalidate(final int asid, final long vaddr, final long lengthBytes)
    {
        rangeOp(asid, vaddr, lengthBytes, RANGE_INVALIDATE);
    }

    /**
     * Writes back the dirty lines of a range and drops them, line by line under its set lock, so a store to the range
     * either lands before its line is written back or misses afterwards (mremap moves the content after this).
     *
     * @return 0, or the first negative status from the line source (those lines are kept, dirty).
     */
    public int flushAndDrop(final int asid, final long vaddr, final long lengthBytes)
    {
        return rangeOp(asid, vaddr, lengthBytes, RANGE_FLUSH_AND_DROP);
    }

    /**
     * Process exit: writes back every dirty line of the address space and drops all its lines.
     *
     * @return 0, or the first negative status from the line source (the line is dropped anyway: its process is
     * gone).
     */
    public int flushAndDropAll(final int asid)
    {
        checkAsid(asid);
        return rangeOp(asid, 0, 1L << VIRTUAL_ADDRESS_BITS, RANGE_EXIT);
    }

    /** Releases the segments to the allocator. Only when no thread uses the cache any more. */
    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            for (final UnsafeBuffer segment : segments)
            {
                ctx.segmentAllocator().free(segment);
            }
            if (extraSegment != null)
            {
                ctx.segmentAllocator().free(extraSegment);
            }
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Package-private: for the cursor and tests
    // ----------------------------------------------------------------------------------------------------------

    int lineShift()
    {
        return lineShift;
    }

    int lineMask()
    {
        return lineMask;
    }

    /**
     * For the cursor: the slot metadata (hot) address of a cached line, or 0. The caller validates it with the
     * slot's state and tag, as every hit does.
     */
    long metaOf(final int asid, final long vaddr)
    {
        final int hash = hash(asid, vaddr >>> lineShift);
        final int slot = findSlot(hash, setOf(hash), key(asid, vaddr, lineShift));
        return slot < 0 ? 0 : slotMeta(slot);
    }

    /** For the cursor: counts a hit on entering a line's window (and marks it referenced for CLOCK). */
    void cursorHit(final ExCacheHits hits, final long meta)
    {
        hit(hits, meta);
    }

    /** For the cursor: the address of the line's bytes in the slot whose metadata is at {@code meta}. */
    long lineAddressOfMeta(final long meta)
    {
        return lineAddress((int)((meta - slotMetaAddress) >>> SLOT_META_SHIFT));
    }

    /** @return true if the line is in a set of the cache (not counting the victim cache). */
    boolean isCached(final int asid, final long vaddr)
    {
        final long vline = vaddr >>> lineShift;
        return scanSet(setOf(hash(asid, vline)), key(asid, vaddr, lineShift)) >= 0;
    }

    /** @return true if the line is in the victim cache. */
    boolean isInVictimCache(final int asid, final long vaddr)
    {
        if (victimCache == null)
        {
            return false;
        }
        lock(victimCache.lockAddress);
        try
        {
            return victimCache.find(key(asid, vaddr, lineShift)) >= 0;
        }
        finally
        {
            unlock(victimCache.lockAddress);
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Slow paths
    // ----------------------------------------------------------------------------------------------------------

    /**
     * Counts a hit in {@code hits} (null: the caller holds none) and, for CLOCK, marks the slot referenced only if it
     * is not already, so hits leave slot metadata read-only and threads do not contend on it.
     */
    private void hit(final ExCacheHits hits, final long meta)
    {
        if (clock)
        {
            reference(meta);
        }
        countHit(hits);
    }

    /** CLOCK: marks the slot referenced (a plain byte store, only when the bit is clear). */
    private void reference(final long meta)
    {
        if (UnsafeApi.getByte(cold(meta) + SLOT_REFERENCED_OFFSET) == 0)
        {
            UnsafeApi.putByte(cold(meta) + SLOT_REFERENCED_OFFSET, (byte)1);
        }
    }

    /**
     * Adds one to {@code hits}, held by the calling thread (a plain increment of its field), or when the caller holds
     * none to {@link #unheldHits} (an atomic add). Exact either way. Nothing with counting off ({@link Counting#ON}).
     */
    private void countHit(final ExCacheHits hits)
    {
        if (!Counting.ON)
        {
            return; // counting switched off: the JIT drops the rest
        }
        if (hits != null)
        {
            hits.count++;
        }
        else
        {
            unheldHits.getAndIncrement();
        }
    }

    /** The way a line takes when it is free: the hash's low bits; slots are numbered set * ways + way. */
    private int predictedSlot(final int hash)
    {
        return hash & slotMask;
    }

    private int setOf(final int hash)
    {
        return (hash >>> waysShift) & setMask;
    }

    private long readSlow(final ExCacheHits hits, final int asid, final long vaddr, final int width)
    {
        if (loadSlotMask == 0 && ((vaddr >>> VIRTUAL_ADDRESS_BITS) | (asid >>> ASID_BITS)) == 0 &&
            ((int)vaddr & lineMask) <= lineBytes - width)
        {
            // CLOCK or several segments: the predicted way, read as in load, the line found through lineAddress and
            // the hit marked referenced.
            final long vline = vaddr >>> lineShift;
            final int slot = predictedSlot(hash(asid, vline));
            final long meta = slotMeta(slot);
            final long state = UnsafeApi.getLongVolatile(null, meta + SLOT_STATE_OFFSET);
            if ((UnsafeApi.getLong(meta + SLOT_TAG_OFFSET) ^ vline) == (long)asid << ASID_KEY_SHIFT)
            {
                final long value = getWidth(lineAddress(slot) + ((int)vaddr & lineMask), width);
                UnsafeApi.loadFence();
                if (UnsafeApi.getLong(meta + SLOT_STATE_OFFSET) == (state & ~(STATE_BUSY | STATE_UNREADABLE)))
                {
                    hit(hits, meta);
                    return value;
                }
            }
        }
        checkAddress(asid, vaddr, width, false);
        if (((int)vaddr & lineMask) + width > lineBytes)
        {
            long bits = 0;
            for (int i = 0; i < width; i++)
            {
                bits |= (accessInLine(hits, asid, vaddr + i, 1, 0, null, 0, false) & 0xFFL) << (i << 3);
            }
            return bits;
        }
        return accessInLine(hits, asid, vaddr, width, 0, null, 0, false);
    }

    private void writeSlow(
        final ExCacheHits hits, final int asid, final long vaddr, final int width, final long bits)
    {
        checkAddress(asid, vaddr, width, true);
        if (((int)vaddr & lineMask) + width > lineBytes)
        {
            for (int i = 0; i < width; i++)
            {
                accessInLine(hits, asid, vaddr + i, 1, bits >>> (i << 3), null, 0, true);
            }
            return;
        }
        accessInLine(hits, asid, vaddr, width, bits, null, 0, true);
    }

    /**
     * One access within one line, through the set (not the lookaside), missing as needed. A width of 1, 2, 4 or 8
     * with {@code buffer == null && address == 0} moves a value; otherwise it copies {@code width} bytes between the
     * line and {@code buffer}/{@code address} (a byte[] and offset, or null and an off-heap address).
     *
     * @return the value loaded, or 0.
     */
    private long accessInLine(
        final ExCacheHits hits,
        final int asid,
        final long vaddr,
        final int width,
        final long bits,
        final Object buffer,
        final long address,
        final boolean write)
    {
        final long vline = vaddr >>> lineShift;
        final long key = key(asid, vaddr, lineShift);
        final int hash = hash(asid, vline);
        final int set = setOf(hash);
        final int offset = (int)vaddr & lineMask;
        final boolean copy = buffer != null || address != 0;
        boolean missed = false;
        while (true)
        {
            final int slot = findSlot(hash, set, key);
            if (slot >= 0)
            {
                final long meta = slotMeta(slot);
                if (write)
                {
                    final int guard = UnsafeApi.getAndAddInt(null, cold(meta) + SLOT_GUARD_OFFSET, GUARD_PIN);
                    if ((guard & GUARD_EXCLUSIVE) == 0 && UnsafeApi.getLong(meta + SLOT_TAG_OFFSET) == key)
                    {
                        if ((UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET) & LineSource.PROT_WRITE) == 0)
                        {
                            unpin(meta);
                            throw fault(asid, vaddr, ExCacheFault.PROTECTION, true);
                        }
                        if (UnsafeApi.getByte(cold(meta) + SLOT_DIRTY_OFFSET) == 0)
                        {
                            UnsafeApi.putByte(cold(meta) + SLOT_DIRTY_OFFSET, (byte)1);
                        }
                        final long lineAddress = lineAddress(slot) + offset;
                        if (copy)
                        {
                            UnsafeApi.copyMemory(buffer, address, null, lineAddress, width);
                        }
                        else
                        {
                            putWidth(lineAddress, width, bits);
                        }
                        unpin(meta);
                        touched(hits, meta, missed);
                        tryInstall(hash, set, key, slot);
                        return 0;
                    }
                    unpin(meta);
                    if ((guard & GUARD_EXCLUSIVE) != 0)
                    {
                        miss(asid, vaddr, key, hash, true); // waits for the eviction or flush to finish
                        missed = true;
                    }
                    continue;
                }

                final long version = UnsafeApi.getLongVolatile(null, meta + SLOT_STATE_OFFSET);
                if ((version & 1) == 0 && UnsafeApi.getLong(meta + SLOT_TAG_OFFSET) == key)
                {
                    final boolean readable =
                        (UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET) & LineSource.PROT_READ) != 0;
                    final long lineAddress = lineAddress(slot) + offset;
                    long value = 0;
                    if (readable)
                    {
                        if (copy)
                        {
                            UnsafeApi.copyMemory(null, lineAddress, buffer, address, width);
                        }
                        else
                        {
                            value = getWidth(lineAddress, width);
                        }
                    }
                    UnsafeApi.loadFence();
                    if (UnsafeApi.getLongVolatile(null, meta + SLOT_STATE_OFFSET) == version)
                    {
                        if (!readable)
                        {
                            throw fault(asid, vaddr, ExCacheFault.PROTECTION, false);
                        }
                        touched(hits, meta, missed);
                        tryInstall(hash, set, key, slot);
                        return value;
                    }
                }
                if ((version & 1) != 0)
                {
                    miss(asid, vaddr, key, hash, false); // waits for the eviction to finish
                    missed = true;
                }
                Thread.onSpinWait();
                continue;
            }
            miss(asid, vaddr, key, hash, write);
            missed = true;
        }
    }

    private void touched(final ExCacheHits hits, final long meta, final boolean missed)
    {
        if (missed)
        {
            UnsafeApi.putByte(cold(meta) + SLOT_REFERENCED_OFFSET, (byte)1);
        }
        else
        {
            hit(hits, meta);
        }
    }

    private static long getWidth(final long address, final int width)
    {
        switch (width)
        {
            case 1:
                return UnsafeApi.getByte(address);
            case 2:
                return UnsafeApi.getShort(address);
            case 4:
                return UnsafeApi.getInt(address);
            default:
                return UnsafeApi.getLong(address);
        }
    }

    private static void putWidth(final long address, final int width, final long bits)
    {
        switch (width)
        {
            case 1:
                UnsafeApi.putByte(address, (byte)bits);
                break;
            case 2:
                UnsafeApi.putShort(address, (short)bits);
                break;
            case 4:
                UnsafeApi.putInt(address, (int)bits);
                break;
            default:
                UnsafeApi.putLong(address, bits);
                break;
        }
    }

    /** Lock-free: the predicted way, the lookaside hint, then a scan; the caller validates with tag and state. */
    private int findSlot(final int hash, final int set, final long key)
    {
        final int predicted = predictedSlot(hash);
        if (UnsafeApi.getLong(slotMeta(predicted) + SLOT_TAG_OFFSET) == key)
        {
            return predicted;
        }
        final long entry = lookasideAddress + ((long)(hash & lookasideMask) << ENTRY_SHIFT);
        if (UnsafeApi.getLong(entry + ENTRY_KEY_OFFSET) == key)
        {
            final int slot = UnsafeApi.getInt(entry + ENTRY_SLOT_OFFSET);
            if ((slot >>> waysShift) == set && UnsafeApi.getLong(slotMeta(slot) + SLOT_TAG_OFFSET) == key)
            {
                return slot; // a stale hint must not be returned, or a retry loop would spin on it
            }
        }
        return scanSet(set, key);
    }

    private int scanSet(final int set, final long key)
    {
        final int base = set << waysShift;
        for (int way = 0; way < ways; way++)
        {
            if (UnsafeApi.getLong(slotMeta(base + way) + SLOT_TAG_OFFSET) == key)
            {
                return base + way;
            }
        }
        return -1;
    }

    /** Records where a line not in its predicted way is: a hint, validated by every reader. */
    private void tryInstall(final int hash, final int set, final long key, final int slot)
    {
        if (slot != predictedSlot(hash))
        {
            installEntry(hash, key, slot);
        }
    }

    private boolean pinForStore(final long meta, final long key)
    {
        final int guard = UnsafeApi.getAndAddInt(null, cold(meta) + SLOT_GUARD_OFFSET, GUARD_PIN);
        if ((guard & GUARD_EXCLUSIVE) == 0 && UnsafeApi.getLong(meta + SLOT_TAG_OFFSET) == key &&
            (UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET) & LineSource.PROT_WRITE) != 0)
        {
            if (UnsafeApi.getByte(cold(meta) + SLOT_DIRTY_OFFSET) == 0)
            {
                UnsafeApi.putByte(cold(meta) + SLOT_DIRTY_OFFSET, (byte)1);
            }
            return true;
        }
        unpin(meta);
        return false;
    }

    private void unpin(final long meta)
    {
        UnsafeApi.getAndAddInt(null, cold(meta) + SLOT_GUARD_OFFSET, -GUARD_PIN);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Miss path: the set lock only to decide and to install; the network without it
    // ----------------------------------------------------------------------------------------------------------

    /**
     * Bring the line in. Under the set lock the miss chooses a slot, moves a dirty victim to a staging line (as
     * LegoOS's in-flight eviction list), and reserves the slot for the line: its tag is the new key, its state busy,
     * and {@link #fetching} names the key, so a miss on the same line waits for this one (one fetch per line), while
     * misses on other lines of the set proceed in other slots. The fetch (with the victim piggybacked when both go to
     * the same target) runs without the lock; a victim that does not ride along is written back off the critical path
     * ({@link #drainWriteBacks}), and a miss on it meanwhile takes it back from its staging line, so a write-back is
     * never reordered against a later fetch of the same line.
     */
    private void miss(final int asid, final long vaddr, final long key, final int hash, final boolean write)
    {
        if (closed)
        {
            throw new IllegalStateException("ExCache is closed");
        }
        if (InjectedRegression.ALLOC_PER_MISS_ON)
        {
            InjectedRegression.allocate();
        }
        final int set = setOf(hash);
        final long setMeta = setMeta(set);
        if (victimCache != null)
        {
            missThroughVictimCache(asid, vaddr, key, hash, set, setMeta, write);
            return;
        }
        final long vline = lineOf(key, lineShift);
        while (true)
        {
            lock(setMeta);
            final int present = scanSet(set, key);
            if (present >= 0)
            {
                final boolean inFlight = fetchingKey(present) == key;
                unlock(setMeta);
                if (!inFlight)
                {
                    tryInstall(hash, set, key, present);
                    return;
                }
                awaitFetch(present, key);
                continue;
            }
            final int staged = stagedIndexOf(key);
            if (staged >= 0 && !tryOwnStaged(staged, key))
            {
                // Its write-back (or the fetch it rides on) is in flight: wait for that line only.
                unlock(setMeta);
                awaitStaged(staged, key);
                continue;
            }
            final int slot = chooseSlot(hash, set, setMeta);
            final long meta = slot < 0 ? 0 : slotMeta(slot);
            final long oldKey = slot < 0 ? EMPTY_KEY : UnsafeApi.getLong(meta + SLOT_TAG_OFFSET);
            if (slot >= 0)
            {
                // Exclusive before the dirty bit is read: a store pinned meanwhile has landed (and marked it) by then.
                beginExclusive(meta, true);
            }
            final boolean dirtyVictim = oldKey != EMPTY_KEY && UnsafeApi.getByte(cold(meta) + SLOT_DIRTY_OFFSET) != 0;
            final int victimStaging = dirtyVictim ? acquireStaging(oldKey) : -1;
            if (slot < 0 || (dirtyVictim && victimStaging < 0))
            {
                // Every way is in flight, or every staging line holds a victim: give back what we took, make room.
                if (slot >= 0)
                {
                    endExclusive(meta, true);
                }
                if (staged >= 0)
                {
                    releaseStaged(staged, true);
                }
                unlock(setMeta);
                final long[] failure = {0, EMPTY_KEY};
                if (drainWriteBacks(EMPTY_KEY, EMPTY_KEY, failure) == 0)
                {
                    if (failure[0] < 0)
                    {
                        // A victim's write-back failed (its owner is gone): its process faults now, rather than
                        // every miss waiting forever for staging lines that cannot drain.
                        final int failedAsid = asidOf(failure[1], lineShift);
                        final RuntimeException fault = fault(failedAsid, lineOf(failure[1], lineShift) << lineShift,
                            (int)failure[0], true);
                        if (failedAsid == asid)
                        {
                            throw fault;
                        }
                    }
                    Thread.yield();
                }
                continue;
            }

            if (dirtyVictim)
            {
                UnsafeApi.copyMemory(lineAddress(slot), stagingAddress(victimStaging), lineBytes);
                stagedProt[victimStaging] = UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET);
            }
            if (oldKey != EMPTY_KEY)
            {
                dropLine(meta, setMeta);
                evictions.increment();
            }
            UnsafeApi.putLong(meta + SLOT_TAG_OFFSET, key);
            setFetching(slot, key);
            final int zeroFillProt = staged >= 0 ? -1 : source.zeroFill(asid, vline);
            final boolean ride = dirtyVictim && piggyback && staged < 0 && zeroFillProt < 0 &&
                source.targetOf(asidOf(oldKey, lineShift), lineOf(oldKey, lineShift)) == source.targetOf(asid, vline);
            if (dirtyVictim && !ride)
            {
                releaseStaged(victimStaging, true);
            }
            unlock(setMeta);

            int prot;
            boolean dirty = false;
            try
            {
                final UnsafeBuffer segment = segments[slot >>> segmentSlotShift];
                final int segmentOffset = (slot & segmentSlotMask) << lineShift;
                if (staged >= 0)
                {
                    // Back from its staging line, still dirty: no network at all.
                    UnsafeApi.copyMemory(stagingAddress(staged), lineAddress(slot), lineBytes);
                    prot = stagedProt[staged];
                    dirty = true;
                    releaseStaged(staged, false);
                }
                else if (zeroFillProt >= 0)
                {
                    UnsafeApi.setMemory(lineAddress(slot), lineBytes, (byte)0);
                    pLocalFills.increment();
                    prot = zeroFillProt;
                }
                else if (ride)
                {
                    prot = source.fetchWithWriteBack(asid, vline, segment, segmentOffset, asidOf(oldKey, lineShift),
                        lineOf(oldKey, lineShift), extraSegment, (int)stagingOffset(victimStaging));
                    if (prot >= 0)
                    {
                        dirtyWriteBacks.increment();
                        piggybackedWriteBacks.increment();
                    }
                    // Written back with the fetch, or (failed) left for drainWriteBacks: nothing is lost.
                    releaseStaged(victimStaging, prot < 0);
                }
                else
                {
                    prot = source.fetch(asid, vline, segment, segmentOffset);
                }
            }
            catch (final RuntimeException | Error ex)
            {
                finishFill(slot, meta, setMeta, key, hash, set, -1, false);
                throw ex;
            }
            finishFill(slot, meta, setMeta, key, hash, set, prot, dirty);
            if (prot < 0)
            {
                throw fault(asid, vaddr, prot, write);
            }
            return;
        }
    }

    /** Install the fetched line (or, on failure, leave the slot empty) and end its flight. */
    private void finishFill(final int slot, final long meta, final long setMeta, final long key, final int hash,
        final int set, final int prot, final boolean dirty)
    {
        lock(setMeta);
        try
        {
            if (prot >= 0)
            {
                misses.increment();
                installLine(meta, key, prot, dirty);
                incrementValid(setMeta, 1);
                tryInstall(hash, set, key, slot);
            }
            else
            {
                UnsafeApi.putLong(meta + SLOT_TAG_OFFSET, EMPTY_KEY);
            }
            setFetching(slot, EMPTY_KEY);
            endExclusive(meta, true);
        }
        finally
        {
            unlock(setMeta);
        }
    }

    /** The key being fetched into the slot, or EMPTY_KEY. */
    private long fetchingKey(final int slot)
    {
        return UnsafeApi.getLongVolatile(fetching, LONG_ARRAY_BASE + ((long)slot << 3));
    }

    private void setFetching(final int slot, final long key)
    {
        UnsafeApi.putLongVolatile(fetching, LONG_ARRAY_BASE + ((long)slot << 3), key);
    }

    /** Wait (without the set lock) until the slot's fetch of {@code key} ends: bounded by that fetch's own timeout. */
    private void awaitFetch(final int slot, final long key)
    {
        if (fetchingKey(slot) != key)
        {
            return;
        }
        final long wait = CacheWaits.begin();
        for (int i = 0; fetchingKey(slot) == key; i++)
        {
            backOff(i);
        }
        CacheWaits.end(wait);
    }

    private static void backOff(final int i)
    {
        if (i < SPINS_BEFORE_YIELD)
        {
            Thread.onSpinWait();
        }
        else if (i < SPINS_BEFORE_YIELD * 2)
        {
            Thread.yield();
        }
        else
        {
            LockSupport.parkNanos(10_000);
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Staging lines: dirty victims on their way to memory (piggybacked on a fetch, or written back on their own)
    // ----------------------------------------------------------------------------------------------------------

    private long stagingOffset(final int index)
    {
        return (long)(ctx.victimCacheLines() + index) << lineShift;
    }

    private long stagingAddress(final int index)
    {
        return extraSegment.addressOffset() + stagingOffset(index);
    }

    /** A free staging line, owned by the caller, for the victim {@code key}; -1 if none is free. Set lock held. */
    private int acquireStaging(final long key)
    {
        synchronized (stagedKeys)
        {
            for (int i = 0; i < STAGING_LINES; i++)
            {
                if (stagedState[i] == STAGED_FREE)
                {
                    stagedState[i] = STAGED_OWNED;
                    stagedKeys[i] = key;
                    return i;
                }
            }
            return -1;
        }
    }

    /** Give up ownership: the line is pending write-back ({@code pending}) or free. */
    private void releaseStaged(final int index, final boolean pending)
    {
        synchronized (stagedKeys)
        {
            stagedState[index] = pending ? STAGED_PENDING : STAGED_FREE;
            if (!pending)
            {
                stagedKeys[index] = EMPTY_KEY;
            }
            stagedKeys.notifyAll();
        }
    }

    private int stagedIndexOf(final long key)
    {
        synchronized (stagedKeys)
        {
            for (int i = 0; i < STAGING_LINES; i++)
            {
                if (stagedKeys[i] == key && stagedState[i] != STAGED_FREE)
                {
                    return i;
                }
            }
            return -1;
        }
    }

    /** Own a pending staged line of {@code key}; false if someone else owns it (its write-back is in flight). */
    private boolean tryOwnStaged(final int index, final long key)
    {
        synchronized (stagedKeys)
        {
            if (stagedKeys[index] == key && stagedState[index] == STAGED_PENDING)
            {
                stagedState[index] = STAGED_OWNED;
                return true;
            }
            return false;
        }
    }

    /** Wait until the staged line of {@code key} is no longer owned by another thread (its write-back ended). */
    private void awaitStaged(final int index, final long key)
    {
        synchronized (stagedKeys)
        {
            while (stagedKeys[index] == key && stagedState[index] == STAGED_OWNED)
            {
                try
                {
                    // Woken by releaseStaged; the timeout is a safety net, not the signal.
                    stagedKeys.wait(1);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Write back the dirty victims waiting in staging lines: what the processor monitor's background agent calls,
     * and what a miss does itself when every staging line is taken.
     *
     * @return how many were written back.
     */
    public int drainWriteBacks()
    {
        return drainWriteBacks(EMPTY_KEY, EMPTY_KEY, null);
    }

    /**
     * Write back the pending staged lines with keys in [firstKey, lastKey] (all when firstKey is EMPTY_KEY); a line
     * whose write-back fails stays pending, and {@code failure} (if not null) gets its status and key.
     */
    private int drainWriteBacks(final long firstKey, final long lastKey, final long[] failure)
    {
        if (extraSegment == null)
        {
            return 0;
        }
        int done = 0;
        for (int i = 0; i < STAGING_LINES; i++)
        {
            final long key;
            synchronized (stagedKeys)
            {
                key = stagedKeys[i];
                if (stagedState[i] != STAGED_PENDING ||
                    (firstKey != EMPTY_KEY && (key < firstKey || key > lastKey)))
                {
                    continue;
                }
                stagedState[i] = STAGED_OWNED;
            }
            final int status = source.writeBack(asidOf(key, lineShift), lineOf(key, lineShift), extraSegment,
                (int)stagingOffset(i));
            if (status >= 0)
            {
                dirtyWriteBacks.increment();
                done++;
            }
            else if (failure != null)
            {
                failure[0] = status;
                failure[1] = key;
            }
            releaseStaged(i, status < 0);
        }
        return done;
    }

    /** Pending staged lines with keys in [firstKey, lastKey]: write them back (flush) or drop them (invalidate). */
    private int settleStaged(final long firstKey, final long lastKey, final int op)
    {
        if (extraSegment == null)
        {
            return 0;
        }
        int status = 0;
        for (int i = 0; i < STAGING_LINES; i++)
        {
            while (true)
            {
                final long key;
                synchronized (stagedKeys)
                {
                    key = stagedKeys[i];
                    if (stagedState[i] == STAGED_FREE || key < firstKey || key > lastKey)
                    {
                        break;
                    }
                    if (stagedState[i] == STAGED_PENDING && op == RANGE_INVALIDATE)
                    {
                        stagedState[i] = STAGED_FREE;
                        stagedKeys[i] = EMPTY_KEY;
                        break;
                    }
                }
                if (op != RANGE_INVALIDATE && tryOwnStaged(i, key))
                {
                    final int result = source.writeBack(asidOf(key, lineShift), lineOf(key, lineShift),
                        extraSegment, (int)stagingOffset(i));
                    if (result >= 0)
                    {
                        dirtyWriteBacks.increment();
                    }
                    releaseStaged(i, result < 0);
                    status = firstError(status, result);
                    break;
                }
                awaitStaged(i, key);
            }
        }
        return status;
    }

    /** With the optional victim cache: the whole miss under the set lock (the victim cache's own rules). */
    private void missThroughVictimCache(final int asid, final long vaddr, final long key, final int hash,
        final int set, final long setMeta, final boolean write)
    {
        lock(setMeta);
        int status;
        try
        {
            final int present = scanSet(set, key);
            if (present >= 0)
            {
                tryInstall(hash, set, key, present);
                return;
            }
            status = fillUnderLock(asid, key, hash, set, setMeta);
        }
        finally
        {
            unlock(setMeta);
        }
        if (status < 0)
        {
            throw fault(asid, vaddr, status, write);
        }
    }

    /** @return 0 or the negative status of the failed fetch or write-back. Set lock held; victim cache in use. */
    private int fillUnderLock(final int asid, final long key, final int hash, final int set, final long setMeta)
    {
        final long vline = lineOf(key, lineShift);
        final int slot = chooseSlot(hash, set, setMeta);
        final long meta = slotMeta(slot);
        final long oldKey = UnsafeApi.getLong(meta + SLOT_TAG_OFFSET);
        final UnsafeBuffer segment = segments[slot >>> segmentSlotShift];
        final int segmentOffset = (slot & segmentSlotMask) << lineShift;
        beginExclusive(meta, true);
        try
        {
            final int status = fillThroughVictimCache(key, hash, oldKey, meta, slot, set, setMeta);
            if (status <= 0)
            {
                return status;
            }
            // The slot is free now: a failed fetch leaves it free.
            int prot = source.zeroFill(asid, vline);
            if (prot >= 0)
            {
                UnsafeApi.setMemory(lineAddress(slot), lineBytes, (byte)0);
                pLocalFills.increment();
            }
            else
            {
                prot = source.fetch(asid, vline, segment, segmentOffset);
                if (prot < 0)
                {
                    return prot;
                }
            }
            misses.increment();
            installLine(meta, key, prot, false);
            incrementValid(setMeta, 1);
            tryInstall(hash, set, key, slot);
            return 0;
        }
        finally
        {
            endExclusive(meta, true);
        }
    }

    /**
     * Victim-cache variant of the fill: a victim-cache hit swaps the lines; otherwise the set's victim moves to the
     * victim cache (whose own oldest line is written back if dirty).
     *
     * @return 0 when done, a negative status, or 1 when the slot is free and the line must still be fetched.
     */
    private int fillThroughVictimCache(
        final long key,
        final int hash,
        final long oldKey,
        final long meta,
        final int slot,
        final int set,
        final long setMeta)
    {
        final VictimCache vc = victimCache;
        lock(vc.lockAddress);
        try
        {
            final int index = vc.find(key);
            if (index >= 0)
            {
                final long victimAddress = vc.lineAddress(index);
                final byte prot = vc.prot[index];
                final byte dirty = vc.dirty[index];
                if (oldKey != EMPTY_KEY)
                {
                    swapLines(lineAddress(slot), victimAddress);
                    vc.keys[index] = oldKey;
                    vc.prot[index] = UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET);
                    vc.dirty[index] = UnsafeApi.getByte(cold(meta) + SLOT_DIRTY_OFFSET);
                    evictions.increment();
                }
                else
                {
                    UnsafeApi.copyMemory(victimAddress, lineAddress(slot), lineBytes);
                    vc.keys[index] = EMPTY_KEY;
                    incrementValid(setMeta, 1);
                }
                installLine(meta, key, prot, dirty != 0);
                victimCacheHits.increment();
                misses.increment();
                tryInstall(hash, set, key, slot);
                return 0;
            }

            if (oldKey != EMPTY_KEY)
            {
                final int target = vc.chooseEntry();
                final long targetKey = vc.keys[target];
                if (targetKey != EMPTY_KEY && vc.dirty[target] != 0)
                {
                    final int status = source.writeBack(
                        asidOf(targetKey, lineShift), lineOf(targetKey, lineShift), extraSegment, target << lineShift);
                    if (status < 0)
                    {
                        return status;
                    }
                    dirtyWriteBacks.increment();
                }
                vc.advance(target);
                UnsafeApi.copyMemory(lineAddress(slot), vc.lineAddress(target), lineBytes);
                vc.keys[target] = oldKey;
                vc.prot[target] = UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET);
                vc.dirty[target] = UnsafeApi.getByte(cold(meta) + SLOT_DIRTY_OFFSET);
                dropLine(meta, setMeta);
                evictions.increment();
            }
            return 1;
        }
        finally
        {
            unlock(vc.lockAddress);
        }
    }

    private void installLine(final long meta, final long key, final int prot, final boolean dirty)
    {
        final int slot = (int)((meta - slotMetaAddress) >>> SLOT_META_SHIFT);
        final long setMeta = setMeta(slot >>> waysShift);
        final long stamp = UnsafeApi.getLong(setMeta + SET_FILLS_OFFSET) + 1;
        UnsafeApi.putLong(setMeta + SET_FILLS_OFFSET, stamp);
        fillStamps[slot] = stamp;
        UnsafeApi.putByte(cold(meta) + SLOT_PROT_OFFSET, (byte)prot);
        UnsafeApi.putByte(cold(meta) + SLOT_DIRTY_OFFSET, (byte)(dirty ? 1 : 0));
        UnsafeApi.putByte(cold(meta) + SLOT_REFERENCED_OFFSET, (byte)0);
        UnsafeApi.putLong(meta + SLOT_TAG_OFFSET, key);
    }

    private void dropLine(final long meta, final long setMeta)
    {
        UnsafeApi.putLong(meta + SLOT_TAG_OFFSET, EMPTY_KEY);
        UnsafeApi.putByte(cold(meta) + SLOT_DIRTY_OFFSET, (byte)0);
        incrementValid(setMeta, -1);
    }

    private static void incrementValid(final long setMeta, final int delta)
    {
        UnsafeApi.putLong(setMeta + SET_VALID_OFFSET, UnsafeApi.getLong(setMeta + SET_VALID_OFFSET) + delta);
    }

    /**
     * Picks the slot to fill: the predicted way if empty, another empty way, else the policy's victim; never a slot
     * whose line is in flight. Set lock held.
     *
     * @return the slot, or -1 when every way of the set is in flight.
     */
    private int chooseSlot(final int hash, final int set, final long setMeta)
    {
        final int base = set << waysShift;
        if (UnsafeApi.getLong(setMeta + SET_VALID_OFFSET) < ways)
        {
            final int predicted = predictedSlot(hash);
            if (UnsafeApi.getLong(slotMeta(predicted) + SLOT_TAG_OFFSET) == EMPTY_KEY)
            {
                return predicted;
            }
            for (int way = 0; way < ways; way++)
            {
                if (UnsafeApi.getLong(slotMeta(base + way) + SLOT_TAG_OFFSET) == EMPTY_KEY)
                {
                    return base + way;
                }
            }
        }
        if (!clock)
        {
            // FIFO by fill order, not by way: lines go to their predicted way when it is free, out of way order.
            int victim = -1;
            long oldest = Long.MAX_VALUE;
            for (int way = 0; way < ways; way++)
            {
                final long stamp = fillStamps[base + way];
                if (stamp < oldest && fetching[base + way] == EMPTY_KEY)
                {
                    oldest = stamp;
                    victim = base + way;
                }
            }
            return victim;
        }
        int hand = (int)UnsafeApi.getLong(setMeta + SET_HAND_OFFSET);
        for (int i = 0; i < 3 * ways; i++)
        {
            final int slot = base + hand;
            hand = (hand + 1) & (ways - 1);
            if (fetching[slot] != EMPTY_KEY)
            {
                continue;
            }
            final long meta = slotMeta(slot);
            if (i >= 2 * ways || UnsafeApi.getByte(cold(meta) + SLOT_REFERENCED_OFFSET) == 0)
            {
                UnsafeApi.putLong(setMeta + SET_HAND_OFFSET, hand);
                return slot;
            }
            UnsafeApi.putByte(cold(meta) + SLOT_REFERENCED_OFFSET, (byte)0);
        }
        return -1;
    }

    /**
     * Takes the slot for eviction or flush: sets the exclusive bit and waits for pinned stores to finish. With
     * {@code changeBytes}, also marks the state busy so lock-free readers retry. Set lock held.
     */
    private void beginExclusive(final long meta, final boolean changeBytes)
    {
        UnsafeApi.getAndAddInt(null, cold(meta) + SLOT_GUARD_OFFSET, GUARD_EXCLUSIVE);
        if (UnsafeApi.getIntVolatile(null, cold(meta) + SLOT_GUARD_OFFSET) != GUARD_EXCLUSIVE)
        {
            final long wait = CacheWaits.begin();
            while (UnsafeApi.getIntVolatile(null, cold(meta) + SLOT_GUARD_OFFSET) != GUARD_EXCLUSIVE)
            {
                Thread.onSpinWait();
            }
            CacheWaits.end(wait);
        }
        if (changeBytes)
        {
            // Busy before any byte or tag changes, fenced from the stores that follow (SlotWriter says why).
            writer.begin(meta + SLOT_STATE_OFFSET);
        }
    }

    private void endExclusive(final long meta, final boolean changeBytes)
    {
        if (changeBytes)
        {
            writer.end(meta + SLOT_STATE_OFFSET,
                (UnsafeApi.getByte(cold(meta) + SLOT_PROT_OFFSET) & LineSource.PROT_READ) == 0);
        }
        UnsafeApi.getAndAddInt(null, cold(meta) + SLOT_GUARD_OFFSET, -GUARD_EXCLUSIVE);
    }

    private void installEntry(final int hash, final long key, final int slot)
    {
        final long entry = lookasideAddress + ((long)(hash & lookasideMask) << ENTRY_SHIFT);
        UnsafeApi.putInt(entry + ENTRY_SLOT_OFFSET, slot);
        UnsafeApi.putLong(entry + ENTRY_KEY_OFFSET, key);
    }

    private void swapLines(final long a, final long b)
    {
        for (int i = 0; i < lineBytes; i += Long.BYTES)
        {
            final long x = UnsafeApi.getLong(a + i);
            UnsafeApi.putLong(a + i, UnsafeApi.getLong(b + i));
            UnsafeApi.putLong(b + i, x);
        }
    }

    // ----------------------------------------------------------------------------------------------------------
    // Range operations
    // ----------------------------------------------------------------------------------------------------------

    private static final int RANGE_FLUSH = 0;
    private static final int RANGE_INVALIDATE = 1;
    private static final int RANGE_FLUSH_AND_DROP = 2;
    private static final int RANGE_EXIT = 3;

    private int rangeOp(final int asid, final long vaddr, final long lengthBytes, final int op)
    {
        checkAsid(asid);
        if (lengthBytes < 0 || vaddr < 0 || vaddr + lengthBytes > (1L << VIRTUAL_ADDRESS_BITS) ||
            vaddr + lengthBytes < 0)
        {
            throw new IllegalArgumentException("range vaddr=0x" + Long.toHexString(vaddr) + " lengthBytes=" +
                lengthBytes + ": must lie within [0, 2^48)");
        }
        if (lengthBytes == 0)
        {
            return 0;
        }
        final long firstLine = vaddr >>> lineShift;
        final long lastLine = (vaddr + lengthBytes - 1) >>> lineShift;
        final long firstKey = key(asid, firstLine << lineShift, lineShift);
        final long lastKey = key(asid, lastLine << lineShift, lineShift);
        int status = 0;
        if (lastLine - firstLine < slotCount)
        {
            for (long vline = firstLine; vline <= lastLine; vline++)
            {
                final long key = key(asid, vline << lineShift, lineShift);
                final int set = setOf(hash(asid, vline));
                final long setMeta = setMeta(set);
                while (true)
                {
                    lock(setMeta);
                    final int slot = scanSet(set, key);
                    if (slot >= 0 && fetching[slot] == key)
                    {
                        // A fetch of this line is in flight: wait for it, then settle the line it brought.
                        unlock(setMeta);
                        awaitFetch(slot, key);
                        continue;
                    }
                    try
                    {
                        if (slot >= 0)
                        {
                            status = firstError(status, applyToSlot(slot, key, setMeta, op));
                        }
                    }
                    finally
                    {
                        unlock(setMeta);
                    }
                    break;
                }
            }
        }
        else
        {
            for (int set = 0; set <= setMask; set++)
            {
                final long setMeta = setMeta(set);
                final int base = set << waysShift;
                int way = 0;
                while (way < ways)
                {
                    lock(setMeta);
                    int waitSlot = -1;
                    long waitKey = EMPTY_KEY;
                    try
                    {
                        for (; way < ways; way++)
                        {
                            final long key = UnsafeApi.getLong(slotMeta(base + way) + SLOT_TAG_OFFSET);
                            if (key != EMPTY_KEY && key >= firstKey && key <= lastKey)
                            {
                                if (fetching[base + way] == key)
                                {
                                    waitSlot = base + way;
                                    waitKey = key;
                                    break;
                                }
                                status = firstError(status, applyToSlot(base + way, key, setMeta, op));
                            }
                        }
                    }
                    finally
                    {
                        unlock(setMeta);
                    }
                    if (waitSlot >= 0)
                    {
                        awaitFetch(waitSlot, waitKey);
                    }
                }
            }
        }
        // Victims of the range on their way to memory: written back with the rest (flush) or dropped (invalidate).
        status = firstError(status, settleStaged(firstKey, lastKey, op));
        if (victimCache != null)
        {
            status = firstError(status, victimRangeOp(firstKey, lastKey, op));
        }
        return status;
    }

    private static int firstError(final int status, final int next)
    {
        return status < 0 ? status : Math.min(next, 0);
    }

    /** Set lock held. */
    private int applyToSlot(final int slot, final long key, final long setMeta, final int op)
    {
        final long meta = slotMeta(slot);
        final boolean drop = op != RANGE_FLUSH;
        beginExclusive(meta, drop);
        try
        {
            int status = 0;
            if (op != RANGE_INVALIDATE && UnsafeApi.getByte(cold(meta) + SLOT_DIRTY_OFFSET) != 0)
            {
                status = source.writeBack(asidOf(key, lineShift), lineOf(key, lineShift),
                    segments[slot >>> segmentSlotShift], (slot & segmentSlotMask) << lineShift);
                if (status >= 0)
                {
                    UnsafeApi.putByte(cold(meta) + SLOT_DIRTY_OFFSET, (byte)0);
                    dirtyWriteBacks.increment();
                }
            }
            // A line whose write-back failed stays, dirty, unless its process is gone (exit).
            final boolean dropped = drop && (status >= 0 || op == RANGE_EXIT);
            if (dropped)
            {
                dropLine(meta, setMeta);
            }
            return status;
        }
        finally
        {
            endExclusive(meta, drop);
        }
    }

    private int victimRangeOp(final long firstKey, final long lastKey, final int op)
    {
        final VictimCache vc = victimCache;
        int status = 0;
        lock(vc.lockAddress);
        try
        {
            for (int i = 0; i < vc.keys.length; i++)
            {
                final long key = vc.keys[i];
                if (key == EMPTY_KEY || key < firstKey || key > lastKey)
                {
                    continue;
                }
                if (op != RANGE_INVALIDATE && vc.dirty[i] != 0)
                {
                    final int result = source.writeBack(
                        asidOf(key, lineShift), lineOf(key, lineShift), extraSegment, i << lineShift);
                    if (result >= 0)
                    {
                        vc.dirty[i] = 0;
                        dirtyWriteBacks.increment();
                    }
                    status = firstError(status, result);
                }
                if (op != RANGE_FLUSH)
                {
                    vc.keys[i] = EMPTY_KEY;
                    vc.dirty[i] = 0;
                }
            }
        }
        finally
        {
            unlock(vc.lockAddress);
        }
        return status;
    }

    // ----------------------------------------------------------------------------------------------------------
    // Helpers
    // ----------------------------------------------------------------------------------------------------------

    private long slotMeta(final int slot)
    {
        return slotMetaAddress + ((long)slot << SLOT_META_SHIFT);
    }

    /** The cold half of a slot's metadata (guard, prot, dirty, referenced) from its hot address. */
    private long cold(final long meta)
    {
        return slotColdAddress + ((meta - slotMetaAddress) >>> (SLOT_META_SHIFT - SLOT_COLD_SHIFT));
    }

    private long setMeta(final int set)
    {
        return setMetaAddress + ((long)set << SET_META_SHIFT);
    }

    private long lineAddress(final int slot)
    {
        if (singleSegmentAddress != 0)
        {
            return singleSegmentAddress + ((long)slot << lineShift);
        }
        return UnsafeApi.getLong(segmentAddresses, LONG_ARRAY_BASE + ((long)(slot >>> segmentSlotShift) << 3)) +
            ((long)(slot & segmentSlotMask) << lineShift);
    }

    private static void lock(final long lockAddress)
    {
        if (tryLock(lockAddress))
        {
            return;
        }
        final long wait = CacheWaits.begin();
        int spins = 0;
        while (!tryLock(lockAddress))
        {
            if (++spins < SPINS_BEFORE_YIELD)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
        CacheWaits.end(wait);
    }

    private static boolean tryLock(final long lockAddress)
    {
        return UnsafeApi.getLongVolatile(null, lockAddress) == 0 &&
            UnsafeApi.compareAndSetLong(null, lockAddress, 0, 1);
    }

    private static void unlock(final long lockAddress)
    {
        UnsafeApi.putLongRelease(null, lockAddress, 0);
    }

    private static void checkAsid(final int asid)
    {
        if ((asid >>> ASID_BITS) != 0)
        {
            throw new IllegalArgumentException("asid=" + asid + ": must be in [0, 65535]");
        }
    }

    private RuntimeException fault(final int asid, final long vaddr, final int status, final boolean write)
    {
        return faults.onFault(asid, vaddr, status, write);
    }

    private void checkAddress(final int asid, final long vaddr, final int length, final boolean write)
    {
        checkAsid(asid);
        if (length < 0)
        {
            throw new IllegalArgumentException("length=" + length + ": must not be negative");
        }
        if ((vaddr >>> VIRTUAL_ADDRESS_BITS) != 0 || ((vaddr + length) >>> VIRTUAL_ADDRESS_BITS) > 1 ||
            vaddr + length > (1L << VIRTUAL_ADDRESS_BITS))
        {
            throw fault(asid, vaddr, ExCacheFault.ADDRESS_OUT_OF_RANGE, write);
        }
    }

    private static UnsafeBuffer allocateSegment(final LineMemoryAllocator allocator, final int lengthBytes)
    {
        final UnsafeBuffer segment = allocator.allocate(lengthBytes);
        if (segment == null || segment.byteArray() != null || segment.capacity() < lengthBytes ||
            (segment.addressOffset() & 7) != 0)
        {
            throw new IllegalStateException("segmentAllocator returned " + segment + " for " + lengthBytes +
                " bytes: it must return an off-heap UnsafeBuffer of at least that many bytes, aligned to 8");
        }
        return segment;
    }

    /** The small fully associative FIFO victim cache; all fields guarded by its lock (set lock taken first). */
    private final class VictimCache
    {
        final long[] keys;
        final byte[] prot;
        final byte[] dirty;
        final ByteBuffer lockBuffer = BufferUtil.allocateDirectAligned(64, 64);
        final long lockAddress = BufferUtil.address(lockBuffer);
        int hand;

        VictimCache(final int lines)
        {
            keys = new long[lines];
            prot = new byte[lines];
            dirty = new byte[lines];
            java.util.Arrays.fill(keys, EMPTY_KEY);
        }

        int find(final long key)
        {
            for (int i = 0; i < keys.length; i++)
            {
                if (keys[i] == key)
                {
                    return i;
                }
            }
            return -1;
        }

        int chooseEntry()
        {
            for (int i = 0; i < keys.length; i++)
            {
                if (keys[i] == EMPTY_KEY)
                {
                    return i;
                }
            }
            return hand;
        }

        void advance(final int used)
        {
            if (used == hand)
            {
                hand = (hand + 1) % keys.length;
            }
        }

        long lineAddress(final int index)
        {
            return extraSegment.addressOffset() + ((long)index << lineShift);
        }
    }

    private final class Counters implements ExCacheCounters
    {
        @Override
        public long hits()
        {
            long sum = unheldHits.get();
            synchronized (liveHits)
            {
                sum += retiredHits;
                for (int i = 0; i < liveHits.size(); i++)
                {
                    sum += liveHits.get(i).count();
                }
            }
            return sum;
        }

        @Override
        public long misses()
        {
            return misses.get();
        }

        @Override
        public long pLocalFills()
        {
            return pLocalFills.get();
        }

        @Override
        public long evictions()
        {
            return evictions.get();
        }

        @Override
        public long dirtyWriteBacks()
        {
            return dirtyWriteBacks.get();
        }

        @Override
        public long piggybackedWriteBacks()
        {
            return piggybackedWriteBacks.get();
        }

        @Override
        public long victimCacheHits()
        {
            return victimCacheHits.get();
        }

        @Override
        public String toString()
        {
            return "hits=" + hits() + " misses=" + misses() + " pLocalFills=" + pLocalFills() + " evictions=" +
                evictions() + " dirtyWriteBacks=" + dirtyWriteBacks() + " piggybackedWriteBacks=" +
                piggybackedWriteBacks() + " victimCacheHits=" + victimCacheHits();
        }
    }
}
