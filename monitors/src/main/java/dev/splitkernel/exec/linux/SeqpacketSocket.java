package dev.splitkernel.exec.linux;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A UNIX-domain SOCK_SEQPACKET socket (message boundaries kept, descriptors passed with SCM_RIGHTS), which the JDK's
 * channels cannot do. Layouts (x86-64):
 * <pre>
 * sockaddr_un (110)       msghdr (56)                      cmsghdr + 2 fds (24)
 *   0 u16 family (1)        0 ptr name   8 u32 namelen       0 u64 len  8 i32 level (1)  12 i32 type (1 rights)
 *   2 char path[108]       16 ptr iov   24 u64 iovlen       16 i32 fd[0]  20 i32 fd[1]
 *                          32 ptr control 40 u64 controllen 48 i32 flags
 * </pre>
 * Not thread-safe.
 */
public final class SeqpacketSocket implements AutoCloseable
{
    private static final int AF_UNIX = 1;
    private static final int SOCK_SEQPACKET = 5;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int PATH_MAX_BYTES = 107;
    private static final int CONTROL_BYTES = 64;

    private final int fd;
    private final UnsafeBuffer scratch = new UnsafeBuffer(ByteBuffer.allocateDirect(512));
    private boolean closed;

    private SeqpacketSocket(final int fd)
    {
        this.fd = fd;
    }

    public int fd()
    {
        return fd;
    }

    /** A listening socket bound to {@code path} (which must not exist). */
    public static SeqpacketSocket listen(final String path)
    {
        final byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > PATH_MAX_BYTES)
        {
            throw new IllegalArgumentException("socket path too long (" + bytes.length + " bytes): " + path);
        }
        final int fd = LibC.socket(AF_UNIX, SOCK_SEQPACKET | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IllegalStateException("socket(AF_UNIX, SOCK_SEQPACKET): " + LibC.describe(LibC.errno()));
        }
        final SeqpacketSocket socket = new SeqpacketSocket(fd);
        final UnsafeBuffer address = socket.scratch;
        address.setMemory(0, 110, (byte)0);
        address.putShort(0, (short)AF_UNIX);
        address.putBytes(2, bytes);
        if (LibC.bind(fd, address.addressOffset(), 110) != 0 || LibC.listen(fd, 16) != 0)
        {
            final int errno = LibC.errno();
            socket.close();
            throw new IllegalStateException("cannot listen on " + path + ": " + LibC.describe(errno));
        }
        return socket;
    }

    /** Wait up to {@code timeoutMs} for a connection: the connected socket, or null when none came. */
    public SeqpacketSocket accept(final int timeoutMs)
    {
        if (!readable(timeoutMs))
        {
            return null;
        }
        final int client = LibC.accept4(fd, 0, 0, LibC.O_CLOEXEC);
        return client < 0 ? null : new SeqpacketSocket(client);
    }

    /** Whether a message (or the peer's end) is waiting, after up to {@code timeoutMs}. */
    public boolean readable(final int timeoutMs)
    {
        scratch.putInt(0, fd);
        scratch.putShort(4, LibC.POLLIN);
        scratch.putShort(6, (short)0);
        return LibC.poll(scratch.addressOffset(), 1, timeoutMs) > 0;
    }

    /**
     * Receive one message into {@code dst} and up to {@code fds.length} descriptors passed with it.
     *
     * @return the message's length (0: the peer closed), or -errno; unused slots of {@code fds} are -1.
     */
    public int receive(final UnsafeBuffer dst, final int capacity, final int[] fds, final boolean wait)
    {
        java.util.Arrays.fill(fds, -1);
        final int msg = 0;
        final int iov = 64;
        final int control = 128;
        scratch.setMemory(0, control + CONTROL_BYTES, (byte)0);
        scratch.putLong(iov, dst.addressOffset());
        scratch.putLong(iov + 8, capacity);
        scratch.putLong(msg + 16, scratch.addressOffset() + iov);
        scratch.putLong(msg + 24, 1);
        scratch.putLong(msg + 32, scratch.addressOffset() + control);
        scratch.putLong(msg + 40, CONTROL_BYTES);
        final long n = LibC.recvmsg(fd, scratch.addressOffset() + msg, wait ? 0 : MSG_DONTWAIT);
        if (n < 0)
        {
            return -LibC.errno();
        }
        final long controlLength = scratch.getLong(msg + 40);
        if (controlLength >= 16 && scratch.getInt(control + 8) == SOL_SOCKET && scratch.getInt(control + 12) == SCM_RIGHTS)
        {
            final int count = (int)((scratch.getLong(control) - 16) / 4);
            for (int i = 0; i < count; i++)
            {
                final int received = scratch.getInt(control + 16 + 4 * i);
                if (i < fds.length)
                {
                    fds[i] = received;
                }
                else
                {
                    LibC.close(received);
                }
            }
        }
        return (int)n;
    }

    /** Send one message; returns its length or -errno (never SIGPIPE). */
    public int send(final UnsafeBuffer src, final int length)
    {
        final long n = LibC.send(fd, src.addressOffset(), length, MSG_NOSIGNAL);
        return n < 0 ? -LibC.errno() : (int)n;
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
