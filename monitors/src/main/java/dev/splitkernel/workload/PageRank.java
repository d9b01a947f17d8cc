package dev.splitkernel.workload;

import java.util.SplittableRandom;

/**
 * PageRank on an R-MAT graph (a = 0.57, b = c = 0.19, d = 0.05, as Graph500; 16 edges per vertex), pull style over
 * the in-edges in compressed sparse rows: per iteration each thread computes the new ranks of its vertices from the
 * old ranks of their sources, then a barrier. {@link #prepare} generates the graph and the expected ranks on the
 * heap (same operations in the same order, so equal bit for bit); {@link #populate} writes the graph into the region.
 * <pre>
 *   region: | in-offsets (N+1) longs | sources E ints | out-degrees N ints | ranks A N doubles | ranks B N doubles |
 * </pre>
 */
public final class PageRank implements MemoryWorkload
{
    private static final int EDGES_PER_VERTEX = 16;
    private static final double DAMPING = 0.85;
    private static final long BYTES_PER_VERTEX = 8 + 4L * EDGES_PER_VERTEX + 4 + 16;

    private final int iterations;
    private long vertices;
    private long[] offsets;
    private int[] sources;
    private int[] outDegrees;
    private double[] expected;
    private PhaseBarrier barrier;

    public PageRank(final int iterations)
    {
        if (iterations < 1)
        {
            throw new IllegalArgumentException("iterations must be >= 1: " + iterations);
        }
        this.iterations = iterations;
    }

    @Override
    public String name()
    {
        return "pagerank";
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        return layoutBytes(verticesFor(workingSetBytes));
    }

    private static long verticesFor(final long bytes)
    {
        return Math.max(1024, Long.highestOneBit(bytes / BYTES_PER_VERTEX));
    }

    private static long align(final long bytes)
    {
        return (bytes + 4095) & ~4095L;
    }

    private static long layoutBytes(final long n)
    {
        return align((n + 1) * 8) + align(n * EDGES_PER_VERTEX * 4) + align(n * 4) + 2 * align(n * 8);
    }

    private static long sourcesAt(final long base, final long n)
    {
        return base + align((n + 1) * 8);
    }

    private static long degreesAt(final long base, final long n)
    {
        return sourcesAt(base, n) + align(n * EDGES_PER_VERTEX * 4);
    }

    private static long ranksAt(final long base, final long n, final int which)
    {
        return degreesAt(base, n) + align(n * 4) + which * align(n * 8);
    }

    /** The graph and its expected ranks, built once per size (not timed). */
    @Override
    public void prepare(final WordMemory memory, final long base, final long lengthBytes, final int threads)
    {
        barrier = new PhaseBarrier(threads);
        long n = verticesFor(lengthBytes);
        while (layoutBytes(n) > lengthBytes)
        {
            n /= 2;
        }
        if (n == vertices)
        {
            return;
        }
        if (n > Integer.MAX_VALUE / EDGES_PER_VERTEX)
        {
            throw new IllegalArgumentException("pagerank: " + n + " vertices is more than this workload holds");
        }
        vertices = n;
        final int edges = (int)(n * EDGES_PER_VERTEX);
        final int scale = Long.numberOfTrailingZeros(n);
        final int[] src = new int[edges];
        final int[] dst = new int[edges];
        final SplittableRandom random = new SplittableRandom(2018);
        offsets = new long[(int)n + 1];
        outDegrees = new int[(int)n];
        for (int e = 0; e < edges; e++)
        {
            int u = 0;
            int v = 0;
            for (int bit = 0; bit < scale; bit++)
            {
                final double r = random.nextDouble();
                final int quadrant = r < 0.57 ? 0 : r < 0.76 ? 1 : r < 0.95 ? 2 : 3;
                u = (u << 1) | (quadrant >> 1);
                v = (v << 1) | (quadrant & 1);
            }
            src[e] = u;
            dst[e] = v;
            outDegrees[u]++;
            offsets[v + 1]++;
        }
        for (int v = 0; v < n; v++)
        {
            offsets[v + 1] += offsets[v];
        }
        sources = new int[edges];
        final long[] fill = offsets.clone();
        for (int e = 0; e < edges; e++)
        {
            sources[(int)fill[dst[e]]++] = src[e];
        }
        double[] old = new double[(int)n];
        double[] next = new double[(int)n];
        java.util.Arrays.fill(old, 1.0 / n);
        for (int it = 0; it < iterations; it++)
        {
            for (int v = 0; v < n; v++)
            {
                double sum = 0;
                for (long e = offsets[v]; e < offsets[v + 1]; e++)
                {
                    final int u = sources[(int)e];
                    sum += old[u] / outDegrees[u];
                }
                next[v] = (1 - DAMPING) / n + DAMPING * sum;
            }
            final double[] t = old;
            old = next;
            next = t;
        }
        expected = old;
    }

    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long n = vertices;
        final long from = Words.first(n, thread, threads);
        final long to = Words.first(n, thread + 1, threads);
        for (long v = from; v < to; v++)
        {
            memory.putLong(base + v * 8, offsets[(int)v]);
            memory.putInt(degreesAt(base, n) + v * 4, outDegrees[(int)v]);
            memory.putDouble(ranksAt(base, n, 0) + v * 8, 1.0 / n);
            for (long e = offsets[(int)v]; e < offsets[(int)v + 1]; e++)
            {
                memory.putInt(sourcesAt(base, n) + e * 4, sources[(int)e]);
            }
        }
        if (thread == threads - 1)
        {
            memory.putLong(base + n * 8, offsets[(int)n]);
        }
    }

    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        try
        {
            final long n = vertices;
            final long from = Words.first(n, thread, threads);
            final long to = Words.first(n, thread + 1, threads);
            final long src = sourcesAt(base, n);
            final long degrees = degreesAt(base, n);
            long edges = 0;
            for (int it = 0; it < iterations; it++)
            {
                final long old = ranksAt(base, n, it & 1);
                final long next = ranksAt(base, n, (it + 1) & 1);
                for (long v = from; v < to; v++)
                {
                    double sum = 0;
                    final long end = memory.getLong(base + (v + 1) * 8);
                    for (long e = memory.getLong(base + v * 8); e < end; e++)
                    {
                        final int u = memory.getInt(src + e * 4);
                        sum += memory.getDouble(old + u * 8L) / memory.getInt(degrees + u * 4L);
                        edges++;
                    }
                    memory.putDouble(next + v * 8, (1 - DAMPING) / n + DAMPING * sum);
                }
                barrier.await();
            }
            return edges;
        }
        catch (final RuntimeException | Error ex)
        {
            barrier.abort(ex);
            throw ex;
        }
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long total)
    {
        final long n = vertices;
        if (total != (long)iterations * offsets[(int)n])
        {
            throw new VerificationException("pagerank: " + total + " edges visited, expected "
                + (long)iterations * offsets[(int)n]);
        }
        final long ranks = ranksAt(base, n, iterations & 1);
        for (long v = 0; v < n; v++)
        {
            final double rank = memory.getDouble(ranks + v * 8);
            if (Double.doubleToRawLongBits(rank) != Double.doubleToRawLongBits(expected[(int)v]))
            {
                throw new VerificationException("pagerank: vertex " + v + " has rank " + rank + ", expected "
                    + expected[(int)v]);
            }
        }
    }
}
