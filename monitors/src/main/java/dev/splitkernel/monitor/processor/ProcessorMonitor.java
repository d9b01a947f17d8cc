package dev.splitkernel.monitor.processor;

import dev.splitkernel.excache.ExCache;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.excache.ExCacheFault;
import dev.splitkernel.excache.InjectedRegression;
import dev.splitkernel.excache.LineMemoryAllocator;
import dev.splitkernel.excache.LineSource;
import dev.splitkernel.monitor.IntervalAgent;
import dev.splitkernel.monitor.runtime.MonitorResources;
import dev.splitkernel.monitor.status.LatencyHistogram;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.monitor.status.StatusFileDescriptor;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.LineLocation;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The processor monitor (pComponent): runs processes and their threads and owns the ExCache. It is the cache's
 * {@link LineSource}: a miss resolves its line once in the process's {@link ProcessView} (vRegion, owner's
 * connection, learned page location) and goes straight to the memory monitor that owns it; fresh anonymous lines
 * are zero-filled here (p-local); a line whose page address is known is re-read with a one-sided READ straight into
 * the cache line, using no memory-monitor CPU. No miss asks the global managers anything or sets up a connection:
 * they push membership changes here ({@link Opcodes#MEMBER_UPDATE}, {@link Opcodes#VREGION_OWNER}). A miss whose
 * owner is down waits a bounded time for a new owner (or the old one back), then fails with EHOSTDOWN.
 * <p>
 * The cache's lines live in memory registered with the fabric. A load-report agent tells the global process manager
 * how many threads run here.
 * <p>
 * Thread-safe: the miss path runs in faulting threads, concurrently; process and owner tables are copy-on-write.
 */
public final class ProcessorMonitor implements LineSource, AutoCloseable
{
    private final ProcessorMonitorContext ctx;
    private final MonitorResources resources;
    private final Fabric fabric;
    private final ExCache cache;
    private final int lineBytes;
    private final int lineShift;
    private final long timeoutNs;
    private final long ownerWaitNs;
    private final boolean oneSided;
    private final Owners owners;
    private final GlobalManagerProxy global;
    private final int memberId;
    private final String listenAddress;
    /** How often the write-back agent asks owners for acknowledgements of pending victims. */
    private static final long ACK_POLL_NS = 1_000_000L;
    private final AtomicInteger runningThreads = new AtomicInteger();
    private final ThreadLocal<LineLocation> locations = ThreadLocal.withInitial(LineLocation::new);
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final List<MemoryRegion> cacheRegions = new ArrayList<>();
    private volatile long[] segmentStarts = new long[0];
    private volatile long[] segmentEnds = new long[0];
    private volatile MemoryRegion[] segmentRegions = new MemoryRegion[0];
    private volatile Int2ObjectHashMap<LegoProcess> processes = new Int2ObjectHashMap<>();

    // Counters and latency histograms, in the monitor's status file.
    private final AtomicCounter oneSidedReads;
    private final AtomicCounter oneSidedFailures;
    private final AtomicCounter rpcFetches;
    private final AtomicCounter piggybackFetches;
    private final AtomicCounter pLocalFills;
    private final AtomicCounter writeBacks;
    private final AtomicCounter missErrors;
    private final AtomicCounter ownerWaits;
    private final AtomicCounter ownerChanges;
    private final AtomicCounter busyRetries;
    private final AtomicCounter segfaults;
    private final LatencyHistogram missLatency;
    private final LatencyHistogram writeBackLatency;
    private final AtomicCounter ownerRecoveries;
    private final AtomicCounter firstOwnerDownMs;
    private final AtomicCounter firstRecoveredMs;
    private final MonitorStatus status;
    private final PendingWriteBacks pending;
    private final AtomicCounter pendingAdded;
    private final AtomicCounter pendingResent;
    private final AtomicCounter pendingFull;
    /** Owner changes whose pending write-backs were re-sent ({@link #settleMoves}); guarded by itself for writes. */
    private final Object settleLock = new Object();
    private volatile long settledMoves;
    private long lastAckPollNs; // the write-back agent's thread only
    private final long[] agentAcks = new long[2];
    private volatile boolean closed;

    /**
     * Join the cluster: register with the global manager, create the ExCache over registered memory, start the load
     * reporter.
     *
     * @throws FabricException     when the global manager cannot be reached.
     * @throws IllegalStateException when it refuses the registration.
     */
    public ProcessorMonitor(final ProcessorMonitorContext ctx)
    {
        ctx.conclude();
        this.ctx = ctx;
        resources = MonitorResources.open("processor " + ctx.listenAddress(), ctx.runtime(), ctx.fabric(),
            ctx.fabricContext());
        fabric = resources.fabric();
        status = resources.status();
        oneSidedReads = status.newCounter("processor: one-sided reads", MonitorStatus.TYPE_MONITOR);
        oneSidedFailures = status.newCounter("processor: one-sided re-fetches", MonitorStatus.TYPE_MONITOR);
        rpcFetches = status.newCounter("processor: rpc fetches", MonitorStatus.TYPE_MONITOR);
        piggybackFetches = status.newCounter("processor: piggybacked fetches", MonitorStatus.TYPE_MONITOR);
        pLocalFills = status.newCounter("processor: p-local fills", MonitorStatus.TYPE_MONITOR);
        writeBacks = status.newCounter("processor: write-backs", MonitorStatus.TYPE_MONITOR);
        missErrors = status.newCounter("processor: miss errors", MonitorStatus.TYPE_MONITOR);
        ownerWaits = status.newCounter("processor: owner waits", MonitorStatus.TYPE_MONITOR);
        ownerChanges = status.newCounter("processor: owner changes", MonitorStatus.TYPE_MONITOR);
        busyRetries = status.newCounter("processor: busy retries", MonitorStatus.TYPE_MONITOR);
        segfaults = status.newCounter("processor: segmentation faults", MonitorStatus.TYPE_MONITOR);
        ownerRecoveries = status.newCounter("processor: served by a replacement owner", MonitorStatus.TYPE_MONITOR);
        firstOwnerDownMs = status.newCounter("processor: first owner down, epoch ms", MonitorStatus.TYPE_MONITOR);
        firstRecoveredMs = status.newCounter("processor: first served by a replacement, epoch ms",
            MonitorStatus.TYPE_MONITOR);
        pendingAdded = status.newCounter("processor: write-backs kept until replicated", MonitorStatus.TYPE_MONITOR);
        pendingResent = status.newCounter("processor: pending write-backs re-sent", MonitorStatus.TYPE_MONITOR);
        pendingFull = status.newCounter("processor: pending write-backs full", MonitorStatus.TYPE_MONITOR);
        missLatency = status.histogram(StatusFileDescriptor.MISS_LATENCY);
        writeBackLatency = status.histogram(StatusFileDescriptor.WRITE_BACK_LATENCY);
        timeoutNs = ctx.timeoutNs();
        ownerWaitNs = ctx.ownerWaitNs();
        oneSided = ctx.oneSided();
        owners = new Owners(fabric, this::lookupAddress, ctx.excache().lineBytes(), timeoutNs,
            this::error, status.newCounter("processor: owner lookups", MonitorStatus.TYPE_MONITOR));
        GlobalManagerProxy globalProxy = null;
        ExCache excache = null;
        try
        {
            listenAddress = resources.listen(ctx.listenAddress(), new PushHandler());
            globalProxy = new GlobalManagerProxy(fabric.connect(ctx.globalAddress()), timeoutNs);
            final int id = globalProxy.registerMember(GlobalDescriptor.ROLE_PROCESSOR, 0, listenAddress);
            if (id < 0)
            {
                throw new IllegalStateException("the global manager at " + ctx.globalAddress()
                    + " refused the processor monitor: " + Errno.describe(id));
            }
            memberId = id;

            final ExCacheContext excacheCtx = ctx.excache();
            excacheCtx.segmentAllocator(new RegisteredAllocator());
            excacheCtx.faultHandler(this::onCacheFault);
            excacheCtx.countersManager(status.countersManager());
            excache = new ExCache(excacheCtx, this);
            final ExCache published = excache;
            status.gauge("excache: hits", ExCache.COUNTERS_TYPE_ID, () -> published.counters().hits());
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(excache);
            CloseHelper.quietClose(owners);
            CloseHelper.quietClose(globalProxy);
            resources.close();
            throw ex;
        }
        global = globalProxy;
        cache = excache;
        lineBytes = cache.lineBytes();
        lineShift = Integer.numberOfTrailingZeros(lineBytes);
        pending = new PendingWriteBacks(lineBytes, ctx.pendingWriteBacks());
        resources.runBackground(new LoadReporter());
        resources.runBackground(new WriteBackAgent());
    }

    public ProcessorMonitorContext context()
    {
        return ctx;
    }

    /** This monitor's member id at the global manager. */
    public int memberId()
    {
        return memberId;
    }

    public String listenAddress()
    {
        return listenAddress;
    }

    public ExCache cache()
    {
        return cache;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    /** This monitor's status file: its counters, histograms and error log. */
    public MonitorStatus status()
    {
        return status;
    }

    /** Threads of all processes running here: what the load reports tell the GPM. */
    public int runningThreads()
    {
        return runningThreads.get();
    }

    /**
     * A buffer of registered memory, known to the miss path: a one-sided READ of a line may land in it (the exec
     * fault handler's staging page). Control path; freed when the monitor closes.
     */
    public UnsafeBuffer allocateRegistered(final int lengthBytes)
    {
        checkOpen();
        return new RegisteredAllocator().allocate(lengthBytes);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Processes
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Create a process whose threads the caller drives (the caller's thread is its main thread): the GMM assigns
     * its pid and home memory monitor. End it with {@link LegoProcess#exit(int)} or close().
     *
     * @throws IllegalStateException when no home can be chosen or reached (naming the cause).
     */
    public LegoProcess createProcess(final String name)
    {
        checkOpen();
        final Placement placement = global.chooseHome(memberId);
        if (!placement.isOk())
        {
            throw new IllegalStateException("cannot create process '" + name + "': the GMM chose no home ("
                + Errno.describe(placement.result()) + ")");
        }
        final int pid = placement.asid();
        final Owners.Owner homeOwner = owners.entry(placement.memberId());
        owners.connectPending();
        final MemoryMonitorProxy home = homeOwner.proxy;
        if (home == null)
        {
            throw new IllegalStateException("cannot create process '" + name + "': home memory monitor "
                + placement.memberId() + " is unreachable");
        }
        final long created = home.createProcess(pid);
        if (created < 0)
        {
            throw new IllegalStateException("cannot create process '" + name + "': home " + placement.memberId()
                + " refused it (" + Errno.describe(created) + ")");
        }
        final LegoProcess process = new LegoProcess(this, cache, pid, name, placement.memberId(), home, owners,
            ctx.vRegionBytes(), oneSided);
        synchronized (this)
        {
            final Int2ObjectHashMap<LegoProcess> copy = new Int2ObjectHashMap<>(processes);
            copy.put(pid, process);
            processes = copy;
        }
        final long heap = process.init();
        if (heap < 0)
        {
            process.exit(1);
            throw new IllegalStateException("cannot create process '" + name + "': brk at home failed ("
                + Errno.describe(heap) + ")");
        }
        return process;
    }

    /**
     * Start a process running {@code main} in a thread of its own; the process exits with main's result (or is
     * killed by a fault). Wait for it with the returned handle's {@link LegoThread#join(long)}.
     */
    public LegoThread spawn(final String name, final Workload main)
    {
        final LegoProcess process = createProcess(name);
        return process.spawnThread("main", p ->
        {
            int code = 1;
            try
            {
                code = main.run(p);
                return code;
            }
            finally
            {
                process.exit(code);
            }
        });
    }

    /** The running process with this pid, or null. */
    public LegoProcess process(final int pid)
    {
        return processes.get(pid);
    }

    // ---------------------------------------------------------------------------------------------------------
    // LineSource: the miss path
    // ---------------------------------------------------------------------------------------------------------

    @Override
    public int zeroFill(final int asid, final long lineNumber)
    {
        final LegoProcess p = processes.get(asid);
        if (p == null)
        {
            return -1;
        }
        final int prot = p.mappings().protOf(lineNumber << lineShift);
        if (prot == Mappings.UNMAPPED || p.view().isWrittenBack(lineNumber))
        {
            return -1;
        }
        pLocalFills.increment();
        return prot & (PROT_READ | PROT_WRITE);
    }

    @Override
    public int fetch(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
    {
        final long startNs = missLatency.startNs();
        final int result = fetchLine(asid, lineNumber, dst, dstOffset);
        missLatency.recordSince(startNs);
        return result;
    }

    private int fetchLine(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset)
    {
        settleMoves();
        final LegoProcess p = processes.get(asid);
        if (p == null)
        {
            missErrors.increment();
            return Errno.ESRCH;
        }
        final long address = lineNumber << lineShift;
        final int prot = p.mappings().protOf(address);
        if (prot == Mappings.UNMAPPED)
        {
            missErrors.increment();
            return Errno.EFAULT;
        }
        final ProcessView view = p.view();
        final ProcessView.Region r = view.region(lineNumber);
        Owners.Owner owner = r == null ? null : r.owner;
        if (owner == null)
        {
            missErrors.increment();
            return Errno.EFAULT;
        }
        if (!owner.usable())
        {
            if ((owner = awaitOwner(asid, address, r, null, false)) == null)
            {
                missErrors.increment();
                return Errno.EHOSTDOWN;
            }
            settleMoves();
            recovered();
        }
        resendIfStale(asid, lineNumber, owner);
        final int i = view.indexOf(lineNumber);
        if (oneSided && !InjectedRegression.NO_ONE_SIDED_ON)
        {
            final long remoteAddress = r.remoteAddress(i);
            if (remoteAddress != 0)
            {
                final int status = readOneSided(owner.proxy.connection(), remoteAddress, r.rkey(i), dst, dstOffset);
                if (status >= 0)
                {
                    oneSidedReads.increment();
                    if (InjectedRegression.EXTRA_MESSAGE_PER_MISS_ON)
                    {
                        readOneSided(owner.proxy.connection(), remoteAddress, r.rkey(i), dst, dstOffset);
                    }
                    return prot & (PROT_READ | PROT_WRITE);
                }
                // The page moved or its region went away: forget it and ask the owner.
                oneSidedFailures.increment();
                r.forgetLocation(i);
            }
        }
        final LineLocation location = locations.get().reset();
        long busySinceNs = 0;
        int result;
        do
        {
            result = owner.proxy.fetchLine(asid, address, lineBytes, dst, dstOffset, location.reset());
        }
        while (result == Status.BACK_PRESSURED && retryBusy(busySinceNs = busySince(busySinceNs)));
        boolean movedOwner = false;
        if (isOwnerFailure(result) || result == Errno.ESTALE)
        {
            // Fetching is idempotent: retry once at the owner the global managers push instead (a replica).
            final Owners.Owner next = awaitOwner(asid, address, r, owner, result == Errno.ESTALE);
            if (next != null)
            {
                owner = next;
                movedOwner = true;
                settleMoves();
                resendIfStale(asid, lineNumber, owner);
                result = owner.proxy.fetchLine(asid, address, lineBytes, dst, dstOffset, location.reset());
            }
            else
            {
                result = Errno.EHOSTDOWN; // the error names the dead owner (see awaitOwner)
            }
        }
        if (result >= 0)
        {
            if (movedOwner)
            {
                recovered();
            }
            rpcFetches.increment();
            if (InjectedRegression.EXTRA_MESSAGE_PER_MISS_ON)
            {
                owner.proxy.fetchLine(asid, address, lineBytes, dst, dstOffset, location.reset());
            }
            Owners.markUp(owner);
            if (r.owner == owner)
            {
                r.learn(i, location.remoteAddress(), location.rkey());
            }
        }
        else
        {
            missErrors.increment();
        }
        return result;
    }

    @Override
    public int fetchWithWriteBack(final int asid, final long lineNumber, final UnsafeBuffer dst, final int dstOffset,
        final int victimAsid, final long victimLine, final UnsafeBuffer victim, final int victimOffset)
    {
        settleMoves();
        final LegoProcess p = processes.get(asid);
        final LegoProcess vp = processes.get(victimAsid);
        final ProcessView.Region r = p == null ? null : p.view().region(lineNumber);
        final ProcessView.Region vr = vp == null ? null : vp.view().region(victimLine);
        final long address = lineNumber << lineShift;
        final Owners.Owner owner = r == null ? null : r.owner;
        if (vr == null || owner == null || !owner.usable() || owner != vr.owner
            || p.mappings().protOf(address) == Mappings.UNMAPPED)
        {
            // Apart, each with its own checks and waits.
            return LineSource.super.fetchWithWriteBack(asid, lineNumber, dst, dstOffset, victimAsid, victimLine,
                victim, victimOffset);
        }
        resendIfStale(asid, lineNumber, owner);
        final LineLocation location = locations.get().reset();
        long busySinceNs = 0;
        final long measuredNs = missLatency.startNs();
        // The victim's secondary may acknowledge it later when there is room to keep it until then.
        final int flags = pending.capacity() > 0 && (pending.hasRoom() || awaitRoom(owner)) ?
            LineRequestDescriptor.FLAG_REPLICA_ASYNC : 0;
        int result;
        synchronized (pending.stripe(victimAsid, victimLine))
        {
            do
            {
                result = owner.proxy.fetchLineWithWriteBack(asid, flags, address, lineBytes, dst, dstOffset,
                    location.reset(), victimAsid, victimLine << lineShift, victim, victimOffset);
            }
            while (result == Status.BACK_PRESSURED && retryBusy(busySinceNs = busySince(busySinceNs)));
            if (result >= 0)
            {
                if (location.replicaTicket() > 0)
                {
                    pending.add(victimAsid, victimLine, victim, victimOffset, owner, location.replicaTicket(),
                        location.fences());
                    pendingAdded.increment();
                }
                else
                {
                    pending.remove(victimAsid, victimLine); // acknowledged: an older pending copy is superseded
                }
            }
        }
        missLatency.recordSince(measuredNs);
        if (result >= 0)
        {
            piggybackFetches.increment();
            writeBacks.increment();
            Owners.markUp(owner);
            vr.markWrittenBack(vp.view().indexOf(victimLine));
            if (r.owner == owner)
            {
                r.learn(p.view().indexOf(lineNumber), location.remoteAddress(), location.rkey());
            }
        }
        else if (isOwnerFailure(result) || result == Errno.ESTALE)
        {
            // The owner may be dead, or no longer owns the vRegion (ESTALE): apart, each waiting for a new owner (a
            // promoted replica). Writing the victim back twice is harmless: the same bytes.
            if (result != Errno.ESTALE)
            {
                noteDown(owner);
            }
            return LineSource.super.fetchWithWriteBack(asid, lineNumber, dst, dstOffset, victimAsid, victimLine,
                victim, victimOffset);
        }
        else
        {
            missErrors.increment();
        }
        return result;
    }

    @Override
    public int writeBack(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
    {
        settleMoves();
        final long startNs = writeBackLatency.startNs();
        final int result;
        synchronized (pending.stripe(asid, lineNumber))
        {
            result = writeBackLine(asid, lineNumber, src, srcOffset);
        }
        writeBackLatency.recordSince(startNs);
        return result;
    }

    private int writeBackLine(final int asid, final long lineNumber, final UnsafeBuffer src, final int srcOffset)
    {
        final LegoProcess p = processes.get(asid);
        if (p == null)
        {
            // The process is gone and so is its memory: nothing to write to.
            return 0;
        }
        final long address = lineNumber << lineShift;
        final ProcessView.Region r = p.view().region(lineNumber);
        Owners.Owner owner = r == null ? null : r.owner;
        if (owner == null)
        {
            // No owner any more: unmapped, and the content is dead.
            return 0;
        }
        if (!owner.usable() && (owner = awaitOwner(asid, address, r, null, false)) == null)
        {
            return unwritable(p, Errno.EHOSTDOWN);
        }
        // Not checked against this processor's mappings: mremap writes a range back after it unmapped it here.
        long busySinceNs = 0;
        int result;
        do
        {
            result = owner.proxy.writeBackLine(asid, address, lineBytes, src, srcOffset);
        }
        while (result == Status.BACK_PRESSURED && retryBusy(busySinceNs = busySince(busySinceNs)));
        boolean movedOwner = false;
        if (isOwnerFailure(result) || result == Errno.ESTALE)
        {
            // ESTALE: the owner was declared dead while alive and no longer has the vRegion: never acknowledged
            // there, so written back to the new owner.
            final Owners.Owner next = awaitOwner(asid, address, r, owner, result == Errno.ESTALE);
            if (next != null)
            {
                owner = next;
                movedOwner = true;
                result = owner.proxy.writeBackLine(asid, address, lineBytes, src, srcOffset);
            }
            else
            {
                result = Errno.EHOSTDOWN;
            }
        }
        if (result >= 0)
        {
            if (movedOwner)
            {
                recovered();
            }
            writeBacks.increment();
            Owners.markUp(owner);
            r.markWrittenBack(p.view().indexOf(lineNumber));
            pending.remove(asid, lineNumber); // this newer copy is acknowledged (the caller holds the stripe)
            return 0;
        }
        if (result == Errno.EFAULT)
        {
            // The owner has no vma there any more (unmapped meanwhile): the content is dead.
            return 0;
        }
        return unwritable(p, result);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Pending write-backs: piggybacked victims kept until their owner's secondary has them
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Re-send, before any miss goes on, every pending write-back whose vRegion has changed owner since it was sent
     * (its old owner may have died before its secondary, now the owner, had it): one volatile read when nothing
     * moved.
     */
    private void settleMoves()
    {
        if (pending.size() == 0 || owners.moves() == settledMoves)
        {
            return;
        }
        synchronized (settleLock)
        {
            final long moves = owners.moves();
            if (moves == settledMoves)
            {
                return;
            }
            for (final PendingWriteBacks.Entry e : pending.snapshot())
            {
                if (e.owner != currentOwner(e))
                {
                    resend(e);
                }
            }
            settledMoves = moves;
        }
    }

    /** A miss on a line still pending at an owner that no longer owns it: re-send it there first (never older). */
    private void resendIfStale(final int asid, final long lineNumber, final Owners.Owner owner)
    {
        if (owners.moves() == 0)
        {
            return; // no vRegion ever changed owner: every pending victim is at its line's owner
        }
        final PendingWriteBacks.Entry e = pending.get(asid, lineNumber);
        if (e != null && e.owner != owner)
        {
            resend(e);
        }
    }

    private Owners.Owner currentOwner(final PendingWriteBacks.Entry e)
    {
        final LegoProcess p = processes.get(e.asid);
        final ProcessView.Region r = p == null ? null : p.view().region(e.line);
        return r == null ? null : r.owner;
    }

    /**
     * Write a pending victim again, to its line's owner now, as a plain write-back (acknowledged once that owner's
     * secondary has it). It stays pending if that fails, unless its process is gone or faulted.
     */
    private void resend(final PendingWriteBacks.Entry e)
    {
        synchronized (pending.stripe(e.asid, e.line))
        {
            if (!pending.isCurrent(e))
            {
                return; // acknowledged, or superseded by a newer write-back, meanwhile
            }
            pendingResent.increment();
            if (writeBackLine(e.asid, e.line, e.data, 0) >= 0)
            {
                pending.remove(e.asid, e.line);
            }
        }
    }

    /** Every pending victim is full: wait (at most the request timeout) for {@code owner}'s acknowledgements. */
    private boolean awaitRoom(final Owners.Owner owner)
    {
        pendingFull.increment();
        pollAcks(owner, true, new long[2]);
        return pending.hasRoom();
    }

    /**
     * Ask the owners with pending write-backs (or only {@code only}) how far their forwards have gone, and forget
     * the victims they are done with; one answered after a fence there (the new owner may have refused it), or
     * pending at an owner that no longer owns its line, is written again.
     *
     * @return how many victims were settled.
     */
    private int pollAcks(final Owners.Owner only, final boolean wait, final long[] acks)
    {
        final List<PendingWriteBacks.Entry> entries = pending.snapshot();
        int settled = 0;
        final List<Owners.Owner> asked = new ArrayList<>(2);
        for (final PendingWriteBacks.Entry first : entries)
        {
            final Owners.Owner owner = first.owner;
            if (asked.contains(owner) || (only != null && owner != only))
            {
                continue;
            }
            asked.add(owner);
            long highest = 0;
            for (final PendingWriteBacks.Entry e : entries)
            {
                if (e.owner == owner)
                {
                    highest = Math.max(highest, e.ticket);
                }
            }
            final MemoryMonitorProxy proxy = owner.proxy;
            final boolean answered = proxy != null && owner.usable() && proxy.replicaAcks(highest, wait, acks) >= 0;
            for (final PendingWriteBacks.Entry e : entries)
            {
                if (e.owner != owner)
                {
                    continue;
                }
                if (currentOwner(e) != owner)
                {
                    resend(e);
                    settled++;
                }
                else if (answered && e.ticket <= acks[0])
                {
                    if (acks[1] == e.fences)
                    {
                        synchronized (pending.stripe(e.asid, e.line))
                        {
                            if (pending.isCurrent(e))
                            {
                                pending.remove(e.asid, e.line);
                            }
                        }
                    }
                    else
                    {
                        resend(e);
                    }
                    settled++;
                }
            }
        }
        return settled;
    }

    /** How many victims are kept until their secondary has them (tests and status). */
    public int pendingWriteBacks()
    {
        return pending.size();
    }

    /** How many pending victims were written again (their vRegion moved, or their owner fenced one), so far. */
    public long pendingWriteBacksResent()
    {
        return pendingResent.get();
    }

    /**
     * A write-back that failed: the error, for the ExCache to keep the line and tell the process (its access faults),
     * or 0 once the process was killed by a fault: its memory is dead, and a line kept would hold a staging line
     * forever (another process's misses need them).
     */
    private int unwritable(final LegoProcess p, final int result)
    {
        missErrors.increment();
        return p.fault() == null ? result : 0;
    }

    /**
     * When the owner first answered BACK_PRESSURED ({@code busySinceNs}, or now if it has not before): the clock is
     * read only once a request comes back busy, not on every miss.
     */
    private static long busySince(final long busySinceNs)
    {
        return busySinceNs != 0 ? busySinceNs : System.nanoTime();
    }

    /**
     * True to send a request again after the owner answered BACK_PRESSURED (no worker came free within its request
     * timeout, and it served nothing, so a piggybacked write-back is not applied twice), while ownerWaitNs has not
     * passed since its first such answer. A busy memory monitor under a loaded machine is not a dead one.
     */
    private boolean retryBusy(final long busySinceNs)
    {
        if (System.nanoTime() - busySinceNs - ownerWaitNs >= 0 || closed)
        {
            return false;
        }
        busyRetries.increment();
        Thread.yield();
        return true;
    }

    /**
     * A call to {@code owner} failed in transport: it counts as down, and the first time the global managers hear of
     * it (they probe it and fail it over at once if it is dead, rather than at their heartbeat timeout).
     */
    private void noteDown(final Owners.Owner owner)
    {
        if (owners.markDown(owner))
        {
            final long nowMs = System.currentTimeMillis();
            firstOwnerDownMs.compareAndSet(0, nowMs);
            global.suspectMember(owner.memberId);
        }
    }

    /** A miss or write-back was served by the owner that replaced an unusable one. */
    private void recovered()
    {
        ownerRecoveries.increment();
        firstRecoveredMs.compareAndSet(0, System.currentTimeMillis());
    }

    /**
     * The failover as this processor saw it: {@code [first owner down, first access served by a replacement owner]}
     * in epoch milliseconds (0: never), and how many accesses a replacement owner served.
     */
    public long[] failoverTimesMs()
    {
        return new long[] {firstOwnerDownMs.get(), firstRecoveredMs.get(), ownerRecoveries.get()};
    }

    /** A transport failure of a call to an owner (it may be dead): the cue to wait for a new owner. */
    private static boolean isOwnerFailure(final int status)
    {
        return status == Status.TIMEOUT || status == Status.NOT_CONNECTED;
    }

    /**
     * The owner a miss (or write-back) of {@code address} uses when the vRegion's owner is not usable (declared dead,
     * or not connected), or when a call to {@code failed} just failed in transport: waits for the global managers to
     * push a new owner for the vRegion (or the old one back, unless it is {@code failed}), at most until the owner
     * has been down for ownerWaitNs. Returns null (and records why) when none came.
     *
     * {@code movedAway}: {@code failed} answered ESTALE (alive, but the vRegion moved away from it): it is not marked
     * down, and the wait is for the vRegion's new owner.
     */
    private Owners.Owner awaitOwner(final int asid, final long address, final ProcessView.Region r,
        final Owners.Owner failed, final boolean movedAway)
    {
        ownerWaits.increment();
        final Owners.Owner first = failed != null ? failed : r.owner;
        if (failed != null && !movedAway)
        {
            noteDown(failed);
        }
        // Moved away: the old owner is alive (it answered), so the wait runs from now, not from its going down.
        final long downSinceNs = first == null || movedAway ? 0 : first.downSinceNs;
        final long deadlineNs = (downSinceNs != 0 ? downSinceNs : System.nanoTime()) + ownerWaitNs;
        while (true)
        {
            final Owners.Owner owner = r.owner;
            if (owner != null && owner != failed && owner.usable())
            {
                return owner;
            }
            if (owner == null || System.nanoTime() - deadlineNs >= 0)
            {
                final Owners.Owner gone = owner != null ? owner : first;
                error("process " + asid + ": access at 0x" + Long.toHexString(address) + ": its owner, " + gone
                    + ", is " + (movedAway && gone == failed ? "no longer its owner (ESTALE)" :
                    gone != null && gone.dead ? "dead (declared by the global managers)" : "unreachable")
                    + ", and no new owner came within " + ownerWaitNs / 1_000_000L + " ms");
                return null;
            }
            owners.awaitChange(deadlineNs);
        }
    }

    /** A faulting access: a segmentation fault of its process alone. */
    private RuntimeException onCacheFault(final int asid, final long vaddr, final int status, final boolean write)
    {
        final LegoProcess p = processes.get(asid);
        return p == null ? new ExCacheFault(asid, vaddr, status, write) : p.fault(vaddr, status, write);
    }

    @Override
    public int targetOf(final int asid, final long lineNumber)
    {
        final LegoProcess p = processes.get(asid);
        return p == null ? VRegionMap.NO_OWNER : p.vRegionMap().ownerOfAddress(lineNumber << lineShift);
    }

    private int readOneSided(final Connection connection, final long remoteAddress, final int rkey,
        final UnsafeBuffer dst, final int dstOffset)
    {
        final long at = dst.addressOffset() + dstOffset;
        final long[] starts = segmentStarts;
        final long[] ends = segmentEnds;
        for (int i = 0; i < starts.length; i++)
        {
            if (at >= starts[i] && at + lineBytes <= ends[i])
            {
                return connection.read(segmentRegions[i], (int)(at - starts[i]), remoteAddress, rkey, lineBytes,
                    timeoutNs);
            }
        }
        return Status.OUT_OF_BOUNDS;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Counters and errors
    // ---------------------------------------------------------------------------------------------------------

    /** Latency of the misses this monitor fetched (one-sided or by RPC; not p-local fills), in ns. */
    public LatencyHistogram missLatency()
    {
        return missLatency;
    }

    /** Misses served by a one-sided READ of a known page (no memory-monitor CPU). */
    public long oneSidedReads()
    {
        return oneSidedReads.get();
    }

    /** One-sided READs that failed and fell back to an RPC. */
    public long oneSidedFailures()
    {
        return oneSidedFailures.get();
    }

    /** Misses served by an RPC to the owner (plain fetches). */
    public long rpcFetches()
    {
        return rpcFetches.get();
    }

    /** Misses served by an RPC that also carried a dirty victim. */
    public long piggybackFetches()
    {
        return piggybackFetches.get();
    }

    /** Misses served by zero-filling a fresh anonymous line here. */
    public long pLocalFills()
    {
        return pLocalFills.get();
    }

    /** Lines written back to their owners (alone or piggybacked). */
    public long writeBacks()
    {
        return writeBacks.get();
    }

    /** Misses refused (unmapped address, dead memory monitor, timeout). */
    public long missErrors()
    {
        return missErrors.get();
    }

    /** Misses and write-backs that found their owner down and waited for a new one (or the old one back). */
    public long ownerWaits()
    {
        return ownerWaits.get();
    }

    /**
     * Memory monitor addresses this monitor had to ask the global managers for (on a system call, never on a miss)
     * because no push had brought them yet.
     */
    public long memberLookups()
    {
        return owners.lookups();
    }

    /** True if the global managers told this monitor that memory monitor {@code memberId} is dead. */
    public boolean isOwnerDead(final int memberId)
    {
        final Owners.Owner owner = owners.get(memberId);
        return owner != null && owner.dead;
    }

    /** Requests sent again because their owner was back-pressured (no worker free in time). */
    public long busyRetries()
    {
        return busyRetries.get();
    }

    /** VRegion owner changes pushed by the global managers. */
    public long ownerChanges()
    {
        return ownerChanges.get();
    }

    /** Processes killed by a segmentation fault. */
    public long segfaults()
    {
        return segfaults.get();
    }

    /** Errors recorded since start (bounded to the latest 1000), oldest first. */
    public List<String> errors()
    {
        return new ArrayList<>(errors);
    }

    void error(final String message)
    {
        errors.add(message);
        while (errors.size() > 1000)
        {
            errors.poll();
        }
    }

    void segfaulted(final LegoProcess p, final SegmentationFault f)
    {
        segfaults.increment();
        error(f.getMessage());
    }

    void removed(final LegoProcess p)
    {
        synchronized (this)
        {
            if (processes.get(p.pid()) == p)
            {
                final Int2ObjectHashMap<LegoProcess> copy = new Int2ObjectHashMap<>(processes);
                copy.remove(p.pid());
                processes = copy;
            }
        }
    }

    void threadStarted()
    {
        runningThreads.incrementAndGet();
    }

    void threadEnded()
    {
        runningThreads.decrementAndGet();
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("processor monitor is closed");
        }
    }

    /** End every process still running, stop the reporter, close the cache, connections and (if owned) fabric. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        for (final LegoProcess p : new ArrayList<>(processes.values()))
        {
            p.exit(1);
        }
        closed = true;
        resources.stopAgents();
        CloseHelper.quietClose(cache);
        owners.close();
        CloseHelper.quietClose(global);
        resources.close();
    }

    @Override
    public String toString()
    {
        return "ProcessorMonitor{id=" + memberId + ", address=" + listenAddress + ", oneSidedReads="
            + oneSidedReads() + ", rpcFetches=" + rpcFetches() + ", piggybackFetches=" + piggybackFetches()
            + ", pLocalFills=" + pLocalFills() + ", writeBacks=" + writeBacks() + ", missErrors=" + missErrors()
            + ", segfaults=" + segfaults() + "}";
    }

    /** A member's address from the global managers (control path only: see {@link Owners}). */
    private String lookupAddress(final int memberId)
    {
        return global.lookupMember(memberId);
    }

    /**
     * Membership changes pushed by the global managers: a memory monitor's state (connected here at once when it is
     * alive), or a vRegion's new owner. May block (connects): off a tcp poller.
     */
    private final class PushHandler implements RequestHandler
    {
        @Override
        public boolean mayBlock(final int opcode)
        {
            return true;
        }

        @Override
        public int onRequest(
            final int opcode, final DirectBuffer request, final int offset, final int length,
            final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
        {
            if (opcode != Opcodes.MEMBER_UPDATE && opcode != Opcodes.VREGION_OWNER)
            {
                return Status.UNKNOWN_OPCODE;
            }
            if (length < GlobalDescriptor.HEADER_LENGTH || replyCapacity < GlobalDescriptor.HEADER_LENGTH)
            {
                return Status.MALFORMED;
            }
            final long result = opcode == Opcodes.MEMBER_UPDATE
                ? onMemberUpdate(request, offset, length) : onOwnerChange(request, offset);
            GlobalDescriptor.clear(reply, replyOffset);
            reply.putLong(replyOffset + GlobalDescriptor.RESULT_OFFSET, result);
            return GlobalDescriptor.HEADER_LENGTH;
        }

        private long onMemberUpdate(final DirectBuffer request, final int offset, final int length)
        {
            final int memberId = request.getInt(offset + GlobalDescriptor.MEMBER_ID_OFFSET);
            final String address = GlobalDescriptor.address(request, offset, length);
            if (request.getInt(offset + GlobalDescriptor.ROLE_OFFSET) != GlobalDescriptor.ROLE_MEMORY || memberId < 0
                || address == null || closed)
            {
                return Errno.EINVAL;
            }
            owners.onMember(memberId, address, request.getInt(offset + GlobalDescriptor.COUNT_OFFSET) != 0);
            return 0;
        }

        private long onOwnerChange(final DirectBuffer request, final int offset)
        {
            final int asid = request.getInt(offset + GlobalDescriptor.ASID_OFFSET);
            final int vRegionIndex = request.getInt(offset + GlobalDescriptor.VREGION_INDEX_OFFSET);
            final int ownerId = request.getInt(offset + GlobalDescriptor.MEMBER_ID_OFFSET);
            if (vRegionIndex < 0 || ownerId < 0)
            {
                return Errno.EINVAL;
            }
            final LegoProcess p = processes.get(asid);
            if (p == null)
            {
                return Errno.ESRCH;
            }
            // The view follows the map: the vRegion rebinds, forgets its page locations, and waiting misses retry.
            p.vRegionMap().set(vRegionIndex, ownerId);
            owners.connectPending();
            ownerChanges.increment();
            return 0;
        }
    }

    /** Cache segments in registered memory, so one-sided READs land straight in cache lines. */
    private final class RegisteredAllocator implements LineMemoryAllocator
    {
        @Override
        public UnsafeBuffer allocate(final int lengthBytes)
        {
            final MemoryRegion region = fabric.allocate(lengthBytes);
            synchronized (ProcessorMonitor.this)
            {
                cacheRegions.add(region);
                final int n = cacheRegions.size();
                final long[] starts = new long[n];
                final long[] ends = new long[n];
                final MemoryRegion[] regions = new MemoryRegion[n];
                for (int i = 0; i < n; i++)
                {
                    final MemoryRegion r = cacheRegions.get(i);
                    regions[i] = r;
                    starts[i] = r.buffer().addressOffset();
                    ends[i] = starts[i] + r.lengthBytes();
                }
                segmentRegions = regions;
                segmentStarts = starts;
                segmentEnds = ends;
            }
            return region.buffer();
        }

        @Override
        public void free(final UnsafeBuffer segment)
        {
            synchronized (ProcessorMonitor.this)
            {
                for (final MemoryRegion r : cacheRegions)
                {
                    if (r.buffer() == segment)
                    {
                        fabric.deregister(r);
                    }
                }
            }
        }
    }

    /**
     * Writes back the dirty victims the ExCache staged: their misses did not wait for them (a victim whose owner
     * differs from the fetched line's cannot ride along with the fetch).
     */
    private final class WriteBackAgent implements org.agrona.concurrent.Agent
    {
        @Override
        public int doWork()
        {
            if (closed)
            {
                return 0;
            }
            int work = cache.drainWriteBacks();
            // Acknowledgements of pending victims: asked for at most every ACK_POLL_NS, not on every duty cycle.
            if (pending.size() != 0)
            {
                final long nowNs = System.nanoTime();
                if (nowNs - lastAckPollNs >= ACK_POLL_NS)
                {
                    lastAckPollNs = nowNs;
                    work += pollAcks(null, false, agentAcks);
                }
            }
            return work;
        }

        @Override
        public String roleName()
        {
            return "processor-write-back";
        }
    }

    /** Reports this monitor's running threads to the GPM, every report interval. */
    private final class LoadReporter extends IntervalAgent
    {
        LoadReporter()
        {
            super(SystemNanoClock.INSTANCE, ctx.reportIntervalNs());
        }

        @Override
        protected int onInterval(final long nowNs)
        {
            final int status = global.reportProcessorLoad(memberId, runningThreads.get());
            if (status < 0 && !closed)
            {
                error("load report to the global manager failed: " + Errno.describe(status));
            }
            return 1;
        }

        @Override
        public String roleName()
        {
            return "processor-load-reporter";
        }
    }
}
