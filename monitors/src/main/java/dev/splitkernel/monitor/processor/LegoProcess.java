package dev.splitkernel.monitor.processor;

import dev.splitkernel.excache.ExCache;
import dev.splitkernel.excache.ExCacheFault;
import dev.splitkernel.excache.ExCacheHits;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.workload.WordMemory;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A process running on a {@link ProcessorMonitor}: a virtual address space with Linux's memory system calls
 * (answered by the process's home memory monitor), typed stores through the processor's ExCache, loads (and stores)
 * through a thread's own view ({@link #threadMemory()}: it holds that thread's hit count, so no load has to find the
 * thread's counter), and threads that share the address space.
 * <p>
 * System calls return an address or value (>= 0) or a negative {@link Errno} (EINVAL, ENOMEM, EFAULT, EACCES,
 * EBADF, ...) or transport {@link dev.splitkernel.verbs.Status}, validated as Linux validates them. A load or store
 * at an unmapped or protected address kills this process alone: the faulting thread gets a
 * {@link SegmentationFault}, the process's other threads a {@link ProcessKilledException} at their next access.
 * <p>
 * Thread-safe: any thread of the process may call anything; system calls are serialised per process.
 */
public final class LegoProcess implements AutoCloseable
{
    /** Exit code of a process killed by a segmentation fault (128 + SIGSEGV, as a shell reports it). */
    public static final int SIGSEGV_EXIT_CODE = 139;

    private static final int RUNNING = 0;
    private static final int KILLED = 1;
    private static final int EXITED = 2;
    private static final long PAGE_MASK = Prot.PAGE_BYTES - 1;
    private static final long ADDRESS_LIMIT = 1L << 48;
    private static final int MMAP_FLAGS = Prot.MAP_SHARED | Prot.MAP_PRIVATE | Prot.MAP_FIXED | Prot.MAP_ANONYMOUS
        | Prot.MAP_FIXED_NOREPLACE;

    private final ProcessorMonitor monitor;
    private final ExCache cache;
    private final int pid;
    private final String name;
    private final int homeId;
    private final MemoryMonitorProxy home;
    private final VRegionMap vRegionMap;
    private final Mappings mappings = new Mappings();
    private final ProcessView view;
    private final Owners owners;
    private final int lineShift;
    private final AtomicInteger runningThreads = new AtomicInteger();
    private final List<LegoThread> threads = new ArrayList<>();
    private final Object syscallLock = new Object();
    private FileCalls files;
    private volatile int state = RUNNING;
    private volatile SegmentationFault fault;
    private volatile int exitCode = -1;
    private long heapStart;
    private long programBreak;
    private boolean cleanedUp;

    LegoProcess(final ProcessorMonitor monitor, final ExCache cache, final int pid, final String name, final int homeId,
        final MemoryMonitorProxy home, final Owners owners, final long vRegionBytes, final boolean oneSided)
    {
        this.monitor = monitor;
        this.cache = cache;
        this.pid = pid;
        this.name = name;
        this.homeId = homeId;
        this.home = home;
        this.owners = owners;
        this.view = new ProcessView(owners, cache.lineBytes(), vRegionBytes, oneSided);
        this.vRegionMap = new VRegionMap(vRegionBytes, view);
        this.lineShift = Integer.numberOfTrailingZeros(cache.lineBytes());
    }

    /** Learn the initial program break; called once before the process is published. */
    long init()
    {
        final long result = home.brk(pid, 0, vRegionMap);
        owners.connectPending();
        if (result >= 0)
        {
            heapStart = result;
            programBreak = result;
        }
        return result;
    }

    /** The process id, which is also its address-space id in the ExCache and at the memory monitors. */
    public int pid()
    {
        return pid;
    }

    public String name()
    {
        return name;
    }

    /** The member id of the process's home memory monitor. */
    public int homeId()
    {
        return homeId;
    }

    /** The processor's copy of the vRegion-to-owner map (read-only use). */
    public VRegionMap vRegionMap()
    {
        return vRegionMap;
    }

    public boolean isRunning()
    {
        return state == RUNNING;
    }

    /** The fault that killed the process, or null. */
    public SegmentationFault fault()
    {
        return fault;
    }

    /** The exit code once the process ended ({@link #SIGSEGV_EXIT_CODE} after a fault), else -1. */
    public int exitCode()
    {
        return exitCode;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Memory system calls
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Map {@code lengthBytes} of private anonymous read-write memory: a workload's working set (the main job and the
     * performance gate map theirs here).
     *
     * @return the mapping's address.
     * @throws IllegalStateException naming the error when the mapping fails.
     */
    public long mmapWorkingSet(final long lengthBytes)
    {
        final long base = mmap(0, lengthBytes, Prot.PROT_READ | Prot.PROT_WRITE, Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS);
        if (base < 0)
        {
            throw new IllegalStateException("mmap of " + lengthBytes + " bytes failed: " + Errno.describe(base));
        }
        return base;
    }

    /**
     * Map anonymous memory. {@code flags}: exactly one of MAP_PRIVATE or MAP_SHARED, and MAP_ANONYMOUS (files are not
     * supported: EBADF without it), optionally MAP_FIXED or MAP_FIXED_NOREPLACE.
     *
     * @return the mapping's address, or EINVAL (zero length, unaligned fixed address, unknown prot or flag bits),
     *         ENOMEM (too long, or no memory monitor has room), EEXIST, EBADF, or a transport status.
     */
    public long mmap(final long address, final long lengthBytes, final int prot, final int flags)
    {
        checkAlive();
        if (lengthBytes <= 0 || (prot & ~Prot.PROT_MASK) != 0 || (flags & ~MMAP_FLAGS) != 0)
        {
            return Errno.EINVAL;
        }
        final int type = flags & (Prot.MAP_SHARED | Prot.MAP_PRIVATE);
        if (type == 0 || type == (Prot.MAP_SHARED | Prot.MAP_PRIVATE))
        {
            return Errno.EINVAL;
        }
        if ((flags & Prot.MAP_ANONYMOUS) == 0)
        {
            return Errno.EBADF;
        }
        final boolean fixed = (flags & (Prot.MAP_FIXED | Prot.MAP_FIXED_NOREPLACE)) != 0;
        if (fixed && ((address & PAGE_MASK) != 0 || address < 0))
        {
            return Errno.EINVAL;
        }
        final long length = pageAlign(lengthBytes);
        if (length < 0 || length >= ADDRESS_LIMIT || (fixed && address + length > ADDRESS_LIMIT))
        {
            return Errno.ENOMEM;
        }
        synchronized (syscallLock)
        {
            if (fixed && (flags & Prot.MAP_FIXED) != 0)
            {
                // MAP_FIXED replaces whatever was there and the owners free its pages: first make sure no thread can
                // still reach them from here (no mapping, no known page address, no line in the cache or in flight).
                unreach(address, length);
            }
            final long result = home.mmap(pid, address, length, prot, flags, vRegionMap);
            owners.connectPending();
            if (result >= 0)
            {
                cache.invalidate(pid, result, length);
                view.forget(result >>> lineShift, (result + length) >>> lineShift);
                mappings.map(result, result + length, prot);
            }
            return result;
        }
    }

    /**
     * Unmap [address, address + length): the content is dropped here (no write-back) and at the owners; later access
     * faults.
     *
     * @return 0, or EINVAL (unaligned address, zero length).
     */
    public int munmap(final long address, final long lengthBytes)
    {
        checkAlive();
        if ((address & PAGE_MASK) != 0 || address < 0 || lengthBytes <= 0)
        {
            return Errno.EINVAL;
        }
        final long length = pageAlign(lengthBytes);
        if (length < 0 || address + length > ADDRESS_LIMIT)
        {
            return Errno.EINVAL;
        }
        synchronized (syscallLock)
        {
            unreach(address, length);
            return (int)home.munmap(pid, address, length, vRegionMap);
        }
    }

    /**
     * Resize (and with MREMAP_MAYMOVE possibly move) a mapping, keeping its content.
     *
     * @return the new address, or EINVAL (unaligned, zero new length, bad flags), EFAULT (old range not mapped),
     *         ENOMEM (cannot grow in place, or no room), or a transport status.
     */
    public long mremap(final long oldAddress, final long oldLengthBytes, final long newLengthBytes, final int flags,
        final long newAddress)
    {
        checkAlive();
        if ((oldAddress & PAGE_MASK) != 0 || oldAddress < 0 || newLengthBytes <= 0 || oldLengthBytes <= 0
            || (flags & ~(Prot.MREMAP_MAYMOVE | Prot.MREMAP_FIXED)) != 0)
        {
            return Errno.EINVAL;
        }
        if ((flags & Prot.MREMAP_FIXED) != 0
            && ((flags & Prot.MREMAP_MAYMOVE) == 0 || (newAddress & PAGE_MASK) != 0 || newAddress < 0))
        {
            return Errno.EINVAL;
        }
        final long oldLength = pageAlign(oldLengthBytes);
        final long newLength = pageAlign(newLengthBytes);
        if (oldLength < 0 || newLength < 0 || newLength >= ADDRESS_LIMIT)
        {
            return Errno.ENOMEM;
        }
        synchronized (syscallLock)
        {
            final long oldEnd = oldAddress + oldLength;
            if (!mappings.isFullyMapped(oldAddress, oldEnd))
            {
                return Errno.EFAULT;
            }
            final int prot = mappings.protOf(oldAddress);
            // The home moves the pages (maybe to another owner) and frees the old ones: before it may, the old range
            // is out of reach here (no mapping, no known page address) and its lines are written back and dropped,
            // each under its set lock after any miss in flight, so a store lands before its line moves or faults.
            mappings.unmap(oldAddress, oldEnd);
            view.forgetLocations(oldAddress >>> lineShift, oldEnd >>> lineShift);
            final int flushed = cache.flushAndDrop(pid, oldAddress, oldLength);
            if (flushed < 0)
            {
                mappings.map(oldAddress, oldEnd, prot);
                return flushed;
            }
            if ((flags & Prot.MREMAP_FIXED) != 0)
            {
                unreach(newAddress, newLength);
            }
            final long result = home.mremap(pid, oldAddress, oldLength, newLength, flags, newAddress, vRegionMap);
            owners.connectPending();
            if (result >= 0)
            {
                view.forget(oldAddress >>> lineShift, oldEnd >>> lineShift);
                cache.invalidate(pid, result, newLength);
                view.forget(result >>> lineShift, (result + newLength) >>> lineShift);
                // The moved content lives at the owners now: fetch every line of the new range.
                view.markAllWrittenBack(result >>> lineShift, (result + Math.min(oldLength, newLength)) >>> lineShift);
                mappings.map(result, result + newLength, prot);
            }
            else
            {
                // Nothing moved: the old range is back as it was (its content is at the owners, written back above).
                view.markAllWrittenBack(oldAddress >>> lineShift, oldEnd >>> lineShift);
                mappings.map(oldAddress, oldEnd, prot);
            }
            return result;
        }
    }

    /**
     * Change the protection of [address, address + length).
     *
     * @return 0, or EINVAL (unaligned, unknown prot bits), ENOMEM (part of the range is not mapped), or a transport
     *         status.
     */
    public int mprotect(final long address, final long lengthBytes, final int prot)
    {
        checkAlive();
        if ((address & PAGE_MASK) != 0 || address < 0 || lengthBytes < 0 || (prot & ~Prot.PROT_MASK) != 0)
        {
            return Errno.EINVAL;
        }
        if (lengthBytes == 0)
        {
            return 0;
        }
        final long length = pageAlign(lengthBytes);
        if (length < 0 || address + length > ADDRESS_LIMIT)
        {
            return Errno.ENOMEM;
        }
        synchronized (syscallLock)
        {
            if (!mappings.isFullyMapped(address, address + length))
            {
                return Errno.ENOMEM;
            }
            cache.flush(pid, address, length);
            final long result = home.mprotect(pid, address, length, prot);
            if (result >= 0)
            {
                mappings.protect(address, address + length, prot);
                // Cached lines carry the old permission bits: the next access refetches them with the new ones.
                cache.invalidate(pid, address, length);
            }
            return (int)result;
        }
    }

    /**
     * Set the program break, as Linux's brk: returns the new break, or the current one when {@code newBreak} is 0,
     * below the heap start, or cannot be granted.
     */
    public long brk(final long newBreak)
    {
        checkAlive();
        synchronized (syscallLock)
        {
            if (newBreak != 0 && newBreak < heapStart)
            {
                return programBreak;
            }
            final long oldMappedEnd = pageAlign(programBreak);
            final long shrinkTo = newBreak != 0 && newBreak < programBreak ? pageAlign(newBreak) : oldMappedEnd;
            if (shrinkTo < oldMappedEnd)
            {
                // The home frees the pages above the new break: out of reach here first (see unreach).
                unreach(shrinkTo, oldMappedEnd - shrinkTo);
            }
            final long result = home.brk(pid, newBreak, vRegionMap);
            owners.connectPending();
            if (result < 0)
            {
                if (shrinkTo < oldMappedEnd)
                {
                    mappings.map(shrinkTo, oldMappedEnd, Prot.PROT_READ | Prot.PROT_WRITE);
                }
                return result == Errno.ENOMEM ? programBreak : result;
            }
            final long newMappedEnd = pageAlign(result);
            if (newMappedEnd > oldMappedEnd)
            {
                mappings.map(oldMappedEnd, newMappedEnd, Prot.PROT_READ | Prot.PROT_WRITE);
            }
            else if (newMappedEnd > shrinkTo)
            {
                mappings.map(shrinkTo, newMappedEnd, Prot.PROT_READ | Prot.PROT_WRITE);
            }
            programBreak = result;
            return result;
        }
    }

    /**
     * Write the dirty lines of [address, address + length) back to their owners.
     *
     * @return 0, or EINVAL (unaligned, both MS_SYNC and MS_ASYNC, unknown flags), ENOMEM (not mapped), or a
     *         transport status.
     */
    public int msync(final long address, final long lengthBytes, final int flags)
    {
        checkAlive();
        if ((address & PAGE_MASK) != 0 || address < 0 || lengthBytes < 0
            || (flags & ~(Prot.MS_ASYNC | Prot.MS_SYNC | Prot.MS_INVALIDATE)) != 0
            || (flags & (Prot.MS_ASYNC | Prot.MS_SYNC)) == (Prot.MS_ASYNC | Prot.MS_SYNC))
        {
            return Errno.EINVAL;
        }
        final long length = pageAlign(lengthBytes);
        if (length < 0)
        {
            return Errno.ENOMEM;
        }
        if (length == 0)
        {
            return 0;
        }
        synchronized (syscallLock)
        {
            if (!mappings.isFullyMapped(address, address + length))
            {
                return Errno.ENOMEM;
            }
            cache.flush(pid, address, length);
            return (int)home.msync(pid, address, length, flags);
        }
    }

    /**
     * Make [address, address + length) unreachable from this processor before its owners free its pages: no
     * mapping (a new miss faults), no learned page address (no one-sided READ of a page that may be reused), no line
     * in the cache, and no miss of it still in flight ({@link ExCache#invalidate} waits for those). Its content is
     * dropped. Syscall lock held.
     */
    private void unreach(final long address, final long length)
    {
        mappings.unmap(address, address + length);
        view.forget(address >>> lineShift, (address + length) >>> lineShift);
        cache.invalidate(pid, address, length);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Stores (loads: threadMemory)
    // ---------------------------------------------------------------------------------------------------------

    public void putByte(final long address, final byte value)
    {
        checkAlive();
        cache.putByte(pid, address, value);
    }

    public void putShort(final long address, final short value)
    {
        checkAlive();
        cache.putShort(pid, address, value);
    }

    public void putInt(final long address, final int value)
    {
        checkAlive();
        cache.putInt(pid, address, value);
    }

    public void putLong(final long address, final long value)
    {
        checkAlive();
        cache.putLong(pid, address, value);
    }

    public void putFloat(final long address, final float value)
    {
        checkAlive();
        cache.putFloat(pid, address, value);
    }

    public void putDouble(final long address, final double value)
    {
        checkAlive();
        cache.putDouble(pid, address, value);
    }

    /** Copy {@code length} bytes at {@code address} into {@code dst}. */
    public void getBytes(final long address, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        checkAlive();
        cache.getBytes(pid, address, dst, dstOffset, length);
    }

    /** Copy {@code length} bytes of {@code src} to {@code address}. */
    public void putBytes(final long address, final DirectBuffer src, final int srcOffset, final int length)
    {
        checkAlive();
        cache.putBytes(pid, address, src, srcOffset, length);
    }

    /**
     * @return this process's memory for the calling thread alone: its loads, stores and copies count their cache hits
     * in a count the view holds ({@link ExCacheHits}), one plain increment, rather than with an atomic add in the
     * cache. Files go to the process. Close it when the thread is done (its hits stay in the cache's total).
     */
    public ThreadMemory threadMemory()
    {
        return new ThreadMemory(cache.newHits());
    }

    /** {@link #threadMemory()}: one thread's view of the process's memory. Not thread-safe. */
    public final class ThreadMemory implements WordMemory, AutoCloseable
    {
        private final ExCacheHits hits;

        private ThreadMemory(final ExCacheHits hits)
        {
            this.hits = hits;
        }

        @Override
        public byte getByte(final long address)
        {
            checkAlive();
            return cache.getByte(hits, pid, address);
        }

        @Override
        public void putByte(final long address, final byte value)
        {
            checkAlive();
            cache.putByte(hits, pid, address, value);
        }

        public short getShort(final long address)
        {
            checkAlive();
            return cache.getShort(hits, pid, address);
        }

        public void putShort(final long address, final short value)
        {
            checkAlive();
            cache.putShort(hits, pid, address, value);
        }

        @Override
        public int getInt(final long address)
        {
            checkAlive();
            return cache.getInt(hits, pid, address);
        }

        @Override
        public void putInt(final long address, final int value)
        {
            checkAlive();
            cache.putInt(hits, pid, address, value);
        }

        @Override
        public long getLong(final long address)
        {
            checkAlive();
            return cache.getLong(hits, pid, address);
        }

        @Override
        public void putLong(final long address, final long value)
        {
            checkAlive();
            cache.putLong(hits, pid, address, value);
        }

        @Override
        public float getFloat(final long address)
        {
            checkAlive();
            return cache.getFloat(hits, pid, address);
        }

        @Override
        public void putFloat(final long address, final float value)
        {
            checkAlive();
            cache.putFloat(hits, pid, address, value);
        }

        @Override
        public double getDouble(final long address)
        {
            checkAlive();
            return cache.getDouble(hits, pid, address);
        }

        @Override
        public void putDouble(final long address, final double value)
        {
            checkAlive();
            cache.putDouble(hits, pid, address, value);
        }

        @Override
        public void getBytes(final long address, final MutableDirectBuffer dst, final int dstOffset, final int length)
        {
            checkAlive();
            cache.getBytes(hits, pid, address, dst, dstOffset, length);
        }

        @Override
        public void putBytes(final long address, final DirectBuffer src, final int srcOffset, final int length)
        {
            checkAlive();
            cache.putBytes(hits, pid, address, src, srcOffset, length);
        }

        @Override
        public FileCalls files()
        {
            return LegoProcess.this.files();
        }

        @Override
        public void close()
        {
            hits.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Threads and exit
    // ---------------------------------------------------------------------------------------------------------

    /** Start a thread of this process running {@code body}; it shares the address space. */
    public LegoThread spawnThread(final String threadName, final Workload body)
    {
        checkAlive();
        final LegoThread thread = new LegoThread(this, name + "/" + threadName, body);
        synchronized (threads)
        {
            threads.add(thread);
        }
        runningThreads.incrementAndGet();
        monitor.threadStarted();
        thread.start();
        return thread;
    }

    /** Threads of this process that are running now, including a main thread started by the monitor. */
    public int runningThreads()
    {
        return runningThreads.get();
    }

    void threadStartedExternally()
    {
        runningThreads.incrementAndGet();
        monitor.threadStarted();
    }

    void threadEnded()
    {
        runningThreads.decrementAndGet();
        monitor.threadEnded();
    }

    /**
     * End the process: write back and drop its cached lines, free its memory at the home and the owners. Threads
     * still running fail at their next access. Idempotent.
     */
    public void exit(final int code)
    {
        synchronized (syscallLock)
        {
            if (state == RUNNING)
            {
                exitCode = code;
                state = EXITED;
            }
            cleanUp();
        }
    }

    /** The process's file system calls on the default vNode ({@link FileCalls#DEFAULT_VNODE_ID}). */
    public FileCalls files()
    {
        return files(FileCalls.DEFAULT_VNODE_ID);
    }

    /**
     * The process's file system calls (its fd table lives here, at the processor) on vNode {@code vNodeId}: the first
     * call binds the process to that vNode; it sees only that vNode's files.
     *
     * @throws IllegalStateException if the process is bound to another vNode, or the GSM does not know this one.
     */
    public FileCalls files(final int vNodeId)
    {
        synchronized (syscallLock)
        {
            checkAlive();
            if (files == null)
            {
                files = FileCalls.connect(
                    monitor.fabric(), monitor.context().globalAddress(), vNodeId, monitor.context().timeoutNs());
            }
            else if (files.vNodeId() != vNodeId)
            {
                throw new IllegalStateException("process " + pid + " runs on vNode " + files.vNodeId() + ", not " +
                    vNodeId);
            }
            return files;
        }
    }

    /** {@link #exit(int) exit(0)} unless it already ended. */
    @Override
    public void close()
    {
        exit(0);
    }

    void onFault(final SegmentationFault f)
    {
        synchronized (syscallLock)
        {
            if (state == RUNNING)
            {
                fault = f;
                exitCode = SIGSEGV_EXIT_CODE;
                state = KILLED;
                monitor.segfaulted(this, f);
            }
        }
    }

    private void cleanUp()
    {
        if (cleanedUp)
        {
            return;
        }
        cleanedUp = true;
        if (files != null)
        {
            try
            {
                files.close();
            }
            catch (final RuntimeException ex)
            {
                monitor.error("process " + pid + ": closing its files at exit failed: " + ex.getMessage());
            }
        }
        try
        {
            cache.flushAndDropAll(pid);
        }
        catch (final RuntimeException ex)
        {
            monitor.error("process " + pid + ": flushing its lines at exit failed: " + ex.getMessage());
        }
        final long result = home.exitProcess(pid, vRegionMap);
        if (result < 0)
        {
            monitor.error("process " + pid + ": exit at home " + homeId + " failed: " + Errno.describe(result));
        }
        mappings.clear();
        monitor.removed(this);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Called by the monitor's miss path
    // ---------------------------------------------------------------------------------------------------------

    Mappings mappings()
    {
        return mappings;
    }

    ProcessView view()
    {
        return view;
    }

    private void checkAlive()
    {
        if (state != RUNNING)
        {
            throw dead();
        }
    }

    private RuntimeException dead()
    {
        final SegmentationFault f = fault;
        return new ProcessKilledException("process " + pid + " (" + name + ") " + (f != null
            ? "was killed by a segmentation fault in another thread" : "has exited"), f);
    }

    /**
     * A faulting load or store of this process (the ExCache's fault handler, via the monitor): the process is
     * killed, and the faulting thread gets the {@link SegmentationFault} (or, if the process already ended, a
     * {@link ProcessKilledException}) that this returns.
     */
    RuntimeException fault(final long vaddr, final int status, final boolean write)
    {
        if (state != RUNNING)
        {
            return dead();
        }
        final String reason;
        if (status == ExCacheFault.PROTECTION)
        {
            reason = write ? "page is not writable" : "page is not readable";
        }
        else if (status == ExCacheFault.ADDRESS_OUT_OF_RANGE)
        {
            reason = "address beyond the 48-bit address space";
        }
        else if (status == Errno.EFAULT)
        {
            reason = "address not mapped";
        }
        else if (status == Errno.EHOSTDOWN)
        {
            reason = "the memory monitor owning this address is dead or unreachable and no new owner came in time";
        }
        else
        {
            reason = Errno.describe(status);
        }
        final SegmentationFault f = new SegmentationFault(pid, vaddr, write, status, reason);
        onFault(f);
        return f;
    }

    private static long pageAlign(final long lengthBytes)
    {
        final long aligned = (lengthBytes + PAGE_MASK) & ~PAGE_MASK;
        return aligned < lengthBytes ? -1 : aligned;
    }

    @Override
    public String toString()
    {
        return "LegoProcess{pid=" + pid + ", name=" + name + ", home=" + homeId + ", state="
            + (state == RUNNING ? "running" : state == KILLED ? "killed" : "exited") + "}";
    }
}
