package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.auth.HandshakeDescriptor;
import dev.splitkernel.verbs.auth.RawHandshake;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What only the tcp fabric has: bytes from strangers, and peers in other processes. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpFabricTest
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private TcpFabric server;
    private TcpFabric client;
    private MemoryRegion region;
    private String address;
    private Connection connection;

    @BeforeEach
    void start()
    {
        server = new TcpFabric(new FabricContext().fabric("tcp"));
        client = new TcpFabric(new FabricContext().fabric("tcp"));
        region = server.allocate(4096);
        address = server.listen("127.0.0.1:0", (opcode, request, offset, length, reply, replyOffset, capacity) ->
        {
            reply.putBytes(replyOffset, request, offset, length);
            return length;
        });
        connection = client.connect(address, TIMEOUT_NS);
    }

    @AfterEach
    void stop()
    {
        client.close();
        server.close();
    }

    private static byte[] header(final int frameLength, final int type, final int version)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(FrameDescriptor.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(FrameDescriptor.FRAME_LENGTH_OFFSET, frameLength);
        buffer.put(FrameDescriptor.TYPE_OFFSET, (byte)type);
        buffer.put(FrameDescriptor.VERSION_OFFSET, (byte)version);
        return buffer.array();
    }

    private void assertRefusedAndOthersServed(final byte[] bytes, final boolean closeAfterSending, final String what)
        throws Exception
    {
        final long malformedBefore = server.counters().get(FabricCounters.MALFORMED_FRAMES);
        final InetSocketAddress target = TcpFabric.parse(address);
        try (Socket raw = new Socket())
        {
            raw.connect(target, 2000);
            raw.setSoTimeout(5000);
            assertEquals(HandshakeDescriptor.ACCEPTED, RawHandshake.completeWithoutSecret(raw),
                what + ": handshake before the bad frame");
            final OutputStream out = raw.getOutputStream();
            out.write(bytes);
            out.flush();
            if (closeAfterSending)
            {
                raw.shutdownOutput();
            }
            final InputStream in = raw.getInputStream();
            try
            {
                assertEquals(-1, in.read(), what + ": the server should close the connection");
            }
            catch (final SocketTimeoutException ex)
            {
                throw new AssertionError(what + ": the server kept the connection open", ex);
            }
            catch (final java.net.SocketException ex)
            {
                // reset by the server: closed, as required
            }
        }
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (server.counters().get(FabricCounters.MALFORMED_FRAMES) == malformedBefore &&
            System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(1);
        }
        assertEquals(malformedBefore + 1, server.counters().get(FabricCounters.MALFORMED_FRAMES), what);

        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[16]);
        buffer.putInt(0, 7);
        assertEquals(4, connection.call(1, buffer, 0, 4, buffer, 8, 8, TIMEOUT_NS), what + ": other client served");
        assertEquals(7, buffer.getInt(8));
    }

    @Test
    void shouldRefuseMalformedFramesCountThemCloseThatConnectionAndServeOthers() throws Exception
    {
        assertRefusedAndOthersServed(header(5, FrameDescriptor.CALL_REQUEST, 1), false, "length below header");
        assertRefusedAndOthersServed(header(-1, FrameDescriptor.CALL_REQUEST, 1), false, "negative length");
        assertRefusedAndOthersServed(header(FrameDescriptor.HEADER_LENGTH + 64 * 1024 * 1024,
            FrameDescriptor.CALL_REQUEST, 1), false, "oversize length");
        assertRefusedAndOthersServed(header(FrameDescriptor.HEADER_LENGTH, 99, 1), false, "unknown type");
        assertRefusedAndOthersServed(header(FrameDescriptor.HEADER_LENGTH, FrameDescriptor.READ_RESPONSE, 1), false,
            "response type sent to a server");
        assertRefusedAndOthersServed(header(FrameDescriptor.HEADER_LENGTH, FrameDescriptor.SEND, 9), false,
            "unknown version");
        final byte[] truncated = new byte[FrameDescriptor.HEADER_LENGTH + 10];
        System.arraycopy(header(FrameDescriptor.HEADER_LENGTH + 100, FrameDescriptor.CALL_REQUEST, 1), 0, truncated,
            0, FrameDescriptor.HEADER_LENGTH);
        assertRefusedAndOthersServed(truncated, true, "truncated frame");
        assertRefusedAndOthersServed(new byte[] { 1, 2, 3 }, true, "truncated header");
    }

    @Test
    void shouldFailPendingAndLaterOperationsPromptlyWhenThePeerProcessIsKilled() throws Exception
    {
        final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        final List<String> command = new ArrayList<>();
        command.add(java.toString());
        final String jvmOptions = System.getProperty("splitkernel.projectDir");
        if (jvmOptions != null && Path.of(jvmOptions, "native-config", "jvm.options").toFile().isFile())
        {
            command.add("@" + Path.of(jvmOptions, "native-config", "jvm.options"));
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(TcpPeerServer.class.getName());
        final Process peer = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try
        {
            final BufferedReader lines = new BufferedReader(
                new InputStreamReader(peer.getInputStream(), StandardCharsets.US_ASCII));
            final String ready = lines.readLine();
            assertTrue(ready != null && ready.startsWith("READY "), "peer said: " + ready);
            final String[] fields = ready.split(" ");
            final Connection toPeer = client.connect(fields[1], TIMEOUT_NS);
            final MemoryRegion local = client.allocate(4096);
            assertEquals(Status.OK, toPeer.read(local, 0, Long.parseLong(fields[2]), Integer.parseInt(fields[3]),
                4096, TIMEOUT_NS));
            assertEquals((byte)100, local.buffer().getByte(100));

            final long callTimeoutNs = TimeUnit.SECONDS.toNanos(10);
            final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
            final Thread caller = new Thread(() ->
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[16]);
                result.set(toPeer.call(TcpPeerServer.OPCODE_BLOCK, buffer, 0, 4, buffer, 0, 16, callTimeoutNs));
            });
            caller.start();
            // Kill the peer once the call is pending: its request sent, the caller awaiting the reply's completion.
            final long waitingDeadlineNs = System.nanoTime() + TIMEOUT_NS;
            while (!awaitingCompletion(caller) && System.nanoTime() - waitingDeadlineNs < 0)
            {
                Thread.yield();
            }
            assertTrue(awaitingCompletion(caller), "the call never got as far as awaiting its reply");
            final long killedNs = System.nanoTime();
            peer.destroyForcibly();
            caller.join(TimeUnit.NANOSECONDS.toMillis(callTimeoutNs) + 2_000);
            final long failedAfterNs = System.nanoTime() - killedNs;
            assertEquals(Status.NOT_CONNECTED, result.get(), Status.describe(result.get()));
            assertTrue(failedAfterNs < TimeUnit.SECONDS.toNanos(3), "noticed the death after " + failedAfterNs
                + " ns; the call's timeout was 10 s");
            assertEquals(Status.NOT_CONNECTED, toPeer.read(local, 0, Long.parseLong(fields[2]),
                Integer.parseInt(fields[3]), 8, TIMEOUT_NS));
        }
        finally
        {
            peer.destroyForcibly();
            peer.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldNameTheFixForABadAddress()
    {
        final var ex = org.junit.jupiter.api.Assertions.assertThrows(dev.splitkernel.verbs.FabricException.class,
            () -> client.connect("nonsense", TIMEOUT_NS));
        assertTrue(ex.getMessage().contains("host:port"), ex.getMessage());
    }

    @Test
    void shouldLetAClientInThisProcessHintItsServerEndAndForgetTheEndWhenItCloses()
    {
        final byte[] bytes = "hint".getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer request = new UnsafeBuffer(bytes);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[16]);
        assertEquals(bytes.length, connection.call(7, request, 0, bytes.length, reply, 0, 16, TIMEOUT_NS));

        final String key = LocalPeers.keyAtClient(((TcpConnection)connection).channel());
        final TcpServerConnection end = LocalPeers.find(key);
        assertTrue(end != null, "the server end of " + key + " is registered for its client in this process");
        if (!end.isHinted())
        {
            // The server registers its end just after the handshake, so the first send may have looked before; the
            // end served that call, so it is registered now and the next send must find it.
            assertEquals(bytes.length, connection.call(7, request, 0, bytes.length, reply, 0, 16, TIMEOUT_NS));
        }
        assertTrue(end.isHinted(), "the client said when its frame was on its way");
        // Served by hints from now on, and the same answers as before.
        for (int i = 0; i < 100; i++)
        {
            assertEquals(bytes.length, connection.call(7, request, 0, bytes.length, reply, 0, 16, TIMEOUT_NS));
        }

        connection.close();
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (LocalPeers.find(key) != null && System.nanoTime() - deadlineNs < 0)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertEquals(null, LocalPeers.find(key), "a closed connection's server end is forgotten");
    }

    private static boolean awaitingCompletion(final Thread caller)
    {
        for (final StackTraceElement frame : caller.getStackTrace())
        {
            if (frame.getClassName().equals(Completion.class.getName()) && frame.getMethodName().equals("await"))
            {
                return true;
            }
        }
        return false;
    }
}
