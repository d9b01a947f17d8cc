package dev.splitkernel.bench.observe;

import org.agrona.BufferUtil;
import org.agrona.UnsafeApi;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What each way of counting a hit costs a random ExCache hit, side by side in one JVM: a copy of the hit path's shape
 * (a seqlock read of 16-byte slot metadata over 1 MB, the value from 256 MB of lines, random addresses from a
 * xorshift), once per counting idiom, each in its own compiled loop. The idioms run in turns of 20 ms, the order
 * rotating every round, so a busy host slows all of them alike; it prints per idiom the median time per hit and the
 * median and 10th percentile of the per-round ratio to no counting. For choosing how the cache counts hits, not
 * for the 2% target itself (that is {@code scripts/bench observe-cost}, on the real cache, each side in its own JVM).
 * <p>
 * Usage: {@code java @native-config/jvm.options -cp bench/target/benchmarks.jar
 * dev.splitkernel.bench.observe.HitCountIdioms [ROUNDS]} (default 200, about 30 s).
 */
public final class HitCountIdioms
{
    private static final int LINE_SHIFT = 12;
    private static final long CAPACITY = 1L << 28;
    private static final int SLOTS = (int)(CAPACITY >>> LINE_SHIFT);
    private static final long ADDRESS_MASK = (CAPACITY - 1) & ~7L;
    private static final int STRIPES_BYTES = 64 << 7;
    private static final long TURN_NS = 20_000_000L;

    /** The idioms, in the order printed; "none" first (the base of every ratio). */
    private static final String[] IDIOMS = {
        "none: nothing counted",
        "held: a field of a handle the caller passes (ExCacheHits)",
        "shared: one plain field of the cache (exact with one thread only)",
        "stripe: thread id -> off-heap stripe (the handle-less loads had it; removed)",
        "heap stripe: thread id -> stripe in a long[]",
        "owner: current thread == the cache's owner ? its field : stripe",
        "thread class: current thread instanceof a counting Thread ? its field : stripe",
    };

    /** A count on a cache line of its own. */
    @SuppressWarnings("unused")
    static final class Count
    {
        long p01, p02, p03, p04, p05, p06, p07;
        long value;
        long p11, p12, p13, p14, p15, p16, p17;
    }

    /** A thread that carries its own count (the "thread class" idiom). */
    static final class CountingThread extends Thread
    {
        final Count count = new Count();

        CountingThread(final Runnable task)
        {
            super(task, "hit-count-idioms");
        }
    }

    private final long metaBase;
    private final long lineBase;
    private final long stripes;
    private final long slotMask = SLOTS - 1;
    private final long capacityMask = CAPACITY - 1;
    private final long[] heapStripes = new long[64 * 16];
    private final Count held = new Count();
    private final Count shared = new Count();
    private Thread owner;
    private long random = 0x9E3779B97F4A7C15L;

    private HitCountIdioms()
    {
        lineBase = BufferUtil.address(BufferUtil.allocateDirectAligned((int)CAPACITY, 4096));
        final ByteBuffer meta = BufferUtil.allocateDirectAligned(STRIPES_BYTES + SLOTS * 16, 64);
        stripes = BufferUtil.address(meta);
        metaBase = stripes + STRIPES_BYTES;
        for (int slot = 0; slot < SLOTS; slot++)
        {
            UnsafeApi.putLong(metaBase + slot * 16L, 0);
            UnsafeApi.putLong(metaBase + slot * 16L + 8, slot);
        }
        for (long offset = 0; offset < CAPACITY; offset += Long.BYTES)
        {
            UnsafeApi.putLong(lineBase + offset, offset);
        }
    }

    /** 1024 random hits counted by {@code idiom} (a constant in each caller, so each gets a loop of its own). */
    private long hits(final int idiom, final Count handle)
    {
        long x = random;
        long sum = 0;
        for (int i = 0; i < 1024; i++)
        {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            final long vaddr = x & ADDRESS_MASK;
            final long meta = metaBase + (((vaddr >>> LINE_SHIFT) & slotMask) << 4);
            final long state = UnsafeApi.getLongVolatile(null, meta);
            if (UnsafeApi.getLong(meta + 8) != vaddr >>> LINE_SHIFT)
            {
                return -1;
            }
            final long value = UnsafeApi.getLong(lineBase + (vaddr & capacityMask));
            UnsafeApi.loadFence();
            if (UnsafeApi.getLong(meta) != state)
            {
                return -1;
            }
            count(idiom, handle);
            sum += value;
        }
        random = x;
        return sum;
    }

    private void count(final int idiom, final Count handle)
    {
        switch (idiom)
        {
            case 1 -> handle.value++;
            case 2 -> shared.value++;
            case 3 -> stripe();
            case 4 -> heapStripes[(int)((Thread.currentThread().getId() << 4) & (64 * 16 - 16))]++;
            case 5 ->
            {
                if (Thread.currentThread() == owner)
                {
                    held.value++;
                }
                else
                {
                    stripe();
                }
            }
            case 6 ->
            {
                if (Thread.currentThread() instanceof CountingThread t)
                {
                    t.count.value++;
                }
                else
                {
                    stripe();
                }
            }
            default ->
            {
            }
        }
    }

    private void stripe()
    {
        final long address = stripes + ((Thread.currentThread().getId() << 7) & (STRIPES_BYTES - 128));
        UnsafeApi.putLong(address, UnsafeApi.getLong(address) + 1);
    }

    private long none()
    {
        return hits(0, null);
    }

    private long heldCount()
    {
        return hits(1, held);
    }

    private long sharedCount()
    {
        return hits(2, null);
    }

    private long stripeCount()
    {
        return hits(3, null);
    }

    private long heapStripeCount()
    {
        return hits(4, null);
    }

    private long ownerCount()
    {
        return hits(5, null);
    }

    private long threadClassCount()
    {
        return hits(6, null);
    }

    private long turn(final int idiom)
    {
        return switch (idiom)
        {
            case 0 -> none();
            case 1 -> heldCount();
            case 2 -> sharedCount();
            case 3 -> stripeCount();
            case 4 -> heapStripeCount();
            case 5 -> ownerCount();
            default -> threadClassCount();
        };
    }

    private void measure(final int rounds)
    {
        owner = Thread.currentThread();
        final int n = IDIOMS.length;
        final double[][] ns = new double[n][rounds];
        long sink = 0;
        for (int round = -5; round < rounds; round++)
        {
            for (int k = 0; k < n; k++)
            {
                final int idiom = (k + Math.max(round, 0)) % n;
                final long start = System.nanoTime();
                long calls = 0;
                while (System.nanoTime() - start < TURN_NS)
                {
                    for (int c = 0; c < 16; c++)
                    {
                        sink += turn(idiom);
                    }
                    calls += 16;
                }
                if (round >= 0)
                {
                    ns[idiom][round] = (System.nanoTime() - start) / (calls * 1024.0);
                }
            }
        }
        System.out.printf("%-80s %9s %14s %10s%n", "idiom (" + rounds + " rounds of 20 ms turns)", "ns/hit",
            "ratio median", "ratio p10");
        for (int k = 0; k < n; k++)
        {
            final double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                ratios[r] = ns[k][r] / ns[0][r];
            }
            Arrays.sort(ratios);
            final double[] times = ns[k].clone();
            Arrays.sort(times);
            System.out.printf("%-80s %9.2f %14.4f %10.4f%n", IDIOMS[k], times[rounds / 2], ratios[rounds / 2],
                ratios[rounds / 10]);
        }
        if (sink == 42)
        {
            System.out.println();
        }
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        if (rounds < 10)
        {
            System.err.println("HitCountIdioms: at least 10 rounds");
            System.exit(2);
        }
        final HitCountIdioms idioms = new HitCountIdioms();
        // On a thread that counts for itself, so that "thread class" takes its fast branch.
        final CountingThread thread = new CountingThread(() -> idioms.measure(rounds));
        thread.start();
        thread.join();
    }
}
