package dev.splitkernel.bench.workload;

import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.monitor.storage.StorageMonitor;
import dev.splitkernel.monitor.storage.StorageMonitorContext;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.CloseHelper;
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
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * File I/O on the splitkernel (processor -> buffer cache at a memory monitor -> storage monitor, local fabric with
 * the rdma-cx3 timing model, storage on this machine's disk) against the same operations on the local file system
 * through java.nio ({@code system=linux}), in one run:
 * <ul>
 *   <li>{@code randomReadHit}: 4 KB reads at random page offsets of a file that fits in the buffer cache;</li>
 *   <li>{@code randomReadMiss}: the same over a file 8x the buffer cache (almost every read misses to storage);</li>
 *   <li>{@code sequentialRead}: 4 KB reads walking a file 4x the buffer cache (every page misses once, unless
 *   read-ahead brought it: {@code -p readAheadPages=0} is LegoOS, which has none);</li>
 *   <li>{@code randomWriteFsync}: a 4 KB write at a random page offset, then fsync (FileChannel.force).</li>
 * </ul>
 * The Linux side reads through the OS page cache (the file was just written), as LegoOS's Linux baseline did.
 * Ratios (linux time / splitkernel time) compare with LegoOS's throughput relative to Linux: random read 0.84,
 * random write + fsync 0.54, sequential read 0.49.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class StorageBenchmark
{
    private static final int PAGE_BYTES = 4096;

    @Param({"splitkernel", "linux"})
    public String system;

    /** The buffer cache's size; the miss and sequential files are 8x and 4x of it, the hit file half of it. */
    @Param({"8"})
    public int cacheMiB;

    /** Buffer-cache read-ahead on sequential misses, in pages; 0 is LegoOS (no read-ahead). */
    @Param({"16"})
    public int readAheadPages;

    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final UnsafeBuffer page = new UnsafeBuffer(ByteBuffer.allocateDirect(PAGE_BYTES));
    private final ByteBuffer nioPage = ByteBuffer.allocateDirect(PAGE_BYTES);
    private Path dir;
    private FileCalls files;
    private int hitFd;
    private int missFd;
    private int seqFd;
    private int writeFd;
    private FileChannel hitChannel;
    private FileChannel missChannel;
    private FileChannel seqChannel;
    private FileChannel writeChannel;
    private long hitPages;
    private long missPages;
    private long seqPages;
    private long seqPage;
    private long seed = 0x9E3779B97F4A7C15L;

    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        dir = Files.createTempDirectory("storage-bench");
        final long cacheBytes = (long)cacheMiB << 20;
        hitPages = cacheBytes / 2 / PAGE_BYTES;
        missPages = cacheBytes * 8 / PAGE_BYTES;
        seqPages = cacheBytes * 4 / PAGE_BYTES;
        if ("linux".equals(system))
        {
            hitChannel = nioFile("hit", hitPages);
            missChannel = nioFile("miss", missPages);
            seqChannel = nioFile("seq", seqPages);
            writeChannel = nioFile("write", hitPages);
            return;
        }
        if (!"splitkernel".equals(system))
        {
            throw new IllegalArgumentException("system must be splitkernel or linux: " + system);
        }
        final StorageMonitor storage = new StorageMonitor(new StorageMonitorContext().fabric(fabric())
            .dataDir(dir.resolve("storage")).listenAddress("storage").globalAddress(""))
            .start();
        closeables.add(0, storage);
        final MemoryMonitor memory = new MemoryMonitor(new MemoryMonitorContext().fabric(fabric())
            .listenAddress("memory").globalAddress("").capacityBytes(64L << 20).chunkBytes(1 << 20)
            .bufferCacheBytes(cacheBytes))
            .start();
        closeables.add(0, memory);
        memory.bufferCache().route(1, storage.address());
        memory.bufferCache().readAheadPages(readAheadPages);
        final StorageProxy cache = new StorageProxy(fabric().connect(memory.address(), 5_000_000_000L), 5_000_000_000L);
        closeables.add(0, cache);
        files = new FileCalls(cache, 1);
        hitFd = legoFile("/hit", hitPages);
        missFd = legoFile("/miss", missPages);
        seqFd = legoFile("/seq", seqPages);
        writeFd = legoFile("/write", hitPages);
        // Warm the hit file into the cache.
        for (long p = 0; p < hitPages; p++)
        {
            files.pread(hitFd, page, 0, PAGE_BYTES, p * PAGE_BYTES);
        }
    }

    private Fabric fabric()
    {
        final Fabric fabric = new LocalFabric(new FabricContext().fabric("local").timing("rdma-cx3"), network);
        closeables.add(fabric);
        return fabric;
    }

    private FileChannel nioFile(final String name, final long pages) throws IOException
    {
        final FileChannel channel = FileChannel.open(dir.resolve(name),
            StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (long at = 0; at < pages * PAGE_BYTES; at += chunk.capacity())
        {
            chunk.clear();
            while (chunk.hasRemaining())
            {
                chunk.putLong(at + chunk.position());
            }
            chunk.flip();
            channel.write(chunk, at);
        }
        channel.force(true);
        closeables.add(channel);
        return channel;
    }

    private int legoFile(final String name, final long pages)
    {
        final int fd = files.open(name, FileFlags.O_CREAT | FileFlags.O_RDWR);
        if (fd < 0)
        {
            throw new IllegalStateException("open " + name + ": " + Errno.describe(fd));
        }
        final UnsafeBuffer chunk = new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024));
        for (long at = 0; at < pages * PAGE_BYTES; at += chunk.capacity())
        {
            for (int i = 0; i < chunk.capacity(); i += 8)
            {
                chunk.putLong(i, at + i);
            }
            final long n = files.pwrite(fd, chunk, 0, chunk.capacity(), at);
            if (n != chunk.capacity())
            {
                throw new IllegalStateException("write " + name + ": " + Errno.describe(n));
            }
        }
        final int synced = files.fsync(fd);
        if (synced != 0)
        {
            throw new IllegalStateException("fsync " + name + ": " + Errno.describe(synced));
        }
        return fd;
    }

    private long nextPage(final long pages)
    {
        seed ^= seed << 13;
        seed ^= seed >>> 7;
        seed ^= seed << 17;
        return (seed >>> 1) % pages;
    }

    private long legoRead(final int fd, final long offset)
    {
        final long n = files.pread(fd, page, 0, PAGE_BYTES, offset);
        if (n != PAGE_BYTES)
        {
            throw new IllegalStateException("pread: " + Errno.describe(n));
        }
        return page.getLong(0);
    }

    private long nioRead(final FileChannel channel, final long offset) throws IOException
    {
        nioPage.clear();
        while (nioPage.hasRemaining())
        {
            if (channel.read(nioPage, offset + nioPage.position()) < 0)
            {
                throw new IllegalStateException("short read at " + offset);
            }
        }
        return nioPage.getLong(0);
    }

    @Benchmark
    public long randomReadHit() throws IOException
    {
        final long offset = nextPage(hitPages) * PAGE_BYTES;
        return files != null ? legoRead(hitFd, offset) : nioRead(hitChannel, offset);
    }

    @Benchmark
    public long randomReadMiss() throws IOException
    {
        final long offset = nextPage(missPages) * PAGE_BYTES;
        return files != null ? legoRead(missFd, offset) : nioRead(missChannel, offset);
    }

    @Benchmark
    public long sequentialRead() throws IOException
    {
        final long offset = seqPage * PAGE_BYTES;
        seqPage = seqPage + 1 == seqPages ? 0 : seqPage + 1;
        return files != null ? legoRead(seqFd, offset) : nioRead(seqChannel, offset);
    }

    @Benchmark
    public long randomWriteFsync() throws IOException
    {
        final long offset = nextPage(hitPages) * PAGE_BYTES;
        if (files != null)
        {
            page.putLong(0, offset);
            final long n = files.pwrite(writeFd, page, 0, PAGE_BYTES, offset);
            final int synced = files.fsync(writeFd);
            if (n != PAGE_BYTES || synced != 0)
            {
                throw new IllegalStateException("pwrite " + Errno.describe(n) + ", fsync " + Errno.describe(synced));
            }
            return n;
        }
        nioPage.clear().putLong(0, offset);
        final int n = writeChannel.write(nioPage, offset);
        writeChannel.force(true);
        return n;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        for (final AutoCloseable closeable : closeables)
        {
            CloseHelper.quietClose(closeable);
        }
        try (Stream<Path> walk = Files.walk(dir))
        {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
