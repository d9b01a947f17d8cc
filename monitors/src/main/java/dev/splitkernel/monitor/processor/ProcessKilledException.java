package dev.splitkernel.monitor.processor;

/** Thrown in a thread of a process that has already exited or was killed by a fault in another of its threads. */
public final class ProcessKilledException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public ProcessKilledException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
