package dev.splitkernel.protocol;

/**
 * Errno-like results of monitor operations, as negative ints. They never collide with the transport's
 * {@link dev.splitkernel.verbs.Status} codes (-1 to -99): {@code Errno.X == -(100 + linux errno)}, so a caller
 * tells them apart by range ({@link #isErrno(long)}) and maps to the Linux number with {@link #linux(long)}.
 */
public final class Errno
{
    private static final int BASE = 100;

    public static final int EPERM = -(BASE + 1);
    public static final int ENOENT = -(BASE + 2);
    public static final int ESRCH = -(BASE + 3);
    public static final int EBADF = -(BASE + 9);
    public static final int EAGAIN = -(BASE + 11);
    public static final int ENOMEM = -(BASE + 12);
    public static final int EACCES = -(BASE + 13);
    public static final int EFAULT = -(BASE + 14);
    public static final int EBUSY = -(BASE + 16);
    public static final int EEXIST = -(BASE + 17);
    public static final int ENOTDIR = -(BASE + 20);
    public static final int EISDIR = -(BASE + 21);
    public static final int EINVAL = -(BASE + 22);
    public static final int EMFILE = -(BASE + 24);
    public static final int EFBIG = -(BASE + 27);
    public static final int ENOSPC = -(BASE + 28);
    public static final int ENAMETOOLONG = -(BASE + 36);
    public static final int ENOSYS = -(BASE + 38);
    public static final int ENOTEMPTY = -(BASE + 39);
    public static final int EIO = -(BASE + 5);
    public static final int EOVERFLOW = -(BASE + 75);
    /** The memory monitor that owns the address is dead (declared by the global managers) or unreachable. */
    public static final int EHOSTDOWN = -(BASE + 112);
    /**
     * A memory monitor's answer for a vRegion that has moved away from it (it was declared dead while alive and the
     * vRegion promoted at its secondary): ask the vRegion's current owner instead.
     */
    public static final int ESTALE = -(BASE + 116);

    private Errno()
    {
    }

    /** True when {@code code} is one of ours (as opposed to success or a transport status). */
    public static boolean isErrno(final long code)
    {
        return code <= -BASE && code > -(BASE + 4096);
    }

    /** The positive Linux errno of an {@link Errno} code, or 0 if it is not one. */
    public static int linux(final long code)
    {
        return isErrno(code) ? (int)(-code - BASE) : 0;
    }

    /** A short name of an errno or transport status, for error messages. */
    public static String describe(final long code)
    {
        if (code >= 0)
        {
            return "ok";
        }
        if (!isErrno(code))
        {
            return dev.splitkernel.verbs.Status.describe((int)code);
        }
        switch ((int)code)
        {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case ESRCH: return "ESRCH";
            case EBADF: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case ENOMEM: return "ENOMEM";
            case EACCES: return "EACCES";
            case EFAULT: return "EFAULT";
            case EBUSY: return "EBUSY";
            case EEXIST: return "EEXIST";
            case EINVAL: return "EINVAL";
            case ENOTDIR: return "ENOTDIR";
            case EISDIR: return "EISDIR";
            case EMFILE: return "EMFILE";
            case EFBIG: return "EFBIG";
            case ENAMETOOLONG: return "ENAMETOOLONG";
            case ENOTEMPTY: return "ENOTEMPTY";
            case EIO: return "EIO";
            case ENOSPC: return "ENOSPC";
            case ENOSYS: return "ENOSYS";
            case EOVERFLOW: return "EOVERFLOW";
            case EHOSTDOWN: return "EHOSTDOWN";
            case ESTALE: return "ESTALE";
            default: return "errno " + linux(code);
        }
    }
}
