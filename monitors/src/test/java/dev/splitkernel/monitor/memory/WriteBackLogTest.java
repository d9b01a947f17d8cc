package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.monitor.storage.CrashSimulatingDisk;
import dev.splitkernel.monitor.storage.Disk;
import dev.splitkernel.monitor.storage.FileChannelDisk;
import dev.splitkernel.monitor.storage.StorageMonitor;
import dev.splitkernel.monitor.storage.StorageMonitorContext;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.LineReplyDescriptor;
import dev.splitkernel.protocol.LineRequestDescriptor;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A secondary's write-back log: batches shipped to a backup file on a storage monitor and dropped from memory,
 * replay of every entry in order (from the backup file, then memory), a storage monitor down or crashed, a damaged
 * backup file, and the REPLICA_WRITE_BACK requests a primary sends.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriteBackLogTest
{
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final int LINE = 4096;
    private static final int BATCH = 64 * 1024;
    private static final int ENTRY = WriteBackLogDescriptor.entryLength(LINE);
    private static final int ENTRIES_PER_BATCH = BATCH / ENTRY;

    @TempDir
    Path temp;

    private final LocalNetwork network = new LocalNetwork();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Random random = new Random(16);
    /** What was appended, in order: asid, line address, bytes. */
    private final List<Object[]> appended = new ArrayList<>();

    @AfterEach
    void closeAll()
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(closeables.get(i));
        }
    }

    @Test
    void shouldShipFullBatchesToTheBackupFileAndDropThemFromMemory()
    {
        startStorage(FileChannelDisk.INSTANCE, temp.resolve("storage"));
        final WriteBackLog log = log("ship", 1 << 20);
        appendLines(log, 100);
        while (log.doWork() > 0)
        {
            // ship every full batch
        }
        final int batches = 100 / ENTRIES_PER_BATCH;
        assertEquals(batches, log.batchesShipped());
        assertEquals((long)batches * ENTRIES_PER_BATCH * ENTRY, log.shippedBytes());
        assertEquals((100L - batches * ENTRIES_PER_BATCH) * ENTRY, log.unshippedBytes(), "only the open batch stays");
        final FileStat stat = new FileStat();
        assertEquals(0, storageFiles().stat(LogBackup.BACKUP_DIR + "/ship", stat));
        assertEquals(log.shippedBytes(), stat.sizeBytes(), "the backup file holds exactly the shipped batches");
        assertReplaysEverything(log);
    }

    @Test
    void shouldKeepTheLogInMemoryCompactedWhileTheGlobalManagersNameNoStorageMonitor()
    {
        // Nothing listens at "gsm": no storage monitor can be learned, so nothing is shipped and nothing refused.
        final WriteBackLog log = new WriteBackLog(LogBackup.viaGlobalManagers(fabric(), "gsm", "unknown", TIMEOUT_NS),
            SystemNanoClock.INSTANCE, BATCH, 2L * BATCH, 1_000_000L, null);
        closeables.add(log);
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 2 * ENTRIES_PER_BATCH; i++)
            {
                append(log, 1, (long)i * LINE, LINE);
            }
            log.doWork();
        }
        assertTrue(!log.hasBackup() && log.shippedBytes() == 0, "nothing shipped");
        assertTrue(log.compactions() > 0, "compacted in memory instead of refusing appends");
        assertEquals(Errno.EIO, log.flush(), "a flush says no storage monitor is known");
    }

    @Test
    void shouldPickTheFirstAliveStorageMonitorOfTheMemberList()
    {
        assertEquals("s2", LogBackup.firstAliveStorage("0 memory m0 alive 5 committed=0/1\n1 storage s1 dead 900 " +
            "used=0/1 files=0\n2 storage s2 alive 7 used=0/1 files=3\n3 storage s3 alive 1 used=0/1 files=0\n"));
        assertEquals(null, LogBackup.firstAliveStorage("0 memory m0 alive 5 committed=0/1\n"));
        assertEquals(null, LogBackup.firstAliveStorage(null));
    }

    @Test
    void shouldStartTheLogAndItsBackupFileOverWhenAProcessExitLeavesNoReplica()
    {
        startStorage(FileChannelDisk.INSTANCE, temp.resolve("storage"));
        final WriteBackLog log = log("restart", 1 << 20);
        appendLines(log, 3 * ENTRIES_PER_BATCH);
        assertEquals(0, log.flush());
        // Another replica is still here: the exit only voids that process's lines.
        assertEquals(0, log.appendProcessGone(2, () -> false));
        assertEquals(3L * ENTRIES_PER_BATCH + 1, log.entries());
        assertEquals(0, log.appendProcessGone(1, () -> true));
        assertEquals(0, log.entries(), "no replica left: nothing to keep");
        assertEquals(0, log.shippedBytes() + log.unshippedBytes());
        appended.clear();
        appendLines(log, ENTRIES_PER_BATCH + 1);
        assertEquals(0, log.flush());
        final FileStat stat = new FileStat();
        assertEquals(0, storageFiles().stat(LogBackup.BACKUP_DIR + "/restart", stat));
        assertEquals(log.shippedBytes(), stat.sizeBytes(), "the backup file holds only what came after");
        assertReplaysEverything(log);
        assertEquals(1, log.restarts());
    }

    @Test
    void shouldReplayEveryWriteBackInOrderFromTheBackupFileAndMemory()
    {
        startStorage(FileChannelDisk.INSTANCE, temp.resolve("storage"));
        final WriteBackLog log = log("replay", 1 << 20);
        for (int i = 0; i < 400; i++)
        {
            final int length = 512 << random.nextInt(4);
            append(log, 1 + random.nextInt(3), (long)random.nextInt(40) * LINE + length * random.nextInt(LINE / length),
                length);
            if (i % 50 == 0)
            {
                log.doWork();
            }
        }
        assertTrue(log.batchesShipped() > 0 && log.unshippedBytes() > 0, "replay should read both parts");
        assertReplaysEverything(log);
    }

    @Test
    void shouldKeepBatchesWhileStorageIsDownAndShipThemWhenItIsBack() throws Exception
    {
        final Path dataDir = temp.resolve("storage");
        final AutoCloseable first = startStorage(FileChannelDisk.INSTANCE, dataDir);
        final WriteBackLog log = log("down", 4 * BATCH, 200_000_000L);
        appendLines(log, ENTRIES_PER_BATCH + 1);
        assertEquals(1, log.doWork());
        first.close();

        appendLines(log, 2 * ENTRIES_PER_BATCH);
        assertEquals(0, log.doWork(), "the storage monitor is down");
        assertTrue(log.shipFailures() > 0);
        int accepted = 0;
        while (true)
        {
            final byte[] bytes = randomBytes(LINE);
            // Distinct lines: a compaction finds nothing to drop.
            final int result = log.append(9, (long)accepted * LINE, new UnsafeBuffer(bytes), 0, LINE);
            if (result != 0)
            {
                assertEquals(Errno.EAGAIN, result, "a full log refuses, never drops");
                break;
            }
            appended.add(new Object[] {9, (long)accepted * LINE, bytes});
            accepted++;
        }
        assertTrue(log.unshippedBytes() <= 4 * BATCH && accepted > 0);

        startStorage(FileChannelDisk.INSTANCE, dataDir);
        assertEquals(0, log.flush());
        assertEquals(0, log.unshippedBytes());
        assertReplaysEverything(log);
    }

    @Test
    void shouldKeepShippedBatchesThroughACrashOfTheStorageMonitorsDisk() throws Exception
    {
        final CrashSimulatingDisk disk = new CrashSimulatingDisk(temp, CrashSimulatingDisk.Loss.ALL_UNFORCED, 1);
        final AutoCloseable storage = startStorage(disk, temp.resolve("storage"));
        final WriteBackLog log = log("crash", 1 << 20);
        appendLines(log, 3 * ENTRIES_PER_BATCH);
        assertEquals(0, log.flush());
        disk.crash();
        storage.close();
        disk.restart();
        startStorage(disk, temp.resolve("storage"));
        assertReplaysEverything(log);
    }

    @Test
    void shouldNameTheFileAndOffsetOfADamagedBackup()
    {
        startStorage(FileChannelDisk.INSTANCE, temp.resolve("storage"));
        final WriteBackLog log = log("damaged", 1 << 20);
        appendLines(log, 2 * ENTRIES_PER_BATCH);
        assertEquals(0, log.flush());
        final FileCalls files = storageFiles();
        final int fd = files.open(LogBackup.BACKUP_DIR + "/damaged", FileFlags.O_RDWR);
        assertEquals(3, files.pwrite(fd, new UnsafeBuffer(new byte[] {1, 2, 3}), 0, 3, ENTRY + 100));

        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> log.replay((a, l, d, o, n) ->
        {
        }));
        assertTrue(ex.getMessage().contains("/memory-logs/damaged") && ex.getMessage().contains("byte " + ENTRY),
            ex.getMessage());
    }

    @Test
    void shouldLogTheWriteBacksAPrimaryForwardsAndShipThemInTheBackground() throws Exception
    {
        final MemoryMonitor secondary = startSecondaryWithBackup();
        final Connection primary = fabric().connect("memory", TIMEOUT_NS);
        final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
            LineRequestDescriptor.HEADER_LENGTH + LINE, 64));
        final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
        final int lines = 3 * ENTRIES_PER_BATCH;
        assertEquals(0, new MemoryMonitorProxy(primary, 0, LINE, TIMEOUT_NS).ownerOperation(Opcodes.REPLICA_VMA, 5, 0,
            (long)lines * LINE, Prot.PROT_READ | Prot.PROT_WRITE, Opcodes.VMA_MAP_FIXED, 0, 0), "the replica's vmas");
        for (int i = 0; i < lines; i++)
        {
            final byte[] bytes = randomBytes(LINE);
            LineRequestDescriptor.encode(request, 0, 5, 0, (long)i * LINE, LINE, 0, 0);
            request.putBytes(LineRequestDescriptor.DATA_OFFSET, bytes);
            assertEquals(LineReplyDescriptor.HEADER_LENGTH, primary.call(Opcodes.REPLICA_WRITE_BACK, request, 0,
                request.capacity(), reply, 0, reply.capacity(), TIMEOUT_NS));
            assertEquals(0, LineReplyDescriptor.result(reply, 0));
            appended.add(new Object[] {5, (long)i * LINE, bytes});
        }

        LineRequestDescriptor.encode(request, 0, 5, 0, 0, 3000, 0, 0);
        primary.call(Opcodes.REPLICA_WRITE_BACK, request, 0, request.capacity(), reply, 0, reply.capacity(),
            TIMEOUT_NS);
        assertEquals(Errno.EINVAL, LineReplyDescriptor.result(reply, 0), "a line length that is no power of two");
        LineRequestDescriptor.encode(request, 0, 5, 0, 0, LINE, 0, 0);
        assertEquals(Status.MALFORMED, primary.call(Opcodes.REPLICA_WRITE_BACK, request, 0, 100, reply, 0,
            reply.capacity(), TIMEOUT_NS), "a request shorter than its line");

        final WriteBackLog log = secondary.writeBackLog();
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (log.batchesShipped() < 2 && System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(1);
        }
        assertEquals(2, log.batchesShipped(), "the monitor's shipper agent should ship each full batch");
        assertReplaysEverything(log);
    }

    @Test
    void shouldRefuseForwardedWriteBacksOfAVRegionNotReplicatedHere()
    {
        final MemoryMonitor monitor = new MemoryMonitor(new MemoryMonitorContext()
            .fabric(fabric()).listenAddress("memory").globalAddress("").capacityBytes(16L << 20).chunkBytes(1 << 20))
            .start();
        closeables.add(monitor);
        final Connection primary = fabric().connect("memory", TIMEOUT_NS);
        final UnsafeBuffer request = new UnsafeBuffer(new byte[LineRequestDescriptor.HEADER_LENGTH + LINE]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[64]);
        LineRequestDescriptor.encode(request, 0, 5, 0, 0, LINE, 0, 0);
        primary.call(Opcodes.REPLICA_WRITE_BACK, request, 0, request.capacity(), reply, 0, reply.capacity(),
            TIMEOUT_NS);
        assertEquals(Errno.EFAULT, LineReplyDescriptor.result(reply, 0),
            "the vRegion's vma table never came here: the line is not logged");
    }

    /**
     * A promotion builds the vRegion's pages from the whole log, in order: the batches shipped to the backup file
     * (several; some pages last written there) and the tail in memory, with other vRegions' entries in between, lines
     * overwritten many times (page copies and sub-page lines), and a range unmapped and mapped again (zeros before its
     * newer lines). Fails if the replay skips the shipped batches or applies entries out of order.
     */
    @Test
    void shouldServeEveryNewestValueAfterAPromotionBuiltFromALongLog() throws Exception
    {
        final MemoryMonitor secondary = startSecondaryWithBackup();
        final MemoryMonitorProxy primary = new MemoryMonitorProxy(fabric().connect("memory", TIMEOUT_NS), 0, LINE,
            TIMEOUT_NS);
        final int pages = 48;
        final int rw = Prot.PROT_READ | Prot.PROT_WRITE;
        for (final int asid : new int[] {5, 6})
        {
            assertEquals(0, primary.ownerOperation(Opcodes.REPLICA_VMA, asid, 0, (long)pages * LINE, rw,
                Opcodes.VMA_MAP_FIXED, 0, 0));
        }
        final byte[][] expected = new byte[pages][LINE];
        for (int round = 0; round < 8; round++)
        {
            // Pages below 16 are written in the first round only: their newest values are in the backup file.
            for (int p = round == 0 ? 0 : 16; p < pages; p++)
            {
                final int length = round % 2 == 0 ? LINE : 512 << random.nextInt(3);
                final int at = length * random.nextInt(LINE / length);
                final byte[] bytes = randomBytes(length);
                assertEquals(0, primary.replicaWriteBack(5, (long)p * LINE + at, length, new UnsafeBuffer(bytes), 0));
                System.arraycopy(bytes, 0, expected[p], at, length);
                assertEquals(0, primary.replicaWriteBack(6, (long)p * LINE, LINE, new UnsafeBuffer(randomBytes(LINE)),
                    0), "another process's vRegion, logged in between");
            }
            if (round == 6) // round 7 writes sub-page lines: the rest of those pages must read zeros
            {
                assertTrue(primary.ownerOperation(Opcodes.REPLICA_VMA, 5, 20L * LINE, 4L * LINE, 0, Opcodes.VMA_UNMAP,
                    0, 0) >= 0);
                assertEquals(0, primary.ownerOperation(Opcodes.REPLICA_VMA, 5, 20L * LINE, 4L * LINE, rw,
                    Opcodes.VMA_MAP_FIXED, 0, 0));
                for (int p = 20; p < 24; p++)
                {
                    Arrays.fill(expected[p], (byte)0);
                }
            }
        }
        final WriteBackLog log = secondary.writeBackLog();
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (log.unshippedBytes() >= BATCH && System.nanoTime() - deadlineNs < 0)
        {
            Thread.sleep(1);
        }
        assertTrue(log.batchesShipped() >= 10 && log.unshippedBytes() > 0,
            "the replay should read many shipped batches and a tail in memory: " + log.batchesShipped() + " shipped, " +
            log.unshippedBytes() + " bytes in memory");

        assertEquals(0, primary.ownerOperation(Opcodes.REPLICA_PROMOTE, 5, 0, 0, 0, 0, 0, 0));
        final UnsafeBuffer line = new UnsafeBuffer(new byte[LINE]);
        for (int p = 0; p < pages; p++)
        {
            assertTrue(primary.fetchLine(5, (long)p * LINE, LINE, line, 0, null) >= 0);
            final byte[] served = new byte[LINE];
            line.getBytes(0, served);
            assertTrue(Arrays.equals(expected[p], served), "page " + p + " of the promoted vRegion is not its newest");
        }
        assertEquals(1, secondary.counters().get(MemoryMonitorCounters.PROMOTIONS));
        assertTrue(secondary.counters().get(MemoryMonitorCounters.REPLAYED_ENTRIES) > 8 * (pages - 16));
        assertEquals(Errno.ESTALE, primary.replicaWriteBack(5, 0, LINE, line, 0),
            "owned here now: a forward from its former primary is refused, which fences it there");
    }

    /**
     * Without a backup the log stays in memory and compacts: it keeps each line's newest version (no older one, none
     * a discard voids), stays within twice its live size, and replays to the same memory as everything appended.
     */
    @Test
    void shouldCompactALogWithoutBackupToEachLinesNewestVersion()
    {
        final WriteBackLog log = new WriteBackLog(null, SystemNanoClock.INSTANCE, BATCH, 4L * BATCH, 1_000_000L, null);
        closeables.add(log);
        final java.util.Map<Long, byte[]> appendedPages = new java.util.HashMap<>();
        for (int i = 0; i < 2000; i++)
        {
            randomStep(log, appendedPages, i, true);
        }
        assertTrue(log.compactions() > 0, "the log should have compacted");
        assertTrue(log.unshippedBytes() <= 4L * BATCH, "bounded: " + log.unshippedBytes());
        assertReplaysToPages(log, appendedPages);
        final long before = log.compactions();
        assertEquals(0, log.appendDiscard(1, 0, Long.MAX_VALUE), "process 1 exits");
        assertEquals(before + 1, log.compactions(), "a process's exit compacts the log at once");
        final long[] left = new long[2];
        log.replay((asid, lineAddress, data, dataOffset, lengthBytes) -> left[asid - 1]++);
        assertTrue(left[0] == 0 && left[1] > 0, "only process 2's lines are left: " + Arrays.toString(left));
    }

    @Test
    void shouldCompactTheUnshippedTailKeepingItsDiscardsWhileShippingFallsBehind() throws Exception
    {
        final Path dataDir = temp.resolve("storage");
        final AutoCloseable first = startStorage(FileChannelDisk.INSTANCE, dataDir);
        final WriteBackLog log = log("behind", 4L * BATCH, 200_000_000L);
        final java.util.Map<Long, byte[]> appendedPages = new java.util.HashMap<>();
        for (int i = 0; i < 4000; i++)
        {
            if (i == 1000)
            {
                assertEquals(0, log.flush());
                assertTrue(log.shippedBytes() > 0);
                first.close(); // shipping stops: the rest stays in memory
            }
            // Its discards void lines in the file too: the compacted tail must keep them.
            randomStep(log, appendedPages, i, false);
        }
        assertTrue(log.compactions() > 0, "the tail should have compacted instead of refusing appends");
        assertTrue(log.unshippedBytes() <= 4L * BATCH, "bounded: " + log.unshippedBytes());
        // A last discard, then another compaction: process 1's first pages must stay void, older lines in the file
        // or not.
        assertEquals(0, log.appendDiscard(1, 0, 4L * LINE));
        discard(appendedPages, 1, 0, 4L * LINE);
        final long compactions = log.compactions();
        for (long line = 0; log.compactions() == compactions; line++)
        {
            final byte[] bytes = randomBytes(LINE);
            assertEquals(0, log.append(3, line * LINE, new UnsafeBuffer(bytes), 0, LINE));
            write(appendedPages, 3, line * LINE, bytes, 0, LINE);
        }
        startStorage(FileChannelDisk.INSTANCE, dataDir);
        assertEquals(0, log.flush());
        assertReplaysToPages(log, appendedPages);
    }

    /**
     * Step {@code i} of a random mix over 12 pages of processes 1 and 2, applied to {@code log} and to {@code pages}:
     * every 97th a discard of two pages, else a write-back of a page ({@code subPage}: of 512 B to a page).
     */
    private void randomStep(final WriteBackLog log, final java.util.Map<Long, byte[]> pages, final int i,
        final boolean subPage)
    {
        final int asid = 1 + random.nextInt(2);
        final long page = random.nextInt(12);
        if (i % 97 == 96)
        {
            assertEquals(0, log.appendDiscard(asid, page * LINE, 2L * LINE));
            discard(pages, asid, page * LINE, 2L * LINE);
            return;
        }
        final int length = subPage ? 512 << random.nextInt(4) : LINE;
        final long address = page * LINE + (long)length * random.nextInt(LINE / length);
        final byte[] bytes = randomBytes(length);
        assertEquals(0, log.append(asid, address, new UnsafeBuffer(bytes), 0, length), "step " + i);
        write(pages, asid, address, bytes, 0, length);
    }

    /** Replaying {@code log} gives exactly {@code appendedPages}. */
    private static void assertReplaysToPages(final WriteBackLog log, final java.util.Map<Long, byte[]> appendedPages)
    {
        final java.util.Map<Long, byte[]> replayedPages = new java.util.HashMap<>();
        log.replay(new WriteBackLog.EntryHandler()
        {
            @Override
            public void onLine(final int asid, final long lineAddress, final org.agrona.DirectBuffer data,
                final int dataOffset, final int lengthBytes)
            {
                final byte[] bytes = new byte[lengthBytes];
                data.getBytes(dataOffset, bytes);
                write(replayedPages, asid, lineAddress, bytes, 0, lengthBytes);
            }

            @Override
            public void onDiscard(final int asid, final long start, final long length)
            {
                discard(replayedPages, asid, start, length);
            }
        });
        assertEquals(appendedPages.keySet(), replayedPages.keySet());
        for (final java.util.Map.Entry<Long, byte[]> page : appendedPages.entrySet())
        {
            assertTrue(Arrays.equals(page.getValue(), replayedPages.get(page.getKey())), "page " + page.getKey());
        }
    }

    private static void write(final java.util.Map<Long, byte[]> pages, final int asid, final long address,
        final byte[] bytes, final int from, final int length)
    {
        final byte[] page = pages.computeIfAbsent(((long)asid << 32) | (address / LINE), k -> new byte[LINE]);
        System.arraycopy(bytes, from, page, (int)(address % LINE), length);
    }

    private static void discard(final java.util.Map<Long, byte[]> pages, final int asid, final long start,
        final long length)
    {
        for (long at = start; at < start + length; at += LINE)
        {
            pages.remove(((long)asid << 32) | (at / LINE));
        }
    }

    /** A storage monitor at "storage", and a memory monitor at "memory" whose log ships there in batches of BATCH. */
    private MemoryMonitor startSecondaryWithBackup()
    {
        startStorage(FileChannelDisk.INSTANCE, temp.resolve("storage"));
        final MemoryMonitor secondary = new MemoryMonitor(new MemoryMonitorContext()
            .fabric(fabric()).listenAddress("memory").globalAddress("").capacityBytes(16L << 20).chunkBytes(1 << 20)
            .replicaBackupAddress("storage").replicaLogBatchBytes(BATCH)).start();
        closeables.add(secondary);
        return secondary;
    }

    private void assertReplaysEverything(final WriteBackLog log)
    {
        final List<Object[]> replayed = new ArrayList<>();
        log.replay((asid, lineAddress, data, dataOffset, lengthBytes) ->
        {
            final byte[] bytes = new byte[lengthBytes];
            data.getBytes(dataOffset, bytes);
            replayed.add(new Object[] {asid, lineAddress, bytes});
        });
        assertEquals(appended.size(), replayed.size(), "entries replayed");
        for (int i = 0; i < appended.size(); i++)
        {
            assertTrue(Arrays.deepEquals(appended.get(i), replayed.get(i)), "entry " + i + " differs");
        }
    }

    private void appendLines(final WriteBackLog log, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            append(log, 1, (long)appended.size() * LINE, LINE);
        }
    }

    private void append(final WriteBackLog log, final int asid, final long lineAddress, final int length)
    {
        final byte[] bytes = randomBytes(length);
        assertEquals(0, log.append(asid, lineAddress, new UnsafeBuffer(bytes), 0, length));
        appended.add(new Object[] {asid, lineAddress, bytes});
    }

    private byte[] randomBytes(final int length)
    {
        final byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    private WriteBackLog log(final String name, final long maxUnshippedBytes)
    {
        return log(name, maxUnshippedBytes, TIMEOUT_NS);
    }

    private WriteBackLog log(final String name, final long maxUnshippedBytes, final long timeoutNs)
    {
        final WriteBackLog log = new WriteBackLog(new LogBackup(fabric(), "storage", name, timeoutNs),
            SystemNanoClock.INSTANCE, BATCH, maxUnshippedBytes, 1_000_000L, null);
        closeables.add(log);
        return log;
    }

    /** A storage monitor at "storage" on a fabric of its own: closing it takes the address down. */
    private AutoCloseable startStorage(final Disk disk, final Path dataDir)
    {
        final Fabric own = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
        final StorageMonitor storage = new StorageMonitor(new StorageMonitorContext().fabric(own).disk(disk)
            .dataDir(dataDir).listenAddress("storage").globalAddress("")).start();
        final AutoCloseable both = () -> CloseHelper.closeAll(storage, own);
        closeables.add(both);
        return both;
    }

    private FileCalls storageFiles()
    {
        final StorageProxy proxy = new StorageProxy(fabric().connect("storage", TIMEOUT_NS), TIMEOUT_NS);
        closeables.add(proxy);
        return new FileCalls(proxy, LogBackup.BACKUP_VNODE);
    }

    private Fabric fabric()
    {
        final Fabric fabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
        closeables.add(fabric);
        return fabric;
    }
}
