package dev.splitkernel.bench.workload;

import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.protocol.LineLocation;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory monitor throughput: 4 KB line misses served by one memory monitor over the local fabric (timing preset
 * {@code none}, so only the monitor's own work is measured), from 1 or 2 processor threads, with 1 or 2 memory
 * workers. Each thread is its own process with its own mapping.
 * <ul>
 *   <li>{@code coldMiss}: every miss touches a page that does not exist yet, so the monitor allocates and zero-fills
 *       it (LegoOS's "4 KB cold misses"). When a thread has touched its whole mapping, it unmaps and maps it again
 *       (one munmap + mmap per {@code mappingPages} misses, part of the measured cost).</li>
 *   <li>{@code warmMiss}: misses on pages that exist (a re-fetch through the monitor's CPU).</li>
 *   <li>{@code oneSidedReFetch}: the same re-fetch as a one-sided READ at the address learned from the first miss
 *       (no memory-monitor CPU, so the {@code workers} setting does not limit it).</li>
 * </ul>
 * Score: misses per second (ops/s), all threads together.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MemoryMonitorThroughputBenchmark
{
    private static final int LINE_BYTES = 4096;
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long TIMEOUT_NS = 5_000_000_000L;

    /** One memory monitor, standalone, over a private local network. */
    @State(Scope.Benchmark)
    public static class Cluster
    {
        @Param({"1", "2"})
        public int workers;

        /** Pages per thread's mapping: a cold pass over it, then it is remapped. */
        @Param({"8192"})
        public int mappingPages;

        final AtomicInteger nextAsid = new AtomicInteger(1);
        LocalNetwork network;
        Fabric serverFabric;
        Fabric clientFabric;
        MemoryMonitor monitor;

        @Setup(Level.Trial)
        public void setUp()
        {
            network = new LocalNetwork();
            serverFabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
            clientFabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
            monitor = new MemoryMonitor(new MemoryMonitorContext()
                .fabric(serverFabric)
                .listenAddress("memory-bench")
                .globalAddress("")
                .workers(workers)
                .capacityBytes(4L * mappingPages * LINE_BYTES)
                .chunkBytes(mappingPages * LINE_BYTES)).start();
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            monitor.close();
            clientFabric.close();
            serverFabric.close();
        }
    }

    /** One processor thread: its own process, mapping, proxy and line buffer. */
    @State(Scope.Thread)
    public static class Client
    {
        MemoryMonitorProxy proxy;
        UnsafeBuffer line;
        LineLocation location;
        int asid;
        long base;
        long lengthBytes;
        long cursor;

        @Setup(Level.Trial)
        public void setUp(final Cluster cluster)
        {
            proxy = new MemoryMonitorProxy(cluster.clientFabric.connect(cluster.monitor.address(), TIMEOUT_NS),
                cluster.monitor.memberId(), LINE_BYTES, TIMEOUT_NS);
            line = new UnsafeBuffer(BufferUtil.allocateDirectAligned(LINE_BYTES, 64));
            location = new LineLocation();
            asid = cluster.nextAsid.getAndIncrement();
            check(proxy.createProcess(asid), "createProcess");
            lengthBytes = (long)cluster.mappingPages * LINE_BYTES;
            base = check(proxy.mmap(asid, 0, lengthBytes, RW, ANON, null), "mmap");
        }

        void remap()
        {
            check(proxy.munmap(asid, base, lengthBytes, null), "munmap");
            check(proxy.mmap(asid, base, lengthBytes, RW, ANON | Prot.MAP_FIXED, null), "mmap");
            cursor = 0;
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            proxy.exitProcess(asid, null);
            proxy.close();
        }

        private static long check(final long result, final String what)
        {
            if (result < 0)
            {
                throw new IllegalStateException(what + " failed: " + dev.splitkernel.protocol.Errno.describe(result));
            }
            return result;
        }
    }

    /** A thread that learned every line's registered address with one miss per line at setup. */
    @State(Scope.Thread)
    public static class OneSidedClient
    {
        final Client client = new Client();
        long[] remoteAddresses;
        int[] rkeys;
        MemoryRegion local;
        int next;

        @Setup(Level.Trial)
        public void setUp(final Cluster cluster)
        {
            client.setUp(cluster);
            local = cluster.clientFabric.allocate(LINE_BYTES);
            final int lines = (int)(client.lengthBytes / LINE_BYTES);
            remoteAddresses = new long[lines];
            rkeys = new int[lines];
            for (int i = 0; i < lines; i++)
            {
                coldMiss(client);
                remoteAddresses[i] = client.location.remoteAddress();
                rkeys[i] = client.location.rkey();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown()
        {
            client.tearDown();
        }
    }

    private static int coldMiss(final Client client)
    {
        if (client.cursor == client.lengthBytes)
        {
            client.remap();
        }
        final long address = client.base + client.cursor;
        client.cursor += LINE_BYTES;
        final int result = client.proxy.fetchLine(client.asid, address, LINE_BYTES, client.line, 0, client.location);
        if (result < 0)
        {
            throw new IllegalStateException("miss failed: " + dev.splitkernel.protocol.Errno.describe(result));
        }
        return result;
    }

    private static int warmMiss(final Client client)
    {
        if (client.cursor == client.lengthBytes)
        {
            client.cursor = 0;
        }
        final long address = client.base + client.cursor;
        client.cursor += LINE_BYTES;
        final int result = client.proxy.fetchLine(client.asid, address, LINE_BYTES, client.line, 0, client.location);
        if (result < 0)
        {
            throw new IllegalStateException("miss failed: " + dev.splitkernel.protocol.Errno.describe(result));
        }
        return result;
    }

    @Benchmark
    @Threads(1)
    public int coldMiss1Thread(final Client client)
    {
        return coldMiss(client);
    }

    @Benchmark
    @Threads(2)
    public int coldMiss2Threads(final Client client)
    {
        return coldMiss(client);
    }

    private static int oneSidedReFetch(final OneSidedClient state)
    {
        final int i = state.next;
        state.next = i + 1 == state.remoteAddresses.length ? 0 : i + 1;
        final int status = state.client.proxy.connection().read(state.local, 0, state.remoteAddresses[i], state.rkeys[i],
            LINE_BYTES, TIMEOUT_NS);
        if (status < 0)
        {
            throw new IllegalStateException("one-sided read failed: " + Status.describe(status));
        }
        return status;
    }

    @Benchmark
    @Threads(1)
    public int oneSidedReFetch1Thread(final OneSidedClient state)
    {
        return oneSidedReFetch(state);
    }

    @Benchmark
    @Threads(2)
    public int oneSidedReFetch2Threads(final OneSidedClient state)
    {
        return oneSidedReFetch(state);
    }

    @Benchmark
    @Threads(1)
    public int warmMiss1Thread(final Client client)
    {
        return warmMiss(client);
    }

    @Benchmark
    @Threads(2)
    public int warmMiss2Threads(final Client client)
    {
        return warmMiss(client);
    }
}
