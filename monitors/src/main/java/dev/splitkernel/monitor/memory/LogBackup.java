package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricException;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * The backup file of a write-back log on a storage monitor: in the storage vNode {@link #BACKUP_VNODE} (no user vNode
 * has this id), under {@link #BACKUP_DIR}. Connects on first use and again after a failure, so a storage monitor
 * restarted at the same address is used again. The storage monitor is either named, or learned from the global
 * managers ({@link #viaGlobalManagers}): the first alive one they list, asked when the log first has a batch to ship
 * and kept from then on (the file lives there).
 * <p>
 * Not thread-safe: owned by the log's shipping thread (the log serialises shipping and replay).
 */
final class LogBackup implements AutoCloseable
{
    /** The storage vNode of memory monitors' backup files; the GSM numbers user vNodes from 1. */
    static final int BACKUP_VNODE = 0;
    static final String BACKUP_DIR = "/memory-logs";

    private final Fabric fabric;
    /** Where to ask for a storage monitor, or null when it is named. */
    private final String globalAddress;
    /** Null until learned from the global managers. */
    private String storageAddress;
    private final byte[] path;
    private final long timeoutNs;
    private StorageProxy proxy;
    private boolean created;

    /**
     * @param name this log's file name under {@link #BACKUP_DIR} (unique per memory monitor).
     */
    LogBackup(final Fabric fabric, final String storageAddress, final String name, final long timeoutNs)
    {
        this(fabric, null, storageAddress, name, timeoutNs);
    }

    /** A backup on the first alive storage monitor the global managers at {@code globalAddress} list. */
    static LogBackup viaGlobalManagers(final Fabric fabric, final String globalAddress, final String name,
        final long timeoutNs)
    {
        return new LogBackup(fabric, globalAddress, null, name, timeoutNs);
    }

    private LogBackup(final Fabric fabric, final String globalAddress, final String storageAddress, final String name,
        final long timeoutNs)
    {
        if (name.isEmpty() || name.indexOf('/') >= 0)
        {
            throw new IllegalArgumentException("a backup file name must be one path component: '" + name + "'");
        }
        this.fabric = fabric;
        this.globalAddress = globalAddress;
        this.storageAddress = storageAddress;
        this.path = (BACKUP_DIR + "/" + name).getBytes(StandardCharsets.UTF_8);
        this.timeoutNs = timeoutNs;
    }

    String path()
    {
        return new String(path, StandardCharsets.UTF_8);
    }

    /** The storage monitor's address; null while none is known. */
    String storageAddress()
    {
        return storageAddress;
    }

    /**
     * True once a storage monitor is known: named, or now learned from the global managers (one request, with the
     * timeout); false if they cannot be reached or list no alive storage monitor (ask again later).
     */
    boolean resolve()
    {
        if (storageAddress != null)
        {
            return true;
        }
        final String members;
        try (GlobalManagerProxy gsm = new GlobalManagerProxy(fabric.connect(globalAddress), timeoutNs))
        {
            members = gsm.listMembers();
        }
        catch (final FabricException ex)
        {
            return false;
        }
        storageAddress = firstAliveStorage(members);
        return storageAddress != null;
    }

    /** In a member list ({@code id role address alive|dead ...} lines): the first alive storage monitor's address. */
    static String firstAliveStorage(final String members)
    {
        if (members != null)
        {
            for (final String line : members.split("\n"))
            {
                final String[] fields = line.trim().split(" ");
                if (fields.length >= 4 && "storage".equals(fields[1]) && "alive".equals(fields[3]))
                {
                    return fields[2];
                }
            }
        }
        return null;
    }

    /**
     * Write {@code length} bytes at {@code offset} of the file (creating it empty first, once) and force them to the
     * storage monitor's disk.
     *
     * @return 0, or a negative Errno or Status; a failed write may be retried at the same offset.
     */
    long writeDurably(final long offset, final DirectBuffer src, final int srcOffset, final int length)
    {
        final StorageProxy storage = connected();
        if (storage == null)
        {
            return Errno.EIO;
        }
        if (!created)
        {
            long result = storage.request(Opcodes.FILE_MKDIR, BACKUP_VNODE, 0, 0, 0,
                BACKUP_DIR.getBytes(StandardCharsets.UTF_8), null, null, 0, null, 0, null);
            if (result < 0 && result != Errno.EEXIST)
            {
                return failed(result);
            }
            result = storage.request(Opcodes.FILE_OPEN, BACKUP_VNODE, FileFlags.O_CREAT | FileFlags.O_TRUNC |
                FileFlags.O_RDWR, 0, 0, path, null, null, 0, null, 0, null);
            if (result < 0)
            {
                return failed(result);
            }
            created = true;
        }
        for (int done = 0; done < length;)
        {
            final int chunk = Math.min(length - done, StorageProxy.MAX_DATA_BYTES);
            final long result = storage.request(Opcodes.FILE_WRITE, BACKUP_VNODE, 0, offset + done, chunk, path, null,
                src, srcOffset + done, null, 0, null);
            if (result != chunk)
            {
                return failed(result < 0 ? result : Errno.EIO);
            }
            done += chunk;
        }
        final long result = storage.request(Opcodes.FILE_FSYNC, BACKUP_VNODE, 0, 0, 0, path, null, null, 0, null, 0,
            null);
        return result < 0 ? failed(result) : 0;
    }

    /** The next write creates the file again, empty (the log started over: the old entries are void). */
    void startOver()
    {
        created = false;
    }

    /** Read up to {@code length} bytes at {@code offset}: the bytes read, or a negative Errno or Status. */
    long read(final long offset, final MutableDirectBuffer dst, final int dstOffset, final int length)
    {
        final StorageProxy storage = connected();
        if (storage == null)
        {
            return Errno.EIO;
        }
        final long result = storage.request(Opcodes.FILE_READ, BACKUP_VNODE, 0, offset,
            Math.min(length, StorageProxy.MAX_DATA_BYTES), path, null, null, 0, dst, dstOffset, null);
        return result < 0 ? failed(result) : result;
    }

    private StorageProxy connected()
    {
        if (storageAddress == null)
        {
            return null;
        }
        if (proxy == null || !proxy.connection().isConnected())
        {
            CloseHelper.quietClose(proxy);
            proxy = null;
            try
            {
                proxy = new StorageProxy(fabric.connect(storageAddress), timeoutNs);
            }
            catch (final FabricException ex)
            {
                return null;
            }
        }
        return proxy;
    }

    /** A failed request: connect again next time (the storage monitor may have restarted). */
    private long failed(final long result)
    {
        CloseHelper.quietClose(proxy);
        proxy = null;
        return result;
    }

    @Override
    public void close()
    {
        CloseHelper.quietClose(proxy);
        proxy = null;
    }
}
