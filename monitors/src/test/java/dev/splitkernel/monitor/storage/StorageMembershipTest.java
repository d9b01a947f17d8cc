package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.monitor.global.GlobalManagerContext;
import dev.splitkernel.monitor.memory.MemoryMonitor;
import dev.splitkernel.monitor.memory.MemoryMonitorContext;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.StorageManagerProxy;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.protocol.VNodeInfo;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.CloseHelper;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.splitkernel.protocol.FileFlags.O_CREAT;
import static dev.splitkernel.protocol.FileFlags.O_RDONLY;
import static dev.splitkernel.protocol.FileFlags.O_WRONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Storage monitors as cluster members: their heartbeats and the member timeout (controlled clock), vNode removal
 * deleting the files at storage and the cached pages, and a restart keeping the member identity at a new address.
 */
class StorageMembershipTest
{
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final long MS = 1_000_000L;
    private static final long MEMBER_TIMEOUT_MS = 1000;

    @TempDir
    Path temp;

    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final long[] nowNs = {1_000 * MS};
    private final NanoClock clock = () -> nowNs[0];

    @AfterEach
    void after()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    private <T extends AutoCloseable> T closing(final T closeable)
    {
        closeables.add(closeable);
        return closeable;
    }

    private Fabric localFabric()
    {
        return closing(new LocalFabric(new FabricContext().fabric("local").timing("none"), network));
    }

    /** A global manager on the controlled clock; its membership check is driven by the test, not by a thread. */
    private GlobalManager controlledGlobal(final Fabric fabric)
    {
        final GlobalManager global = closing(new GlobalManager(new GlobalManagerContext().fabric(fabric)
            .listenAddress("global").nanoClock(clock).memberTimeoutMs(MEMBER_TIMEOUT_MS)));
        fabric.listen("global", global);
        return global;
    }

    private StorageMonitor storage(final String dir, final String listen, final String global)
    {
        return closing(new StorageMonitor(new StorageMonitorContext().fabric(localFabric()).dataDir(temp.resolve(dir))
            .listenAddress(listen).globalAddress(global).loadReports(false)).start());
    }

    private static UnsafeBuffer bytes(final String text)
    {
        return new UnsafeBuffer(text.getBytes(StandardCharsets.UTF_8));
    }

    private static int writeFile(final FileCalls files, final String path, final String text, final boolean fsync)
    {
        final int fd = files.open(path, O_CREAT | O_WRONLY);
        assertTrue(fd >= 0, path + ": " + Errno.describe(fd));
        assertEquals(text.length(), files.write(fd, bytes(text), 0, text.length()));
        if (fsync)
        {
            assertEquals(0, files.fsync(fd));
        }
        return fd;
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

    private static String line(final String members, final int memberId)
    {
        for (final String line : members.split("\n"))
        {
            if (line.startsWith(memberId + " "))
            {
                return line;
            }
        }
        return null;
    }

    @Test
    void shouldSendStorageLoadReportsEveryInterval()
    {
        final Fabric fabric = localFabric();
        final GlobalManager global = controlledGlobal(fabric);
        final StorageMonitor a = storage("a", "storage-a", "global");
        final StorageReportAgent agent = new StorageReportAgent(a, clock, 100 * MS);

        assertEquals(1, agent.doWork(), "the first report goes at once");
        assertEquals(0, agent.doWork());
        nowNs[0] += 99 * MS;
        assertEquals(0, agent.doWork());
        nowNs[0] += MS;
        assertEquals(1, agent.doWork());
        assertEquals(2, a.loadReports());
        assertEquals(0, a.loadReportFailures());
        assertTrue(global.isAlive(a.memberId()));
    }

    @Test
    void shouldListStorageMonitorsWithLoadAndDeclareASilentOneDeadUntilItReportsAgain()
    {
        final Fabric fabric = localFabric();
        final GlobalManager global = controlledGlobal(fabric);
        final StorageMonitor a = storage("a", "storage-a", "global");
        final StorageMonitor b = storage("b", "storage-b", "global");
        final StorageManagerProxy gsm = closing(new StorageManagerProxy(fabric.connect("global", TIMEOUT_NS), TIMEOUT_NS));
        assertNotEquals(a.memberId(), b.memberId());

        try (StorageProxy direct = new StorageProxy(fabric.connect(a.address(), TIMEOUT_NS), TIMEOUT_NS))
        {
            final FileCalls files = new FileCalls(direct, 9);
            assertEquals(0, files.mkdir("/d"));
            writeFile(files, "/d/f", "hello", true);
            files.close();
        }
        assertEquals(0, a.reportLoadNow());
        assertEquals(0, b.reportLoadNow());
        final String members = global.membersText();
        assertEquals(a.memberId() + " storage storage-a alive 0 used=5/" + (16L << 30) + " files=2",
            line(members, a.memberId()), members);
        assertEquals(b.memberId() + " storage storage-b alive 0 used=0/" + (16L << 30) + " files=0",
            line(members, b.memberId()), members);

        // a falls silent; b keeps reporting.
        final int first = gsm.createVNode("first", "/mnt/first");
        final int onA = gsm.lookupVNode(first).storageMemberId() == a.memberId() ? first : -1;
        for (int step = 0; step < 12; step++)
        {
            nowNs[0] += 100 * MS;
            assertEquals(0, b.reportLoadNow());
            final int declared = global.checkMembers(nowNs[0]);
            assertEquals(step == 10 ? 1 : 0, declared, "step " + step);
        }
        assertFalse(global.isAlive(a.memberId()));
        assertTrue(global.isAlive(b.memberId()));
        assertTrue(line(global.membersText(), a.memberId()).contains(" dead "), global.membersText());
        for (int i = 0; i < 3; i++)
        {
            final int vNode = gsm.createVNode("v" + i, "/mnt/v" + i);
            assertTrue(vNode > 0, Errno.describe(vNode));
            assertEquals(b.memberId(), gsm.lookupVNode(vNode).storageMemberId(), "a dead storage monitor gets no vNode");
        }
        if (onA > 0)
        {
            assertEquals(Errno.EIO, gsm.removeVNode(onA), "the files of a dead storage monitor cannot be deleted");
            assertNotNull(gsm.lookupVNode(onA), "a failed removal keeps the vNode");
        }

        assertEquals(0, a.reportLoadNow());
        assertTrue(global.isAlive(a.memberId()));
        assertTrue(line(global.membersText(), a.memberId()).contains(" alive "), global.membersText());
        final int next = gsm.createVNode("next", "/mnt/next");
        assertEquals(a.memberId(), gsm.lookupVNode(next).storageMemberId(), "the revived one has the fewest vNodes");
        if (onA > 0)
        {
            assertEquals(0, gsm.removeVNode(onA));
        }
    }

    @Test
    void shouldDeleteARemovedVNodesFilesAtStorageAndDropItsCachedPages()
    {
        final Fabric fabric = localFabric();
        final GlobalManager global = closing(new GlobalManager(new GlobalManagerContext().fabric(fabric)
            .listenAddress("global")).start());
        final Path dataDir = temp.resolve("data");
        final StorageMonitor storage = closing(new StorageMonitor(new StorageMonitorContext().fabric(localFabric())
            .dataDir(dataDir).listenAddress("storage").globalAddress(global.address())).start());
        final MemoryMonitor memory = closing(new MemoryMonitor(new MemoryMonitorContext().fabric(localFabric())
            .listenAddress("memory").globalAddress(global.address()).capacityBytes(64L << 20).chunkBytes(1 << 20)
            .bufferCacheBytes(1 << 20)).start());
        final StorageManagerProxy gsm = closing(new StorageManagerProxy(
            fabric.connect(global.address(), TIMEOUT_NS), TIMEOUT_NS));
        assertEquals(0, memory.reportLoadNow());
        final int red = gsm.createVNode("red", "/mnt/red");
        final int blue = gsm.createVNode("blue", "/mnt/blue");
        final VNodeInfo info = gsm.lookupVNode(red);
        assertEquals(memory.address(), info.cacheAddress());
        assertEquals(storage.address(), info.storageAddress());

        final StorageProxy cache = closing(new StorageProxy(fabric.connect(info.cacheAddress(), TIMEOUT_NS), TIMEOUT_NS));
        final FileCalls redFiles = new FileCalls(cache, red);
        final FileCalls blueFiles = new FileCalls(cache, blue);
        assertEquals(0, redFiles.mkdir("/dir"));
        writeFile(redFiles, "/dir/synced", "red-synced", true);
        writeFile(redFiles, "/dirty", "red-dirty-only-in-the-cache", false);
        writeFile(blueFiles, "/same", "blue", true);
        assertTrue(Files.isDirectory(dataDir.resolve("v" + red)));
        assertEquals("red-synced".length() + "blue".length(), storage.usedBytes());

        assertEquals(0, gsm.removeVNode(red));
        assertNull(gsm.lookupVNode(red));
        assertEquals(Errno.ENOENT, gsm.lastResult());
        assertEquals(Errno.ENOENT, gsm.removeVNode(red));
        assertFalse(Files.exists(dataDir.resolve("v" + red)), "the vNode's data files are deleted");
        assertEquals("blue".length(), storage.usedBytes());
        assertEquals("blue", read(blueFiles, "/same"), "the other vNode's files are untouched");

        // The dirty pages were dropped, not written back: closing the cache (which flushes) recreates nothing.
        final long writeBacks = memory.bufferCache().writeBacks();
        memory.close();
        assertEquals(writeBacks, memory.bufferCache().writeBacks());
        storage.close();

        // Durable: a restart on the same directory (journal replay) knows no file of the removed vNode.
        try (StorageMonitor restarted = new StorageMonitor(new StorageMonitorContext().fabric(localFabric())
            .dataDir(dataDir).listenAddress("storage-again").globalAddress("")).start();
            StorageProxy direct = new StorageProxy(fabric.connect(restarted.address(), TIMEOUT_NS), TIMEOUT_NS))
        {
            final FileStat stat = new FileStat();
            final FileCalls again = new FileCalls(direct, red);
            assertEquals(Errno.ENOENT, again.stat("/dir/synced", stat));
            assertEquals(Errno.ENOENT, again.stat("/dirty", stat));
            assertEquals(Errno.ENOENT, again.stat("/dir", stat));
            assertEquals("blue", read(new FileCalls(direct, blue), "/same"));
            assertEquals("blue".length(), restarted.usedBytes());
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldGiveARestartedStorageMonitorItsIdentityAndVNodesBackAtItsNewAddressOverTcp()
    {
        final Fabric fabric = closing(Fabrics.create(new FabricContext().fabric("tcp"), null));
        final GlobalManager global = closing(new GlobalManager(new GlobalManagerContext().fabric(fabric)
            .listenAddress("127.0.0.1:0")).start());
        final Path dataDir = temp.resolve("data");
        final StorageMonitorContext ctx = new StorageMonitorContext().fabricContext(new FabricContext().fabric("tcp"))
            .dataDir(dataDir).listenAddress("127.0.0.1:0").globalAddress(global.address());
        final StorageMonitor first = new StorageMonitor(ctx).start();
        final MemoryMonitor memory = closing(new MemoryMonitor(new MemoryMonitorContext()
            .fabricContext(new FabricContext().fabric("tcp")).listenAddress("127.0.0.1:0")
            .globalAddress(global.address()).capacityBytes(64L << 20).chunkBytes(1 << 20)
            .bufferCacheBytes(1 << 20)).start());
        final StorageManagerProxy gsm = closing(new StorageManagerProxy(
            fabric.connect(global.address(), TIMEOUT_NS), TIMEOUT_NS));
        final int memberId = first.memberId();
        final String name = first.memberName();
        final String oldAddress = first.address();
        final int red = gsm.createVNode("red", "/mnt/red");
        assertEquals(memberId, gsm.lookupVNode(red).storageMemberId());
        final StorageProxy cache = closing(new StorageProxy(
            fabric.connect(memory.address(), TIMEOUT_NS), TIMEOUT_NS));
        final FileCalls files = new FileCalls(cache, red);
        assertEquals(0, files.close(writeFile(files, "/kept", "survives the restart", true)));
        assertEquals(name + "\n", readString(dataDir.resolve(StorageMonitor.MEMBER_NAME_FILE)));
        first.close();

        final StorageMonitor second = closing(new StorageMonitor(ctx).start());
        assertNotEquals(oldAddress, second.address(), "a new port");
        assertEquals(name, second.memberName());
        assertEquals(memberId, second.memberId(), "the same member id");
        final VNodeInfo info = gsm.lookupVNode(red);
        assertEquals(memberId, info.storageMemberId());
        assertEquals(second.address(), info.storageAddress(), "the vNode's binding follows the new address");
        final String members = global.membersText();
        assertEquals(1, members.split(" storage ", -1).length - 1, members);
        assertTrue(members.contains(memberId + " storage " + second.address() + " alive"), members);

        final FileStat stat = new FileStat();
        assertEquals(0, files.stat("/kept", stat), "the buffer cache finds the storage monitor at its new address");
        assertEquals("survives the restart", read(files, "/kept"));
        try (StorageProxy direct = new StorageProxy(fabric.connect(info.storageAddress(), TIMEOUT_NS), TIMEOUT_NS))
        {
            assertEquals("survives the restart", read(new FileCalls(direct, red), "/kept"));
        }
    }

    private static String readString(final Path file)
    {
        try
        {
            return Files.readString(file, StandardCharsets.US_ASCII);
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
