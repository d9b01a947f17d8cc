package dev.splitkernel.workload;

import java.util.SplittableRandom;

/**
 * A TensorFlow-like training loop, the shape of LegoOS's first application: a small convolutional network
 * (3x3 convolution 3 to 4 channels with ReLU, 2x2 max pooling, a dense layer to 10 classes, softmax cross-entropy)
 * trained by SGD on a synthetic CIFAR-10-shaped data set (32x32x3 float images, 10 classes), mini-batches of
 * {@value #BATCH} split across the threads: one epoch, or at most {@code maxSteps} mini-batches spread evenly over the
 * data set (step s trains batch s x batches / steps), so that a data set of hundreds of MB is populated whole but
 * trained on in a bounded time. Data, weights, activations and gradients all live in the region:
 * every multiply-add reads its operands through {@link WordMemory}.
 * <p>
 * Each thread accumulates the gradients of its images in its own buffer; after a barrier each thread updates a
 * slice of the weights with the sum of every thread's gradients, in thread order, so the result is the same bit for
 * bit on any memory. {@link #verify} checks that the loss fell and that the final weights equal, bit for bit,
 * those of the last run on local memory with the same size and threads.
 * <pre>
 *   region: | images N x 3072 floats | labels N ints | weights P floats | gradients 16 x P | activations 16 x 48 KB | losses |
 * </pre>
 */
public final class ConvNetTraining implements MemoryWorkload
{
    static final int BATCH = 32;
    private static final int SIDE = 32;
    private static final int CHANNELS = 3;
    private static final int IMAGE_FLOATS = SIDE * SIDE * CHANNELS;
    private static final int FILTERS = 4;
    private static final int CONV_OUT = FILTERS * SIDE * SIDE;
    private static final int POOLED = FILTERS * (SIDE / 2) * (SIDE / 2);
    private static final int CLASSES = 10;
    private static final int CONV_W = FILTERS * CHANNELS * 9;
    private static final int DENSE_W = CLASSES * POOLED;
    /** Weights: conv W, conv bias, dense W, dense bias. */
    private static final int PARAMS = CONV_W + FILTERS + DENSE_W + CLASSES;
    private static final int CONV_B = CONV_W;
    private static final int DENSE_W_AT = CONV_W + FILTERS;
    private static final int DENSE_B = DENSE_W_AT + DENSE_W;
    private static final int MAX_THREADS = 16;
    private static final long ACT_BYTES = (CONV_OUT + POOLED + POOLED) * 4L;
    private static final float LEARNING_RATE = 0.01f;

    private final long maxSteps;
    private PhaseBarrier barrier;
    private int threads;

    /** One full epoch over the data set. */
    public ConvNetTraining()
    {
        this(0);
    }

    /** At most {@code maxSteps} mini-batches spread over the data set; 0 for one full epoch. */
    public ConvNetTraining(final long maxSteps)
    {
        if (maxSteps < 0)
        {
            throw new IllegalArgumentException("maxSteps must be >= 0 (0: one epoch): " + maxSteps);
        }
        this.maxSteps = maxSteps;
    }

    /** Mini-batches trained over {@code n} images. */
    private long steps(final long n)
    {
        final long batches = n / BATCH;
        return maxSteps == 0 ? batches : Math.min(batches, maxSteps);
    }

    /** The mini-batch that step {@code step} of {@code steps} trains: spread evenly over the data set. */
    private static long batchOf(final long step, final long steps, final long n)
    {
        return step * (n / BATCH) / steps;
    }

    @Override
    public String name()
    {
        return "tf";
    }

    private static long fixedBytes()
    {
        return align((long)PARAMS * 4) * (1 + MAX_THREADS) + ACT_BYTES * MAX_THREADS + (1 << 20);
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        final long images = Math.max(BATCH, (workingSetBytes - fixedBytes()) / (IMAGE_FLOATS * 4L + 4) / BATCH * BATCH);
        return layoutBytes(images);
    }

    private static long layoutBytes(final long images)
    {
        return align(images * IMAGE_FLOATS * 4L) + align(images * 4) + fixedBytes();
    }

    private static long align(final long bytes)
    {
        return (bytes + 4095) & ~4095L;
    }

    /** Images that fit in {@code lengthBytes} (the inverse of {@link #layoutBytes}). */
    static long images(final long lengthBytes)
    {
        long n = Math.max(BATCH, (lengthBytes - fixedBytes()) / (IMAGE_FLOATS * 4L + 4) / BATCH * BATCH);
        while (n > BATCH && layoutBytes(n) > lengthBytes)
        {
            n -= BATCH;
        }
        return n;
    }

    private static long labels(final long base, final long n)
    {
        return base + align(n * IMAGE_FLOATS * 4L);
    }

    private static long params(final long base, final long n)
    {
        return labels(base, n) + align(n * 4);
    }

    private static long grads(final long base, final long n, final int thread)
    {
        return params(base, n) + align((long)PARAMS * 4) * (1 + thread);
    }

    private static long activations(final long base, final long n, final int thread)
    {
        return params(base, n) + align((long)PARAMS * 4) * (1 + MAX_THREADS) + ACT_BYTES * thread;
    }

    private static long losses(final long base, final long n)
    {
        return activations(base, n, MAX_THREADS);
    }

    @Override
    public void prepare(final WordMemory memory, final long base, final long lengthBytes, final int threads)
    {
        if (threads > MAX_THREADS || BATCH % threads != 0)
        {
            throw new IllegalArgumentException("tf splits a batch of " + BATCH + " images evenly: use 1, 2, 4, 8 or "
                + "16 threads, not " + threads);
        }
        barrier = new PhaseBarrier(threads);
        this.threads = threads;
    }

    /** Thread t generates its share of the images (class-dependent patterns plus noise); thread 0 the weights. */
    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long n = images(lengthBytes);
        for (long i = thread; i < n; i += threads)
        {
            final SplittableRandom random = new SplittableRandom(1000 + i);
            final int label = random.nextInt(CLASSES);
            memory.putInt(labels(base, n) + i * 4, label);
            final long image = base + i * IMAGE_FLOATS * 4L;
            for (int c = 0; c < CHANNELS; c++)
            {
                for (int y = 0; y < SIDE; y++)
                {
                    for (int x = 0; x < SIDE; x++)
                    {
                        // Each class lights one channel in one of four quadrants: learnable, not trivial.
                        final boolean lit = c == label % CHANNELS && ((y / 16) * 2 + x / 16) == (label / 3) % 4;
                        final float v = (float)(random.nextDouble() - 0.5) + (lit ? 1.0f : 0.0f);
                        memory.putFloat(image + ((c * SIDE + y) * SIDE + x) * 4L, v);
                    }
                }
            }
        }
        if (thread == 0)
        {
            final SplittableRandom random = new SplittableRandom(99);
            final long p = params(base, n);
            for (int i = 0; i < PARAMS; i++)
            {
                final double scale = i < CONV_W ? 0.2 : i >= DENSE_W_AT && i < DENSE_B ? 0.02 : 0.0;
                memory.putFloat(p + i * 4L, (float)((random.nextDouble() - 0.5) * scale));
            }
        }
    }

    /** One epoch or {@code maxSteps} mini-batches: per mini-batch, forward and backward over this thread's images, a barrier, its weight slice. */
    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        try
        {
            final long n = images(lengthBytes);
            final long steps = steps(n);
            final long p = params(base, n);
            final long g = grads(base, n, thread);
            final long act = activations(base, n, thread);
            long trained = 0;
            for (long step = 0; step < steps; step++)
            {
                double loss = 0;
                for (int b = thread; b < BATCH; b += threads)
                {
                    final long i = batchOf(step, steps, n) * BATCH + b;
                    loss += trainOne(memory, base + i * IMAGE_FLOATS * 4L, memory.getInt(labels(base, n) + i * 4), p,
                        g, act);
                    trained++;
                }
                memory.putDouble(losses(base, n) + (step * MAX_THREADS + thread) * 8, loss);
                barrier.await();
                final int from = (int)((long)PARAMS * thread / threads);
                final int to = (int)((long)PARAMS * (thread + 1) / threads);
                for (int w = from; w < to; w++)
                {
                    float sum = 0;
                    for (int t = 0; t < threads; t++)
                    {
                        final long at = grads(base, n, t) + w * 4L;
                        sum += memory.getFloat(at);
                        memory.putFloat(at, 0f);
                    }
                    memory.putFloat(p + w * 4L, memory.getFloat(p + w * 4L) - LEARNING_RATE * sum / BATCH);
                }
                barrier.await();
            }
            return trained;
        }
        catch (final RuntimeException | Error ex)
        {
            barrier.abort(ex);
            throw ex;
        }
    }

    /** Forward and backward for one image; gradients added to {@code g}; returns its loss. */
    private static double trainOne(final WordMemory m, final long image, final int label, final long p, final long g,
        final long act)
    {
        final long conv = act;
        final long pooled = act + CONV_OUT * 4L;
        final long argmax = pooled + POOLED * 4L;
        for (int co = 0; co < FILTERS; co++)
        {
            final float bias = m.getFloat(p + (CONV_B + co) * 4L);
            for (int y = 0; y < SIDE; y++)
            {
                for (int x = 0; x < SIDE; x++)
                {
                    float acc = bias;
                    for (int ci = 0; ci < CHANNELS; ci++)
                    {
                        for (int ky = 0; ky < 3; ky++)
                        {
                            final int iy = y + ky - 1;
                            if (iy < 0 || iy >= SIDE)
                            {
                                continue;
                            }
                            for (int kx = 0; kx < 3; kx++)
                            {
                                final int ix = x + kx - 1;
                                if (ix >= 0 && ix < SIDE)
                                {
                                    acc += m.getFloat(p + (((co * CHANNELS + ci) * 3 + ky) * 3 + kx) * 4L) *
                                        m.getFloat(image + ((ci * SIDE + iy) * SIDE + ix) * 4L);
                                }
                            }
                        }
                    }
                    m.putFloat(conv + ((co * SIDE + y) * SIDE + x) * 4L, Math.max(0f, acc));
                }
            }
        }
        final int half = SIDE / 2;
        for (int co = 0; co < FILTERS; co++)
        {
            for (int py = 0; py < half; py++)
            {
                for (int px = 0; px < half; px++)
                {
                    int best = (co * SIDE + 2 * py) * SIDE + 2 * px;
                    float max = m.getFloat(conv + best * 4L);
                    for (int d = 1; d < 4; d++)
                    {
                        final int at = (co * SIDE + 2 * py + d / 2) * SIDE + 2 * px + d % 2;
                        final float v = m.getFloat(conv + at * 4L);
                        if (v > max)
                        {
                            max = v;
                            best = at;
                        }
                    }
                    final int o = (co * half + py) * half + px;
                    m.putFloat(pooled + o * 4L, max);
                    m.putInt(argmax + o * 4L, best);
                }
            }
        }
        final float[] logits = new float[CLASSES];
        float top = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < CLASSES; k++)
        {
            float acc = m.getFloat(p + (DENSE_B + k) * 4L);
            final long row = p + (DENSE_W_AT + (long)k * POOLED) * 4L;
            for (int i = 0; i < POOLED; i++)
            {
                acc += m.getFloat(row + i * 4L) * m.getFloat(pooled + i * 4L);
            }
            logits[k] = acc;
            top = Math.max(top, acc);
        }
        double sum = 0;
        for (int k = 0; k < CLASSES; k++)
        {
            sum += Math.exp(logits[k] - top);
        }
        final float[] dlogit = new float[CLASSES];
        for (int k = 0; k < CLASSES; k++)
        {
            dlogit[k] = (float)(Math.exp(logits[k] - top) / sum) - (k == label ? 1f : 0f);
        }
        final double loss = Math.log(sum) - (logits[label] - top);
        for (int k = 0; k < CLASSES; k++)
        {
            final long gb = g + (DENSE_B + k) * 4L;
            m.putFloat(gb, m.getFloat(gb) + dlogit[k]);
            final long grow = g + (DENSE_W_AT + (long)k * POOLED) * 4L;
            for (int i = 0; i < POOLED; i++)
            {
                m.putFloat(grow + i * 4L, m.getFloat(grow + i * 4L) + dlogit[k] * m.getFloat(pooled + i * 4L));
            }
        }
        for (int i = 0; i < POOLED; i++)
        {
            final int at = m.getInt(argmax + i * 4L);
            if (m.getFloat(conv + at * 4L) <= 0f)
            {
                continue; // ReLU was closed: no gradient
            }
            float grad = 0;
            for (int k = 0; k < CLASSES; k++)
            {
                grad += m.getFloat(p + (DENSE_W_AT + (long)k * POOLED + i) * 4L) * dlogit[k];
            }
            final int co = at / (SIDE * SIDE);
            final int y = at / SIDE % SIDE;
            final int x = at % SIDE;
            final long gbias = g + (CONV_B + co) * 4L;
            m.putFloat(gbias, m.getFloat(gbias) + grad);
            for (int ci = 0; ci < CHANNELS; ci++)
            {
                for (int ky = 0; ky < 3; ky++)
                {
                    final int iy = y + ky - 1;
                    for (int kx = 0; kx < 3; kx++)
                    {
                        final int ix = x + kx - 1;
                        if (iy >= 0 && iy < SIDE && ix >= 0 && ix < SIDE)
                        {
                            final long gw = g + (((co * CHANNELS + ci) * 3 + ky) * 3 + kx) * 4L;
                            m.putFloat(gw, m.getFloat(gw) + grad * m.getFloat(image + ((ci * SIDE + iy) * SIDE + ix) * 4L));
                        }
                    }
                }
            }
        }
        return loss;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long total)
    {
        final long n = images(lengthBytes);
        final long steps = steps(n);
        if (total != steps * BATCH)
        {
            throw new VerificationException("trained " + total + " images, expected " + steps * BATCH);
        }
        final long window = Math.max(1, steps / 10);
        final double first = meanLoss(memory, base, n, 0, window);
        final double last = meanLoss(memory, base, n, steps - window, steps);
        if (steps >= 20 && !(last < first))
        {
            throw new VerificationException("the loss did not fall: " + first + " in the first tenth of the epoch, "
                + last + " in the last");
        }
        long checksum = 17;
        final long p = params(base, n);
        for (int i = 0; i < PARAMS; i++)
        {
            checksum = checksum * 31 + Float.floatToRawIntBits(memory.getFloat(p + i * 4L));
        }
        // The final weights of the last local run of this size and thread count: the bit-exact reference.
        final String key = "tf/" + lengthBytes + "/" + threads + "/" + steps;
        if (memory instanceof LocalMemory)
        {
            LocalReference.put(key, checksum);
        }
        else
        {
            final Long local = LocalReference.get(key);
            if (local != null && local != checksum)
            {
                throw new VerificationException("the trained weights differ from those trained on local memory "
                    + "(checksum " + Long.toHexString(checksum) + ", local " + Long.toHexString(local) + ")");
            }
        }
    }

    private double meanLoss(final WordMemory memory, final long base, final long n, final long from, final long to)
    {
        double sum = 0;
        for (long step = from; step < to; step++)
        {
            for (int t = 0; t < threads; t++)
            {
                sum += memory.getDouble(losses(base, n) + (step * MAX_THREADS + t) * 8);
            }
        }
        return sum / ((to - from) * BATCH);
    }
}
