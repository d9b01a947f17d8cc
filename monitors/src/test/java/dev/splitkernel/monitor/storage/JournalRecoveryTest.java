package dev.splitkernel.monitor.storage;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal at restart: a torn tail (a short record, a bad checksum, a hole before records never forced) is cut
 * and every record before it kept; damage before records that were forced after it is corruption in the middle,
 * refused with the offset named and the journal left as it was; a file that is not a journal is refused; a journal
 * whose header never reached the disk starts empty.
 */
class JournalRecoveryTest
{
    private static final int VNODE = 7;
    private static final long CAPACITY = 1L << 30;

    @TempDir
    Path temp;

    @Test
    void shouldCutAShortTailAndKeepEveryRecordBeforeIt() throws Exception
    {
        final Path dir = temp.resolve("data");
        writeFsyncedFiles(dir, 3);
        final Path journal = dir.resolve(Journal.FILE_NAME);
        final long goodSize = Files.size(journal);
        final byte[] next = Arrays.copyOf(records(journal).get(0), 20);
        Files.write(journal, next, java.nio.file.StandardOpenOption.APPEND);

        try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
        {
            assertEquals(goodSize, store.journalTornOffset());
            assertEquals(6, store.journalRecordsReplayed());
            assertFiles(store, 3);
            assertEquals(goodSize, Files.size(journal), "the torn tail should be cut");
            assertEquals(0, store.mkdir(VNODE, "/after"));
            assertEquals(0, store.fsync(VNODE, "/after"));
        }
        try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
        {
            assertEquals(-1, store.journalTornOffset());
            assertEquals(0, store.stat(VNODE, "/after", new FileStat()), "a record appended after the cut is kept");
            assertFiles(store, 3);
        }
    }

    @Test
    void shouldCutATailRecordWithABadChecksum() throws Exception
    {
        final Path dir = temp.resolve("data");
        writeFsyncedFiles(dir, 3);
        final Path journal = dir.resolve(Journal.FILE_NAME);
        final List<Integer> offsets = recordOffsets(journal);
        final int last = offsets.get(offsets.size() - 1);
        flipByte(journal, last + JournalDescriptor.PATH_OFFSET);

        try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
        {
            assertEquals(last, store.journalTornOffset());
            assertEquals(offsets.size() - 1, store.journalRecordsReplayed());
            assertFiles(store, 2);
            assertEquals(last, Files.size(journal));
        }
    }

    @Test
    void shouldRefuseABadChecksumInTheMiddleAndLeaveTheJournalAsItWas() throws Exception
    {
        final Path dir = temp.resolve("data");
        writeFsyncedFiles(dir, 3);
        final Path journal = dir.resolve(Journal.FILE_NAME);
        final int second = recordOffsets(journal).get(1);
        flipByte(journal, second + JournalDescriptor.PATH_OFFSET);
        final byte[] damaged = Files.readAllBytes(journal);

        final JournalCorruptException ex = assertThrows(JournalCorruptException.class,
            () -> new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY));
        assertEquals(second, ex.offset());
        assertTrue(ex.getMessage().contains("bad checksum") && ex.getMessage().contains("byte " + second) &&
            ex.getMessage().contains("4 valid record(s) follow"), ex.getMessage());
        assertArrayEquals(damaged, Files.readAllBytes(journal), "a corrupt journal must not be cut");
    }

    @Test
    void shouldRefuseABadLengthInTheMiddle() throws Exception
    {
        final Path dir = temp.resolve("data");
        writeFsyncedFiles(dir, 3);
        final Path journal = dir.resolve(Journal.FILE_NAME);
        final int second = recordOffsets(journal).get(1);
        final byte[] bytes = Files.readAllBytes(journal);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(second, 1_000_000);
        Files.write(journal, bytes);

        final JournalCorruptException ex = assertThrows(JournalCorruptException.class,
            () -> new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY));
        assertEquals(second, ex.offset());
        assertTrue(ex.getMessage().contains("bad length"), ex.getMessage());
    }

    @Test
    void shouldRefuseItThroughTheStorageMonitorWithTheFixNamed() throws Exception
    {
        final Path dir = temp.resolve("data");
        writeFsyncedFiles(dir, 2);
        final Path journal = dir.resolve(Journal.FILE_NAME);
        flipByte(journal, recordOffsets(journal).get(0) + JournalDescriptor.PATH_OFFSET);

        final JournalCorruptException ex = assertThrows(JournalCorruptException.class, () -> new StorageMonitor(
            new StorageMonitorContext().dataDir(dir).listenAddress("storage").globalAddress("")));
        assertTrue(ex.getMessage().contains(journal.toString()) && ex.getMessage().contains("restore the data"),
            ex.getMessage());
    }

    @Test
    void shouldCutAHoleBeforeRecordsThatWereNeverForced() throws Exception
    {
        final Path dir = temp.resolve("data");
        writeFsyncedFiles(dir, 1);
        final Path journal = dir.resolve(Journal.FILE_NAME);
        final int forcedRecords = recordOffsets(journal).size();
        try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
        {
            // Three records appended, none forced: a crash may keep the later ones and lose an earlier one.
            assertEquals(0, store.mkdir(VNODE, "/x"));
            assertEquals(0, store.mkdir(VNODE, "/y"));
            assertEquals(0, store.mkdir(VNODE, "/z"));
        }
        final List<Integer> offsets = recordOffsets(journal);
        final int hole = offsets.get(forcedRecords);
        final byte[] bytes = Files.readAllBytes(journal);
        Arrays.fill(bytes, hole, offsets.get(forcedRecords + 1), (byte)0);
        Files.write(journal, bytes);

        try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
        {
            assertEquals(hole, store.journalTornOffset());
            assertFiles(store, 1);
            assertEquals(Errno.ENOENT, store.stat(VNODE, "/z", new FileStat()), "records after the hole were never " +
                "forced: they go with it");
        }
    }

    @Test
    void shouldRefuseAFileThatIsNotAJournal() throws Exception
    {
        final Path dir = temp.resolve("data");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(Journal.FILE_NAME), "not a journal at all\n");

        final JournalCorruptException ex = assertThrows(JournalCorruptException.class,
            () -> new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY));
        assertEquals(0, ex.offset());
        assertTrue(ex.getMessage().contains("header"), ex.getMessage());
    }

    @Test
    void shouldStartEmptyOnAJournalWhoseHeaderNeverReachedTheDisk() throws Exception
    {
        for (final int length : new int[] {0, 3, 8, 50})
        {
            final Path dir = temp.resolve("data" + length);
            Files.createDirectories(dir);
            Files.write(dir.resolve(Journal.FILE_NAME), new byte[length]);
            try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
            {
                assertEquals(0, store.entryCount());
                assertEquals(0, store.mkdir(VNODE, "/d"));
                assertEquals(0, store.fsync(VNODE, "/d"));
            }
            try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
            {
                assertEquals(0, store.stat(VNODE, "/d", new FileStat()), "length " + length);
            }
        }
    }

    @Test
    void shouldKeepAnAcknowledgedChangeOfAFreshStoreThroughACrash() throws Exception
    {
        final CrashSimulatingDisk disk = new CrashSimulatingDisk(temp, CrashSimulatingDisk.Loss.ALL_UNFORCED, 1);
        final Path dir = temp.resolve("data");
        final FileStore store = new FileStore(disk, dir, CAPACITY);
        assertEquals(0, store.mkdir(VNODE, "/d"));
        assertEquals(0, store.fsync(VNODE, "/d"));
        disk.restart();
        try (FileStore again = new FileStore(disk, dir, CAPACITY))
        {
            assertEquals(0, again.stat(VNODE, "/d", new FileStat()));
        }
    }

    @Test
    void shouldOpenAfterACrashThatKeepsSomeRecordsNeverForced() throws Exception
    {
        for (long seed = 1; seed <= 64; seed++)
        {
            final SeededCrash crash = new SeededCrash(temp.resolve("seed" + seed), seed);
            final FileStore store = crash.open();
            assertEquals(0, store.mkdir(VNODE, "/d"));
            assertEquals(0, store.mkdir(VNODE, "/d/e"));
            crash.disk.restart();
            try (FileStore again = crash.open())
            {
                final boolean e = again.stat(VNODE, "/d/e", new FileStat()) == 0;
                assertTrue(!e || again.stat(VNODE, "/d", new FileStat()) == 0, "seed " + seed + ": a later record " +
                    "kept without the one before it");
            }
        }
    }

    @Test
    void shouldKeepWhatIsAcknowledgedAfterARecoveryThroughASecondCrash() throws Exception
    {
        int cuts = 0;
        for (long seed = 1; seed <= 64; seed++)
        {
            final SeededCrash crash = new SeededCrash(temp.resolve("twice" + seed), seed);
            final FileStore first = crash.open();
            assertEquals(0, first.mkdir(VNODE, "/forced"));
            assertEquals(0, first.fsync(VNODE, "/forced"));
            for (int i = 0; i < 6; i++)
            {
                assertEquals(0, first.mkdir(VNODE, "/loose" + i));
            }
            crash.disk.restart();
            try (FileStore second = crash.open())
            {
                cuts += second.journalTornOffset() >= 0 ? 1 : 0;
                assertEquals(0, second.mkdir(VNODE, "/after"));
                assertEquals(0, second.fsync(VNODE, "/after"));
            }
            crash.disk.restart();
            try (FileStore third = crash.open())
            {
                assertEquals(0, third.stat(VNODE, "/forced", new FileStat()), "seed " + seed);
                assertEquals(0, third.stat(VNODE, "/after", new FileStat()), "seed " + seed + ": appended after the " +
                    "restart cut a torn tail, and acknowledged");
            }
        }
        assertTrue(cuts > 0, "no seed tore the tail: the test exercises nothing");
    }

    /** A store on a crash-simulating disk that keeps a seeded-random part of what was not forced. */
    private static final class SeededCrash
    {
        final CrashSimulatingDisk disk;
        final Path dir;

        SeededCrash(final Path root, final long seed)
        {
            disk = new CrashSimulatingDisk(root, CrashSimulatingDisk.Loss.SOME_UNFORCED, seed);
            dir = root.resolve("data");
        }

        FileStore open()
        {
            return new FileStore(disk, dir, CAPACITY);
        }
    }

    /** {@code count} files under /dir, each written and fsynced: 2 records each (a mkdir and a create). */
    private static void writeFsyncedFiles(final Path dir, final int count) throws Exception
    {
        try (FileStore store = new FileStore(FileChannelDisk.INSTANCE, dir, CAPACITY))
        {
            for (int i = 0; i < count; i++)
            {
                assertEquals(0, store.mkdir(VNODE, "/dir" + i));
                final String path = "/dir" + i + "/f";
                assertEquals(0, store.open(VNODE, path, FileFlags.O_CREAT | FileFlags.O_RDWR, new FileStat()));
                final byte[] data = content(i);
                assertEquals(data.length, store.write(VNODE, path, 0, ByteBuffer.wrap(data)));
                assertEquals(0, store.fsync(VNODE, path));
            }
        }
    }

    /** The first {@code count} files of {@link #writeFsyncedFiles} are there with their bytes. */
    private static void assertFiles(final FileStore store, final int count) throws Exception
    {
        for (int i = 0; i < count; i++)
        {
            final byte[] data = content(i);
            final ByteBuffer back = ByteBuffer.allocate(data.length + 10);
            assertEquals(data.length, store.read(VNODE, "/dir" + i + "/f", 0, back));
            assertArrayEquals(data, Arrays.copyOf(back.array(), data.length));
        }
    }

    private static byte[] content(final int i)
    {
        return ("file " + i + " ").repeat(100 + i).getBytes(StandardCharsets.US_ASCII);
    }

    private static List<Integer> recordOffsets(final Path journal) throws Exception
    {
        final ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(journal)).order(ByteOrder.LITTLE_ENDIAN);
        final List<Integer> offsets = new ArrayList<>();
        for (int at = JournalDescriptor.FILE_HEADER_LENGTH; at < bytes.limit(); at += bytes.getInt(at))
        {
            offsets.add(at);
        }
        return offsets;
    }

    private static List<byte[]> records(final Path journal) throws Exception
    {
        final byte[] bytes = Files.readAllBytes(journal);
        final List<Integer> offsets = recordOffsets(journal);
        final List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < offsets.size(); i++)
        {
            final int end = i + 1 < offsets.size() ? offsets.get(i + 1) : bytes.length;
            records.add(Arrays.copyOfRange(bytes, offsets.get(i), end));
        }
        return records;
    }

    private static void flipByte(final Path file, final int offset) throws Exception
    {
        final byte[] bytes = Files.readAllBytes(file);
        bytes[offset] ^= 0x5A;
        Files.write(file, bytes);
    }
}
