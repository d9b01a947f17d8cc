package dev.splitkernel.protocol;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Status;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Requests to the global storage manager (GSM, served by the {@code GlobalManager}): create, list, remove and look up
 * vNodes. Control path only.
 * <p>
 * Thread-safe: calls are serialised.
 */
public final class StorageManagerProxy implements AutoCloseable
{
    private static final int BUFFER_BYTES = VNodeDescriptor.HEADER_LENGTH + VNodeDescriptor.MAX_TEXT_LENGTH;

    private final Connection connection;
    private final long timeoutNs;
    private final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(BUFFER_BYTES, 64));
    private final UnsafeBuffer reply = new UnsafeBuffer(BufferUtil.allocateDirectAligned(BUFFER_BYTES, 64));
    private long lastResult;

    public StorageManagerProxy(final Connection connection, final long timeoutNs)
    {
        if (timeoutNs <= 0)
        {
            throw new IllegalArgumentException("timeoutNs must be positive: " + timeoutNs);
        }
        this.connection = connection;
        this.timeoutNs = timeoutNs;
    }

    /**
     * Create a vNode: the GSM places it on the storage monitor and the buffer-cache memory monitor with the fewest
     * vNodes.
     *
     * @return its id (>= 0), or EINVAL (empty name, or a tab or newline in it), EEXIST (name taken), ENOENT (no
     *         storage monitor), or a negative Status.
     */
    public synchronized int createVNode(final String name, final String mountPoint)
    {
        if (name == null || mountPoint == null)
        {
            return Errno.EINVAL;
        }
        VNodeDescriptor.clear(request, 0);
        final int length = VNodeDescriptor.putText(request, 0, name + "\t" + mountPoint, BUFFER_BYTES);
        if (length < 0)
        {
            return Errno.ENAMETOOLONG;
        }
        return (int)call(Opcodes.VNODE_CREATE, length);
    }

    /**
     * Remove a vNode and its files: its buffer-cache memory monitor drops its pages (dirty ones discarded) and its
     * storage monitor deletes its files durably; then the GSM forgets it.
     *
     * @return 0; ENOENT if there is no such vNode; EIO if its storage monitor is declared dead, or a transport
     * status if a monitor cannot be reached (the vNode is kept then, and the removal may be retried).
     */
    public synchronized int removeVNode(final int vNodeId)
    {
        VNodeDescriptor.clear(request, 0);
        request.putInt(VNodeDescriptor.VNODE_OFFSET, vNodeId);
        return (int)call(Opcodes.VNODE_REMOVE, VNodeDescriptor.HEADER_LENGTH);
    }

    /** One vNode with its monitors' addresses, or null (see {@link #lastResult()} for why). */
    public synchronized VNodeInfo lookupVNode(final int vNodeId)
    {
        VNodeDescriptor.clear(request, 0);
        request.putInt(VNodeDescriptor.VNODE_OFFSET, vNodeId);
        final int replyLength = callRaw(Opcodes.VNODE_LOOKUP, VNodeDescriptor.HEADER_LENGTH);
        if (replyLength < 0)
        {
            return null;
        }
        final String text = VNodeDescriptor.text(reply, 0, replyLength);
        final String[] fields = text == null ? new String[0] : text.split("\t", -1);
        if (fields.length != 4)
        {
            lastResult = Status.MALFORMED;
            return null;
        }
        return new VNodeInfo(vNodeId, fields[0], fields[1], reply.getInt(VNodeDescriptor.STORAGE_MEMBER_OFFSET),
            fields[2], reply.getInt(VNodeDescriptor.CACHE_MEMBER_OFFSET), fields[3]);
    }

    /** Every vNode (addresses empty), or null if the GSM cannot be asked (see {@link #lastResult()}). */
    public synchronized List<VNodeInfo> listVNodes()
    {
        VNodeDescriptor.clear(request, 0);
        final int replyLength = callRaw(Opcodes.VNODE_LIST, VNodeDescriptor.HEADER_LENGTH);
        if (replyLength < 0)
        {
            return null;
        }
        final String text = VNodeDescriptor.text(reply, 0, replyLength);
        if (text == null)
        {
            lastResult = Status.MALFORMED;
            return null;
        }
        final List<VNodeInfo> result = new ArrayList<>();
        for (final String line : text.split("\n"))
        {
            final String[] f = line.split("\t", -1);
            if (f.length == 5)
            {
                result.add(new VNodeInfo(Integer.parseInt(f[0]), f[1], f[2], Integer.parseInt(f[3]), "",
                    Integer.parseInt(f[4]), ""));
            }
        }
        return result;
    }

    /** The result of the last call that returned no code itself (lookup, list). */
    public synchronized long lastResult()
    {
        return lastResult;
    }

    private long call(final int opcode, final int length)
    {
        final int replyLength = callRaw(opcode, length);
        return replyLength < 0 ? lastResult : reply.getLong(VNodeDescriptor.RESULT_OFFSET);
    }

    /** The reply's length, or -1 with {@link #lastResult} set to the failure. */
    private int callRaw(final int opcode, final int length)
    {
        final int replyLength = connection.call(opcode, request, 0, length, reply, 0, BUFFER_BYTES, timeoutNs);
        if (replyLength < 0)
        {
            lastResult = replyLength;
            return -1;
        }
        if (replyLength < VNodeDescriptor.HEADER_LENGTH)
        {
            lastResult = Status.MALFORMED;
            return -1;
        }
        lastResult = reply.getLong(VNodeDescriptor.RESULT_OFFSET);
        return lastResult < 0 ? -1 : replyLength;
    }

    /** Closes the connection. */
    @Override
    public void close()
    {
        connection.close();
    }
}
