package dev.splitkernel.protocol;

import java.util.Arrays;

/**
 * One process's vRegion-to-owner map: which memory monitor (member id) owns each vRegion of its virtual address
 * space. The processor keeps a copy per process and sends each miss straight to the owner; the home keeps the
 * authoritative one. Replies of the system calls update it ({@link #apply}).
 * <p>
 * Thread-safe: lock-free reads from any thread (the miss path); writes are serialised.
 */
public final class VRegionMap
{
    /** The vRegion is not in use by the process. */
    public static final int NO_OWNER = -1;

    /** Told of every change, under the map's lock (the processor binds its view of the vRegion to the new owner). */
    @FunctionalInterface
    public interface Listener
    {
        void onOwner(int vRegionIndex, int ownerId);
    }

    private final int vRegionShift;
    private final Listener listener;
    private volatile int[] owners = new int[16];
    private volatile long version;

    /** @param vRegionBytes a power of two, the same on every monitor of the cluster. */
    public VRegionMap(final long vRegionBytes)
    {
        this(vRegionBytes, null);
    }

    /** @param listener told of every owner change (null for none). */
    public VRegionMap(final long vRegionBytes, final Listener listener)
    {
        this.listener = listener;
        if (vRegionBytes < Prot.PAGE_BYTES || Long.bitCount(vRegionBytes) != 1)
        {
            throw new IllegalArgumentException("vRegionBytes must be a power of two >= " + Prot.PAGE_BYTES + ": " +
                vRegionBytes);
        }
        vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        Arrays.fill(owners, NO_OWNER);
    }

    public long vRegionBytes()
    {
        return 1L << vRegionShift;
    }

    /** The vRegion index of a virtual address, or -1 if the address is negative or beyond int indexes. */
    public int vRegionIndex(final long address)
    {
        final long index = address >>> vRegionShift;
        return address < 0 || index > Integer.MAX_VALUE ? -1 : (int)index;
    }

    /** The owner of the vRegion holding {@code address}, or {@link #NO_OWNER}. Allocation-free. */
    public int ownerOfAddress(final long address)
    {
        return ownerOf(vRegionIndex(address));
    }

    /** The owner of vRegion {@code vRegionIndex}, or {@link #NO_OWNER}. Allocation-free. */
    public int ownerOf(final int vRegionIndex)
    {
        final int[] owners = this.owners;
        return vRegionIndex >= 0 && vRegionIndex < owners.length ? owners[vRegionIndex] : NO_OWNER;
    }

    /** Incremented on every change: a reader can tell whether what it derived from the map is still current. */
    public long version()
    {
        return version;
    }

    public synchronized void set(final int vRegionIndex, final int ownerId)
    {
        if (vRegionIndex < 0)
        {
            throw new IllegalArgumentException("negative vRegion index: " + vRegionIndex);
        }
        int[] owners = this.owners;
        if (vRegionIndex >= owners.length)
        {
            if (ownerId == NO_OWNER)
            {
                return;
            }
            final int oldLength = owners.length;
            owners = Arrays.copyOf(owners, Math.max(vRegionIndex + 1, oldLength * 2));
            Arrays.fill(owners, oldLength, owners.length, NO_OWNER);
        }
        final int old = owners[vRegionIndex];
        owners[vRegionIndex] = ownerId;
        this.owners = owners;
        version++;
        if (listener != null && old != ownerId)
        {
            listener.onOwner(vRegionIndex, ownerId);
        }
    }

    public synchronized void clear()
    {
        if (listener != null)
        {
            final int[] old = this.owners;
            for (int i = 0; i < old.length; i++)
            {
                if (old[i] != NO_OWNER)
                {
                    listener.onOwner(i, NO_OWNER);
                }
            }
        }
        final int[] owners = new int[16];
        Arrays.fill(owners, NO_OWNER);
        this.owners = owners;
        version++;
    }

    /** Apply the entries of a {@link SyscallReplyDescriptor} reply. */
    public void apply(final org.agrona.DirectBuffer reply, final int offset)
    {
        final int count = SyscallReplyDescriptor.entryCount(reply, offset);
        for (int i = 0; i < count; i++)
        {
            set(SyscallReplyDescriptor.entryVRegionIndex(reply, offset, i),
                SyscallReplyDescriptor.entryOwnerId(reply, offset, i));
        }
    }

    /** Calls {@code consumer} with (vRegionIndex, ownerId) of every owned vRegion; control path. */
    public void forEach(final java.util.function.BiConsumer<Integer, Integer> consumer)
    {
        final int[] owners = this.owners;
        for (int i = 0; i < owners.length; i++)
        {
            if (owners[i] != NO_OWNER)
            {
                consumer.accept(i, owners[i]);
            }
        }
    }
}
