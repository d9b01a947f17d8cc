package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.MutableDirectBuffer;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Memory replication (LegoOS's, plus the recovery LegoOS lacks), both sides of it:
 * <ul>
 * <li>As a <b>primary</b>: each owned vRegion with a secondary ({@link VRegion#secondary}, set by
 * {@link Opcodes#VMA_REPLICATE}) forwards every write-back ({@link Opcodes#REPLICA_WRITE_BACK}) and every vma change
 * ({@link Opcodes#REPLICA_VMA}) to it; a new secondary first gets the vma table, then the pages (copied by a
 * background thread). Every forward goes through one ordered {@link ForwardStream}, and a write-back or page copy
 * queues its forward under its page's striped lock, so the secondary applies a page's versions in the primary's
 * order. A write-back is acknowledged once the secondary has it: at once for a plain one (the caller waits for its
 * forward); a piggybacked one the processor keeps until then is answered at once with a ticket, acknowledged later
 * ({@link Opcodes#LINE_REPLICA_ACKS}). A secondary that fails in transport is dropped (the write-back is still
 * acknowledged: the primary has it) and reported to the GMM, which picks a new one.</li>
 * <li>As a <b>secondary</b>: a {@code standby} vma owner holds the replicated vRegions' vma tables (no pages), and the
 * forwarded write-backs and page copies go to the {@link WriteBackLog} ({@link Secondary}); an unmap there appends a
 * discard to the log. {@link Opcodes#REPLICA_PROMOTE} builds the vRegion's pages by replaying the log in order
 * (shipped batches from the backup file, then the tail in memory, each entry checked) and moves the vRegion into this
 * monitor's owned ones: the failover.</li>
 * </ul>
 * Thread-safe.
 */
final class Replication implements VmaOwner.ReplicaListener, RequestHandler, AutoCloseable
{
    private static final int STRIPES = 64;
    /** The longest a write-back waits for its forward (they queue behind others, each bounded by its own timeout). */
    private static final long FORWARD_WAIT_NS = TimeUnit.SECONDS.toNanos(10);
    /** The longest a processor's request for acknowledgements waits (it then writes its victim back plainly). */
    private static final long ACK_WAIT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final int MAX_FREE_BUFFERS = 1024;

    private final VmaOwner owner;
    private final VmaOwner standby;
    private final WriteBackLog log;
    private final PagePool pool;
    private final Peers peers;
    private final MemoryMonitorCounters counters;
    private final ErrorHandler errors;
    private final int pageBytes;
    private final int pageShift;
    private final long vRegionBytes;
    private final Object[] stripes = new Object[STRIPES];
    /** Secondaries that failed in transport: not called again until a VMA_REPLICATE names them again. */
    private final Set<Integer> lostSecondaries = ConcurrentHashMap.newKeySet();
    private final LinkedBlockingQueue<Runnable> copies = new LinkedBlockingQueue<>();
    /**
     * Secondary: the standby vRegions ({@link VRegion#key}) whose primary has not finished copying its older pages
     * here: promoting one would serve zeros for them, so a promotion is refused (the vRegion is lost, and says so).
     */
    private final Set<Long> incompleteCopies = ConcurrentHashMap.newKeySet();
    /** Primary: the vRegions ({@link VRegion#key}) fenced here because another monitor owns them now. */
    private final Set<Long> movedAway = ConcurrentHashMap.newKeySet();
    private final Thread copier;
    private final ForwardStream stream;
    /** Recycled forward copies, by log2 of their length (lines are powers of two up to a page). */
    @SuppressWarnings("unchecked")
    private final java.util.concurrent.ConcurrentLinkedQueue<org.agrona.concurrent.UnsafeBuffer>[] freeBuffers =
        new java.util.concurrent.ConcurrentLinkedQueue[32];
    private final java.util.concurrent.atomic.AtomicInteger freeBufferCount =
        new java.util.concurrent.atomic.AtomicInteger();
    /** Fences so far: a pending write-back applied before a fence may have been refused by the new owner. */
    private final java.util.concurrent.atomic.AtomicInteger fences = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;
    private volatile boolean forwarding;

    Replication(final VmaOwner owner, final VmaOwner standby, final WriteBackLog log, final PagePool pool,
        final Peers peers, final MemoryMonitorCounters counters, final ErrorHandler errors, final int pageBytes,
        final long vRegionBytes)
    {
        this.owner = owner;
        this.standby = standby;
        this.log = log;
        this.pool = pool;
        this.peers = peers;
        this.counters = counters;
        this.errors = errors;
        this.pageBytes = pageBytes;
        this.pageShift = Integer.numberOfTrailingZeros(pageBytes);
        this.vRegionBytes = vRegionBytes;
        for (int i = 0; i < STRIPES; i++)
        {
            stripes[i] = new Object();
        }
        for (int i = 0; i < freeBuffers.length; i++)
        {
            freeBuffers[i] = new java.util.concurrent.ConcurrentLinkedQueue<>();
        }
        // Not a runtime agent: a copy waits on the network, which must not stall the runtime's shared thread. Started
        // at the first replication.
        stream = new ForwardStream(errors);
        copier = new Thread(this::copyLoop, "memory-replica-copier");
        copier.setDaemon(true);
        owner.replicaListener(this);
        peers.replication(this);
    }

    private synchronized void startCopier()
    {
        if (!forwarding)
        {
            forwarding = true;
            stream.start();
            copier.start();
        }
    }

    /** True once this monitor has replicated a vRegion: its write-backs may then wait on a secondary. */
    boolean forwarding()
    {
        return forwarding;
    }

    /** The lock a write-back of {@code lineAddress} and a copy of its page hold while they apply and forward. */
    Object stripe(final long lineAddress)
    {
        return stripes[(int)((lineAddress >>> pageShift) & (STRIPES - 1))];
    }

    /**
     * Primary: forward a write-back just applied to {@code region}'s page (the caller holds {@link #stripe}) to the
     * region's secondary, if it has one: queued now, in the page's order. With {@code async} the caller does not
     * wait: the forward's ticket comes back, for the processor to learn later that it is done
     * ({@link #acks}); otherwise it waits for the secondary's acknowledgement.
     *
     * @return 0 (the write-back may be acknowledged), a ticket (&gt; 0, async only: applied here, pending at the
     * secondary), ESTALE: the secondary owns the vRegion now (this monitor was declared dead while alive and the
     * vRegion promoted there), so the region is fenced here and the write-back must fail: the processor writes it
     * back to the new owner; or TIMEOUT (the forwards before it did not go out in time: not acknowledged).
     */
    long forwardWriteBack(final VRegion region, final long lineAddress, final int lengthBytes,
        final DirectBuffer src, final int srcOffset, final boolean async)
    {
        final int secondary = region.secondary;
        if (secondary == VRegion.NO_SECONDARY)
        {
            return 0;
        }
        final org.agrona.concurrent.UnsafeBuffer copy = takeBuffer(lengthBytes);
        copy.putBytes(0, src, srcOffset, lengthBytes);
        final ForwardStream.Ticket ticket = stream.add(() ->
        {
            try
            {
                return sendWriteBack(region, secondary, lineAddress, copy);
            }
            finally
            {
                giveBuffer(copy);
            }
        });
        if (async && ticket.number <= Integer.MAX_VALUE)
        {
            return ticket.number; // past an int (never in practice), the caller waits as for a plain one
        }
        if (!stream.await(ticket.number, FORWARD_WAIT_NS))
        {
            return Status.TIMEOUT;
        }
        return ticket.result() == Errno.ESTALE ? Errno.ESTALE : 0;
    }

    /** A buffer of {@code lengthBytes} for a forward's copy: a recycled one when there is one (no garbage per miss). */
    private org.agrona.concurrent.UnsafeBuffer takeBuffer(final int lengthBytes)
    {
        final java.util.concurrent.ConcurrentLinkedQueue<org.agrona.concurrent.UnsafeBuffer> free =
            freeBuffers[Integer.numberOfTrailingZeros(lengthBytes)];
        final org.agrona.concurrent.UnsafeBuffer buffer = free.poll();
        if (buffer != null)
        {
            freeBufferCount.decrementAndGet();
            return buffer;
        }
        return new org.agrona.concurrent.UnsafeBuffer(new byte[lengthBytes]);
    }

    /** A forward's copy, sent: kept for reuse while few are kept. */
    private void giveBuffer(final org.agrona.concurrent.UnsafeBuffer buffer)
    {
        if (freeBufferCount.incrementAndGet() <= MAX_FREE_BUFFERS)
        {
            freeBuffers[Integer.numberOfTrailingZeros(buffer.capacity())].offer(buffer);
        }
        else
        {
            freeBufferCount.decrementAndGet();
        }
    }

    /** Send one forwarded write-back (the stream's order); a refusal fences the region, a failure drops the secondary. */
    private long sendWriteBack(final VRegion region, final int secondary, final long lineAddress,
        final org.agrona.concurrent.UnsafeBuffer copy)
    {
        final MemoryMonitorProxy peer = secondaryPeer(secondary);
        final int result = peer == null ? Status.NOT_CONNECTED :
            peer.replicaWriteBack(region.asid, lineAddress, copy.capacity(), copy, 0);
        if (result == Errno.ESTALE)
        {
            fence(region.asid, region.index, "its secondary, memory monitor " + secondary + ", owns it now");
            return Errno.ESTALE;
        }
        if (result < 0)
        {
            lose(region, secondary, "a forwarded write-back failed: " + describe(result));
        }
        else
        {
            counters.increment(MemoryMonitorCounters.REPLICA_FORWARDS);
        }
        return result;
    }

    /** The fences so far ({@link #fence}): read before a pending write-back is applied. */
    int fences()
    {
        return fences.get();
    }

    /**
     * How far the forwards have gone: every ticket up to the result is done. With {@code wait}, first send the
     * forwards up to {@code ticket} (in this thread, when the stream is not sending one), at most a second.
     */
    long acks(final long ticket, final boolean wait)
    {
        if (wait && ticket > stream.done())
        {
            stream.await(Math.min(ticket, stream.queued()), ACK_WAIT_NS);
        }
        return stream.done();
    }

    /**
     * This monitor no longer owns vRegion {@code index} of {@code asid} (it was declared dead while alive and the
     * vRegion promoted at its secondary): out of the owned table, and every access still in flight or still sent here
     * by a processor that has not heard of the move is answered ESTALE. Its pages are not freed: a write-back or
     * fetch may still hold one (they stay with the detached region).
     */
    void fence(final int asid, final int index, final String why)
    {
        movedAway.add(VRegion.key(asid, index));
        final VRegion region = owner.detach(asid, index);
        if (region != null)
        {
            region.fenced = true;
            fences.incrementAndGet(); // after the flag: a write-back that read the older count sees it fenced
            counters.increment(MemoryMonitorCounters.VREGIONS_FENCED);
            errors.onError(new IllegalStateException("memory monitor " + peers.memberId() + ": vRegion " + index +
                " of process " + asid + " has moved away (" + why + "): this monitor was declared dead while alive " +
                "and no longer serves it"));
        }
    }

    /** True if the vRegion holding {@code address} of {@code asid} moved away from this monitor ({@link #fence}). */
    boolean movedAway(final int asid, final long address)
    {
        return !movedAway.isEmpty() && movedAway.contains(VRegion.key(asid, (int)(address / vRegionBytes)));
    }

    @Override
    public void onVmaChange(final VRegion region, final int opcode, final long address, final long lengthBytes,
        final int prot)
    {
        forwardVma(region, opcode, address, lengthBytes, prot);
    }

    @Override
    public void onPagesMoved(final VRegion target, final long address, final long lengthBytes)
    {
        final int secondary = target.secondary;
        for (long at = address; at < address + lengthBytes && target.secondary == secondary; at += pageBytes)
        {
            copyPage(target, secondary, at);
        }
    }

    @Override
    public void onDropped(final VRegion region)
    {
        forwardVma(region, Opcodes.VMA_DROP_PROCESS, 0, 0, 0);
    }

    /**
     * Primary: replicate vRegion {@code index} of {@code asid} to {@code secondary} (or stop, with
     * {@link VRegion#NO_SECONDARY}): its vma table now, its pages in the background.
     *
     * @return 0, ENOENT (not owned here), EINVAL (this monitor itself), or the failure of sending the vma table.
     */
    long replicate(final int asid, final int index, final int secondary)
    {
        final VRegion region = owner.region(asid, index);
        if (region == null)
        {
            return Errno.ENOENT;
        }
        if (secondary == VRegion.NO_SECONDARY)
        {
            region.secondary = VRegion.NO_SECONDARY;
            return 0;
        }
        if (secondary < 0 || secondary == peers.memberId())
        {
            return Errno.EINVAL;
        }
        lostSecondaries.remove(secondary);
        startCopier();
        // Forwards queued for an earlier secondary go first: none may land after the copy restarts from nothing.
        stream.await(stream.queued(), FORWARD_WAIT_NS);
        final MemoryMonitorProxy peer = secondaryPeer(secondary);
        if (peer == null)
        {
            return Status.NOT_CONNECTED;
        }
        final long[] result = new long[1];
        owner.underControlLock(() ->
        {
            // The secondary's copy starts from nothing: a stale one (an earlier replication there) goes first, and
            // it is not promotable until every older page is there (REPLICA_COPY_DONE).
            result[0] = peer.ownerOperation(Opcodes.REPLICA_VMA, asid, region.base, vRegionBytes, 0,
                Opcodes.REPLICA_COPY_BEGIN, 0, 0);
            if (result[0] >= 0)
            {
                result[0] = peer.ownerOperation(Opcodes.REPLICA_VMA, asid, region.base, vRegionBytes, 0,
                    Opcodes.VMA_UNMAP, 0, 0);
            }
            final VmaTable vmas = region.vmas;
            for (int i = 0; i < vmas.count() && result[0] >= 0; i++)
            {
                result[0] = peer.ownerOperation(Opcodes.REPLICA_VMA, asid, vmas.start(i), vmas.end(i) - vmas.start(i),
                    vmas.prot(i), Opcodes.VMA_MAP_FIXED, 0, 0);
            }
            if (result[0] >= 0)
            {
                // From here every write-back and vma change is forwarded; the copy below fills in the older pages.
                region.secondary = secondary;
            }
        });
        if (result[0] < 0)
        {
            return result[0];
        }
        counters.increment(MemoryMonitorCounters.REPLICATIONS_STARTED);
        copies.add(() -> copyPages(region, secondary));
        return 0;
    }

    /** Secondary: a vma change of a replicated vRegion, or a promotion. */
    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < SyscallRequestDescriptor.LENGTH || replyCapacity < SyscallReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final int asid = SyscallRequestDescriptor.asid(request, offset);
        final long result;
        final int vmaOpcode = SyscallRequestDescriptor.flags(request, offset);
        final long copyKey = VRegion.key(asid, (int)(SyscallRequestDescriptor.address(request, offset) / vRegionBytes));
        if (opcode == Opcodes.REPLICA_PROMOTE)
        {
            result = promote(asid, SyscallRequestDescriptor.newAddress(request, offset));
        }
        else if (vmaOpcode == Opcodes.REPLICA_COPY_BEGIN)
        {
            incompleteCopies.add(copyKey);
            result = 0;
        }
        else if (vmaOpcode == Opcodes.REPLICA_COPY_DONE)
        {
            incompleteCopies.remove(copyKey);
            result = 0;
        }
        else if (vmaOpcode == Opcodes.REPLICA_DROP)
        {
            result = dropStandby(asid, SyscallRequestDescriptor.newAddress(request, offset));
        }
        else if (vmaOpcode == Opcodes.REPLICA_FENCE)
        {
            final long index = SyscallRequestDescriptor.newAddress(request, offset);
            if (index < 0 || index > Integer.MAX_VALUE)
            {
                result = Errno.EINVAL;
            }
            else
            {
                fence(asid, (int)index, "the GMM promoted its secondary");
                result = 0;
            }
        }
        else
        {
            if (vmaOpcode == Opcodes.VMA_DROP_PROCESS)
            {
                incompleteCopies.removeIf(key -> (int)(key >>> 32) == asid);
            }
            final long address = SyscallRequestDescriptor.address(request, offset);
            final long lengthBytes = SyscallRequestDescriptor.lengthBytes(request, offset);
            final long changed = vmaOpcode == Opcodes.VMA_MAP_FIXED || vmaOpcode == Opcodes.VMA_UNMAP ||
                vmaOpcode == Opcodes.VMA_PROTECT || vmaOpcode == Opcodes.VMA_DROP_PROCESS ?
                standby.ownerOperation(vmaOpcode, asid, address, lengthBytes,
                    SyscallRequestDescriptor.prot(request, offset), 0) : Errno.EINVAL;
            if (changed >= 0 && vmaOpcode == Opcodes.VMA_DROP_PROCESS)
            {
                result = log.appendProcessGone(asid, () -> standby.ownedVRegions() == 0);
            }
            else if (changed >= 0 && vmaOpcode == Opcodes.VMA_UNMAP)
            {
                // Lines logged there before are void: a later map of the range starts from zeros, as at the primary.
                final int discarded = log.appendDiscard(asid, address, lengthBytes);
                result = discarded < 0 ? discarded : changed;
            }
            else
            {
                result = changed;
            }
        }
        return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, result, 0);
    }

    /**
     * Secondary no more: free the replica (vma table, logged lines) of vRegion {@code index} (this monitor was
     * declared dead by mistake and another secondary was named), or it would count against its capacity for good.
     */
    private long dropStandby(final int asid, final long index)
    {
        if (index < 0 || index > Integer.MAX_VALUE)
        {
            return Errno.EINVAL;
        }
        incompleteCopies.remove(VRegion.key(asid, (int)index));
        final long result = standby.ownerOperation(Opcodes.VMA_UNMAP, asid, index * vRegionBytes, vRegionBytes, 0, 0);
        return result < 0 ? result : log.appendDiscard(asid, index * vRegionBytes, vRegionBytes);
    }

    /**
     * Secondary: vRegion {@code index} becomes an owned vRegion, its pages built from the log: 0, EINVAL, ENOENT (not
     * replicated here), EAGAIN (its copy was incomplete), EIO (the log cannot be read back: the vRegion is lost),
     * ENOMEM, or EEXIST.
     */
    private long promote(final int asid, final long index)
    {
        if (index < 0 || index > Integer.MAX_VALUE)
        {
            return Errno.EINVAL;
        }
        if (owner.region(asid, (int)index) != null)
        {
            if (standby.region(asid, (int)index) == null)
            {
                return 0; // promoted already (the GMM asked again)
            }
            // An owned copy left from before this monitor was declared dead and never fenced: stale, the replica
            // (replicated here since) is the current one.
            fence(asid, (int)index, "a newer copy replicated here is promoted");
        }
        if (incompleteCopies.contains(VRegion.key(asid, (int)index)))
        {
            return Errno.EAGAIN; // its primary died before it had copied every page here
        }
        final VRegion region;
        synchronized (log)
        {
            // From here a forwarded line of it is refused (Secondary checks under the same lock): the log is complete.
            region = standby.detach(asid, (int)index);
        }
        if (region == null)
        {
            return Errno.ENOENT;
        }
        final long startNs = System.nanoTime();
        final LogReplay replay = new LogReplay(region);
        try
        {
            log.replay(replay);
        }
        catch (final IllegalStateException ex)
        {
            replay.failure = Errno.EIO;
            errors.onError(new IllegalStateException("memory monitor " + peers.memberId() + ": vRegion " + index +
                " of process " + asid + " cannot be promoted: " + ex.getMessage(), ex));
        }
        if (replay.failure != 0)
        {
            region.freePages(0, vRegionBytes >>> pageShift, pool);
            return replay.failure;
        }
        final long replayNs = System.nanoTime() - startNs;
        region.secondary = VRegion.NO_SECONDARY;
        movedAway.remove(VRegion.key(asid, (int)index)); // it came back here
        final int result = owner.adopt(region);
        if (result != 0)
        {
            region.freePages(0, vRegionBytes >>> pageShift, pool);
            return result;
        }
        // Its entries here are done with (a later replication here starts with a discard too).
        log.appendDiscard(asid, region.base, vRegionBytes);
        counters.increment(MemoryMonitorCounters.PROMOTIONS);
        counters.add(MemoryMonitorCounters.REPLAYED_ENTRIES, replay.entries);
        counters.add(MemoryMonitorCounters.REPLAY_MICROS, TimeUnit.NANOSECONDS.toMicros(replayNs));
        System.out.println("memory monitor " + peers.memberId() + ": promoted vRegion " + index + " of process " +
            asid + ": replayed " + replay.entries + " of " + replay.scanned + " log entries into " +
            region.pageCount() + " pages in " + TimeUnit.NANOSECONDS.toMicros(replayNs) + " us" +
            (log.hasBackup() ? " (" + log.shippedBytes() + " bytes shipped to the backup file)" : ""));
        return 0;
    }

    /** Builds a promoted vRegion's pages from the log's entries of it, in order. */
    private final class LogReplay implements WriteBackLog.EntryHandler
    {
        private final VRegion region;
        private final boolean[] created = new boolean[1];
        long entries;
        long scanned;
        int failure;

        LogReplay(final VRegion region)
        {
            this.region = region;
        }

        @Override
        public void onLine(final int asid, final long lineAddress, final DirectBuffer data, final int dataOffset,
            final int lengthBytes)
        {
            scanned++;
            if (asid != region.asid || lineAddress < region.base || lineAddress >= region.limit || failure != 0)
            {
                return;
            }
            final int page = region.page((lineAddress - region.base) >>> pageShift, pool, created);
            if (page == PagePool.NO_PAGE)
            {
                counters.increment(MemoryMonitorCounters.OUT_OF_MEMORY);
                failure = Errno.ENOMEM;
                return;
            }
            pool.buffer(page).putBytes(pool.offset(page) + (int)(lineAddress & (pageBytes - 1)), data, dataOffset,
                lengthBytes);
            entries++;
        }

        @Override
        public void onDiscard(final int asid, final long start, final long length)
        {
            scanned++;
            final long end = start + length;
            if (asid != region.asid || end <= region.base || start >= region.limit)
            {
                return;
            }
            region.freePages((Math.max(start, region.base) - region.base) >>> pageShift,
                (Math.min(end, region.limit) - region.base + pageBytes - 1) >>> pageShift, pool);
            entries++;
        }
    }

    /** Write-backs a secondary refused, or forwards that failed: the vRegion was left without a replica. */
    private void lose(final VRegion region, final int secondary, final String why)
    {
        final GlobalManagerProxy gmm = peers.global();
        if (region.secondary == secondary)
        {
            region.secondary = VRegion.NO_SECONDARY;
            counters.increment(MemoryMonitorCounters.REPLICAS_LOST);
            if (gmm != null)
            {
                // The secondary may be alive (a refused forward): the GMM releases its replica and names another.
                gmm.replicaLost(secondary, region.asid, region.index);
            }
        }
        if (lostSecondaries.add(secondary))
        {
            errors.onError(new IllegalStateException("memory monitor " + peers.memberId() + ": the secondary " +
                secondary + " of vRegion " + region.index + " of process " + region.asid + " is lost (" + why +
                "); its vRegions here run without a replica until the GMM names a new one"));
            if (gmm != null)
            {
                gmm.suspectMember(secondary);
            }
        }
    }

    private void forwardVma(final VRegion region, final int opcode, final long address, final long lengthBytes,
        final int prot)
    {
        final int secondary = region.secondary;
        if (secondary == VRegion.NO_SECONDARY)
        {
            return;
        }
        // In the stream: after the write-backs queued before it (an unmap must not overtake them).
        final ForwardStream.Ticket ticket = stream.add(() ->
        {
            final MemoryMonitorProxy peer = secondaryPeer(secondary);
            final long result = peer == null ? Status.NOT_CONNECTED :
                peer.ownerOperation(Opcodes.REPLICA_VMA, region.asid, address, lengthBytes, prot, opcode, 0, 0);
            if (result < 0)
            {
                lose(region, secondary, "a forwarded vma change failed: " + describe(result));
            }
            return result;
        });
        if (!stream.await(ticket.number, FORWARD_WAIT_NS))
        {
            lose(region, secondary, "a forwarded vma change waited longer than " +
                TimeUnit.NANOSECONDS.toMillis(FORWARD_WAIT_NS) + " ms");
        }
    }

    private MemoryMonitorProxy secondaryPeer(final int secondary)
    {
        if (lostSecondaries.contains(secondary))
        {
            return null;
        }
        try
        {
            return peers.peer(secondary);
        }
        catch (final RuntimeException ex)
        {
            return null; // cannot connect: the caller drops the secondary
        }
    }

    /** Copy every page of {@code region} to {@code secondary}, unless the vRegion's secondary changes meanwhile. */
    private void copyPages(final VRegion region, final int secondary)
    {
        final long pages = vRegionBytes >>> pageShift;
        long index = region.nextPage(0, pages);
        while (index >= 0 && region.secondary == secondary && !closed)
        {
            copyPage(region, secondary, region.base + (index << pageShift));
            index = region.nextPage(index + 1, pages);
        }
        if (region.secondary != secondary || closed)
        {
            return;
        }
        final MemoryMonitorProxy peer = secondaryPeer(secondary);
        final long result = peer == null ? Status.NOT_CONNECTED :
            peer.ownerOperation(Opcodes.REPLICA_VMA, region.asid, region.base, vRegionBytes, 0,
                Opcodes.REPLICA_COPY_DONE, 0, 0);
        if (result < 0)
        {
            lose(region, secondary, "marking its copy complete failed: " + describe(result));
            return;
        }
        counters.increment(MemoryMonitorCounters.REPLICATIONS_COMPLETED);
    }

    private void copyPage(final VRegion region, final int secondary, final long pageAddress)
    {
        final ForwardStream.Ticket ticket;
        synchronized (stripe(pageAddress))
        {
            final int page = region.pageIfPresent((pageAddress - region.base) >>> pageShift);
            if (page == PagePool.NO_PAGE || region.secondary != secondary)
            {
                return;
            }
            // Taken and queued under the stripe: after the write-backs applied before, before those after.
            final org.agrona.concurrent.UnsafeBuffer copy = new org.agrona.concurrent.UnsafeBuffer(new byte[pageBytes]);
            copy.putBytes(0, pool.buffer(page), pool.offset(page), pageBytes);
            ticket = stream.add(() ->
            {
                final MemoryMonitorProxy peer = secondaryPeer(secondary);
                final int result = peer == null ? Status.NOT_CONNECTED :
                    peer.replicaWriteBack(region.asid, pageAddress, pageBytes, copy, 0);
                if (result < 0)
                {
                    lose(region, secondary, "a page copy failed: " + describe(result));
                }
                else
                {
                    counters.increment(MemoryMonitorCounters.REPLICA_PAGES_COPIED);
                }
                return result;
            });
        }
        if (!stream.await(ticket.number, FORWARD_WAIT_NS))
        {
            lose(region, secondary, "a page copy waited longer than " +
                TimeUnit.NANOSECONDS.toMillis(FORWARD_WAIT_NS) + " ms");
        }
    }

    private void copyLoop()
    {
        try
        {
            while (!closed)
            {
                final Runnable copy = copies.poll(100, TimeUnit.MILLISECONDS);
                if (copy != null)
                {
                    try
                    {
                        copy.run();
                    }
                    catch (final RuntimeException ex)
                    {
                        errors.onError(ex);
                    }
                }
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Hold the forwards to secondaries queued after this call until the latch is counted down (tests). */
    java.util.concurrent.CountDownLatch holdForwards()
    {
        startCopier();
        return stream.hold();
    }

    /** How many forwards to secondaries were queued so far (tests). */
    long forwardsQueued()
    {
        return stream.queued();
    }

    /** Secondary: whether this monitor holds a replica of the vRegion that a promotion would take (tests). */
    boolean hasCompleteReplica(final int asid, final int index)
    {
        final long key = VRegion.key(asid, index);
        return standby.region(asid, index) != null && !incompleteCopies.contains(key);
    }

    /** Hold the page copies queued after this call until the latch is counted down, at most a minute (tests). */
    java.util.concurrent.CountDownLatch holdCopies()
    {
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        startCopier();
        copies.add(() ->
        {
            try
            {
                release.await(60, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        });
        return release;
    }

    boolean awaitCopies(final long timeoutMs) throws InterruptedException
    {
        if (!forwarding)
        {
            return true;
        }
        final long deadlineMs = System.currentTimeMillis() + timeoutMs;
        final Object done = new Object();
        final boolean[] ran = new boolean[1];
        copies.add(() ->
        {
            synchronized (done)
            {
                ran[0] = true;
                done.notifyAll();
            }
        });
        synchronized (done)
        {
            while (!ran[0] && System.currentTimeMillis() < deadlineMs)
            {
                done.wait(Math.max(1, deadlineMs - System.currentTimeMillis()));
            }
            return ran[0];
        }
    }

    private static String describe(final long result)
    {
        return Errno.describe(result);
    }

    @Override
    public void close()
    {
        closed = true;
        stream.close();
        copier.interrupt();
        try
        {
            if (forwarding)
            {
                copier.join(5_000);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
