package dev.splitkernel.monitor.storage;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageDescriptor;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The storage monitor (LegoOS's sComponent): serves stateless file requests ({@link StorageDescriptor}), each
 * naming the vNode, the full path, the offset and the length, from a flat per-vNode path table on local disk
 * ({@link FileStore}). Data acknowledged by {@link Opcodes#FILE_FSYNC} is forced to disk and survives a restart.
 * <p>
 * Thread-safe: the fabric may call {@link #onRequest} from several threads; requests are serialised.
 */
public final class StorageMonitor implements RequestHandler, AutoCloseable
{
    private final StorageMonitorContext ctx;
    private final Fabric fabric;
    private final boolean ownsFabric;
    private final FileStore store;
    private final FileStat stat = new FileStat();
    private ByteBuffer scratch = ByteBuffer.allocateDirect(StorageProxy.MAX_DATA_BYTES);
    private final byte[] lastPath = new byte[StorageDescriptor.MAX_PATH_BYTES];
    private int lastPathLength = -1;
    private String lastPathString;
    private int memberId = -1;
    private String address;
    private long requests;
    private long errors;
    private long ioErrors;

    /**
     * Open the data directory (replaying its journal).
     *
     * @throws java.io.UncheckedIOException naming the directory if it cannot be used.
     */
    public StorageMonitor(final StorageMonitorContext ctx)
    {
        this.ctx = ctx.conclude();
        store = new FileStore(ctx.dataDir(), ctx.capacityBytes());
        if (ctx.fabric() != null)
        {
            fabric = ctx.fabric();
            ownsFabric = false;
        }
        else
        {
            fabric = Fabrics.create(ctx.fabricContext());
            ownsFabric = true;
        }
    }

    /**
     * Listen and join the global manager (unless standalone).
     *
     * @throws IllegalStateException if the global manager refuses the registration.
     */
    public StorageMonitor start()
    {
        address = fabric.listen(ctx.listenAddress(), this);
        if (!ctx.globalAddress().isEmpty())
        {
            try (GlobalManagerProxy gsm = new GlobalManagerProxy(
                fabric.connect(ctx.globalAddress(), ctx.requestTimeoutNs()), ctx.requestTimeoutNs()))
            {
                final int id = gsm.registerMember(GlobalDescriptor.ROLE_STORAGE, ctx.capacityBytes(), address);
                if (id < 0)
                {
                    throw new IllegalStateException("global manager at " + ctx.globalAddress() +
                        " refused storage monitor " + address + ": " + Errno.describe(id));
                }
                memberId = id;
            }
        }
        return this;
    }

    public String address()
    {
        return address;
    }

    /** The member id the global manager gave, or -1 when standalone. */
    public int memberId()
    {
        return memberId;
    }

    public StorageMonitorContext context()
    {
        return ctx;
    }

    public synchronized long requests()
    {
        return requests;
    }

    /** Refused or malformed requests so far (including I/O errors). */
    public synchronized long errors()
    {
        return errors;
    }

    /** Requests that failed with an I/O error of the local disk (answered EIO). */
    public synchronized long ioErrors()
    {
        return ioErrors;
    }

    /** Bytes of file data stored. */
    public synchronized long usedBytes()
    {
        return store.usedBytes();
    }

    @Override
    public synchronized int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        requests++;
        if (!Opcodes.isFileOpcode(opcode))
        {
            errors++;
            return Status.UNKNOWN_OPCODE;
        }
        if (!StorageDescriptor.isWellFormed(request, offset, length) ||
            replyCapacity < StorageDescriptor.REPLY_HEADER_LENGTH)
        {
            errors++;
            return Status.MALFORMED;
        }
        final int vNodeId = StorageDescriptor.vNodeId(request, offset);
        final long fileOffset = StorageDescriptor.fileOffset(request, offset);
        final long lengthBytes = StorageDescriptor.lengthBytes(request, offset);
        final String path = pathOf(request, offset);
        stat.set(0, 0, 0);
        long result;
        int dataLength = 0;
        try
        {
            switch (opcode)
            {
                case Opcodes.FILE_OPEN:
                    result = store.open(vNodeId, path, StorageDescriptor.flags(request, offset), stat);
                    break;
                case Opcodes.FILE_STAT:
                    result = store.stat(vNodeId, path, stat);
                    break;
                case Opcodes.FILE_READ:
                {
                    final int room = replyCapacity - StorageDescriptor.REPLY_HEADER_LENGTH;
                    if (lengthBytes < 0 || lengthBytes > room)
                    {
                        result = lengthBytes < 0 ? Errno.EINVAL : Status.TOO_LARGE;
                        break;
                    }
                    final ByteBuffer dst = scratch((int)lengthBytes);
                    result = store.read(vNodeId, path, fileOffset, dst);
                    dataLength = result > 0 ? (int)result : 0;
                    reply.putBytes(replyOffset + StorageDescriptor.DATA_OFFSET, scratch, 0, dataLength);
                    break;
                }
                case Opcodes.FILE_WRITE:
                {
                    final int dataOffset = StorageDescriptor.dataOffset(request, offset);
                    if (lengthBytes < 0 || dataOffset + lengthBytes > offset + length)
                    {
                        errors++;
                        return Status.MALFORMED;
                    }
                    final ByteBuffer src = scratch((int)lengthBytes);
                    request.getBytes(dataOffset, src, (int)lengthBytes);
                    src.flip();
                    result = store.write(vNodeId, path, fileOffset, src);
                    break;
                }
                case Opcodes.FILE_FSYNC:
                    result = store.fsync(vNodeId, path);
                    break;
                case Opcodes.FILE_TRUNCATE:
                    result = store.truncate(vNodeId, path, lengthBytes);
                    break;
                case Opcodes.FILE_UNLINK:
                    result = store.unlink(vNodeId, path);
                    break;
                case Opcodes.FILE_RENAME:
                    result = store.rename(vNodeId, path, StorageDescriptor.newPath(request, offset));
                    break;
                case Opcodes.FILE_MKDIR:
                    result = store.mkdir(vNodeId, path);
                    break;
                case Opcodes.FILE_RMDIR:
                    result = store.rmdir(vNodeId, path);
                    break;
                case Opcodes.FILE_READDIR:
                {
                    final ByteBuffer dst = scratch(Math.min(scratch.capacity(),
                        replyCapacity - StorageDescriptor.REPLY_HEADER_LENGTH));
                    result = store.readdir(vNodeId, path, fileOffset, dst);
                    dataLength = result > 0 ? dst.position() : 0;
                    reply.putBytes(replyOffset + StorageDescriptor.DATA_OFFSET, scratch, 0, dataLength);
                    break;
                }
                case Opcodes.FILE_CLOSE:
                    result = 0;
                    break;
                default:
                    errors++;
                    return Status.UNKNOWN_OPCODE;
            }
        }
        catch (final IOException ex)
        {
            ioErrors++;
            result = Errno.EIO;
        }
        if (result < 0)
        {
            errors++;
            dataLength = 0;
        }
        return StorageDescriptor.encodeReply(reply, replyOffset, result, stat.sizeBytes(), stat.type(), dataLength);
    }

    /** The request's path, reusing the last decoded one when the bytes match (no allocation for repeated paths). */
    private String pathOf(final DirectBuffer request, final int offset)
    {
        final int length = StorageDescriptor.pathLength(request, offset);
        final int at = offset + StorageDescriptor.PATH_OFFSET;
        if (length == lastPathLength)
        {
            int i = 0;
            while (i < length && request.getByte(at + i) == lastPath[i])
            {
                i++;
            }
            if (i == length)
            {
                return lastPathString;
            }
        }
        request.getBytes(at, lastPath, 0, length);
        lastPathLength = length;
        lastPathString = request.getStringWithoutLengthUtf8(at, length);
        return lastPathString;
    }

    /** The scratch buffer cleared and limited to {@code length} bytes (growing it on the control path if needed). */
    private ByteBuffer scratch(final int length)
    {
        if (scratch.capacity() < length)
        {
            scratch = ByteBuffer.allocateDirect(length);
        }
        return scratch.clear().limit(length);
    }

    /**
     * Run a storage monitor as a server process: settings from system properties ({@link StorageMonitorContext},
     * {@link dev.splitkernel.verbs.FabricContext}); prints {@code storage monitor listening at <address>} on stdout
     * once serving; runs until SIGINT or SIGTERM.
     */
    public static void main(final String[] args)
    {
        try (org.agrona.concurrent.ShutdownSignalBarrier barrier = new org.agrona.concurrent.ShutdownSignalBarrier();
            StorageMonitor monitor = new StorageMonitor(new StorageMonitorContext()).start())
        {
            System.out.println("storage monitor listening at " + monitor.address() + " data " +
                monitor.context().dataDir().toAbsolutePath());
            System.out.flush();
            barrier.await();
        }
    }

    @Override
    public synchronized void close()
    {
        if (ownsFabric)
        {
            fabric.close();
        }
        store.close();
    }

    @Override
    public String toString()
    {
        return "StorageMonitor{address=" + address + ", dataDir=" + ctx.dataDir() + ", files=" + store.entryCount() +
            "}";
    }
}
