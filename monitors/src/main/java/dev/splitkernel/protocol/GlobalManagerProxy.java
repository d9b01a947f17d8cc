package dev.splitkernel.protocol;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Requests to the global managers (GMM and GPM, served by one {@code GlobalManager}): membership, load reports,
 * process and vRegion placement. Control path only.
 * <p>
 * Thread-safe: calls are serialised.
 */
public final class GlobalManagerProxy implements AutoCloseable
{
    private static final int BUFFER_BYTES = GlobalDescriptor.HEADER_LENGTH + GlobalDescriptor.MAX_ADDRESS_LENGTH;

    private final Connection connection;
    private final long timeoutNs;
    private final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));
    private final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));

    public GlobalManagerProxy(final Connection connection, final long timeoutNs)
    {
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("timeoutNs must be positive: " + timeoutNs);
        }
        this.connection = connection;
        this.timeoutNs = timeoutNs;
    }

    public Connection connection()
    {
        return connection;
    }

    /**
     * Join the cluster as a {@link GlobalDescriptor#ROLE_MEMORY} or {@link GlobalDescriptor#ROLE_PROCESSOR} member
     * reachable at {@code address}.
     *
     * @return the member id (>= 0) or a negative code.
     */
    public synchronized int registerMember(final int role, final long capacityBytes, final String address)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, role);
        request.putLong(GlobalDescriptor.CAPACITY_OFFSET, capacityBytes);
        final int length = GlobalDescriptor.putAddress(request, 0, address);
        final long result = call(Opcodes.MEMBER_REGISTER, length);
        return (int)result;
    }

    /**
     * Join (or rejoin) the cluster under a persistent {@code name} (storage monitors: kept in their data directory).
     * A name the global manager already knows gets its earlier member id back, with {@code address} as its new
     * address; a new name gets a new id.
     *
     * @return the member id (>= 0) or a negative code (EINVAL for an empty name or one with a tab or newline).
     */
    public synchronized int registerMember(final int role, final long capacityBytes, final String address,
        final String name)
    {
        if (name == null || name.isEmpty() || name.indexOf('\t') >= 0 || name.indexOf('\n') >= 0)
        {
            return Errno.EINVAL;
        }
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, role);
        request.putLong(GlobalDescriptor.CAPACITY_OFFSET, capacityBytes);
        final int length = GlobalDescriptor.putAddress(request, 0, address + GlobalDescriptor.NAME_SEPARATOR + name);
        return (int)call(Opcodes.MEMBER_REGISTER, length);
    }

    /**
     * A storage monitor's load report (its heartbeat). Returns 0 or a negative code (ENOENT: unknown member).
     *
     * @param files files and directories stored.
     */
    public synchronized int reportStorageLoad(
        final int memberId, final long capacityBytes, final long usedBytes, final int files)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, memberId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_STORAGE);
        request.putLong(GlobalDescriptor.CAPACITY_OFFSET, capacityBytes);
        request.putLong(GlobalDescriptor.USED_OFFSET, usedBytes);
        request.putInt(GlobalDescriptor.COUNT_OFFSET, files);
        return (int)call(Opcodes.LOAD_REPORT, GlobalDescriptor.HEADER_LENGTH);
    }

    /** A memory monitor's load report (its heartbeat). Returns 0 or a negative code (ENOENT: unknown member). */
    public synchronized int reportMemoryLoad(
        final int memberId, final long capacityBytes, final long committedBytes, final long usedBytes,
        final int ownedVRegions)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, memberId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_MEMORY);
        request.putLong(GlobalDescriptor.CAPACITY_OFFSET, capacityBytes);
        request.putLong(GlobalDescriptor.COMMITTED_OFFSET, committedBytes);
        request.putLong(GlobalDescriptor.USED_OFFSET, usedBytes);
        request.putInt(GlobalDescriptor.COUNT_OFFSET, ownedVRegions);
        return (int)call(Opcodes.LOAD_REPORT, GlobalDescriptor.HEADER_LENGTH);
    }

    /** A processor monitor's load report (its heartbeat). Returns 0 or a negative code. */
    public synchronized int reportProcessorLoad(final int memberId, final int runningThreads)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, memberId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_PROCESSOR);
        request.putInt(GlobalDescriptor.COUNT_OFFSET, runningThreads);
        return (int)call(Opcodes.LOAD_REPORT, GlobalDescriptor.HEADER_LENGTH);
    }

    /**
     * GMM: assign a new process id (asid) and choose its home memory monitor.
     *
     * @param processorId the processor monitor that will run the process.
     */
    public synchronized Placement chooseHome(final int processorId)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, processorId);
        return placement(Opcodes.CHOOSE_HOME, GlobalDescriptor.HEADER_LENGTH);
    }

    /**
     * GMM (asked by a home): choose the owner of vRegion {@code vRegionIndex} of process {@code asid}, which needs
     * {@code bytesNeeded} of capacity now; never {@code excludeMemberId} (-1 for none). ENOMEM if no memory
     * monitor has room.
     */
    public synchronized Placement allocateVRegion(
        final int asid, final int vRegionIndex, final long bytesNeeded, final int excludeMemberId)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.ASID_OFFSET, asid);
        request.putInt(GlobalDescriptor.VREGION_INDEX_OFFSET, vRegionIndex);
        request.putLong(GlobalDescriptor.COMMITTED_OFFSET, bytesNeeded);
        request.putInt(GlobalDescriptor.EXCLUDE_OFFSET, excludeMemberId);
        return placement(Opcodes.ALLOCATE_VREGION, GlobalDescriptor.HEADER_LENGTH);
    }

    /** GMM: a vRegion is no longer used by the process. Returns 0 or a negative code. */
    public synchronized int freeVRegion(final int asid, final int vRegionIndex, final int ownerId)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.ASID_OFFSET, asid);
        request.putInt(GlobalDescriptor.VREGION_INDEX_OFFSET, vRegionIndex);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, ownerId);
        return (int)call(Opcodes.FREE_VREGION, GlobalDescriptor.HEADER_LENGTH);
    }

    /**
     * GMM: a call to memory monitor {@code memberId} failed in transport. The GMM probes it (asynchronously) and fails
     * it over if it does not answer. Returns 0 or a negative code.
     */
    public synchronized int suspectMember(final int memberId)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, memberId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_MEMORY);
        return (int)call(Opcodes.MEMBER_SUSPECT, GlobalDescriptor.HEADER_LENGTH);
    }

    /** GMM: this monitor, owner of vRegion {@code index} of process {@code asid}, dropped its secondary {@code memberId}. */
    public synchronized int replicaLost(final int memberId, final int asid, final int index)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, memberId);
        request.putInt(GlobalDescriptor.ROLE_OFFSET, GlobalDescriptor.ROLE_MEMORY);
        request.putInt(GlobalDescriptor.ASID_OFFSET, asid);
        request.putInt(GlobalDescriptor.VREGION_INDEX_OFFSET, index);
        return (int)call(Opcodes.REPLICA_LOST, GlobalDescriptor.HEADER_LENGTH);
    }

    /** GPM: choose the processor monitor with the fewest running threads for a new process. */
    public synchronized Placement chooseProcessor()
    {
        GlobalDescriptor.clear(request, 0);
        return placement(Opcodes.CHOOSE_PROCESSOR, GlobalDescriptor.HEADER_LENGTH);
    }

    /** The listen address of a member, or null if it is unknown or the manager cannot be reached. */
    public synchronized String lookupMember(final int memberId)
    {
        GlobalDescriptor.clear(request, 0);
        request.putInt(GlobalDescriptor.MEMBER_ID_OFFSET, memberId);
        final Placement placement = placement(Opcodes.LOOKUP_MEMBER, GlobalDescriptor.HEADER_LENGTH);
        return placement.isOk() ? placement.address() : null;
    }

    /**
     * Every member with its state, one line each: {@code id role address alive|dead heartbeat-age-ms load}; null if
     * the manager cannot be reached (or answered badly).
     */
    public synchronized String listMembers()
    {
        GlobalDescriptor.clear(request, 0);
        final int replyLength = connection.call(
            Opcodes.MEMBER_LIST, request, 0, GlobalDescriptor.HEADER_LENGTH, reply, 0, BUFFER_BYTES, timeoutNs);
        return replyLength < GlobalDescriptor.HEADER_LENGTH ? null : GlobalDescriptor.address(reply, 0, replyLength);
    }

    private Placement placement(final int opcode, final int length)
    {
        final int replyLength = connection.call(opcode, request, 0, length, reply, 0, BUFFER_BYTES, timeoutNs);
        if (replyLength < 0)
        {
            return Placement.failed(replyLength);
        }
        if (replyLength < GlobalDescriptor.HEADER_LENGTH)
        {
            return Placement.failed(Status.MALFORMED);
        }
        final long result = reply.getLong(GlobalDescriptor.RESULT_OFFSET);
        if (result < 0)
        {
            return Placement.failed(result);
        }
        return new Placement(result, reply.getInt(GlobalDescriptor.ASID_OFFSET),
            reply.getInt(GlobalDescriptor.MEMBER_ID_OFFSET), GlobalDescriptor.address(reply, 0, replyLength),
            opcode == Opcodes.ALLOCATE_VREGION ? reply.getInt(GlobalDescriptor.EXCLUDE_OFFSET) : -1);
    }

    private long call(final int opcode, final int length)
    {
        final int replyLength = connection.call(opcode, request, 0, length, reply, 0, BUFFER_BYTES, timeoutNs);
        if (replyLength < 0)
        {
            return replyLength;
        }
        if (replyLength < GlobalDescriptor.HEADER_LENGTH)
        {
            return Status.MALFORMED;
        }
        return reply.getLong(GlobalDescriptor.RESULT_OFFSET);
    }

    /** Closes the connection. */
    @Override
    public void close()
    {
        connection.close();
    }
}
