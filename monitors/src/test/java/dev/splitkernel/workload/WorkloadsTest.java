package dev.splitkernel.workload;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadsTest
{
    private static final long BYTES = 1L << 20;

    @Test
    void shouldVerifyEveryWorkloadOnLocalMemoryWithSeveralThreads() throws Exception
    {
        for (final String name : Workloads.NAMES)
        {
            final MemoryWorkload workload = Workloads.byName(name);
            final long region = workload.regionBytes(BYTES);
            final LocalMemory memory = new LocalMemory(region);
            final int threads = 4;
            final long[] writes = new long[threads];
            final Thread[] list = new Thread[threads];
            workload.prepare(memory, memory.baseAddress(), region, threads);
            for (int t = 0; t < threads; t++)
            {
                workload.populate(memory, memory.baseAddress(), region, t, threads);
            }
            for (int t = 0; t < threads; t++)
            {
                final int thread = t;
                list[t] = new Thread(() -> writes[thread] = workload.run(memory, memory.baseAddress(), region, thread,
                    threads));
                list[t].start();
            }
            long total = 0;
            for (int t = 0; t < threads; t++)
            {
                list[t].join();
                total += writes[t];
            }
            assertTrue(total > 0, name);
            workload.verify(memory, memory.baseAddress(), region, total);
        }
    }

    @Test
    void shouldDetectALostWrite()
    {
        for (final String name : Workloads.NAMES)
        {
            final MemoryWorkload workload = Workloads.byName(name);
            final long region = workload.regionBytes(BYTES);
            final LocalMemory memory = new LocalMemory(region);
            workload.prepare(memory, memory.baseAddress(), region, 1);
            workload.populate(memory, memory.baseAddress(), region, 0, 1);
            final long writes = workload.run(memory, memory.baseAddress(), region, 0, 1);
            assertThrows(VerificationException.class,
                () -> workload.verify(memory, memory.baseAddress(), region, writes + 1), name);
        }
    }

    @Test
    void shouldDetectTrainedWeightsThatDifferFromLocalMemory()
    {
        final MemoryWorkload tf = Workloads.byName("tf");
        final long region = tf.regionBytes(2L << 20);
        final LocalMemory local = new LocalMemory(region);
        final long written = train(tf, local, region);
        tf.verify(local, local.baseAddress(), region, written);
        // The same training on "another memory" (a view of a second buffer): equal weights pass, one flipped bit fails.
        final LocalMemory backing = new LocalMemory(region);
        final WordMemory other = new ForwardingMemory(backing);
        final long again = train(tf, other, region);
        tf.verify(other, backing.baseAddress(), region, again);
        flipWeights(other, backing.baseAddress(), region);
        assertThrows(VerificationException.class, () -> tf.verify(other, backing.baseAddress(), region, again));
    }

    @Test
    void shouldGiveLegoOsApplicationsWorkingSetsOfHundredsOfMegabytes()
    {
        // Deliver 1: tf a few hundred MB (LegoOS's 0.9 GB / 4), wordcount likewise (1.7 GB / 8).
        for (final String name : new String[] {"tf", "wordcount"})
        {
            final long bytes = Workloads.defaultWorkingSetBytes(name);
            assertTrue(bytes >= 200L << 20 && bytes <= 512L << 20, name + ": " + bytes);
            final long region = Workloads.byName(name).regionBytes(bytes);
            assertTrue(region >= 200L << 20 && region <= bytes + (1L << 20), name + " region: " + region);
        }
    }

    @Test
    void shouldSpreadABoundedNumberOfTrainingStepsOverTheWholeDataSet()
    {
        // B mini-batches of data (B about 64), 4 steps: batches 0, B/4, B/2 and 3B/4 are trained, not the first 4.
        final ConvNetTraining tf = new ConvNetTraining(4);
        final long region = tf.regionBytes(64L * ConvNetTraining.BATCH * 3072 * 4 + (4L << 20));
        final long images = ConvNetTraining.images(region);
        final long batches = images / ConvNetTraining.BATCH;
        assertTrue(batches >= 64, "batches " + batches);
        final LocalMemory backing = new LocalMemory(region);
        final long imageBytes = 3072 * 4L;
        final long lastQuarter = backing.baseAddress() + batches * 3 / 4 * ConvNetTraining.BATCH * imageBytes;
        final long dataEnd = backing.baseAddress() + images * imageBytes;
        final long[] readsInLastQuarter = new long[1];
        final WordMemory recording = new ForwardingMemory(backing)
        {
            @Override
            public float getFloat(final long a)
            {
                if (a >= lastQuarter && a < dataEnd)
                {
                    readsInLastQuarter[0]++;
                }
                return super.getFloat(a);
            }
        };
        final long trained = train(tf, recording, region);
        assertEquals(4 * ConvNetTraining.BATCH, trained);
        assertTrue(readsInLastQuarter[0] > 0, "no image of the last quarter was trained on");
        tf.verify(recording, backing.baseAddress(), region, trained);
        assertThrows(VerificationException.class,
            () -> tf.verify(recording, backing.baseAddress(), region, trained + ConvNetTraining.BATCH));
    }

    private static long train(final MemoryWorkload workload, final WordMemory memory, final long region)
    {
        final long base = LocalMemory.BASE_ADDRESS;
        workload.prepare(memory, base, region, 1);
        workload.populate(memory, base, region, 0, 1);
        return workload.run(memory, base, region, 0, 1);
    }

    /** Flips the lowest bit of the second conv weight (the layout of ConvNetTraining: images, labels, weights). */
    private static void flipWeights(final WordMemory memory, final long base, final long region)
    {
        final long images = ConvNetTraining.images(region);
        final long weights = base + ((images * 3072 * 4 + 4095) & ~4095L) + ((images * 4 + 4095) & ~4095L);
        memory.putInt(weights + 4, memory.getInt(weights + 4) ^ 1);
    }

    @Test
    void shouldDetectALineFromTheWrongPlace()
    {
        final MemoryWorkload workload = Workloads.byName("random");
        final LocalMemory memory = new LocalMemory(BYTES);
        final long base = memory.baseAddress();
        workload.populate(memory, base, BYTES, 0, 1);
        memory.putLong(base + 4096 * 7 + 64, memory.getLong(base + 4096 * 3 + 64));
        assertThrows(VerificationException.class, () -> workload.verify(memory, base, BYTES, 0));
    }

    @Test
    void shouldScrambleKeysBijectively()
    {
        for (final long n : new long[]{1, 2, 3, 1000, 4096, 5000})
        {
            final Set<Long> seen = new HashSet<>();
            for (long k = 0; k < n; k++)
            {
                final long s = ZipfKeyValue.scramble(k, n);
                assertTrue(s >= 0 && s < n);
                seen.add(s);
            }
            assertEquals(n, seen.size());
        }
    }

    @Test
    void shouldSkewZipfTowardsLowRanks()
    {
        final ZipfGenerator zipf = new ZipfGenerator(100_000, 0.99);
        final java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        int top100 = 0;
        for (int i = 0; i < 100_000; i++)
        {
            final long r = zipf.next(random);
            assertTrue(r >= 0 && r < 100_000);
            if (r < 100)
            {
                top100++;
            }
        }
        assertTrue(top100 > 30_000, "the top 0.1% of keys should draw a large share: " + top100);
    }

    /** A WordMemory that is not LocalMemory (as a splitkernel process is not), over a local buffer. */
    private static class ForwardingMemory implements WordMemory
    {
        private final LocalMemory m;

        ForwardingMemory(final LocalMemory m)
        {
            this.m = m;
        }

        public byte getByte(final long a) { return m.getByte(a); }
        public void putByte(final long a, final byte v) { m.putByte(a, v); }
        public int getInt(final long a) { return m.getInt(a); }
        public void putInt(final long a, final int v) { m.putInt(a, v); }
        public long getLong(final long a) { return m.getLong(a); }
        public void putLong(final long a, final long v) { m.putLong(a, v); }
        public float getFloat(final long a) { return m.getFloat(a); }
        public void putFloat(final long a, final float v) { m.putFloat(a, v); }
        public double getDouble(final long a) { return m.getDouble(a); }
        public void putDouble(final long a, final double v) { m.putDouble(a, v); }
        public void getBytes(final long a, final org.agrona.MutableDirectBuffer d, final int o, final int l)
        {
            m.getBytes(a, d, o, l);
        }
        public void putBytes(final long a, final org.agrona.DirectBuffer s, final int o, final int l)
        {
            m.putBytes(a, s, o, l);
        }
        public WorkloadFiles files() { return m.files(); }
    }
}
