package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.verbs.PrivateCounters;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A secondary memory monitor's write-back log (LegoOS's memory replication): each write-back and page copy forwarded
 * by a primary is appended here, and only then acknowledged; a promoted secondary builds the vRegion's pages by
 * replaying it ({@link #replay}: every entry in order, each checked). Unmaps at the secondary append a discard, which
 * voids the older entries of its range.
 * <p>
 * Memory stays bounded either way:
 * <ul>
 * <li>With a backup ({@link LogBackup} on a storage monitor): full batches (about {@code batchBytes}, 1 MiB by
 * default) are shipped to the backup file, forced there, and dropped from memory; while shipping fails, batches wait
 * (and are retried). When the unshipped tail reaches {@code maxUnshippedBytes} (shipping fell behind, or storage is
 * down), it is compacted as below (its discards kept: older entries are in the file), then appends beyond it are
 * refused with EAGAIN. Replay reads the shipped entries from the file, then the unshipped tail.</li>
 * <li>Without one (or until the backup's storage monitor is known, {@link LogBackup#resolve}: nothing is shipped
 * before), the whole log lives in memory and is compacted when it outgrows {@code maxUnshippedBytes} (or twice
 * its size after the last compaction): an entry is dropped when a later entry or discard covers all its bytes, so it
 * keeps at most each line's newest version of the replicated, mapped memory. A process's exit (a discard of its
 * whole address space) compacts it at once.</li>
 * </ul>
 * Thread-safe: appends from request threads under a short lock; shipping ({@link #doWork()}, {@link #flush()}) and
 * replay take a second lock, and do their network I/O without the append lock.
 */
final class WriteBackLog implements Agent, AutoCloseable
{
    /** Receives the log's entries in order. */
    interface EntryHandler
    {
        /** A write-back or page copy of {@code lengthBytes} at {@code lineAddress}. */
        void onLine(int asid, long lineAddress, DirectBuffer data, int dataOffset, int lengthBytes);

        /** The entries before this one in {@code [start, start + length)} of {@code asid} are void. */
        default void onDiscard(final int asid, final long start, final long length)
        {
        }
    }

    /** Compaction tracks which bytes later entries cover in blocks of this size (no line crosses one). */
    private static final int COVER_BLOCK_BYTES = 4096;
    /** How often a log whose backup's storage monitor is unknown asks the global managers again. */
    private static final long RESOLVE_INTERVAL_NS = 1_000_000_000L;

    private static final class Batch
    {
        final UnsafeBuffer buffer;
        int length;
        int entries;

        Batch(final int capacity)
        {
            buffer = new UnsafeBuffer(new byte[capacity]);
        }
    }

    private final LogBackup backup;
    /** Batches go to the backup file (from when its storage monitor is known; never back). Append lock. */
    private boolean shipping;
    private final NanoClock clock;
    private final int batchBytes;
    private final long maxUnshippedBytes;
    private final long retryIntervalNs;
    private final Object shipLock = new Object();
    private final CRC32 crc = new CRC32();
    private final UnsafeBuffer discardData = new UnsafeBuffer(new byte[WriteBackLogDescriptor.DISCARD_DATA_LENGTH]);
    private final ArrayDeque<Batch> sealed = new ArrayDeque<>();
    private Batch open;
    private Batch spare;
    private long sequence;
    private long unshippedBytes;
    private long shippedBytes;
    private final AtomicCounter batchesShipped;
    private final AtomicCounter shipFailures;
    private final AtomicCounter compactions;
    /** Without a backup: the log is compacted before it grows past this. */
    private long compactAtBytes;
    private long lastShipResult;
    /** Entries in the backup file (the first in memory is numbered this). */
    private long shippedEntries;
    /** The batch being shipped (first of {@link #sealed}); compaction leaves it alone. Append lock. */
    private Batch inFlight;
    private long restarts;
    private long retryAtNs;

    /**
     * @param backup            where full batches go, or null: none (the log stays in memory, compacted).
     * @param batchBytes        bytes of entries shipped at once (a line's entry must fit).
     * @param maxUnshippedBytes bytes of entries kept in memory at most, waiting to be shipped; without a backup, the
     *                          size at which the log is first compacted.
     * @param retryIntervalNs   wait after a failed shipment before the next try.
     * @param counters          where its counters live (the monitor's status file), or null for private ones.
     */
    WriteBackLog(final LogBackup backup, final NanoClock clock, final int batchBytes, final long maxUnshippedBytes,
        final long retryIntervalNs, final CountersManager counters)
    {
        final CountersManager m = counters != null ? counters : PrivateCounters.newManager(3);
        batchesShipped = m.newCounter("write-back log: batches shipped", MonitorStatus.TYPE_MONITOR);
        shipFailures = m.newCounter("write-back log: ship failures", MonitorStatus.TYPE_MONITOR);
        compactions = m.newCounter("write-back log: compactions", MonitorStatus.TYPE_MONITOR);
        if (batchBytes < WriteBackLogDescriptor.entryLength(1) || maxUnshippedBytes < batchBytes)
        {
            throw new IllegalArgumentException("write-back log: batchBytes " + batchBytes +
                " must hold an entry and be at most maxUnshippedBytes " + maxUnshippedBytes);
        }
        this.backup = backup;
        this.clock = clock;
        this.batchBytes = batchBytes;
        this.maxUnshippedBytes = maxUnshippedBytes;
        this.retryIntervalNs = retryIntervalNs;
        this.compactAtBytes = maxUnshippedBytes;
        this.open = new Batch(batchBytes);
        this.shipping = backup != null && backup.storageAddress() != null;
    }

    /** True if full batches are shipped to a backup file (else the log is compacted in memory). */
    synchronized boolean hasBackup()
    {
        return shipping;
    }

    /** True if the log has a backup, or may have one once its storage monitor is known (run {@link #doWork}). */
    boolean mayShip()
    {
        return backup != null;
    }

    /**
     * Log a write-back of {@code lengthBytes} at {@code lineAddress} of {@code asid}.
     *
     * @return 0; EINVAL if the line cannot fit in a batch; EAGAIN if the unshipped bytes are at their bound.
     */
    synchronized int append(
        final int asid, final long lineAddress, final DirectBuffer src, final int srcOffset, final int lengthBytes)
    {
        if (lengthBytes <= 0)
        {
            return Errno.EINVAL;
        }
        return appendEntry(WriteBackLogDescriptor.KIND_LINE, asid, lineAddress, src, srcOffset, lengthBytes);
    }

    /**
     * Log that {@code [start, start + length)} of {@code asid} was unmapped here: the entries before are void.
     *
     * @return 0; EINVAL for a bad range; EAGAIN if the unshipped bytes are at their bound.
     */
    synchronized int appendDiscard(final int asid, final long start, final long length)
    {
        if (start < 0 || length <= 0)
        {
            return Errno.EINVAL;
        }
        discardData.putLong(0, Math.min(length, Long.MAX_VALUE - start), ByteOrder.LITTLE_ENDIAN);
        final int result = appendEntry(WriteBackLogDescriptor.KIND_DISCARD, asid, start, discardData, 0,
            WriteBackLogDescriptor.DISCARD_DATA_LENGTH);
        if (result == 0 && !shipping && start == 0 && length == Long.MAX_VALUE)
        {
            // A process is gone: drop its entries now, so no later promotion replays past them.
            compact();
        }
        return result;
    }

    /**
     * A process is gone here: log the discard of its whole address space and, if {@code noReplicaLeft} then says no
     * replica is kept here any more, start the log over empty (the backup file is truncated at its next shipment), so
     * a later promotion replays only what was logged since: the replay is bounded by what the replicas were sent
     * since the secondary last held none, not by its lifetime. A replica added meanwhile has no entry here yet
     * (a forwarded line of a vRegion not replicated here is refused), so nothing it needs is dropped.
     *
     * @return as {@link #appendDiscard}.
     */
    int appendProcessGone(final int asid, final java.util.function.BooleanSupplier noReplicaLeft)
    {
        synchronized (shipLock)
        {
            synchronized (this)
            {
                final int result = appendDiscard(asid, 0, Long.MAX_VALUE);
                if (result == 0 && noReplicaLeft.getAsBoolean())
                {
                    sealed.clear();
                    open.length = 0;
                    open.entries = 0;
                    spare = null;
                    sequence = 0;
                    unshippedBytes = 0;
                    shippedBytes = 0;
                    shippedEntries = 0;
                    compactAtBytes = maxUnshippedBytes;
                    restarts++;
                    if (backup != null)
                    {
                        backup.startOver();
                    }
                }
                return result;
            }
        }
    }

    /** Times the log started over empty ({@link #appendProcessGone}). */
    synchronized long restarts()
    {
        return restarts;
    }

    private int appendEntry(final int kind, final int asid, final long address, final DirectBuffer src,
        final int srcOffset, final int lengthBytes)
    {
        final int entryLength = WriteBackLogDescriptor.entryLength(lengthBytes);
        if (entryLength > batchBytes)
        {
            return Errno.EINVAL;
        }
        if (unshippedBytes + entryLength > compactAtBytes)
        {
            compact();
        }
        if (shipping && unshippedBytes + entryLength > maxUnshippedBytes)
        {
            return Errno.EAGAIN;
        }
        if (open.length + entryLength > batchBytes)
        {
            seal();
        }
        write(open, kind, asid, address, sequence++, src, srcOffset, lengthBytes);
        unshippedBytes += entryLength;
        return 0;
    }

    /** Encode one entry at the end of {@code batch}, with its checksum. */
    private void write(final Batch batch, final int kind, final int asid, final long address, final long entrySequence,
        final DirectBuffer src, final int srcOffset, final int lengthBytes)
    {
        final int entryLength = WriteBackLogDescriptor.entryLength(lengthBytes);
        final UnsafeBuffer b = batch.buffer;
        final int at = batch.length;
        b.putInt(at + WriteBackLogDescriptor.ENTRY_LENGTH_OFFSET, entryLength, ByteOrder.LITTLE_ENDIAN);
        b.putInt(at + WriteBackLogDescriptor.ASID_OFFSET, asid, ByteOrder.LITTLE_ENDIAN);
        b.putLong(at + WriteBackLogDescriptor.LINE_ADDRESS_OFFSET, address, ByteOrder.LITTLE_ENDIAN);
        b.putLong(at + WriteBackLogDescriptor.SEQUENCE_OFFSET, entrySequence, ByteOrder.LITTLE_ENDIAN);
        b.putInt(at + WriteBackLogDescriptor.LENGTH_OFFSET, lengthBytes, ByteOrder.LITTLE_ENDIAN);
        b.putInt(at + WriteBackLogDescriptor.KIND_OFFSET, kind, ByteOrder.LITTLE_ENDIAN);
        b.putBytes(at + WriteBackLogDescriptor.DATA_OFFSET, src, srcOffset, lengthBytes);
        crc.reset();
        crc.update(b.byteArray(), at, entryLength - WriteBackLogDescriptor.CHECKSUM_LENGTH);
        b.putInt(at + entryLength - WriteBackLogDescriptor.CHECKSUM_LENGTH, (int)crc.getValue(),
            ByteOrder.LITTLE_ENDIAN);
        batch.length += entryLength;
        batch.entries++;
    }

    /**
     * Append lock held: of the entries in memory, keep only those no later entry or discard covers, renumbered in
     * order, and compact next at twice what is left (at least {@code maxUnshippedBytes}; half of it while shipping,
     * so shipping that falls behind the appends compacts before it refuses them). Without a backup the whole log is
     * here: discards are dropped too, numbering starts at 0. While shipping, older entries are in the file: discards
     * are kept, numbering goes on from the file's, and the batch being shipped is left as it is.
     */
    private void compact()
    {
        final Batch pinned = shipping ? inFlight : null;
        final List<Batch> batches = new ArrayList<>(sealed);
        batches.remove(pinned);
        batches.add(open);
        final org.agrona.collections.LongArrayList entries = new org.agrona.collections.LongArrayList();
        for (int i = 0; i < batches.size(); i++)
        {
            final Batch batch = batches.get(i);
            for (int at = 0; at < batch.length;)
            {
                entries.addLong(((long)i << 32) | at);
                at += batch.buffer.getInt(at + WriteBackLogDescriptor.ENTRY_LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
            }
        }
        // Newest first: an entry is kept unless later ones cover every byte of it.
        final boolean[] keep = new boolean[entries.size()];
        final org.agrona.collections.Int2ObjectHashMap<org.agrona.collections.Long2ObjectHashMap<java.util.BitSet>>
            covered = new org.agrona.collections.Int2ObjectHashMap<>();
        final List<long[]> discards = new ArrayList<>();
        for (int e = entries.size() - 1; e >= 0; e--)
        {
            final long where = entries.getLong(e);
            final UnsafeBuffer b = batches.get((int)(where >>> 32)).buffer;
            final int at = (int)where;
            final int asid = b.getInt(at + WriteBackLogDescriptor.ASID_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final long address = b.getLong(at + WriteBackLogDescriptor.LINE_ADDRESS_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final int lengthBytes = b.getInt(at + WriteBackLogDescriptor.LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
            if (b.getInt(at + WriteBackLogDescriptor.KIND_OFFSET, ByteOrder.LITTLE_ENDIAN) ==
                WriteBackLogDescriptor.KIND_DISCARD)
            {
                // Voids only older entries, all of which are here: once they are dropped it has nothing left to do.
                final long length = b.getLong(at + WriteBackLogDescriptor.DATA_OFFSET, ByteOrder.LITTLE_ENDIAN);
                discards.add(new long[] {asid, address, address + length});
                keep[e] = shipping;
                continue;
            }
            if (discarded(discards, asid, address, lengthBytes))
            {
                continue;
            }
            final long block = address / COVER_BLOCK_BYTES;
            final int from = (int)(address % COVER_BLOCK_BYTES);
            if (from + lengthBytes > COVER_BLOCK_BYTES)
            {
                keep[e] = true; // spans blocks (never, for lines of at most a page): kept, covering nothing
                continue;
            }
            final java.util.BitSet bytes = covered
                .computeIfAbsent(asid, k -> new org.agrona.collections.Long2ObjectHashMap<>())
                .computeIfAbsent(block, k -> new java.util.BitSet(COVER_BLOCK_BYTES));
            if (bytes.nextClearBit(from) < from + lengthBytes)
            {
                keep[e] = true;
                bytes.set(from, from + lengthBytes);
            }
        }
        final ArrayDeque<Batch> kept = new ArrayDeque<>();
        if (pinned != null)
        {
            kept.addLast(pinned);
        }
        Batch into = new Batch(batchBytes);
        long keptBytes = pinned != null ? pinned.length : 0;
        final long firstSequence = shipping ? shippedEntries + (pinned != null ? pinned.entries : 0) : 0;
        long keptEntries = 0;
        for (int e = 0; e < keep.length; e++)
        {
            if (!keep[e])
            {
                continue;
            }
            final long where = entries.getLong(e);
            final UnsafeBuffer b = batches.get((int)(where >>> 32)).buffer;
            final int at = (int)where;
            final int lengthBytes = b.getInt(at + WriteBackLogDescriptor.LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final int entryLength = WriteBackLogDescriptor.entryLength(lengthBytes);
            if (into.length + entryLength > batchBytes)
            {
                kept.addLast(into);
                into = new Batch(batchBytes);
            }
            write(into, b.getInt(at + WriteBackLogDescriptor.KIND_OFFSET, ByteOrder.LITTLE_ENDIAN),
                b.getInt(at + WriteBackLogDescriptor.ASID_OFFSET, ByteOrder.LITTLE_ENDIAN),
                b.getLong(at + WriteBackLogDescriptor.LINE_ADDRESS_OFFSET, ByteOrder.LITTLE_ENDIAN),
                firstSequence + keptEntries++, b, at + WriteBackLogDescriptor.DATA_OFFSET, lengthBytes);
            keptBytes += entryLength;
        }
        sealed.clear();
        sealed.addAll(kept);
        open = into;
        spare = null;
        sequence = firstSequence + keptEntries;
        unshippedBytes = keptBytes;
        compactAtBytes = Math.max(shipping ? maxUnshippedBytes / 2 : maxUnshippedBytes, 2 * keptBytes);
        compactions.increment();
    }

    private static boolean discarded(final List<long[]> discards, final int asid, final long address,
        final int lengthBytes)
    {
        for (int i = 0; i < discards.size(); i++)
        {
            final long[] d = discards.get(i);
            if (d[0] == asid && d[1] <= address && address + lengthBytes <= d[2])
            {
                return true;
            }
        }
        return false;
    }

    /** Ship the oldest full batch, unless the last shipment failed less than the retry interval ago. */
    @Override
    public int doWork()
    {
        if (backup == null)
        {
            return 0;
        }
        synchronized (shipLock)
        {
            if (clock.nanoTime() - retryAtNs < 0 || !startShipping())
            {
                return 0;
            }
            return shipOne() ? 1 : 0;
        }
    }

    /**
     * Seal the open batch and ship every batch now, in the caller's thread.
     *
     * @return 0, or the failed shipment's negative result (the batches stay, to be retried).
     */
    long flush()
    {
        if (backup == null)
        {
            return 0;
        }
        synchronized (shipLock)
        {
            synchronized (this)
            {
                if (open.length > 0)
                {
                    seal();
                }
            }
            if (hasSealed() && !startShipping())
            {
                return Errno.EIO; // no storage monitor known: the log stays in memory
            }
            while (hasSealed())
            {
                if (!shipOne())
                {
                    return lastShipResult;
                }
            }
            return 0;
        }
    }

    /**
     * Every entry in order: the shipped ones from the backup file, then those in memory.
     *
     * @throws IllegalStateException naming the file and the offset if the backup file cannot be read or is damaged.
     */
    void replay(final EntryHandler handler)
    {
        synchronized (shipLock)
        {
            final long[] nextSequence = {0};
            if (hasBackup())
            {
                replayBackup(handler, nextSequence);
            }
            final List<Batch> inMemory;
            synchronized (this)
            {
                // Copies: appends may go on while the handler runs.
                inMemory = new ArrayList<>();
                for (final Batch batch : sealed)
                {
                    inMemory.add(copy(batch));
                }
                inMemory.add(copy(open));
            }
            for (final Batch batch : inMemory)
            {
                final int end = parse(batch.buffer, 0, batch.length, handler, nextSequence, "memory", shippedBytes);
                if (end != batch.length)
                {
                    throw new IllegalStateException("write-back log: a damaged entry in memory at byte " + end);
                }
            }
        }
    }

    synchronized long unshippedBytes()
    {
        return unshippedBytes;
    }

    /** Bytes of the backup file written and forced. */
    synchronized long shippedBytes()
    {
        return shippedBytes;
    }

    synchronized long batchesShipped()
    {
        return batchesShipped.get();
    }

    synchronized long shipFailures()
    {
        return shipFailures.get();
    }

    synchronized long compactions()
    {
        return compactions.get();
    }

    synchronized long entries()
    {
        return sequence;
    }

    @Override
    public String roleName()
    {
        return "write-back-log-shipper";
    }

    @Override
    public void close()
    {
        synchronized (shipLock)
        {
            if (backup != null)
            {
                backup.close();
            }
        }
    }

    /**
     * Ship from now on if the backup's storage monitor is known or can be learned now (shipLock held, append lock
     * not: the lookup is a remote call). The log was all in memory until now, so the file starts at its first entry.
     * While none is known, it asks again after {@link #RESOLVE_INTERVAL_NS}.
     */
    private boolean startShipping()
    {
        if (hasBackup())
        {
            return true;
        }
        if (!hasSealed())
        {
            return false;
        }
        if (!backup.resolve())
        {
            retryAtNs = clock.nanoTime() + Math.max(retryIntervalNs, RESOLVE_INTERVAL_NS);
            return false;
        }
        synchronized (this)
        {
            shipping = true;
        }
        return true;
    }

    private synchronized boolean hasSealed()
    {
        return !sealed.isEmpty();
    }

    private void seal()
    {
        sealed.addLast(open);
        open = spare != null ? spare : new Batch(batchBytes);
        spare = null;
        open.length = 0;
        open.entries = 0;
    }

    /** Ship the oldest sealed batch (shipLock held, append lock not): true if one was shipped. */
    private boolean shipOne()
    {
        final Batch batch;
        final long offset;
        synchronized (this)
        {
            batch = sealed.peekFirst();
            offset = shippedBytes;
            inFlight = batch;
        }
        if (batch == null)
        {
            return false;
        }
        final long result = backup.writeDurably(offset, batch.buffer, 0, batch.length);
        synchronized (this)
        {
            lastShipResult = result;
            inFlight = null;
            if (result < 0)
            {
                shipFailures.increment();
                retryAtNs = clock.nanoTime() + retryIntervalNs;
                return false;
            }
            sealed.pollFirst();
            unshippedBytes -= batch.length;
            shippedBytes += batch.length;
            shippedEntries += batch.entries;
            batchesShipped.increment();
            spare = batch;
        }
        return true;
    }

    private void replayBackup(final EntryHandler handler, final long[] nextSequence)
    {
        final long fileLength;
        synchronized (this)
        {
            fileLength = shippedBytes;
        }
        // Entries span read chunks: keep the unparsed rest at the front of the window.
        final UnsafeBuffer window = new UnsafeBuffer(new byte[2 * Math.max(batchBytes,
            dev.splitkernel.protocol.StorageProxy.MAX_DATA_BYTES)]);
        int held = 0;
        long windowAt = 0;
        long readAt = 0;
        while (readAt < fileLength)
        {
            final int want = (int)Math.min(fileLength - readAt, window.capacity() - held);
            final long n = backup.read(readAt, window, held, want);
            if (n <= 0)
            {
                throw new IllegalStateException("write-back log: cannot read the backup file " + backup.path() +
                    " at " + backup.storageAddress() + " at byte " + readAt + ": " +
                    (n == 0 ? "it is shorter than the " + fileLength + " bytes shipped" : Errno.describe((int)n)));
            }
            held += (int)n;
            readAt += n;
            final int end = parse(window, 0, held, handler, nextSequence, backup.path(), windowAt);
            window.putBytes(0, window, end, held - end);
            held -= end;
            windowAt += end;
        }
        if (held != 0)
        {
            throw new IllegalStateException("write-back log: the backup file " + backup.path() +
                " ends inside an entry at byte " + windowAt);
        }
    }

    /**
     * Hand every whole entry in {@code [from, to)} to the handler, checking each checksum and sequence number.
     *
     * @return where the first incomplete entry starts.
     */
    private int parse(final UnsafeBuffer b, final int from, final int to, final EntryHandler handler,
        final long[] nextSequence, final String where, final long base)
    {
        final CRC32 check = new CRC32();
        int at = from;
        while (to - at >= WriteBackLogDescriptor.HEADER_LENGTH)
        {
            final int entryLength = b.getInt(at + WriteBackLogDescriptor.ENTRY_LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final int lengthBytes = b.getInt(at + WriteBackLogDescriptor.LENGTH_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final int kind = b.getInt(at + WriteBackLogDescriptor.KIND_OFFSET, ByteOrder.LITTLE_ENDIAN);
            if (lengthBytes <= 0 || entryLength != WriteBackLogDescriptor.entryLength(lengthBytes) ||
                entryLength > batchBytes)
            {
                throw damaged(where, base + at, "a bad entry length " + entryLength);
            }
            if (kind != WriteBackLogDescriptor.KIND_LINE && (kind != WriteBackLogDescriptor.KIND_DISCARD ||
                lengthBytes != WriteBackLogDescriptor.DISCARD_DATA_LENGTH))
            {
                throw damaged(where, base + at, "a bad entry kind " + kind + " of " + lengthBytes + " bytes");
            }
            if (to - at < entryLength)
            {
                break;
            }
            check.reset();
            check.update(b.byteArray(), at, entryLength - WriteBackLogDescriptor.CHECKSUM_LENGTH);
            if ((int)check.getValue() !=
                b.getInt(at + entryLength - WriteBackLogDescriptor.CHECKSUM_LENGTH, ByteOrder.LITTLE_ENDIAN))
            {
                throw damaged(where, base + at, "a bad checksum");
            }
            final long entrySequence = b.getLong(at + WriteBackLogDescriptor.SEQUENCE_OFFSET, ByteOrder.LITTLE_ENDIAN);
            if (entrySequence != nextSequence[0])
            {
                throw damaged(where, base + at, "entry " + entrySequence + " where " + nextSequence[0] + " was due");
            }
            nextSequence[0]++;
            final int asid = b.getInt(at + WriteBackLogDescriptor.ASID_OFFSET, ByteOrder.LITTLE_ENDIAN);
            final long address = b.getLong(at + WriteBackLogDescriptor.LINE_ADDRESS_OFFSET, ByteOrder.LITTLE_ENDIAN);
            if (kind == WriteBackLogDescriptor.KIND_LINE)
            {
                handler.onLine(asid, address, b, at + WriteBackLogDescriptor.DATA_OFFSET, lengthBytes);
            }
            else
            {
                handler.onDiscard(asid, address,
                    b.getLong(at + WriteBackLogDescriptor.DATA_OFFSET, ByteOrder.LITTLE_ENDIAN));
            }
            at += entryLength;
        }
        return at;
    }

    private static IllegalStateException damaged(final String where, final long offset, final String what)
    {
        return new IllegalStateException("write-back log " + where + " is damaged at byte " + offset + ": " + what +
            "; the logged write-backs from there on cannot be replayed");
    }

    private static Batch copy(final Batch batch)
    {
        final Batch copy = new Batch(Math.max(1, batch.length));
        copy.buffer.putBytes(0, batch.buffer, 0, batch.length);
        copy.length = batch.length;
        return copy;
    }
}
