package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.VirtualClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two timing modes of the local fabric: inject makes the caller wait the modelled cost, account charges the
 * same cost to the caller's virtual clock and does not wait. A latency of 20 ms per operation makes either
 * unmistakable on any machine.
 */
class LocalTimingModeTest
{
    private static final long LATENCY_NS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);

    private final LocalNetwork network = new LocalNetwork();
    private final List<LocalFabric> fabrics = new ArrayList<>();

    @AfterEach
    void closeAll()
    {
        fabrics.forEach(LocalFabric::close);
    }

    private Connection connect(final String mode)
    {
        return connect(mode, LATENCY_NS, 0);
    }

    private Connection connect(final String mode, final long latencyNs, final long bandwidthBytesPerSecond)
    {
        final LocalFabric server = new LocalFabric(new FabricContext().fabric("local"), network);
        fabrics.add(server);
        server.listen("memory-" + mode, (opcode, request, offset, length, reply, replyOffset, capacity) -> 0);
        final LocalFabric client = new LocalFabric(new FabricContext().fabric("local").opLatencyNs(latencyNs)
            .rpcLatencyNs(latencyNs).bandwidthBytesPerSecond(bandwidthBytesPerSecond).timingMode(mode), network);
        fabrics.add(client);
        return client.connect("memory-" + mode, TIMEOUT_NS);
    }

    @Test
    void shouldChargeTheVirtualClockWithoutWaitingInAccountMode()
    {
        final Connection connection = connect("account");
        final MemoryRegion remote = fabrics.get(0).allocate(4096);
        final MemoryRegion local = fabrics.get(1).allocate(4096);
        final long stall0 = VirtualClock.stallNs();
        final long modelled0 = VirtualClock.modelledNs();
        final long start = System.nanoTime();
        for (int i = 0; i < 10; i++)
        {
            assertEquals(0, connection.read(local, 0, remote.address(), remote.rkey(), 4096, TIMEOUT_NS));
        }
        assertEquals(0, connection.call(1, new UnsafeBuffer(new byte[8]), 0, 8, new UnsafeBuffer(new byte[8]), 0, 8,
            TIMEOUT_NS));
        final long elapsed = System.nanoTime() - start;
        final long stall = VirtualClock.stallNs() - stall0;
        assertTrue(elapsed < 5 * LATENCY_NS, "account mode waited " + elapsed + " ns for 11 operations");
        // Each read is charged its latency less the time the copy took; the call its full latency.
        assertTrue(stall > 11 * LATENCY_NS - elapsed && stall <= 11 * LATENCY_NS, "stall " + stall + " ns");
        // The modelled time is the model's full cost, exactly, however long the copies took.
        assertEquals(11 * LATENCY_NS, VirtualClock.modelledNs() - modelled0);
    }

    @Test
    void shouldWaitAndChargeNothingInInjectMode()
    {
        final Connection connection = connect("inject");
        final MemoryRegion remote = fabrics.get(0).allocate(4096);
        final MemoryRegion local = fabrics.get(1).allocate(4096);
        final long stall0 = VirtualClock.stallNs();
        final long start = System.nanoTime();
        for (int i = 0; i < 3; i++)
        {
            assertEquals(0, connection.read(local, 0, remote.address(), remote.rkey(), 4096, TIMEOUT_NS));
        }
        assertTrue(System.nanoTime() - start >= 3 * LATENCY_NS);
        assertEquals(stall0, VirtualClock.stallNs());
    }

    @Test
    void shouldChargeBytesOverTheBandwidthInAccountMode()
    {
        // No latency and 100 MB/s: 10 ns per byte, so a 64 KB READ costs 655 us and a 4 KB one 41 us.
        final Connection connection = connect("account", 0, 100_000_000L);
        final MemoryRegion remote = fabrics.get(0).allocate(65_536);
        final MemoryRegion local = fabrics.get(1).allocate(65_536);
        final long smallNs = 4_096 * 10L;
        final long largeNs = 65_536 * 10L;
        for (final long bytesCost : new long[]{smallNs, largeNs})
        {
            final int bytes = (int)(bytesCost / 10);
            final long stall0 = VirtualClock.stallNs();
            final long modelled0 = VirtualClock.modelledNs();
            final long start = System.nanoTime();
            assertEquals(0, connection.read(local, 0, remote.address(), remote.rkey(), bytes, TIMEOUT_NS));
            final long elapsed = System.nanoTime() - start;
            final long stall = VirtualClock.stallNs() - stall0;
            assertEquals(bytesCost, VirtualClock.modelledNs() - modelled0, bytes + " B: modelled time");
            // Charged its cost less the time the copy took.
            assertTrue(stall <= bytesCost && stall >= bytesCost - elapsed,
                bytes + " B: stall " + stall + " ns, cost " + bytesCost + " ns, elapsed " + elapsed + " ns");
        }
        // An RPC pays both directions' bytes: 128 B out, 128 B back.
        final long stall0 = VirtualClock.stallNs();
        assertEquals(0, connection.call(1, new UnsafeBuffer(new byte[128]), 0, 128, new UnsafeBuffer(new byte[128]), 0,
            128, TIMEOUT_NS));
        assertEquals(128 * 10L, VirtualClock.stallNs() - stall0, "the echo handler replies 0 bytes: 128 B out only");
    }

    @Test
    void shouldWaitBytesOverTheBandwidthInInjectMode()
    {
        // No latency and 10 MB/s: a 64 KB READ waits 6.5 ms, however fast the copy.
        final Connection connection = connect("inject", 0, 10_000_000L);
        final MemoryRegion remote = fabrics.get(0).allocate(65_536);
        final MemoryRegion local = fabrics.get(1).allocate(65_536);
        final long start = System.nanoTime();
        assertEquals(0, connection.read(local, 0, remote.address(), remote.rkey(), 65_536, TIMEOUT_NS));
        final long elapsed = System.nanoTime() - start;
        assertTrue(elapsed >= 65_536 * 100L, "waited " + elapsed + " ns for 6.5 ms of bandwidth");
    }

    @Test
    void shouldRefuseAnUnknownTimingModeNamingTheSetting()
    {
        final FabricException ex = assertThrows(FabricException.class,
            () -> new FabricContext().fabric("local").timingMode("sleep").conclude());
        assertTrue(ex.getMessage().contains(FabricContext.TIMING_MODE_PROP_NAME), ex.getMessage());
    }
}
