package dev.splitkernel.monitor.processor;

import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricException;
import org.agrona.CloseHelper;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The memory monitors this processor sends misses to, by member id: address, connection and state. The global
 * managers push every change (a memory monitor joined, was declared dead, came back); a system call whose reply
 * names an owner not yet connected connects it before the call returns. So the miss path only reads entries: it
 * never looks a member up at the global managers and never sets up a connection.
 * <p>
 * Thread-safe: entries are published copy-on-write and their fields are volatile; connecting is serialised.
 */
final class Owners implements AutoCloseable
{
    /** One memory monitor. Entries live as long as the processor monitor: a vRegion binds to one for good. */
    static final class Owner
    {
        final int memberId;
        volatile String address;
        volatile MemoryMonitorProxy proxy;
        /** Declared dead by the global managers (pushed) and not back since. */
        volatile boolean dead;
        /** When it was declared dead, its connection failed, or a call to it failed in transport; 0 while up. */
        volatile long downSinceNs;

        Owner(final int memberId)
        {
            this.memberId = memberId;
        }

        /** Connected and not declared dead: a miss may go to it. */
        boolean usable()
        {
            return proxy != null && !dead;
        }

        @Override
        public String toString()
        {
            return "memory monitor " + memberId + (address == null ? "" : " at " + address);
        }
    }

    private final Fabric fabric;
    private final IntFunction<String> lookup;
    private final int lineBytes;
    private final long timeoutNs;
    private final Consumer<String> errors;
    private final Object changes = new Object();
    private final java.util.concurrent.atomic.AtomicLong moves = new java.util.concurrent.atomic.AtomicLong();
    private volatile Int2ObjectHashMap<Owner> owners = new Int2ObjectHashMap<>();
    private long changeCount;
    private final AtomicCounter lookups;
    private boolean closed;

    /**
     * @param lookup a member's address from the global managers (null if unknown): asked only on the control path,
     *               when a system call names an owner whose address no push has brought yet.
     * @param lookups counts those look-ups (a counter of the monitor's status file).
     */
    Owners(final Fabric fabric, final IntFunction<String> lookup, final int lineBytes, final long timeoutNs,
        final Consumer<String> errors, final AtomicCounter lookups)
    {
        this.lookups = lookups;
        this.fabric = fabric;
        this.lookup = lookup;
        this.lineBytes = lineBytes;
        this.timeoutNs = timeoutNs;
        this.errors = errors;
    }

    /** The entry of a member, or null if nothing has named it yet. Allocation-free. */
    Owner get(final int memberId)
    {
        return owners.get(memberId);
    }

    /** The entry of a member, created (not connected) if new. */
    Owner entry(final int memberId)
    {
        final Owner owner = owners.get(memberId);
        return owner != null ? owner : create(memberId);
    }

    private synchronized Owner create(final int memberId)
    {
        Owner owner = owners.get(memberId);
        if (owner == null)
        {
            owner = new Owner(memberId);
            final Int2ObjectHashMap<Owner> copy = new Int2ObjectHashMap<>(owners);
            copy.put(memberId, owner);
            owners = copy;
        }
        return owner;
    }

    /**
     * Pushed by the global managers: a memory monitor's address and state. One that is alive is connected now if it
     * was not (this blocks: never called on a miss).
     */
    void onMember(final int memberId, final String address, final boolean alive)
    {
        final Owner owner = entry(memberId);
        if (address != null && !address.isEmpty())
        {
            owner.address = address;
        }
        if (alive)
        {
            owner.dead = false;
            if (owner.proxy == null)
            {
                connect(owner);
            }
            if (owner.proxy != null)
            {
                owner.downSinceNs = 0;
            }
        }
        else
        {
            markDown(owner);
            owner.dead = true;
        }
        changed();
    }

    /** Connect every entry a vRegion is bound to that has no connection yet (control path: after a system call). */
    void connectPending()
    {
        for (final Owner owner : owners.values())
        {
            if (owner.proxy == null && !owner.dead)
            {
                connect(owner);
                changed();
            }
        }
    }

    /**
     * A call to the owner failed in transport: it counts as down from now (if it was not already).
     *
     * @return true if it went down just now.
     */
    boolean markDown(final Owner owner)
    {
        synchronized (owner)
        {
            if (owner.downSinceNs == 0)
            {
                owner.downSinceNs = System.nanoTime();
                return true;
            }
            return false;
        }
    }

    /** A call to the owner succeeded. */
    static void markUp(final Owner owner)
    {
        if (owner.downSinceNs != 0 && !owner.dead)
        {
            owner.downSinceNs = 0;
        }
    }

    /** Tell waiting misses that a member or a vRegion's owner changed. */
    /** A vRegion changed owner: pending write-backs sent to its old owner go to the new one before any miss there. */
    void moved()
    {
        moves.incrementAndGet();
    }

    /** How many vRegion owner changes so far. */
    long moves()
    {
        return moves.get();
    }

    void changed()
    {
        synchronized (changes)
        {
            changeCount++;
            changes.notifyAll();
        }
    }

    /** Wait until the next {@link #changed()} or the deadline, whichever is first. */
    void awaitChange(final long deadlineNs)
    {
        synchronized (changes)
        {
            final long seen = changeCount;
            long leftNs;
            while (changeCount == seen && (leftNs = deadlineNs - System.nanoTime()) > 0)
            {
                try
                {
                    changes.wait(Math.max(1, leftNs / 1_000_000L));
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private synchronized void connect(final Owner owner)
    {
        if (owner.proxy != null || closed)
        {
            return;
        }
        String address = owner.address;
        if (address == null)
        {
            lookups.increment();
            address = lookup.apply(owner.memberId);
            if (address == null)
            {
                markDown(owner);
                errors.accept("memory monitor " + owner.memberId + " is unknown to the global manager");
                return;
            }
            owner.address = address;
        }
        try
        {
            owner.proxy = new MemoryMonitorProxy(fabric.connect(address), owner.memberId, lineBytes,
                timeoutNs);
        }
        catch (final FabricException ex)
        {
            markDown(owner);
            errors.accept("cannot connect to " + owner + ": " + ex.getMessage());
        }
    }

    /** Addresses asked of the global managers because no push had brought them yet (control path). */
    long lookups()
    {
        return lookups.get();
    }

    /** Close every connection. */
    @Override
    public synchronized void close()
    {
        closed = true;
        for (final Owner owner : owners.values())
        {
            CloseHelper.quietClose(owner.proxy);
        }
        changed();
    }
}
