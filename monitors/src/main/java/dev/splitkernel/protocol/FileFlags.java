package dev.splitkernel.protocol;

/** Linux's open(2) flags and lseek(2) whence values, with Linux's numbers (x86-64). */
public final class FileFlags
{
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    /** Every flag this emulation knows; others get EINVAL. */
    public static final int KNOWN = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND;

    public static final int SEEK_SET = 0;
    public static final int SEEK_CUR = 1;
    public static final int SEEK_END = 2;

    private FileFlags()
    {
    }

    public static boolean canRead(final int flags)
    {
        final int mode = flags & O_ACCMODE;
        return mode == O_RDONLY || mode == O_RDWR;
    }

    public static boolean canWrite(final int flags)
    {
        final int mode = flags & O_ACCMODE;
        return mode == O_WRONLY || mode == O_RDWR;
    }
}
