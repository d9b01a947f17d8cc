package dev.splitkernel.monitor.status;

import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObservedFabricTest
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    /** N calls are N round trips in the caller's histogram, N sent and N served by opcode; one-way sends only count. */
    @Test
    void shouldCountEachCallOnceInTheRpcCallHistogramAndEachMessageByOpcode() throws InterruptedException
    {
        final int calls = 37;
        final int sends = 5;
        final LocalNetwork network = new LocalNetwork();
        final MonitorStatus server = MonitorStatus.inMemory("server", true);
        final MonitorStatus client = MonitorStatus.inMemory("client", true);
        final CountDownLatch received = new CountDownLatch(sends);
        try (LocalFabric serverFabric = new LocalFabric(new FabricContext().fabric("local"), network);
            LocalFabric clientFabric = new LocalFabric(new FabricContext().fabric("local"), network))
        {
            new ObservedFabric(serverFabric, server, Opcodes::describe).listen("observed-server",
                (opcode, request, offset, length, reply, replyOffset, replyCapacity) ->
                {
                    if (opcode == Opcodes.LOAD_REPORT)
                    {
                        received.countDown();
                        return 0;
                    }
                    reply.putInt(replyOffset, request.getInt(offset) + 1);
                    return Integer.BYTES;
                });
            final ObservedFabric observed = new ObservedFabric(clientFabric, client, Opcodes::describe);
            final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
            try (Connection connection = observed.connect("observed-server", TIMEOUT_NS))
            {
                for (int i = 0; i < calls; i++)
                {
                    request.putInt(0, i);
                    assertEquals(Integer.BYTES, connection.call(Opcodes.LINE_FETCH, request, 0, Integer.BYTES, reply,
                        0, reply.capacity(), TIMEOUT_NS));
                    assertEquals(i + 1, reply.getInt(0));
                }
                for (int i = 0; i < sends; i++)
                {
                    assertEquals(Status.OK, connection.send(Opcodes.LOAD_REPORT, request, 0, Integer.BYTES));
                }
                assertTrue(received.await(10, TimeUnit.SECONDS), "the one-way messages arrived");
            }
        }
        assertEquals(calls, client.histogram(StatusFileDescriptor.RPC_CALL_LATENCY).snapshot().getTotalCount());
        assertEquals(calls, value(client, "sent: LINE_FETCH"));
        assertEquals(sends, value(client, "sent: LOAD_REPORT"));
        assertEquals(calls, value(server, "served: LINE_FETCH"));
        assertEquals(sends, value(server, "served: LOAD_REPORT"));
        assertEquals(calls + sends,
            server.histogram(StatusFileDescriptor.RPC_LATENCY).snapshot().getTotalCount());
        assertEquals(0, client.histogram(StatusFileDescriptor.RPC_LATENCY).snapshot().getTotalCount());
        assertEquals(0, server.histogram(StatusFileDescriptor.RPC_CALL_LATENCY).snapshot().getTotalCount());
    }

    /** An untimed opcode (the data path, timed as misses) is counted on both sides and timed on neither. */
    @Test
    void shouldCountButNotTimeUntimedOpcodesOnEitherSide()
    {
        final LocalNetwork network = new LocalNetwork();
        final MonitorStatus server = MonitorStatus.inMemory("server", true);
        final MonitorStatus client = MonitorStatus.inMemory("client", true);
        try (LocalFabric serverFabric = new LocalFabric(new FabricContext().fabric("local"), network);
            LocalFabric clientFabric = new LocalFabric(new FabricContext().fabric("local"), network))
        {
            new ObservedFabric(serverFabric, server, Opcodes::describe, Opcodes.LINE_FETCH, Opcodes.LINE_WRITE_BACK)
                .listen("untimed-server", (opcode, request, offset, length, reply, replyOffset, replyCapacity) ->
                {
                    reply.putInt(replyOffset, opcode);
                    return Integer.BYTES;
                });
            final ObservedFabric observed = new ObservedFabric(clientFabric, client, Opcodes::describe,
                Opcodes.LINE_FETCH, Opcodes.LINE_WRITE_BACK);
            final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
            try (Connection connection = observed.connect("untimed-server", TIMEOUT_NS))
            {
                for (final int opcode : new int[] {Opcodes.LINE_FETCH, Opcodes.LINE_WRITE_BACK, Opcodes.MMAP,
                    Opcodes.LINE_FETCH, Opcodes.MUNMAP})
                {
                    assertEquals(Integer.BYTES, connection.call(opcode, request, 0, Integer.BYTES, reply, 0,
                        reply.capacity(), TIMEOUT_NS));
                    assertEquals(opcode, reply.getInt(0));
                }
            }
        }
        assertEquals(2, client.histogram(StatusFileDescriptor.RPC_CALL_LATENCY).snapshot().getTotalCount(),
            "only MMAP and MUNMAP are timed as calls");
        assertEquals(2, server.histogram(StatusFileDescriptor.RPC_LATENCY).snapshot().getTotalCount(),
            "only MMAP and MUNMAP are timed as served");
        for (final MonitorStatus side : new MonitorStatus[] {client, server})
        {
            final String prefix = side == client ? "sent: " : "served: ";
            assertEquals(2, value(side, prefix + "LINE_FETCH"));
            assertEquals(1, value(side, prefix + "LINE_WRITE_BACK"));
            assertEquals(1, value(side, prefix + "MMAP"));
        }
    }

    /** An untimed opcode must be a real one. */
    @Test
    void shouldRefuseANegativeUntimedOpcode()
    {
        final MonitorStatus client = MonitorStatus.inMemory("client", true);
        try (LocalFabric fabric = new LocalFabric(new FabricContext().fabric("local"), new LocalNetwork()))
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new ObservedFabric(fabric, client, Opcodes::describe, -1));
            assertTrue(ex.getMessage().contains("-1"), ex.getMessage());
        }
    }

    private static long value(final MonitorStatus status, final String label)
    {
        final long[] found = {-1};
        status.countersManager().forEach((value, id, l) ->
        {
            if (l.equals(label))
            {
                found[0] = value;
            }
        });
        return found[0];
    }
}
