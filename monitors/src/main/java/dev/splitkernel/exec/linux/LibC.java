package dev.splitkernel.exec.linux;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The C library calls the exec fault handler makes, bound with JNA's direct mapping (a JNI-speed call without
 * hand-written glue). Pointers are raw addresses ({@code long}), usually of Agrona {@code UnsafeBuffer}s over direct
 * memory, so a call allocates nothing. After a call that returns -1, {@link #errno()} says why.
 * <p>
 * x86-64 Linux only (the system call number of userfaultfd and the struct layouts in {@link Userfaultfd} and
 * {@link SeqpacketSocket} are this ABI's).
 */
public final class LibC
{
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EPERM = 1;
    public static final int EEXIST = 17;
    public static final int ENOENT = 2;

    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int O_RDWR = 2;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_NORESERVE = 0x4000;
    public static final long MAP_FAILED = -1L;

    public static final int FALLOC_FL_KEEP_SIZE = 1;
    public static final int FALLOC_FL_PUNCH_HOLE = 2;

    public static final short POLLIN = 1;
    public static final int POLLFD_BYTES = 8;

    static final long SYS_USERFAULTFD = 323;

    static
    {
        Native.register(LibC.class, NativeLibrary.getInstance("c"));
    }

    private LibC()
    {
    }

    /** errno of the last failed call in this thread. */
    public static int errno()
    {
        return Native.getLastError();
    }

    /** strerror, for messages. */
    public static String describe(final int errno)
    {
        return strerror(errno) + " (errno " + errno + ")";
    }

    public static native String strerror(int errnum);

    public static native long read(int fd, long buffer, long count);

    public static native long write(int fd, long buffer, long count);

    public static native int close(int fd);

    public static native int ioctl(int fd, long request, long argument);

    public static native int poll(long fds, long count, int timeoutMs);

    public static native long mmap(long address, long length, int prot, int flags, int fd, long offset);

    public static native int munmap(long address, long length);

    public static native int fallocate(int fd, int mode, long offset, long length);

    public static native long syscall(long number, long argument);

    public static native int open(String path, int flags);

    public static native int socket(int domain, int type, int protocol);

    public static native int bind(int fd, long address, int length);

    public static native int listen(int fd, int backlog);

    public static native int accept4(int fd, long address, long lengthAddress, int flags);

    public static native long recvmsg(int fd, long message, int flags);

    public static native long send(int fd, long buffer, long length, int flags);

    public static native long recv(int fd, long buffer, long length, int flags);
}
