package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.runtime.MonitorErrors;
import dev.splitkernel.monitor.runtime.MonitorResources;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.protocol.SyscallRequestDescriptor;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The memory monitor (mComponent), one process with four roles, each in its own class:
 * <ul>
 * <li>{@link LineServer}: the data path, line fetches and write-backs from registered pages (which a processor may
 * also re-read one-sided);</li>
 * <li>{@link VmaOwner}: the vRegions it owns, their vma tables and pages (mmap, munmap, mremap, brk work on them);</li>
 * <li>{@link ProcessHome}: the memory system calls of the processes whose home it is, placing their vRegions (asking
 * the GMM for the owner of a new one);</li>
 * <li>{@link PageMover}: the page moves of mremap, within an owner or across owners;</li>
 * <li>{@link Secondary}: the write-backs primaries forward for replication, in a {@link WriteBackLog} shipped in
 * batches to a backup file on a storage monitor (by default one the global managers list; see
 * {@link MemoryMonitorContext#REPLICA_BACKUP_ADDRESS_PROP_NAME}; else kept in memory, compacted), replayed into pages
 * at a promotion ({@link Replication}).</li>
 * </ul>
 * It also keeps the storage buffer cache of the vNodes the GSM assigned it. Requests reach the roles through a table
 * by opcode.
 * <p>
 * Pages are created on demand: zero-filled at the first miss, or at the first write-back of a p-local line. The
 * monitor commits a vma's bytes against its capacity when the vma is mapped (no overcommit), so a full monitor answers
 * ENOMEM at mmap time and the home places the vma on another monitor.
 * <p>
 * Thread-safe: the fabric calls {@link #onRequest} from several threads at once.
 */
public final class MemoryMonitor implements RequestHandler, AutoCloseable
{
    /** vRegions below this index hold the heap (brk); mmap places from here upwards. */
    static final int MMAP_BASE_VREGION_INDEX = ProcessHome.MMAP_BASE_VREGION_INDEX;

    private final MemoryMonitorContext ctx;
    private final MonitorResources resources;
    private final Fabric fabric;
    private final PagePool pool;
    private final MemoryMonitorCounters counters;
    private final VmaOwner owner;
    /** The vma tables of the vRegions this monitor is the secondary of (no pages: those are in the log). */
    private final VmaOwner standby;
    private final Replication replication;
    private final Secondary secondary;
    private final LineServer lineServer;
    private final Peers peers;
    private final ProcessHome home;
    private final StorageBufferCache bufferCache;
    /** The secondary's log: shipped to a backup storage monitor if one is configured, else in memory. */
    private final WriteBackLog writeBackLog;
    /** The role serving each opcode; null for opcodes no role serves. */
    private final RequestHandler[] roles = new RequestHandler[Opcodes.FILE_DROP_VNODE + 1];
    private volatile String address;

    public MemoryMonitor(final MemoryMonitorContext ctx)
    {
        this.ctx = ctx.conclude();
        resources = MonitorResources.open("memory " + ctx.listenAddress(), ctx.runtime(), ctx.fabric(),
            ctx.fabricContext());
        fabric = resources.fabric();
        counters = new MemoryMonitorCounters(resources.status());
        final int pageBytes = ctx.pageBytes();
        final long vRegionBytes = ctx.vRegionBytes();
        final int maxVRegionIndex =
            (int)Math.min(Integer.MAX_VALUE, ((1L << 47) >>> Long.numberOfTrailingZeros(vRegionBytes)) - 1);
        pool = new PagePool(fabric, pageBytes, ctx.chunkBytes(), ctx.capacityBytes());
        owner = new VmaOwner(pool, counters, pageBytes, vRegionBytes, ctx.capacityBytes(), maxVRegionIndex);
        standby = new VmaOwner(pool, counters, pageBytes, vRegionBytes, ctx.capacityBytes(), maxVRegionIndex);
        resources.status().onPublish(new VRegionGauges(resources.status(), owner));
        peers = new Peers(fabric, owner, pageBytes, ctx.requestTimeoutNs());
        writeBackLog = new WriteBackLog(logBackup(ctx, fabric),
            org.agrona.concurrent.SystemNanoClock.INSTANCE, ctx.replicaLogBatchBytes(), ctx.replicaLogMaxBytes(),
            ctx.loadReportIntervalNs(), resources.status().countersManager());
        replication = new Replication(owner, standby, writeBackLog, pool, peers, counters, resources.errors(),
            pageBytes, vRegionBytes);
        lineServer = new LineServer(owner, replication, pool, counters, ctx.workers(), pageBytes, vRegionBytes,
            maxVRegionIndex, ctx.requestTimeoutNs());
        home = new ProcessHome(peers, new PageMover(peers, lineServer, counters, pageBytes, vRegionBytes), counters,
            vRegionBytes, maxVRegionIndex);
        bufferCache = new StorageBufferCache(fabric, ctx.globalAddress(), ctx.bufferCacheBytes(), ctx.requestTimeoutNs(),
            resources.status().countersManager());

        secondary = new Secondary(writeBackLog, standby, owner, counters, pageBytes);
        roles[Opcodes.REPLICA_WRITE_BACK] = secondary;
        roles[Opcodes.REPLICA_VMA] = replication;
        roles[Opcodes.REPLICA_PROMOTE] = replication;
        for (final int opcode : new int[] {Opcodes.LINE_FETCH, Opcodes.LINE_WRITE_BACK,
            Opcodes.LINE_FETCH_WITH_WRITE_BACK, Opcodes.LINE_REPLICA_ACKS})
        {
            roles[opcode] = lineServer;
        }
        for (final int opcode : new int[] {Opcodes.PROCESS_CREATE, Opcodes.PROCESS_EXIT, Opcodes.MMAP, Opcodes.MUNMAP,
            Opcodes.MREMAP, Opcodes.MPROTECT, Opcodes.BRK, Opcodes.MSYNC, Opcodes.VREGION_MAP, Opcodes.VREGION_OWNER})
        {
            roles[opcode] = home;
        }
        for (int opcode = Opcodes.VMA_ALLOCATE; opcode <= Opcodes.VMA_NEXT_PAGE; opcode++)
        {
            roles[opcode] = owner;
        }
        roles[Opcodes.VMA_REPLICATE] = this::onReplicate;
        for (int opcode = Opcodes.FILE_OPEN; opcode <= Opcodes.FILE_DROP_VNODE; opcode++)
        {
            roles[opcode] = bufferCache::onRequest;
        }
    }

    /** Where the secondary's log is shipped, as configured; null: nowhere (kept in memory). */
    private static LogBackup logBackup(final MemoryMonitorContext ctx, final Fabric fabric)
    {
        final String name = "memory-" + java.util.UUID.randomUUID();
        final String address = ctx.replicaBackupAddress();
        if (address.equals(MemoryMonitorContext.REPLICA_BACKUP_NONE))
        {
            return null;
        }
        if (address.equals(MemoryMonitorContext.REPLICA_BACKUP_FROM_GLOBAL))
        {
            return ctx.globalAddress().isEmpty() ? null :
                LogBackup.viaGlobalManagers(fabric, ctx.globalAddress(), name, ctx.requestTimeoutNs());
        }
        return new LogBackup(fabric, address, name, ctx.requestTimeoutNs());
    }

    /** VMA_REPLICATE: start (or stop) replicating an owned vRegion to a secondary. */
    private int onReplicate(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < SyscallRequestDescriptor.LENGTH || replyCapacity < SyscallReplyDescriptor.HEADER_LENGTH)
        {
            counters.increment(MemoryMonitorCounters.MALFORMED_REQUESTS);
            return Status.MALFORMED;
        }
        final long index = SyscallRequestDescriptor.newAddress(request, offset);
        final long result = index < 0 || index > Integer.MAX_VALUE ? Errno.EINVAL : replication.replicate(
            SyscallRequestDescriptor.asid(request, offset), (int)index, SyscallRequestDescriptor.prot(request, offset));
        return SyscallReplyDescriptor.encodeHeader(reply, replyOffset, result, 0);
    }

    /** Hold the page copies to new secondaries started from now on until the returned latch is counted down (tests). */
    public java.util.concurrent.CountDownLatch holdReplicaCopies()
    {
        return replication.holdCopies();
    }

    /** Wait until every page copy to a new secondary started so far is done (tests), at most {@code timeoutMs}. */
    public boolean awaitReplicaCopies(final long timeoutMs) throws InterruptedException
    {
        return replication.awaitCopies(timeoutMs);
    }

    /** Hold this monitor's forwards to its secondaries until the latch is counted down (tests). */
    java.util.concurrent.CountDownLatch holdReplicaForwards()
    {
        return replication.holdForwards();
    }

    /** Whether this monitor holds a complete replica of vRegion {@code index} of process {@code asid} (tests). */
    boolean hasCompleteReplica(final int asid, final int index)
    {
        return replication.hasCompleteReplica(asid, index);
    }

    /** As a secondary, refuse every forwarded write-back with {@code errno}, 0 to stop (tests: a full log). */
    void refuseReplicaWriteBacks(final int errno)
    {
        secondary.refuseWriteBacks(errno);
    }

    /** How many forwards to secondaries this monitor queued so far (tests). */
    long replicaForwardsQueued()
    {
        return replication.forwardsQueued();
    }

    /** vRegions this monitor holds the replica (vma table and log) of, as a secondary. */
    public int standbyVRegions()
    {
        return standby.ownedVRegions();
    }

    /** The write-back log this monitor keeps as a secondary. */
    WriteBackLog writeBackLog()
    {
        return writeBackLog;
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
        if (writeBackLog.mayShip())
        {
            resources.runBackground(writeBackLog);
        }
        address = resources.listen(ctx.listenAddress(), this);
        if (!ctx.globalAddress().isEmpty())
        {
            final GlobalManagerProxy gmm = new GlobalManagerProxy(
                fabric.connect(ctx.globalAddress()), ctx.requestTimeoutNs());
            final int id = gmm.registerMember(GlobalDescriptor.ROLE_MEMORY, ctx.capacityBytes(), address);
            if (id < 0)
            {
                gmm.close();
                throw new IllegalStateException("global manager at " + ctx.globalAddress() +
                    " refused memory monitor " + address + ": " + Errno.describe(id));
            }
            peers.joined(id, gmm);
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
        return peers.memberId();
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
        return ctx.capacityBytes();
    }

    /** Bytes of vmas mapped in this monitor's vRegions. */
    public long committedBytes()
    {
        return owner.committedBytes();
    }

    /** Bytes of physical pages in use. */
    public long usedBytes()
    {
        return pool.usedBytes();
    }

    public int ownedVRegions()
    {
        return owner.ownedVRegions();
    }

    public long vRegionBytes()
    {
        return ctx.vRegionBytes();
    }

    public int pageBytes()
    {
        return ctx.pageBytes();
    }

    /** The protection at {@code address} of process {@code asid} in this monitor's vRegions, or -1: for tests. */
    public int protAt(final int asid, final long address)
    {
        final VRegion region = owner.region(asid, address);
        return region == null ? -1 : region.vmas.protAt(address);
    }

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        final RequestHandler role = opcode >= 0 && opcode < roles.length ? roles[opcode] : null;
        if (role == null)
        {
            counters.increment(MemoryMonitorCounters.UNKNOWN_OPCODES);
            return Status.UNKNOWN_OPCODE;
        }
        try
        {
            return role.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity);
        }
        catch (final RuntimeException ex)
        {
            // A bug: count it and keep serving; the caller gets HANDLER_ERROR.
            counters.increment(MemoryMonitorCounters.HANDLER_ERRORS);
            resources.errors().onError(ex);
            return Status.HANDLER_ERROR;
        }
    }

    /** A line fetch scattered by the fabric: the line server writes the line straight into the caller's line. */
    @Override
    public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity)
    {
        if (!Opcodes.isLineOpcode(opcode))
        {
            return RequestHandler.super.onRequest(opcode, request, offset, length, reply, replyOffset, headerLength,
                data, dataOffset, dataCapacity);
        }
        try
        {
            return lineServer.onRequest(opcode, request, offset, length, reply, replyOffset, headerLength, data,
                dataOffset, dataCapacity);
        }
        catch (final RuntimeException ex)
        {
            counters.increment(MemoryMonitorCounters.HANDLER_ERRORS);
            resources.errors().onError(ex);
            return Status.HANDLER_ERROR;
        }
    }

    /**
     * The data path (the line server, a secondary's log) and the vma owner's work are served where they arrive; a
     * home's system calls wait on the GMM and on other owners, and file requests on storage monitors: those run off
     * the fabric's poller.
     */
    @Override
    public boolean mayBlock(final int opcode)
    {
        // A write-back waits on the secondary once this monitor replicates anything; owner operations forward their
        // vma changes to it. A secondary's own work never waits, but a promotion may read its log's backup file.
        if (opcode == Opcodes.LINE_FETCH)
        {
            return false;
        }
        if (Opcodes.isLineOpcode(opcode))
        {
            return replication.forwarding();
        }
        return opcode != Opcodes.REPLICA_WRITE_BACK && opcode != Opcodes.REPLICA_VMA;
    }

    /** Report the load now (tests, and after a burst of allocation). Returns 0 or a negative code. */
    public int reportLoadNow()
    {
        final GlobalManagerProxy gmm = peers.global();
        if (gmm == null)
        {
            return 0;
        }
        return gmm.reportMemoryLoad(peers.memberId(), ctx.capacityBytes(),
            owner.committedBytes() + standby.committedBytes(), pool.usedBytes(), owner.ownedVRegions());
    }

    /** This monitor's error handler: agent failures and handler bugs, counted and reported once each. */
    public MonitorErrors errors()
    {
        return resources.errors();
    }

    @Override
    public void close()
    {
        resources.stopAgents();
        replication.close();
        writeBackLog.close();
        peers.close();
        bufferCache.close();
        pool.close();
        resources.close();
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
        return "MemoryMonitor{memberId=" + memberId() + ", address=" + address + ", committedBytes=" +
            owner.committedBytes() + ", usedBytes=" + pool.usedBytes() + ", vRegions=" + owner.ownedVRegions() + "}";
    }
}
