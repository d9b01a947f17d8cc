package dev.splitkernel.monitor.processor;

import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Piggybacked victims applied at their owner whose secondary has not acknowledged them yet: the processor keeps each
 * one's bytes until its owner reports its forward done ({@link dev.splitkernel.protocol.Opcodes#LINE_REPLICA_ACKS}),
 * and writes it again to a new owner if the vRegion moves meanwhile. At most one entry per line: a later write-back
 * of the line supersedes it. Bounded by {@link #capacity} (checked before a victim is sent, so exceeded by at most
 * one per thread in flight).
 * <p>
 * Every change of a line's entry, and every write of a line to a memory monitor, is made under the line's
 * {@link #stripe}: an older copy re-sent can then never land after a newer write-back of the same line. An entry's
 * bytes are read only under its stripe and while {@link #isCurrent}.
 * <p>
 * Thread-safe.
 */
final class PendingWriteBacks
{
    private static final int STRIPES = 256;

    /** One pending victim: never changed (a newer one replaces it), so a snapshot may hold it safely. */
    static final class Entry
    {
        final UnsafeBuffer data;
        final int asid;
        final long line;
        final Owners.Owner owner;
        final long ticket;
        final int fences;

        private Entry(final int asid, final long line, final UnsafeBuffer data, final Owners.Owner owner,
            final long ticket, final int fences)
        {
            this.asid = asid;
            this.line = line;
            this.data = data;
            this.owner = owner;
            this.ticket = ticket;
            this.fences = fences;
        }
    }

    private final int lineBytes;
    private final int capacity;
    private final Object[] stripes = new Object[STRIPES];
    private final Int2ObjectHashMap<Long2ObjectHashMap<Entry>> byProcess = new Int2ObjectHashMap<>();
    /**
     * Line buffers of removed entries, for reuse (no garbage per miss). Safe: an entry's bytes are read only while
     * holding its stripe and while it is current, and it is removed (its buffer freed) only under that stripe.
     */
    private final java.util.ArrayDeque<UnsafeBuffer> free = new java.util.ArrayDeque<>();
    private volatile int size;

    PendingWriteBacks(final int lineBytes, final int capacity)
    {
        this.lineBytes = lineBytes;
        this.capacity = capacity;
        for (int i = 0; i < STRIPES; i++)
        {
            stripes[i] = new Object();
        }
    }

    int capacity()
    {
        return capacity;
    }

    int size()
    {
        return size;
    }

    /** True while a victim may be sent with its secondary's acknowledgement deferred. */
    boolean hasRoom()
    {
        return size < capacity;
    }

    /** The lock every write of this line to a memory monitor, and every change of its entry, holds. */
    Object stripe(final int asid, final long line)
    {
        return stripes[(int)((line * 31 + asid) & (STRIPES - 1))];
    }

    /** Keep the line's bytes until {@code ticket} of {@code owner} is acknowledged (the caller holds the stripe). */
    synchronized void add(final int asid, final long line, final DirectBuffer src, final int srcOffset,
        final Owners.Owner owner, final long ticket, final int fences)
    {
        removeLocked(asid, line);
        final UnsafeBuffer data = free.isEmpty() ? new UnsafeBuffer(new byte[lineBytes]) : free.pollFirst();
        data.putBytes(0, src, srcOffset, lineBytes);
        final Entry e = new Entry(asid, line, data, owner, ticket, fences);
        Long2ObjectHashMap<Entry> lines = byProcess.get(asid);
        if (lines == null)
        {
            lines = new Long2ObjectHashMap<>();
            byProcess.put(asid, lines);
        }
        lines.put(line, e);
        size++;
    }

    /** A newer write-back of the line was acknowledged, or its entry was: forget it (the caller holds the stripe). */
    void remove(final int asid, final long line)
    {
        if (size == 0)
        {
            return;
        }
        synchronized (this)
        {
            removeLocked(asid, line);
        }
    }

    /** The line's entry, or null. */
    Entry get(final int asid, final long line)
    {
        if (size == 0)
        {
            return null;
        }
        synchronized (this)
        {
            final Long2ObjectHashMap<Entry> lines = byProcess.get(asid);
            return lines == null ? null : lines.get(line);
        }
    }

    /** True if {@code e} is still the line's entry (the caller holds the stripe, so it stays so). */
    synchronized boolean isCurrent(final Entry e)
    {
        final Long2ObjectHashMap<Entry> lines = byProcess.get(e.asid);
        return lines != null && lines.get(e.line) == e;
    }

    /** The entries now; read one only while holding its stripe and after {@link #isCurrent}. */
    synchronized List<Entry> snapshot()
    {
        final List<Entry> all = new ArrayList<>(size);
        for (final Long2ObjectHashMap<Entry> lines : byProcess.values())
        {
            all.addAll(lines.values());
        }
        return all;
    }

    private void removeLocked(final int asid, final long line)
    {
        final Long2ObjectHashMap<Entry> lines = byProcess.get(asid);
        final Entry old = lines == null ? null : lines.remove(line);
        if (old != null)
        {
            size--;
            if (free.size() < capacity)
            {
                free.addLast(old.data);
            }
            if (lines.isEmpty())
            {
                byProcess.remove(asid);
            }
        }
    }
}
