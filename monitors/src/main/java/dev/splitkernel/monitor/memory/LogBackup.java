package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
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
 * restarted at the same address is used again.
 * <p>
 * Not thread-safe: owned by the log's shipping thread (the log serialises shipping and replay).
 */
final class LogBackup implements AutoCloseable
{
    /** The storage vNode of memory monitors' backup files; the GSM numbers user vNodes from 1. */
    static final int BACKUP_VNODE = 0;
    static final String BACKUP_DIR = "/memory-logs";

    private final Fabric fabric;
    private final String storageAddress;
    private final byte[] path;
    private final long timeoutNs;
    private StorageProxy proxy;
    private boolean created;

    /**
     * @param name this log's file name under {@link #BACKUP_DIR} (unique per memory monitor).
     */
    LogBackup(final Fabric fabric, final String storageAddress, final String name, final long timeoutNs)
    {
        if (name.isEmpty() || name.indexOf('/') >= 0)
        {
            throw new IllegalArgumentException("a backup file name must be one path component: '" + name + "'");
        }
        this.fabric = fabric;
        this.storageAddress = storageAddress;
        this.path = (BACKUP_DIR + "/" + name).getBytes(StandardCharsets.UTF_8);
        this.timeoutNs = timeoutNs;
    }

    String path()
    {
        return new String(path, StandardCharsets.UTF_8);
    }

    String storageAddress()
    {
        return storageAddress;
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
