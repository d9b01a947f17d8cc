package dev.splitkernel.bench.transport;

import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The operations the transport benchmarks time, over any connection: each checks its status, so a benchmark of a
 * failing operation fails instead of timing the failure.
 * <p>
 * Not thread-safe: one per benchmark thread.
 */
final class TransportBenchmarkOps
{
    static final int OPCODE_ECHO = 1;
    static final int PIPELINE_DEPTH = 16;
    static final long TIMEOUT_NS = 5_000_000_000L;

    private final Connection connection;
    private final MemoryRegion local;
    private final long remoteAddress;
    private final int rkey;
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer reply = new UnsafeBuffer(new byte[4096]);
    private final Completion[] completions = new Completion[PIPELINE_DEPTH];

    TransportBenchmarkOps(final Connection connection, final MemoryRegion local, final long remoteAddress,
        final int rkey)
    {
        this.connection = connection;
        this.local = local;
        this.remoteAddress = remoteAddress;
        this.rkey = rkey;
        for (int i = 0; i < PIPELINE_DEPTH; i++)
        {
            completions[i] = new Completion();
        }
    }

    int read(final int lengthBytes)
    {
        return check(connection.read(local, 0, remoteAddress, rkey, lengthBytes, TIMEOUT_NS));
    }

    /** {@link #PIPELINE_DEPTH} 4 KB READs posted at once, then awaited. */
    int readPipelined(final int lengthBytes)
    {
        for (int i = 0; i < PIPELINE_DEPTH; i++)
        {
            check(connection.postRead(local, i * lengthBytes, remoteAddress + (long)i * lengthBytes, rkey,
                lengthBytes, completions[i]));
        }
        int sum = 0;
        for (int i = 0; i < PIPELINE_DEPTH; i++)
        {
            sum += check(completions[i].await(TIMEOUT_NS));
        }
        return sum;
    }

    int call(final int lengthBytes)
    {
        return check(connection.call(OPCODE_ECHO, request, 0, lengthBytes, reply, 0, reply.capacity(), TIMEOUT_NS));
    }

    private static int check(final int status)
    {
        if (status < 0)
        {
            throw new IllegalStateException("operation failed: " + Status.describe(status));
        }
        return status;
    }
}
