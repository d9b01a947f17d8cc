package dev.splitkernel.counting;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.ConcurrentCountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.util.function.Consumer;

/**
 * The switch that turns counting off, for measuring what counting costs and nothing else (setting
 * {@code splitkernel.stat.count=false}; default on). It lives here, in the lowest module that both the cache and the
 * monitors see, and is read once into a static final, so that off the JIT drops the guarded code.
 * <p>
 * Off, {@link #newManager} makes a counters manager whose counters are {@link Uncounted}: every write to them is an
 * empty method (no store, no atomic), every read gives 0, and nothing is allocated in the counters file; the cache
 * counts no hit, held in an {@code ExCacheHits} or not ({@link #ON}). Everything counted then reads 0: the main
 * job's report and {@code splitkernel stat} show zero counts. Counters made elsewhere (a fabric without a monitor,
 * whose private manager is verbs-transport's) still count: they are on no path of a monitor.
 */
public final class Counting
{
    /** false: nothing is counted (for measuring counting's cost only). Default true. */
    public static final String PROP_NAME = "splitkernel.stat.count";

    /** The JVM's setting, read once. */
    public static final boolean ON = Boolean.parseBoolean(System.getProperty(PROP_NAME, "true"));

    private Counting()
    {
    }

    /**
     * The counters manager every counter of a monitor and its cache comes from: Agrona's thread-safe one, or with
     * counting off one that hands out {@link Uncounted} counters.
     */
    public static ConcurrentCountersManager newManager(final AtomicBuffer metadata, final AtomicBuffer values)
    {
        return ON ? new ConcurrentCountersManager(metadata, values) : new UncountedManager(metadata, values);
    }

    /** Hands out {@link Uncounted} counters only; the file holds none. */
    private static final class UncountedManager extends ConcurrentCountersManager
    {
        UncountedManager(final AtomicBuffer metadata, final AtomicBuffer values)
        {
            super(metadata, values);
        }

        @Override
        public AtomicCounter newCounter(final String label)
        {
            return new Uncounted();
        }

        @Override
        public AtomicCounter newCounter(final String label, final int typeId)
        {
            return new Uncounted();
        }

        @Override
        public AtomicCounter newCounter(final String label, final int typeId,
            final Consumer<MutableDirectBuffer> keyFunc)
        {
            return new Uncounted();
        }

        @Override
        public AtomicCounter newCounter(final int typeId, final DirectBuffer keyBuffer, final int keyOffset,
            final int keyLength, final DirectBuffer labelBuffer, final int labelOffset, final int labelLength)
        {
            return new Uncounted();
        }
    }

    /**
     * A counter that counts nothing: each of Agrona's writing methods is overridden to do nothing (the value it
     * would read, in a private zeroed line, stays 0), so an increment costs a call the JIT inlines to nothing.
     */
    public static final class Uncounted extends AtomicCounter
    {
        /** Never written: every writer below is empty. */
        private static final UnsafeBuffer ZERO = new UnsafeBuffer(new byte[CountersReader.COUNTER_LENGTH]);

        Uncounted()
        {
            super(ZERO, 0);
        }

        @Override public void updateLabel(final String newLabel) { }
        @Override public AtomicCounter appendToLabel(final String suffix) { return this; }
        @Override public void updateKey(final Consumer<MutableDirectBuffer> keyFunc) { }
        @Override public void updateKey(final DirectBuffer keyBuffer, final int offset, final int length) { }
        @Override public long increment() { return 0; }
        @Override public long incrementOrdered() { return 0; }
        @Override public long incrementRelease() { return 0; }
        @Override public long incrementOpaque() { return 0; }
        @Override public long incrementPlain() { return 0; }
        @Override public long decrement() { return 0; }
        @Override public long decrementOrdered() { return 0; }
        @Override public long decrementRelease() { return 0; }
        @Override public long decrementOpaque() { return 0; }
        @Override public long decrementPlain() { return 0; }
        @Override public void set(final long value) { }
        @Override public void setOrdered(final long value) { }
        @Override public void setRelease(final long value) { }
        @Override public void setOpaque(final long value) { }
        @Override public void setWeak(final long value) { }
        @Override public void setPlain(final long value) { }
        @Override public long getAndAdd(final long increment) { return 0; }
        @Override public long getAndAddOrdered(final long increment) { return 0; }
        @Override public long getAndAddRelease(final long increment) { return 0; }
        @Override public long getAndAddOpaque(final long increment) { return 0; }
        @Override public long getAndAddPlain(final long increment) { return 0; }
        @Override public long getAndSet(final long value) { return 0; }
        @Override public boolean compareAndSet(final long expectedValue, final long updateValue) { return false; }
        @Override public boolean proposeMax(final long proposedValue) { return false; }
        @Override public boolean proposeMaxOrdered(final long proposedValue) { return false; }
        @Override public boolean proposeMaxRelease(final long proposedValue) { return false; }
        @Override public boolean proposeMaxOpaque(final long proposedValue) { return false; }
    }
}
