package dev.splitkernel.excache;

/**
 * Off-heap layouts of the cache's metadata. Data lines live in segments from the {@link LineMemoryAllocator};
 * slot {@code s} is at segment {@code s >>> segmentSlotShift}, offset {@code (s & segmentSlotMask) * lineBytes}.
 * A slot is {@code set * ways + way}.
 *
 * <h2>Key and placement</h2>
 * <pre>
 *   key  = asid &lt;&lt; 48 | (vaddr &gt;&gt;&gt; lineShift)     asid in [0, 65535], vaddr in [0, 2^48)
 *                                              (asids from 32768 give negative keys: one asid's keys still form
 *                                              one signed interval, and vline &lt; 2^42 keeps every key != EMPTY_KEY)
 *   hash = (int)vline + asid * 0x9E3779B1      (+, not ^: consecutive lines get consecutive slots, so a scan
 *                                              walks the line memory in address order, as the prefetcher likes)
 *   predicted slot = hash &amp; (slotCount - 1)     slot = set * ways + way, so:
 *   set  = (hash &gt;&gt;&gt; log2(ways)) &amp; setMask      (64 consecutive lines share a set at 64 ways)
 *   predicted way = hash &amp; (ways - 1)            (the way a line takes when it is free)
 *   lookaside entry = hash &amp; (slotCount - 1)
 * </pre>
 * A hit looks first at the predicted way: its slot metadata and the line's bytes are then both computed from the
 * address alone, so the two loads go out in parallel (way prediction). A line that had to go elsewhere is found
 * through the lookaside (a direct-mapped software TLB of slot hints), and failing that by scanning the set. Every
 * path validates with the slot's tag and version, so hints may be stale or torn.
 *
 * <h2>Slot metadata, split in two dense arrays; written under the set lock except where noted</h2>
 * Loads touch only the hot word pair (16 bytes per slot: 1 MB for 65536 slots, so it stays in L2/L3 while the
 * lines themselves miss to DRAM); stores and CLOCK also touch the cold array (8 bytes per slot).
 * <pre>
 *   hot (SLOT_META_SHIFT = 4), addressed as "meta" throughout
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Tag (key, or EMPTY_KEY)               |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+-+-+
 *  |                 Sequence (62 bits: +1 per exclusive change)   |U|B|  8   State: the seqlock word
 *  |                                                               | | |
 *  +---------------------------------------------------------------+-+-+
 *     B = STATE_BUSY: set while the line's bytes or tag change (the "odd version")
 *     U = STATE_UNREADABLE: the slot lacks PROT_READ, set when the change ends (so a settled, readable slot
 *         has both bits clear: a load tests them with one instruction)
 *
 *   one 64-byte line in the same allocation just below the hot array: its last 16 bytes hold a sentinel slot (tag
 *   EMPTY_KEY) that the inline load path looks at when the cache cannot take it.
 *
 *   cold (SLOT_COLD_SHIFT = 3), at coldAddress + slot * 8
 *  +---------------------------------------------------------------+
 *  | Guard: bit 0 EXCLUSIVE (evict/flush), bits 1.. pinned stores  |  0
 *  +---------------+---------------+---------------+---------------+
 *  |     Prot      | Dirty (stores)| Referenced    |    unused     |  4
 *  |               |               | (hits, CLOCK) |               |
 *  +---------------+---------------+---------------+---------------+
 * </pre>
 *
 * <h2>Lookaside entry (software TLB of slot hints, direct-mapped, 16 bytes, plain writes)</h2>
 * <pre>
 *  +---------------------------------------------------------------+
 *  |       Key (or EMPTY_KEY)                                      |  0
 *  +-------------------------------+-------------------------------+
 *  |       Slot                    |       unused                  |  8
 *  +-------------------------------+-------------------------------+
 * </pre>
 *
 * <h2>Set metadata (64 bytes, one cache line per set)</h2>
 * <pre>
 *  +---------------------------------------------------------------+
 *  |       Lock (0 free, 1 held)                                   |  0
 *  +---------------------------------------------------------------+
 *  |       Hand (CLOCK)                                            |  8
 *  +---------------------------------------------------------------+
 *  |       Valid lines in the set                                  | 16
 *  +---------------------------------------------------------------+
 *  |       Fills so far (FIFO stamps)                              | 24
 *  +---------------------------------------------------------------+
 *  |       padding to 64 bytes                                     |
 * </pre>
 */
final class ExCacheLayout
{
    static final long EMPTY_KEY = -1L;
    static final int VIRTUAL_ADDRESS_BITS = 48;
    static final long VIRTUAL_ADDRESS_MASK = (1L << VIRTUAL_ADDRESS_BITS) - 1;
    static final int ASID_BITS = 16;
    static final int HASH_MULTIPLIER = 0x9E3779B1;
    /** Where a key keeps the asid; the line number below it is less than 2^(48 - lineShift). */
    static final int ASID_KEY_SHIFT = 48;

    static final int SLOT_META_SHIFT = 4;
    static final int SLOT_TAG_OFFSET = 0;
    static final int SLOT_STATE_OFFSET = 8;
    static final long STATE_BUSY = 1;
    static final long STATE_UNREADABLE = 2;
    static final int STATE_SEQUENCE_SHIFT = 2;

    static final int SLOT_COLD_SHIFT = 3;
    static final int SLOT_GUARD_OFFSET = 0;
    static final int SLOT_PROT_OFFSET = 4;
    static final int SLOT_DIRTY_OFFSET = 5;
    static final int SLOT_REFERENCED_OFFSET = 6;

    static final int GUARD_EXCLUSIVE = 1;
    static final int GUARD_PIN = 2;

    static final int ENTRY_SHIFT = 4;
    static final int ENTRY_KEY_OFFSET = 0;
    static final int ENTRY_SLOT_OFFSET = 8;

    static final int SET_META_SHIFT = 6;
    static final int SET_LOCK_OFFSET = 0;
    static final int SET_HAND_OFFSET = 8;
    static final int SET_VALID_OFFSET = 16;
    static final int SET_FILLS_OFFSET = 24;

    private ExCacheLayout()
    {
    }

    static long key(final int asid, final long vaddr, final int lineShift)
    {
        return ((long)asid << ASID_KEY_SHIFT) | (vaddr >>> lineShift);
    }

    static int hash(final int asid, final long vline)
    {
        return (int)vline + asid * HASH_MULTIPLIER;
    }

    static int asidOf(final long key, final int lineShift)
    {
        return (int)(key >>> ASID_KEY_SHIFT);
    }

    static long lineOf(final long key, final int lineShift)
    {
        return key & ((1L << ASID_KEY_SHIFT) - 1);
    }
}
