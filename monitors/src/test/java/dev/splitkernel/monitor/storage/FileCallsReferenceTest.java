package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file API against a reference: the local file system through java.nio in a temp dir, over random seeded
 * operation sequences; straight to storage and through a small buffer cache (so pages are evicted).
 */
class FileCallsReferenceTest
{
    private static final String[] PATHS = {"/a", "/b", "/d", "/d/x", "/d/y", "/e", "/e/z", "/d/x/q"};
    private static final String[] FILES = {"/a", "/b", "/d/y", "/e/z", "/d/x/q", "/d/x", "/a"};
    private static final String[] DIRS = {"/d", "/e", "/d/x", "/d"};
    private static final int[][] OPEN_FLAGS = {
        {FileFlags.O_RDONLY}, {FileFlags.O_WRONLY}, {FileFlags.O_RDWR}, {FileFlags.O_RDWR | FileFlags.O_CREAT},
        {FileFlags.O_RDWR | FileFlags.O_CREAT}, {FileFlags.O_RDWR | FileFlags.O_CREAT}, {FileFlags.O_RDWR},
        {FileFlags.O_WRONLY | FileFlags.O_CREAT | FileFlags.O_TRUNC},
        {FileFlags.O_RDWR | FileFlags.O_CREAT | FileFlags.O_EXCL}, {FileFlags.O_WRONLY | FileFlags.O_APPEND},
        {FileFlags.O_WRONLY | FileFlags.O_CREAT | FileFlags.O_APPEND}, {FileFlags.O_RDWR | FileFlags.O_TRUNC}};

    @TempDir
    Path temp;

    private static final class RefFile
    {
        final FileChannel channel;
        final boolean directory;
        final int flags;
        final Path path;

        RefFile(final FileChannel channel, final boolean directory, final int flags, final Path path)
        {
            this.path = path;
            this.channel = channel;
            this.directory = directory;
            this.flags = flags;
        }
    }

    @ParameterizedTest(name = "seed {0}, buffer cache {1} bytes")
    @CsvSource({"1, 0", "2, 0", "3, 16384", "4, 16384", "5, 65536", "6, 4096", "7, 0", "8, 4096", "9, 262144", "10, 131072"})
    void shouldMatchTheLocalFileSystemOverRandomOperations(final long seed, final long cacheBytes) throws Exception
    {
        final Path ref = Files.createDirectories(temp.resolve("ref"));
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), cacheBytes, 1L << 30, 7))
        {
            final FileCalls files = fixture.files(7);
            final Random random = new Random(seed);
            final Map<Integer, RefFile> refFds = new HashMap<>();
            final UnsafeBuffer ours = new UnsafeBuffer(new byte[40_000]);
            final byte[] theirs = new byte[40_000];
            int dataReads = 0;
            int dataWrites = 0;
            for (int step = 0; step < 3000; step++)
            {
                final int op = random.nextInt(20);
                final String[] candidates = op <= 1 ? FILES : op == 10 || op == 11 ? DIRS : PATHS;
                final String path = candidates[random.nextInt(candidates.length)];
                final Path refPath = ref.resolve(path.substring(1));
                final List<Integer> open = new ArrayList<>(refFds.keySet());
                final int fd = open.isEmpty() ? -1 : open.get(random.nextInt(open.size()));
                final String what = "seed " + seed + " step " + step + " op " + op + " " + path + " fd " + fd;
                switch (op)
                {
                    case 0:
                    case 1:
                    case 18:
                    {
                        if (refFds.size() >= 6)
                        {
                            break;
                        }
                        final int flags = OPEN_FLAGS[random.nextInt(OPEN_FLAGS.length)][0];
                        final int result = files.open(path, flags);
                        long expected;
                        try
                        {
                            final FileChannel channel = FileChannel.open(refPath, options(flags));
                            expected = result;
                            if (result >= 0)
                            {
                                refFds.put(result, new RefFile(channel, Files.isDirectory(refPath), flags, refPath));
                            }
                            else
                            {
                                channel.close();
                            }
                        }
                        catch (final IOException ex)
                        {
                            expected = errno(ex);
                        }
                        assertEquals(Errno.describe(expected), Errno.describe(result), what + " open " + flags);
                        break;
                    }
                    case 2:
                    case 3:
                    case 13:
                    case 16:
                    {
                        if (fd < 0)
                        {
                            break;
                        }
                        final int length = 1 + random.nextInt(random.nextBoolean() ? 9000 : 300);
                        final boolean positional = random.nextBoolean();
                        final long at = random.nextInt(12_000);
                        random.nextBytes(theirs);
                        ours.putBytes(0, theirs, 0, length);
                        final RefFile refFile = refFds.get(fd);
                        final boolean append = isAppend(refFile);
                        final long result = positional && !append ? files.pwrite(fd, ours, 0, length, at) :
                            files.write(fd, ours, 0, length);
                        long expected;
                        try
                        {
                            expected = positional && !append ? refFile.channel.write(ByteBuffer.wrap(theirs, 0, length), at) :
                                refFile.channel.write(ByteBuffer.wrap(theirs, 0, length));
                        }
                        catch (final NonWritableChannelException ex)
                        {
                            expected = Errno.EBADF;
                        }
                        catch (final IOException ex)
                        {
                            expected = errno(ex);
                        }
                        assertEquals(expected, result, what + " write " + Errno.describe(result));
                        dataWrites += result > 0 ? 1 : 0;
                        break;
                    }
                    case 4:
                    case 5:
                    case 14:
                    case 17:
                    {
                        if (fd < 0)
                        {
                            break;
                        }
                        final int length = 1 + random.nextInt(random.nextBoolean() ? 20_000 : 500);
                        final boolean positional = random.nextBoolean();
                        final long at = random.nextInt(12_000);
                        final RefFile refFile = refFds.get(fd);
                        final long result = positional ? files.pread(fd, ours, 0, length, at) : files.read(fd, ours, 0, length);
                        long expected;
                        try
                        {
                            final ByteBuffer dst = ByteBuffer.wrap(theirs, 0, length);
                            int total = 0;
                            while (dst.hasRemaining())
                            {
                                final int n = positional ? refFile.channel.read(dst, at + total) : refFile.channel.read(dst);
                                if (n <= 0)
                                {
                                    break;
                                }
                                total += n;
                            }
                            expected = total;
                        }
                        catch (final NonReadableChannelException ex)
                        {
                            expected = Errno.EBADF;
                        }
                        catch (final IOException ex)
                        {
                            expected = errno(ex);
                        }
                        assertEquals(Errno.describe(expected) + " " + expected, Errno.describe(result) + " " + result,
                            what + " read");
                        if (result > 0)
                        {
                            dataReads++;
                            final byte[] got = new byte[(int)result];
                            ours.getBytes(0, got);
                            assertArrayEquals(Arrays.copyOf(theirs, (int)result), got, what + " read data");
                        }
                        break;
                    }
                    case 6:
                    {
                        if (fd < 0)
                        {
                            break;
                        }
                        final long to = random.nextInt(15_000);
                        final RefFile refFile = refFds.get(fd);
                        assertEquals(to, files.lseek(fd, to, FileFlags.SEEK_SET), what + " lseek");
                        refFile.channel.position(to);
                        break;
                    }
                    case 7:
                    {
                        if (fd < 0)
                        {
                            break;
                        }
                        final long size = random.nextInt(14_000);
                        final RefFile refFile = refFds.get(fd);
                        final int result = files.ftruncate(fd, size);
                        long expected = 0;
                        try
                        {
                            final long position = refFile.channel.position();
                            if (size >= refFile.channel.size())
                            {
                                if (size > refFile.channel.size() && FileFlags.canWrite(refFile.flags))
                                {
                                    // A positional write on an APPEND channel would append: extend through another.
                                    try (FileChannel extend = FileChannel.open(refFile.path, StandardOpenOption.WRITE))
                                    {
                                        extend.write(ByteBuffer.allocate(1), size - 1);
                                    }
                                }
                                else if (!FileFlags.canWrite(refFile.flags))
                                {
                                    throw new NonWritableChannelException();
                                }
                            }
                            else
                            {
                                refFile.channel.truncate(size);
                            }
                            refFile.channel.position(position);
                        }
                        catch (final NonWritableChannelException ex)
                        {
                            expected = Errno.EINVAL;
                        }
                        assertEquals(Errno.describe(expected), Errno.describe(result), what + " ftruncate");
                        break;
                    }
                    case 8:
                    {
                        if (fd < 0)
                        {
                            break;
                        }
                        final RefFile refFile = refFds.remove(fd);
                        assertEquals(0, files.close(fd), what + " close");
                        refFile.channel.close();
                        break;
                    }
                    case 9:
                    {
                        final FileStat stat = new FileStat();
                        final int result = files.stat(path, stat);
                        long expected = 0;
                        try
                        {
                            final boolean directory = Files.readAttributes(refPath,
                                java.nio.file.attribute.BasicFileAttributes.class).isDirectory();
                            if (result == 0)
                            {
                                assertEquals(directory, stat.isDirectory(), what + " stat type");
                                if (!directory)
                                {
                                    assertEquals(Files.size(refPath), stat.sizeBytes(), what + " stat size");
                                }
                            }
                        }
                        catch (final IOException ex)
                        {
                            expected = errno(ex);
                        }
                        assertEquals(Errno.describe(expected), Errno.describe(result), what + " stat");
                        break;
                    }
                    case 10:
                    case 11:
                    {
                        final int result = files.mkdir(path);
                        long expected = 0;
                        try
                        {
                            Files.createDirectory(refPath);
                        }
                        catch (final IOException ex)
                        {
                            expected = errno(ex);
                        }
                        assertEquals(Errno.describe(expected), Errno.describe(result), what + " mkdir");
                        break;
                    }
                    case 12:
                    {
                        // Namespace changes only with no descriptor open: storage is stateless (no open-unlinked files).
                        closeAll(files, refFds);
                        final int kind = random.nextInt(4);
                        long result;
                        long expected = 0;
                        String target = "";
                        if (kind == 0)
                        {
                            result = files.unlink(path);
                            try
                            {
                                if (Files.isDirectory(refPath))
                                {
                                    expected = Errno.EISDIR;
                                }
                                else
                                {
                                    Files.delete(refPath);
                                }
                            }
                            catch (final IOException ex)
                            {
                                expected = errno(ex);
                            }
                        }
                        else if (kind == 1)
                        {
                            result = files.rmdir(path);
                            try
                            {
                                if (Files.exists(refPath) && !Files.isDirectory(refPath))
                                {
                                    expected = Errno.ENOTDIR;
                                }
                                else
                                {
                                    Files.delete(refPath);
                                }
                            }
                            catch (final IOException ex)
                            {
                                expected = errno(ex);
                            }
                        }
                        else
                        {
                            final String to = PATHS[random.nextInt(PATHS.length)];
                            target = " to " + to;
                            result = files.rename(path, to);
                            expected = refRename(refPath, ref.resolve(to.substring(1)));
                        }
                        assertEquals(Errno.describe(expected), Errno.describe(result), what + " namespace " + kind + target);
                        break;
                    }
                    default:
                    {
                        final List<String> names = new ArrayList<>();
                        final int result = files.readdir(path, names);
                        long expected;
                        final List<String> refNames = new ArrayList<>();
                        try (Stream<Path> list = Files.list(refPath))
                        {
                            list.forEach(p -> refNames.add(p.getFileName().toString()));
                            refNames.sort(null);
                            expected = refNames.size();
                        }
                        catch (final IOException ex)
                        {
                            expected = errno(ex);
                        }
                        assertEquals(Errno.describe(expected) + expected, Errno.describe(result) + result, what + " readdir");
                        if (result >= 0)
                        {
                            assertEquals(refNames, names, what + " readdir names");
                        }
                        break;
                    }
                }
            }
            closeAll(files, refFds);
            assertSameTree(files, ref, "/");
            assertTrue(dataReads > 50 && dataWrites > 150, "the sequence moved too little data: " + dataReads +
                " reads, " + dataWrites + " writes");
        }
    }

    /** pwrite on an O_APPEND descriptor appends on Linux but not in java.nio: the sequence uses write there. */
    private static boolean isAppend(final RefFile refFile)
    {
        return (refFile.flags & FileFlags.O_APPEND) != 0;
    }

    private static void closeAll(final FileCalls files, final Map<Integer, RefFile> refFds) throws IOException
    {
        for (final Map.Entry<Integer, RefFile> e : refFds.entrySet())
        {
            assertEquals(0, files.close(e.getKey()));
            e.getValue().channel.close();
        }
        refFds.clear();
    }

    private static long refRename(final Path from, final Path to)
    {
        try
        {
            // ATOMIC_MOVE is rename(2) itself on Linux: the kernel's own answer.
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            return 0;
        }
        catch (final IOException ex)
        {
            return errno(ex);
        }
    }

    private static void assertSameTree(final FileCalls files, final Path ref, final String path) throws IOException
    {
        final List<String> names = new ArrayList<>();
        assertTrue(files.readdir(path, names) >= 0, path);
        final Set<String> refNames = new HashSet<>();
        try (Stream<Path> list = Files.list(ref))
        {
            list.forEach(p -> refNames.add(p.getFileName().toString()));
        }
        assertEquals(refNames, new HashSet<>(names), "children of " + path);
        for (final String name : names)
        {
            final String child = "/".equals(path) ? "/" + name : path + "/" + name;
            final Path refChild = ref.resolve(name);
            if (Files.isDirectory(refChild))
            {
                assertSameTree(files, refChild, child);
            }
            else
            {
                final byte[] expected = Files.readAllBytes(refChild);
                final int fd = files.open(child, FileFlags.O_RDONLY);
                assertTrue(fd >= 0, child + ": " + Errno.describe(fd));
                final UnsafeBuffer buffer = new UnsafeBuffer(new byte[expected.length + 1]);
                assertEquals(expected.length, files.read(fd, buffer, 0, expected.length + 1), child);
                final byte[] actual = new byte[expected.length];
                buffer.getBytes(0, actual);
                assertArrayEquals(expected, actual, child);
                assertEquals(0, files.close(fd));
            }
        }
    }

    static OpenOption[] options(final int flags)
    {
        final List<OpenOption> options = new ArrayList<>();
        if (FileFlags.canRead(flags))
        {
            options.add(StandardOpenOption.READ);
        }
        if (FileFlags.canWrite(flags))
        {
            options.add((flags & FileFlags.O_APPEND) != 0 ? StandardOpenOption.APPEND : StandardOpenOption.WRITE);
        }
        if ((flags & FileFlags.O_CREAT) != 0)
        {
            options.add((flags & FileFlags.O_EXCL) != 0 ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE);
        }
        if ((flags & FileFlags.O_TRUNC) != 0)
        {
            options.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        return options.toArray(new OpenOption[0]);
    }

    /** The Linux errno a java.nio failure stands for (the JDK carries strerror as the reason). */
    static long errno(final IOException ex)
    {
        if (ex instanceof NoSuchFileException)
        {
            return Errno.ENOENT;
        }
        if (ex instanceof FileAlreadyExistsException)
        {
            return Errno.EEXIST;
        }
        if (ex instanceof DirectoryNotEmptyException)
        {
            return Errno.ENOTEMPTY;
        }
        if (ex instanceof NotDirectoryException)
        {
            return Errno.ENOTDIR;
        }
        final String reason = ex instanceof FileSystemException ? ((FileSystemException)ex).getReason() : ex.getMessage();
        if (reason != null)
        {
            if (reason.contains("Is a directory"))
            {
                return Errno.EISDIR;
            }
            if (reason.contains("Not a directory"))
            {
                return Errno.ENOTDIR;
            }
            if (reason.contains("Directory not empty"))
            {
                return Errno.ENOTEMPTY;
            }
            if (reason.contains("No such file"))
            {
                return Errno.ENOENT;
            }
            if (reason.contains("File exists"))
            {
                return Errno.EEXIST;
            }
            if (reason.contains("Invalid argument"))
            {
                return Errno.EINVAL;
            }
        }
        throw new AssertionError("no errno for " + ex, ex);
    }
}
