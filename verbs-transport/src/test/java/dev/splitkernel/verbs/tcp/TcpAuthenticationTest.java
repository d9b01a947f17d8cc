package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.auth.HandshakeDescriptor;
import dev.splitkernel.verbs.auth.LogCapture;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cluster authentication on the tcp fabric: who may connect, and what crosses the wire. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpAuthenticationTest
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final byte[] SECRET = "correct horse battery staple 42".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OTHER_SECRET = "another cluster's secret, 1234".getBytes(StandardCharsets.US_ASCII);

    private final List<TcpFabric> fabrics = new ArrayList<>();
    private final AtomicInteger handlerCalls = new AtomicInteger();
    private final RequestHandler echo = (opcode, request, offset, length, reply, replyOffset, capacity) ->
    {
        handlerCalls.incrementAndGet();
        reply.putBytes(replyOffset, request, offset, length);
        return length;
    };

    @AfterEach
    void closeAll()
    {
        fabrics.forEach(TcpFabric::close);
    }

    private TcpFabric fabric(final byte[] secret)
    {
        final TcpFabric fabric = new TcpFabric(
            new FabricContext().fabric("tcp").secret(secret).connectTimeoutNs(TimeUnit.MILLISECONDS.toNanos(1500)));
        fabrics.add(fabric);
        return fabric;
    }

    private static void assertEcho(final Connection connection)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[16]);
        buffer.putInt(0, 42);
        assertEquals(4, connection.call(1, buffer, 0, 4, buffer, 8, 8, TIMEOUT_NS));
        assertEquals(42, buffer.getInt(8));
    }

    private static void awaitCount(final TcpFabric fabric, final long expected) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (fabric.counters().get(FabricCounters.AUTH_FAILURES) < expected && System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(1);
        }
        assertEquals(expected, fabric.counters().get(FabricCounters.AUTH_FAILURES));
    }

    @Test
    void shouldConnectAndServeWhenBothShareTheSecret()
    {
        final TcpFabric server = fabric(SECRET);
        final TcpFabric client = fabric(SECRET);
        final MemoryRegion region = server.allocate(64);
        region.buffer().putLong(0, 77);
        final String address = server.listen("127.0.0.1:0", echo);
        final Connection connection = client.connect(address, TIMEOUT_NS);
        assertEcho(connection);
        final MemoryRegion local = client.allocate(64);
        assertEquals(Status.OK, connection.read(local, 0, region.address(), region.rkey(), 8, TIMEOUT_NS));
        assertEquals(77, local.buffer().getLong(0));
        assertEquals(0, server.counters().get(FabricCounters.AUTH_FAILURES));
        assertEquals(0, client.counters().get(FabricCounters.AUTH_FAILURES));
    }

    @Test
    void shouldRefuseAWrongSecretAtConnectOnBothSidesCountItAndReportItOnce() throws Exception
    {
        final TcpFabric server = fabric(SECRET);
        final TcpFabric client = fabric(OTHER_SECRET);
        final String address = server.listen("127.0.0.1:0", echo);
        try (LogCapture log = new LogCapture())
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                final FabricException ex = assertThrows(FabricException.class, () -> client.connect(address, TIMEOUT_NS));
                assertTrue(ex.getMessage().contains("authentication failed"), ex.getMessage());
                assertTrue(ex.getMessage().contains("does not share this cluster's secret"), ex.getMessage());
            }
            awaitCount(server, 3);
            assertEquals(3, client.counters().get(FabricCounters.AUTH_FAILURES));
            assertEquals(1, log.linesContaining("tcp fabric: authentication failed: the peer at " + address));
            assertEquals(1, log.linesContaining("refused our proof: the peer does not share this cluster's secret"));
        }
        assertEquals(0, server.counters().get(FabricCounters.CONNECTIONS_ACCEPTED));
        assertEquals(0, handlerCalls.get());
        assertEcho(fabric(SECRET).connect(address, TIMEOUT_NS));
    }

    @Test
    void shouldRefuseAClientWithoutASecretAndAServerWithout()
    {
        final TcpFabric server = fabric(SECRET);
        final String address = server.listen("127.0.0.1:0", echo);
        final FabricException noSecret = assertThrows(FabricException.class,
            () -> fabric(null).connect(address, TIMEOUT_NS));
        assertTrue(noSecret.getMessage().contains("refused us"), noSecret.getMessage());

        final TcpFabric open = fabric(null);
        final String openAddress = open.listen("127.0.0.1:0", echo);
        final FabricException openServer = assertThrows(FabricException.class,
            () -> fabric(SECRET).connect(openAddress, TIMEOUT_NS));
        assertTrue(openServer.getMessage().contains("has no cluster secret"), openServer.getMessage());
        assertEquals(0, handlerCalls.get());
        assertEcho(fabric(null).connect(openAddress, TIMEOUT_NS));
    }

    @Test
    void shouldDropAPeerThatSendsNothingOrGarbageWithinTheTimeoutAndServeOthers() throws Exception
    {
        final TcpFabric server = fabric(SECRET);
        final String address = server.listen("127.0.0.1:0", echo);
        final InetSocketAddress target = TcpFabric.parse(address);
        try (Socket silent = new Socket(); Socket garbage = new Socket())
        {
            silent.connect(target, 2000);
            silent.setSoTimeout(5000);
            garbage.connect(target, 2000);
            garbage.setSoTimeout(5000);
            final byte[] junk = new byte[HandshakeDescriptor.MESSAGE_LENGTH + 40];
            for (int i = 0; i < junk.length; i++)
            {
                junk[i] = (byte)(i * 7 + 3);
            }
            garbage.getOutputStream().write(junk);

            final Connection other = fabric(SECRET).connect(address, TIMEOUT_NS);
            assertEcho(other);

            assertEquals(-1, readUntilClosed(silent.getInputStream()).read(), "silent peer dropped");
            readUntilClosed(garbage.getInputStream());
            awaitCount(server, 2);
            assertEcho(other);
        }
        assertEquals(1, server.counters().get(FabricCounters.CONNECTIONS_ACCEPTED));
        assertEquals(2, handlerCalls.get());
    }

    /** Drain until the server closes; a timeout fails the test (the server kept the connection). */
    private static InputStream readUntilClosed(final InputStream in) throws Exception
    {
        try
        {
            while (in.read() >= 0)
            {
                // what the server said before closing does not matter here
            }
        }
        catch (final java.net.SocketException ex)
        {
            // reset by the server: closed, as required
        }
        return in;
    }

    @Test
    void shouldNeverSendTheSecret() throws Exception
    {
        final TcpFabric server = fabric(SECRET);
        final String address = server.listen("127.0.0.1:0", echo);
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        try (ServerSocket proxy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            final Thread relay = new Thread(() ->
            {
                try (Socket fromClient = proxy.accept(); Socket toServer = new Socket())
                {
                    toServer.connect(TcpFabric.parse(address), 2000);
                    final Thread back = new Thread(() -> copy(toServer, fromClient, null));
                    back.setDaemon(true);
                    back.start();
                    copy(fromClient, toServer, sent);
                    back.join(5000);
                }
                catch (final Exception ex)
                {
                    // the test's assertions report what went wrong
                }
            });
            relay.setDaemon(true);
            relay.start();
            final TcpFabric client = fabric(SECRET);
            final Connection connection = client.connect("127.0.0.1:" + proxy.getLocalPort(), TIMEOUT_NS);
            assertEcho(connection);
            connection.close();
            relay.join(5000);
        }
        final byte[] bytes;
        synchronized (sent)
        {
            bytes = sent.toByteArray();
        }
        assertTrue(bytes.length >= 2 * HandshakeDescriptor.MESSAGE_LENGTH + FrameDescriptor.HEADER_LENGTH,
            "captured " + bytes.length + " bytes");
        assertFalse(contains(bytes, SECRET), "the secret crossed the wire");
        assertFalse(contains(bytes, "correct horse".getBytes(StandardCharsets.US_ASCII)), "part of the secret");
    }

    private static void copy(final Socket from, final Socket to, final ByteArrayOutputStream record)
    {
        try
        {
            final InputStream in = from.getInputStream();
            final OutputStream out = to.getOutputStream();
            final byte[] chunk = new byte[4096];
            int n;
            while ((n = in.read(chunk)) >= 0)
            {
                if (record != null)
                {
                    synchronized (record)
                    {
                        record.write(chunk, 0, n);
                    }
                }
                out.write(chunk, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        }
        catch (final Exception ex)
        {
            // one side closed: the relay ends
        }
    }

    private static boolean contains(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
