package dev.splitkernel.workload;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The local twin of a process's files: a private temporary folder on the local disk (in the kernel's page cache),
 * paths relative to it. Closing deletes the folder. Thread-safe.
 */
public final class LocalFiles implements WorkloadFiles, AutoCloseable
{
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocate(65536));

    private final Path root;
    private final List<FileChannel> open = new ArrayList<>();

    public LocalFiles()
    {
        try
        {
            root = Files.createTempDirectory("splitkernel-local-files");
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create a folder for local files", ex);
        }
    }

    @Override
    public synchronized int open(final String path, final int flags)
    {
        final Path file = root.resolve(path.startsWith("/") ? path.substring(1) : path).normalize();
        if (!file.startsWith(root))
        {
            return Errno.EINVAL;
        }
        final List<OpenOption> options = new ArrayList<>();
        options.add(StandardOpenOption.READ);
        if (FileFlags.canWrite(flags))
        {
            options.add(StandardOpenOption.WRITE);
        }
        if ((flags & FileFlags.O_CREAT) != 0)
        {
            options.add((flags & FileFlags.O_EXCL) != 0 ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE);
        }
        if ((flags & FileFlags.O_TRUNC) != 0)
        {
            options.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        try
        {
            Files.createDirectories(file.getParent());
            open.add(FileChannel.open(file, options.toArray(new OpenOption[0])));
            return open.size() - 1 + 3;
        }
        catch (final NoSuchFileException ex)
        {
            return Errno.ENOENT;
        }
        catch (final FileAlreadyExistsException ex)
        {
            return Errno.EEXIST;
        }
        catch (final IOException ex)
        {
            return Errno.EIO;
        }
    }

    private synchronized FileChannel channel(final int fd)
    {
        final int index = fd - 3;
        return index < 0 || index >= open.size() ? null : open.get(index);
    }

    @Override
    public long pread(final int fd, final MutableDirectBuffer dst, final int dstOffset, final int length,
        final long offset)
    {
        final FileChannel channel = channel(fd);
        if (channel == null)
        {
            return Errno.EBADF;
        }
        final ByteBuffer bytes = scratch(length);
        try
        {
            int total = 0;
            while (bytes.hasRemaining())
            {
                final int n = channel.read(bytes, offset + total);
                if (n < 0)
                {
                    break;
                }
                total += n;
            }
            dst.putBytes(dstOffset, bytes.array(), 0, total);
            return total;
        }
        catch (final IOException ex)
        {
            return Errno.EIO;
        }
    }

    @Override
    public long pwrite(final int fd, final DirectBuffer src, final int srcOffset, final int length, final long offset)
    {
        final FileChannel channel = channel(fd);
        if (channel == null)
        {
            return Errno.EBADF;
        }
        final ByteBuffer bytes = scratch(length);
        src.getBytes(srcOffset, bytes.array(), 0, length);
        try
        {
            int total = 0;
            while (bytes.hasRemaining())
            {
                total += channel.write(bytes, offset + total);
            }
            return total;
        }
        catch (final IOException ex)
        {
            return Errno.EIO;
        }
    }

    /** A heap buffer of this thread, {@code length} bytes from position 0. */
    private static ByteBuffer scratch(final int length)
    {
        ByteBuffer buffer = SCRATCH.get();
        if (buffer.capacity() < length)
        {
            buffer = ByteBuffer.allocate(length);
            SCRATCH.set(buffer);
        }
        return buffer.clear().limit(length);
    }

    @Override
    public synchronized int close(final int fd)
    {
        final FileChannel channel = channel(fd);
        if (channel == null)
        {
            return Errno.EBADF;
        }
        try
        {
            channel.close();
            return 0;
        }
        catch (final IOException ex)
        {
            return Errno.EIO;
        }
    }

    @Override
    public synchronized void close()
    {
        for (final FileChannel channel : open)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignored)
            {
                // deleting the folder below is what matters
            }
        }
        try (Stream<Path> paths = Files.walk(root))
        {
            for (final Path p : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(p);
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot delete " + root, ex);
        }
    }
}
