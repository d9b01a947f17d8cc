package dev.splitkernel.exec;

/** A program that cannot run under {@code splitkernel exec}; the message says why and what to do. */
public final class ExecException extends RuntimeException
{
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public ExecException(final String message, final int exitCode)
    {
        super(message);
        this.exitCode = exitCode;
    }

    /** What a shell would return for it (126 cannot execute, 127 not found). */
    public int exitCode()
    {
        return exitCode;
    }
}
