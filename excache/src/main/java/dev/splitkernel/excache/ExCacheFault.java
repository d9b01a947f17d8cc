package dev.splitkernel.excache;

/**
 * A load or store that the cache could not satisfy: the line source refused the miss (negative code), the line
 * is not writable, or the address is outside the 48-bit virtual address space. Raised in the faulting thread only;
 * the cache stays consistent. The processor monitor turns it into a segmentation fault of the process.
 */
public final class ExCacheFault extends RuntimeException
{
    /** Status: store to a line without {@link LineSource#PROT_WRITE} (or load from a line without PROT_READ). */
    public static final int PROTECTION = -1_000_001;

    /** Status: virtual address at or above 2^48, or a range that wraps around. */
    public static final int ADDRESS_OUT_OF_RANGE = -1_000_002;

    private static final long serialVersionUID = 1L;

    /**
     * Makes the exception a faulting access throws, so the cache's user can turn a fault into its own (a process's
     * segmentation fault) once, here, instead of around every access.
     */
    @FunctionalInterface
    public interface Handler
    {
        /** The default: an {@link ExCacheFault}. */
        Handler DEFAULT = ExCacheFault::new;

        /**
         * @param status a negative status of the line source, {@link #PROTECTION} or {@link #ADDRESS_OUT_OF_RANGE}.
         * @return the exception the faulting access throws.
         */
        RuntimeException onFault(int asid, long vaddr, int status, boolean write);
    }

    private final int asid;
    private final long vaddr;
    private final int status;
    private final boolean write;

    public ExCacheFault(final int asid, final long vaddr, final int status, final boolean write)
    {
        super((write ? "store to" : "load from") + " asid=" + asid + " vaddr=0x" + Long.toHexString(vaddr) +
            " failed: " + describe(status));
        this.asid = asid;
        this.vaddr = vaddr;
        this.status = status;
        this.write = write;
    }

    /** @return address-space id of the faulting access. */
    public int asid()
    {
        return asid;
    }

    /** @return virtual address of the faulting access. */
    public long vaddr()
    {
        return vaddr;
    }

    /** @return the negative status: from the {@link LineSource}, or {@link #PROTECTION}, {@link #ADDRESS_OUT_OF_RANGE}. */
    public int status()
    {
        return status;
    }

    /** @return true for a store. */
    public boolean isWrite()
    {
        return write;
    }

    private static String describe(final int status)
    {
        switch (status)
        {
            case PROTECTION:
                return "protection (line not writable)";
            case ADDRESS_OUT_OF_RANGE:
                return "address out of range (virtual addresses are below 2^48)";
            default:
                return "line source status " + status;
        }
    }
}
