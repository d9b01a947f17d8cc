package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.IntArrayList;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The memory monitor as a process's home: the memory system calls of the processes the GMM placed here (create,
 * exit, mmap, munmap, mremap, mprotect, brk, msync, the vRegion map), with Linux's argument checks. The home decides
 * the coarse placement: which vRegion a mapping goes to, asking the GMM for the owner of a new one; the owners (maybe
 * this monitor) do the vma work.
 * <p>
 * Thread-safe: system calls are serialised per process.
 */
final class ProcessHome implements RequestHandler
{
    private static final int MAX_PLACEMENT_ATTEMPTS = 4;
    /** vRegions below this index hold the heap (brk); mmap places from here upwards. */
    static final int MMAP_BASE_VREGION_INDEX = 16;

    private final Peers peers;
    private final PageMover mover;
    private final MemoryMonitorCounters counters;
    private final long vRegionBytes;
    private final int vRegionShift;
    private final int maxVRegionIndex;
    private final ConcurrentHashMap<Integer, ProcessSpace> processes = new ConcurrentHashMap<>();

    /** A process whose home is this monitor. Guarded by its own monitor lock. */
    private static final class ProcessSpace
    {
        final int asid;
        final VRegionMap map;
        final long heapBase;
        final long heapLimit;
        long brk;
        int maxIndex;
        boolean exited;

        ProcessSpace(final int asid, final long vRegionBytes)
        {
            this.asid = asid;
            this.map = new VRegionMap(vRegionBytes);
            this.heapBase = vRegionBytes;
            this.heapLimit = MMAP_BASE_VREGION_INDEX * vRegionBytes;
            this.brk = heapBase;
        }
    }

    ProcessHome(final Peers peers, final PageMover mover, final MemoryMonitorCounters counters, final long vRegionBytes,
        final int maxVRegionIndex)
    {
        this.peers = peers;
        this.mover = mover;
        this.counters = counters;
        this.vRegionBytes = vRegionBytes;
        this.vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        this.maxVRegionIndex = maxVRegionIndex;
    }

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (opcode == Opcodes.VREGION_OWNER)
        {
            return onOwnerChange(request, offset, length, reply, replyOffset, replyCapacity);
        }
        return onSyscall(opcode, request, offset, length, reply, replyOffset, replyCapacity);
    }

    /**
     * The GMM moved a vRegion of a process homed here to a new owner (its secondary, promoted after the primary
     * died): later system calls go there. Not under the process's lock: a system call may be waiting on the dead
     * owner meanwhile.
     */
    private int onOwnerChange(
        final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < GlobalDescriptor.HEADER_LENGTH || replyCapacity < GlobalDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final ProcessSpace process = processes.get(request.getInt(offset + GlobalDescriptor.ASID_OFFSET));
        final int index = request.getInt(offset + GlobalDescriptor.VREGION_INDEX_OFFSET);
        final int ownerId = request.getInt(offset + GlobalDescriptor.MEMBER_ID_OFFSET);
        final long result;
        if (process == null)
        {
            result = Errno.ESRCH;
        }
        else if (index < 0 || index > maxVRegionIndex || ownerId < 0)
        {
            result = Errno.EINVAL;
        }
        else
        {
            if (process.map.ownerOf(index) != VRegionMap.NO_OWNER)
            {
                process.map.set(index, ownerId);
            }
            result = 0;
        }
        GlobalDescriptor.clear(reply, replyOffset);
        reply.putLong(replyOffset + GlobalDescriptor.RESULT_OFFSET, result);
        return GlobalDescriptor.HEADER_LENGTH;
    }

    private int onSyscall(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < SyscallRequestDescriptor.LENGTH || replyCapacity < SyscallReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        counters.increment(MemoryMonitorCounters.SYSCALLS);
        final int asid = SyscallRequestDescriptor.asid(request, offset);
        final long address = SyscallRequestDescriptor.address(request, offset);
        final long lengthBytes = SyscallRequestDescriptor.lengthBytes(request, offset);
        final int prot = SyscallRequestDescriptor.prot(request, offset);
        final int flags = SyscallRequestDescriptor.flags(request, offset);
        final long newLengthBytes = SyscallRequestDescriptor.newLengthBytes(request, offset);
        final long newAddress = SyscallRequestDescriptor.newAddress(request, offset);
        final IntArrayList touched = new IntArrayList();

        final long result;
        ProcessSpace process = processes.get(asid);
        if (opcode == Opcodes.PROCESS_CREATE)
        {
            if (process != null)
            {
                result = Errno.EEXIST;
            }
            else if (asid < 0)
            {
                result = Errno.EINVAL;
            }
            else
            {
                process = new ProcessSpace(asid, vRegionBytes);
                result = processes.putIfAbsent(asid, process) == null ? 0 : Errno.EEXIST;
            }
            return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, result, 0);
        }
        if (process == null)
        {
            return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, Errno.ESRCH, 0);
        }
        synchronized (process)
        {
            if (process.exited)
            {
                return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, Errno.ESRCH, 0);
            }
            switch (opcode)
            {
                case Opcodes.PROCESS_EXIT:
                    result = exit(process, touched);
                    break;
                case Opcodes.MMAP:
                    result = mmap(process, address, lengthBytes, prot, flags, touched);
                    break;
                case Opcodes.MUNMAP:
                    result = munmap(process, address, lengthBytes, touched);
                    break;
                case Opcodes.MREMAP:
                    result = mremap(process, address, lengthBytes, newLengthBytes, flags, newAddress, touched);
                    break;
                case Opcodes.MPROTECT:
                    result = mprotect(process, address, lengthBytes, prot);
                    break;
                case Opcodes.BRK:
                    result = brk(process, address, touched);
                    break;
                case Opcodes.MSYNC:
                    result = msync(process, address, lengthBytes, flags);
                    break;
                case Opcodes.VREGION_MAP:
                    process.map.forEach((index, owner) -> touched.addInt(index));
                    result = 0;
                    break;
                default:
                    result = Errno.ENOSYS;
            }
            if (result == Errno.ENOMEM)
            {
                counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
            }
            final int maxEntries = SyscallReplyDescriptor.maxEntries(replyCapacity);
            int count = 0;
            for (int i = 0; i < touched.size() && count < maxEntries; i++)
            {
                final int index = touched.getInt(i);
                SyscallReplyDescriptor.encodeEntry(reply, replyOffset, count++, index, process.map.ownerOf(index));
            }
            return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, result, count);
        }
    }

    private long exit(final ProcessSpace process, final IntArrayList touched)
    {
        final IntArrayList owners = new IntArrayList();
        process.map.forEach((index, owner) ->
        {
            touched.addInt(index);
            if (!owners.containsInt(owner))
            {
                owners.addInt(owner);
            }
        });
        long result = 0;
        for (int i = 0; i < owners.size(); i++)
        {
            final long r = peers.callOwner(owners.getInt(i), Opcodes.VMA_DROP_PROCESS, process.asid, 0, 0, 0, 0);
            if (r < 0)
            {
                result = r;
            }
        }
        for (int i = 0; i < touched.size(); i++)
        {
            final int index = touched.getInt(i);
            freeVRegion(process, index, process.map.ownerOf(index));
            process.map.set(index, VRegionMap.NO_OWNER);
        }
        process.exited = true;
        processes.remove(process.asid);
        return result;
    }

    private long mmap(final ProcessSpace process, final long address, final long lengthBytes, final int prot,
        final int flags, final IntArrayList touched)
    {
        if (lengthBytes <= 0 || (prot & ~Prot.PROT_MASK) != 0)
        {
            return Errno.EINVAL;
        }
        final int type = flags & (Prot.MAP_SHARED | Prot.MAP_PRIVATE);
        if (type != Prot.MAP_SHARED && type != Prot.MAP_PRIVATE)
        {
            return Errno.EINVAL;
        }
        if ((flags & Prot.MAP_ANONYMOUS) == 0)
        {
            return Errno.EBADF; // File mappings need a file descriptor; only anonymous memory is supported here.
        }
        final long length = pageAlignUp(lengthBytes);
        if (length < 0 || length > maxUserAddress())
        {
            return Errno.ENOMEM;
        }
        final boolean fixed = (flags & (Prot.MAP_FIXED | Prot.MAP_FIXED_NOREPLACE)) != 0;
        if (fixed)
        {
            if ((address & (Prot.PAGE_BYTES - 1)) != 0)
            {
                return Errno.EINVAL;
            }
            if (address < Prot.PAGE_BYTES)
            {
                return Errno.EPERM;
            }
            if (address + length > maxUserAddress() || address + length < 0)
            {
                return Errno.ENOMEM;
            }
            if ((flags & Prot.MAP_FIXED_NOREPLACE) != 0)
            {
                final long check = checkFree(process, address, length);
                if (check < 0)
                {
                    return check;
                }
            }
            else
            {
                unmapRange(process, address, length, touched);
            }
            final long r = mapFixed(process, address, length, prot, touched);
            return r < 0 ? r : address;
        }
        return mapAnywhere(process, length, prot, touched);
    }

    private long mapAnywhere(final ProcessSpace process, final long length, final int prot, final IntArrayList touched)
    {
        if (length <= vRegionBytes)
        {
            for (int index = MMAP_BASE_VREGION_INDEX; index <= process.maxIndex; index++)
            {
                final int owner = process.map.ownerOf(index);
                if (owner != VRegionMap.NO_OWNER)
                {
                    final long r = peers.callOwner(owner, Opcodes.VMA_ALLOCATE, process.asid, 0, length, prot, index);
                    if (r >= 0 || r != Errno.ENOMEM)
                    {
                        return r;
                    }
                }
            }
            final int index = freeVRegions(process, MMAP_BASE_VREGION_INDEX, 1);
            if (index < 0)
            {
                return Errno.ENOMEM;
            }
            int exclude = -1;
            final int[] secondary = new int[1];
            for (int attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++)
            {
                final int owner = placeVRegion(process, index, length, exclude, secondary);
                if (owner < 0)
                {
                    return Errno.ENOMEM;
                }
                final long r = peers.callOwner(owner, Opcodes.VMA_ALLOCATE, process.asid, 0, length, prot, index);
                if (r >= 0)
                {
                    assign(process, index, owner, touched);
                    replicate(process, index, owner, secondary[0]);
                    return r;
                }
                freeVRegion(process, index, owner);
                if (r != Errno.ENOMEM)
                {
                    return r;
                }
                exclude = owner;
            }
            return Errno.ENOMEM;
        }
        final int count = (int)((length + vRegionBytes - 1) >>> vRegionShift);
        final int first = freeVRegions(process, MMAP_BASE_VREGION_INDEX, count);
        if (first < 0)
        {
            return Errno.ENOMEM;
        }
        final long start = (long)first << vRegionShift;
        final long r = mapFixed(process, start, length, prot, touched);
        return r < 0 ? r : start;
    }

    /** The first index of {@code count} consecutive vRegions from {@code from} unused by the process, or -1. */
    private int freeVRegions(final ProcessSpace process, final int from, final int count)
    {
        int run = 0;
        for (long index = from; index <= maxVRegionIndex; index++)
        {
            run = process.map.ownerOf((int)index) == VRegionMap.NO_OWNER ? run + 1 : 0;
            if (run == count)
            {
                return (int)(index - count + 1);
            }
        }
        return -1;
    }

    /** Map [start, start + length), which the caller knows to be free, vRegion by vRegion; roll back on failure. */
    private long mapFixed(final ProcessSpace process, final long start, final long length, final int prot,
        final IntArrayList touched)
    {
        final long end = start + length;
        long at = start;
        while (at < end)
        {
            final int index = (int)(at >>> vRegionShift);
            final long pieceEnd = Math.min(end, ((long)index + 1) << vRegionShift);
            final long pieceLength = pieceEnd - at;
            int owner = process.map.ownerOf(index);
            long r;
            if (owner != VRegionMap.NO_OWNER)
            {
                r = peers.callOwner(owner, Opcodes.VMA_MAP_FIXED, process.asid, at, pieceLength, prot, 0);
            }
            else
            {
                r = Errno.ENOMEM;
                int exclude = -1;
                final int[] secondary = new int[1];
                for (int attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++)
                {
                    owner = placeVRegion(process, index, pieceLength, exclude, secondary);
                    if (owner < 0)
                    {
                        r = Errno.ENOMEM;
                        break;
                    }
                    r = peers.callOwner(owner, Opcodes.VMA_MAP_FIXED, process.asid, at, pieceLength, prot, 0);
                    if (r >= 0)
                    {
                        assign(process, index, owner, touched);
                        replicate(process, index, owner, secondary[0]);
                        break;
                    }
                    freeVRegion(process, index, owner);
                    if (r != Errno.ENOMEM)
                    {
                        break;
                    }
                    exclude = owner;
                }
            }
            if (r < 0)
            {
                if (at > start)
                {
                    unmapRange(process, start, at - start, touched);
                }
                return r;
            }
            at = pieceEnd;
        }
        return 0;
    }

    private void assign(final ProcessSpace process, final int index, final int owner, final IntArrayList touched)
    {
        process.map.set(index, owner);
        process.maxIndex = Math.max(process.maxIndex, index);
        touched.addInt(index);
    }

    /** Unmap [start, start + length) on every owner; vRegions left empty go back to the GMM. */
    private void unmapRange(final ProcessSpace process, final long start, final long length, final IntArrayList touched)
    {
        final long end = start + length;
        long at = start;
        while (at < end)
        {
            final int index = (int)(at >>> vRegionShift);
            final long pieceEnd = Math.min(end, ((long)index + 1) << vRegionShift);
            final int owner = process.map.ownerOf(index);
            if (owner != VRegionMap.NO_OWNER)
            {
                final long remaining = peers.callOwner(owner, Opcodes.VMA_UNMAP, process.asid, at, pieceEnd - at, 0, 0);
                if (remaining == 0)
                {
                    process.map.set(index, VRegionMap.NO_OWNER);
                    freeVRegion(process, index, owner);
                    touched.addInt(index);
                }
            }
            at = pieceEnd;
        }
    }

    /** 0 if [start, start + length) is free in the process, EEXIST otherwise (or the owner's error). */
    private long checkFree(final ProcessSpace process, final long start, final long length)
    {
        final long end = start + length;
        long at = start;
        while (at < end)
        {
            final int index = (int)(at >>> vRegionShift);
            final long pieceEnd = Math.min(end, ((long)index + 1) << vRegionShift);
            final int owner = process.map.ownerOf(index);
            if (owner != VRegionMap.NO_OWNER)
            {
                final long mapped = peers.callOwner(owner, Opcodes.VMA_MAPPED_BYTES, process.asid, at, pieceEnd - at, 0, 0);
                if (mapped != 0)
                {
                    return mapped < 0 ? mapped : Errno.EEXIST;
                }
            }
            at = pieceEnd;
        }
        return 0;
    }

    /** The protection at {@code start} if [start, start + length) is fully mapped, else ENOMEM. */
    private long checkMapped(final ProcessSpace process, final long start, final long length)
    {
        final long end = start + length;
        long at = start;
        long prot = Errno.ENOMEM;
        while (at < end)
        {
            final int index = (int)(at >>> vRegionShift);
            final long pieceEnd = Math.min(end, ((long)index + 1) << vRegionShift);
            final int owner = process.map.ownerOf(index);
            if (owner == VRegionMap.NO_OWNER)
            {
                return Errno.ENOMEM;
            }
            final long r = peers.callOwner(owner, Opcodes.VMA_CHECK, process.asid, at, pieceEnd - at, 0, 0);
            if (r < 0)
            {
                return r;
            }
            if (at == start)
            {
                prot = r;
            }
            at = pieceEnd;
        }
        return prot;
    }

    private long munmap(final ProcessSpace process, final long address, final long lengthBytes, final IntArrayList touched)
    {
        if ((address & (Prot.PAGE_BYTES - 1)) != 0 || lengthBytes <= 0 || address < 0)
        {
            return Errno.EINVAL;
        }
        final long length = pageAlignUp(lengthBytes);
        if (length < 0 || address + length > maxUserAddress() || address + length < 0)
        {
            return Errno.EINVAL;
        }
        unmapRange(process, address, length, touched);
        return 0;
    }

    private long mremap(final ProcessSpace process, final long oldAddress, final long oldLengthBytes,
        final long newLengthBytes, final int flags, final long newAddress, final IntArrayList touched)
    {
        if ((oldAddress & (Prot.PAGE_BYTES - 1)) != 0 || oldAddress < 0 ||
            (flags & ~(Prot.MREMAP_MAYMOVE | Prot.MREMAP_FIXED)) != 0 ||
            ((flags & Prot.MREMAP_FIXED) != 0 && (flags & Prot.MREMAP_MAYMOVE) == 0) ||
            newLengthBytes <= 0 || oldLengthBytes <= 0)
        {
            return Errno.EINVAL;
        }
        final long oldLength = pageAlignUp(oldLengthBytes);
        final long newLength = pageAlignUp(newLengthBytes);
        if (oldLength < 0 || newLength < 0 || newLength > maxUserAddress() || oldAddress + oldLength > maxUserAddress())
        {
            return Errno.ENOMEM;
        }
        final long prot = checkMapped(process, oldAddress, oldLength);
        if (prot < 0)
        {
            return Errno.EFAULT;
        }
        final boolean fixed = (flags & Prot.MREMAP_FIXED) != 0;
        if (fixed)
        {
            if ((newAddress & (Prot.PAGE_BYTES - 1)) != 0 || newAddress < Prot.PAGE_BYTES ||
                newAddress + newLength > maxUserAddress() ||
                (newAddress < oldAddress + oldLength && oldAddress < newAddress + newLength))
            {
                return Errno.EINVAL;
            }
        }
        else
        {
            if (newLength == oldLength)
            {
                return oldAddress;
            }
            if (newLength < oldLength)
            {
                unmapRange(process, oldAddress + newLength, oldLength - newLength, touched);
                return oldAddress;
            }
            final long tail = oldAddress + oldLength;
            if (tail + newLength - oldLength <= maxUserAddress() &&
                checkFree(process, tail, newLength - oldLength) == 0 &&
                mapFixed(process, tail, newLength - oldLength, (int)prot, touched) == 0)
            {
                return oldAddress;
            }
            if ((flags & Prot.MREMAP_MAYMOVE) == 0)
            {
                return Errno.ENOMEM;
            }
        }

        final long target;
        if (fixed)
        {
            unmapRange(process, newAddress, newLength, touched);
            final long r = mapFixed(process, newAddress, newLength, (int)prot, touched);
            if (r < 0)
            {
                return r;
            }
            target = newAddress;
        }
        else
        {
            target = mapAnywhere(process, newLength, (int)prot, touched);
            if (target < 0)
            {
                return target;
            }
        }
        final long r = mover.movePages(process.map, process.asid, oldAddress, target, Math.min(oldLength, newLength));
        if (r < 0)
        {
            unmapRange(process, target, newLength, touched);
            return r;
        }
        unmapRange(process, oldAddress, oldLength, touched);
        return target;
    }

    private long mprotect(final ProcessSpace process, final long address, final long lengthBytes, final int prot)
    {
        if ((address & (Prot.PAGE_BYTES - 1)) != 0 || address < 0 || lengthBytes < 0 || (prot & ~Prot.PROT_MASK) != 0)
        {
            return Errno.EINVAL;
        }
        if (lengthBytes == 0)
        {
            return 0;
        }
        final long length = pageAlignUp(lengthBytes);
        if (length < 0 || address + length > maxUserAddress())
        {
            return Errno.ENOMEM;
        }
        final long check = checkMapped(process, address, length);
        if (check < 0)
        {
            return Errno.ENOMEM;
        }
        final long end = address + length;
        long at = address;
        while (at < end)
        {
            final int index = (int)(at >>> vRegionShift);
            final long pieceEnd = Math.min(end, ((long)index + 1) << vRegionShift);
            final long r = peers.callOwner(process.map.ownerOf(index), Opcodes.VMA_PROTECT, process.asid, at, pieceEnd - at,
                prot, 0);
            if (r < 0)
            {
                return r;
            }
            at = pieceEnd;
        }
        return 0;
    }

    private long brk(final ProcessSpace process, final long newBreak, final IntArrayList touched)
    {
        if (newBreak < process.heapBase || newBreak > process.heapLimit)
        {
            return process.brk;
        }
        final long oldEnd = pageAlignUp(process.brk);
        final long newEnd = pageAlignUp(newBreak);
        if (newEnd > oldEnd)
        {
            if (checkFree(process, oldEnd, newEnd - oldEnd) < 0 ||
                mapFixed(process, oldEnd, newEnd - oldEnd, Prot.PROT_READ | Prot.PROT_WRITE, touched) < 0)
            {
                return process.brk;
            }
        }
        else if (newEnd < oldEnd)
        {
            unmapRange(process, newEnd, oldEnd - newEnd, touched);
        }
        process.brk = newBreak;
        return newBreak;
    }

    private long msync(final ProcessSpace process, final long address, final long lengthBytes, final int flags)
    {
        if ((address & (Prot.PAGE_BYTES - 1)) != 0 || address < 0 || lengthBytes < 0 ||
            (flags & ~(Prot.MS_ASYNC | Prot.MS_INVALIDATE | Prot.MS_SYNC)) != 0 ||
            (flags & (Prot.MS_ASYNC | Prot.MS_SYNC)) == (Prot.MS_ASYNC | Prot.MS_SYNC))
        {
            return Errno.EINVAL;
        }
        if (lengthBytes == 0)
        {
            return 0;
        }
        final long length = pageAlignUp(lengthBytes);
        // The processor wrote the range's dirty lines back before asking; pages here are the durable copy.
        return checkMapped(process, address, length) < 0 ? Errno.ENOMEM : 0;
    }

    /**
     * The GMM chose {@code secondary} to hold vRegion {@code index}'s replica: the owner starts replicating it before
     * the mapping is used (before this system call returns). If it cannot, the vRegion runs unreplicated (counted).
     */
    private void replicate(final ProcessSpace process, final int index, final int owner, final int secondary)
    {
        if (secondary < 0 || secondary == owner)
        {
            return;
        }
        final long r = peers.callOwner(owner, Opcodes.VMA_REPLICATE, process.asid, 0, 0, secondary, index);
        if (r < 0)
        {
            counters.increment(MemoryMonitorCounters.REPLICAS_LOST);
        }
    }

    /**
     * The owner for a new vRegion: asks the GMM; standalone, this monitor. Negative if none has room. The GMM's
     * choice of a secondary goes to {@code secondary[0]} (-1 for none).
     */
    private int placeVRegion(final ProcessSpace process, final int index, final long bytesNeeded, final int exclude,
        final int[] secondary)
    {
        secondary[0] = -1;
        final GlobalManagerProxy gmm = peers.global();
        if (gmm == null)
        {
            return exclude == peers.memberId() ? Errno.ENOMEM : peers.memberId();
        }
        final Placement placement = gmm.allocateVRegion(process.asid, index, bytesNeeded, exclude);
        if (!placement.isOk())
        {
            return (int)placement.result();
        }
        secondary[0] = placement.secondaryId();
        if (placement.memberId() != peers.memberId() && placement.address() != null)
        {
            peers.connectPeer(placement.memberId(), placement.address());
        }
        return placement.memberId();
    }

    private void freeVRegion(final ProcessSpace process, final int index, final int owner)
    {
        final GlobalManagerProxy gmm = peers.global();
        if (gmm != null && owner != VRegionMap.NO_OWNER)
        {
            gmm.freeVRegion(process.asid, index, owner);
        }
    }

    private long pageAlignUp(final long value)
    {
        return (value + Prot.PAGE_BYTES - 1) & ~(long)(Prot.PAGE_BYTES - 1);
    }

    private long maxUserAddress()
    {
        return ((long)maxVRegionIndex + 1) << vRegionShift;
    }

}
