package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.LineReplyDescriptor;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Moves the pages of a range to another range of the same process (mremap): relinked in place when one owner holds
 * both, copied page by page (read from the source owner, written to the target owner) across owners.
 * <p>
 * Thread-safe: one move at a time (they share the page buffer).
 */
final class PageMover
{
    private final Peers peers;
    private final LineServer lines;
    private final MemoryMonitorCounters counters;
    private final int pageBytes;
    private final int vRegionShift;
    private final UnsafeBuffer moveBuffer;

    PageMover(final Peers peers, final LineServer lines, final MemoryMonitorCounters counters, final int pageBytes,
        final long vRegionBytes)
    {
        this.peers = peers;
        this.lines = lines;
        this.counters = counters;
        this.pageBytes = pageBytes;
        this.vRegionShift = Long.numberOfTrailingZeros(vRegionBytes);
        this.moveBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LineReplyDescriptor.HEADER_LENGTH + pageBytes,
            64));
    }

    /** Copy the pages that exist in [from, from + length) to [to, to + length), across owners as needed. */
    long movePages(final VRegionMap map, final int asid, final long from, final long to, final long length)
    {
        synchronized (moveBuffer)
        {
            return movePagesLocked(map, asid, from, to, length);
        }
    }

    private long movePagesLocked(final VRegionMap map, final int asid, final long from, final long to, final long length)
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
            final int sourceOwner = map.ownerOfAddress(source);
            final int targetOwner = map.ownerOfAddress(target);
            if (sourceOwner == VRegionMap.NO_OWNER || targetOwner == VRegionMap.NO_OWNER)
            {
                return Errno.EFAULT; // a range in no owned vRegion: nothing there to move, or nowhere to put it
            }
            if (sourceOwner == targetOwner)
            {
                // Same owner: relink the pages there, no copy.
                final long r = peers.callOwner(sourceOwner, Opcodes.VMA_MOVE_PAGES, asid, source, segmentLength, 0,
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
                    page = peers.callOwner(sourceOwner, Opcodes.VMA_NEXT_PAGE, asid, page, sourceEnd - page, 0, 0);
                    if (page == Errno.ENOENT)
                    {
                        break;
                    }
                    if (page < 0)
                    {
                        return page;
                    }
                    final long r = readPage(sourceOwner, asid, page);
                    if (r < 0 && r != Errno.ENOENT)
                    {
                        return r;
                    }
                    if (r >= 0)
                    {
                        final long w = writePage(targetOwner, asid, target + (page - source));
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
        if (owner == peers.memberId())
        {
            return lines.serveFetch(asid, LineRequestDescriptor.FLAG_NO_CREATE, pageAddress, pageBytes, moveBuffer, 0);
        }
        final MemoryMonitorProxy peer = peers.peer(owner);
        return peer == null ? Status.NOT_CONNECTED : peer.fetch(asid, LineRequestDescriptor.FLAG_NO_CREATE, pageAddress,
            pageBytes, moveBuffer, LineReplyDescriptor.DATA_OFFSET, null);
    }

    private long writePage(final int owner, final int asid, final long pageAddress)
    {
        if (owner == peers.memberId())
        {
            return lines.serveWriteBack(asid, LineRequestDescriptor.FLAG_FORCE, pageAddress, pageBytes, moveBuffer,
                LineReplyDescriptor.DATA_OFFSET);
        }
        final MemoryMonitorProxy peer = peers.peer(owner);
        return peer == null ? Status.NOT_CONNECTED : peer.writeBack(asid, LineRequestDescriptor.FLAG_FORCE, pageAddress,
            pageBytes, moveBuffer, LineReplyDescriptor.DATA_OFFSET);
    }
}
