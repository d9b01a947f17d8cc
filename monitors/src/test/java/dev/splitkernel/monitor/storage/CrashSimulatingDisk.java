package dev.splitkernel.monitor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A {@link Disk} in memory that simulates a machine crash, for tests: every byte not forced lives in a volatile layer
 * and is dropped at the crash.
 * <p>
 * Each file has a live image (what reads see) and a durable image (what survives); a write or truncate waits in the
 * file's pending list until {@link DiskFile#force()}. Each directory likewise has pending entry changes (a file
 * created, deleted or moved, a directory made or removed) until {@link #forceDirectory(Path)}; a durable entry under
 * a directory that is not itself durable is lost with it. {@code root} and its ancestors exist durably; paths
 * outside it are refused.
 * <p>
 * {@link #crashAt(long)} arms a crash at a numbered mutating operation (open that creates, write, truncate, force,
 * mkdirs, delete, move, directory force; counted from the last restart): that operation does not happen, except a
 * write, of which a seeded-random prefix reaches the live image (a crash partway through it). From then on every
 * call fails with an IOException until {@link #restart()}, which keeps the durable images only, as a reboot would:
 * with {@link Loss#ALL_UNFORCED} every pending change is lost; with {@link Loss#SOME_UNFORCED} each pending change
 * reaches the disk or not by the seeded random, a write perhaps only in part (as a kernel writing back dirty pages
 * in any order could leave it). The same seed replays the same crash.
 * <p>
 * Thread-safe (every method synchronized).
 */
public final class CrashSimulatingDisk implements Disk
{
    /** What a crash does to changes that were not forced. */
    public enum Loss
    {
        ALL_UNFORCED,
        SOME_UNFORCED
    }

    private final Path root;
    private final Loss loss;
    private final Random random;
    private final Map<Path, Inode> liveFiles = new HashMap<>();
    private final Set<Path> liveDirs = new HashSet<>();
    private Map<Path, Inode> durableFiles = new HashMap<>();
    private final Set<Path> durableDirs = new HashSet<>();
    private final Map<Path, List<DirOp>> pendingDirOps = new HashMap<>();
    private final List<Inode> inodes = new ArrayList<>();
    private long operations;
    private long crashAt = -1;
    private boolean crashed;
    private int epoch;

    public CrashSimulatingDisk(final Path root, final Loss loss, final long seed)
    {
        this.root = root.toAbsolutePath().normalize();
        this.loss = loss;
        this.random = new Random(seed);
        for (Path dir = this.root; dir != null; dir = dir.getParent())
        {
            liveDirs.add(dir);
            durableDirs.add(dir);
        }
    }

    /** Crash when the mutating operation numbered {@code operation} (0 = the first after restart) starts; -1: never. */
    public synchronized CrashSimulatingDisk crashAt(final long operation)
    {
        crashAt = operation;
        if (operation >= 0 && operation < operations)
        {
            throw new IllegalArgumentException("operation " + operation + " already happened");
        }
        return this;
    }

    /** Mutating operations since the last restart. */
    public synchronized long operations()
    {
        return operations;
    }

    public synchronized boolean crashed()
    {
        return crashed;
    }

    /** Crash now (if not crashed yet). */
    public synchronized void crash()
    {
        crashed = true;
    }

    /**
     * Reboot: the pending changes are lost (all, or some by the seeded random), every open file handle is dead, and
     * the disk serves its durable images.
     */
    public synchronized void restart()
    {
        crashed = true;
        for (final Inode inode : inodes)
        {
            for (final DataOp op : inode.pending)
            {
                if (loss == Loss.SOME_UNFORCED && random.nextBoolean())
                {
                    if (op.bytes != null && random.nextInt(3) == 0)
                    {
                        op.tornTo(random.nextInt(op.bytes.length + 1)).applyTo(inode.durable);
                    }
                    else
                    {
                        op.applyTo(inode.durable);
                    }
                }
            }
            inode.pending.clear();
            inode.live = inode.durable.copy();
        }
        for (final List<DirOp> ops : pendingDirOps.values())
        {
            for (final DirOp op : ops)
            {
                if (loss == Loss.SOME_UNFORCED && random.nextBoolean())
                {
                    applyDurably(op);
                }
            }
        }
        pendingDirOps.clear();
        pruneUnreachable();
        liveDirs.clear();
        liveDirs.addAll(durableDirs);
        liveFiles.clear();
        liveFiles.putAll(durableFiles);
        inodes.clear();
        inodes.addAll(new HashSet<>(durableFiles.values()));
        epoch++;
        operations = 0;
        crashAt = -1;
        crashed = false;
    }

    /** The durable bytes of a file, or null if it would not survive a crash. */
    public synchronized byte[] durableBytes(final Path file)
    {
        final Path path = file.toAbsolutePath().normalize();
        final Inode inode = durableFiles.get(path);
        return inode == null || !reachable(path.getParent()) ? null : inode.durable.toArray();
    }

    // Disk
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public synchronized DiskFile open(final Path file) throws IOException
    {
        final Path path = checked(file);
        Inode inode = liveFiles.get(path);
        if (inode == null)
        {
            if (liveDirs.contains(path))
            {
                throw new IOException(path + " is a directory");
            }
            requireLiveParent(path);
            step(null);
            inode = new Inode();
            inodes.add(inode);
            liveFiles.put(path, inode);
            pending(path.getParent()).add(DirOp.link(path, inode));
        }
        return new Handle(inode, epoch);
    }

    @Override
    public synchronized boolean exists(final Path path) throws IOException
    {
        final Path p = checked(path);
        return liveFiles.containsKey(p) || liveDirs.contains(p);
    }

    @Override
    public synchronized long size(final Path file) throws IOException
    {
        final Inode inode = liveFiles.get(checked(file));
        if (inode == null)
        {
            throw new NoSuchFileException(file.toString());
        }
        return inode.live.length;
    }

    @Override
    public synchronized void createDirectories(final Path dir) throws IOException
    {
        final Path path = checked(dir);
        if (liveDirs.contains(path))
        {
            return;
        }
        step(null);
        final List<Path> missing = new ArrayList<>();
        for (Path p = path; !liveDirs.contains(p); p = p.getParent())
        {
            if (liveFiles.containsKey(p))
            {
                throw new IOException(p + " is a file");
            }
            missing.add(0, p);
        }
        for (final Path p : missing)
        {
            liveDirs.add(p);
            pending(p.getParent()).add(DirOp.mkdir(p));
        }
    }

    @Override
    public synchronized boolean deleteIfExists(final Path path) throws IOException
    {
        final Path p = checked(path);
        if (liveFiles.containsKey(p))
        {
            step(null);
            liveFiles.remove(p);
            pending(p.getParent()).add(DirOp.unlink(p));
            return true;
        }
        if (liveDirs.contains(p))
        {
            if (p.equals(root))
            {
                throw new IOException("the simulated disk's root cannot be deleted");
            }
            for (final Path child : liveFiles.keySet())
            {
                if (p.equals(child.getParent()))
                {
                    throw new DirectoryNotEmptyException(p.toString());
                }
            }
            for (final Path child : liveDirs)
            {
                if (p.equals(child.getParent()))
                {
                    throw new DirectoryNotEmptyException(p.toString());
                }
            }
            step(null);
            liveDirs.remove(p);
            pending(p.getParent()).add(DirOp.rmdir(p));
            return true;
        }
        return false;
    }

    @Override
    public synchronized void move(final Path from, final Path to) throws IOException
    {
        final Path source = checked(from);
        final Path target = checked(to);
        final Inode inode = liveFiles.get(source);
        if (inode == null)
        {
            throw new NoSuchFileException(from.toString());
        }
        if (!source.getParent().equals(target.getParent()))
        {
            throw new IOException("moves across directories are not simulated: " + from + " to " + to);
        }
        step(null);
        liveFiles.remove(source);
        liveFiles.put(target, inode);
        pending(target.getParent()).add(DirOp.move(source, target, inode));
    }

    @Override
    public synchronized void forceDirectory(final Path dir) throws IOException
    {
        final Path path = checked(dir);
        if (!liveDirs.contains(path))
        {
            throw new NoSuchFileException(dir.toString());
        }
        step(null);
        final List<DirOp> ops = pendingDirOps.remove(path);
        if (ops != null)
        {
            for (final DirOp op : ops)
            {
                applyDurably(op);
            }
        }
    }

    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Count a mutating operation; if it is the armed one, crash (a write's random prefix first reaches the live
     * image).
     */
    private void step(final Runnable partOfWrite) throws IOException
    {
        alive();
        if (operations++ == crashAt)
        {
            if (partOfWrite != null)
            {
                partOfWrite.run();
            }
            crashed = true;
            throw new IOException("simulated crash at disk operation " + (operations - 1));
        }
    }

    private void alive() throws IOException
    {
        if (crashed)
        {
            throw new IOException("simulated crash: the disk is gone until restart");
        }
    }

    private Path checked(final Path path) throws IOException
    {
        alive();
        final Path p = path.toAbsolutePath().normalize();
        if (!p.startsWith(root))
        {
            throw new IOException(path + " is outside the simulated disk " + root);
        }
        return p;
    }

    private void requireLiveParent(final Path path) throws IOException
    {
        if (!liveDirs.contains(path.getParent()))
        {
            throw new NoSuchFileException(path.toString(), null, "no such directory: " + path.getParent());
        }
    }

    private List<DirOp> pending(final Path dir)
    {
        return pendingDirOps.computeIfAbsent(dir, d -> new ArrayList<>());
    }

    private void applyDurably(final DirOp op)
    {
        switch (op.kind)
        {
            case LINK:
                durableFiles.put(op.path, op.inode);
                break;
            case UNLINK:
                durableFiles.remove(op.path);
                break;
            case MKDIR:
                durableDirs.add(op.path);
                break;
            case RMDIR:
                durableDirs.remove(op.path);
                break;
            case MOVE:
                durableFiles.remove(op.from);
                durableFiles.put(op.path, op.inode);
                break;
            default:
                throw new IllegalStateException(op.kind.name());
        }
    }

    private boolean reachable(final Path dir)
    {
        for (Path p = dir; p != null; p = p.getParent())
        {
            if (!durableDirs.contains(p))
            {
                return false;
            }
        }
        return true;
    }

    /** Entries under a directory whose own creation never became durable are lost with it. */
    private void pruneUnreachable()
    {
        durableDirs.removeIf(dir -> !reachable(dir));
        final Map<Path, Inode> kept = new HashMap<>();
        for (final Map.Entry<Path, Inode> e : durableFiles.entrySet())
        {
            if (durableDirs.contains(e.getKey().getParent()))
            {
                kept.put(e.getKey(), e.getValue());
            }
        }
        durableFiles = kept;
    }

    private enum DirOpKind
    {
        LINK, UNLINK, MKDIR, RMDIR, MOVE
    }

    private static final class DirOp
    {
        final DirOpKind kind;
        final Path path;
        final Path from;
        final Inode inode;

        private DirOp(final DirOpKind kind, final Path path, final Path from, final Inode inode)
        {
            this.kind = kind;
            this.path = path;
            this.from = from;
            this.inode = inode;
        }

        static DirOp link(final Path path, final Inode inode)
        {
            return new DirOp(DirOpKind.LINK, path, null, inode);
        }

        static DirOp unlink(final Path path)
        {
            return new DirOp(DirOpKind.UNLINK, path, null, null);
        }

        static DirOp mkdir(final Path path)
        {
            return new DirOp(DirOpKind.MKDIR, path, null, null);
        }

        static DirOp rmdir(final Path path)
        {
            return new DirOp(DirOpKind.RMDIR, path, null, null);
        }

        static DirOp move(final Path from, final Path to, final Inode inode)
        {
            return new DirOp(DirOpKind.MOVE, to, from, inode);
        }
    }

    /** A write ({@code bytes} at {@code position}) or a truncate (to {@code position}). */
    private static final class DataOp
    {
        final long position;
        final byte[] bytes;

        DataOp(final long position, final byte[] bytes)
        {
            this.position = position;
            this.bytes = bytes;
        }

        DataOp tornTo(final int length)
        {
            return new DataOp(position, Arrays.copyOf(bytes, length));
        }

        void applyTo(final Bytes image)
        {
            if (bytes == null)
            {
                image.truncate(position);
            }
            else
            {
                image.write(position, bytes);
            }
        }
    }

    private static final class Inode
    {
        Bytes live = new Bytes();
        final Bytes durable = new Bytes();
        final List<DataOp> pending = new ArrayList<>();
    }

    private static final class Bytes
    {
        byte[] data = new byte[64];
        int length;

        void write(final long position, final byte[] src)
        {
            if (src.length == 0)
            {
                return;
            }
            final int end = Math.toIntExact(position + src.length);
            if (end > data.length)
            {
                data = Arrays.copyOf(data, Math.max(end, data.length * 2));
            }
            System.arraycopy(src, 0, data, (int)position, src.length);
            length = Math.max(length, end);
        }

        void truncate(final long sizeBytes)
        {
            if (sizeBytes < length)
            {
                Arrays.fill(data, (int)sizeBytes, length, (byte)0);
                length = (int)sizeBytes;
            }
        }

        Bytes copy()
        {
            final Bytes copy = new Bytes();
            copy.data = Arrays.copyOf(data, Math.max(64, length));
            copy.length = length;
            return copy;
        }

        byte[] toArray()
        {
            return Arrays.copyOf(data, length);
        }
    }

    private final class Handle implements DiskFile
    {
        private final Inode inode;
        private final int openedInEpoch;

        Handle(final Inode inode, final int epoch)
        {
            this.inode = inode;
            this.openedInEpoch = epoch;
        }

        @Override
        public int read(final ByteBuffer dst, final long position) throws IOException
        {
            synchronized (CrashSimulatingDisk.this)
            {
                usable();
                final Bytes live = inode.live;
                if (position >= live.length)
                {
                    return -1;
                }
                final int n = (int)Math.min(dst.remaining(), live.length - position);
                dst.put(live.data, (int)position, n);
                return n;
            }
        }

        @Override
        public int write(final ByteBuffer src, final long position) throws IOException
        {
            synchronized (CrashSimulatingDisk.this)
            {
                usable();
                final byte[] bytes = new byte[src.remaining()];
                src.get(bytes);
                step(() -> record(new DataOp(position, bytes).tornTo(random.nextInt(bytes.length + 1))));
                record(new DataOp(position, bytes));
                return bytes.length;
            }
        }

        @Override
        public long size() throws IOException
        {
            synchronized (CrashSimulatingDisk.this)
            {
                usable();
                return inode.live.length;
            }
        }

        @Override
        public void truncate(final long sizeBytes) throws IOException
        {
            synchronized (CrashSimulatingDisk.this)
            {
                usable();
                step(null);
                if (sizeBytes < inode.live.length)
                {
                    record(new DataOp(sizeBytes, null));
                }
            }
        }

        @Override
        public void force() throws IOException
        {
            synchronized (CrashSimulatingDisk.this)
            {
                usable();
                step(null);
                for (final Iterator<DataOp> it = inode.pending.iterator(); it.hasNext();)
                {
                    it.next().applyTo(inode.durable);
                    it.remove();
                }
            }
        }

        /** Closing never fails, even after the crash: a test closes the dead monitor it abandoned. */
        @Override
        public void close()
        {
        }

        private void record(final DataOp op)
        {
            op.applyTo(inode.live);
            inode.pending.add(op);
        }

        private void usable() throws IOException
        {
            alive();
            if (openedInEpoch != epoch)
            {
                throw new IOException("a file handle opened before the simulated crash");
            }
        }
    }
}
