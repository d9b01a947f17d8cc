package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.Status;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * The peer's registered regions as it announced them (rkey, virtual address, length), so an initiator checks a
 * one-sided operation before posting it. On real RDMA a bad rkey or an access outside the region is answered by
 * the remote NIC with a remote access error, which moves the queue pair to the error state and kills the
 * connection; checking here keeps such a mistake an ordinary {@link Status} code.
 * <p>
 * Copy-on-write: updates (control path, one thread: the completion poller) allocate a new table; lookups
 * (any thread, data path) read an immutable one and allocate nothing.
 */
final class RdmaRemoteRegions
{
    private static final class Entry
    {
        final long address;
        final int lengthBytes;

        Entry(final long address, final int lengthBytes)
        {
            this.address = address;
            this.lengthBytes = lengthBytes;
        }
    }

    private volatile Int2ObjectHashMap<Entry> table = new Int2ObjectHashMap<>();

    /** Record a region (or replace one with the same rkey). */
    void add(final int rkey, final long address, final int lengthBytes)
    {
        final Int2ObjectHashMap<Entry> copy = new Int2ObjectHashMap<>(table);
        copy.put(rkey, new Entry(address, lengthBytes));
        table = copy;
    }

    void remove(final int rkey)
    {
        final Int2ObjectHashMap<Entry> copy = new Int2ObjectHashMap<>(table);
        copy.remove(rkey);
        table = copy;
    }

    int size()
    {
        return table.size();
    }

    /**
     * @return {@link Status#OK} when ({@code remoteAddress}, {@code lengthBytes}) lies inside the region named by
     *         {@code rkey}; {@link Status#BAD_RKEY} when no such region is known; {@link Status#OUT_OF_BOUNDS}.
     */
    int check(final int rkey, final long remoteAddress, final int lengthBytes)
    {
        final Entry entry = table.get(rkey);
        if (entry == null)
        {
            return Status.BAD_RKEY;
        }
        if (lengthBytes < 0)
        {
            return Status.OUT_OF_BOUNDS;
        }
        final long offset = remoteAddress - entry.address;
        if (offset < 0 || offset > entry.lengthBytes - (long)lengthBytes)
        {
            return Status.OUT_OF_BOUNDS;
        }
        return Status.OK;
    }
}
