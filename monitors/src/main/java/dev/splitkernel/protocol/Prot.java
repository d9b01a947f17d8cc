package dev.splitkernel.protocol;

/** Protection bits, mmap flags and mremap flags, with Linux's values. */
public final class Prot
{
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_FIXED_NOREPLACE = 0x100000;

    public static final int MREMAP_MAYMOVE = 1;
    public static final int MREMAP_FIXED = 2;

    public static final int MS_ASYNC = 1;
    public static final int MS_INVALIDATE = 2;
    public static final int MS_SYNC = 4;

    /** Page size of the virtual address space: mmap and friends work in these units. */
    public static final int PAGE_BYTES = 4096;

    private Prot()
    {
    }
}
