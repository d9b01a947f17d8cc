package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;

/**
 * A standalone rdma fabric peer for benchmarks on a testbed, in another JVM or on another host:
 * {@code java @native-config/jvm.options -cp bench/target/benchmarks.jar dev.splitkernel.verbs.rdma.RdmaPeerServer
 * [host:port] [regionBytes] [--forever]}. It registers one region (byte i holds i & 0xFF), listens, prints
 * {@code READY address regionAddress rkey lengthBytes} on stdout, and exits when its stdin closes (or, with
 * {@code --forever}, when killed: for a peer started by hand on another host; it then also prints the
 * {@code PEER -Dsplitkernel.bench.rdma.peer=...} flag that points RdmaFabricBenchmark at it). Settings come from the usual
 * system properties ({@link FabricContext}, {@link RdmaContext}).
 * <p>
 * Opcode {@link #OPCODE_ECHO} replies with the request; anything else is UNKNOWN_OPCODE.
 */
public final class RdmaPeerServer
{
    public static final int OPCODE_ECHO = 1;

    private RdmaPeerServer()
    {
    }

    public static void main(final String[] args) throws IOException, InterruptedException
    {
        final String address = args.length > 0 ? args[0] : ":0";
        final int regionBytes = args.length > 1 ? Integer.parseInt(args[1]) : 1024 * 1024;
        final boolean forever = args.length > 2 && "--forever".equals(args[2]);
        final String reason = RdmaProbe.ofSystem().unavailableReason();
        if (reason != null)
        {
            System.out.println("UNAVAILABLE " + reason);
            System.exit(1);
        }
        try (RdmaFabric fabric = new RdmaFabric(new RdmaContext(new FabricContext().fabric("rdma"))))
        {
            final MemoryRegion region = fabric.allocate(regionBytes);
            for (int i = 0; i < regionBytes; i++)
            {
                region.buffer().putByte(i, (byte)i);
            }
            final String bound = fabric.listen(address, RdmaPeerServer::onRequest);
            System.out.println("READY " + bound + " " + region.address() + " " + region.rkey() + " " + regionBytes);
            System.out.flush();
            if (forever)
            {
                System.out.println("PEER -Dsplitkernel.bench.rdma.peer=" + bound + "," + region.address() + ","
                    + region.rkey());
                Thread.currentThread().join();
            }
            while (System.in.read() >= 0)
            {
                // hold until the parent closes our stdin or dies
            }
        }
    }

    private static int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (opcode != OPCODE_ECHO)
        {
            return Status.UNKNOWN_OPCODE;
        }
        if (length > replyCapacity)
        {
            return Status.TOO_LARGE;
        }
        reply.putBytes(replyOffset, request, offset, length);
        return length;
    }
}
