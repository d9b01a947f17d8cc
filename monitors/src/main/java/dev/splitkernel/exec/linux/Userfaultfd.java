package dev.splitkernel.exec.linux;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * A userfaultfd handed over by a program: reading its fault messages and resolving them (copy a page in, wake,
 * write-protect), each one ioctl through {@link LibC}. Layouts (x86-64, linux/userfaultfd.h):
 * <pre>
 * uffd_msg (32 bytes)            uffdio_copy (40)          uffdio_writeprotect (24)   uffdio_range (16)
 *   0  u8  event (0x12 fault)      0 u64 dst                 0 u64 start                0 u64 start
 *   8  u64 flags (1 write, 2 wp)   8 u64 src                 8 u64 len                  8 u64 len
 *  16  u64 address                16 u64 len                16 u64 mode (1 wp, 2 dontwake)
 *  24  u32 thread id              24 u64 mode (1 dontwake, 2 wp)
 *                                 32 s64 copied (out)
 * </pre>
 * Not thread-safe: one handler thread owns it (its argument buffer is reused by every call).
 */
public final class Userfaultfd implements AutoCloseable
{
    public static final int MSG_BYTES = 32;
    public static final int EVENT_PAGEFAULT = 0x12;
    public static final long PAGEFAULT_FLAG_WRITE = 1;
    public static final long PAGEFAULT_FLAG_WP = 2;
    public static final int MSG_EVENT_OFFSET = 0;
    public static final int MSG_FLAGS_OFFSET = 8;
    public static final int MSG_ADDRESS_OFFSET = 16;

    static final long UFFDIO_API = 0xc018aa3fL;
    static final long UFFDIO_COPY = 0xc028aa03L;
    static final long UFFDIO_WAKE = 0x8010aa02L;
    static final long UFFDIO_WRITEPROTECT = 0xc018aa06L;
    static final long UFFD_API = 0xAA;
    static final long COPY_MODE_WP = 2;
    static final long WRITEPROTECT_MODE_WP = 1;

    private final int fd;
    private final UnsafeBuffer args = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
    private final long argsAddress = args.addressOffset();
    private boolean closed;

    /** Take ownership of a descriptor received from a program. */
    public Userfaultfd(final int fd)
    {
        this.fd = fd;
    }

    public int fd()
    {
        return fd;
    }

    /**
     * Read up to {@code capacity / 32} messages into {@code messages} without blocking (the descriptor is
     * non-blocking).
     *
     * @return bytes read (a multiple of 32), 0 when none is pending, or -errno.
     */
    public int read(final UnsafeBuffer messages, final int capacity)
    {
        final long n = LibC.read(fd, messages.addressOffset(), capacity);
        if (n >= 0)
        {
            return (int)n;
        }
        final int errno = LibC.errno();
        return errno == LibC.EAGAIN || errno == LibC.EINTR ? 0 : -errno;
    }

    /**
     * Install a page at {@code dst} with the bytes at {@code src} and wake the threads waiting for it;
     * {@code writeProtected} installs it read-only for the program, so its first write is a write-protect fault.
     *
     * @return 0, or -errno (EEXIST: the page is there already).
     */
    public int copy(final long dst, final long src, final long length, final boolean writeProtected)
    {
        args.putLong(0, dst);
        args.putLong(8, src);
        args.putLong(16, length);
        args.putLong(24, writeProtected ? COPY_MODE_WP : 0);
        args.putLong(32, 0);
        return ioctl(UFFDIO_COPY);
    }

    /** Write-protect [start, start + length) without waking anyone (a writer now waits for the handler). */
    public int writeProtect(final long start, final long length)
    {
        args.putLong(0, start);
        args.putLong(8, length);
        args.putLong(16, WRITEPROTECT_MODE_WP); // protecting never wakes (the kernel refuses DONTWAKE with WP)
        return ioctl(UFFDIO_WRITEPROTECT);
    }

    /** Lift the write protection of [start, start + length) and wake the writers waiting on it. */
    public int unprotect(final long start, final long length)
    {
        args.putLong(0, start);
        args.putLong(8, length);
        args.putLong(16, 0);
        return ioctl(UFFDIO_WRITEPROTECT);
    }

    /** Wake the threads waiting on a fault in [start, start + length) (they retry their access). */
    public int wake(final long start, final long length)
    {
        args.putLong(0, start);
        args.putLong(8, length);
        return ioctl(UFFDIO_WAKE);
    }

    private int ioctl(final long request)
    {
        return LibC.ioctl(fd, request, argsAddress) == 0 ? 0 : -LibC.errno();
    }

    /**
     * Whether this process may create a userfaultfd that also serves faults taken in the kernel (a {@code read()}
     * into the heap): null when it may, else the reason and the fix.
     */
    public static String probe()
    {
        final long fd = LibC.syscall(LibC.SYS_USERFAULTFD, LibC.O_CLOEXEC | LibC.O_NONBLOCK);
        if (fd >= 0)
        {
            LibC.close((int)fd);
            return null;
        }
        final int errno = LibC.errno();
        if (errno == LibC.EPERM)
        {
            final int dev = LibC.open("/dev/userfaultfd", LibC.O_RDWR | LibC.O_CLOEXEC);
            if (dev >= 0)
            {
                LibC.close(dev);
                return null;
            }
            return "userfaultfd is not permitted for this user: run as root, or set 'sysctl vm.unprivileged_userfaultfd=1'"
                + " (or give access to /dev/userfaultfd)";
        }
        return "this kernel has no userfaultfd: " + LibC.describe(errno);
    }

    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            LibC.close(fd);
        }
    }
}
