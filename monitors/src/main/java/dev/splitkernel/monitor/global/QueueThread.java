package dev.splitkernel.monitor.global;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A daemon thread of the global managers that handles queued items one at a time, in queue order, off the caller's
 * lock: their calls may block in a connection handshake, which must not stall the runtime's shared thread. On exit it
 * runs {@code onExit} (closing its connections), on its own thread. Thread-safe.
 */
final class QueueThread<T> implements AutoCloseable
{
    private static final long CLOSE_WAIT_MS = 5_000;

    private final LinkedBlockingQueue<T> queue = new LinkedBlockingQueue<>();
    private final Consumer<T> handler;
    private final Runnable onExit;
    private final Thread thread;
    private volatile boolean closed;

    QueueThread(final String name, final Consumer<T> handler, final Runnable onExit)
    {
        this.handler = handler;
        this.onExit = onExit;
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /** Handle {@code item} on the thread, after the items queued before it. */
    void add(final T item)
    {
        queue.add(item);
    }

    private void run()
    {
        try
        {
            while (!closed)
            {
                final T item = queue.poll(100, TimeUnit.MILLISECONDS);
                if (item != null && !closed)
                {
                    handler.accept(item);
                }
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        finally
        {
            onExit.run();
        }
    }

    /** Stop (an item under way ends within its calls' timeouts) and wait for the thread a while. */
    @Override
    public void close()
    {
        closed = true;
        thread.interrupt();
        try
        {
            thread.join(CLOSE_WAIT_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
