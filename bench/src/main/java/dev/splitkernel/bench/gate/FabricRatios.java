package dev.splitkernel.bench.gate;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import dev.splitkernel.verbs.tcp.TcpFabric;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Each fabric operation of the tcp fabric (loopback, server and client in this JVM) against the same operation on
 * the in-process fabric with preset {@code none}, timed side by side: rounds of one block of operations on each, in
 * alternating order, the local block {@value #LOCAL_OPS_PER_TCP_OP} times as many operations so that both last
 * milliseconds; the metric is the median over the rounds of the per-operation time ratio.
 */
final class FabricRatios
{
    private static final int OPCODE_ECHO = 1;
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final int REGION_BYTES = 64 * 1024;

    /** An in-process operation takes tens of nanoseconds, a loopback round trip tens of microseconds. */
    private static final int LOCAL_OPS_PER_TCP_OP = 100;

    private final int rounds;
    private final int tcpOpsPerBlock;

    FabricRatios(final int rounds, final int tcpOpsPerBlock)
    {
        this.rounds = rounds;
        this.tcpOpsPerBlock = tcpOpsPerBlock;
    }

    private enum Op
    {
        READ_4K("read4KB"), WRITE_4K("write4KB"), RPC_128B("rpc128B");

        final String label;

        Op(final String label)
        {
            this.label = label;
        }
    }

    /** One side of the comparison: a client connection and the buffers its operations use. */
    private static final class Side
    {
        final Connection connection;
        final MemoryRegion local;
        final MemoryRegion remote;
        final UnsafeBuffer request = new UnsafeBuffer(new byte[4096]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[4096]);

        Side(final Fabric server, final Fabric client, final String address)
        {
            remote = server.allocate(REGION_BYTES);
            final String bound = server.listen(address, (opcode, req, offset, length, rep, replyOffset, capacity) ->
            {
                if (opcode != OPCODE_ECHO || length > capacity)
                {
                    return Status.UNKNOWN_OPCODE;
                }
                rep.putBytes(replyOffset, req, offset, length);
                return length;
            });
            connection = client.connect(bound, TIMEOUT_NS);
            local = client.allocate(REGION_BYTES);
        }

        long run(final Op op, final int count)
        {
            long sum = 0;
            for (int i = 0; i < count; i++)
            {
                final int status = switch (op)
                {
                    case READ_4K -> connection.read(local, 0, remote.address(), remote.rkey(), 4096, TIMEOUT_NS);
                    case WRITE_4K -> connection.write(local, 0, remote.address(), remote.rkey(), 4096, TIMEOUT_NS);
                    case RPC_128B -> connection.call(OPCODE_ECHO, request, 0, 128, reply, 0, reply.capacity(),
                        TIMEOUT_NS);
                };
                if (status < 0)
                {
                    throw new IllegalStateException(op.label + " failed: " + Status.describe(status));
                }
                sum += status;
            }
            return sum;
        }
    }

    List<Measured> measure()
    {
        final LocalNetwork network = new LocalNetwork();
        final List<Fabric> fabrics = new ArrayList<>();
        try
        {
            final Fabric localServer = add(fabrics, new LocalFabric(new FabricContext().fabric("local").timing("none"),
                network));
            final Fabric localClient = add(fabrics, new LocalFabric(new FabricContext().fabric("local").timing("none"),
                network));
            final Fabric tcpServer = add(fabrics, new TcpFabric(new FabricContext().fabric(TcpFabric.NAME)));
            final Fabric tcpClient = add(fabrics, new TcpFabric(new FabricContext().fabric(TcpFabric.NAME)));
            final Side local = new Side(localServer, localClient, "gate-memory");
            final Side tcp = new Side(tcpServer, tcpClient, "127.0.0.1:0");
            final List<Measured> metrics = new ArrayList<>();
            for (final Op op : Op.values())
            {
                // Warm-up: both sides' code compiled, connections and buffers touched.
                final int localOps = tcpOpsPerBlock * LOCAL_OPS_PER_TCP_OP;
                local.run(op, localOps);
                tcp.run(op, tcpOpsPerBlock);
                final double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++)
                {
                    final boolean localFirst = (r & 1) == 0;
                    final long t0 = System.nanoTime();
                    if (localFirst)
                    {
                        local.run(op, localOps);
                    }
                    else
                    {
                        tcp.run(op, tcpOpsPerBlock);
                    }
                    final long t1 = System.nanoTime();
                    if (localFirst)
                    {
                        tcp.run(op, tcpOpsPerBlock);
                    }
                    else
                    {
                        local.run(op, localOps);
                    }
                    final long t2 = System.nanoTime();
                    final double localNsPerOp = (double)(localFirst ? t1 - t0 : t2 - t1) / localOps;
                    final double tcpNsPerOp = (double)(localFirst ? t2 - t1 : t1 - t0) / tcpOpsPerBlock;
                    ratios[r] = tcpNsPerOp / localNsPerOp;
                }
                Arrays.sort(ratios);
                metrics.add(new Measured("fabric.tcpOverLocalNone." + op.label, MetricKind.NETWORK_RATIO,
                    ratios[rounds / 2], "x local none"));
            }
            return metrics;
        }
        finally
        {
            for (int i = fabrics.size() - 1; i >= 0; i--)
            {
                fabrics.get(i).close();
            }
        }
    }

    private static Fabric add(final List<Fabric> fabrics, final Fabric fabric)
    {
        fabrics.add(fabric);
        return fabric;
    }
}
