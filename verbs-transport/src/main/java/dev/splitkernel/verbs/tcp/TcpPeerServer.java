package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.util.concurrent.locks.LockSupport;

/**
 * A standalone tcp fabric peer for benchmarks and tests in another JVM:
 * {@code java -cp ... dev.splitkernel.verbs.tcp.TcpPeerServer [host:port] [regionBytes]}. It registers one region
 * (byte i holds i & 0xFF), listens, prints {@code READY address regionAddress rkey lengthBytes} on stdout, and exits
 * when its stdin closes, so it never outlives the process that started it. Busy-poll and other settings come from
 * the usual system properties ({@link FabricContext}).
 * <p>
 * Opcodes: {@link #OPCODE_ECHO} replies with the request; {@link #OPCODE_BLOCK} never replies (for dead-peer tests);
 * anything else is UNKNOWN_OPCODE.
 */
public final class TcpPeerServer
{
    public static final int OPCODE_ECHO = 1;
    public static final int OPCODE_BLOCK = 2;

    private TcpPeerServer()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final String address = args.length > 0 ? args[0] : "127.0.0.1:0";
        final int regionBytes = args.length > 1 ? Integer.parseInt(args[1]) : 1024 * 1024;
        try (TcpFabric fabric = new TcpFabric(new FabricContext().fabric(TcpFabric.NAME)))
        {
            final MemoryRegion region = fabric.allocate(regionBytes);
            for (int i = 0; i < regionBytes; i++)
            {
                region.buffer().putByte(i, (byte)i);
            }
            final String bound = fabric.listen(address, new RequestHandler()
            {
                @Override
                public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
                    final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
                {
                    return TcpPeerServer.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity);
                }

                @Override
                public boolean mayBlock(final int opcode)
                {
                    return opcode == OPCODE_BLOCK;
                }
            });
            System.out.println("READY " + bound + " " + region.address() + " " + region.rkey() + " " + regionBytes);
            System.out.flush();
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
        switch (opcode)
        {
            case OPCODE_ECHO:
                if (length > replyCapacity)
                {
                    return Status.TOO_LARGE;
                }
                reply.putBytes(replyOffset, request, offset, length);
                return length;
            case OPCODE_BLOCK:
                while (true)
                {
                    LockSupport.parkNanos(1_000_000_000L);
                }
            default:
                return Status.UNKNOWN_OPCODE;
        }
    }
}
