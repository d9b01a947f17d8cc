package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageManagerProxy;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.protocol.VNodeInfo;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.Status;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.splitkernel.protocol.FileFlags.O_APPEND;
import static dev.splitkernel.protocol.FileFlags.O_CREAT;
import static dev.splitkernel.protocol.FileFlags.O_EXCL;
import static dev.splitkernel.protocol.FileFlags.O_RDONLY;
import static dev.splitkernel.protocol.FileFlags.O_RDWR;
import static dev.splitkernel.protocol.FileFlags.O_TRUNC;
import static dev.splitkernel.protocol.FileFlags.O_WRONLY;
import static dev.splitkernel.protocol.FileFlags.SEEK_CUR;
import static dev.splitkernel.protocol.FileFlags.SEEK_END;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileCallsTest
{
    @TempDir
    Path temp;

    private static UnsafeBuffer bytes(final String text)
    {
        return new UnsafeBuffer(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String read(final FileCalls files, final String path)
    {
        final int fd = files.open(path, O_RDONLY);
        assertTrue(fd >= 0, path + ": " + Errno.describe(fd));
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1 << 16]);
        final long n = files.read(fd, buffer, 0, buffer.capacity());
        assertTrue(n >= 0, Errno.describe(n));
        assertEquals(0, files.close(fd));
        return buffer.getStringWithoutLengthUtf8(0, (int)n);
    }

    @ParameterizedTest(name = "buffer cache {0} bytes")
    @ValueSource(longs = {0, 8192})
    void shouldReturnLinuxErrorsOnEveryErrorPath(final long cacheBytes)
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), cacheBytes, 1L << 20, 1))
        {
            final FileCalls files = fixture.files(1);
            final FileStat stat = new FileStat();
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
            assertEquals(Errno.ENOENT, files.open("/missing", O_RDONLY));
            assertEquals(Errno.ENOENT, files.open("", O_RDONLY));
            assertEquals(Errno.ENOENT, files.open("/no/such/dir/file", O_CREAT | O_RDWR));
            assertEquals(Errno.EINVAL, files.open("/x", O_RDWR | O_WRONLY));
            assertEquals(Errno.EINVAL, files.open("/x", 0x40000000));
            final int fd = files.open("/f", O_CREAT | O_EXCL | O_RDWR);
            assertTrue(fd >= 3, Errno.describe(fd));
            assertEquals(Errno.EEXIST, files.open("/f", O_CREAT | O_EXCL | O_WRONLY));
            assertEquals(Errno.ENOTDIR, files.open("/f/child", O_CREAT | O_RDWR));
            assertEquals(Errno.ENOTDIR, files.stat("/f/child", stat));
            assertEquals(Errno.ENOTDIR, files.mkdir("/f/dir"));
            assertEquals(Errno.ENOTDIR, files.rmdir("/f"));
            assertEquals(Errno.ENOTDIR, files.readdir("/f", new ArrayList<>()));
            assertEquals(0, files.mkdir("/dir"));
            assertEquals(Errno.EEXIST, files.mkdir("/dir"));
            assertEquals(Errno.EEXIST, files.mkdir("/f"));
            assertEquals(Errno.EISDIR, files.open("/dir", O_WRONLY));
            assertEquals(Errno.EISDIR, files.open("/dir", O_CREAT | O_RDWR));
            assertEquals(Errno.EISDIR, files.unlink("/dir"));
            final int dirFd = files.open("/dir", O_RDONLY);
            assertTrue(dirFd >= 0);
            assertEquals(Errno.EISDIR, files.read(dirFd, buffer, 0, 8));
            assertEquals(Errno.EBADF, files.write(dirFd, buffer, 0, 8));
            assertEquals(0, files.close(dirFd));
            assertEquals(0, files.open("/dir/inner", O_CREAT | O_WRONLY) >= 0 ? 0 : -1);
            assertEquals(Errno.ENOTEMPTY, files.rmdir("/dir"));
            assertEquals(Errno.EISDIR, files.rename("/f", "/dir"));
            assertEquals(Errno.ENOTDIR, files.rename("/dir", "/f"));
            assertEquals(Errno.EINVAL, files.rename("/dir", "/dir/sub"));
            assertEquals(Errno.ENOENT, files.rename("/none", "/other"));
            assertEquals(Errno.EBUSY, files.rmdir("/"));

            // Descriptors.
            assertEquals(Errno.EBADF, files.read(99, buffer, 0, 1));
            assertEquals(Errno.EBADF, files.write(-1, buffer, 0, 1));
            assertEquals(Errno.EBADF, files.close(5000));
            assertEquals(Errno.EBADF, files.fsync(42));
            assertEquals(Errno.EBADF, files.fstat(42, stat));
            assertEquals(Errno.EBADF, files.lseek(42, 0, SEEK_CUR));
            assertEquals(Errno.EBADF, files.ftruncate(42, 0));
            final int readOnly = files.open("/f", O_RDONLY);
            assertEquals(Errno.EBADF, files.write(readOnly, buffer, 0, 1));
            assertEquals(Errno.EINVAL, files.ftruncate(readOnly, 0));
            final int writeOnly = files.open("/f", O_WRONLY);
            assertEquals(Errno.EBADF, files.read(writeOnly, buffer, 0, 1));
            assertEquals(Errno.EINVAL, files.lseek(writeOnly, -1, SEEK_CUR));
            assertEquals(Errno.EINVAL, files.lseek(writeOnly, 0, 7));
            assertEquals(Errno.EINVAL, files.pwrite(writeOnly, buffer, 0, 1, -5));
            assertEquals(Errno.EINVAL, files.ftruncate(writeOnly, -1));
            assertEquals(Errno.EINVAL, files.write(writeOnly, buffer, 60, 10));
            assertEquals(0, files.close(readOnly));
            assertEquals(Errno.EBADF, files.close(readOnly));

            // ENOSPC: the storage monitor holds 1 MiB; through the cache it shows at fsync.
            final UnsafeBuffer big = new UnsafeBuffer(new byte[512 * 1024]);
            assertEquals(big.capacity(), files.write(writeOnly, big, 0, big.capacity()));
            assertEquals(0, files.fsync(writeOnly));
            final long second = files.pwrite(writeOnly, big, 0, big.capacity(), big.capacity() + 4096);
            final long synced = files.fsync(writeOnly);
            assertTrue(second == Errno.ENOSPC || (second >= 0 && second < big.capacity()) || synced == Errno.ENOSPC,
                "write " + Errno.describe(second) + ", fsync " + Errno.describe(synced));
            assertEquals(Errno.ENOSPC, files.ftruncate(writeOnly, 4L << 20));
            files.close(writeOnly);
            assertEquals(0, files.close(fd));

            // Names.
            assertEquals(Errno.ENAMETOOLONG, files.open("/" + "n".repeat(5000), O_CREAT | O_RDWR));

            // Malformed request straight to the monitor: a clear status, the monitor keeps serving.
            final UnsafeBuffer junk = new UnsafeBuffer(new byte[64]);
            junk.putInt(24, 1_000_000);
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[256]);
            assertEquals(Status.MALFORMED, fixture.target.forward(Opcodes.FILE_STAT, junk, 0, 64, reply, 0, 256));
            assertEquals(0, files.stat("/f", stat));
        }
    }

    @ParameterizedTest(name = "buffer cache {0} bytes")
    @ValueSource(longs = {0, 8192, 1 << 20})
    void shouldReadWriteSeekAppendTruncateAndListLikeLinux(final long cacheBytes)
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), cacheBytes, 1L << 30, 1))
        {
            final FileCalls files = fixture.files(1);
            final FileStat stat = new FileStat();
            assertEquals(0, files.mkdir("/home"));
            assertEquals(0, files.mkdir("/home/./lego/../lego"));
            final int fd = files.open("home/lego/notes", O_CREAT | O_RDWR);
            assertEquals(11, files.write(fd, bytes("hello world"), 0, 11));
            assertEquals(6, files.lseek(fd, 6, 0));
            assertEquals(5, files.write(fd, bytes("WORLD"), 0, 5));
            assertEquals(11, files.lseek(fd, 0, SEEK_END));
            assertEquals(0, files.fstat(fd, stat));
            assertEquals(11, stat.sizeBytes());
            assertEquals(3, files.pwrite(fd, bytes("xyz"), 0, 3, 20));
            assertEquals(0, files.fstat(fd, stat));
            assertEquals(23, stat.sizeBytes());
            final UnsafeBuffer out = new UnsafeBuffer(new byte[32]);
            assertEquals(23, files.pread(fd, out, 0, 32, 0));
            assertEquals("hello WORLD", out.getStringWithoutLengthUtf8(0, 11));
            assertEquals(0, out.getByte(15));
            assertEquals(0, files.ftruncate(fd, 5));
            assertEquals(0, files.close(fd));
            assertEquals("hello", read(files, "/home/lego/notes"));

            final int append = files.open("/home/lego/notes", O_WRONLY | O_APPEND);
            assertEquals(4, files.write(append, bytes(", yo"), 0, 4));
            assertEquals(0, files.close(append));
            assertEquals("hello, yo", read(files, "/home/lego/notes"));

            final int trunc = files.open("/home/lego/notes", O_WRONLY | O_TRUNC);
            assertEquals(0, files.close(trunc));
            assertEquals("", read(files, "/home/lego/notes"));

            assertEquals(0, files.rename("/home/lego", "/home/user"));
            assertEquals(0, files.stat("/home/user/notes", stat));
            assertEquals(Errno.ENOENT, files.stat("/home/lego/notes", stat));
            assertTrue(files.open("/home/b", O_CREAT | O_WRONLY) >= 0);
            final List<String> names = new ArrayList<>();
            assertEquals(2, files.readdir("/home", names));
            assertEquals(List.of("b", "user"), names);
            assertEquals(0, files.unlink("/home/user/notes"));
            assertEquals(0, files.rmdir("/home/user"));
            assertEquals(Errno.ENOENT, files.unlink("/home/user/notes"));
        }
    }

    @Test
    void shouldReadAndWriteManyPagesThroughASmallBufferCacheWithEviction()
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), 4 * 4096, 1L << 30, 1))
        {
            final FileCalls files = fixture.files(1);
            final int fd = files.open("/big", O_CREAT | O_RDWR);
            final UnsafeBuffer data = new UnsafeBuffer(new byte[300_000]);
            for (int i = 0; i < data.capacity(); i++)
            {
                data.putByte(i, (byte)(i * 31 + 7));
            }
            assertEquals(data.capacity(), files.write(fd, data, 0, data.capacity()));
            final UnsafeBuffer back = new UnsafeBuffer(new byte[data.capacity()]);
            assertEquals(data.capacity(), files.pread(fd, back, 0, back.capacity(), 0));
            assertEquals(0, data.compareTo(back));
            assertTrue(fixture.memory.bufferCache().evictions() > 0);
            assertTrue(fixture.memory.bufferCache().writeBacks() > 0);
            assertEquals(0, files.close(fd));
            assertEquals(data.capacity(), fixture.storage.usedBytes());
        }
    }

    @Test
    void shouldReadAheadOnSequentialMissesAndNotOnRandomOnes()
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), 64 * 4096, 1L << 30, 1))
        {
            final FileCalls files = fixture.files(1);
            final int fd = files.open("/seq", O_CREAT | O_RDWR);
            final UnsafeBuffer data = new UnsafeBuffer(new byte[1 << 20]);
            for (int i = 0; i < data.capacity(); i += 4)
            {
                data.putInt(i, i);
            }
            assertEquals(data.capacity(), files.write(fd, data, 0, data.capacity()));
            assertEquals(0, files.fsync(fd));
            assertEquals(0, files.close(fd));
            final var cache = fixture.memory.bufferCache();
            final int reader = files.open("/seq", O_RDONLY);
            final UnsafeBuffer page = new UnsafeBuffer(new byte[4096]);
            final long before = cache.readAheads();
            for (int p = 7; p < 200; p += 13)
            {
                assertEquals(4096, files.pread(reader, page, 0, 4096, p * 4096L));
                assertEquals(p * 4096, page.getInt(0));
            }
            assertEquals(before, cache.readAheads(), "random reads must not read ahead");
            final long missesBefore = cache.misses();
            for (int p = 0; p < 256; p++)
            {
                assertEquals(4096, files.read(reader, page, 0, 4096));
                assertEquals(p * 4096, page.getInt(0));
                assertEquals(p * 4096 + 4092, page.getInt(4092));
            }
            assertTrue(cache.readAheads() > 200, "read-ahead pages: " + cache.readAheads());
            assertTrue(cache.misses() - missesBefore < 40, "misses: " + (cache.misses() - missesBefore));
            assertEquals(0, files.read(reader, page, 0, 4096));
            cache.readAheadPages(0);
            final long readAheads = cache.readAheads();
            assertEquals(4096, files.pread(reader, page, 0, 4096, 100 * 4096L));
            assertEquals(4096, files.pread(reader, page, 0, 4096, 101 * 4096L));
            assertEquals(readAheads, cache.readAheads());
            assertEquals(0, files.close(reader));
        }
    }

    @Test
    void shouldKeepVNodesApartAndPlaceThemThroughTheGsm()
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), 0, 1L << 30))
        {
            final Fabric fabric = fixture.fabric();
            try (GlobalManager global = StorageFixture.global(fabric);
                StorageMonitor storage = new StorageMonitor(new StorageMonitorContext().fabric(fixture.fabric())
                    .dataDir(temp.resolve("gsm-data")).listenAddress("storage-gsm").globalAddress(global.address()))
                    .start();
                MemoryMonitor memory = new MemoryMonitor(new MemoryMonitorContext().fabric(fixture.fabric())
                    .listenAddress("memory-gsm").globalAddress(global.address()).capacityBytes(64L << 20)
                    .chunkBytes(1 << 20)).start();
                StorageManagerProxy gsm = new StorageManagerProxy(
                    fabric.connect(global.address(), StorageFixture.TIMEOUT_NS), StorageFixture.TIMEOUT_NS))
            {
                memory.reportLoadNow();
                final int red = gsm.createVNode("red", "/mnt/red");
                final int blue = gsm.createVNode("blue", "/mnt/blue");
                assertTrue(red > 0 && blue > 0 && red != blue);
                assertEquals(Errno.EEXIST, gsm.createVNode("red", "/x"));
                assertEquals(Errno.EINVAL, gsm.createVNode("", "/x"));
                assertEquals(2, gsm.listVNodes().size());
                final VNodeInfo info = gsm.lookupVNode(red);
                assertNotNull(info);
                assertEquals("red", info.name());
                assertEquals("/mnt/red", info.mountPoint());
                assertEquals(storage.address(), info.storageAddress());
                assertEquals(memory.address(), info.cacheAddress());

                try (StorageProxy cache = new StorageProxy(
                    fabric.connect(info.cacheAddress(), StorageFixture.TIMEOUT_NS), StorageFixture.TIMEOUT_NS))
                {
                    final FileCalls redFiles = new FileCalls(cache, red);
                    final FileCalls blueFiles = new FileCalls(cache, blue);
                    final int fd = redFiles.open("/secret", O_CREAT | O_WRONLY);
                    assertEquals(3, redFiles.write(fd, bytes("red"), 0, 3));
                    assertEquals(0, redFiles.fsync(fd));
                    assertEquals(Errno.ENOENT, blueFiles.open("/secret", O_RDONLY));
                    final int blueFd = blueFiles.open("/secret", O_CREAT | O_WRONLY);
                    assertEquals(4, blueFiles.write(blueFd, bytes("blue"), 0, 4));
                    assertEquals(0, blueFiles.close(blueFd));
                    assertEquals(0, redFiles.close(fd));
                    assertEquals("red", read(redFiles, "/secret"));
                    assertEquals("blue", read(blueFiles, "/secret"));
                    final List<String> names = new ArrayList<>();
                    assertEquals(1, blueFiles.readdir("/", names));
                }
                assertEquals(0, gsm.removeVNode(red));
                assertEquals(Errno.ENOENT, gsm.removeVNode(red));
                assertNull(gsm.lookupVNode(red));
                assertEquals(Errno.ENOENT, gsm.lastResult());
                assertEquals(1, gsm.listVNodes().size());
            }
        }
    }
}
