package dev.splitkernel.workload;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Phoenix-style word count, the shape of LegoOS's second application. {@link #prepare} writes Zipf-distributed
 * text (a vocabulary of {@value #VOCABULARY} words, theta 0.99) to a file; {@link #populate} reads each thread's
 * share of it through the file API (the storage monitor in a splitkernel process) into the region; {@link #run} maps
 * each share into the thread's own hash table, then (after a barrier) reduces the tables into one partition per
 * thread, then thread 0 sorts the top {@value #TOP_K}. {@link #verify} checks every count and the top k against the
 * counts the generator made.
 * <pre>
 *   region: | text (file contents)                  | map tables, one per thread | reduce partitions, one per thread | top k |
 *   table:  2^k slots of 16 bytes: word hash (64-bit FNV-1a, never 0), count; linear probing
 * </pre>
 */
public final class WordCount implements MemoryWorkload
{
    static final int VOCABULARY = 10_000;
    static final int TOP_K = 10;
    static final String INPUT = "/wordcount-input.txt";
    private static final int SLOT_BYTES = 16;
    private static final int TABLE_SLOTS = 1 << 14; // 1.6x the vocabulary: short probes
    private static final long TABLE_BYTES = (long)TABLE_SLOTS * SLOT_BYTES;
    private static final int CHUNK_BYTES = 64 * 1024;
    private static final int MAX_THREADS = 8;

    private final byte[][] words = new byte[VOCABULARY][];
    private final long[] hashes = new long[VOCABULARY];
    private final ZipfGenerator zipf = new ZipfGenerator(VOCABULARY, 0.99);
    private long[] expected;
    private long textBytes;
    private PhaseBarrier barrier;
    private int threads;

    public WordCount()
    {
        final SplittableRandom random = new SplittableRandom(7);
        for (int r = 0; r < VOCABULARY; r++)
        {
            // Four base-26 letters name the rank (so words are distinct), then 0-5 more letters of filler.
            final int extra = random.nextInt(6);
            final byte[] w = new byte[4 + extra];
            int v = r;
            for (int i = 0; i < 4; i++)
            {
                w[i] = (byte)('a' + v % 26);
                v /= 26;
            }
            for (int i = 4; i < w.length; i++)
            {
                w[i] = (byte)('a' + random.nextInt(26));
            }
            words[r] = w;
            hashes[r] = hash(w, 0, w.length);
        }
        if (Arrays.stream(hashes).distinct().count() != VOCABULARY)
        {
            throw new IllegalStateException("two words of the vocabulary share a hash");
        }
    }

    @Override
    public String name()
    {
        return "wordcount";
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        final long tables = 2 * MAX_THREADS * TABLE_BYTES + 4096;
        return Math.max(workingSetBytes, tables + (1 << 20)) & ~4095L;
    }

    private static long textBytes(final long lengthBytes)
    {
        return lengthBytes - (2 * MAX_THREADS * TABLE_BYTES + 4096);
    }

    private static long mapTable(final long base, final long lengthBytes, final int thread)
    {
        return base + textBytes(lengthBytes) + thread * TABLE_BYTES;
    }

    private static long partition(final long base, final long lengthBytes, final int thread)
    {
        return base + textBytes(lengthBytes) + (MAX_THREADS + thread) * TABLE_BYTES;
    }

    private static long topK(final long base, final long lengthBytes)
    {
        return base + textBytes(lengthBytes) + 2 * MAX_THREADS * TABLE_BYTES;
    }

    /** Writes the text file, counting every word it writes; the file is rewritten for each run (not timed). */
    @Override
    public void prepare(final WordMemory memory, final long base, final long lengthBytes, final int threads)
    {
        if (threads > MAX_THREADS)
        {
            throw new IllegalArgumentException("wordcount runs at most " + MAX_THREADS + " threads, not " + threads);
        }
        barrier = new PhaseBarrier(threads);
        this.threads = threads;
        textBytes = textBytes(lengthBytes);
        expected = new long[VOCABULARY];
        final WorkloadFiles files = memory.files();
        final int fd = files.open(INPUT, FileFlags.O_RDWR | FileFlags.O_CREAT | FileFlags.O_TRUNC);
        check(fd, "open " + INPUT);
        final UnsafeBuffer chunk = new UnsafeBuffer(ByteBuffer.allocateDirect(CHUNK_BYTES));
        final SplittableRandom random = new SplittableRandom(42);
        long offset = 0;
        int used = 0;
        while (offset + used < textBytes)
        {
            final int rank = (int)zipf.next(random);
            final byte[] w = words[rank];
            if (offset + used + w.length + 1 > textBytes)
            {
                break; // the rest is padding (spaces)
            }
            if (used + w.length + 1 > CHUNK_BYTES)
            {
                check(files.pwrite(fd, chunk, 0, used, offset), "write " + INPUT);
                offset += used;
                used = 0;
            }
            chunk.putBytes(used, w);
            chunk.putByte(used + w.length, (byte)' ');
            used += w.length + 1;
            expected[rank]++;
        }
        while (offset + used < textBytes)
        {
            if (used == CHUNK_BYTES)
            {
                check(files.pwrite(fd, chunk, 0, used, offset), "write " + INPUT);
                offset += used;
                used = 0;
            }
            chunk.putByte(used++, (byte)' ');
        }
        check(files.pwrite(fd, chunk, 0, used, offset), "write " + INPUT);
        check(files.close(fd), "close " + INPUT);
    }

    /** Thread {@code thread} reads its share of the file into the text area, through the file API. */
    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final WorkloadFiles files = memory.files();
        final int fd = files.open(INPUT, FileFlags.O_RDONLY);
        check(fd, "open " + INPUT);
        final UnsafeBuffer chunk = new UnsafeBuffer(ByteBuffer.allocateDirect(CHUNK_BYTES));
        final long from = share(thread, threads);
        final long to = share(thread + 1, threads);
        for (long offset = from; offset < to; offset += CHUNK_BYTES)
        {
            final int length = (int)Math.min(CHUNK_BYTES, to - offset);
            final long n = files.pread(fd, chunk, 0, length, offset);
            check(n, "read " + INPUT);
            if (n != length)
            {
                throw new VerificationException("short read of " + INPUT + " at " + offset + ": " + n + " of " + length);
            }
            memory.putBytes(base + offset, chunk, 0, length);
        }
        check(files.close(fd), "close " + INPUT);
    }

    private long share(final int thread, final int threads)
    {
        return textBytes * thread / threads;
    }

    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        try
        {
            final long counted = map(memory, base, lengthBytes, thread, threads);
            barrier.await();
            reduce(memory, base, lengthBytes, thread, threads);
            barrier.await();
            if (thread == 0)
            {
                sortTopK(memory, base, lengthBytes, threads);
            }
            return counted;
        }
        catch (final RuntimeException | Error ex)
        {
            barrier.abort(ex);
            throw ex;
        }
    }

    /** Words whose first byte lies in this thread's share, hashed into its own table; returns how many. */
    private long map(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long table = mapTable(base, lengthBytes, thread);
        long i = share(thread, threads);
        final long end = share(thread + 1, threads);
        if (i > 0 && memory.getByte(base + i - 1) != ' ')
        {
            while (i < textBytes && memory.getByte(base + i) != ' ')
            {
                i++; // the word began in the previous share
            }
        }
        long counted = 0;
        while (i < end)
        {
            if (memory.getByte(base + i) == ' ')
            {
                i++;
                continue;
            }
            long h = FNV_OFFSET;
            byte b;
            while (i < textBytes && (b = memory.getByte(base + i)) != ' ')
            {
                h = (h ^ (b & 0xff)) * FNV_PRIME;
                i++;
            }
            add(memory, table, h == 0 ? 1 : h, 1);
            counted++;
        }
        return counted;
    }

    /** Every map table's words of partition {@code thread} (hash mod threads) into that partition's table. */
    private static void reduce(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long target = partition(base, lengthBytes, thread);
        for (int t = 0; t < threads; t++)
        {
            final long table = mapTable(base, lengthBytes, t);
            for (int slot = 0; slot < TABLE_SLOTS; slot++)
            {
                final long key = memory.getLong(table + (long)slot * SLOT_BYTES);
                if (key != 0 && Long.remainderUnsigned(key, threads) == thread)
                {
                    add(memory, target, key, memory.getLong(table + (long)slot * SLOT_BYTES + 8));
                }
            }
        }
    }

    /** The top k words over every partition, by count then hash, written to the top-k area. */
    private static void sortTopK(final WordMemory memory, final long base, final long lengthBytes, final int threads)
    {
        final PriorityQueue<long[]> top = new PriorityQueue<>(TOP_K + 1, ORDER);
        for (int t = 0; t < threads; t++)
        {
            final long table = partition(base, lengthBytes, t);
            for (int slot = 0; slot < TABLE_SLOTS; slot++)
            {
                final long key = memory.getLong(table + (long)slot * SLOT_BYTES);
                if (key != 0)
                {
                    top.add(new long[]{key, memory.getLong(table + (long)slot * SLOT_BYTES + 8)});
                    if (top.size() > TOP_K)
                    {
                        top.poll();
                    }
                }
            }
        }
        final List<long[]> sorted = new ArrayList<>(top);
        sorted.sort(ORDER.reversed());
        final long out = topK(base, lengthBytes);
        for (int i = 0; i < sorted.size(); i++)
        {
            memory.putLong(out + i * 16L, sorted.get(i)[0]);
            memory.putLong(out + i * 16L + 8, sorted.get(i)[1]);
        }
    }

    /** Ascending by count, then by hash (so the smallest is polled first). */
    private static final Comparator<long[]> ORDER =
        Comparator.<long[]>comparingLong(e -> e[1]).thenComparing(e -> e[0], Long::compareUnsigned);

    private static void add(final WordMemory memory, final long table, final long key, final long count)
    {
        int slot = (int)(mix(key) & (TABLE_SLOTS - 1));
        while (true)
        {
            final long at = table + (long)slot * SLOT_BYTES;
            final long k = memory.getLong(at);
            if (k == key)
            {
                memory.putLong(at + 8, memory.getLong(at + 8) + count);
                return;
            }
            if (k == 0)
            {
                memory.putLong(at, key);
                memory.putLong(at + 8, count);
                return;
            }
            slot = (slot + 1) & (TABLE_SLOTS - 1);
        }
    }

    private static long find(final WordMemory memory, final long table, final long key)
    {
        int slot = (int)(mix(key) & (TABLE_SLOTS - 1));
        for (int probes = 0; probes < TABLE_SLOTS; probes++)
        {
            final long at = table + (long)slot * SLOT_BYTES;
            final long k = memory.getLong(at);
            if (k == key)
            {
                return memory.getLong(at + 8);
            }
            if (k == 0)
            {
                return 0;
            }
            slot = (slot + 1) & (TABLE_SLOTS - 1);
        }
        return 0;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long total)
    {
        long counted = 0;
        final List<long[]> expectedTop = new ArrayList<>();
        for (int r = 0; r < VOCABULARY; r++)
        {
            final long key = hashes[r] == 0 ? 1 : hashes[r];
            final long count = find(memory, partition(base, lengthBytes, (int)Long.remainderUnsigned(key, threads)),
                key);
            if (count != expected[r])
            {
                throw new VerificationException("word '" + new String(words[r], StandardCharsets.US_ASCII)
                    + "' counted " + count + " times, written " + expected[r] + " times");
            }
            counted += count;
            if (count > 0)
            {
                expectedTop.add(new long[]{key, count});
            }
        }
        if (counted != total)
        {
            throw new VerificationException("the map counted " + total + " words, the tables hold " + counted);
        }
        expectedTop.sort(ORDER.reversed());
        final long out = topK(base, lengthBytes);
        for (int i = 0; i < Math.min(TOP_K, expectedTop.size()); i++)
        {
            if (memory.getLong(out + i * 16L) != expectedTop.get(i)[0] ||
                memory.getLong(out + i * 16L + 8) != expectedTop.get(i)[1])
            {
                throw new VerificationException("top-" + TOP_K + " entry " + i + " is wrong");
            }
        }
    }

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    static long hash(final byte[] bytes, final int from, final int to)
    {
        long h = FNV_OFFSET;
        for (int i = from; i < to; i++)
        {
            h = (h ^ (bytes[i] & 0xff)) * FNV_PRIME;
        }
        return h;
    }

    private static long mix(final long key)
    {
        final long h = key * 0x9e3779b97f4a7c15L;
        return h ^ (h >>> 29);
    }

    private static void check(final long result, final String what)
    {
        if (result < 0)
        {
            throw new IllegalStateException("wordcount: " + what + " failed: " + Errno.describe(result));
        }
    }
}
