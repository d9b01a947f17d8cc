package dev.splitkernel.monitor.processor;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageDescriptor;
import dev.splitkernel.protocol.StorageManagerProxy;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.protocol.VNodeInfo;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.workload.WorkloadFiles;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The file system calls of one process, and its fd table: the only file state outside storage (LegoOS keeps it at
 * the pComponent too). Every request goes to the vNode's buffer cache (a memory monitor) or, without one, straight
 * to its storage monitor, carrying the vNode, the full path, the offset and the length.
 * <p>
 * Results as Linux's: 0 or more on success, or a negative {@link Errno} (ENOENT, EEXIST, EBADF, EISDIR, ENOTDIR,
 * ENOTEMPTY, EINVAL, ENOSPC, EMFILE, ...) or a negative transport {@link Status} (TIMEOUT, NOT_CONNECTED) when the
 * monitor cannot be reached. Paths are absolute or relative to "/"; "." and ".." are resolved here.
 * <p>
 * Thread-safe: threads of the process share the fd table; calls are serialised.
 */
public final class FileCalls implements WorkloadFiles, AutoCloseable
{
    /** Descriptors 0 to 2 are reserved (stdin, stdout, stderr), as on Linux. */
    public static final int FIRST_FD = 3;
    public static final int MAX_OPEN_FILES = 1024;
    /** Bytes moved per request; larger reads and writes are split. */
    public static final int CHUNK_BYTES = 64 * 1024;

    private static final class OpenFile
    {
        final byte[] path;
        final int flags;
        final boolean directory;
        long position;

        OpenFile(final byte[] path, final int flags, final boolean directory)
        {
            this.path = path;
            this.flags = flags;
            this.directory = directory;
        }
    }

    /** The vNode an embedded cluster creates first ("default"): processes that name none run on it. */
    public static final int DEFAULT_VNODE_ID = 1;

    private final StorageProxy target;
    private final boolean ownsTarget;
    private final int vNodeId;
    private final OpenFile[] fds = new OpenFile[MAX_OPEN_FILES];
    private final FileStat scratchStat = new FileStat();
    private final UnsafeBuffer names = new UnsafeBuffer(new byte[StorageProxy.MAX_DATA_BYTES]);

    /**
     * @param target  the vNode's buffer cache or storage monitor (not closed by this object).
     * @param vNodeId the vNode whose files the process sees.
     */
    public FileCalls(final StorageProxy target, final int vNodeId)
    {
        this(target, vNodeId, false);
    }

    private FileCalls(final StorageProxy target, final int vNodeId, final boolean ownsTarget)
    {
        this.target = target;
        this.vNodeId = vNodeId;
        this.ownsTarget = ownsTarget;
    }

    /**
     * The file calls of a process on vNode {@code vNodeId}: asks the GSM at {@code globalAddress} for the vNode's
     * buffer-cache memory monitor (or, without one, its storage monitor) and connects to it. The connection is closed
     * with the returned object.
     *
     * @throws IllegalStateException naming the fix when the GSM does not know the vNode or cannot be reached.
     */
    public static FileCalls connect(
        final Fabric fabric, final String globalAddress, final int vNodeId, final long timeoutNs)
    {
        if (globalAddress == null || globalAddress.isEmpty())
        {
            throw new IllegalStateException("files need the global manager's address (splitkernel.global.address)");
        }
        final VNodeInfo info;
        try (StorageManagerProxy gsm = new StorageManagerProxy(fabric.connect(globalAddress), timeoutNs))
        {
            info = gsm.lookupVNode(vNodeId);
            if (info == null)
            {
                throw new IllegalStateException("the GSM at " + globalAddress + " has no vNode " + vNodeId + " (" +
                    Errno.describe(gsm.lastResult()) + "): create it first (StorageManagerProxy.createVNode)");
            }
        }
        final String address = info.cacheAddress().isEmpty() ? info.storageAddress() : info.cacheAddress();
        if (address.isEmpty())
        {
            throw new IllegalStateException("vNode " + vNodeId + " has no storage monitor address at the GSM");
        }
        return new FileCalls(new StorageProxy(fabric.connect(address), timeoutNs), vNodeId, true);
    }

    public int vNodeId()
    {
        return vNodeId;
    }

    /** open(2): a new descriptor, or ENOENT, EEXIST, EISDIR, ENOTDIR, EINVAL, EMFILE, ENAMETOOLONG. */
    @Override
    public synchronized int open(final String path, final int flags)
    {
        if ((flags & ~FileFlags.KNOWN) != 0 || (flags & FileFlags.O_ACCMODE) == FileFlags.O_ACCMODE)
        {
            return Errno.EINVAL;
        }
        final byte[] resolved = resolve(path);
        if (resolved == null)
        {
            return Errno.ENOENT;
        }
        int fd = -1;
        for (int i = FIRST_FD; i < MAX_OPEN_FILES; i++)
        {
            if (fds[i] == null)
            {
                fd = i;
                break;
            }
        }
        if (fd < 0)
        {
            return Errno.EMFILE;
        }
        final long result = target.request(
            Opcodes.FILE_OPEN, vNodeId, flags, 0, 0, resolved, null, null, 0, null, 0, scratchStat);
        if (result < 0)
        {
            return (int)result;
        }
        fds[fd] = new OpenFile(resolved, flags, scratchStat.isDirectory());
        return fd;
    }

    /** close(2): 0, EBADF, or the error of writing the file's buffered pages to storage (the fd is closed anyway). */
    @Override
    public synchronized int close(final int fd)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        fds[fd] = null;
        if (file.directory || !FileFlags.canWrite(file.flags))
        {
            return 0;
        }
        return (int)target.request(Opcodes.FILE_CLOSE, vNodeId, 0, 0, 0, file.path, null, null, 0, null, 0, null);
    }

    /** read(2) at the file position, which advances: bytes read (0 at end of file), EBADF, EISDIR, EINVAL. */
    public synchronized long read(final int fd, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        final long result = readAt(file, dst, dstOffset, length, file.position);
        if (result > 0)
        {
            file.position += result;
        }
        return result;
    }

    /** pread(2): as {@link #read} at {@code offset}; the position does not move. EINVAL for a negative offset. */
    @Override
    public synchronized long pread(
        final int fd, final MutableDirectBuffer dst, final int dstOffset, final int length, final long offset)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        return offset < 0 ? Errno.EINVAL : readAt(file, dst, dstOffset, length, offset);
    }

    /** write(2) at the file position (at the end with O_APPEND), which advances: bytes written, EBADF, ENOSPC, .... */
    public synchronized long write(final int fd, final DirectBuffer src, final int srcOffset, final int length)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        if ((file.flags & FileFlags.O_APPEND) != 0 && FileFlags.canWrite(file.flags))
        {
            final long size = target.request(
                Opcodes.FILE_STAT, vNodeId, 0, 0, 0, file.path, null, null, 0, null, 0, scratchStat);
            if (size < 0)
            {
                return size;
            }
            file.position = scratchStat.sizeBytes();
        }
        final long result = writeAt(file, src, srcOffset, length, file.position);
        if (result > 0)
        {
            file.position += result;
        }
        return result;
    }

    /** pwrite(2): as {@link #write} at {@code offset}; the position does not move. */
    @Override
    public synchronized long pwrite(
        final int fd, final DirectBuffer src, final int srcOffset, final int length, final long offset)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        return offset < 0 ? Errno.EINVAL : writeAt(file, src, srcOffset, length, offset);
    }

    /** lseek(2): the new position, or EBADF, EINVAL (bad whence or a negative result). */
    public synchronized long lseek(final int fd, final long offset, final int whence)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        final long base;
        switch (whence)
        {
            case FileFlags.SEEK_SET:
                base = 0;
                break;
            case FileFlags.SEEK_CUR:
                base = file.position;
                break;
            case FileFlags.SEEK_END:
            {
                final long result = target.request(
                    Opcodes.FILE_STAT, vNodeId, 0, 0, 0, file.path, null, null, 0, null, 0, scratchStat);
                if (result < 0)
                {
                    return result;
                }
                base = scratchStat.sizeBytes();
                break;
            }
            default:
                return Errno.EINVAL;
        }
        final long position = base + offset;
        if (position < 0 || (offset > 0 && position < base))
        {
            return Errno.EINVAL;
        }
        file.position = position;
        return position;
    }

    /** fsync(2): the file's buffered pages are written to storage and forced to its disk. 0, EBADF, ENOSPC, EIO. */
    public synchronized int fsync(final int fd)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        return (int)target.request(Opcodes.FILE_FSYNC, vNodeId, 0, 0, 0, file.path, null, null, 0, null, 0, null);
    }

    /** fstat(2): 0 (with {@code stat} filled), EBADF. */
    public synchronized int fstat(final int fd, final FileStat stat)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        return (int)target.request(Opcodes.FILE_STAT, vNodeId, 0, 0, 0, file.path, null, null, 0, null, 0, stat);
    }

    /** stat(2): 0 (with {@code stat} filled), ENOENT, ENOTDIR. */
    public synchronized int stat(final String path, final FileStat stat)
    {
        return pathCall(Opcodes.FILE_STAT, path, null, 0, stat);
    }

    /** ftruncate(2): 0, EBADF, EINVAL (negative length, or the fd is not open for writing), ENOSPC. */
    public synchronized int ftruncate(final int fd, final long lengthBytes)
    {
        final OpenFile file = file(fd);
        if (file == null)
        {
            return Errno.EBADF;
        }
        if (lengthBytes < 0 || file.directory || !FileFlags.canWrite(file.flags))
        {
            return Errno.EINVAL;
        }
        return (int)target.request(
            Opcodes.FILE_TRUNCATE, vNodeId, 0, 0, lengthBytes, file.path, null, null, 0, null, 0, null);
    }

    /** unlink(2): 0, ENOENT, EISDIR, ENOTDIR. */
    public synchronized int unlink(final String path)
    {
        return pathCall(Opcodes.FILE_UNLINK, path, null, 0, null);
    }

    /** rename(2): 0, ENOENT, EISDIR, ENOTDIR, ENOTEMPTY, EINVAL (a directory into itself), EBUSY ("/"). */
    public synchronized int rename(final String from, final String to)
    {
        final byte[] resolvedTo = resolve(to);
        if (resolvedTo == null)
        {
            return Errno.ENOENT;
        }
        return pathCall(Opcodes.FILE_RENAME, from, resolvedTo, 0, null);
    }

    /** mkdir(2): 0, EEXIST, ENOENT, ENOTDIR. */
    public synchronized int mkdir(final String path)
    {
        return pathCall(Opcodes.FILE_MKDIR, path, null, 0, null);
    }

    /** rmdir(2): 0, ENOENT, ENOTDIR, ENOTEMPTY, EBUSY ("/"). */
    public synchronized int rmdir(final String path)
    {
        return pathCall(Opcodes.FILE_RMDIR, path, null, 0, null);
    }

    /**
     * readdir of a whole directory (without "." and ".."): adds the names, sorted, to {@code names}.
     *
     * @return how many names, or ENOENT, ENOTDIR.
     */
    public synchronized int readdir(final String path, final List<String> names)
    {
        final byte[] resolved = resolve(path);
        if (resolved == null)
        {
            return Errno.ENOENT;
        }
        int total = 0;
        while (true)
        {
            final long count = target.request(
                Opcodes.FILE_READDIR, vNodeId, 0, total, 0, resolved, null, null, 0, this.names, 0, scratchStat);
            if (count < 0)
            {
                return (int)count;
            }
            if (count == 0)
            {
                return total;
            }
            int start = 0;
            for (int i = 0; i < scratchStat.dataLength(); i++)
            {
                if (this.names.getByte(i) == 0)
                {
                    names.add(this.names.getStringWithoutLengthUtf8(start, i - start));
                    start = i + 1;
                }
            }
            total += (int)count;
        }
    }

    /** Descriptors open now. */
    public synchronized int openFiles()
    {
        int count = 0;
        for (final OpenFile file : fds)
        {
            count += file == null ? 0 : 1;
        }
        return count;
    }

    /**
     * Close every descriptor (the process exits): buffered pages of files open for writing go to storage. Closes the
     * connection if {@link #connect} made it.
     */
    @Override
    public synchronized void close()
    {
        for (int fd = FIRST_FD; fd < MAX_OPEN_FILES; fd++)
        {
            if (fds[fd] != null)
            {
                close(fd);
            }
        }
        if (ownsTarget)
        {
            target.close();
        }
    }

    /**
     * The absolute, normalised form of {@code path} as the request carries it: relative paths start at "/", "."
     * and ".." are resolved, repeated and trailing slashes dropped. Null for an empty path (ENOENT, as Linux).
     */
    static byte[] resolve(final String path)
    {
        if (path == null || path.isEmpty())
        {
            return null;
        }
        final List<String> parts = new ArrayList<>();
        for (final String part : path.split("/"))
        {
            if (part.isEmpty() || ".".equals(part))
            {
                continue;
            }
            if ("..".equals(part))
            {
                if (!parts.isEmpty())
                {
                    parts.remove(parts.size() - 1);
                }
                continue;
            }
            parts.add(part);
        }
        return StorageDescriptor.bytes("/" + String.join("/", parts));
    }

    private OpenFile file(final int fd)
    {
        return fd < 0 || fd >= MAX_OPEN_FILES ? null : fds[fd];
    }

    private int pathCall(final int opcode, final String path, final byte[] newPath, final long lengthBytes,
        final FileStat stat)
    {
        final byte[] resolved = resolve(path);
        if (resolved == null)
        {
            return Errno.ENOENT;
        }
        return (int)target.request(opcode, vNodeId, 0, 0, lengthBytes, resolved, newPath, null, 0, null, 0, stat);
    }

    private long readAt(
        final OpenFile file, final MutableDirectBuffer dst, final int dstOffset, final int length, final long offset)
    {
        if (!FileFlags.canRead(file.flags))
        {
            return Errno.EBADF;
        }
        if (file.directory)
        {
            return Errno.EISDIR;
        }
        if (length < 0 || dstOffset < 0 || (long)dstOffset + length > dst.capacity())
        {
            return Errno.EINVAL;
        }
        long done = 0;
        while (done < length)
        {
            final int chunk = (int)Math.min(CHUNK_BYTES, length - done);
            final long n = target.request(Opcodes.FILE_READ, vNodeId, 0, offset + done, chunk, file.path, null,
                null, 0, dst, dstOffset + (int)done, null);
            if (n < 0)
            {
                return done > 0 ? done : n;
            }
            done += n;
            if (n < chunk)
            {
                break;
            }
        }
        return done;
    }

    private long writeAt(
        final OpenFile file, final DirectBuffer src, final int srcOffset, final int length, final long offset)
    {
        if (!FileFlags.canWrite(file.flags))
        {
            return Errno.EBADF;
        }
        if (length < 0 || srcOffset < 0 || (long)srcOffset + length > src.capacity() || offset + length < 0)
        {
            return Errno.EINVAL;
        }
        long done = 0;
        while (done < length)
        {
            final int chunk = (int)Math.min(CHUNK_BYTES, length - done);
            final long n = target.request(Opcodes.FILE_WRITE, vNodeId, 0, offset + done, chunk, file.path, null,
                src, srcOffset + (int)done, null, 0, null);
            if (n < 0)
            {
                return done > 0 ? done : n;
            }
            done += n;
        }
        return done;
    }

    @Override
    public String toString()
    {
        return "FileCalls{vNode=" + vNodeId + ", open=" + openFiles() + "}";
    }

    static String text(final byte[] path)
    {
        return new String(path, StandardCharsets.UTF_8);
    }
}
