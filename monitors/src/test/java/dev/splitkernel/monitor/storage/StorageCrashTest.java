package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageDescriptor;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Durability shown: a storage monitor on a {@link CrashSimulatingDisk} runs a scripted file workload through the
 * file calls (creates, writes, overwrites, holes, truncates, renames, rename over a file, unlink, directories, two
 * vNodes, fsyncs); the disk crashes at one of its operations, is restarted, and a new storage monitor on it must
 * serve exactly what the client was told is durable (an fsync, or an unlink or a rename over a file, whose reply it
 * got), nothing less and nothing that was never written. The operation in flight at the crash may have taken effect
 * or not.
 * <p>
 * Every crash point is tried with all unforced data lost; then seeded-random crash points with a random part of the
 * unforced data kept, torn writes included (the seed is in the failure message: the same seed replays it).
 */
class StorageCrashTest
{
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final int V1 = 3;
    private static final int V2 = 4;
    private static final int RANDOM_RUNS = 150;

    @TempDir
    Path temp;

    /** Runs whose restart cut a torn journal tail. */
    private int tornTails;

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void shouldKeepExactlyTheAcknowledgedStateWhateverDiskOperationTheCrashHits()
    {
        final long operations = run(CrashSimulatingDisk.Loss.ALL_UNFORCED, 0, -1);
        assertTrue(operations > 40, "the scenario should exercise the disk: " + operations + " operations");
        for (long crashAt = 0; crashAt <= operations; crashAt++)
        {
            run(CrashSimulatingDisk.Loss.ALL_UNFORCED, crashAt, crashAt);
        }
        System.out.println("crashed at each of " + (operations + 1) + " disk operations: every acknowledged change kept");
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void shouldKeepTheAcknowledgedStateWhenSomeUnforcedWritesReachTheDiskTorn()
    {
        final long operations = run(CrashSimulatingDisk.Loss.ALL_UNFORCED, 0, -1);
        for (long seed = 1; seed <= RANDOM_RUNS; seed++)
        {
            final long crashAt = new Random(seed).nextLong(operations + 1);
            run(CrashSimulatingDisk.Loss.SOME_UNFORCED, seed, crashAt);
        }
        System.out.println(RANDOM_RUNS + " seeded crashes (" + operations + " disk operations per run): " + tornTails +
            " restarts cut a torn journal tail");
        assertTrue(tornTails > 0, "no run tore the journal's tail: the seeds exercise nothing of the tail cut");
    }

    /** One run: the scenario until the crash (or its end), a restart, and the check. */
    private long run(final CrashSimulatingDisk.Loss loss, final long seed, final long crashAt)
    {
        String what = loss + " seed " + seed + " crash at disk operation " + crashAt;
        final Path root = temp.resolve("run-" + loss + "-" + seed + "-" + crashAt);
        final CrashSimulatingDisk disk = new CrashSimulatingDisk(root, loss, seed).crashAt(crashAt);
        final Path dataDir = root.resolve("data");
        final Model model = new Model();
        Model inFlight = null;
        String memberName = null;
        final LocalNetwork network = new LocalNetwork();
        final List<AutoCloseable> closeables = new ArrayList<>();
        try
        {
            final StorageMonitor first;
            try
            {
                first = start(network, disk, dataDir, "first", closeables);
                memberName = first.memberName();
            }
            catch (final RuntimeException ex)
            {
                assertTrue(disk.crashed(), what + ": start failed without a crash: " + ex);
                return verify(what, loss, network, disk, dataDir, model, model, null, closeables, 0);
            }
            final StorageProxy proxy = new StorageProxy(
                fabric(network, closeables).connect(first.address(), TIMEOUT_NS), TIMEOUT_NS);
            closeables.add(0, proxy);
            final Scenario scenario = new Scenario(proxy, seed);
            for (final Step step : scenario.steps())
            {
                final Model after = model.copy();
                step.model.accept(after);
                final long result = step.call.applyAsLong(scenario);
                if (result != step.expected)
                {
                    assertTrue(disk.crashed(), what + ": " + step.name + " gave " + result + " without a crash");
                    inFlight = after;
                    what += " (in flight: " + step.name + ")";
                    break;
                }
                model.become(after);
            }
            final long diskOperations = disk.operations();
            if (!disk.crashed())
            {
                disk.crash();
            }
            return verify(what, loss, network, disk, dataDir, model, inFlight == null ? model : inFlight, memberName,
                closeables, diskOperations);
        }
        finally
        {
            for (final AutoCloseable closeable : closeables)
            {
                CloseHelper.quietClose(closeable);
            }
        }
    }

    private long verify(
        final String what, final CrashSimulatingDisk.Loss loss, final LocalNetwork network,
        final CrashSimulatingDisk disk, final Path dataDir, final Model before, final Model after,
        final String memberName, final List<AutoCloseable> closeables, final long diskOperations)
    {
        disk.restart();
        final StorageMonitor second;
        try
        {
            second = start(network, disk, dataDir, "second", closeables);
        }
        catch (final RuntimeException ex)
        {
            throw new AssertionError(what + ": the restarted storage monitor did not start", ex);
        }
        if (memberName != null)
        {
            assertEquals(memberName, second.memberName(), what + ": the member name is lost");
        }
        final StorageProxy proxy = new StorageProxy(
            fabric(network, closeables).connect(second.address(), TIMEOUT_NS), TIMEOUT_NS);
        closeables.add(0, proxy);
        final State recovered = State.read(new FileCalls(proxy, V1), V1);
        recovered.addAll(State.read(new FileCalls(proxy, V2), V2));
        if (second.journalTornOffset() >= 0)
        {
            tornTails++;
        }
        final String problem = before.explain(after, recovered, loss);
        if (problem != null)
        {
            fail(what + ": " + problem + "\nrecovered: " + recovered + "\n" + second.recoverySummary());
        }
        return diskOperations;
    }

    private static StorageMonitor start(
        final LocalNetwork network, final CrashSimulatingDisk disk, final Path dataDir, final String name,
        final List<AutoCloseable> closeables)
    {
        final StorageMonitor monitor = new StorageMonitor(new StorageMonitorContext()
            .fabric(fabric(network, closeables)).disk(disk).dataDir(dataDir).capacityBytes(64L << 20)
            .listenAddress("storage-" + name).globalAddress("")).start();
        closeables.add(0, monitor);
        return monitor;
    }

    private static Fabric fabric(final LocalNetwork network, final List<AutoCloseable> closeables)
    {
        final Fabric fabric = new LocalFabric(new FabricContext().fabric("local").timing("none"), network);
        closeables.add(fabric);
        return fabric;
    }

    /** One client call and what its acknowledgement means for the model. */
    private static final class Step
    {
        final String name;
        final ToLongFunction<Scenario> call;
        final long expected;
        final java.util.function.Consumer<Model> model;

        Step(final String name, final long expected, final ToLongFunction<Scenario> call,
            final java.util.function.Consumer<Model> model)
        {
            this.name = name;
            this.call = call;
            this.expected = expected;
            this.model = model;
        }
    }

    /** The scripted workload; its data comes from the seed. */
    private static final class Scenario
    {
        final StorageProxy proxy;
        final FileCalls v1;
        final FileCalls v2;
        final Random random;

        Scenario(final StorageProxy proxy, final long seed)
        {
            this.proxy = proxy;
            this.v1 = new FileCalls(proxy, V1);
            this.v2 = new FileCalls(proxy, V2);
            this.random = new Random(seed);
        }

        List<Step> steps()
        {
            final List<Step> steps = new ArrayList<>();
            mkdir(steps, V1, "/d");
            fsync(steps, V1, "/d");
            create(steps, V1, "/d/a");
            write(steps, V1, "/d/a", 0, bytes(5000));
            fsync(steps, V1, "/d/a");
            create(steps, V1, "/b");
            write(steps, V1, "/b", 0, bytes(300_000));
            write(steps, V1, "/d/a", 2000, bytes(1000));
            write(steps, V1, "/d/a", 6000, bytes(100));
            fsync(steps, V1, "/b");
            rename(steps, V1, "/b", "/d/b2");
            create(steps, V1, "/c");
            write(steps, V1, "/c", 0, bytes(10));
            unlink(steps, V1, "/c");
            truncate(steps, V1, "/d/a", 3000);
            fsync(steps, V1, "/d/a");
            create(steps, V2, "/x");
            write(steps, V2, "/x", 0, bytes(7000));
            fsync(steps, V2, "/x");
            write(steps, V2, "/x", 3000, bytes(9000));
            create(steps, V2, "/w");
            create(steps, V1, "/d/f");
            write(steps, V1, "/d/f", 0, bytes(20_000));
            fsync(steps, V1, "/d/f");
            unlink(steps, V1, "/d/f");
            dropVNode(steps, V2, 2);
            create(steps, V1, "/d/e");
            write(steps, V1, "/d/e", 0, bytes(100));
            rename(steps, V1, "/d/e", "/d/a");
            write(steps, V1, "/d/a", 100, bytes(4000));
            fsync(steps, V1, "/d/a");
            mkdir(steps, V1, "/z");
            rmdir(steps, V1, "/z");
            mkdir(steps, V1, "/y");
            fsync(steps, V1, "/y");
            write(steps, V1, "/d/b2", 0, bytes(50));
            return steps;
        }

        private byte[] bytes(final int length)
        {
            final byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            return bytes;
        }

        private FileCalls files(final int vNode)
        {
            return vNode == V1 ? v1 : v2;
        }

        private static void mkdir(final List<Step> steps, final int vNode, final String path)
        {
            steps.add(new Step("mkdir " + path, 0, s -> s.files(vNode).mkdir(path), m -> m.mkdir(vNode, path)));
        }

        private static void rmdir(final List<Step> steps, final int vNode, final String path)
        {
            steps.add(new Step("rmdir " + path, 0, s -> s.files(vNode).rmdir(path), m -> m.rmdir(vNode, path)));
        }

        private static void create(final List<Step> steps, final int vNode, final String path)
        {
            steps.add(new Step("create " + path, 0, s -> withFd(s.files(vNode), path,
                FileFlags.O_CREAT | FileFlags.O_RDWR, fd -> 0), m -> m.create(vNode, path)));
        }

        private static void write(final List<Step> steps, final int vNode, final String path, final long offset,
            final byte[] data)
        {
            steps.add(new Step("write " + path + " at " + offset, data.length, s -> withFd(s.files(vNode), path,
                FileFlags.O_RDWR, fd -> s.files(vNode).pwrite(fd, new UnsafeBuffer(data), 0, data.length, offset)),
                m -> m.write(vNode, path, offset, data)));
        }

        private static void truncate(final List<Step> steps, final int vNode, final String path, final long size)
        {
            steps.add(new Step("truncate " + path, 0, s -> withFd(s.files(vNode), path, FileFlags.O_RDWR,
                fd -> s.files(vNode).ftruncate(fd, size)), m -> m.truncate(vNode, path, size)));
        }

        private static void fsync(final List<Step> steps, final int vNode, final String path)
        {
            steps.add(new Step("fsync " + path, 0, s -> withFd(s.files(vNode), path, FileFlags.O_RDONLY,
                fd -> s.files(vNode).fsync(fd)), m -> m.fsync(vNode, path)));
        }

        private static void rename(final List<Step> steps, final int vNode, final String from, final String to)
        {
            steps.add(new Step("rename " + from + " " + to, 0, s -> s.files(vNode).rename(from, to),
                m -> m.rename(vNode, from, to)));
        }

        private static void unlink(final List<Step> steps, final int vNode, final String path)
        {
            steps.add(new Step("unlink " + path, 0, s -> s.files(vNode).unlink(path), m -> m.unlink(vNode, path)));
        }

        private static void dropVNode(final List<Step> steps, final int vNode, final int entries)
        {
            steps.add(new Step("drop vNode " + vNode, entries, s -> s.proxy.request(Opcodes.FILE_DROP_VNODE, vNode, 0, 0, 0,
                new byte[] {'/'}, null, null, 0, null, 0, null),
                m -> m.dropVNode(vNode)));
        }

        private static long withFd(final FileCalls files, final String path, final int flags,
            final ToLongFunction<Integer> call)
        {
            final int fd = files.open(path, flags);
            if (fd < 0)
            {
                return fd;
            }
            final long result = call.applyAsLong(fd);
            files.close(fd);
            return result;
        }
    }

    /** What the restarted storage monitor serves: directories, and files with their bytes, keyed "vNode:path". */
    private static final class State
    {
        final Set<String> dirs = new TreeSet<>();
        final Map<String, byte[]> files = new TreeMap<>();

        static State read(final FileCalls files, final int vNode)
        {
            final State state = new State();
            state.walk(files, vNode, "/");
            return state;
        }

        void addAll(final State other)
        {
            dirs.addAll(other.dirs);
            files.putAll(other.files);
        }

        private void walk(final FileCalls calls, final int vNode, final String dir)
        {
            final List<String> names = new ArrayList<>();
            final int count = calls.readdir(dir, names);
            assertTrue(count >= 0, "readdir " + dir + ": " + count);
            final FileStat stat = new FileStat();
            for (final String name : names)
            {
                final String path = ("/".equals(dir) ? "" : dir) + "/" + name;
                assertEquals(0, calls.stat(path, stat), path);
                if (stat.type() == StorageDescriptor.TYPE_DIRECTORY)
                {
                    dirs.add(vNode + ":" + path);
                    walk(calls, vNode, path);
                }
                else
                {
                    final byte[] bytes = new byte[(int)stat.sizeBytes()];
                    final int fd = calls.open(path, FileFlags.O_RDONLY);
                    assertTrue(fd >= 0, path + ": " + fd);
                    assertEquals(bytes.length, calls.pread(fd, new UnsafeBuffer(bytes), 0, bytes.length, 0), path);
                    calls.close(fd);
                    files.put(vNode + ":" + path, bytes);
                }
            }
        }

        @Override
        public String toString()
        {
            final Map<String, Integer> sizes = new TreeMap<>();
            files.forEach((path, bytes) -> sizes.put(path, bytes.length));
            return "dirs " + dirs + ", files (sizes) " + sizes;
        }
    }

    /** A namespace: directories and files (path to file identity), keyed "vNode:path". */
    private static final class Namespace
    {
        final Set<String> dirs;
        final Map<String, Integer> files;

        Namespace(final Set<String> dirs, final Map<String, Integer> files)
        {
            this.dirs = new TreeSet<>(dirs);
            this.files = new TreeMap<>(files);
        }

        boolean samePaths(final State state)
        {
            return dirs.equals(state.dirs) && files.keySet().equals(state.files.keySet());
        }
    }

    /** Writes and truncates to a file since its last acknowledged fsync. */
    private static final class Unsynced
    {
        final List<long[]> ranges = new ArrayList<>();
        final List<byte[]> writes = new ArrayList<>();
        long truncatedTo = Long.MAX_VALUE;
    }

    /**
     * What the client was told: the namespace and the bytes of each file now, as of each namespace change, and what
     * is durable (the namespace at the last acknowledged journal force, each file's bytes at its last acknowledged
     * fsync).
     */
    private static final class Model
    {
        Set<String> dirs = new HashSet<>();
        Map<String, Integer> files = new HashMap<>();
        Map<Integer, byte[]> content = new HashMap<>();
        Map<Integer, byte[]> synced = new HashMap<>();
        Map<Integer, Unsynced> unsynced = new HashMap<>();
        /** Every write to each file since its creation (what any byte of it may be). */
        Map<Integer, Unsynced> everWritten = new HashMap<>();
        List<Namespace> history = new ArrayList<>(List.of(new Namespace(Set.of(), Map.of())));
        int durableIndex;
        int nextId = 1;

        Model copy()
        {
            final Model copy = new Model();
            copy.become(this);
            copy.dirs = new HashSet<>(dirs);
            copy.files = new HashMap<>(files);
            copy.content = new HashMap<>(content);
            copy.synced = new HashMap<>(synced);
            copy.unsynced = deepCopy(unsynced);
            copy.everWritten = deepCopy(everWritten);
            copy.history = new ArrayList<>(history);
            return copy;
        }

        private static Map<Integer, Unsynced> deepCopy(final Map<Integer, Unsynced> map)
        {
            final Map<Integer, Unsynced> copy = new HashMap<>();
            map.forEach((id, u) ->
            {
                final Unsynced c = new Unsynced();
                c.ranges.addAll(u.ranges);
                c.writes.addAll(u.writes);
                c.truncatedTo = u.truncatedTo;
                copy.put(id, c);
            });
            return copy;
        }

        void become(final Model other)
        {
            dirs = other.dirs;
            files = other.files;
            content = other.content;
            synced = other.synced;
            unsynced = other.unsynced;
            everWritten = other.everWritten;
            history = other.history;
            durableIndex = other.durableIndex;
            nextId = other.nextId;
        }

        void mkdir(final int vNode, final String path)
        {
            dirs.add(vNode + ":" + path);
            changed();
        }

        void rmdir(final int vNode, final String path)
        {
            dirs.remove(vNode + ":" + path);
            changed();
        }

        void create(final int vNode, final String path)
        {
            final int id = nextId++;
            files.put(vNode + ":" + path, id);
            content.put(id, new byte[0]);
            unsynced.put(id, new Unsynced());
            everWritten.put(id, new Unsynced());
            changed();
        }

        void write(final int vNode, final String path, final long offset, final byte[] data)
        {
            final int id = files.get(vNode + ":" + path);
            final byte[] old = content.get(id);
            final byte[] now = Arrays.copyOf(old, (int)Math.max(old.length, offset + data.length));
            System.arraycopy(data, 0, now, (int)offset, data.length);
            content.put(id, now);
            for (final Unsynced log : List.of(unsynced.get(id), everWritten.get(id)))
            {
                log.ranges.add(new long[] {offset, data.length});
                log.writes.add(data);
            }
        }

        void truncate(final int vNode, final String path, final long size)
        {
            final int id = files.get(vNode + ":" + path);
            content.put(id, Arrays.copyOf(content.get(id), (int)size));
            unsynced.get(id).truncatedTo = Math.min(unsynced.get(id).truncatedTo, size);
        }

        void fsync(final int vNode, final String path)
        {
            durableIndex = history.size() - 1;
            final Integer id = files.get(vNode + ":" + path);
            if (id != null)
            {
                synced.put(id, content.get(id));
                unsynced.put(id, new Unsynced());
            }
        }

        void rename(final int vNode, final String from, final String to)
        {
            final Integer replaced = files.remove(vNode + ":" + to);
            files.put(vNode + ":" + to, files.remove(vNode + ":" + from));
            changed();
            if (replaced != null)
            {
                durableIndex = history.size() - 1;
            }
        }

        void dropVNode(final int vNode)
        {
            final String prefix = vNode + ":";
            files.keySet().removeIf(path -> path.startsWith(prefix));
            dirs.removeIf(path -> path.startsWith(prefix));
            changed();
            durableIndex = history.size() - 1;
        }

        void unlink(final int vNode, final String path)
        {
            files.remove(vNode + ":" + path);
            changed();
            durableIndex = history.size() - 1;
        }

        private void changed()
        {
            history.add(new Namespace(dirs, files));
        }

        /**
         * Null if {@code recovered} is a state the crash may leave, given this model (acknowledged) and {@code after}
         * (the call in flight acknowledged too); else what is wrong.
         */
        String explain(final Model after, final State recovered, final CrashSimulatingDisk.Loss loss)
        {
            final List<Namespace> candidates = new ArrayList<>();
            if (loss == CrashSimulatingDisk.Loss.ALL_UNFORCED)
            {
                candidates.add(history.get(durableIndex));
                candidates.add(after.history.get(after.durableIndex));
            }
            else
            {
                // Journal records not forced reach the disk or not; replay keeps the longest whole prefix.
                candidates.addAll(after.history.subList(durableIndex, after.history.size()));
            }
            String why = "its paths match no namespace the client may see after the crash (acknowledged: " +
                history.get(durableIndex).files.keySet() + " " + history.get(durableIndex).dirs + ")";
            for (final Namespace candidate : candidates)
            {
                if (!candidate.samePaths(recovered))
                {
                    continue;
                }
                why = null;
                for (final Map.Entry<String, Integer> file : candidate.files.entrySet())
                {
                    final byte[] bytes = recovered.files.get(file.getKey());
                    final String wrong = loss == CrashSimulatingDisk.Loss.ALL_UNFORCED ?
                        exact(after, file.getValue(), bytes) : possible(after, file.getValue(), bytes);
                    if (wrong != null)
                    {
                        why = file.getKey() + ": " + wrong;
                        break;
                    }
                }
                if (why == null)
                {
                    return null;
                }
            }
            return why;
        }

        /** All unforced data lost: the bytes of the last acknowledged fsync, or of the one in flight. */
        private String exact(final Model after, final int id, final byte[] bytes)
        {
            final byte[] before = synced.getOrDefault(id, new byte[0]);
            final byte[] inFlight = after.synced.getOrDefault(id, new byte[0]);
            if (Arrays.equals(before, bytes) || Arrays.equals(inFlight, bytes))
            {
                return null;
            }
            return bytes.length + " bytes, not the " + before.length + " acknowledged" +
                (before.length == inFlight.length ? "" : " (or " + inFlight.length + " in flight)") +
                " (first difference at " + Arrays.mismatch(before, bytes) + ")";
        }

        /**
         * Some unforced data kept: every acknowledged byte not written or cut since is there; every other byte is
         * acknowledged, written there at some time, or zero.
         */
        private String possible(final Model after, final int id, final byte[] bytes)
        {
            final byte[] acked = synced.getOrDefault(id, new byte[0]);
            // The call in flight (after's) may have landed in part too.
            final Unsynced since = unsynced.getOrDefault(id, new Unsynced());
            final Unsynced sinceInFlight = after.unsynced.getOrDefault(id, new Unsynced());
            final Unsynced ever = after.everWritten.getOrDefault(id, new Unsynced());
            final boolean fsyncInFlight = !Objects.equals(after.synced.get(id), synced.get(id));
            final long keptLength = Math.min(acked.length, Math.min(since.truncatedTo, sinceInFlight.truncatedTo));
            if (!fsyncInFlight && bytes.length < keptLength)
            {
                return bytes.length + " bytes, shorter than the " + keptLength + " acknowledged";
            }
            for (int i = 0; i < bytes.length; i++)
            {
                final boolean touched = covers(since, i) || covers(sinceInFlight, i) || i >= keptLength;
                if (!touched && !fsyncInFlight && bytes[i] != acked[i])
                {
                    return "acknowledged byte " + i + " is " + bytes[i] + ", not " + acked[i];
                }
                if (bytes[i] != 0 && !(i < acked.length && bytes[i] == acked[i]) && !written(ever, i, bytes[i]))
                {
                    return "byte " + i + " is " + bytes[i] + ", which was never written there";
                }
            }
            return null;
        }

        private static boolean covers(final Unsynced since, final int i)
        {
            for (final long[] range : since.ranges)
            {
                if (i >= range[0] && i < range[0] + range[1])
                {
                    return true;
                }
            }
            return false;
        }

        private static boolean written(final Unsynced since, final int i, final byte value)
        {
            for (int w = 0; w < since.ranges.size(); w++)
            {
                final long[] range = since.ranges.get(w);
                if (i >= range[0] && i < range[0] + range[1] && since.writes.get(w)[(int)(i - range[0])] == value)
                {
                    return true;
                }
            }
            return false;
        }
    }
}
