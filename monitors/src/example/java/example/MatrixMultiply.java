package example;

import dev.splitkernel.workload.MemoryWorkload;
import dev.splitkernel.workload.VerificationException;
import dev.splitkernel.workload.WordMemory;

/**
 * An example of a user's own workload for {@code scripts/splitkernel run --workload-class example.MatrixMultiply
 * --classpath DIR_OR_JAR}: C = A x B for n x n matrices of doubles, rows of C split across the threads.
 * <pre>
 *   region: | A (n x n doubles) | B (n x n doubles) | C (n x n doubles) |
 * </pre>
 * A[i][k] = (i + k) % 7 and B[k][j] = (k * j) % 5 are small integers, so every sum is exact and {@link #verify}
 * can recompute C from the formulas, without reading A and B back.
 */
public final class MatrixMultiply implements MemoryWorkload
{
    @Override
    public String name()
    {
        return "matmul";
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        final long n = side(workingSetBytes);
        return 3 * n * n * 8;
    }

    private static long side(final long bytes)
    {
        return Math.max(8, (long)Math.sqrt(bytes / 24.0) / 8 * 8);
    }

    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long n = side(lengthBytes);
        for (long i = thread; i < n; i += threads)
        {
            for (long j = 0; j < n; j++)
            {
                memory.putDouble(base + (i * n + j) * 8, (i + j) % 7);
                memory.putDouble(base + (n * n + i * n + j) * 8, (i * j) % 5);
            }
        }
    }

    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long n = side(lengthBytes);
        final long a = base;
        final long b = base + n * n * 8;
        final long c = base + 2 * n * n * 8;
        long rows = 0;
        for (long i = thread; i < n; i += threads)
        {
            for (long j = 0; j < n; j++)
            {
                double sum = 0;
                for (long k = 0; k < n; k++)
                {
                    sum += memory.getDouble(a + (i * n + k) * 8) * memory.getDouble(b + (k * n + j) * 8);
                }
                memory.putDouble(c + (i * n + j) * 8, sum);
            }
            rows++;
        }
        return rows;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long rows)
    {
        final long n = side(lengthBytes);
        if (rows != n)
        {
            throw new VerificationException("matmul computed " + rows + " rows of " + n);
        }
        final long c = base + 2 * n * n * 8;
        for (long i = 0; i < n; i++)
        {
            for (long j = 0; j < n; j++)
            {
                long expected = 0;
                for (long k = 0; k < n; k++)
                {
                    expected += ((i + k) % 7) * ((k * j) % 5);
                }
                final double got = memory.getDouble(c + (i * n + j) * 8);
                if (got != expected)
                {
                    throw new VerificationException("C[" + i + "][" + j + "] = " + got + ", expected " + expected);
                }
            }
        }
    }
}
