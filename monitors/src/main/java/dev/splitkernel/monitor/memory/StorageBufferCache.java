package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageDescriptor;
import dev.splitkernel.protocol.StorageManagerProxy;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.protocol.VNodeInfo;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.PrivateCounters;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The storage buffer cache at a memory monitor (LegoOS keeps it at the mComponent): 4 KB pages of files, reads served
 * from it, writes buffered in it and written to the file's storage monitor on fsync, on close and on eviction
 * (CLOCK). It speaks the file protocol ({@link StorageDescriptor}) on both sides: other requests are passed to the
 * storage monitor after the pages they depend on are written back (stat, truncate) or dropped (unlink, rename).
 * <p>
 * A vNode's storage monitor is learned from the GSM at first use ({@link #route} sets it directly).
 * <p>
 * Thread-safe: requests are serialised.
 */
public final class StorageBufferCache implements AutoCloseable
{
    public static final int PAGE_BYTES = 4096;
    /** Pages fetched in one storage request on a sequential miss (LegoOS has no read-ahead: 0 emulates it). */
    public static final int READ_AHEAD_PAGES_DEFAULT = 16;
    public static final int MAX_READ_AHEAD_PAGES = 64;
    private static final int PAGE_SHIFT = 12;

    private static final class CachedFile
    {
        final int vNodeId;
        final byte[] path;
        final String key;
        final Long2LongHashMap pages = new Long2LongHashMap(-1);
        long sizeBytes = -1;
        long lastReadPage = -2;

        CachedFile(final int vNodeId, final byte[] path, final String key)
        {
            this.vNodeId = vNodeId;
            this.path = path;
            this.key = key;
        }
    }

    private final Fabric fabric;
    private final String globalAddress;
    private final long timeoutNs;
    private final int slots;
    private final CachedFile[] slotFile;
    private final long[] slotPage;
    private final boolean[] slotDirty;
    private final boolean[] slotReferenced;
    private final Map<String, CachedFile> files = new HashMap<>();
    private final Int2ObjectHashMap<StorageProxy> routes = new Int2ObjectHashMap<>();
    private final Map<String, StorageProxy> proxies = new HashMap<>();
    private final FileStat stat = new FileStat();
    /** Type id of its counters in a counters file. */
    public static final int COUNTERS_TYPE_ID = 10;

    private final byte[] lastPath = new byte[StorageDescriptor.MAX_PATH_BYTES];
    private int lastPathLength = -1;
    private String lastPathString;
    private String lastKey;
    private String lastKeyPath;
    private int lastKeyVNodeId;
    private UnsafeBuffer pages;
    private UnsafeBuffer readAheadBuffer;
    private int readAheadPages = READ_AHEAD_PAGES_DEFAULT;
    private final AtomicCounter readAheads;
    private StorageManagerProxy gsm;
    private int hand;
    private final AtomicCounter hits;
    private final AtomicCounter misses;
    private final AtomicCounter writeBacks;
    private final AtomicCounter evictions;

    /**
     * @param fabric        to reach storage monitors and the GSM.
     * @param globalAddress the GSM's address ("" when standalone: use {@link #route}).
     * @param capacityBytes cache size, a multiple of {@link #PAGE_BYTES}; the memory is allocated at first use.
     * @param counters      where its counters live (the monitor's status file), or null for private ones.
     */
    public StorageBufferCache(final Fabric fabric, final String globalAddress, final long capacityBytes,
        final long timeoutNs, final CountersManager counters)
    {
        final CountersManager m = counters != null ? counters : PrivateCounters.newManager(5);
        hits = m.newCounter("buffer cache: hits", COUNTERS_TYPE_ID);
        misses = m.newCounter("buffer cache: misses", COUNTERS_TYPE_ID);
        readAheads = m.newCounter("buffer cache: read-aheads", COUNTERS_TYPE_ID);
        writeBacks = m.newCounter("buffer cache: write-backs", COUNTERS_TYPE_ID);
        evictions = m.newCounter("buffer cache: evictions", COUNTERS_TYPE_ID);
        if (capacityBytes < PAGE_BYTES || capacityBytes % PAGE_BYTES != 0 || capacityBytes > (1L << 31) - PAGE_BYTES)
        {
            throw new IllegalArgumentException(
                "buffer cache capacity must be a multiple of 4096 bytes below 2 GiB: " + capacityBytes);
        }
        this.fabric = fabric;
        this.globalAddress = globalAddress;
        this.timeoutNs = timeoutNs;
        slots = (int)(capacityBytes / PAGE_BYTES);
        slotFile = new CachedFile[slots];
        slotPage = new long[slots];
        slotDirty = new boolean[slots];
        slotReferenced = new boolean[slots];
    }

    /** Send vNode {@code vNodeId}'s requests to the storage monitor at {@code storageAddress}. */
    public synchronized void route(final int vNodeId, final String storageAddress)
    {
        routes.put(vNodeId, proxy(storageAddress));
    }

    /**
     * Pages to fetch in one storage request when a read misses right after the previous page (at most
     * {@link #MAX_READ_AHEAD_PAGES}, and a quarter of the cache); 0 or 1: none, as LegoOS.
     */
    public synchronized StorageBufferCache readAheadPages(final int readAheadPages)
    {
        if (readAheadPages < 0 || readAheadPages > MAX_READ_AHEAD_PAGES)
        {
            throw new IllegalArgumentException("readAheadPages must be 0 to " + MAX_READ_AHEAD_PAGES + ": " +
                readAheadPages);
        }
        this.readAheadPages = readAheadPages;
        return this;
    }

    /** Pages brought in by read-ahead (beyond the page that missed). */
    public synchronized long readAheads()
    {
        return readAheads.get();
    }

    public synchronized long hits()
    {
        return hits.get();
    }

    public synchronized long misses()
    {
        return misses.get();
    }

    /** Dirty pages written to storage. */
    public synchronized long writeBacks()
    {
        return writeBacks.get();
    }

    public synchronized long evictions()
    {
        return evictions.get();
    }

    public long capacityBytes()
    {
        return (long)slots * PAGE_BYTES;
    }

    /** Serve one file request (see {@link Opcodes#isFileOpcode}). */
    public synchronized int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (!StorageDescriptor.isWellFormed(request, offset, length) ||
            replyCapacity < StorageDescriptor.REPLY_HEADER_LENGTH)
        {
            return Status.MALFORMED;
        }
        final int vNodeId = StorageDescriptor.vNodeId(request, offset);
        if (opcode == Opcodes.FILE_DROP_VNODE)
        {
            // The GSM removes the vNode: forget its pages (dirty ones too) and its route; not forwarded.
            return StorageDescriptor.encodeReply(reply, replyOffset, dropVNode(vNodeId), 0, 0, 0);
        }
        final StorageProxy storage = storage(vNodeId);
        if (storage == null)
        {
            return StorageDescriptor.encodeReply(reply, replyOffset, Errno.EIO, 0, 0, 0);
        }
        final int pathLength = StorageDescriptor.pathLength(request, offset);
        final String path = pathOf(request, offset);
        if (vNodeId != lastKeyVNodeId || path != lastKeyPath)
        {
            lastKey = vNodeId + ":" + path;
            lastKeyVNodeId = vNodeId;
            lastKeyPath = path;
        }
        final String key = lastKey;
        CachedFile file = files.get(key);
        long result = 0;
        switch (opcode)
        {
            case Opcodes.FILE_READ:
            case Opcodes.FILE_WRITE:
            {
                if (file == null)
                {
                    final byte[] pathBytes = new byte[pathLength];
                    request.getBytes(offset + StorageDescriptor.PATH_OFFSET, pathBytes);
                    file = new CachedFile(vNodeId, pathBytes, key);
                    files.put(key, file);
                }
                final long fileOffset = StorageDescriptor.fileOffset(request, offset);
                final long lengthBytes = StorageDescriptor.lengthBytes(request, offset);
                if (opcode == Opcodes.FILE_READ)
                {
                    final int room = replyCapacity - StorageDescriptor.REPLY_HEADER_LENGTH;
                    result = lengthBytes > room ? Status.TOO_LARGE :
                        read(storage, file, fileOffset, lengthBytes, reply, replyOffset + StorageDescriptor.DATA_OFFSET);
                    return StorageDescriptor.encodeReply(reply, replyOffset, result, 0, 0, result > 0 ? (int)result : 0);
                }
                final int dataOffset = StorageDescriptor.dataOffset(request, offset);
                if (lengthBytes < 0 || dataOffset + lengthBytes > offset + length)
                {
                    return Status.MALFORMED;
                }
                result = write(storage, file, fileOffset, (int)lengthBytes, request, dataOffset);
                return StorageDescriptor.encodeReply(reply, replyOffset, result, 0, 0, 0);
            }
            case Opcodes.FILE_CLOSE:
            case Opcodes.FILE_FSYNC:
            case Opcodes.FILE_STAT:
                result = flush(storage, file);
                break;
            case Opcodes.FILE_TRUNCATE:
                result = flush(storage, file);
                drop(file);
                break;
            case Opcodes.FILE_UNLINK:
                drop(file);
                break;
            case Opcodes.FILE_OPEN:
                if ((StorageDescriptor.flags(request, offset) & FileFlags.O_TRUNC) != 0 &&
                    FileFlags.canWrite(StorageDescriptor.flags(request, offset)))
                {
                    drop(file);
                }
                break;
            case Opcodes.FILE_RENAME:
            case Opcodes.FILE_RMDIR:
                result = flushAndDropVNode(storage, vNodeId);
                break;
            default:
                break;
        }
        if (result < 0)
        {
            return StorageDescriptor.encodeReply(reply, replyOffset, result, 0, 0, 0);
        }
        if (opcode == Opcodes.FILE_CLOSE)
        {
            return StorageDescriptor.encodeReply(reply, replyOffset, 0, 0, 0, 0);
        }
        final int replyLength = storage.forward(opcode, request, offset, length, reply, replyOffset, replyCapacity);
        if (replyLength == Status.NOT_CONNECTED && !globalAddress.isEmpty())
        {
            // The storage monitor went away (it may have restarted at a new address): one retry after a lookup.
            forget(vNodeId, storage);
            final StorageProxy again = storage(vNodeId);
            if (again != null)
            {
                return again.forward(opcode, request, offset, length, reply, replyOffset, replyCapacity);
            }
        }
        return replyLength;
    }

    private void forget(final int vNodeId, final StorageProxy proxy)
    {
        routes.remove(vNodeId);
        proxies.values().remove(proxy);
        proxy.close();
    }

    /** The request's path, reusing the last decoded one when the bytes match (no allocation for repeated paths). */
    private String pathOf(final DirectBuffer request, final int offset)
    {
        final int length = StorageDescriptor.pathLength(request, offset);
        final int at = offset + StorageDescriptor.PATH_OFFSET;
        if (length == lastPathLength)
        {
            int i = 0;
            while (i < length && request.getByte(at + i) == lastPath[i])
            {
                i++;
            }
            if (i == length)
            {
                return lastPathString;
            }
        }
        request.getBytes(at, lastPath, 0, length);
        lastPathLength = length;
        lastPathString = request.getStringWithoutLengthUtf8(at, length);
        return lastPathString;
    }

    private long read(
        final StorageProxy storage, final CachedFile file, final long fileOffset, final long lengthBytes,
        final MutableDirectBuffer dst, final int dstOffset)
    {
        if (fileOffset < 0 || lengthBytes < 0)
        {
            return Errno.EINVAL;
        }
        final long size = size(storage, file);
        if (size < 0)
        {
            return size;
        }
        final long end = Math.min(size, fileOffset + lengthBytes);
        long at = fileOffset;
        while (at < end)
        {
            final long page = at >>> PAGE_SHIFT;
            final boolean sequential = page == file.lastReadPage + 1 && readAheadPages > 1 &&
                file.pages.get(page) < 0;
            final int slot = sequential ? readAhead(storage, file, page) : slot(storage, file, page, true);
            if (slot < 0)
            {
                return at > fileOffset ? at - fileOffset : slot;
            }
            file.lastReadPage = page;
            final int inPage = (int)(at & (PAGE_BYTES - 1));
            final int n = (int)Math.min(PAGE_BYTES - inPage, end - at);
            dst.putBytes(dstOffset + (int)(at - fileOffset), pages, slot * PAGE_BYTES + inPage, n);
            at += n;
        }
        return Math.max(0, end - fileOffset);
    }

    private long write(
        final StorageProxy storage, final CachedFile file, final long fileOffset, final int lengthBytes,
        final DirectBuffer src, final int srcOffset)
    {
        if (fileOffset < 0 || fileOffset + lengthBytes < 0)
        {
            return Errno.EINVAL;
        }
        final long size = size(storage, file);
        if (size < 0)
        {
            return size;
        }
        final long end = fileOffset + lengthBytes;
        long at = fileOffset;
        while (at < end)
        {
            final long page = at >>> PAGE_SHIFT;
            final long pageStart = page << PAGE_SHIFT;
            final int inPage = (int)(at - pageStart);
            final int n = (int)Math.min(PAGE_BYTES - inPage, end - at);
            final boolean whole = inPage == 0 && n == PAGE_BYTES;
            final int slot = slot(storage, file, page, !whole && pageStart < file.sizeBytes);
            if (slot < 0)
            {
                return at > fileOffset ? at - fileOffset : slot;
            }
            pages.putBytes(slot * PAGE_BYTES + inPage, src, srcOffset + (int)(at - fileOffset), n);
            slotDirty[slot] = true;
            at += n;
            file.sizeBytes = Math.max(file.sizeBytes, at);
        }
        return lengthBytes;
    }

    /** The file's size as the cache knows it (asked of storage the first time), or ENOENT, EISDIR. */
    private long size(final StorageProxy storage, final CachedFile file)
    {
        if (file.sizeBytes < 0)
        {
            final long result = storage.request(
                Opcodes.FILE_STAT, file.vNodeId, 0, 0, 0, file.path, null, null, 0, null, 0, stat);
            if (result < 0)
            {
                files.remove(file.key);
                return result;
            }
            if (stat.isDirectory())
            {
                files.remove(file.key);
                return Errno.EISDIR;
            }
            file.sizeBytes = stat.sizeBytes();
        }
        return file.sizeBytes;
    }

    /** The slot holding the page, filled from storage (or zeroed) on a miss; or a negative code. */
    private int slot(final StorageProxy storage, final CachedFile file, final long page, final boolean fill)
    {
        final int cached = (int)file.pages.get(page);
        if (cached >= 0)
        {
            hits.increment();
            slotReferenced[cached] = true;
            return cached;
        }
        misses.increment();
        final int victim = freeSlot();
        if (victim < 0)
        {
            return victim;
        }
        final int at = victim * PAGE_BYTES;
        int filled = 0;
        if (fill)
        {
            final long n = storage.request(Opcodes.FILE_READ, file.vNodeId, 0, page << PAGE_SHIFT, PAGE_BYTES,
                file.path, null, null, 0, pages, at, null);
            if (n < 0)
            {
                return (int)n;
            }
            filled = (int)n;
        }
        if (filled < PAGE_BYTES)
        {
            pages.setMemory(at + filled, PAGE_BYTES - filled, (byte)0);
        }
        slotFile[victim] = file;
        slotPage[victim] = page;
        slotDirty[victim] = false;
        slotReferenced[victim] = true;
        file.pages.put(page, victim);
        return victim;
    }

    /** An empty slot: the CLOCK victim, written back first if dirty. Or a negative code if the write-back failed. */
    private int freeSlot()
    {
        if (pages == null)
        {
            pages = new UnsafeBuffer(BufferUtil.allocateDirectAligned(slots * PAGE_BYTES, 64));
        }
        final int victim = victim();
        if (slotFile[victim] != null)
        {
            final long result = writeBack(storage(slotFile[victim].vNodeId), victim);
            if (result < 0)
            {
                return (int)result;
            }
            slotFile[victim].pages.remove(slotPage[victim]);
            slotFile[victim] = null;
            evictions.increment();
        }
        return victim;
    }

    /**
     * A sequential miss: fetch this page and the next ones (up to {@link #readAheadPages}) in one storage request;
     * pages already cached are kept. Returns the slot of {@code page}, or a negative code.
     */
    private int readAhead(final StorageProxy storage, final CachedFile file, final long page)
    {
        final long lastPage = (file.sizeBytes - 1) >>> PAGE_SHIFT;
        final int count = (int)Math.min(Math.min(readAheadPages, slots / 4), lastPage - page + 1);
        if (count < 2)
        {
            return slot(storage, file, page, true);
        }
        misses.increment();
        if (readAheadBuffer == null)
        {
            readAheadBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(MAX_READ_AHEAD_PAGES * PAGE_BYTES, 64));
        }
        final long n = storage.request(Opcodes.FILE_READ, file.vNodeId, 0, page << PAGE_SHIFT,
            (long)count * PAGE_BYTES, file.path, null, null, 0, readAheadBuffer, 0, null);
        if (n < 0)
        {
            return (int)n;
        }
        int first = -1;
        for (int i = 0; i < count; i++)
        {
            final long p = page + i;
            if (file.pages.get(p) >= 0)
            {
                continue;
            }
            final int slot = freeSlot();
            if (slot < 0)
            {
                return first >= 0 ? first : slot;
            }
            final int valid = (int)Math.max(0, Math.min(PAGE_BYTES, n - (long)i * PAGE_BYTES));
            pages.putBytes(slot * PAGE_BYTES, readAheadBuffer, i * PAGE_BYTES, valid);
            if (valid < PAGE_BYTES)
            {
                pages.setMemory(slot * PAGE_BYTES + valid, PAGE_BYTES - valid, (byte)0);
            }
            slotFile[slot] = file;
            slotPage[slot] = p;
            slotDirty[slot] = false;
            // Prefetched pages are not referenced yet: CLOCK takes them first if they are never read.
            slotReferenced[slot] = i == 0;
            file.pages.put(p, slot);
            if (i == 0)
            {
                first = slot;
            }
            else
            {
                readAheads.increment();
            }
        }
        return first;
    }

    /** CLOCK: the first slot from the hand that is empty or not referenced since the hand last passed. */
    private int victim()
    {
        while (true)
        {
            final int slot = hand;
            hand = hand + 1 == slots ? 0 : hand + 1;
            if (slotFile[slot] == null || !slotReferenced[slot])
            {
                return slot;
            }
            slotReferenced[slot] = false;
        }
    }

    private long writeBack(final StorageProxy storage, final int slot)
    {
        if (!slotDirty[slot])
        {
            return 0;
        }
        if (storage == null)
        {
            return Errno.EIO;
        }
        final CachedFile file = slotFile[slot];
        final long pageStart = slotPage[slot] << PAGE_SHIFT;
        final long length = Math.min(PAGE_BYTES, file.sizeBytes - pageStart);
        if (length > 0)
        {
            final long result = storage.request(Opcodes.FILE_WRITE, file.vNodeId, 0, pageStart, length, file.path,
                null, pages, slot * PAGE_BYTES, null, 0, null);
            if (result < 0)
            {
                return result;
            }
            writeBacks.increment();
        }
        slotDirty[slot] = false;
        return 0;
    }

    private long flush(final StorageProxy storage, final CachedFile file)
    {
        if (file == null)
        {
            return 0;
        }
        for (int slot = 0; slot < slots; slot++)
        {
            if (slotFile[slot] == file && slotDirty[slot])
            {
                final long result = writeBack(storage, slot);
                if (result < 0)
                {
                    return result;
                }
            }
        }
        return 0;
    }

    /** Forget every page of the vNode, dirty or not, and its route (the vNode was removed). Returns files dropped. */
    private long dropVNode(final int vNodeId)
    {
        final List<CachedFile> affected = new ArrayList<>();
        for (final CachedFile file : files.values())
        {
            if (file.vNodeId == vNodeId)
            {
                affected.add(file);
            }
        }
        affected.forEach(this::drop);
        routes.remove(vNodeId);
        return affected.size();
    }

    /** Forget a file's pages, dirty or not (unlink, truncate after flush, O_TRUNC). */
    private void drop(final CachedFile file)
    {
        if (file == null)
        {
            return;
        }
        for (int slot = 0; slot < slots; slot++)
        {
            if (slotFile[slot] == file)
            {
                slotFile[slot] = null;
                slotDirty[slot] = false;
            }
        }
        files.remove(file.key);
    }

    /** Before a rename or rmdir, which change paths under a directory: write back and forget the vNode's pages. */
    private long flushAndDropVNode(final StorageProxy storage, final int vNodeId)
    {
        final List<CachedFile> affected = new ArrayList<>();
        for (final Iterator<CachedFile> it = files.values().iterator(); it.hasNext();)
        {
            final CachedFile file = it.next();
            if (file.vNodeId == vNodeId)
            {
                affected.add(file);
            }
        }
        for (final CachedFile file : affected)
        {
            final long result = flush(storage, file);
            if (result < 0)
            {
                return result;
            }
            drop(file);
        }
        return 0;
    }

    private StorageProxy storage(final int vNodeId)
    {
        final StorageProxy routed = routes.get(vNodeId);
        if (globalAddress.isEmpty() || (routed != null && routed.connection().isConnected()))
        {
            return routed;
        }
        if (routed != null)
        {
            // The storage monitor went away (it may have restarted at a new address): ask the GSM again.
            forget(vNodeId, routed);
        }
        try
        {
            if (gsm == null)
            {
                gsm = new StorageManagerProxy(fabric.connect(globalAddress), timeoutNs);
            }
            final VNodeInfo info = gsm.lookupVNode(vNodeId);
            if (info == null || info.storageAddress().isEmpty())
            {
                return null;
            }
            final StorageProxy proxy = proxy(info.storageAddress());
            routes.put(vNodeId, proxy);
            return proxy;
        }
        catch (final FabricException ex)
        {
            return null;
        }
    }

    private StorageProxy proxy(final String storageAddress)
    {
        StorageProxy proxy = proxies.get(storageAddress);
        if (proxy == null)
        {
            proxy = new StorageProxy(fabric.connect(storageAddress), timeoutNs);
            proxies.put(storageAddress, proxy);
        }
        return proxy;
    }

    /** Write back every dirty page (best effort), then close the connections. */
    @Override
    public synchronized void close()
    {
        for (int slot = 0; slot < slots; slot++)
        {
            if (slotFile[slot] != null && slotDirty[slot])
            {
                writeBack(routes.get(slotFile[slot].vNodeId), slot);
            }
        }
        proxies.values().forEach(CloseHelper::quietClose);
        proxies.clear();
        CloseHelper.quietClose(gsm);
    }
}
