package dev.splitkernel.verbs;

import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import dev.splitkernel.verbs.tcp.TcpFabric;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serverWorkers = N: never more than N handlers at once, and every request still answered. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerWorkersTest
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    @Test
    void shouldRunAtMostTwoHandlersAtOnceOnTcp() throws Exception
    {
        shouldRunAtMostTwoHandlersAtOnce(ctx -> new TcpFabric(ctx), "127.0.0.1:0", "tcp");
    }

    @Test
    void shouldRunAtMostTwoHandlersAtOnceOnLocal() throws Exception
    {
        final LocalNetwork network = new LocalNetwork();
        shouldRunAtMostTwoHandlersAtOnce(ctx -> new LocalFabric(ctx, network), "workers", "local");
    }

    private void shouldRunAtMostTwoHandlersAtOnce(
        final Function<FabricContext, Fabric> factory, final String listenAddress, final String name) throws Exception
    {
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger maxActive = new AtomicInteger();
        final int threads = 6;
        final int callsPerThread = 20;
        try (Fabric server = factory.apply(new FabricContext().fabric(name).serverWorkers(2));
            Fabric client = factory.apply(new FabricContext().fabric(name)))
        {
            final String address = server.listen(listenAddress, (opcode, request, offset, length, reply, ro, cap) ->
            {
                final int now = active.incrementAndGet();
                maxActive.accumulateAndGet(now, Math::max);
                final long untilNs = System.nanoTime() + 200_000;
                while (System.nanoTime() - untilNs < 0)
                {
                    Thread.onSpinWait();
                }
                active.decrementAndGet();
                reply.putInt(ro, request.getInt(offset) + 1);
                return 4;
            });
            final List<Thread> callers = new ArrayList<>();
            final CountDownLatch done = new CountDownLatch(threads);
            final AtomicInteger answered = new AtomicInteger();
            for (int t = 0; t < threads; t++)
            {
                final Connection connection = client.connect(address, TIMEOUT_NS);
                final Thread caller = new Thread(() ->
                {
                    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8]);
                    for (int i = 0; i < callsPerThread; i++)
                    {
                        buffer.putInt(0, i);
                        if (connection.call(1, buffer, 0, 4, buffer, 4, 4, TIMEOUT_NS) == 4 && buffer.getInt(4) == i + 1)
                        {
                            answered.incrementAndGet();
                        }
                    }
                    done.countDown();
                });
                callers.add(caller);
                caller.start();
            }
            assertTrue(done.await(50, TimeUnit.SECONDS));
            assertEquals(threads * callsPerThread, answered.get());
            assertTrue(maxActive.get() <= 2, "handlers at once: " + maxActive.get());
        }
    }
}
