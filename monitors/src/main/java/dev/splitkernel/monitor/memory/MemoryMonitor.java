package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.LineReplyDescriptor;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.monitor.runtime.MonitorErrors;
import dev.splitkernel.monitor.runtime.MonitorResources;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.IntArrayList;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The memory monitor (mComponent): owns vRegions of processes, their vma tables and physical pages in registered
 * memory, and serves line misses and write-backs (the data path) plus, as a process's home, its memory system calls
 * (mmap, munmap, mremap, mprotect, brk, msync), asking the global memory manager for a new vRegion's owner when it
 * needs one. As an owner it does the fine-grained vma allocation inside its vRegions.
 * <p>
 * Pages are created on demand: zero-filled at the first miss, or at the first write-back of a p-local line. The
 * monitor commits a vma's bytes against its capacity when the vma is mapped (no overcommit), so a full monitor
 * answers ENOMEM at mmap time and the home places the vma on another monitor.
 * <p>
 * Thread-safe: the fabric calls {@link #onRequest} from several threads at once. Data requests (line fetch and
 * write-back) run at most {@code workers} at a time, lock-free on the vma table and with a short lock on the page
 * table; system calls are serialised per process; owner operations are serialised per monitor.
 */
public final class MemoryMonitor implements RequestHandler, AutoCloseable
{
    private static final int MAX_PLACEMENT_ATTEMPTS = 4;
    /** vRegions below this index hold the heap (brk); mmap places from here upwards. */
    static final int MMAP_BASE_VREGION_INDEX = 16;

    private final MemoryMonitorContext ctx;
    private final MonitorResources resources;
    private final Fabric fabric;
    private final PagePool pool;
    private final WorkerGate gate;
    private final MemoryMonitorCounters counters = new MemoryMonitorCounters();
    private final int pageBytes;
    private final int pageShift;
    private final long vRegionBytes;
    private final int vRegionShift;
    private final long capacityBytes;
    private final int maxVRegionIndex;
    private final Object controlLock = new Object();
    private volatile Long2ObjectHashMap<VRegion> regions = new Long2ObjectHashMap<>();
    private volatile long committedBytes;
    private final ConcurrentHashMap<Integer, ProcessSpace> processes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, MemoryMonitorProxy> peers = new ConcurrentHashMap<>();
    private final ThreadLocal<boolean[]> createdFlag = ThreadLocal.withInitial(() -> new boolean[1]);
    private final UnsafeBuffer moveBuffer;
    private volatile GlobalManagerProxy global;
    private volatile int memberId;
    private volatile String address;
    private volatile boolean running;

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

    private final StorageBufferCache bufferCache;

    public MemoryMonitor(final MemoryMonitorContext ctx)
    {
        this.ctx = ctx.conclude();
        resources = MonitorResources.open("memory " + ctx.listenAddress(), ctx.runtime(), ctx.fabric(),
            ctx.fabricContext());
        fabric = resources.fabric();
        pageBytes = ctx.pageBytes();
        pageShift = Integer.numberOfTrailingZeros(pageBytes);
        vRegionBytes = ctx.vRegionBytes();
        vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        capacityBytes = ctx.capacityBytes();
        maxVRegionIndex = (int)Math.min(Integer.MAX_VALUE, ((1L << 47) >>> vRegionShift) - 1);
        pool = new PagePool(fabric, pageBytes, ctx.chunkBytes(), capacityBytes);
        gate = new WorkerGate(ctx.workers());
        moveBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LineReplyDescriptor.HEADER_LENGTH + pageBytes, 64));
        bufferCache = new StorageBufferCache(fabric, ctx.globalAddress(), ctx.bufferCacheBytes(), ctx.requestTimeoutNs());
    }

    /** The storage buffer cache this monitor keeps for the vNodes the GSM assigned it. */
    public StorageBufferCache bufferCache()
    {
        return bufferCache;
    }

    /**
     * Listen, join the global manager (unless standalone) and start the periodic load reports.
     *
     * @throws dev.splitkernel.verbs.FabricException if the listen or the GMM connection fails.
     * @throws IllegalStateException if the GMM refuses the registration.
     */
    public MemoryMonitor start()
    {
        address = fabric.listen(ctx.listenAddress(), this);
        running = true;
        if (!ctx.globalAddress().isEmpty())
        {
            final GlobalManagerProxy gmm = new GlobalManagerProxy(
                fabric.connect(ctx.globalAddress(), ctx.requestTimeoutNs()), ctx.requestTimeoutNs());
            final int id = gmm.registerMember(GlobalDescriptor.ROLE_MEMORY, capacityBytes, address);
            if (id < 0)
            {
                gmm.close();
                throw new IllegalStateException("global manager at " + ctx.globalAddress() +
                    " refused memory monitor " + address + ": " + Errno.describe(id));
            }
            memberId = id;
            global = gmm;
            resources.runBackground(
                new LoadReportAgent(this, org.agrona.concurrent.SystemNanoClock.INSTANCE, ctx.loadReportIntervalNs()));
        }
        return this;
    }

    /** The address peers connect to (after {@link #start()}). */
    public String address()
    {
        return address;
    }

    /** The member id the GMM gave this monitor (0 when standalone). */
    public int memberId()
    {
        return memberId;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    public MemoryMonitorCounters counters()
    {
        return counters;
    }

    public long capacityBytes()
    {
        return capacityBytes;
    }

    /** Bytes of vmas mapped in this monitor's vRegions. */
    public long committedBytes()
    {
        return committedBytes;
    }

    /** Bytes of physical pages in use. */
    public long usedBytes()
    {
        return pool.usedBytes();
    }

    public int ownedVRegions()
    {
        return regions.size();
    }

    public long vRegionBytes()
    {
        return vRegionBytes;
    }

    public int pageBytes()
    {
        return pageBytes;
    }

    /** The protection at {@code address} of process {@code asid} in this monitor's vRegions, or -1: for tests. */
    public int protAt(final int asid, final long address)
    {
        final VRegion region = regions.get(VRegion.key(asid, (int)(address >>> vRegionShift)));
        return region == null ? -1 : region.vmas.protAt(address);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Dispatch
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        try
        {
            switch (opcode)
            {
                case Opcodes.LINE_FETCH:
                case Opcodes.LINE_WRITE_BACK:
                case Opcodes.LINE_FETCH_WITH_WRITE_BACK:
                    return onLine(opcode, request, offset, length, reply, replyOffset, replyCapacity);

                case Opcodes.PROCESS_CREATE:
                case Opcodes.PROCESS_EXIT:
                case Opcodes.MMAP:
                case Opcodes.MUNMAP:
                case Opcodes.MREMAP:
                case Opcodes.MPROTECT:
                case Opcodes.BRK:
                case Opcodes.MSYNC:
                case Opcodes.VREGION_MAP:
                    return onSyscall(opcode, request, offset, length, reply, replyOffset, replyCapacity);

                case Opcodes.VMA_ALLOCATE:
                case Opcodes.VMA_MAP_FIXED:
                case Opcodes.VMA_UNMAP:
                case Opcodes.VMA_PROTECT:
                case Opcodes.VMA_DROP_PROCESS:
                case Opcodes.VMA_CHECK:
                case Opcodes.VMA_MAPPED_BYTES:
                case Opcodes.VMA_MOVE_PAGES:
                case Opcodes.VMA_NEXT_PAGE:
                    return onOwnerOperation(opcode, request, offset, length, reply, replyOffset, replyCapacity);

                default:
                    if (Opcodes.isFileOpcode(opcode))
                    {
                        return bufferCache.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity);
                    }
                    counters.increment(MemoryMonitorCounters.UNKNOWN_OPCODES);
                    return Status.UNKNOWN_OPCODE;
            }
        }
        catch (final RuntimeException ex)
        {
            // A bug: count it and keep serving; the caller gets HANDLER_ERROR.
            counters.increment(MemoryMonitorCounters.HANDLER_ERRORS);
            resources.errors().onError(ex);
            return Status.HANDLER_ERROR;
        }
    }

    /**
     * The data path (line fetch and write-back) and the owner operations are served where they arrive; a home's
     * system calls wait on the GMM and on other owners, and file requests on storage monitors: those run off the
     * fabric's poller.
     */
    @Override
    public boolean mayBlock(final int opcode)
    {
        switch (opcode)
        {
            case Opcodes.LINE_FETCH:
            case Opcodes.LINE_WRITE_BACK:
            case Opcodes.LINE_FETCH_WITH_WRITE_BACK:
            case Opcodes.VMA_ALLOCATE:
            case Opcodes.VMA_MAP_FIXED:
            case Opcodes.VMA_UNMAP:
            case Opcodes.VMA_PROTECT:
            case Opcodes.VMA_DROP_PROCESS:
            case Opcodes.VMA_CHECK:
            case Opcodes.VMA_MAPPED_BYTES:
            case Opcodes.VMA_MOVE_PAGES:
            case Opcodes.VMA_NEXT_PAGE:
                return false;
            default:
                return true;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Data path: line fetch and write-back
    // ------------------------------------------------------------------------------------------------------------

    private int onLine(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < LineRequestDescriptor.HEADER_LENGTH || replyCapacity < LineReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final int asid = LineRequestDescriptor.asid(request, offset);
        final int flags = LineRequestDescriptor.flags(request, offset);
        final long lineAddress = LineRequestDescriptor.lineAddress(request, offset);
        final int lengthBytes = LineRequestDescriptor.lengthBytes(request, offset);
        if (!isValidLine(lineAddress, lengthBytes))
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            LineReplyDescriptor.encode(reply, replyOffset, Errno.EINVAL, 0, 0, 0);
            return LineReplyDescriptor.HEADER_LENGTH;
        }

        if (opcode == Opcodes.LINE_WRITE_BACK)
        {
            if (length < LineRequestDescriptor.HEADER_LENGTH + lengthBytes)
            {
                counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
                return Status.MALFORMED;
            }
            if (!gate.acquire(System.nanoTime() + ctx.requestTimeoutNs()))
            {
                counters.increment(MemoryMonitorCounters.WORKER_TIMEOUTS);
                return Status.BACK_PRESSURED;
            }
            final int result;
            try
            {
                result = serveWriteBack(asid, flags, lineAddress, lengthBytes, request,
                    offset + LineRequestDescriptor.DATA_OFFSET);
            }
            finally
            {
                gate.release();
            }
            LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
            return LineReplyDescriptor.HEADER_LENGTH;
        }

        if (replyCapacity < LineReplyDescriptor.HEADER_LENGTH + lengthBytes)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.TOO_LARGE;
        }
        int writeBackResult = 0;
        if (!gate.acquire(System.nanoTime() + ctx.requestTimeoutNs()))
        {
            counters.increment(MemoryMonitorCounters.WORKER_TIMEOUTS);
            return Status.BACK_PRESSURED;
        }
        try
        {
            if (opcode == Opcodes.LINE_FETCH_WITH_WRITE_BACK)
            {
                final int victimAsid = LineRequestDescriptor.victimAsid(request, offset);
                final long victimLineAddress = LineRequestDescriptor.victimLineAddress(request, offset);
                if (length < LineRequestDescriptor.HEADER_LENGTH + lengthBytes ||
                    !isValidLine(victimLineAddress, lengthBytes))
                {
                    counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
                    return Status.MALFORMED;
                }
                counters.increment(MemoryMonitorCounters.PIGGYBACKED_WRITE_BACKS);
                writeBackResult = serveWriteBack(victimAsid, 0, victimLineAddress, lengthBytes, request,
                    offset + LineRequestDescriptor.DATA_OFFSET);
            }
            serveFetch(asid, flags, lineAddress, lengthBytes, reply, replyOffset);
        }
        finally
        {
            gate.release();
        }
        reply.putInt(replyOffset + LineReplyDescriptor.WRITE_BACK_RESULT_OFFSET, writeBackResult);
        return LineReplyDescriptor.result(reply, replyOffset) >= 0 ?
            LineReplyDescriptor.HEADER_LENGTH + lengthBytes : LineReplyDescriptor.HEADER_LENGTH;
    }

    private boolean isValidLine(final long lineAddress, final int lengthBytes)
    {
        return lengthBytes > 0 && lengthBytes <= pageBytes && (lengthBytes & (lengthBytes - 1)) == 0 &&
            lineAddress >= 0 && (lineAddress & (lengthBytes - 1)) == 0 && (lineAddress >>> vRegionShift) <= maxVRegionIndex;
    }

    /** Encode a fetch reply (header, and the line on success) at {@code replyOffset}; returns its result. */
    private int serveFetch(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final MutableDirectBuffer reply,
        final int replyOffset)
    {
        counters.increment(MemoryMonitorCounters.LINE_FETCHES);
        final VRegion region = regions.get(VRegion.key(asid, (int)(lineAddress >>> vRegionShift)));
        final int prot = region == null ? -1 : region.vmas.protAt(lineAddress);
        if (prot < 0)
        {
            counters.increment(MemoryMonitorCounters.FAULTS);
            LineReplyDescriptor.encode(reply, replyOffset, Errno.EFAULT, 0, 0, 0);
            return Errno.EFAULT;
        }
        final long pageIndex = (lineAddress - region.base) >>> pageShift;
        final boolean noCreate = (flags & LineRequestDescriptor.FLAG_NO_CREATE) != 0;
        final boolean[] created = createdFlag.get();
        created[0] = false;
        final int page = region.page(pageIndex, noCreate ? null : pool, created);
        if (page == PagePool.NO_PAGE)
        {
            final int result = noCreate ? Errno.ENOENT : Errno.ENOMEM;
            if (!noCreate)
            {
                counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
            }
            LineReplyDescriptor.encode(reply, replyOffset, result, 0, 0, 0);
            return result;
        }
        if (created[0])
        {
            counters.increment(MemoryMonitorCounters.PAGES_CREATED_BY_FETCH);
        }
        final int inPage = (int)(lineAddress & (pageBytes - 1));
        reply.putBytes(replyOffset + LineReplyDescriptor.DATA_OFFSET, pool.buffer(page), pool.offset(page) + inPage,
            lengthBytes);
        LineReplyDescriptor.encode(reply, replyOffset, prot, pool.remoteAddress(page) + inPage, pool.rkey(page), 0);
        return prot;
    }

    private int serveWriteBack(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final DirectBuffer src,
        final int srcOffset)
    {
        counters.increment(MemoryMonitorCounters.LINE_WRITE_BACKS);
        final VRegion region = regions.get(VRegion.key(asid, (int)(lineAddress >>> vRegionShift)));
        final int prot = region == null ? -1 : region.vmas.protAt(lineAddress);
        if (prot < 0)
        {
            counters.increment(MemoryMonitorCounters.FAULTS);
            return Errno.EFAULT;
        }
        if ((prot & Prot.PROT_WRITE) == 0 && (flags & LineRequestDescriptor.FLAG_FORCE) == 0)
        {
            counters.increment(MemoryMonitorCounters.FAULTS);
            return Errno.EACCES;
        }
        final boolean[] created = createdFlag.get();
        created[0] = false;
        final int page = region.page((lineAddress - region.base) >>> pageShift, pool, created);
        if (page == PagePool.NO_PAGE)
        {
            counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
            return Errno.ENOMEM;
        }
        if (created[0])
        {
            counters.increment(MemoryMonitorCounters.PAGES_CREATED_BY_WRITE_BACK);
        }
        final int inPage = (int)(lineAddress & (pageBytes - 1));
        pool.buffer(page).putBytes(pool.offset(page) + inPage, src, srcOffset, lengthBytes);
        return 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Owner operations: fine-grained vma work in this monitor's vRegions
    // ------------------------------------------------------------------------------------------------------------

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

    private long ownerOperation(
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
                    mapLocked(region != null ? region : new VRegion(asid, index, vRegionBytes, pageBytes), region == null, address,
                        lengthBytes, prot);
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
                    return region.committedBytes;
                }
                case Opcodes.VMA_PROTECT:
                {
                    if (region == null || !region.vmas.isMapped(address, end))
                    {
                        return Errno.ENOMEM;
                    }
                    region.vmas = region.vmas.protect(address, end, prot);
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
                    return moved;
                }
                default:
                    return Errno.ENOSYS;
            }
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
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Home: memory system calls of the processes whose home this monitor is
    // ------------------------------------------------------------------------------------------------------------

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
            final long r = callOwner(owners.getInt(i), Opcodes.VMA_DROP_PROCESS, process.asid, 0, 0, 0, 0);
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
                    final long r = callOwner(owner, Opcodes.VMA_ALLOCATE, process.asid, 0, length, prot, index);
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
            for (int attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++)
            {
                final int owner = placeVRegion(process, index, length, exclude);
                if (owner < 0)
                {
                    return Errno.ENOMEM;
                }
                final long r = callOwner(owner, Opcodes.VMA_ALLOCATE, process.asid, 0, length, prot, index);
                if (r >= 0)
                {
                    assign(process, index, owner, touched);
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
                r = callOwner(owner, Opcodes.VMA_MAP_FIXED, process.asid, at, pieceLength, prot, 0);
            }
            else
            {
                r = Errno.ENOMEM;
                int exclude = -1;
                for (int attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++)
                {
                    owner = placeVRegion(process, index, pieceLength, exclude);
                    if (owner < 0)
                    {
                        r = Errno.ENOMEM;
                        break;
                    }
                    r = callOwner(owner, Opcodes.VMA_MAP_FIXED, process.asid, at, pieceLength, prot, 0);
                    if (r >= 0)
                    {
                        assign(process, index, owner, touched);
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
                final long remaining = callOwner(owner, Opcodes.VMA_UNMAP, process.asid, at, pieceEnd - at, 0, 0);
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
                final long mapped = callOwner(owner, Opcodes.VMA_MAPPED_BYTES, process.asid, at, pieceEnd - at, 0, 0);
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
            final long r = callOwner(owner, Opcodes.VMA_CHECK, process.asid, at, pieceEnd - at, 0, 0);
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
        final long r = movePages(process, oldAddress, target, Math.min(oldLength, newLength));
        if (r < 0)
        {
            unmapRange(process, target, newLength, touched);
            return r;
        }
        unmapRange(process, oldAddress, oldLength, touched);
        return target;
    }

    /** Copy the pages that exist in [from, from + length) to [to, to + length), across owners as needed. */
    private long movePages(final ProcessSpace process, final long from, final long to, final long length)
    {
        synchronized (moveBuffer)
        {
            return movePagesLocked(process, from, to, length);
        }
    }

    private long movePagesLocked(final ProcessSpace process, final long from, final long to, final long length)
    {
        long at = 0;
        while (at < length)
        {
            final long source = from + at;
            final long target = to + at;
            final long segmentEnd = Math.min(length, Math.min(
                (((source >>> vRegionShift) + 1) << vRegionShift) - from,
                (((target >>> vRegionShift) + 1) << vRegionShift) - to));
            final long segmentLength = segmentEnd - at;
            final int sourceOwner = process.map.ownerOfAddress(source);
            final int targetOwner = process.map.ownerOfAddress(target);
            if (sourceOwner == targetOwner)
            {
                // Same owner: relink the pages there, no copy.
                final long r = callOwner(sourceOwner, Opcodes.VMA_MOVE_PAGES, process.asid, source, segmentLength, 0,
                    target);
                if (r < 0)
                {
                    return r;
                }
            }
            else
            {
                long page = source;
                final long sourceEnd = source + segmentLength;
                while (page < sourceEnd)
                {
                    page = callOwner(sourceOwner, Opcodes.VMA_NEXT_PAGE, process.asid, page, sourceEnd - page, 0, 0);
                    if (page == Errno.ENOENT)
                    {
                        break;
                    }
                    if (page < 0)
                    {
                        return page;
                    }
                    final long r = readPage(sourceOwner, process.asid, page);
                    if (r < 0 && r != Errno.ENOENT)
                    {
                        return r;
                    }
                    if (r >= 0)
                    {
                        final long w = writePage(targetOwner, process.asid, target + (page - source));
                        if (w < 0)
                        {
                            return w;
                        }
                        counters.increment(MemoryMonitorCounters.PAGES_MOVED);
                    }
                    page += pageBytes;
                }
            }
            at = segmentEnd;
        }
        return 0;
    }

    /** Read an existing page into {@link #moveBuffer}'s data; ENOENT if the owner has no page there. */
    private long readPage(final int owner, final int asid, final long pageAddress)
    {
        if (owner == memberId)
        {
            return serveFetch(asid, LineRequestDescriptor.FLAG_NO_CREATE, pageAddress, pageBytes, moveBuffer, 0);
        }
        final MemoryMonitorProxy peer = peer(owner);
        return peer == null ? Status.NOT_CONNECTED : peer.fetch(asid, LineRequestDescriptor.FLAG_NO_CREATE, pageAddress,
            pageBytes, moveBuffer, LineReplyDescriptor.DATA_OFFSET, null);
    }

    private long writePage(final int owner, final int asid, final long pageAddress)
    {
        if (owner == memberId)
        {
            return serveWriteBack(asid, LineRequestDescriptor.FLAG_FORCE, pageAddress, pageBytes, moveBuffer,
                LineReplyDescriptor.DATA_OFFSET);
        }
        final MemoryMonitorProxy peer = peer(owner);
        return peer == null ? Status.NOT_CONNECTED : peer.writeBack(asid, LineRequestDescriptor.FLAG_FORCE, pageAddress,
            pageBytes, moveBuffer, LineReplyDescriptor.DATA_OFFSET);
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
            final long r = callOwner(process.map.ownerOf(index), Opcodes.VMA_PROTECT, process.asid, at, pieceEnd - at,
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

    // ------------------------------------------------------------------------------------------------------------
    // Placement and peers
    // ------------------------------------------------------------------------------------------------------------

    /** The owner for a new vRegion: asks the GMM; standalone, this monitor. Negative if none has room. */
    private int placeVRegion(final ProcessSpace process, final int index, final long bytesNeeded, final int exclude)
    {
        final GlobalManagerProxy gmm = global;
        if (gmm == null)
        {
            return exclude == memberId ? Errno.ENOMEM : memberId;
        }
        final Placement placement = gmm.allocateVRegion(process.asid, index, bytesNeeded, exclude);
        if (!placement.isOk())
        {
            return (int)placement.result();
        }
        if (placement.memberId() != memberId && placement.address() != null && !peers.containsKey(placement.memberId()))
        {
            connectPeer(placement.memberId(), placement.address());
        }
        return placement.memberId();
    }

    private void freeVRegion(final ProcessSpace process, final int index, final int owner)
    {
        final GlobalManagerProxy gmm = global;
        if (gmm != null && owner != VRegionMap.NO_OWNER)
        {
            gmm.freeVRegion(process.asid, index, owner);
        }
    }

    private long callOwner(final int owner, final int opcode, final int asid, final long address, final long lengthBytes,
        final int prot, final long newAddress)
    {
        if (owner == memberId)
        {
            return ownerOperation(opcode, asid, address, lengthBytes, prot, newAddress);
        }
        final MemoryMonitorProxy peer = peer(owner);
        if (peer == null)
        {
            return Status.NOT_CONNECTED;
        }
        return peer.ownerOperation(opcode, asid, address, lengthBytes, prot, 0, 0, newAddress);
    }

    private MemoryMonitorProxy peer(final int owner)
    {
        final MemoryMonitorProxy peer = peers.get(owner);
        if (peer != null)
        {
            return peer;
        }
        final GlobalManagerProxy gmm = global;
        final String peerAddress = gmm == null ? null : gmm.lookupMember(owner);
        return peerAddress == null ? null : connectPeer(owner, peerAddress);
    }

    private MemoryMonitorProxy connectPeer(final int owner, final String peerAddress)
    {
        return peers.computeIfAbsent(owner, id -> new MemoryMonitorProxy(
            fabric.connect(peerAddress, ctx.requestTimeoutNs()), id, pageBytes, ctx.requestTimeoutNs()));
    }

    /** Report the load now (tests, and after a burst of allocation). Returns 0 or a negative code. */
    public int reportLoadNow()
    {
        final GlobalManagerProxy gmm = global;
        if (gmm == null)
        {
            return 0;
        }
        return gmm.reportMemoryLoad(memberId, capacityBytes, committedBytes, pool.usedBytes(), regions.size());
    }

    private long pageAlignUp(final long value)
    {
        return (value + Prot.PAGE_BYTES - 1) & ~(long)(Prot.PAGE_BYTES - 1);
    }

    private long maxUserAddress()
    {
        return ((long)maxVRegionIndex + 1) << vRegionShift;
    }

    @Override
    public void close()
    {
        running = false;
        resources.stopAgents();
        for (final MemoryMonitorProxy peer : peers.values())
        {
            peer.close();
        }
        peers.clear();
        bufferCache.close();
        final GlobalManagerProxy gmm = global;
        global = null;
        if (gmm != null)
        {
            gmm.close();
        }
        pool.close();
        resources.close();
    }

    /** This monitor's error handler: agent failures and handler bugs, counted and reported once each. */
    public MonitorErrors errors()
    {
        return resources.errors();
    }

    /**
     * Run one memory monitor as a server process: settings from system properties ({@link MemoryMonitorContext},
     * {@link dev.splitkernel.verbs.FabricContext}); prints {@code memory monitor <id> listening at <address>} on
     * stdout once serving (a parent process may wait for that line to learn the chosen port); runs until SIGINT or
     * SIGTERM.
     */
    public static void main(final String[] args)
    {
        try (org.agrona.concurrent.ShutdownSignalBarrier barrier = new org.agrona.concurrent.ShutdownSignalBarrier();
            MemoryMonitor monitor = new MemoryMonitor(new MemoryMonitorContext()).start())
        {
            System.out.println("memory monitor " + monitor.memberId() + " listening at " + monitor.address());
            System.out.flush();
            barrier.await();
            System.out.println("memory monitor " + monitor.memberId() + " stopping: " + monitor.counters());
        }
    }

    @Override
    public String toString()
    {
        return "MemoryMonitor{memberId=" + memberId + ", address=" + address + ", committedBytes=" + committedBytes +
            ", usedBytes=" + pool.usedBytes() + ", vRegions=" + regions.size() + "}";
    }
}
