package dev.splitkernel.verbs;

/** A fault the user must see: a bind or connect failure, a missing prerequisite, a bad configuration. */
public class FabricException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public FabricException(final String message)
    {
        super(message);
    }

    public FabricException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
