package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connections that never authenticate must not cost a thread each, nor stop honest peers from being served. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpConnectionFloodTest
{
    private static final int FLOOD = 300;

    @Test
    void shouldHoldNoThreadPerUnauthenticatedConnectionAndServeOthersDuringAFlood() throws Exception
    {
        final FabricContext serverCtx = new FabricContext().fabric("tcp").connectTimeoutNs(TimeUnit.SECONDS.toNanos(20));
        try (TcpFabric server = new TcpFabric(serverCtx);
            TcpFabric client = new TcpFabric(new FabricContext().fabric("tcp")))
        {
            final String address = server.listen("127.0.0.1:0", (opcode, request, offset, length, reply, replyOffset,
                capacity) ->
            {
                reply.putBytes(replyOffset, request, offset, length);
                return length;
            });
            final InetSocketAddress target = TcpFabric.parse(address);
            final int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            final List<Socket> flood = new ArrayList<>();
            try
            {
                for (int i = 0; i < FLOOD; i++)
                {
                    final Socket socket = new Socket();
                    socket.connect(target, 5_000);
                    flood.add(socket); // connected, silent: never sends a handshake
                }
                // The server has seen them all once its accepted count of handshakes stops growing; an honest peer is
                // served meanwhile (connect authenticates through the same poller).
                final Connection connection = client.connect(address, TimeUnit.SECONDS.toNanos(10));
                final UnsafeBuffer request = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
                final UnsafeBuffer reply = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
                request.putLong(0, 0xF100DL);
                assertEquals(8, connection.call(1, request, 0, 8, reply, 0, 64, TimeUnit.SECONDS.toNanos(5)));
                assertEquals(0xF100DL, reply.getLong(0));

                final int threadsDuring = ManagementFactory.getThreadMXBean().getThreadCount();
                assertTrue(threadsDuring - threadsBefore < 10, "threads grew from " + threadsBefore + " to "
                    + threadsDuring + " with " + FLOOD + " silent connections");
                // Beyond the limit of pending handshakes, connections are refused at accept and counted.
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (server.counters().get(FabricCounters.AUTH_FAILURES) < FLOOD - TcpPoller.MAX_PENDING_HANDSHAKES
                    && System.nanoTime() - deadlineNs < 0)
                {
                    Thread.onSpinWait();
                }
                assertTrue(server.counters().get(FabricCounters.AUTH_FAILURES) >=
                    FLOOD - TcpPoller.MAX_PENDING_HANDSHAKES, "refused: " + server.counters());
            }
            finally
            {
                for (final Socket socket : flood)
                {
                    socket.close();
                }
            }
        }
    }
}
