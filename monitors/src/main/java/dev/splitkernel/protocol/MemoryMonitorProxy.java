package dev.splitkernel.protocol;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Requests to one memory monitor over a {@link Connection}: line fetches and write-backs (to the line's owner),
 * the memory system calls (to the process's home) and the owner operations (home to owner).
 * <p>
 * Results: a line fetch returns the line's permission bits (>= 0); every method returns a negative {@link Errno}
 * for a refused request (EFAULT: no vma there; ENOMEM: the monitor is full) or a negative transport
 * {@link Status} (TIMEOUT, NOT_CONNECTED, ...). Expected failures never throw.
 * <p>
 * Thread-safe: each calling thread gets its own preallocated buffers (created at its first call), so the line
 * operations allocate nothing in the steady state. System calls are serialised.
 */
public final class MemoryMonitorProxy implements AutoCloseable
{
    private static final int CONTROL_REPLY_BYTES = 64 * 1024;

    private final Connection connection;
    private final int memberId;
    private final int maxLineBytes;
    private final long timeoutNs;
    private final ThreadLocal<Scratch> scratch;
    private final UnsafeBuffer controlRequest = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final UnsafeBuffer controlReply =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(CONTROL_REPLY_BYTES, 64));

    private static final class Scratch
    {
        final UnsafeBuffer request;
        final UnsafeBuffer reply;

        Scratch(final int maxLineBytes)
        {
            request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                align64(LineRequestDescriptor.HEADER_LENGTH + maxLineBytes), 64));
            reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                align64(LineReplyDescriptor.HEADER_LENGTH + maxLineBytes), 64));
        }

        private static int align64(final int value)
        {
            return (value + 63) & ~63;
        }
    }

    /**
     * @param connection   to the memory monitor.
     * @param memberId     the monitor's member id (from the GMM), reported by {@link #memberId()}.
     * @param maxLineBytes the largest line this proxy moves (the ExCache's line size).
     * @param timeoutNs    the timeout of every request.
     */
    public MemoryMonitorProxy(final Connection connection, final int memberId, final int maxLineBytes, final long timeoutNs)
    {
        if (maxLineBytes <= 0 || Integer.bitCount(maxLineBytes) != 1)
        {
            throw new IllegalArgumentException("maxLineBytes must be a power of two: " + maxLineBytes);
        }
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("timeoutNs must be positive: " + timeoutNs);
        }
        this.connection = connection;
        this.memberId = memberId;
        this.maxLineBytes = maxLineBytes;
        this.timeoutNs = timeoutNs;
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(maxLineBytes));
    }

    public int memberId()
    {
        return memberId;
    }

    public Connection connection()
    {
        return connection;
    }

    public long timeoutNs()
    {
        return timeoutNs;
    }

    /**
     * Fetch the line at {@code lineAddress} (aligned to {@code lengthBytes}) into {@code dst}; the page is created
     * zero-filled if it does not exist yet. {@code location} (may be null) learns the line's registered address.
     *
     * @return the line's permission bits ({@link Prot}), or a negative Errno / Status.
     */
    public int fetchLine(
        final int asid, final long lineAddress, final int lengthBytes, final MutableDirectBuffer dst, final int dstOffset,
        final LineLocation location)
    {
        return fetch(asid, 0, lineAddress, lengthBytes, dst, dstOffset, location);
    }

    /** As {@link #fetchLine} with request flags (e.g. {@link LineRequestDescriptor#FLAG_NO_CREATE}). */
    public int fetch(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final MutableDirectBuffer dst,
        final int dstOffset, final LineLocation location)
    {
        if (lengthBytes > maxLineBytes || lengthBytes <= 0)
        {
            return Status.TOO_LARGE;
        }
        final Scratch s = scratch.get();
        LineRequestDescriptor.encode(s.request, 0, asid, flags, lineAddress, lengthBytes, 0, 0);
        return fetchReply(Opcodes.LINE_FETCH, s, LineRequestDescriptor.HEADER_LENGTH, lengthBytes, dst, dstOffset, location);
    }

    /**
     * Write back the dirty victim line and fetch a line from the same memory monitor in one round trip.
     *
     * @return as {@link #fetchLine}; if the write-back failed while the fetch succeeded, the write-back's status.
     */
    public int fetchLineWithWriteBack(
        final int asid, final long lineAddress, final int lengthBytes, final MutableDirectBuffer dst, final int dstOffset,
        final LineLocation location,
        final int victimAsid, final long victimLineAddress, final DirectBuffer victim, final int victimOffset)
    {
        return fetchLineWithWriteBack(asid, 0, lineAddress, lengthBytes, dst, dstOffset, location, victimAsid,
            victimLineAddress, victim, victimOffset);
    }

    /**
     * As {@link #fetchLineWithWriteBack(int, long, int, MutableDirectBuffer, int, LineLocation, int, long,
     * DirectBuffer, int)} with request flags: with {@link LineRequestDescriptor#FLAG_REPLICA_ASYNC} the write-back
     * may come back pending replication, its ticket and the owner's fence count in {@code location} (not null then).
     */
    public int fetchLineWithWriteBack(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final MutableDirectBuffer dst,
        final int dstOffset, final LineLocation location,
        final int victimAsid, final long victimLineAddress, final DirectBuffer victim, final int victimOffset)
    {
        if (lengthBytes > maxLineBytes || lengthBytes <= 0)
        {
            return Status.TOO_LARGE;
        }
        final Scratch s = scratch.get();
        LineRequestDescriptor.encode(s.request, 0, asid, flags, lineAddress, lengthBytes, victimAsid,
            victimLineAddress);
        s.request.putBytes(LineRequestDescriptor.DATA_OFFSET, victim, victimOffset, lengthBytes);
        final int result = fetchReply(Opcodes.LINE_FETCH_WITH_WRITE_BACK, s,
            LineRequestDescriptor.HEADER_LENGTH + lengthBytes, lengthBytes, dst, dstOffset, location);
        if (result >= 0)
        {
            final int writeBackResult = LineReplyDescriptor.writeBackResult(s.reply, 0);
            if (writeBackResult < 0)
            {
                return writeBackResult;
            }
            if (writeBackResult > 0 && location != null)
            {
                location.pending(writeBackResult, LineReplyDescriptor.fences(s.reply, 0));
            }
        }
        return result;
    }

    /**
     * How far this owner's forwards to its secondaries have gone ({@link Opcodes#LINE_REPLICA_ACKS}): with
     * {@code wait}, first wait (at most its request timeout) until {@code ticket} is done.
     *
     * @param acks receives [0] the tickets done (every ticket up to it), [1] the owner's fence count.
     * @return 0, or a negative Errno / Status.
     */
    public int replicaAcks(final long ticket, final boolean wait, final long[] acks)
    {
        final Scratch s = scratch.get();
        LineRequestDescriptor.encode(s.request, 0, 0, wait ? LineRequestDescriptor.FLAG_WAIT : 0, ticket, 0, 0, 0);
        final int result = headerResult(s, connection.call(Opcodes.LINE_REPLICA_ACKS, s.request, 0,
            LineRequestDescriptor.HEADER_LENGTH, s.reply, 0, LineReplyDescriptor.HEADER_LENGTH, timeoutNs));
        if (result >= 0)
        {
            acks[0] = LineReplyDescriptor.remoteAddress(s.reply, 0);
            acks[1] = LineReplyDescriptor.rkey(s.reply, 0);
        }
        return result;
    }

    private int fetchReply(
        final int opcode, final Scratch s, final int requestLength, final int lengthBytes, final MutableDirectBuffer dst,
        final int dstOffset, final LineLocation location)
    {
        // The header lands in the scratch reply, the line's bytes straight in dst (the cache line): no copy here.
        final int replyLength = connection.call(opcode, s.request, 0, requestLength, s.reply, 0,
            LineReplyDescriptor.DATA_OFFSET, dst, dstOffset, lengthBytes, timeoutNs);
        if (replyLength < 0)
        {
            return replyLength;
        }
        if (replyLength < LineReplyDescriptor.HEADER_LENGTH)
        {
            return Status.MALFORMED;
        }
        final int result = LineReplyDescriptor.result(s.reply, 0);
        if (result >= 0)
        {
            if (replyLength < LineReplyDescriptor.DATA_OFFSET + lengthBytes)
            {
                return Status.MALFORMED;
            }
            if (location != null)
            {
                location.set(LineReplyDescriptor.remoteAddress(s.reply, 0), LineReplyDescriptor.rkey(s.reply, 0));
            }
        }
        return result;
    }

    /** Write a line back (creating the page at its first write-back). Returns 0 or a negative Errno / Status. */
    public int writeBackLine(
        final int asid, final long lineAddress, final int lengthBytes, final DirectBuffer src, final int srcOffset)
    {
        return writeBack(asid, 0, lineAddress, lengthBytes, src, srcOffset);
    }

    /** As {@link #writeBackLine} with request flags. */
    public int writeBack(
        final int asid, final int flags, final long lineAddress, final int lengthBytes, final DirectBuffer src,
        final int srcOffset)
    {
        return writeBack(Opcodes.LINE_WRITE_BACK, asid, flags, lineAddress, lengthBytes, src, srcOffset);
    }

    /**
     * Primary to secondary: log a write-back of a replicated vRegion ({@link Opcodes#REPLICA_WRITE_BACK}).
     *
     * @return 0, a negative Errno from the secondary, or a negative transport status.
     */
    public int replicaWriteBack(
        final int asid, final long lineAddress, final int lengthBytes, final DirectBuffer src, final int srcOffset)
    {
        return writeBack(Opcodes.REPLICA_WRITE_BACK, asid, 0, lineAddress, lengthBytes, src, srcOffset);
    }

    private int writeBack(
        final int opcode, final int asid, final int flags, final long lineAddress, final int lengthBytes,
        final DirectBuffer src, final int srcOffset)
    {
        if (lengthBytes > maxLineBytes || lengthBytes <= 0)
        {
            return Status.TOO_LARGE;
        }
        final Scratch s = scratch.get();
        LineRequestDescriptor.encode(s.request, 0, asid, flags, lineAddress, lengthBytes, 0, 0);
        s.request.putBytes(LineRequestDescriptor.DATA_OFFSET, src, srcOffset, lengthBytes);
        return headerResult(s, connection.call(opcode, s.request, 0,
            LineRequestDescriptor.HEADER_LENGTH + lengthBytes, s.reply, 0, LineReplyDescriptor.HEADER_LENGTH, timeoutNs));
    }

    /** A header-only reply's result: the transport's failure, MALFORMED when short, else the result it carries. */
    private static int headerResult(final Scratch s, final int replyLength)
    {
        if (replyLength < 0)
        {
            return replyLength;
        }
        if (replyLength < LineReplyDescriptor.HEADER_LENGTH)
        {
            return Status.MALFORMED;
        }
        return LineReplyDescriptor.result(s.reply, 0);
    }

    /** Register a new process at its home. Returns 0 or a negative Errno / Status. */
    public long createProcess(final int asid)
    {
        return syscall(Opcodes.PROCESS_CREATE, asid, 0, 0, 0, 0, 0, 0, null);
    }

    /** The process exited: its home frees all its memory on every owner. Returns 0 or a negative code. */
    public long exitProcess(final int asid, final VRegionMap map)
    {
        return syscall(Opcodes.PROCESS_EXIT, asid, 0, 0, 0, 0, 0, 0, map);
    }

    /**
     * mmap at the home: returns the mapping's address, or EINVAL (bad length, alignment, prot or flags), ENOMEM (no
     * memory monitor has room), EEXIST (MAP_FIXED_NOREPLACE over a mapping). Updates {@code map} (may be null).
     */
    public long mmap(final int asid, final long address, final long lengthBytes, final int prot, final int flags,
        final VRegionMap map)
    {
        return syscall(Opcodes.MMAP, asid, address, lengthBytes, prot, flags, 0, 0, map);
    }

    /** munmap at the home: 0 or EINVAL. The processor drops the range from its cache (without write-back). */
    public long munmap(final int asid, final long address, final long lengthBytes, final VRegionMap map)
    {
        return syscall(Opcodes.MUNMAP, asid, address, lengthBytes, 0, 0, 0, 0, map);
    }

    /**
     * mremap at the home: the new address, or EINVAL, EFAULT (old range not mapped), ENOMEM (cannot grow in place
     * without MREMAP_MAYMOVE, or no room). The content is kept, moved across memory monitors if needed. The
     * processor writes back dirty lines of the old range before the call and drops the range (and learned
     * locations) after it.
     */
    public long mremap(final int asid, final long oldAddress, final long oldLengthBytes, final long newLengthBytes,
        final int flags, final long newAddress, final VRegionMap map)
    {
        return syscall(Opcodes.MREMAP, asid, oldAddress, oldLengthBytes, 0, flags, newLengthBytes, newAddress, map);
    }

    /** mprotect at the home: 0, EINVAL, or ENOMEM (part of the range is not mapped). */
    public long mprotect(final int asid, final long address, final long lengthBytes, final int prot)
    {
        return syscall(Opcodes.MPROTECT, asid, address, lengthBytes, prot, 0, 0, 0, null);
    }

    /**
     * brk at the home: the new (or, on failure or query with 0, the current) program break, as Linux's brk. The heap
     * starts at one vRegion (the first brk result) and may grow to 16 vRegions. Shrinking frees the pages above the
     * new break: the processor drops those lines and their learned locations.
     */
    public long brk(final int asid, final long newBreak, final VRegionMap map)
    {
        return syscall(Opcodes.BRK, asid, newBreak, 0, 0, 0, 0, 0, map);
    }

    /**
     * msync at the home: validates (EINVAL, ENOMEM for an unmapped range) after the processor wrote the range's dirty
     * lines back; 0 on success.
     */
    public long msync(final int asid, final long address, final long lengthBytes, final int flags)
    {
        return syscall(Opcodes.MSYNC, asid, address, lengthBytes, 0, flags, 0, 0, null);
    }

    /** Fill {@code map} with the process's whole vRegion-to-owner map. Returns 0 or a negative code. */
    public long vRegionMap(final int asid, final VRegionMap map)
    {
        return syscall(Opcodes.VREGION_MAP, asid, 0, 0, 0, 0, 0, 0, map);
    }

    /** An owner operation (home to owner), e.g. {@link Opcodes#VMA_ALLOCATE}. */
    public long ownerOperation(final int opcode, final int asid, final long address, final long lengthBytes,
        final int prot, final int flags, final long newLengthBytes, final long newAddress)
    {
        return syscall(opcode, asid, address, lengthBytes, prot, flags, newLengthBytes, newAddress, null);
    }

    private synchronized long syscall(
        final int opcode, final int asid, final long address, final long lengthBytes, final int prot, final int flags,
        final long newLengthBytes, final long newAddress, final VRegionMap map)
    {
        final int length = SyscallRequestDescriptor.encode(
            controlRequest, 0, asid, address, lengthBytes, prot, flags, newLengthBytes, newAddress);
        final int replyLength = connection.call(
            opcode, controlRequest, 0, length, controlReply, 0, CONTROL_REPLY_BYTES, timeoutNs);
        if (replyLength < 0)
        {
            return replyLength;
        }
        if (replyLength < SyscallReplyDescriptor.HEADER_LENGTH ||
            replyLength < SyscallReplyDescriptor.HEADER_LENGTH +
            (long)SyscallReplyDescriptor.entryCount(controlReply, 0) * SyscallReplyDescriptor.ENTRY_LENGTH)
        {
            return Status.MALFORMED;
        }
        if (map != null)
        {
            map.apply(controlReply, 0);
        }
        return SyscallReplyDescriptor.result(controlReply, 0);
    }

    /** Closes the connection. */
    @Override
    public void close()
    {
        connection.close();
    }
}
