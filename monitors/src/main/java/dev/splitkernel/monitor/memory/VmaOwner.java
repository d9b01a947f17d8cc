package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.List;

/**
 * The memory monitor as a vma owner: the vRegions of processes that this monitor owns, their vma tables, the bytes
 * they commit against the capacity, and the fine-grained vma work a process's home asks for (allocate, map fixed,
 * unmap, protect, check, move pages, drop a process). Pages are freed here when their vmas go.
 * <p>
 * Thread-safe: owner operations are serialised on the control lock; the vRegion table is copy-on-write, so the line
 * server reads it without a lock.
 */
final class VmaOwner implements RequestHandler
{
    /**
     * Told of each change to a vRegion that has a secondary, under the control lock, before the operation returns
     * (so the secondary's copy changes in the same order as the owner's).
     */
    interface ReplicaListener
    {
        /** {@code opcode}: VMA_MAP_FIXED, VMA_UNMAP or VMA_PROTECT of [address, address + lengthBytes). */
        void onVmaChange(VRegion region, int opcode, long address, long lengthBytes, int prot);

        /** Pages moved into [address, address + lengthBytes) of {@code target} (mremap). */
        void onPagesMoved(VRegion target, long address, long lengthBytes);

        /** The vRegion is gone (its process exited). */
        void onDropped(VRegion region);
    }

    private final PagePool pool;
    private final MemoryMonitorCounters counters;
    private final int pageBytes;
    private final int pageShift;
    private final long vRegionBytes;
    private final int vRegionShift;
    private final long capacityBytes;
    private final int maxVRegionIndex;
    private final Object controlLock = new Object();
    private volatile Long2ObjectHashMap<VRegion> regions = new Long2ObjectHashMap<>();
    private volatile long committedBytes;
    private ReplicaListener replicaListener;

    VmaOwner(final PagePool pool, final MemoryMonitorCounters counters, final int pageBytes, final long vRegionBytes,
        final long capacityBytes, final int maxVRegionIndex)
    {
        this.pool = pool;
        this.counters = counters;
        this.pageBytes = pageBytes;
        this.pageShift = Integer.numberOfTrailingZeros(pageBytes);
        this.vRegionBytes = vRegionBytes;
        this.vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        this.capacityBytes = capacityBytes;
        this.maxVRegionIndex = maxVRegionIndex;
    }

    /** Changes of replicated vRegions go to {@code listener} from now on (set once, before serving). */
    void replicaListener(final ReplicaListener listener)
    {
        this.replicaListener = listener;
    }

    /** Run {@code action} under the control lock: no owner operation runs meanwhile. */
    void underControlLock(final Runnable action)
    {
        synchronized (controlLock)
        {
            action.run();
        }
    }

    VRegion region(final int asid, final int index)
    {
        return regions.get(VRegion.key(asid, index));
    }

    /** Take vRegion {@code index} of {@code asid} out of this table (its pages stay with it), or null. */
    VRegion detach(final int asid, final int index)
    {
        synchronized (controlLock)
        {
            final VRegion region = regions.get(VRegion.key(asid, index));
            if (region != null)
            {
                committedBytes -= region.committedBytes;
                removeRegionLocked(region);
            }
            return region;
        }
    }

    /**
     * Own {@code region} from now on, with its vmas and pages (a promoted secondary's replica, its pages built from
     * the log). Never refused for capacity: the data must not be lost.
     *
     * @return 0, or EEXIST if this monitor owns that vRegion already.
     */
    int adopt(final VRegion region)
    {
        synchronized (controlLock)
        {
            if (regions.containsKey(VRegion.key(region.asid, region.index)))
            {
                return Errno.EEXIST;
            }
            committedBytes += region.committedBytes;
            final Long2ObjectHashMap<VRegion> copy = new Long2ObjectHashMap<>(regions);
            copy.put(VRegion.key(region.asid, region.index), region);
            regions = copy;
            return 0;
        }
    }

    /** The owned vRegion holding {@code address} of process {@code asid}, or null. Lock-free. */
    VRegion region(final int asid, final long address)
    {
        return regions.get(VRegion.key(asid, (int)(address >>> vRegionShift)));
    }

    long committedBytes()
    {
        return committedBytes;
    }

    int ownedVRegions()
    {
        return regions.size();
    }

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        return onOwnerOperation(opcode, request, offset, length, reply, replyOffset, replyCapacity);
    }

    /** The protection at {@code address} of process {@code asid} in this monitor's vRegions, or -1: for tests. */
    int protAt(final int asid, final long address)
    {
        final VRegion region = region(asid, address);
        return region == null ? -1 : region.vmas.protAt(address);
    }

    private int onOwnerOperation(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < SyscallRequestDescriptor.LENGTH || replyCapacity < SyscallReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final long result = ownerOperation(opcode,
            SyscallRequestDescriptor.asid(request, offset),
            SyscallRequestDescriptor.address(request, offset),
            SyscallRequestDescriptor.lengthBytes(request, offset),
            SyscallRequestDescriptor.prot(request, offset),
            SyscallRequestDescriptor.newAddress(request, offset));
        return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, result, 0);
    }

    long ownerOperation(
        final int opcode, final int asid, final long address, final long lengthBytes, final int prot,
        final long newAddress)
    {
        counters.increment(MemoryMonitorCounters.OWNER_OPERATIONS);
        if (opcode == Opcodes.VMA_DROP_PROCESS)
        {
            dropProcess(asid);
            return 0;
        }
        if (lengthBytes <= 0 || (lengthBytes & (pageBytes - 1)) != 0 || (prot & ~Prot.PROT_MASK) != 0)
        {
            return Errno.EINVAL;
        }
        synchronized (controlLock)
        {
            if (opcode == Opcodes.VMA_ALLOCATE)
            {
                if (newAddress < 0 || newAddress > maxVRegionIndex || lengthBytes > vRegionBytes)
                {
                    return Errno.EINVAL;
                }
                if (committedBytes + lengthBytes > capacityBytes)
                {
                    counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
                    return Errno.ENOMEM;
                }
                final int index = (int)newAddress;
                final VRegion existing = regions.get(VRegion.key(asid, index));
                final VRegion region = existing != null ? existing : new VRegion(asid, index, vRegionBytes, pageBytes);
                final long start = region.vmas.findGap(Math.max(region.base, Prot.PAGE_BYTES), region.limit, lengthBytes);
                if (start < 0)
                {
                    return Errno.ENOMEM;
                }
                mapLocked(region, existing == null, start, lengthBytes, prot);
                replicate(region, Opcodes.VMA_MAP_FIXED, start, lengthBytes, prot);
                return start;
            }

            if (address < 0 || (address & (pageBytes - 1)) != 0 || address + lengthBytes < 0)
            {
                return Errno.EINVAL;
            }
            final int index = (int)(address >>> vRegionShift);
            if (((address + lengthBytes - 1) >>> vRegionShift) != index || index > maxVRegionIndex)
            {
                return Errno.EINVAL;
            }
            final long end = address + lengthBytes;
            final VRegion region = regions.get(VRegion.key(asid, index));
            switch (opcode)
            {
                case Opcodes.VMA_MAP_FIXED:
                {
                    if (region != null && !region.vmas.isFree(address, end))
                    {
                        return Errno.EEXIST;
                    }
                    if (committedBytes + lengthBytes > capacityBytes)
                    {
                        counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
                        return Errno.ENOMEM;
                    }
                    final VRegion mapped = region != null ? region : new VRegion(asid, index, vRegionBytes, pageBytes);
                    mapLocked(mapped, region == null, address, lengthBytes, prot);
                    replicate(mapped, Opcodes.VMA_MAP_FIXED, address, lengthBytes, prot);
                    return 0;
                }
                case Opcodes.VMA_UNMAP:
                {
                    if (region == null)
                    {
                        return 0;
                    }
                    final long unmapped = region.vmas.mappedBytes(address, end);
                    region.vmas = region.vmas.without(address, end);
                    region.freePages((address - region.base) >>> pageShift, (end - region.base) >>> pageShift, pool);
                    region.committedBytes -= unmapped;
                    committedBytes -= unmapped;
                    if (region.vmas.isEmpty())
                    {
                        removeRegionLocked(region);
                    }
                    replicate(region, Opcodes.VMA_UNMAP, address, lengthBytes, 0);
                    return region.committedBytes;
                }
                case Opcodes.VMA_PROTECT:
                {
                    if (region == null || !region.vmas.isMapped(address, end))
                    {
                        return Errno.ENOMEM;
                    }
                    region.vmas = region.vmas.protect(address, end, prot);
                    replicate(region, Opcodes.VMA_PROTECT, address, lengthBytes, prot);
                    return 0;
                }
                case Opcodes.VMA_CHECK:
                {
                    if (region == null || !region.vmas.isMapped(address, end))
                    {
                        return Errno.ENOMEM;
                    }
                    return region.vmas.protAt(address);
                }
                case Opcodes.VMA_MAPPED_BYTES:
                    return region == null ? 0 : region.vmas.mappedBytes(address, end);
                case Opcodes.VMA_NEXT_PAGE:
                {
                    final long pageIndex = region == null ? -1 :
                        region.nextPage((address - region.base) >>> pageShift, (end - region.base) >>> pageShift);
                    return pageIndex < 0 ? Errno.ENOENT : region.base + (pageIndex << pageShift);
                }
                case Opcodes.VMA_MOVE_PAGES:
                {
                    final int targetIndex = (int)(newAddress >>> vRegionShift);
                    final VRegion target = regions.get(VRegion.key(asid, targetIndex));
                    if (newAddress < 0 || (newAddress & (pageBytes - 1)) != 0 ||
                        ((newAddress + lengthBytes - 1) >>> vRegionShift) != targetIndex ||
                        region == null || target == null || !target.vmas.isMapped(newAddress, newAddress + lengthBytes))
                    {
                        return Errno.EINVAL;
                    }
                    long moved = 0;
                    for (long at = 0; at < lengthBytes; at += pageBytes)
                    {
                        final int page = region.removePage((address + at - region.base) >>> pageShift);
                        if (page != PagePool.NO_PAGE)
                        {
                            target.putPage((newAddress + at - target.base) >>> pageShift, page, pool);
                            moved++;
                            counters.increment(MemoryMonitorCounters.PAGES_MOVED);
                        }
                    }
                    if (target.secondary != VRegion.NO_SECONDARY && replicaListener != null)
                    {
                        replicaListener.onPagesMoved(target, newAddress, lengthBytes);
                    }
                    return moved;
                }
                default:
                    return Errno.ENOSYS;
            }
        }
    }

    private void replicate(final VRegion region, final int opcode, final long address, final long lengthBytes,
        final int prot)
    {
        if (region.secondary != VRegion.NO_SECONDARY && replicaListener != null)
        {
            replicaListener.onVmaChange(region, opcode, address, lengthBytes, prot);
        }
    }

    private void mapLocked(final VRegion region, final boolean isNew, final long start, final long lengthBytes,
        final int prot)
    {
        region.vmas = region.vmas.with(start, start + lengthBytes, prot);
        region.committedBytes += lengthBytes;
        committedBytes += lengthBytes;
        if (isNew)
        {
            final Long2ObjectHashMap<VRegion> copy = new Long2ObjectHashMap<>(regions);
            copy.put(VRegion.key(region.asid, region.index), region);
            regions = copy;
        }
    }

    /** The vRegions owned now (an immutable snapshot): for the status file's per-vRegion gauges. */
    Long2ObjectHashMap<VRegion> regions()
    {
        return regions;
    }

    private void removeRegionLocked(final VRegion region)
    {
        final Long2ObjectHashMap<VRegion> copy = new Long2ObjectHashMap<>(regions);
        copy.remove(VRegion.key(region.asid, region.index));
        regions = copy;
    }

    private void dropProcess(final int asid)
    {
        synchronized (controlLock)
        {
            final List<VRegion> doomed = new ArrayList<>();
            for (final VRegion region : regions.values())
            {
                if (region.asid == asid)
                {
                    doomed.add(region);
                }
            }
            for (final VRegion region : doomed)
            {
                region.freePages(0, vRegionBytes >>> pageShift, pool);
                committedBytes -= region.committedBytes;
                region.committedBytes = 0;
                region.vmas = VmaTable.EMPTY;
                removeRegionLocked(region);
                if (region.secondary != VRegion.NO_SECONDARY && replicaListener != null)
                {
                    replicaListener.onDropped(region);
                }
            }
        }
    }
}
