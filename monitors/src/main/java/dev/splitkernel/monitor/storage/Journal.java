package dev.splitkernel.monitor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * The storage monitor's journal ({@link JournalDescriptor}): appends records, forces them, and on open replays them,
 * cutting a torn tail and refusing corruption in the middle.
 * <p>
 * Not thread-safe: owned by the {@link FileStore}.
 */
final class Journal implements AutoCloseable
{
    static final String FILE_NAME = "journal.log";

    /** Receives the records in order while the journal is replayed. */
    interface RecordHandler
    {
        void onRecord(int type, int vNodeId, long fileId, String path, String newPath) throws IOException;
    }

    private final Disk disk;
    private final Path path;
    private final DiskFile file;
    private final ByteBuffer record = ByteBuffer.allocate(JournalDescriptor.MAX_RECORD_LENGTH)
        .order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32 crc = new CRC32();
    private long length;
    private long syncedLength;
    private long recordsReplayed;
    private long tornOffset = -1;
    private long tornBytes;

    /**
     * Open the journal in {@code dataDir} (creating it durably if missing) and replay it into {@code handler}.
     *
     * @throws JournalCorruptException if it is damaged anywhere but a torn tail.
     */
    Journal(final Disk disk, final Path dataDir, final RecordHandler handler) throws IOException
    {
        this.disk = disk;
        this.path = dataDir.resolve(FILE_NAME);
        final boolean existed = disk.exists(path);
        file = disk.open(path);
        try
        {
            if (!existed || file.size() < JournalDescriptor.FILE_HEADER_LENGTH)
            {
                create(dataDir);
            }
            else
            {
                replay(handler);
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            file.close();
            throw ex;
        }
    }

    /** Records applied at open. */
    long recordsReplayed()
    {
        return recordsReplayed;
    }

    /** Where a torn tail was cut at open, or -1. */
    long tornOffset()
    {
        return tornOffset;
    }

    /** Bytes of torn tail cut at open. */
    long tornBytes()
    {
        return tornBytes;
    }

    /** Append a record (not forced: see {@link #force()}). */
    void append(final int type, final int vNodeId, final long fileId, final String path, final String newPath)
        throws IOException
    {
        final byte[] pathBytes = path.getBytes(StandardCharsets.UTF_8);
        final byte[] newPathBytes = newPath == null ? new byte[0] : newPath.getBytes(StandardCharsets.UTF_8);
        final int recordLength = JournalDescriptor.HEADER_LENGTH + pathBytes.length + newPathBytes.length +
            JournalDescriptor.CHECKSUM_LENGTH;
        record.clear();
        record.putInt(recordLength).putInt(type).putInt(vNodeId).putLong(fileId).putLong(syncedLength)
            .putInt(pathBytes.length).putInt(newPathBytes.length).put(pathBytes).put(newPathBytes);
        crc.reset();
        crc.update(record.array(), 0, record.position());
        record.putInt((int)crc.getValue());
        record.flip();
        while (record.hasRemaining())
        {
            file.write(record, length + record.position());
        }
        length += recordLength;
    }

    /** Make every record appended so far durable (nothing to do if they already are). */
    void force() throws IOException
    {
        if (syncedLength < length)
        {
            file.force();
            syncedLength = length;
        }
    }

    @Override
    public void close() throws IOException
    {
        file.close();
    }

    /** A new (or torn before its header was durable) journal: the header, forced, and its link in the directory. */
    private void create(final Path dataDir) throws IOException
    {
        file.truncate(0);
        record.clear();
        record.putInt(JournalDescriptor.MAGIC).putInt(JournalDescriptor.VERSION).flip();
        while (record.hasRemaining())
        {
            file.write(record, record.position());
        }
        file.force();
        disk.forceDirectory(dataDir);
        length = JournalDescriptor.FILE_HEADER_LENGTH;
        syncedLength = length;
    }

    private void replay(final RecordHandler handler) throws IOException
    {
        final long size = file.size();
        if (size > Integer.MAX_VALUE - 8)
        {
            throw new JournalCorruptException(path, 0, "it is " + size + " bytes long, more than a journal can be");
        }
        final ByteBuffer all = ByteBuffer.allocate((int)size).order(ByteOrder.LITTLE_ENDIAN);
        while (all.hasRemaining() && file.read(all, all.position()) > 0)
        {
            // read until full
        }
        if (all.hasRemaining())
        {
            throw new IOException("the journal " + path + " shrank while being read");
        }
        if (all.getInt(JournalDescriptor.MAGIC_OFFSET) != JournalDescriptor.MAGIC ||
            all.getInt(JournalDescriptor.VERSION_OFFSET) != JournalDescriptor.VERSION)
        {
            if (allZero(all))
            {
                // Created just before a crash: its length reached the disk, its header did not.
                tornOffset = 0;
                tornBytes = size;
                create(path.getParent());
                return;
            }
            throw new JournalCorruptException(path, 0, "it does not start with the header of a version " +
                JournalDescriptor.VERSION + " journal (another program's file, or an older version's)");
        }
        int at = JournalDescriptor.FILE_HEADER_LENGTH;
        while (at < size)
        {
            final int recordLength = validRecordLength(all, at);
            if (recordLength < 0)
            {
                cutOrRefuse(all, at);
                break;
            }
            apply(all, at, handler);
            recordsReplayed++;
            at += recordLength;
        }
        length = at;
        syncedLength = at;
    }

    private static boolean allZero(final ByteBuffer all)
    {
        for (int i = 0; i < all.limit(); i++)
        {
            if (all.get(i) != 0)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * A bad record at {@code at}: if a valid record after it says the journal had been forced past it, it was
     * durable and is now damaged (refuse); else it is the torn tail of a crash (cut).
     */
    private void cutOrRefuse(final ByteBuffer all, final int at) throws IOException
    {
        final int size = all.limit();
        int later = 0;
        int forcedAfter = -1;
        long forcedTo = 0;
        for (int next = at + 1; next <= size - JournalDescriptor.HEADER_LENGTH - JournalDescriptor.CHECKSUM_LENGTH;)
        {
            final int recordLength = validRecordLength(all, next);
            if (recordLength < 0)
            {
                next++;
                continue;
            }
            later++;
            final long synced = all.getLong(next + JournalDescriptor.SYNCED_LENGTH_OFFSET);
            if (synced > at && forcedAfter < 0)
            {
                forcedAfter = next;
                forcedTo = synced;
            }
            next += recordLength;
        }
        if (forcedAfter >= 0)
        {
            throw new JournalCorruptException(path, at, describeBad(all, at) + ", and " + later +
                " valid record(s) follow it; the one at byte " + forcedAfter + " was appended after the journal " +
                "had been forced to byte " + forcedTo + ", so the bad record had been durable");
        }
        tornOffset = at;
        tornBytes = size - at;
        file.truncate(at);
    }

    private String describeBad(final ByteBuffer all, final int at)
    {
        final int remaining = all.limit() - at;
        if (remaining < JournalDescriptor.HEADER_LENGTH + JournalDescriptor.CHECKSUM_LENGTH)
        {
            return "a record cut short (" + remaining + " bytes)";
        }
        final int recordLength = all.getInt(at + JournalDescriptor.RECORD_LENGTH_OFFSET);
        if (recordLength > remaining && recordLength <= JournalDescriptor.MAX_RECORD_LENGTH)
        {
            return "a record cut short (" + remaining + " of " + recordLength + " bytes)";
        }
        if (!plausible(all, at))
        {
            return "a record with a bad length or type field (length " + recordLength + ")";
        }
        return "a record with a bad checksum";
    }

    /** The length of the record at {@code at} if it is whole, well formed and its checksum matches; else -1. */
    private int validRecordLength(final ByteBuffer all, final int at)
    {
        if (!plausible(all, at))
        {
            return -1;
        }
        final int recordLength = all.getInt(at + JournalDescriptor.RECORD_LENGTH_OFFSET);
        final int checksumAt = at + recordLength - JournalDescriptor.CHECKSUM_LENGTH;
        crc.reset();
        crc.update(all.array(), at, recordLength - JournalDescriptor.CHECKSUM_LENGTH);
        return (int)crc.getValue() == all.getInt(checksumAt) ? recordLength : -1;
    }

    /** Whether the fields of the record at {@code at} agree with each other and fit in the journal. */
    private static boolean plausible(final ByteBuffer all, final int at)
    {
        final int remaining = all.limit() - at;
        if (remaining < JournalDescriptor.HEADER_LENGTH + JournalDescriptor.CHECKSUM_LENGTH)
        {
            return false;
        }
        final int recordLength = all.getInt(at + JournalDescriptor.RECORD_LENGTH_OFFSET);
        final int pathLength = all.getInt(at + JournalDescriptor.PATH_LENGTH_OFFSET);
        final int newPathLength = all.getInt(at + JournalDescriptor.NEW_PATH_LENGTH_OFFSET);
        return recordLength <= remaining && recordLength <= JournalDescriptor.MAX_RECORD_LENGTH &&
            JournalDescriptor.isKnownType(all.getInt(at + JournalDescriptor.TYPE_OFFSET)) &&
            pathLength >= 0 && pathLength <= JournalDescriptor.MAX_PATH_UTF8_BYTES &&
            newPathLength >= 0 && newPathLength <= JournalDescriptor.MAX_PATH_UTF8_BYTES &&
            recordLength == JournalDescriptor.HEADER_LENGTH + pathLength + newPathLength +
                JournalDescriptor.CHECKSUM_LENGTH;
    }

    private static void apply(final ByteBuffer all, final int at, final RecordHandler handler) throws IOException
    {
        final int pathLength = all.getInt(at + JournalDescriptor.PATH_LENGTH_OFFSET);
        final int newPathLength = all.getInt(at + JournalDescriptor.NEW_PATH_LENGTH_OFFSET);
        final String path = new String(all.array(), at + JournalDescriptor.PATH_OFFSET, pathLength,
            StandardCharsets.UTF_8);
        final String newPath = new String(all.array(), at + JournalDescriptor.PATH_OFFSET + pathLength,
            newPathLength, StandardCharsets.UTF_8);
        handler.onRecord(all.getInt(at + JournalDescriptor.TYPE_OFFSET), all.getInt(at + JournalDescriptor.VNODE_OFFSET),
            all.getLong(at + JournalDescriptor.FILE_ID_OFFSET), path, newPath);
    }
}
