package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.auth.LogCapture;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cluster authentication on the local fabric: the same proof, computed across the in-JVM connection. */
class LocalAuthenticationTest
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final byte[] SECRET = "local cluster secret".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OTHER_SECRET = "some other secret".getBytes(StandardCharsets.US_ASCII);

    private final LocalNetwork network = new LocalNetwork();
    private final List<LocalFabric> fabrics = new ArrayList<>();
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
        fabrics.forEach(LocalFabric::close);
    }

    private LocalFabric fabric(final byte[] secret)
    {
        final LocalFabric fabric = new LocalFabric(new FabricContext().fabric("local").secret(secret), network);
        fabrics.add(fabric);
        return fabric;
    }

    private static void assertEcho(final Connection connection)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[16]);
        buffer.putInt(0, 9);
        assertEquals(4, connection.call(1, buffer, 0, 4, buffer, 8, 8, TIMEOUT_NS));
        assertEquals(9, buffer.getInt(8));
    }

    @Test
    void shouldConnectAndServeWhenBothShareTheSecret()
    {
        final LocalFabric server = fabric(SECRET);
        server.listen("memory-0", echo);
        assertEcho(fabric(SECRET).connect("memory-0", TIMEOUT_NS));
        assertEquals(1, handlerCalls.get());
        assertEquals(0, server.counters().get(FabricCounters.AUTH_FAILURES));
    }

    @Test
    void shouldRefuseAWrongSecretOnBothSidesCountItAndReportItOnce()
    {
        final LocalFabric server = fabric(SECRET);
        server.listen("memory-0", echo);
        final LocalFabric client = fabric(OTHER_SECRET);
        try (LogCapture log = new LogCapture())
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                final FabricException ex = assertThrows(FabricException.class,
                    () -> client.connect("memory-0", TIMEOUT_NS));
                assertTrue(ex.getMessage().contains("authentication failed"), ex.getMessage());
                assertTrue(ex.getMessage().contains("does not share this cluster's secret"), ex.getMessage());
            }
            assertEquals(1, log.linesContaining("local fabric: authentication failed: the peer at memory-0"));
            assertEquals(1, log.linesContaining("refused our proof"));
        }
        assertEquals(3, client.counters().get(FabricCounters.AUTH_FAILURES));
        assertEquals(3, server.counters().get(FabricCounters.AUTH_FAILURES));
        assertEquals(0, handlerCalls.get());
    }

    @Test
    void shouldRefuseAFabricWithoutASecretAtAListenerWithOne()
    {
        final LocalFabric server = fabric(SECRET);
        server.listen("memory-0", echo);
        final FabricException ex = assertThrows(FabricException.class,
            () -> fabric(null).connect("memory-0", TIMEOUT_NS));
        assertTrue(ex.getMessage().contains("refused us"), ex.getMessage());
        assertEquals(1, server.counters().get(FabricCounters.AUTH_FAILURES));
        assertEquals(0, handlerCalls.get());
    }

    @Test
    void shouldLetAnyFabricConnectToAListenerWithoutASecretButNotTrustIt()
    {
        fabric(null).listen("memory-0", echo);
        assertEcho(fabric(null).connect("memory-0", TIMEOUT_NS));
        final FabricException ex = assertThrows(FabricException.class,
            () -> fabric(SECRET).connect("memory-0", TIMEOUT_NS));
        assertTrue(ex.getMessage().contains("has no cluster secret"), ex.getMessage());
        assertEquals(1, handlerCalls.get());
    }
}
