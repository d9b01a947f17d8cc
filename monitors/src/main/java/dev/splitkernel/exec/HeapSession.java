package dev.splitkernel.exec;

import dev.splitkernel.exec.linux.LibC;
import dev.splitkernel.exec.linux.Userfaultfd;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.ProcessorMonitor;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.protocol.Errno;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.nio.ByteBuffer;

/**
 * One program's heap on the processor monitor: the arena of the preload library is the heap of a
 * {@link LegoProcess} (arena offset X is the process's address heapStart + X, placed by the GMM on memory monitors),
 * and its resident pages are the ExCache of that process, bounded by a capacity in pages.
 * <ul>
 * <li>A missing page is fetched from the memory monitor that owns it, or zero-filled here when it was never written
 * back (p-local), and installed with UFFDIO_COPY: write-protected after a read fault, so the first write is seen.</li>
 * <li>A write-protect fault marks the page dirty and lifts the protection (synchronous dirty tracking).</li>
 * <li>Eviction is atomic against the program's threads: write-protect a dirty victim (a writer now waits), copy it
 * out through the handler's own mapping of the memfd and write it back to its owner, punch it out of the memfd,
 * and only then let a waiting writer retry (it faults the page back in). Clean victims are already
 * write-protected and are only punched.</li>
 * </ul>
 * Not thread-safe: driven by one fault handler thread ({@link FaultHandlerAgent}).
 */
final class HeapSession implements AutoCloseable
{
    static final int PAGE_BYTES = 4096;
    static final int PAGE_SHIFT = 12;
    private static final byte ABSENT = 0;
    private static final byte CLEAN = 1;
    private static final byte DIRTY = 2;
    private static final long GROWTH_BYTES = 64L << 20;
    private static final int MESSAGES = 64;

    private final ProcessorMonitor monitor;
    private final LegoProcess process;
    private final Userfaultfd uffd;
    private final int memfd;
    private final long arenaBase;
    private final long arenaBytes;
    private final long mirrorBase;
    private final Residency residency;
    private final int capacityPages;
    private final byte[] states;
    private final int pid;
    private final long heapStart;
    private final long heapLine;
    private long mappedBytes;
    private final UnsafeBuffer staging;
    private final UnsafeBuffer zeroPageBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(PAGE_BYTES));
    private final long zeroPage;
    private final UnsafeBuffer victimView = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer messages = new UnsafeBuffer(ByteBuffer.allocateDirect(MESSAGES * Userfaultfd.MSG_BYTES));
    private final java.util.BitSet touched = new java.util.BitSet();
    private String failure;

    private final AtomicCounter missingFaults;
    private final AtomicCounter writeProtectFaults;
    private final AtomicCounter pLocalFills;
    private final AtomicCounter fetches;
    private final AtomicCounter evictions;
    private final AtomicCounter writeBacks;
    private final AtomicCounter duplicateFaults;
    private final AtomicCounter residentPeak;
    private final AtomicCounter touchedPages;

    HeapSession(final ProcessorMonitor monitor, final LegoProcess process, final Userfaultfd uffd, final int memfd,
        final long arenaBase, final long arenaBytes, final String policy, final long capacityBytes)
    {
        if ((arenaBase & (PAGE_BYTES - 1)) != 0 || arenaBytes <= 0 || (arenaBytes >>> PAGE_SHIFT) > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("bad arena " + Long.toHexString(arenaBase) + "+" + arenaBytes);
        }
        this.monitor = monitor;
        this.process = process;
        this.uffd = uffd;
        this.memfd = memfd;
        this.arenaBase = arenaBase;
        this.arenaBytes = arenaBytes;
        final int arenaPages = (int)(arenaBytes >>> PAGE_SHIFT);
        this.capacityPages = (int)Math.max(1, Math.min(arenaPages, capacityBytes >>> PAGE_SHIFT));
        this.residency = Residency.create(policy, capacityPages, arenaPages);
        this.states = new byte[arenaPages];
        this.pid = process.pid();
        this.heapStart = process.brk(0);
        if (heapStart < 0 || (heapStart & (PAGE_BYTES - 1)) != 0)
        {
            throw new IllegalStateException("the process's heap start is unusable: " + Errno.describe(heapStart));
        }
        this.heapLine = heapStart >>> PAGE_SHIFT;
        this.mirrorBase = LibC.mmap(0, arenaBytes, LibC.PROT_READ | LibC.PROT_WRITE,
            LibC.MAP_SHARED | LibC.MAP_NORESERVE, memfd, 0);
        if (mirrorBase == LibC.MAP_FAILED)
        {
            throw new IllegalStateException("cannot map the program's heap memfd: " + LibC.describe(LibC.errno()));
        }
        // The handler thread is the only writer: release increments suffice.
        final MonitorStatus status = monitor.status();
        missingFaults = status.newCounter("exec: missing faults", MonitorStatus.TYPE_MONITOR);
        writeProtectFaults = status.newCounter("exec: write-protect faults", MonitorStatus.TYPE_MONITOR);
        pLocalFills = status.newCounter("exec: p-local fills", MonitorStatus.TYPE_MONITOR);
        fetches = status.newCounter("exec: fetches", MonitorStatus.TYPE_MONITOR);
        evictions = status.newCounter("exec: evictions", MonitorStatus.TYPE_MONITOR);
        writeBacks = status.newCounter("exec: write-backs", MonitorStatus.TYPE_MONITOR);
        duplicateFaults = status.newCounter("exec: duplicate faults", MonitorStatus.TYPE_MONITOR);
        residentPeak = status.newCounter("exec: resident pages, peak", MonitorStatus.TYPE_MONITOR);
        touchedPages = status.newCounter("exec: touched pages", MonitorStatus.TYPE_MONITOR);
        this.staging = monitor.allocateRegistered(PAGE_BYTES);
        this.zeroPage = zeroPageBuffer.addressOffset();
    }

    /**
     * Serve the faults pending now.
     *
     * @return faults served (0: none pending), or -1 when the session failed ({@link #failure()} says why).
     */
    int serve()
    {
        if (failure != null)
        {
            return -1;
        }
        final int bytes = uffd.read(messages, messages.capacity());
        if (bytes < 0)
        {
            return fail("reading the program's userfaultfd failed: " + LibC.describe(-bytes));
        }
        final int count = bytes / Userfaultfd.MSG_BYTES;
        for (int i = 0; i < count; i++)
        {
            final int at = i * Userfaultfd.MSG_BYTES;
            if ((messages.getByte(at + Userfaultfd.MSG_EVENT_OFFSET) & 0xff) != Userfaultfd.EVENT_PAGEFAULT)
            {
                continue;
            }
            final long flags = messages.getLong(at + Userfaultfd.MSG_FLAGS_OFFSET);
            final long address = messages.getLong(at + Userfaultfd.MSG_ADDRESS_OFFSET);
            if (onFault(address, flags) < 0)
            {
                return -1;
            }
        }
        return count;
    }

    private int onFault(final long address, final long flags)
    {
        final long offset = address - arenaBase;
        if (offset < 0 || offset >= arenaBytes)
        {
            return fail("a fault outside the heap arena at 0x" + Long.toHexString(address));
        }
        final int page = (int)(offset >>> PAGE_SHIFT);
        final long pageAddress = arenaBase + ((long)page << PAGE_SHIFT);
        boolean write = (flags & Userfaultfd.PAGEFAULT_FLAG_WRITE) != 0;
        final byte state = states[page];
        if ((flags & Userfaultfd.PAGEFAULT_FLAG_WP) != 0)
        {
            writeProtectFaults.incrementRelease();
            if (state == CLEAN)
            {
                states[page] = DIRTY;
                residency.referenced(page);
                return check(uffd.unprotect(pageAddress, PAGE_BYTES), "lifting write protection");
            }
            if (state == DIRTY)
            {
                duplicateFaults.incrementRelease();
                return check(uffd.wake(pageAddress, PAGE_BYTES), "waking a writer");
            }
            write = true; // evicted since the write faulted: fault it back in, writable
        }
        else if (state != ABSENT)
        {
            // Another thread's fault on the same page installed it first.
            duplicateFaults.incrementRelease();
            return check(uffd.wake(pageAddress, PAGE_BYTES), "waking a reader");
        }
        missingFaults.incrementRelease();
        if (offset >= mappedBytes && grow(offset) < 0)
        {
            return -1;
        }
        while (residency.size() >= capacityPages)
        {
            if (evict(residency.evict()) < 0)
            {
                return -1;
            }
        }
        final long line = heapLine + page;
        final long source;
        if (monitor.zeroFill(pid, line) >= 0)
        {
            pLocalFills.incrementRelease();
            source = zeroPage;
        }
        else
        {
            final int fetched = monitor.fetch(pid, line, staging, 0);
            if (fetched < 0)
            {
                return fail("fetching heap page 0x" + Long.toHexString(heapStart + offset) + " from its memory monitor"
                    + " failed: " + Errno.describe(fetched));
            }
            fetches.incrementRelease();
            source = staging.addressOffset();
        }
        final int copied = uffd.copy(pageAddress, source, PAGE_BYTES, !write);
        if (copied < 0)
        {
            return check(copied, "installing a page");
        }
        states[page] = write ? DIRTY : CLEAN;
        residency.installed(page);
        if (!touched.get(page))
        {
            touched.set(page);
            touchedPages.incrementRelease();
        }
        residentPeak.proposeMaxRelease(residency.size());
        return 0;
    }

    private int evict(final int victim)
    {
        final long victimAddress = arenaBase + ((long)victim << PAGE_SHIFT);
        final long offset = (long)victim << PAGE_SHIFT;
        if (states[victim] == DIRTY)
        {
            // First stop the program's writers, then copy out: a write after the copy would be lost.
            if (check(uffd.writeProtect(victimAddress, PAGE_BYTES), "write-protecting a victim") < 0)
            {
                return -1;
            }
            victimView.wrap(mirrorBase + offset, PAGE_BYTES);
            final int result = monitor.writeBack(pid, heapLine + victim, victimView, 0);
            if (result < 0)
            {
                return fail("writing heap page 0x" + Long.toHexString(heapStart + offset) + " back to its memory "
                    + "monitor failed: " + Errno.describe(result));
            }
            writeBacks.incrementRelease();
        }
        if (LibC.fallocate(memfd, LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, offset, PAGE_BYTES) != 0)
        {
            return fail("punching an evicted page out of the heap memfd failed: " + LibC.describe(LibC.errno()));
        }
        states[victim] = ABSENT;
        evictions.incrementRelease();
        return 0;
    }

    /** Extend the process's heap (its brk) over the arena offset that faulted, in steps of 64 MiB. */
    private int grow(final long offset)
    {
        final long want = Math.min(arenaBytes, Math.max(offset + PAGE_BYTES, mappedBytes + GROWTH_BYTES));
        final long target = (want + GROWTH_BYTES - 1) / GROWTH_BYTES * GROWTH_BYTES;
        final long result = process.brk(heapStart + Math.min(target, arenaBytes));
        if (result < heapStart + offset + PAGE_BYTES)
        {
            return fail("the cluster has no memory for " + ((offset >>> 20) + 1) + " MiB of heap (brk answered "
                + (result < 0 ? Errno.describe(result) : "0x" + Long.toHexString(result)) + ")");
        }
        mappedBytes = result - heapStart;
        return 0;
    }

    private int check(final int result, final String what)
    {
        return result >= 0 ? 0 : fail(what + " failed: " + LibC.describe(-result));
    }

    private int fail(final String reason)
    {
        if (failure == null)
        {
            failure = reason;
        }
        return -1;
    }

    /** Why the session stopped serving faults, or null. */
    String failure()
    {
        return failure;
    }

    int capacityPages()
    {
        return capacityPages;
    }

    int pid()
    {
        return pid;
    }

    int uffdDescriptor()
    {
        return uffd.fd();
    }

    /** The session's counts so far (read them from the handler thread, or after it stopped). */
    ExecCounts counts()
    {
        return new ExecCounts(missingFaults.get(), writeProtectFaults.get(), pLocalFills.get(), fetches.get(),
            evictions.get(), writeBacks.get(), duplicateFaults.get(), residentPeak.get(), touchedPages.get(),
            capacityPages);
    }

    @Override
    public void close()
    {
        LibC.munmap(mirrorBase, arenaBytes);
        uffd.close();
        LibC.close(memfd);
    }
}
