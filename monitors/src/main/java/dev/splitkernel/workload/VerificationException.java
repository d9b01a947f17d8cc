package dev.splitkernel.workload;

/** A workload read back something it did not write: the run's result is wrong. */
public final class VerificationException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public VerificationException(final String message)
    {
        super(message);
    }
}
