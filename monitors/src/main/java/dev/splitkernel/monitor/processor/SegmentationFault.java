package dev.splitkernel.monitor.processor;

/**
 * A process touched an unmapped address, or accessed one against its protection: the process is killed (as by
 * SIGSEGV), in this thread and in every other thread of the process at its next access. The monitors and other
 * processes are unaffected.
 */
public final class SegmentationFault extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int pid;
    private final long address;
    private final boolean write;
    private final int code;

    public SegmentationFault(final int pid, final long address, final boolean write, final int code,
        final String reason)
    {
        super("segmentation fault in process " + pid + ": " + (write ? "write to" : "read of") + " 0x"
            + Long.toHexString(address) + " (" + reason + ")");
        this.pid = pid;
        this.address = address;
        this.write = write;
        this.code = code;
    }

    public int pid()
    {
        return pid;
    }

    /** The faulting virtual address. */
    public long address()
    {
        return address;
    }

    /** True for a store, false for a load. */
    public boolean isWrite()
    {
        return write;
    }

    /** The errno or transport status that caused it. */
    public int code()
    {
        return code;
    }
}
