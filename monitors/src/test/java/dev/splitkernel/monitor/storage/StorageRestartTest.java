package dev.splitkernel.monitor.storage;

import dev.splitkernel.cluster.ChildMonitor;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Fabrics;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kill -9 of the storage monitor's JVM: the restarted monitor (same data directory) serves every file it had. The
 * kernel keeps what the dead JVM wrote, forced or not, so this cannot show that the forces are there:
 * {@link StorageCrashTest} does, on a disk that loses what was not forced.
 */
class StorageRestartTest
{
    private static final long START_TIMEOUT_MS = 30_000;
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final String MARKER = "storage monitor listening at ";

    @TempDir
    Path temp;

    private final List<ChildMonitor> children = new ArrayList<>();
    private Fabric fabric;

    @AfterEach
    void cleanUp() throws Exception
    {
        CloseHelper.quietClose(fabric);
        for (final ChildMonitor child : children)
        {
            child.kill();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldServeEveryFsyncedByteAfterTheStorageProcessIsKilledAndRestarted() throws Exception
    {
        final Path dataDir = temp.resolve("data");
        fabric = Fabrics.create(new FabricContext().fabric("tcp"), null);
        final Map<String, byte[]> expected = new HashMap<>();
        final Random random = new Random(42);

        ChildMonitor first = startChild(dataDir);
        String address = addressOf(first);
        try (StorageProxy proxy = new StorageProxy(fabric.connect(address, TIMEOUT_NS), TIMEOUT_NS))
        {
            final FileCalls files = new FileCalls(proxy, 3);
            assertEquals(0, files.mkdir("/logs"));
            for (int i = 0; i < 12; i++)
            {
                final String path = (i % 2 == 0 ? "/logs/f" : "/f") + i;
                final byte[] data = new byte[1 + random.nextInt(200_000)];
                random.nextBytes(data);
                final int fd = files.open(path, FileFlags.O_CREAT | FileFlags.O_RDWR);
                assertTrue(fd >= 0, Errno.describe(fd));
                assertEquals(data.length, files.write(fd, new UnsafeBuffer(data), 0, data.length));
                assertEquals(0, files.fsync(fd));
                expected.put(path, data);
                if (i % 3 == 0)
                {
                    assertEquals(0, files.close(fd));
                }
            }
            assertEquals(0, files.rename("/f1", "/logs/renamed"));
            assertEquals(0, files.unlink("/f3"));
            final int fd = files.open("/logs/renamed", FileFlags.O_RDWR);
            assertEquals(0, files.fsync(fd));
            expected.put("/logs/renamed", expected.remove("/f1"));
            expected.remove("/f3");
        }
        assertTrue(first.process().isAlive(), "the first storage process should still be serving");
        first.kill();
        assertTrue(!first.process().isAlive(), "the first storage process did not die");

        final ChildMonitor second = startChild(dataDir);
        address = addressOf(second);
        try (StorageProxy proxy = new StorageProxy(fabric.connect(address, TIMEOUT_NS), TIMEOUT_NS))
        {
            final FileCalls files = new FileCalls(proxy, 3);
            final FileStat stat = new FileStat();
            for (final Map.Entry<String, byte[]> e : expected.entrySet())
            {
                assertEquals(0, files.stat(e.getKey(), stat), e.getKey());
                assertEquals(e.getValue().length, stat.sizeBytes(), e.getKey());
                final int fd = files.open(e.getKey(), FileFlags.O_RDONLY);
                final UnsafeBuffer back = new UnsafeBuffer(new byte[e.getValue().length]);
                assertEquals(back.capacity(), files.read(fd, back, 0, back.capacity()), e.getKey());
                assertArrayEquals(e.getValue(), back.byteArray(), e.getKey());
                assertEquals(0, files.close(fd));
            }
            assertEquals(Errno.ENOENT, files.stat("/f1", stat));
            assertEquals(Errno.ENOENT, files.stat("/f3", stat));
            final List<String> names = new ArrayList<>();
            assertEquals(7, files.readdir("/logs", names));
        }
    }

    private ChildMonitor startChild(final Path dataDir) throws Exception
    {
        final ChildMonitor child = ChildMonitor.start(StorageMonitor.class.getName(), List.of(), MARKER,
            List.of("-Xmx128m", "-Dsplitkernel.fabric=tcp", "-Dsplitkernel.storage.listen=127.0.0.1:0",
                "-Dsplitkernel.storage.dataDir=" + dataDir.toAbsolutePath()), START_TIMEOUT_MS);
        children.add(child);
        return child;
    }

    private static String addressOf(final ChildMonitor child)
    {
        return child.address().split(" ")[0];
    }
}
