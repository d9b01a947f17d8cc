package dev.splitkernel.monitor.storage;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageDescriptor;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.monitor.runtime.MonitorResources;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The storage monitor (LegoOS's sComponent): serves stateless file requests ({@link StorageDescriptor}), each
 * naming the vNode, the full path, the offset and the length, from a flat per-vNode path table on local disk
 * ({@link FileStore}) through a {@link Disk}. Data acknowledged by {@link Opcodes#FILE_FSYNC} is forced to disk and
 * survives a crash; a journal corrupt anywhere but its torn tail stops the start ({@link JournalCorruptException}).
 * <p>
 * Its identity in the cluster is a member name kept in {@code member.name} in the data directory (created on first
 * start): a monitor restarted on the same directory registers under the same name, and the global manager gives it
 * back its member id (and its vNodes) at its new address. Once registered it sends a load report (its heartbeat:
 * used bytes and files) every {@link StorageMonitorContext#loadReportIntervalNs()}.
 * <p>
 * Thread-safe: the fabric may call {@link #onRequest} from several threads; requests are serialised.
 */
public final class StorageMonitor implements RequestHandler, AutoCloseable
{
    /** The file in the data directory holding the member name. */
    public static final String MEMBER_NAME_FILE = "member.name";

    private final StorageMonitorContext ctx;
    private final MonitorResources resources;
    private final Fabric fabric;
    private final FileStore store;
    private final FileStat stat = new FileStat();
    private ByteBuffer scratch = ByteBuffer.allocateDirect(StorageProxy.MAX_DATA_BYTES);
    private final byte[] lastPath = new byte[StorageDescriptor.MAX_PATH_BYTES];
    private int lastPathLength = -1;
    private String lastPathString;
    private final String memberName;
    private volatile int memberId = -1;
    private volatile GlobalManagerProxy global;
    private final AtomicCounter loadReports;
    private final AtomicCounter loadReportFailures;
    private String address;
    private final AtomicCounter requests;
    private final AtomicCounter errors;
    private final AtomicCounter ioErrors;

    /**
     * Open the data directory (replaying its journal).
     *
     * @throws java.io.UncheckedIOException naming the directory if it cannot be used.
     */
    public StorageMonitor(final StorageMonitorContext ctx)
    {
        this.ctx = ctx.conclude();
        store = new FileStore(ctx.disk(), ctx.dataDir(), ctx.capacityBytes());
        try
        {
            memberName = loadOrCreateMemberName(ctx.disk(), ctx.dataDir());
        }
        catch (final RuntimeException ex)
        {
            store.close();
            throw ex;
        }
        resources = MonitorResources.open("storage " + ctx.listenAddress(), ctx.runtime(), ctx.fabric(),
            ctx.fabricContext());
        fabric = resources.fabric();
        final MonitorStatus status = resources.status();
        loadReports = status.newCounter("storage: load reports", MonitorStatus.TYPE_MONITOR);
        loadReportFailures = status.newCounter("storage: load report failures", MonitorStatus.TYPE_MONITOR);
        requests = status.newCounter("storage: requests", MonitorStatus.TYPE_MONITOR);
        errors = status.newCounter("storage: refused requests", MonitorStatus.TYPE_MONITOR);
        ioErrors = status.newCounter("storage: i/o errors", MonitorStatus.TYPE_MONITOR);
    }

    /**
     * Listen, join the global manager (unless standalone) under this data directory's member name, and start the
     * periodic load reports (unless {@link StorageMonitorContext#loadReports(boolean)} is false).
     *
     * @throws IllegalStateException if the global manager refuses the registration.
     */
    public StorageMonitor start()
    {
        address = resources.listen(ctx.listenAddress(), this);
        if (!ctx.globalAddress().isEmpty())
        {
            final GlobalManagerProxy gsm = new GlobalManagerProxy(
                fabric.connect(ctx.globalAddress()), ctx.requestTimeoutNs());
            final int id = gsm.registerMember(GlobalDescriptor.ROLE_STORAGE, ctx.capacityBytes(), address, memberName);
            if (id < 0)
            {
                gsm.close();
                throw new IllegalStateException("global manager at " + ctx.globalAddress() +
                    " refused storage monitor " + address + ": " + Errno.describe(id));
            }
            memberId = id;
            global = gsm;
            if (ctx.loadReports())
            {
                resources.runBackground(new StorageReportAgent(this, org.agrona.concurrent.SystemNanoClock.INSTANCE,
                    ctx.loadReportIntervalNs()));
            }
        }
        return this;
    }

    /**
     * Send the load report (heartbeat) now. If the global manager no longer knows this member (it restarted), register
     * again under the member name. Never holds the request lock while calling the global manager.
     *
     * @return 0 (or the member id after a re-registration), or a negative code; 0 when standalone.
     */
    public int reportLoadNow()
    {
        final GlobalManagerProxy gsm = global;
        if (gsm == null)
        {
            return 0;
        }
        final long usedBytes;
        final int files;
        synchronized (this)
        {
            usedBytes = store.usedBytes();
            files = store.entryCount();
        }
        int result = gsm.reportStorageLoad(memberId, ctx.capacityBytes(), usedBytes, files);
        if (result == Errno.ENOENT)
        {
            result = gsm.registerMember(GlobalDescriptor.ROLE_STORAGE, ctx.capacityBytes(), address, memberName);
            if (result >= 0)
            {
                memberId = result;
            }
        }
        countLoadReport(result);
        return result;
    }

    /** This monitor's persistent identity (from {@link #MEMBER_NAME_FILE} in the data directory). */
    public String memberName()
    {
        return memberName;
    }

    /** Load reports sent and answered so far. */
    public synchronized long loadReports()
    {
        return loadReports.get();
    }

    /** Load reports that failed (the global manager unreachable or refusing). */
    public synchronized long loadReportFailures()
    {
        return loadReportFailures.get();
    }

    private synchronized void countLoadReport(final int result)
    {
        if (result < 0)
        {
            loadReportFailures.increment();
        }
        else
        {
            loadReports.increment();
        }
    }

    /** The member name from the data directory, or a new one written there durably (so a crash keeps it). */
    private static String loadOrCreateMemberName(final Disk disk, final Path dataDir)
    {
        final Path file = dataDir.resolve(MEMBER_NAME_FILE);
        try
        {
            if (disk.exists(file))
            {
                final String name = readAscii(disk, file).trim();
                if (!name.isEmpty())
                {
                    return name;
                }
            }
            final String name = "storage-" + UUID.randomUUID();
            final Path tmp = dataDir.resolve(MEMBER_NAME_FILE + ".tmp");
            try (DiskFile out = disk.open(tmp))
            {
                final ByteBuffer bytes = ByteBuffer.wrap((name + "\n").getBytes(StandardCharsets.US_ASCII));
                out.truncate(0);
                while (bytes.hasRemaining())
                {
                    out.write(bytes, bytes.position());
                }
                out.force();
            }
            disk.move(tmp, file);
            disk.forceDirectory(dataDir);
            return name;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read or write the member name " + file +
                " (set splitkernel.storage.dataDir to a writable directory)", ex);
        }
    }

    private static String readAscii(final Disk disk, final Path file) throws IOException
    {
        try (DiskFile in = disk.open(file))
        {
            final ByteBuffer bytes = ByteBuffer.allocate((int)Math.min(in.size(), 4096));
            in.readFully(bytes, 0);
            return new String(bytes.array(), 0, bytes.position(), StandardCharsets.US_ASCII);
        }
    }

    /** Where the restart cut a torn journal tail, or -1. */
    synchronized long journalTornOffset()
    {
        return store.journalTornOffset();
    }

    /** What the restart found in the journal (records replayed, a torn tail cut). */
    public synchronized String recoverySummary()
    {
        return store.recoverySummary();
    }

    public String address()
    {
        return address;
    }

    /** The member id the global manager gave (the same after a restart on the same data directory), or -1. */
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
        return requests.get();
    }

    /** Refused or malformed requests so far (including I/O errors). */
    public synchronized long errors()
    {
        return errors.get();
    }

    /** Requests that failed with an I/O error of the local disk (answered EIO). */
    public synchronized long ioErrors()
    {
        return ioErrors.get();
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
        requests.increment();
        if (!Opcodes.isFileOpcode(opcode))
        {
            errors.increment();
            return Status.UNKNOWN_OPCODE;
        }
        if (!StorageDescriptor.isWellFormed(request, offset, length) ||
            replyCapacity < StorageDescriptor.REPLY_HEADER_LENGTH)
        {
            errors.increment();
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
                        errors.increment();
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
                case Opcodes.FILE_DROP_VNODE:
                    result = store.dropVNode(vNodeId);
                    break;
                default:
                    errors.increment();
                    return Status.UNKNOWN_OPCODE;
            }
        }
        catch (final IOException ex)
        {
            ioErrors.increment();
            result = Errno.EIO;
        }
        if (result < 0)
        {
            errors.increment();
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
                monitor.context().dataDir().toAbsolutePath() + " (" + monitor.recoverySummary() + ")");
            System.out.flush();
            barrier.await();
        }
    }

    @Override
    public void close()
    {
        resources.stopAgents();
        final GlobalManagerProxy gsm = global;
        global = null;
        if (gsm != null)
        {
            gsm.close();
        }
        resources.close();
        closeStore();
    }

    private synchronized void closeStore()
    {
        store.close();
    }

    /** Every request waits on the disk: served off the fabric's poller. */
    @Override
    public boolean mayBlock(final int opcode)
    {
        return true;
    }

    @Override
    public String toString()
    {
        return "StorageMonitor{address=" + address + ", dataDir=" + ctx.dataDir() + ", files=" + store.entryCount() +
            "}";
    }
}
