package dev.splitkernel.monitor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** The real {@link Disk}: files through {@link FileChannel}, forces through fsync. Stateless and thread-safe. */
public final class FileChannelDisk implements Disk
{
    public static final FileChannelDisk INSTANCE = new FileChannelDisk();

    private FileChannelDisk()
    {
    }

    @Override
    public DiskFile open(final Path file) throws IOException
    {
        return new ChannelFile(FileChannel.open(file,
            StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    @Override
    public boolean exists(final Path path)
    {
        return Files.exists(path);
    }

    @Override
    public long size(final Path file) throws IOException
    {
        return Files.size(file);
    }

    @Override
    public void createDirectories(final Path dir) throws IOException
    {
        Files.createDirectories(dir);
    }

    @Override
    public boolean deleteIfExists(final Path path) throws IOException
    {
        return Files.deleteIfExists(path);
    }

    @Override
    public void move(final Path from, final Path to) throws IOException
    {
        Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void forceDirectory(final Path dir) throws IOException
    {
        // Linux lets a directory be opened read-only and fsynced: that makes its entries durable.
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ))
        {
            channel.force(true);
        }
    }

    private static final class ChannelFile implements DiskFile
    {
        private final FileChannel channel;

        ChannelFile(final FileChannel channel)
        {
            this.channel = channel;
        }

        @Override
        public int read(final ByteBuffer dst, final long position) throws IOException
        {
            return channel.read(dst, position);
        }

        @Override
        public int write(final ByteBuffer src, final long position) throws IOException
        {
            return channel.write(src, position);
        }

        @Override
        public long size() throws IOException
        {
            return channel.size();
        }

        @Override
        public void truncate(final long sizeBytes) throws IOException
        {
            channel.truncate(sizeBytes);
        }

        @Override
        public void force() throws IOException
        {
            channel.force(true);
        }

        @Override
        public void close() throws IOException
        {
            channel.close();
        }
    }
}
