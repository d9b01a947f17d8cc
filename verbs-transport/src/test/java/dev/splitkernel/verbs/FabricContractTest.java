package dev.splitkernel.verbs;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every fabric keeps. A subclass says how to make a fabric and a listen address; every test runs a
 * server fabric and a client fabric connected to it.
 * <p>
 * Deadlines are settings, so a slow machine (an emulated CPU in a Soft-RoCE guest) can raise them: the connect uses
 * the fabric's {@link FabricContext#connectTimeoutNs()}, each operation waits {@link #TIMEOUT_NS}
 * ({@value #TIMEOUT_PROP_NAME}), and each test's limit is JUnit's
 * {@code junit.jupiter.execution.timeout.testable.method.default} (junit-platform.properties).
 */
public abstract class FabricContractTest
{
    protected static final int OPCODE_ECHO = 1;
    protected static final int OPCODE_ONE_WAY = 2;
    protected static final int OPCODE_BLOCK = 3;
    protected static final int OPCODE_THROW = 4;
    protected static final int REGION_BYTES = 2 * 1024 * 1024 + 8192;
    /** How long a test waits for one operation, in nanoseconds (default 5 s). */
    public static final String TIMEOUT_PROP_NAME = "splitkernel.test.timeoutNs";
    protected static final long TIMEOUT_NS = Long.getLong(TIMEOUT_PROP_NAME, TimeUnit.SECONDS.toNanos(5));

    protected Fabric server;
    protected Fabric client;
    protected MemoryRegion serverRegion;
    protected String address;
    protected Connection connection;

    protected final AtomicInteger oneWayCount = new AtomicInteger();
    protected final AtomicLong oneWaySum = new AtomicLong();
    protected final CountDownLatch blockEntered = new CountDownLatch(1);
    protected final CountDownLatch blockRelease = new CountDownLatch(1);

    /** A context for this fabric; tests may change it before use. */
    protected abstract FabricContext newContext();

    /** A fabric made from {@code ctx}. */
    protected abstract Fabric newFabric(FabricContext ctx);

    /** An address the server fabric can listen at (unique per call). */
    protected abstract String listenAddress();

    @BeforeEach
    void startFabrics()
    {
        final FabricContext clientContext = newContext();
        server = newFabric(newContext());
        client = newFabric(clientContext);
        serverRegion = server.allocate(REGION_BYTES);
        address = server.listen(listenAddress(), this::onRequest);
        connection = client.connect(address, clientContext.connectTimeoutNs());
    }

    @AfterEach
    void closeFabrics()
    {
        blockRelease.countDown();
        if (client != null)
        {
            client.close();
        }
        if (server != null)
        {
            server.close();
        }
    }

    protected int onRequest(
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
            case OPCODE_ONE_WAY:
                oneWaySum.addAndGet(request.getInt(offset));
                oneWayCount.incrementAndGet();
                return 0;
            case OPCODE_BLOCK:
                blockEntered.countDown();
                try
                {
                    blockRelease.await(6 * TIMEOUT_NS, TimeUnit.NANOSECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                return 0;
            case OPCODE_THROW:
                throw new IllegalStateException("handler failure for the test");
            default:
                return Status.UNKNOWN_OPCODE;
        }
    }

    private static void fill(final UnsafeBuffer buffer, final int offset, final int length, final long seed)
    {
        final Random random = new Random(seed);
        for (int i = 0; i < length; i++)
        {
            buffer.putByte(offset + i, (byte)random.nextInt());
        }
    }

    private static void assertSameBytes(
        final UnsafeBuffer expected, final int expectedOffset, final UnsafeBuffer actual, final int actualOffset,
        final int length, final String what)
    {
        for (int i = 0; i < length; i++)
        {
            if (expected.getByte(expectedOffset + i) != actual.getByte(actualOffset + i))
            {
                throw new AssertionError(what + ": first difference at byte " + i + " of " + length);
            }
        }
    }

    @Test
    void shouldWriteAndReadBackEverySizeFromOneByteToOneMebibyteAtManyOffsets()
    {
        final MemoryRegion source = client.allocate(1024 * 1024 + 64);
        final MemoryRegion sink = client.allocate(1024 * 1024 + 64);
        final int[] sizes = { 1, 2, 7, 8, 63, 64, 100, 1000, 4095, 4096, 4097, 65_536, 65_539, 300_000, 1024 * 1024 };
        final int[] remoteOffsets = { 0, 1, 13, 4093, 65_536, REGION_BYTES - 1024 * 1024 - 1 };
        long seed = 1;
        for (final int size : sizes)
        {
            for (final int remoteOffset : remoteOffsets)
            {
                final int localOffset = (int)(seed % 61);
                fill(source.buffer(), localOffset, size, seed++);
                final long remote = serverRegion.address() + remoteOffset;
                final String what = "size " + size + " at remote offset " + remoteOffset;
                assertEquals(Status.OK, connection.write(source, localOffset, remote, serverRegion.rkey(), size,
                    TIMEOUT_NS), what);
                assertSameBytes(source.buffer(), localOffset, serverRegion.buffer(), remoteOffset, size,
                    "target memory after WRITE of " + what);
                final int sinkOffset = 61 - localOffset;
                sink.buffer().setMemory(sinkOffset, size, (byte)0x5A);
                assertEquals(Status.OK, connection.read(sink, sinkOffset, remote, serverRegion.rkey(), size,
                    TIMEOUT_NS), what);
                assertSameBytes(source.buffer(), localOffset, sink.buffer(), sinkOffset, size, "READ of " + what);
            }
        }
    }

    @Test
    void shouldServeConcurrentOperationsFromSeveralThreads() throws Exception
    {
        final int threads = 4;
        final int rounds = 300;
        final int slice = 8192;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                final int id = t;
                futures.add(pool.submit(() ->
                {
                    final MemoryRegion local = client.allocate(2 * slice);
                    final UnsafeBuffer request = new UnsafeBuffer(new byte[64]);
                    final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
                    for (int r = 0; r < rounds; r++)
                    {
                        final int size = 1 + (r * 97 + id * 13) % slice;
                        final long remote = serverRegion.address() + (long)id * slice;
                        fill(local.buffer(), 0, size, id * 100_000L + r);
                        assertEquals(Status.OK, connection.write(local, 0, remote, serverRegion.rkey(), size,
                            TIMEOUT_NS));
                        assertEquals(Status.OK, connection.read(local, slice, remote, serverRegion.rkey(), size,
                            TIMEOUT_NS));
                        assertSameBytes(local.buffer(), 0, local.buffer(), slice, size, "thread " + id);
                        request.putLong(0, id * 1_000_000L + r);
                        assertEquals(8, connection.call(OPCODE_ECHO, request, 0, 8, reply, 0, 64, TIMEOUT_NS));
                        assertEquals(id * 1_000_000L + r, reply.getLong(0));
                    }
                    return null;
                }));
            }
            for (final Future<?> future : futures)
            {
                // Ten operation deadlines (50 s by default): a setting, which a guest on an emulated CPU raises.
                future.get(10 * TIMEOUT_NS, TimeUnit.NANOSECONDS);
            }
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void shouldCompletePostedOperations()
    {
        final int count = 16;
        final int size = 4096;
        final MemoryRegion local = client.allocate(count * size * 2);
        final Completion[] completions = new Completion[count];
        for (int i = 0; i < count; i++)
        {
            completions[i] = new Completion();
            fill(local.buffer(), i * size, size, 77 + i);
            assertEquals(Status.OK, connection.postWrite(local, i * size, serverRegion.address() + (long)i * size,
                serverRegion.rkey(), size, completions[i]));
        }
        for (final Completion completion : completions)
        {
            assertEquals(Status.OK, completion.await(TIMEOUT_NS));
            assertTrue(completion.isDone());
        }
        for (int i = 0; i < count; i++)
        {
            assertEquals(Status.OK, connection.postRead(local, (count + i) * size,
                serverRegion.address() + (long)i * size, serverRegion.rkey(), size, completions[i]));
        }
        for (final Completion completion : completions)
        {
            assertEquals(Status.OK, completion.await(TIMEOUT_NS));
        }
        assertSameBytes(local.buffer(), 0, local.buffer(), count * size, count * size, "posted READs");
    }

    @Test
    void shouldScatterACallReplyIntoItsHeaderAndItsData()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[4096 + 24]);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[64]);
        final UnsafeBuffer data = new UnsafeBuffer(new byte[8192]);
        for (final int length : new int[] { 8, 24, 25, 24 + 4096 })
        {
            fill(request, 0, length, length);
            header.setMemory(0, 64, (byte)0);
            data.setMemory(0, 8192, (byte)0);
            assertEquals(length, connection.call(OPCODE_ECHO, request, 0, length, header, 8, 24, data, 100, 4096,
                TIMEOUT_NS), "scattered echo of " + length);
            assertSameBytes(request, 0, header, 8, Math.min(length, 24), "header of " + length);
            if (length > 24)
            {
                assertSameBytes(request, 24, data, 100, length - 24, "data of " + length);
            }
            assertEquals(0, data.getByte(99), "nothing before the data");
            assertEquals(0, header.getByte(8 + 24), "nothing after the header");
        }
        assertEquals(Status.TOO_LARGE, connection.call(OPCODE_ECHO, request, 0, 24 + 4096, header, 8, 24, data, 0,
            4095, TIMEOUT_NS), "more data than the caller has room for");
        assertEquals(Status.OUT_OF_BOUNDS, connection.call(OPCODE_ECHO, request, 0, 8, header, 8, 24, data, 8000,
            4096, TIMEOUT_NS), "data room outside the caller's buffer");
        assertEquals(4, connection.call(OPCODE_ECHO, request, 0, 4, header, 0, 24, TIMEOUT_NS), "still serving");
    }

    @Test
    void shouldRoundTripRequestsAndDeliverOneWayMessages()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[4096]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[8192]);
        for (final int length : new int[] { 0, 1, 128, 4096 })
        {
            fill(request, 0, length, length);
            reply.setMemory(16, length, (byte)0);
            assertEquals(length, connection.call(OPCODE_ECHO, request, 0, length, reply, 16, 4096, TIMEOUT_NS));
            assertSameBytes(request, 0, reply, 16, length, "echo of " + length);
        }

        long expectedSum = 0;
        for (int i = 1; i <= 100; i++)
        {
            request.putInt(0, i);
            expectedSum += i;
            assertEquals(Status.OK, connection.send(OPCODE_ONE_WAY, request, 0, 4));
        }
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (oneWayCount.get() < 100 && System.nanoTime() - deadlineNs < 0)
        {
            Thread.yield();
        }
        assertEquals(100, oneWayCount.get());
        assertEquals(expectedSum, oneWaySum.get());
        assertTrue(client.counters().get(FabricCounters.CALLS) >= 4 || "rdma".equals(client.name()));
    }

    @Test
    void shouldAnswerUnknownOpcodeAndFailedHandlerWithStatusAndKeepServing()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[16]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[16]);
        assertEquals(Status.UNKNOWN_OPCODE, connection.call(999, request, 0, 4, reply, 0, 16, TIMEOUT_NS));
        assertEquals(Status.HANDLER_ERROR, connection.call(OPCODE_THROW, request, 0, 4, reply, 0, 16, TIMEOUT_NS));
        request.putInt(0, 42);
        assertEquals(4, connection.call(OPCODE_ECHO, request, 0, 4, reply, 0, 16, TIMEOUT_NS));
        assertEquals(42, reply.getInt(0));
        assertEquals(1, server.counters().get(FabricCounters.HANDLER_ERRORS));
    }

    @Test
    void shouldRefuseReplyLargerThanCallersCapacityAndOversizeRequest()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[2 * 1024 * 1024]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[16]);
        assertEquals(Status.TOO_LARGE, connection.call(OPCODE_ECHO, request, 0, 100, reply, 0, 16, TIMEOUT_NS));
        final int max = newContext().conclude().maxMessageBytes();
        assertEquals(Status.TOO_LARGE, connection.call(OPCODE_ECHO, request, 0, max + 1, reply, 0, 16, TIMEOUT_NS));
        assertEquals(Status.OUT_OF_BOUNDS, connection.call(OPCODE_ECHO, request, 0, 4, reply, 8, 16, TIMEOUT_NS));
        assertEquals(4, connection.call(OPCODE_ECHO, request, 0, 4, reply, 0, 16, TIMEOUT_NS));
    }

    @Test
    void shouldRefuseBadRkeyAndOutOfBoundsAccessAndKeepServing()
    {
        final MemoryRegion local = client.allocate(8192);
        final long base = serverRegion.address();
        final int rkey = serverRegion.rkey();
        assertEquals(Status.BAD_RKEY, connection.read(local, 0, base, rkey ^ 0x10000, 64, TIMEOUT_NS));
        assertEquals(Status.BAD_RKEY, connection.write(local, 0, base, rkey + 1, 64, TIMEOUT_NS));
        assertEquals(Status.OUT_OF_BOUNDS, connection.read(local, 0, base - 1, rkey, 64, TIMEOUT_NS));
        assertEquals(Status.OUT_OF_BOUNDS, connection.read(local, 0, base + REGION_BYTES - 63, rkey, 64, TIMEOUT_NS));
        assertEquals(Status.OUT_OF_BOUNDS, connection.write(local, 0, base + REGION_BYTES, rkey, 1, TIMEOUT_NS));
        assertEquals(Status.OUT_OF_BOUNDS, connection.read(local, 8190, base, rkey, 64, TIMEOUT_NS));
        assertEquals(Status.OUT_OF_BOUNDS, connection.read(local, 0, base, rkey, -1, TIMEOUT_NS));

        final Completion completion = new Completion();
        final int posted = connection.postRead(local, 0, base, rkey + 1, 64, completion);
        assertTrue(posted == Status.BAD_RKEY || completion.await(TIMEOUT_NS) == Status.BAD_RKEY);

        // Counted where it is refused: at the target on tcp and local, at the initiator on rdma (the target's CPU
        // never sees a one-sided access there).
        assertTrue(refusals(FabricCounters.BAD_RKEY) >= 2, server.counters() + " / " + client.counters());
        assertTrue(refusals(FabricCounters.OUT_OF_BOUNDS) >= 3, server.counters() + " / " + client.counters());

        serverRegion.buffer().putLong(REGION_BYTES - 8, 0x1234_5678_9ABC_DEF0L);
        assertEquals(Status.OK, connection.read(local, 0, base + REGION_BYTES - 8, rkey, 8, TIMEOUT_NS));
        assertEquals(0x1234_5678_9ABC_DEF0L, local.buffer().getLong(0));

        server.deregister(serverRegion);
        assertEquals(Status.BAD_RKEY, connection.read(local, 0, base, rkey, 8, TIMEOUT_NS));
    }

    private long refusals(final int counterId)
    {
        return server.counters().get(counterId) + client.counters().get(counterId);
    }

    @Test
    void shouldFailAnOperationWithinItsTimeoutWhenThePeerDiesDuringIt() throws Exception
    {
        final long timeoutNs = TimeUnit.SECONDS.toNanos(3);
        final UnsafeBuffer request = new UnsafeBuffer(new byte[16]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[16]);
        final AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
        final AtomicLong elapsedNs = new AtomicLong();
        final Thread caller = new Thread(() ->
        {
            final long startNs = System.nanoTime();
            result.set(connection.call(OPCODE_BLOCK, request, 0, 4, reply, 0, 16, timeoutNs));
            elapsedNs.set(System.nanoTime() - startNs);
        });
        caller.start();
        assertTrue(blockEntered.await(2 * TIMEOUT_NS, TimeUnit.NANOSECONDS), "the handler was never reached");
        server.close();
        // The local fabric runs the handler in the caller's thread: it must come back for the caller to see the death.
        blockRelease.countDown();
        caller.join(TimeUnit.NANOSECONDS.toMillis(timeoutNs) + 2_000);
        assertFalse(caller.isAlive(), "the call hung past its timeout");
        assertTrue(result.get() == Status.NOT_CONNECTED || result.get() == Status.TIMEOUT,
            "call returned " + Status.describe(result.get()));
        assertTrue(elapsedNs.get() < timeoutNs + TimeUnit.SECONDS.toNanos(1), "took " + elapsedNs.get() + " ns");

        final MemoryRegion local = client.allocate(64);
        final long afterStartNs = System.nanoTime();
        final int later = connection.read(local, 0, serverRegion.address(), serverRegion.rkey(), 8, timeoutNs);
        assertTrue(later == Status.NOT_CONNECTED || later == Status.TIMEOUT, "later READ: " + Status.describe(later));
        assertTrue(System.nanoTime() - afterStartNs < timeoutNs + TimeUnit.SECONDS.toNanos(1));
    }

    @Test
    void shouldFailLaterOperationsWithNotConnectedOnceThePeerClosed() throws Exception
    {
        final MemoryRegion local = client.allocate(64);
        assertEquals(Status.OK, connection.read(local, 0, serverRegion.address(), serverRegion.rkey(), 8, TIMEOUT_NS));
        server.close();
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        int status;
        do
        {
            status = connection.read(local, 0, serverRegion.address(), serverRegion.rkey(), 8, TIMEOUT_NS);
            if (status == Status.OK)
            {
                Thread.sleep(10);
            }
        }
        while (status == Status.OK && System.nanoTime() - deadlineNs < 0);
        assertEquals(Status.NOT_CONNECTED, status);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[16]);
        assertEquals(Status.NOT_CONNECTED, connection.call(OPCODE_ECHO, buffer, 0, 4, buffer, 0, 16, TIMEOUT_NS));
        assertFalse(connection.isConnected());
        assertTrue(client.counters().get(FabricCounters.NOT_CONNECTED) >= 1);
    }

    @Test
    void shouldRejectConnectToAnAddressWhereNothingListens()
    {
        final String nowhere = unusedAddress(listenAddress());
        final FabricException ex = org.junit.jupiter.api.Assertions.assertThrows(FabricException.class,
            () -> client.connect(nowhere, TimeUnit.MILLISECONDS.toNanos(300)));
        assertTrue(ex.getMessage().contains(nowhere), ex.getMessage());
    }

    /** An address where nothing listens; by default the given fresh listen address. */
    protected String unusedAddress(final String freshListenAddress)
    {
        return freshListenAddress;
    }
}
