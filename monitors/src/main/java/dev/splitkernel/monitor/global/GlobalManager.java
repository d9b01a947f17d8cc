package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.VNodeDescriptor;
import dev.splitkernel.monitor.runtime.MonitorResources;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The global managers in one process: the GMM (home memory monitor per process, owner of each new vRegion, by a
 * pluggable {@link PlacementPolicy}) and the GPM (the processor monitor with the fewest running threads). Both
 * learn load from periodic reports, and count their own placements until the next report. Coarse and occasional:
 * never on the data path.
 * <p>
 * Thread-safe: requests are serialised.
 */
public final class GlobalManager implements RequestHandler, AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(GlobalManager.class.getName());

    private final GlobalManagerContext ctx;
    private final MonitorResources resources;
    private final Fabric fabric;
    private final PlacementPolicy policy;
    private final List<MemoryMember> memoryMembers = new ArrayList<>();
    private final List<ProcessorMember> processorMembers = new ArrayList<>();
    private final Map<Integer, String> addresses = new HashMap<>();
    /** Live storage monitors (the GSM places new vNodes on these only). */
    private final List<StorageMember> storageMembers = new ArrayList<>();
    private final List<StorageMember> deadStorageMembers = new ArrayList<>();
    /**
     * (asid, vRegion index) to (owner, bytes placed, secondary or -1): to undo the estimate when the vRegion is freed,
     * and to fail it over when its owner dies.
     */
    private final Map<Long, long[]> vRegions = new HashMap<>();
    /** The home memory monitor of each process (told when a vRegion of the process moves). */
    private final Map<Integer, Integer> homes = new HashMap<>();
    /**
     * Memory monitor to the vRegions (keys) it was the secondary of when declared dead: if it comes back (dead by
     * mistake) it is told to free those replicas, unless it has been named their secondary again.
     */
    private final Map<Integer, java.util.Set<Long>> abandonedReplicas = new HashMap<>();
    /** vRegions (keys) with a re-replication queued on the failover thread: queued once until it runs. */
    private final java.util.Set<Long> replicationsQueued = new java.util.HashSet<>();
    /** Memory monitors being probed after a failed call (one probe at a time each). */
    private final java.util.Set<Integer> suspects = new java.util.HashSet<>();
    private final Failover failover;
    /** Fences for monitors declared dead: their own thread, so calling a really dead one never delays a failover. */
    private final Failover fences;
    private final AtomicCounter failovers;
    private final AtomicCounter lostVRegions;
    private final AtomicCounter droppedSecondaries;
    /**
     * vRegion key to the secondary its owner dropped ({@link Opcodes#REPLICA_LOST}) while that member is being told to
     * free the replica: never named the vRegion's secondary again before, or the late drop would free the new one.
     */
    private final Map<Long, Integer> pendingDrops = new HashMap<>();
    /** vRegion key to the secondary its owner dropped last: the next one is another monitor while one has room. */
    private final Map<Long, Integer> droppedLast = new HashMap<>();
    /** The GSM: vNodes and their storage and buffer-cache monitors. */
    private final StorageManager storageManager;
    /** Members declared dead (no heartbeat within the member timeout): out of placement until they report again. */
    private final List<MemoryMember> deadMemoryMembers = new ArrayList<>();
    private final List<ProcessorMember> deadProcessorMembers = new ArrayList<>();
    private int nextMemberId;
    private int nextAsid = 1;
    private final AtomicCounter errors;
    private String address;
    /** Membership changes to push to the processors (their views); processors to send every member again. */
    private final MembershipPush push;
    private final java.util.Set<Integer> processorsToResync = new java.util.HashSet<>();
    private final Handler[] handlers = handlers();
    private final GlobalRequest request = new GlobalRequest();

    public GlobalManager(final GlobalManagerContext ctx)
    {
        this.ctx = ctx.conclude();
        this.policy = ctx.policy();
        resources = MonitorResources.open("global " + ctx.listenAddress(), ctx.runtime(), ctx.fabric(),
            ctx.fabricContext());
        fabric = resources.fabric();
        errors = resources.status().newCounter("global: refused requests", MonitorStatus.TYPE_MONITOR);
        failovers = resources.status().newCounter("global: vRegions failed over", MonitorStatus.TYPE_MONITOR);
        lostVRegions = resources.status().newCounter("global: vRegions lost", MonitorStatus.TYPE_MONITOR);
        droppedSecondaries = resources.status().newCounter("global: secondaries dropped by their owners",
            MonitorStatus.TYPE_MONITOR);
        storageManager = new StorageManager(addresses, memoryMembers, storageMembers, fabric);
        push = new MembershipPush(fabric, ctx.pushTimeoutNs(), this::pushFailed);
        failover = new Failover(fabric, GlobalManagerContext.FAILOVER_CALL_TIMEOUT_NS, resources.errors());
        fences = new Failover("global-fences", fabric, GlobalManagerContext.FAILOVER_CALL_TIMEOUT_NS, resources.errors());
    }

    public GlobalManager start()
    {
        address = resources.listen(ctx.listenAddress(), this);
        push.start();
        failover.start();
        fences.start();
        if (ctx.memberTimeoutMs() > 0)
        {
            final long checkIntervalNs = Math.max(1_000_000L, ctx.memberTimeoutMs() * 1_000_000L / 10);
            resources.runBackground(new MembershipAgent(this, ctx.nanoClock(), checkIntervalNs));
        }
        return this;
    }

    public String address()
    {
        return address;
    }

    public Fabric fabric()
    {
        return fabric;
    }

    /** Malformed or refused requests so far. */
    public synchronized long errors()
    {
        return errors.get();
    }

    /** A snapshot of the memory members (copies of their state), for tests and stat. */
    public synchronized List<String> describeMembers()
    {
        final List<String> result = new ArrayList<>();
        memoryMembers.forEach(m -> result.add(m.toString()));
        processorMembers.forEach(m -> result.add(m.toString()));
        storageMembers.forEach(m -> result.add(m.toString()));
        return result;
    }

    /** Removing a vNode waits on its cache and storage monitors: off the poller. Everything else is local. */
    @Override
    public boolean mayBlock(final int opcode)
    {
        return opcode == Opcodes.VNODE_REMOVE;
    }

    /**
     * GMM: a call to memory monitor {@code memberId} failed in transport. Unless it is dead already or being probed,
     * the failover thread probes it and, if it does not answer within the probe timeout, declares it dead now (not
     * at the heartbeat timeout) and fails its vRegions over.
     */
    private long suspect(final int memberId)
    {
        final MemoryMember member = memoryMember(memberId);
        if (member == null || !suspects.add(memberId))
        {
            return 0;
        }
        final String memberAddress = member.address;
        failover.execute(() ->
        {
            final boolean alive = failover.probe(memberAddress, ctx.probeTimeoutMs() * 1_000_000L);
            synchronized (this)
            {
                suspects.remove(memberId);
                if (!alive)
                {
                    final int i = memoryMembers.indexOf(memoryMember(memberId));
                    if (i >= 0)
                    {
                        declareMemoryMemberDead(i);
                    }
                }
            }
        });
        return 0;
    }

    /**
     * GMM: the owner of a vRegion dropped its secondary {@code r.memberId}, which may well be alive (a forward refused,
     * its log full; or a call lost under load) or dead. Unless another secondary was named since, the replica's charge
     * goes, the vRegion gets a new secondary elsewhere so a later death of its owner is survivable again, and the
     * member is told to free the replica: on the fences' thread, as the member may be dead and a call to it must not
     * hold a promotion queued on the failover thread. Lock held.
     */
    private long replicaLost(final GlobalRequest r)
    {
        final int memberId = r.memberId;
        final long key = key(r.getInt(GlobalDescriptor.ASID_OFFSET), r.getInt(GlobalDescriptor.VREGION_INDEX_OFFSET));
        final long[] placed = vRegions.get(key);
        if (placed == null || placed[2] != memberId)
        {
            return 0; // gone, or replicated elsewhere since
        }
        placed[2] = -1;
        placeReplica(memberId, placed[1], -1);
        droppedSecondaries.increment();
        droppedLast.put(key, memberId);
        LOG.log(System.Logger.Level.INFO, "GMM: vRegion " + (int)key + " of process " + (int)(key >>> 32) +
            " lost its secondary, memory monitor " + memberId + ", at its owner");
        if (memoryMember(memberId) != null && pendingDrops.putIfAbsent(key, memberId) == null)
        {
            fences.execute(() -> dropReplica(fences, memberId, key));
        }
        queueReplication(key);
        return 0;
    }

    /** Memory member {@code i} is dead: out of placement, processors told, its vRegions failed over. Lock held. */
    private void declareMemoryMemberDead(final int i)
    {
        final MemoryMember dead = memoryMembers.remove(i);
        deadMemoryMembers.add(dead);
        LOG.log(System.Logger.Level.INFO, "GMM: memory monitor " + dead.memberId + " (" + dead.address +
            ") declared dead");
        pushMember(dead.memberId, dead.address, false);
        failOver(dead.memberId);
    }

    /**
     * Memory monitor {@code deadId} died: each vRegion it owned goes to its secondary (promoted there, then moved in
     * every processor's view and at the process's home), and each vRegion, moved or not, that is left without a
     * replica gets a new secondary. A vRegion whose owner and secondary are both dead is lost: its processes' misses
     * there fail with a clear error. Lock held; the calls run on the failover thread.
     */
    private void failOver(final int deadId)
    {
        if (!ctx.replication())
        {
            return;
        }
        for (final Map.Entry<Long, long[]> e : vRegions.entrySet())
        {
            final long[] placed = e.getValue();
            final int asid = (int)(e.getKey() >>> 32);
            final int index = (int)(long)e.getKey();
            if (placed[0] == deadId)
            {
                final int secondary = (int)placed[2];
                final MemoryMember to = secondary < 0 ? null : memoryMember(secondary);
                if (to == null)
                {
                    lostVRegions.increment();
                    resources.errors().onError(new IllegalStateException("GMM: vRegion " + index + " of process " +
                        asid + " is lost: its owner, memory monitor " + deadId + ", died and its secondary " +
                        (secondary < 0 ? "does not exist" : secondary + " is dead too")));
                    continue;
                }
                final String toAddress = to.address;
                failover.execute(() -> promote(asid, index, deadId, secondary, toAddress));
            }
            else if (placed[2] == deadId)
            {
                // Released at the dead monitor too: if it was dead only by mistake, it rejoins without this replica.
                placeReplica(deadId, placed[1], -1);
                placed[2] = -1;
                abandonedReplicas.computeIfAbsent(deadId, id -> new java.util.HashSet<>()).add(e.getKey());
                queueReplication(e.getKey());
            }
        }
    }

    /** On the failover thread: promote the secondary, then move the vRegion there, then re-replicate it. */
    private void promote(final int asid, final int index, final int deadId, final int secondary,
        final String secondaryAddress)
    {
        final long result = failover.callMemory(secondaryAddress, Opcodes.REPLICA_PROMOTE, asid, 0, 0, index);
        final String homeAddress;
        final String deadAddress;
        synchronized (this)
        {
            final long[] placed = vRegions.get(key(asid, index));
            if (result < 0 || placed == null || placed[0] != deadId)
            {
                if (result < 0)
                {
                    lostVRegions.increment();
                    resources.errors().onError(new IllegalStateException("GMM: vRegion " + index + " of process " +
                        asid + " is lost: its secondary, memory monitor " + secondary + ", could not take it over: " +
                        Errno.describe(result)));
                }
                return;
            }
            // Its replica's bytes become the owner's (moveVRegion counts them again).
            placeReplica(secondary, placed[1], -1);
            placed[2] = -1;
            moveVRegion(asid, index, secondary);
            failovers.increment();
            LOG.log(System.Logger.Level.INFO, "GMM: vRegion " + index + " of process " + asid +
                " promoted at its secondary, memory monitor " + secondary);
            final Integer home = homes.get(asid);
            homeAddress = home == null || memoryMember(home) == null ? null : addresses.get(home);
            deadAddress = addresses.get(deadId);
        }
        if (homeAddress != null)
        {
            final long told = failover.tellHome(homeAddress, asid, index, secondary);
            if (told < 0 && told != Errno.ESRCH)
            {
                resources.errors().onError(new IllegalStateException("GMM: the home of process " + asid +
                    " was not told that vRegion " + index + " moved to memory monitor " + secondary + ": " +
                    Errno.describe(told)));
            }
        }
        replicate(asid, index);
        if (deadAddress != null)
        {
            // A monitor declared dead may be alive (a probe lost under load): tell it the vRegion is no longer its
            // own, so it stops serving it. On the fences' thread: a really dead one costs only that thread a timeout.
            fences.execute(() -> fences.callMemory(deadAddress, Opcodes.REPLICA_VMA, asid, 0,
                Opcodes.REPLICA_FENCE, index));
        }
    }

    /**
     * Tell memory monitor {@code memberId} to free its replica of vRegion {@code key}, unless it is that vRegion's
     * secondary (or owner) again: on {@code via}'s thread. On the failover thread for a member back after being
     * declared dead (every re-replication runs there, so none names the member between the check and the call); on the
     * fences' thread for a secondary its owner dropped, which no re-replication names until this is done
     * ({@link #pendingDrops}).
     */
    private void dropReplica(final Failover via, final int memberId, final long key)
    {
        final String memberAddress;
        synchronized (this)
        {
            final long[] placed = vRegions.get(key);
            if (placed != null && (placed[0] == memberId || placed[2] == memberId))
            {
                return; // named again since (failover thread only: a pending drop keeps it from being named)
            }
            memberAddress = addresses.get(memberId);
        }
        final long result = via.callMemory(memberAddress, Opcodes.REPLICA_VMA, (int)(key >>> 32), 0,
            Opcodes.REPLICA_DROP, (int)key);
        synchronized (this)
        {
            if (via == fences)
            {
                pendingDrops.remove(key, memberId);
            }
            if (result < 0)
            {
                // Unreachable again: told when it is back next time.
                abandonedReplicas.computeIfAbsent(memberId, id -> new java.util.HashSet<>()).add(key);
            }
            else
            {
                replicateUnreplicated(); // room freed there
            }
        }
    }

    /** Re-replicate vRegion {@code key} on the failover thread, unless that is queued already. Lock held. */
    private void queueReplication(final long key)
    {
        if (replicationsQueued.add(key))
        {
            failover.execute(() -> replicate((int)(key >>> 32), (int)key));
        }
    }

    /**
     * Queue a re-replication of every vRegion left without a secondary whose owner lives: one that found no monitor
     * with room when its secondary died (or whose copy failed) gets one once a monitor joins or comes back, or room is
     * freed. Only on those events, not periodically: a slow owner would hold the failover thread on each retry.
     * Lock held.
     */
    private void replicateUnreplicated()
    {
        if (!ctx.replication())
        {
            return;
        }
        for (final Map.Entry<Long, long[]> e : vRegions.entrySet())
        {
            final long[] placed = e.getValue();
            if (placed[2] < 0 && memoryMember((int)placed[0]) != null)
            {
                queueReplication(e.getKey());
            }
        }
    }

    /** On the failover thread: give a vRegion without a replica a new secondary, if a live monitor can take it. */
    private void replicate(final int asid, final int index)
    {
        final int owner;
        final int secondary;
        final String ownerAddress;
        synchronized (this)
        {
            replicationsQueued.remove(key(asid, index));
            final Integer dropped = droppedLast.remove(key(asid, index));
            final long[] placed = vRegions.get(key(asid, index));
            if (placed == null || placed[2] >= 0 || memoryMember((int)placed[0]) == null)
            {
                return;
            }
            owner = (int)placed[0];
            final Integer dropping = pendingDrops.get(key(asid, index));
            secondary = chooseSecondary(asid, placed[1], owner, dropping == null ? -1 : dropping,
                dropped == null ? -1 : dropped);
            if (secondary < 0)
            {
                return; // retried when a monitor joins or comes back, or room is freed (a pending drop done)
            }
            ownerAddress = addresses.get(owner);
        }
        final long result = failover.callMemory(ownerAddress, Opcodes.VMA_REPLICATE, asid, secondary, 0, index);
        synchronized (this)
        {
            final long[] placed = vRegions.get(key(asid, index));
            if (result >= 0 && placed != null && placed[0] == owner)
            {
                placed[2] = secondary;
                placeReplica(secondary, placed[1], 1);
                LOG.log(System.Logger.Level.INFO, "GMM: vRegion " + index + " of process " + asid +
                    " has a new secondary, memory monitor " + secondary);
            }
        }
    }

    /**
     * The secondary of a vRegion of process {@code asid} owned by {@code owner}: by the policy among the monitors
     * other than the owner, avoiding the process's home while another has room (the home already serves the process's
     * own requests, and a replica elsewhere lets an owner and its secondary die while the process lives: the kill
     * test's "both" case), never {@code exclude} and {@code avoid} while another has room (-1: none). -1 when only the
     * owner (or {@code exclude}) could take it. Lock held.
     */
    private int chooseSecondary(final int asid, final long bytesNeeded, final int owner, final int exclude,
        final int avoid)
    {
        final List<MemoryMember> members = new ArrayList<>(memoryMembers);
        members.removeIf(m -> m.memberId() == exclude);
        if (avoid >= 0)
        {
            // The secondary its owner dropped last may be alive with its log full: another one while one has room.
            final List<MemoryMember> others = new ArrayList<>(members);
            others.removeIf(m -> m.memberId() == avoid);
            final int chosen = chooseSecondary(others, homes.get(asid), bytesNeeded, owner);
            if (chosen >= 0)
            {
                return chosen;
            }
        }
        return chooseSecondary(members, homes.get(asid), bytesNeeded, owner);
    }

    private int chooseSecondary(final List<MemoryMember> members, final Integer home, final long bytesNeeded,
        final int owner)
    {
        if (home != null && home != owner)
        {
            final List<MemoryMember> others = new ArrayList<>(members);
            others.removeIf(m -> m.memberId() == home);
            final int chosen = policy.choose(others, bytesNeeded, owner);
            if (chosen >= 0 && chosen != owner)
            {
                return chosen;
            }
        }
        final int chosen = policy.choose(members, bytesNeeded, owner);
        return chosen == owner ? -1 : chosen;
    }

    /**
     * A replica's bytes count against its secondary's capacity (its copy of the vma table commits them): +1 placed,
     * -1 gone.
     * A dead secondary's count changes too: one declared dead by mistake rejoins with what it really holds.
     */
    private void placeReplica(final int secondary, final long bytes, final int sign)
    {
        final MemoryMember member = secondary < 0 ? null : memoryMemberLiveOrDead(secondary);
        if (member != null)
        {
            member.committedBytes = Math.max(0, member.committedBytes + sign * bytes);
            member.placedBytes = Math.max(0, member.placedBytes + sign * bytes);
        }
    }

    /**
     * vRegions failed over to their secondary so far, vRegions lost (owner and secondary dead), and secondaries their
     * owners dropped ({@link Opcodes#REPLICA_LOST}) and the GMM released.
     */
    public long[] failoverCounts()
    {
        return new long[] {failovers.get(), lostVRegions.get(), droppedSecondaries.get()};
    }

    /** The secondary of vRegion {@code index} of process {@code asid}, or -1 (none, or no such vRegion): for tests. */
    public synchronized int secondaryOf(final int asid, final int index)
    {
        final long[] placed = vRegions.get(key(asid, index));
        return placed == null ? -1 : (int)placed[2];
    }

    /** True while a re-replication of vRegion {@code index} of process {@code asid} is queued: for tests. */
    public synchronized boolean replicationQueued(final int asid, final int index)
    {
        return replicationsQueued.contains(key(asid, index));
    }

    /** The owner of vRegion {@code index} of process {@code asid}, or -1: for tests. */
    public synchronized int ownerOf(final int asid, final int index)
    {
        final long[] placed = vRegions.get(key(asid, index));
        return placed == null ? -1 : (int)placed[0];
    }

    @Override
    public int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (opcode == Opcodes.VNODE_REMOVE)
        {
            return removeVNode(request, offset, length, reply, replyOffset, replyCapacity);
        }
        synchronized (this)
        {
            return serve(opcode, request, offset, length, reply, replyOffset, replyCapacity);
        }
    }

    /**
     * GSM: remove a vNode and its files. The calls to its cache and storage monitors run without this manager's lock
     * (a cache monitor may be asking this manager a lookup meanwhile); the vNode is marked as being removed.
     */
    private int removeVNode(
        final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < VNodeDescriptor.HEADER_LENGTH || replyCapacity < VNodeDescriptor.HEADER_LENGTH)
        {
            synchronized (this)
            {
                errors.increment();
            }
            return Status.MALFORMED;
        }
        final int vNodeId = request.getInt(offset + VNodeDescriptor.VNODE_OFFSET);
        final long[] code = new long[1];
        final String[] targets;
        synchronized (this)
        {
            targets = storageManager.beginRemove(vNodeId, code);
        }
        long result = code[0];
        if (targets != null)
        {
            result = storageManager.dropFiles(vNodeId, targets);
            synchronized (this)
            {
                storageManager.endRemove(vNodeId, result >= 0);
            }
        }
        if (result < 0)
        {
            synchronized (this)
            {
                errors.increment();
            }
        }
        return StorageManager.encodeReply(
            reply, replyOffset, replyCapacity, Opcodes.VNODE_REMOVE, vNodeId, result, -1, -1, "");
    }

    private int serve(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (Opcodes.isVNodeOpcode(opcode))
        {
            final int replyLength = storageManager.onRequest(
                opcode, request, offset, length, reply, replyOffset, replyCapacity);
            if (replyLength < 0 || reply.getLong(replyOffset) < 0)
            {
                errors.increment();
            }
            return replyLength;
        }
        if (opcode == Opcodes.MEMBER_LIST && replyCapacity >= GlobalDescriptor.HEADER_LENGTH +
            GlobalDescriptor.MAX_ADDRESS_LENGTH)
        {
            String text = membersText();
            while (text.length() > GlobalDescriptor.MAX_ADDRESS_LENGTH)
            {
                // Too many members for one reply: whole lines only, the last ones are left off.
                text = text.substring(0, text.lastIndexOf('\n', text.length() - 2) + 1);
            }
            GlobalDescriptor.clear(reply, replyOffset);
            return GlobalDescriptor.putAddress(reply, replyOffset, text);
        }
        final Handler handler = opcode >= Opcodes.REPLICA_LOST && opcode < Opcodes.REPLICA_LOST + handlers.length
            ? handlers[opcode - Opcodes.REPLICA_LOST] : null;
        if (handler == null)
        {
            errors.increment();
            return Status.UNKNOWN_OPCODE;
        }
        if (length < GlobalDescriptor.HEADER_LENGTH ||
            replyCapacity < GlobalDescriptor.HEADER_LENGTH + GlobalDescriptor.MAX_ADDRESS_LENGTH)
        {
            errors.increment();
            return Status.MALFORMED;
        }
        final GlobalRequest r = this.request.wrap(request, offset, length, ctx.nanoClock().nanoTime());
        GlobalDescriptor.clear(reply, replyOffset);
        final long result = handler.serve(r);
        if (result < 0)
        {
            errors.increment();
        }
        reply.putLong(replyOffset + GlobalDescriptor.RESULT_OFFSET, result);
        reply.putInt(replyOffset + GlobalDescriptor.MEMBER_ID_OFFSET, r.replyMember);
        reply.putInt(replyOffset + GlobalDescriptor.ASID_OFFSET, r.replyAsid);
        reply.putInt(replyOffset + GlobalDescriptor.EXCLUDE_OFFSET, r.replySecondary);
        final String memberAddress = r.replyMember >= 0 ? addresses.get(r.replyMember) : null;
        return memberAddress == null ? GlobalDescriptor.HEADER_LENGTH :
            GlobalDescriptor.putAddress(reply, replyOffset, memberAddress);
    }

    /** Serves one opcode of the global managers; the manager's lock is held. */
    @FunctionalInterface
    private interface Handler
    {
        /** @return the result (a member id, an owner, 0) or a negative Errno; sets the reply's member and asid. */
        long serve(GlobalRequest request);
    }

    /** One decoded request and the reply fields its handler sets; reused (the manager's lock is held). */
    private static final class GlobalRequest
    {
        DirectBuffer buffer;
        int offset;
        int length;
        long nowNs;
        int memberId;
        int role;
        int replyMember;
        int replyAsid;
        int replySecondary;

        GlobalRequest wrap(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
        {
            this.buffer = buffer;
            this.offset = offset;
            this.length = length;
            this.nowNs = nowNs;
            this.memberId = buffer.getInt(offset + GlobalDescriptor.MEMBER_ID_OFFSET);
            this.role = buffer.getInt(offset + GlobalDescriptor.ROLE_OFFSET);
            this.replyMember = -1;
            this.replyAsid = 0;
            this.replySecondary = -1;
            return this;
        }

        long getLong(final int fieldOffset)
        {
            return buffer.getLong(offset + fieldOffset);
        }

        int getInt(final int fieldOffset)
        {
            return buffer.getInt(offset + fieldOffset);
        }
    }

    /** The handlers by opcode, from {@link Opcodes#REPLICA_LOST} on. */
    private Handler[] handlers()
    {
        final Handler[] table = new Handler[Opcodes.FREE_VREGION - Opcodes.REPLICA_LOST + 1];
        table[Opcodes.MEMBER_REGISTER - Opcodes.REPLICA_LOST] = this::register;
        table[Opcodes.LOAD_REPORT - Opcodes.REPLICA_LOST] = this::loadReport;
        table[Opcodes.CHOOSE_HOME - Opcodes.REPLICA_LOST] = this::chooseHome;
        table[Opcodes.ALLOCATE_VREGION - Opcodes.REPLICA_LOST] = this::allocateVRegion;
        table[Opcodes.FREE_VREGION - Opcodes.REPLICA_LOST] = this::freeVRegion;
        table[Opcodes.CHOOSE_PROCESSOR - Opcodes.REPLICA_LOST] = this::chooseProcessor;
        table[Opcodes.LOOKUP_MEMBER - Opcodes.REPLICA_LOST] = this::lookupMember;
        table[Opcodes.MEMBER_SUSPECT - Opcodes.REPLICA_LOST] = r -> suspect(r.memberId);
        table[Opcodes.REPLICA_LOST - Opcodes.REPLICA_LOST] = this::replicaLost;
        return table;
    }

    private long register(final GlobalRequest r)
    {
        final String text = GlobalDescriptor.address(r.buffer, r.offset, r.length);
        final int separator = text == null ? -1 : text.indexOf(GlobalDescriptor.NAME_SEPARATOR);
        final String memberAddress = separator < 0 ? text : text.substring(0, separator);
        final String name = separator < 0 ? null : text.substring(separator + 1);
        if (memberAddress == null || memberAddress.isEmpty() || (name != null && name.isEmpty()) ||
            (r.role != GlobalDescriptor.ROLE_MEMORY && r.role != GlobalDescriptor.ROLE_PROCESSOR &&
            r.role != GlobalDescriptor.ROLE_STORAGE))
        {
            return Errno.EINVAL;
        }
        final long capacityBytes = r.getLong(GlobalDescriptor.CAPACITY_OFFSET);
        if (r.role == GlobalDescriptor.ROLE_STORAGE && name != null)
        {
            final StorageMember known = storageMemberNamed(name);
            if (known != null)
            {
                // A restart on the same data directory: same member and vNodes, perhaps a new address.
                reviveStorageMember(known.memberId);
                known.address = memberAddress;
                known.capacityBytes = capacityBytes;
                known.lastHeartbeatNs = r.nowNs;
                addresses.put(known.memberId, memberAddress);
                r.replyMember = known.memberId;
                return known.memberId;
            }
        }
        final int id = nextMemberId++;
        if (r.role == GlobalDescriptor.ROLE_MEMORY)
        {
            memoryMembers.add(new MemoryMember(id, memberAddress, capacityBytes, r.nowNs));
            pushMember(id, memberAddress, true);
            replicateUnreplicated();
        }
        else if (r.role == GlobalDescriptor.ROLE_STORAGE)
        {
            storageMembers.add(new StorageMember(id, name == null ? "" : name, memberAddress, capacityBytes, r.nowNs));
        }
        else
        {
            final ProcessorMember member = new ProcessorMember(id, memberAddress, r.nowNs);
            processorMembers.add(member);
            pushAllMembers(member);
        }
        addresses.put(id, memberAddress);
        r.replyMember = id;
        return id;
    }

    private long loadReport(final GlobalRequest r)
    {
        if (r.role == GlobalDescriptor.ROLE_MEMORY)
        {
            final boolean wasDead = memoryMember(r.memberId) == null;
            final MemoryMember member = reviveMemoryMember(r.memberId);
            if (member == null)
            {
                return Errno.ENOENT;
            }
            if (wasDead)
            {
                pushMember(member.memberId, member.address, true);
                final java.util.Set<Long> abandoned = abandonedReplicas.remove(member.memberId);
                if (abandoned != null)
                {
                    abandoned.forEach(key -> failover.execute(() -> dropReplica(failover, member.memberId, key)));
                }
                replicateUnreplicated();
            }
            member.capacityBytes = r.getLong(GlobalDescriptor.CAPACITY_OFFSET);
            // A report may predate the vRegions placed here since it was taken: never let it undo them, or a burst of
            // placements would all land on the monitor that reported last.
            member.committedBytes = Math.max(r.getLong(GlobalDescriptor.COMMITTED_OFFSET), member.placedBytes);
            member.usedBytes = r.getLong(GlobalDescriptor.USED_OFFSET);
            member.ownedVRegions = Math.max(r.getInt(GlobalDescriptor.COUNT_OFFSET), member.placedVRegions);
            member.lastHeartbeatNs = r.nowNs;
        }
        else if (r.role == GlobalDescriptor.ROLE_STORAGE)
        {
            final StorageMember member = reviveStorageMember(r.memberId);
            if (member == null)
            {
                return Errno.ENOENT;
            }
            member.capacityBytes = r.getLong(GlobalDescriptor.CAPACITY_OFFSET);
            member.usedBytes = r.getLong(GlobalDescriptor.USED_OFFSET);
            member.files = r.getInt(GlobalDescriptor.COUNT_OFFSET);
            member.lastHeartbeatNs = r.nowNs;
        }
        else
        {
            final boolean wasDead = processorMember(r.memberId) == null;
            final ProcessorMember member = reviveProcessorMember(r.memberId);
            if (member == null)
            {
                return Errno.ENOENT;
            }
            if (wasDead || processorsToResync.remove(member.memberId))
            {
                // Back from the dead, or a push to it failed: it may have missed changes.
                pushAllMembers(member);
            }
            member.runningThreads = r.getInt(GlobalDescriptor.COUNT_OFFSET);
            member.lastHeartbeatNs = r.nowNs;
        }
        return 0;
    }

    private long chooseHome(final GlobalRequest r)
    {
        final int home = policy.choose(memoryMembers, 0, -1);
        if (home < 0)
        {
            return Errno.ENOMEM;
        }
        r.replyAsid = nextAsid++;
        r.replyMember = home;
        homes.put(r.replyAsid, home);
        return home;
    }

    private long allocateVRegion(final GlobalRequest r)
    {
        final long bytesNeeded = r.getLong(GlobalDescriptor.COMMITTED_OFFSET);
        final int exclude = r.getInt(GlobalDescriptor.EXCLUDE_OFFSET);
        final int asid = r.getInt(GlobalDescriptor.ASID_OFFSET);
        final int index = r.getInt(GlobalDescriptor.VREGION_INDEX_OFFSET);
        if (bytesNeeded < 0)
        {
            return Errno.EINVAL;
        }
        final int owner = policy.choose(memoryMembers, bytesNeeded, exclude);
        final MemoryMember member = owner < 0 ? null : memoryMember(owner);
        if (member == null)
        {
            return Errno.ENOMEM;
        }
        member.committedBytes += bytesNeeded;
        member.ownedVRegions++;
        member.placedBytes += bytesNeeded;
        member.placedVRegions++;
        final int secondary = ctx.replication() ? chooseSecondary(asid, bytesNeeded, owner, -1, -1) : -1;
        vRegions.put(key(asid, index), new long[] {owner, bytesNeeded, secondary});
        placeReplica(secondary, bytesNeeded, 1);
        r.replyAsid = asid;
        r.replyMember = owner;
        r.replySecondary = secondary;
        return owner;
    }

    private long freeVRegion(final GlobalRequest r)
    {
        final long[] placed = vRegions.remove(key(r.getInt(GlobalDescriptor.ASID_OFFSET),
            r.getInt(GlobalDescriptor.VREGION_INDEX_OFFSET)));
        if (placed != null)
        {
            final MemoryMember member = memoryMemberLiveOrDead((int)placed[0]);
            if (member != null)
            {
                member.committedBytes = Math.max(0, member.committedBytes - placed[1]);
                member.ownedVRegions = Math.max(0, member.ownedVRegions - 1);
                member.placedBytes = Math.max(0, member.placedBytes - placed[1]);
                member.placedVRegions = Math.max(0, member.placedVRegions - 1);
            }
            placeReplica((int)placed[2], placed[1], -1);
            replicateUnreplicated(); // room freed
        }
        return 0;
    }

    private long chooseProcessor(final GlobalRequest r)
    {
        ProcessorMember best = null;
        for (final ProcessorMember member : processorMembers)
        {
            if (best == null || member.runningThreads < best.runningThreads)
            {
                best = member;
            }
        }
        if (best == null)
        {
            return Errno.ENOENT;
        }
        best.runningThreads++;
        r.replyMember = best.memberId;
        return best.memberId;
    }

    private long lookupMember(final GlobalRequest r)
    {
        if (!addresses.containsKey(r.memberId))
        {
            return Errno.ENOENT;
        }
        r.replyMember = r.memberId;
        return r.memberId;
    }

    /**
     * Run the global managers as a server process: settings from system properties ({@link GlobalManagerContext},
     * {@link dev.splitkernel.verbs.FabricContext}); prints {@code global manager listening at <address>} on stdout
     * once serving; runs until SIGINT or SIGTERM.
     */
    public static void main(final String[] args)
    {
        try (org.agrona.concurrent.ShutdownSignalBarrier barrier = new org.agrona.concurrent.ShutdownSignalBarrier();
            GlobalManager manager = new GlobalManager(new GlobalManagerContext()).start())
        {
            System.out.println("global manager listening at " + manager.address());
            System.out.flush();
            barrier.await();
        }
    }

    /**
     * Declare dead every member whose last heartbeat is older than the member timeout: it leaves placement (GMM and
     * GPM skip it) until it reports again. Called by the {@link MembershipAgent}.
     *
     * @return how many members were declared dead now.
     */
    public synchronized int checkMembers(final long nowNs)
    {
        final long timeoutNs = ctx.memberTimeoutMs() * 1_000_000L;
        if (timeoutNs <= 0)
        {
            return 0;
        }
        int declared = 0;
        for (int i = memoryMembers.size() - 1; i >= 0; i--)
        {
            if (nowNs - memoryMembers.get(i).lastHeartbeatNs - timeoutNs > 0)
            {
                declareMemoryMemberDead(i);
                declared++;
            }
        }
        for (int i = processorMembers.size() - 1; i >= 0; i--)
        {
            if (nowNs - processorMembers.get(i).lastHeartbeatNs - timeoutNs > 0)
            {
                deadProcessorMembers.add(processorMembers.remove(i));
                declared++;
            }
        }
        for (int i = storageMembers.size() - 1; i >= 0; i--)
        {
            if (nowNs - storageMembers.get(i).lastHeartbeatNs - timeoutNs > 0)
            {
                deadStorageMembers.add(storageMembers.remove(i));
                declared++;
            }
        }
        return declared;
    }

    /**
     * The GMM was stalled for {@code stalledNs} (its membership check ran that late): that time does not count as any
     * member's silence, since their heartbeats may be queued unread. Moves every live member's last heartbeat forward
     * by it, never past {@code nowNs}. A member really dead is still declared once silent for the member timeout of
     * the GMM's own running time. Called by the {@link MembershipAgent} before it checks.
     */
    public synchronized void forgiveStall(final long stalledNs, final long nowNs)
    {
        LOG.log(System.Logger.Level.INFO, "GMM: membership check ran " + stalledNs / 1_000_000L +
            " ms late; that time is not counted as members' silence");
        memoryMembers.forEach(m -> m.lastHeartbeatNs = forgiven(m.lastHeartbeatNs, stalledNs, nowNs));
        processorMembers.forEach(m -> m.lastHeartbeatNs = forgiven(m.lastHeartbeatNs, stalledNs, nowNs));
        storageMembers.forEach(m -> m.lastHeartbeatNs = forgiven(m.lastHeartbeatNs, stalledNs, nowNs));
    }

    private static long forgiven(final long lastHeartbeatNs, final long stalledNs, final long nowNs)
    {
        final long moved = lastHeartbeatNs + stalledNs;
        return moved - nowNs > 0 ? nowNs : moved;
    }

    /**
     * Declare memory monitor {@code memberId} dead now, as a heartbeat timeout or a failed probe would, whether or not it
     * is alive: tests of a false death (a probe lost under load).
     *
     * @return false if it is not a live memory member.
     */
    public synchronized boolean declareDead(final int memberId)
    {
        for (int i = 0; i < memoryMembers.size(); i++)
        {
            if (memoryMembers.get(i).memberId == memberId)
            {
                declareMemoryMemberDead(i);
                return true;
            }
        }
        return false;
    }

    /**
     * GMM: vRegion {@code vRegionIndex} of process {@code asid} is owned by memory monitor {@code ownerId} from now on
     * (a replica taking over from a dead owner): the placement moves, and every live processor is told (its misses
     * there go to the new owner; those waiting on the dead one retry there). Moving the pages is the caller's part.
     *
     * @return 0, or ENOENT if {@code ownerId} is not a live memory monitor.
     */
    public synchronized int moveVRegion(final int asid, final int vRegionIndex, final int ownerId)
    {
        final MemoryMember to = memoryMember(ownerId);
        if (to == null || vRegionIndex < 0)
        {
            return Errno.ENOENT;
        }
        final long[] placed = vRegions.get(key(asid, vRegionIndex));
        if (placed != null && placed[0] != ownerId)
        {
            // The former owner is usually dead: its count drops all the same, or a monitor declared dead by mistake
            // would rejoin still charged with every vRegion moved away from it (and fill up with nothing).
            final MemoryMember from = memoryMemberLiveOrDead((int)placed[0]);
            if (from != null)
            {
                from.committedBytes = Math.max(0, from.committedBytes - placed[1]);
                from.placedBytes = Math.max(0, from.placedBytes - placed[1]);
                from.ownedVRegions = Math.max(0, from.ownedVRegions - 1);
                from.placedVRegions = Math.max(0, from.placedVRegions - 1);
            }
            to.committedBytes += placed[1];
            to.placedBytes += placed[1];
            to.ownedVRegions++;
            to.placedVRegions++;
            placed[0] = ownerId;
        }
        for (final ProcessorMember processor : processorMembers)
        {
            push.ownerChange(processor.memberId, processor.address, asid, vRegionIndex, ownerId);
        }
        return 0;
    }

    /** Membership pushes delivered to processors, and those that failed (the processor is sent everything again). */
    public long[] pushCounts()
    {
        return new long[] {push.sent(), push.failed()};
    }

    /** Tell every live processor about a memory monitor. Lock held. */
    private void pushMember(final int memberId, final String memberAddress, final boolean alive)
    {
        for (final ProcessorMember processor : processorMembers)
        {
            push.memberUpdate(processor.memberId, processor.address, memberId, memberAddress, alive);
        }
    }

    /** Tell a processor about every memory monitor, live and dead. Lock held. */
    private void pushAllMembers(final ProcessorMember processor)
    {
        for (final MemoryMember m : memoryMembers)
        {
            push.memberUpdate(processor.memberId, processor.address, m.memberId, m.address, true);
        }
        for (final MemoryMember m : deadMemoryMembers)
        {
            push.memberUpdate(processor.memberId, processor.address, m.memberId, m.address, false);
        }
    }

    /** A push could not reach a processor: it gets every member again at its next load report. */
    private synchronized void pushFailed(final int processorId)
    {
        processorsToResync.add(processorId);
    }

    /** True if the member is registered and not declared dead. */
    public synchronized boolean isAlive(final int memberId)
    {
        return memoryMember(memberId) != null || processorMember(memberId) != null ||
            storageMember(storageMembers, memberId) != null;
    }

    /**
     * One line per member, live ones first: {@code id role address alive|dead heartbeat-age-ms load}, where load is
     * committed/capacity bytes, the vRegions it owns and holds replicas of, and whose replicas those are (memory), running threads (processor) or used/capacity bytes and files (storage). What {@code splitkernel members} prints.
     */
    public synchronized String membersText()
    {
        final long nowNs = ctx.nanoClock().nanoTime();
        final StringBuilder text = new StringBuilder();
        for (final MemoryMember m : memoryMembers)
        {
            appendMember(text, m, "alive", nowNs);
        }
        for (final ProcessorMember m : processorMembers)
        {
            appendMember(text, m, "alive", nowNs);
        }
        for (final StorageMember m : storageMembers)
        {
            appendMember(text, m, "alive", nowNs);
        }
        for (final MemoryMember m : deadMemoryMembers)
        {
            appendMember(text, m, "dead", nowNs);
        }
        for (final ProcessorMember m : deadProcessorMembers)
        {
            appendMember(text, m, "dead", nowNs);
        }
        for (final StorageMember m : deadStorageMembers)
        {
            appendMember(text, m, "dead", nowNs);
        }
        return text.toString();
    }

    private void appendMember(final StringBuilder text, final Object member, final String state, final long nowNs)
    {
        if (member instanceof MemoryMember)
        {
            final MemoryMember m = (MemoryMember)member;
            // vRegions it owns and vRegions it holds the replica of, by the GMM's placements.
            final long[] placements = new long[2];
            final java.util.TreeSet<Long> replicaOf = new java.util.TreeSet<>();
            for (final long[] placed : vRegions.values())
            {
                placements[0] += placed[0] == m.memberId ? 1 : 0;
                if (placed[2] == m.memberId)
                {
                    placements[1]++;
                    replicaOf.add(placed[0]);
                }
            }
            text.append(m.memberId).append(" memory ").append(m.address).append(' ').append(state).append(' ')
                .append((nowNs - m.lastHeartbeatNs) / 1_000_000L).append(" committed=").append(m.committedBytes)
                .append('/').append(m.capacityBytes).append(" used=").append(m.usedBytes)
                .append(" vregions=").append(placements[0]).append(" replicas=").append(placements[1])
                .append(" replica-of=").append(replicaOf.isEmpty() ? "-" : replicaOf.toString().replace(" ", "")
                    .replace("[", "").replace("]", "")).append('\n');
        }
        else if (member instanceof StorageMember)
        {
            final StorageMember m = (StorageMember)member;
            text.append(m.memberId).append(" storage ").append(m.address).append(' ').append(state).append(' ')
                .append((nowNs - m.lastHeartbeatNs) / 1_000_000L).append(" used=").append(m.usedBytes)
                .append('/').append(m.capacityBytes).append(" files=").append(m.files).append('\n');
        }
        else
        {
            final ProcessorMember m = (ProcessorMember)member;
            text.append(m.memberId).append(" processor ").append(m.address).append(' ').append(state).append(' ')
                .append((nowNs - m.lastHeartbeatNs) / 1_000_000L).append(" threads=").append(m.runningThreads)
                .append('\n');
        }
    }

    private MemoryMember reviveMemoryMember(final int memberId)
    {
        final MemoryMember live = memoryMember(memberId);
        if (live != null)
        {
            return live;
        }
        for (int i = 0; i < deadMemoryMembers.size(); i++)
        {
            if (deadMemoryMembers.get(i).memberId == memberId)
            {
                final MemoryMember member = deadMemoryMembers.remove(i);
                memoryMembers.add(member);
                return member;
            }
        }
        return null;
    }

    private ProcessorMember reviveProcessorMember(final int memberId)
    {
        final ProcessorMember live = processorMember(memberId);
        if (live != null)
        {
            return live;
        }
        for (int i = 0; i < deadProcessorMembers.size(); i++)
        {
            if (deadProcessorMembers.get(i).memberId == memberId)
            {
                final ProcessorMember member = deadProcessorMembers.remove(i);
                processorMembers.add(member);
                return member;
            }
        }
        return null;
    }

    private StorageMember reviveStorageMember(final int memberId)
    {
        final StorageMember live = storageMember(storageMembers, memberId);
        if (live != null)
        {
            return live;
        }
        final StorageMember dead = storageMember(deadStorageMembers, memberId);
        if (dead != null)
        {
            deadStorageMembers.remove(dead);
            storageMembers.add(dead);
        }
        return dead;
    }

    private StorageMember storageMemberNamed(final String name)
    {
        for (final StorageMember member : storageMembers)
        {
            if (member.name.equals(name))
            {
                return member;
            }
        }
        for (final StorageMember member : deadStorageMembers)
        {
            if (member.name.equals(name))
            {
                return member;
            }
        }
        return null;
    }

    private static StorageMember storageMember(final List<StorageMember> members, final int memberId)
    {
        for (final StorageMember member : members)
        {
            if (member.memberId == memberId)
            {
                return member;
            }
        }
        return null;
    }

    private static long key(final int asid, final int index)
    {
        return ((long)asid << 32) | (index & 0xFFFF_FFFFL);
    }

    private MemoryMember memoryMember(final int memberId)
    {
        for (final MemoryMember member : memoryMembers)
        {
            if (member.memberId == memberId)
            {
                return member;
            }
        }
        return null;
    }

    /** A memory member, live or declared dead, or null: for its counts, which must stay true while it is dead. */
    private MemoryMember memoryMemberLiveOrDead(final int memberId)
    {
        final MemoryMember live = memoryMember(memberId);
        if (live != null)
        {
            return live;
        }
        for (final MemoryMember member : deadMemoryMembers)
        {
            if (member.memberId == memberId)
            {
                return member;
            }
        }
        return null;
    }

    /**
     * For tests: the bytes the GMM counts as placed at memory monitor {@code memberId} (live or dead), the bytes of
     * the vRegions its placements say the monitor owns or holds a replica of (equal unless the count leaks), and the
     * committed bytes it counts there (at least the monitor's last report).
     */
    public synchronized long[] placedBytes(final int memberId)
    {
        final MemoryMember member = memoryMemberLiveOrDead(memberId);
        long fromPlacements = 0;
        for (final long[] placed : vRegions.values())
        {
            fromPlacements += placed[0] == memberId || placed[2] == memberId ? placed[1] : 0;
        }
        return new long[] {member == null ? -1 : member.placedBytes, fromPlacements,
            member == null ? -1 : member.committedBytes};
    }

    private ProcessorMember processorMember(final int memberId)
    {
        for (final ProcessorMember member : processorMembers)
        {
            if (member.memberId == memberId)
            {
                return member;
            }
        }
        return null;
    }

    @Override
    public void close()
    {
        failover.close();
        fences.close();
        push.close();
        resources.stopAgents();
        synchronized (this)
        {
            storageManager.close();
        }
        resources.close();
    }
}
