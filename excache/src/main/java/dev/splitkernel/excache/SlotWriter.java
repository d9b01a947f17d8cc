package dev.splitkernel.excache;

import org.agrona.UnsafeApi;

import static dev.splitkernel.excache.ExCacheLayout.STATE_BUSY;
import static dev.splitkernel.excache.ExCacheLayout.STATE_SEQUENCE_SHIFT;
import static dev.splitkernel.excache.ExCacheLayout.STATE_UNREADABLE;

/**
 * The writer side of a slot's seqlock ({@link ExCacheLayout}): {@link #begin} marks the state word busy before any
 * byte or the tag of the slot changes, {@link #end} publishes a new sequence number after.
 * <p>
 * The busy store is a volatile store, which orders the stores <em>before</em> it; the plain stores of the line's bytes
 * and tag that <em>follow</em> it may still become visible before it on a weakly ordered CPU (ARM, POWER), and a
 * lock-free reader could then see new bytes under the old, settled state word and accept them. A StoreStore fence
 * after the busy store forbids that. On x86 stores are never reordered with other stores, so the fence costs nothing
 * there, and leaving it out would be correct only by luck.
 * <p>
 * The memory operations are overridable so a test can record the protocol; the cache uses {@link #INSTANCE}.
 * Thread-safe: stateless.
 */
class SlotWriter
{
    static final SlotWriter INSTANCE = new SlotWriter();

    /** Mark the slot whose state word is at {@code stateAddress} busy, before its bytes or tag change. */
    final void begin(final long stateAddress)
    {
        storeVolatile(stateAddress, UnsafeApi.getLong(stateAddress) | STATE_BUSY);
        storeStoreFence();
    }

    /**
     * Publish the change: a new sequence number, not busy, unreadable when the new prot lacks read. A reader that saw
     * the old state fails its re-check; the sequence never repeats (62 bits), so there is no ABA.
     */
    final void end(final long stateAddress, final boolean unreadable)
    {
        final long sequence = (UnsafeApi.getLong(stateAddress) >>> STATE_SEQUENCE_SHIFT) + 1;
        storeRelease(stateAddress, (sequence << STATE_SEQUENCE_SHIFT) | (unreadable ? STATE_UNREADABLE : 0));
    }

    void storeVolatile(final long address, final long value)
    {
        UnsafeApi.putLongVolatile(null, address, value);
    }

    void storeStoreFence()
    {
        UnsafeApi.storeStoreFence();
    }

    void storeRelease(final long address, final long value)
    {
        UnsafeApi.putLongRelease(null, address, value);
    }
}
