package dev.splitkernel.monitor.storage;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.StorageDescriptor;
import org.agrona.collections.Int2ObjectHashMap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The storage monitor's state: per vNode, a flat hash table from full path to file or directory, kept on local disk
 * (one data file per file, named by a file id, and a journal of the table: {@link Journal}). Directories
 * are entries of the same table; a directory's children are the entries whose path extends it by one component.
 * <p>
 * Durability: fsync of any path forces the journal (every change of the table so far), and of a file its data and,
 * the first time, its data file's directory entries. A file's data is deleted only once the journal record that
 * removes it is forced, so a crash never leaves an entry whose data is gone. Writes not followed by fsync may be
 * lost in a crash (as on Linux); the journal's torn tail is cut at restart.
 * <p>
 * Paths are absolute and normalised ("/", or "/a/b": no empty, "." or ".." component, no trailing slash).
 * Results are Linux's: 0 or more, or a negative {@link Errno}.
 * <p>
 * Not thread-safe: owned by the {@link StorageMonitor}, which serialises requests.
 */
final class FileStore implements AutoCloseable
{
    /** Data files kept open at once; beyond, all are closed and reopened on use. */
    static final int MAX_OPEN_CHANNELS = 256;

    static final class Entry
    {
        final boolean directory;
        final long fileId;
        DiskFile file;
        long sizeBytes;
        /** False while the data file's creation may not be durable (its directory not forced since). */
        boolean linkDurable = true;

        Entry(final boolean directory, final long fileId)
        {
            this.directory = directory;
            this.fileId = fileId;
        }
    }

    private final Disk disk;
    private final Path dataDir;
    private final long capacityBytes;
    private final Int2ObjectHashMap<Map<String, Entry>> vNodes = new Int2ObjectHashMap<>();
    private final Journal journal;
    private long nextFileId = 1;
    private int openFiles;
    private long usedBytes;

    /**
     * Open (or create, durably) the store in {@code dataDir}, replaying its journal.
     *
     * @throws UncheckedIOException naming the directory if it cannot be used.
     * @throws JournalCorruptException if the journal is damaged anywhere but a torn tail.
     */
    FileStore(final Disk disk, final Path dataDir, final long capacityBytes)
    {
        this.disk = disk;
        this.dataDir = dataDir;
        this.capacityBytes = capacityBytes;
        try
        {
            if (!disk.exists(dataDir))
            {
                disk.createDirectories(dataDir);
                disk.forceDirectory(dataDir.toAbsolutePath().getParent());
            }
            journal = new Journal(disk, dataDir, this::replay);
            measureDataFiles();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open the storage data directory " + dataDir +
                " (set splitkernel.storage.dataDir to a writable directory)", ex);
        }
    }

    /** What the restart found in the journal: records replayed, and the torn tail cut if there was one. */
    String recoverySummary()
    {
        return "journal: " + journal.recordsReplayed() + " records replayed" + (journal.tornOffset() < 0 ? "" :
            ", a torn tail of " + journal.tornBytes() + " bytes cut at byte " + journal.tornOffset());
    }

    long journalRecordsReplayed()
    {
        return journal.recordsReplayed();
    }

    /** Where the restart cut a torn journal tail, or -1. */
    long journalTornOffset()
    {
        return journal.tornOffset();
    }

    long usedBytes()
    {
        return usedBytes;
    }

    /** Files and directories of every vNode. */
    int entryCount()
    {
        int count = 0;
        for (final Map<String, Entry> table : vNodes.values())
        {
            count += table.size();
        }
        return count;
    }

    // Operations
    // ------------------------------------------------------------------------------------------------------------

    /** open(2) at storage: flags O_CREAT, O_EXCL, O_TRUNC and the access mode. {@code stat} learns size and type. */
    long open(final int vNodeId, final String path, final int flags, final FileStat stat) throws IOException
    {
        final int check = checkPath(path);
        if (check < 0)
        {
            return check;
        }
        final Map<String, Entry> table = table(vNodeId);
        Entry entry = lookup(table, path);
        final boolean writable = (flags & FileFlags.O_ACCMODE) != FileFlags.O_RDONLY;
        if (entry == null)
        {
            if ((flags & FileFlags.O_CREAT) == 0)
            {
                final int parent = checkParent(table, path);
                return parent < 0 ? parent : Errno.ENOENT;
            }
            final int parent = checkParent(table, path);
            if (parent < 0)
            {
                return parent;
            }
            entry = new Entry(false, nextFileId++);
            table.put(path, entry);
            journal.append(JournalDescriptor.TYPE_CREATE, vNodeId, entry.fileId, path, null);
        }
        else
        {
            if ((flags & FileFlags.O_CREAT) != 0 && (flags & FileFlags.O_EXCL) != 0)
            {
                return Errno.EEXIST;
            }
            if (entry.directory && (writable || (flags & (FileFlags.O_CREAT | FileFlags.O_TRUNC)) != 0))
            {
                return Errno.EISDIR;
            }
            if (!entry.directory && writable && (flags & FileFlags.O_TRUNC) != 0)
            {
                resize(vNodeId, entry, 0);
            }
        }
        stat.set(entry.sizeBytes, type(entry), 0);
        return 0;
    }

    long stat(final int vNodeId, final String path, final FileStat stat)
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        stat.set(entry.sizeBytes, type(entry), 0);
        return 0;
    }

    /** Read up to {@code dst.remaining()} bytes at {@code offset}; returns the bytes read (0 at or past the end). */
    long read(final int vNodeId, final String path, final long offset, final ByteBuffer dst) throws IOException
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        if (entry.directory)
        {
            return Errno.EISDIR;
        }
        if (offset < 0)
        {
            return Errno.EINVAL;
        }
        if (offset >= entry.sizeBytes)
        {
            return 0;
        }
        final int want = (int)Math.min(dst.remaining(), entry.sizeBytes - offset);
        dst.limit(dst.position() + want);
        final DiskFile file = file(vNodeId, entry);
        int done = 0;
        while (done < want)
        {
            final int n = file.read(dst, offset + done);
            if (n <= 0)
            {
                // A data file shorter than its entry (lost before the crash): the rest reads as zeros.
                while (dst.hasRemaining())
                {
                    dst.put((byte)0);
                    done++;
                }
                break;
            }
            done += n;
        }
        return done;
    }

    long write(final int vNodeId, final String path, final long offset, final ByteBuffer src) throws IOException
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        if (entry.directory)
        {
            return Errno.EISDIR;
        }
        final int length = src.remaining();
        if (offset < 0 || offset + length < 0)
        {
            return Errno.EINVAL;
        }
        final long end = offset + length;
        if (end > entry.sizeBytes && usedBytes + (end - entry.sizeBytes) > capacityBytes)
        {
            return Errno.ENOSPC;
        }
        final DiskFile file = file(vNodeId, entry);
        int done = 0;
        while (src.hasRemaining())
        {
            done += file.write(src, offset + done);
        }
        if (end > entry.sizeBytes)
        {
            usedBytes += end - entry.sizeBytes;
            entry.sizeBytes = end;
        }
        return length;
    }

    /**
     * fsync: the journal (so the entry, and every table change before it, is durable), and for a file its data file's
     * directory entries (the first time) and its data.
     */
    long fsync(final int vNodeId, final String path) throws IOException
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        journal.force();
        if (!entry.directory)
        {
            final DiskFile file = file(vNodeId, entry);
            if (!entry.linkDurable)
            {
                disk.forceDirectory(dataDir);
                disk.forceDirectory(vNodeDir(vNodeId));
                entry.linkDurable = true;
            }
            file.force();
        }
        return 0;
    }

    long truncate(final int vNodeId, final String path, final long sizeBytes) throws IOException
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        if (entry.directory)
        {
            return Errno.EISDIR;
        }
        if (sizeBytes < 0)
        {
            return Errno.EINVAL;
        }
        if (sizeBytes > entry.sizeBytes && usedBytes + (sizeBytes - entry.sizeBytes) > capacityBytes)
        {
            return Errno.ENOSPC;
        }
        resize(vNodeId, entry, sizeBytes);
        return 0;
    }

    long unlink(final int vNodeId, final String path) throws IOException
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        if (entry.directory)
        {
            return Errno.EISDIR;
        }
        table(vNodeId).remove(path);
        journal.append(JournalDescriptor.TYPE_REMOVE, vNodeId, 0, path, null);
        // Durable before the data goes: a crash must not leave the entry (restored from the journal) without data.
        journal.force();
        dropData(vNodeId, entry);
        return 0;
    }

    /**
     * Remove every file and directory of the vNode, durably: the journal record is forced before the data files
     * are deleted, so a crash in between leaves orphan data files only, never a half-removed table.
     *
     * @return how many entries were removed (0 if the vNode had none).
     */
    long dropVNode(final int vNodeId) throws IOException
    {
        final Map<String, Entry> table = vNodes.remove(vNodeId);
        if (table == null || table.isEmpty())
        {
            return 0;
        }
        journal.append(JournalDescriptor.TYPE_DROP_VNODE, vNodeId, 0, "", null);
        journal.force();
        for (final Entry entry : table.values())
        {
            if (!entry.directory)
            {
                dropData(vNodeId, entry);
            }
        }
        try
        {
            disk.deleteIfExists(vNodeDir(vNodeId));
        }
        catch (final DirectoryNotEmptyException ex)
        {
            // Orphan data files of an earlier crash: harmless (file ids are never reused), left in place.
        }
        return table.size();
    }

    long mkdir(final int vNodeId, final String path) throws IOException
    {
        final int check = checkPath(path);
        if (check < 0)
        {
            return check;
        }
        final Map<String, Entry> table = table(vNodeId);
        if (lookup(table, path) != null)
        {
            return Errno.EEXIST;
        }
        final int parent = checkParent(table, path);
        if (parent < 0)
        {
            return parent;
        }
        table.put(path, new Entry(true, 0));
        journal.append(JournalDescriptor.TYPE_MKDIR, vNodeId, 0, path, null);
        return 0;
    }

    long rmdir(final int vNodeId, final String path) throws IOException
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        if (!entry.directory)
        {
            return Errno.ENOTDIR;
        }
        if ("/".equals(path))
        {
            return Errno.EBUSY;
        }
        if (hasChildren(table(vNodeId), path))
        {
            return Errno.ENOTEMPTY;
        }
        table(vNodeId).remove(path);
        journal.append(JournalDescriptor.TYPE_REMOVE, vNodeId, 0, path, null);
        return 0;
    }

    long rename(final int vNodeId, final String from, final String to) throws IOException
    {
        int check = checkPath(from);
        if (check < 0 || (check = checkPath(to)) < 0)
        {
            return check;
        }
        final Map<String, Entry> table = table(vNodeId);
        // Linux's order: both parents, then the source, then the target.
        int parent = checkParent(table, from);
        if (parent < 0 || (parent = checkParent(table, to)) < 0)
        {
            return parent;
        }
        final Entry source = lookup(table, from);
        if (source == null)
        {
            return Errno.ENOENT;
        }
        if ("/".equals(from) || "/".equals(to))
        {
            return Errno.EBUSY;
        }
        if (from.equals(to))
        {
            return 0;
        }
        if (to.startsWith(from + "/"))
        {
            return Errno.EINVAL;
        }
        if (from.startsWith(to + "/"))
        {
            return Errno.ENOTEMPTY;
        }
        final Entry target = lookup(table, to);
        if (target != null)
        {
            if (source.directory && !target.directory)
            {
                return Errno.ENOTDIR;
            }
            if (!source.directory && target.directory)
            {
                return Errno.EISDIR;
            }
            if (target.directory && hasChildren(table, to))
            {
                return Errno.ENOTEMPTY;
            }
        }
        journal.append(JournalDescriptor.TYPE_RENAME, vNodeId, 0, from, to);
        if (target != null && !target.directory)
        {
            // The replaced file's data goes now: the rename must be durable first (as for unlink).
            journal.force();
        }
        applyRename(vNodeId, table, from, to);
        return 0;
    }

    /**
     * readdir: the names of the directory's children, sorted, from index {@code first}, each followed by a 0 byte,
     * as many as fit in {@code dst}. Returns how many were written.
     */
    long readdir(final int vNodeId, final String path, final long first, final ByteBuffer dst)
    {
        final Entry entry = existing(vNodeId, path);
        if (entry == null)
        {
            return missing(vNodeId, path);
        }
        if (!entry.directory)
        {
            return Errno.ENOTDIR;
        }
        if (first < 0)
        {
            return Errno.EINVAL;
        }
        final List<String> names = children(table(vNodeId), path);
        int count = 0;
        for (int i = (int)Math.min(first, names.size()); i < names.size(); i++)
        {
            final byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
            if (dst.remaining() < name.length + 1)
            {
                if (count == 0)
                {
                    return Errno.EINVAL;
                }
                break;
            }
            dst.put(name).put((byte)0);
            count++;
        }
        return count;
    }

    // Path table
    // ------------------------------------------------------------------------------------------------------------

    /** 0 if {@code path} is absolute and normalised, else EINVAL (or ENAMETOOLONG). */
    static int checkPath(final String path)
    {
        if (path.length() > StorageDescriptor.MAX_PATH_BYTES)
        {
            return Errno.ENAMETOOLONG;
        }
        if (path.isEmpty() || path.charAt(0) != '/')
        {
            return Errno.EINVAL;
        }
        if (path.length() == 1)
        {
            return 0;
        }
        if (path.charAt(path.length() - 1) == '/' || path.contains("//") || path.contains("/./") ||
            path.contains("/../") || path.endsWith("/.") || path.endsWith("/..") || path.indexOf('\0') >= 0)
        {
            return Errno.EINVAL;
        }
        return 0;
    }

    private Entry existing(final int vNodeId, final String path)
    {
        return checkPath(path) < 0 ? null : lookup(table(vNodeId), path);
    }

    private static Entry lookup(final Map<String, Entry> table, final String path)
    {
        return "/".equals(path) ? ROOT : table.get(path);
    }

    private static final Entry ROOT = new Entry(true, 0);

    /** Why {@code path} does not exist: EINVAL for a bad path, ENOTDIR if an ancestor is a file, else ENOENT. */
    private int missing(final int vNodeId, final String path)
    {
        final int check = checkPath(path);
        if (check < 0)
        {
            return check;
        }
        final int parent = checkParent(table(vNodeId), path);
        return parent < 0 ? parent : Errno.ENOENT;
    }

    /** 0 if every ancestor of {@code path} exists and is a directory; else ENOENT or ENOTDIR as Linux's walk says. */
    private static int checkParent(final Map<String, Entry> table, final String path)
    {
        int slash = path.indexOf('/', 1);
        while (slash > 0)
        {
            final Entry ancestor = table.get(path.substring(0, slash));
            if (ancestor == null)
            {
                return Errno.ENOENT;
            }
            if (!ancestor.directory)
            {
                return Errno.ENOTDIR;
            }
            slash = path.indexOf('/', slash + 1);
        }
        return 0;
    }

    private static boolean hasChildren(final Map<String, Entry> table, final String path)
    {
        final String prefix = "/".equals(path) ? "/" : path + "/";
        for (final String key : table.keySet())
        {
            if (key.startsWith(prefix))
            {
                return true;
            }
        }
        return false;
    }

    private static List<String> children(final Map<String, Entry> table, final String path)
    {
        final String prefix = "/".equals(path) ? "/" : path + "/";
        final List<String> names = new ArrayList<>();
        for (final String key : table.keySet())
        {
            if (key.startsWith(prefix) && key.indexOf('/', prefix.length()) < 0)
            {
                names.add(key.substring(prefix.length()));
            }
        }
        names.sort(null);
        return names;
    }

    private Map<String, Entry> table(final int vNodeId)
    {
        Map<String, Entry> table = vNodes.get(vNodeId);
        if (table == null)
        {
            table = new HashMap<>();
            vNodes.put(vNodeId, table);
        }
        return table;
    }

    private static int type(final Entry entry)
    {
        return entry.directory ? StorageDescriptor.TYPE_DIRECTORY : StorageDescriptor.TYPE_FILE;
    }

    private void applyRename(final int vNodeId, final Map<String, Entry> table, final String from, final String to)
        throws IOException
    {
        final Entry replaced = table.remove(to);
        if (replaced != null && !replaced.directory)
        {
            dropData(vNodeId, replaced);
        }
        final Entry source = table.remove(from);
        table.put(to, source);
        if (source.directory)
        {
            final String prefix = from + "/";
            final List<String> moved = new ArrayList<>();
            for (final Iterator<String> it = table.keySet().iterator(); it.hasNext();)
            {
                final String key = it.next();
                if (key.startsWith(prefix))
                {
                    moved.add(key);
                }
            }
            for (final String key : moved)
            {
                table.put(to + key.substring(from.length()), table.remove(key));
            }
        }
    }

    // Disk
    // ------------------------------------------------------------------------------------------------------------

    private Path vNodeDir(final int vNodeId)
    {
        return dataDir.resolve("v" + vNodeId);
    }

    private Path dataFile(final int vNodeId, final long fileId)
    {
        return vNodeDir(vNodeId).resolve(fileId + ".dat");
    }

    private DiskFile file(final int vNodeId, final Entry entry) throws IOException
    {
        if (entry.file == null)
        {
            if (openFiles >= MAX_OPEN_CHANNELS)
            {
                // Bound the open file descriptors; fsync through a later handle still flushes the file's data.
                closeFiles();
            }
            final Path path = dataFile(vNodeId, entry.fileId);
            disk.createDirectories(path.getParent());
            if (!disk.exists(path))
            {
                entry.linkDurable = false;
            }
            entry.file = disk.open(path);
            openFiles++;
        }
        return entry.file;
    }

    private void resize(final int vNodeId, final Entry entry, final long sizeBytes) throws IOException
    {
        final DiskFile file = file(vNodeId, entry);
        if (sizeBytes < file.size())
        {
            file.truncate(sizeBytes);
        }
        else if (sizeBytes > file.size())
        {
            // Extend with a hole: write one zero byte at the new end.
            file.write(ByteBuffer.allocate(1), sizeBytes - 1);
        }
        usedBytes += sizeBytes - entry.sizeBytes;
        entry.sizeBytes = sizeBytes;
    }

    private void closeFiles() throws IOException
    {
        for (final Map<String, Entry> table : vNodes.values())
        {
            for (final Entry entry : table.values())
            {
                if (entry.file != null)
                {
                    entry.file.close();
                    entry.file = null;
                }
            }
        }
        openFiles = 0;
    }

    private void dropData(final int vNodeId, final Entry entry) throws IOException
    {
        if (entry.file != null)
        {
            entry.file.close();
            entry.file = null;
            openFiles--;
        }
        usedBytes -= entry.sizeBytes;
        disk.deleteIfExists(dataFile(vNodeId, entry.fileId));
    }

    /** Apply one journal record at restart. */
    private void replay(final int type, final int vNodeId, final long fileId, final String path, final String newPath)
        throws IOException
    {
        final Map<String, Entry> table = table(vNodeId);
        switch (type)
        {
            case JournalDescriptor.TYPE_CREATE:
                table.put(path, new Entry(false, fileId));
                nextFileId = Math.max(nextFileId, fileId + 1);
                break;
            case JournalDescriptor.TYPE_MKDIR:
                table.put(path, new Entry(true, 0));
                break;
            case JournalDescriptor.TYPE_REMOVE:
                table.remove(path);
                break;
            case JournalDescriptor.TYPE_RENAME:
                if (table.containsKey(path))
                {
                    applyRename(vNodeId, table, path, newPath);
                }
                break;
            case JournalDescriptor.TYPE_DROP_VNODE:
                vNodes.remove(vNodeId);
                break;
            default:
                throw new IllegalStateException("journal record type " + type + " passed validation");
        }
    }

    /** After replay: each file's size is its data file's (0 if the data file never reached the disk). */
    private void measureDataFiles() throws IOException
    {
        for (final Integer vNodeId : vNodes.keySet())
        {
            for (final Entry entry : vNodes.get(vNodeId).values())
            {
                if (!entry.directory)
                {
                    final Path file = dataFile(vNodeId, entry.fileId);
                    entry.sizeBytes = disk.exists(file) ? disk.size(file) : 0;
                    usedBytes += entry.sizeBytes;
                }
            }
        }
    }

    @Override
    public void close()
    {
        try
        {
            closeFiles();
            journal.close();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("closing the storage data directory " + dataDir, ex);
        }
    }
}
