package dev.splitkernel.monitor.processor;

/**
 * A thread of a {@link LegoProcess}: it shares the process's address space. Join it with a timeout.
 * <p>
 * Thread-safe.
 */
public final class LegoThread
{
    private final Thread thread;
    private volatile int exitCode;
    private volatile Throwable failure;

    LegoThread(final LegoProcess process, final String name, final Workload body)
    {
        thread = new Thread(() ->
        {
            try
            {
                exitCode = body.run(process);
            }
            catch (final Throwable t)
            {
                failure = t;
                exitCode = t instanceof SegmentationFault ? LegoProcess.SIGSEGV_EXIT_CODE : 1;
                if (t instanceof SegmentationFault)
                {
                    process.onFault((SegmentationFault)t);
                }
            }
            finally
            {
                process.threadEnded();
            }
        }, name);
        thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /**
     * Wait for the thread to end.
     *
     * @return true if it ended within the timeout.
     */
    public boolean join(final long timeoutNs) throws InterruptedException
    {
        thread.join(Math.max(1, timeoutNs / 1_000_000), 0);
        return !thread.isAlive();
    }

    public boolean isAlive()
    {
        return thread.isAlive();
    }

    /** The body's exit code, {@link LegoProcess#SIGSEGV_EXIT_CODE} after a fault, or 1 after another failure. */
    public int exitCode()
    {
        return exitCode;
    }

    /** What the body threw, or null. */
    public Throwable failure()
    {
        return failure;
    }

    public String name()
    {
        return thread.getName();
    }
}
