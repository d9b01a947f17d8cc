package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageProxy;
import dev.splitkernel.protocol.VNodeDescriptor;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The global storage manager (GSM): the vNodes, and for each its storage monitor and its buffer-cache memory monitor,
 * both chosen among the live members as the one with the fewest vNodes. Removing a vNode first drops its pages at its
 * buffer-cache memory monitor (if that one is alive) and deletes its files at its storage monitor
 * ({@link Opcodes#FILE_DROP_VNODE}, journaled and forced there); only then is the record dropped, so a failed removal
 * (storage monitor dead or unreachable: EIO or the transport status) can be retried. Coarse and occasional: never on
 * the data path.
 * <p>
 * Not thread-safe: owned by the {@link GlobalManager}, which serialises requests; only {@link #dropFiles} (removal's
 * remote calls) runs outside its lock, with its own lock on the connections.
 */
final class StorageManager
{
    private static final class VNode
    {
        final int id;
        final String name;
        final String mountPoint;
        final int storageMemberId;
        final int cacheMemberId;
        boolean removing;

        VNode(final int id, final String name, final String mountPoint, final int storageMemberId,
            final int cacheMemberId)
        {
            this.id = id;
            this.name = name;
            this.mountPoint = mountPoint;
            this.storageMemberId = storageMemberId;
            this.cacheMemberId = cacheMemberId;
        }
    }

    /** Timeout of the removal requests to the storage and buffer-cache monitors. */
    static final long REMOVE_TIMEOUT_NS = 2_000_000_000L;
    private static final byte[] ROOT_PATH = {'/'};

    private final Map<Integer, String> addresses;
    private final List<MemoryMember> memoryMembers;
    private final List<StorageMember> storageMembers;
    private final Fabric fabric;
    private final Map<String, StorageProxy> proxies = new HashMap<>();
    private final Map<Integer, VNode> vNodes = new LinkedHashMap<>();
    private int nextVNodeId = 1;

    /** Shares the global manager's member tables (read only here): addresses, live memory and storage members. */
    StorageManager(final Map<Integer, String> addresses, final List<MemoryMember> memoryMembers,
        final List<StorageMember> storageMembers, final Fabric fabric)
    {
        this.addresses = addresses;
        this.memoryMembers = memoryMembers;
        this.storageMembers = storageMembers;
        this.fabric = fabric;
    }

    int storageMemberCount()
    {
        return storageMembers.size();
    }

    int onRequest(
        final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        if (length < VNodeDescriptor.HEADER_LENGTH || replyCapacity < VNodeDescriptor.HEADER_LENGTH)
        {
            return Status.MALFORMED;
        }
        final int vNodeId = request.getInt(offset + VNodeDescriptor.VNODE_OFFSET);
        VNodeDescriptor.clear(reply, replyOffset);
        long result;
        String text = "";
        int storageMember = -1;
        int cacheMember = -1;
        switch (opcode)
        {
            case Opcodes.VNODE_CREATE:
            {
                final String request0 = VNodeDescriptor.text(request, offset, length);
                final String[] fields = request0 == null ? new String[0] : request0.split("\t", -1);
                if (fields.length != 2 || fields[0].isEmpty() || fields[0].indexOf('\n') >= 0 ||
                    fields[1].indexOf('\n') >= 0)
                {
                    result = Errno.EINVAL;
                    break;
                }
                if (byName(fields[0]) != null)
                {
                    result = Errno.EEXIST;
                    break;
                }
                final List<Integer> storageIds = new ArrayList<>();
                storageMembers.forEach(m -> storageIds.add(m.memberId));
                storageMember = leastLoaded(storageIds, true);
                if (storageMember < 0)
                {
                    result = Errno.ENOENT;
                    break;
                }
                final List<Integer> memoryIds = new ArrayList<>();
                memoryMembers.forEach(m -> memoryIds.add(m.memberId));
                cacheMember = leastLoaded(memoryIds, false);
                final VNode vNode = new VNode(nextVNodeId++, fields[0], fields[1], storageMember, cacheMember);
                vNodes.put(vNode.id, vNode);
                result = vNode.id;
                break;
            }
            case Opcodes.VNODE_LOOKUP:
            {
                final VNode vNode = vNodes.get(vNodeId);
                if (vNode == null)
                {
                    result = Errno.ENOENT;
                    break;
                }
                storageMember = vNode.storageMemberId;
                cacheMember = vNode.cacheMemberId;
                text = vNode.name + "\t" + vNode.mountPoint + "\t" + addresses.getOrDefault(storageMember, "") + "\t" +
                    (cacheMember < 0 ? "" : addresses.getOrDefault(cacheMember, ""));
                result = vNode.id;
                break;
            }
            case Opcodes.VNODE_LIST:
            {
                final StringBuilder list = new StringBuilder();
                for (final VNode vNode : vNodes.values())
                {
                    list.append(vNode.id).append('\t').append(vNode.name).append('\t').append(vNode.mountPoint)
                        .append('\t').append(vNode.storageMemberId).append('\t').append(vNode.cacheMemberId)
                        .append('\n');
                }
                text = list.toString();
                result = vNodes.size();
                break;
            }
            default:
                return Status.UNKNOWN_OPCODE;
        }
        return encodeReply(reply, replyOffset, replyCapacity, opcode, vNodeId, result, storageMember, cacheMember, text);
    }

    /**
     * Removal, phase 1 (under the global manager's lock): the addresses to drop the vNode at, or why not. Marks the
     * vNode as being removed (a second removal meanwhile gets EBUSY).
     *
     * @return {cache address or null, storage address}; or null with {@code code[0]} set to ENOENT, EBUSY or EIO
     * (storage monitor declared dead).
     */
    String[] beginRemove(final int vNodeId, final long[] code)
    {
        final VNode vNode = vNodes.get(vNodeId);
        if (vNode == null || vNode.removing)
        {
            code[0] = vNode == null ? Errno.ENOENT : Errno.EBUSY;
            return null;
        }
        final String storageAddress = addresses.get(vNode.storageMemberId);
        if (!isLiveStorage(vNode.storageMemberId) || storageAddress == null)
        {
            code[0] = Errno.EIO;
            return null;
        }
        vNode.removing = true;
        code[0] = 0;
        return new String[] {vNode.cacheMemberId >= 0 && isLiveMemory(vNode.cacheMemberId) ?
            addresses.get(vNode.cacheMemberId) : null, storageAddress};
    }

    /**
     * Removal, phase 2 (without the global manager's lock: it waits on other monitors): drop the vNode's cached pages
     * at the cache monitor (if alive), then its files at the storage monitor. Returns 0 or a negative code.
     */
    long dropFiles(final int vNodeId, final String[] targets)
    {
        if (targets[0] != null)
        {
            final long dropped = dropAt(targets[0], vNodeId);
            if (dropped < 0)
            {
                return dropped;
            }
        }
        final long removed = dropAt(targets[1], vNodeId);
        return removed < 0 ? removed : 0;
    }

    /** Removal, phase 3 (under the global manager's lock): forget the vNode if its files are gone, else keep it. */
    void endRemove(final int vNodeId, final boolean removed)
    {
        final VNode vNode = vNodes.get(vNodeId);
        if (vNode != null)
        {
            vNode.removing = false;
            if (removed)
            {
                vNodes.remove(vNodeId);
            }
        }
    }

    /** Encode a GSM reply; returns its length or TOO_LARGE. */
    static int encodeReply(
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final int opcode,
        final int vNodeId, final long result, final int storageMember, final int cacheMember, final String text)
    {
        VNodeDescriptor.clear(reply, replyOffset);
        reply.putLong(replyOffset + VNodeDescriptor.RESULT_OFFSET, result);
        reply.putInt(replyOffset + VNodeDescriptor.VNODE_OFFSET, result >= 0 && opcode != Opcodes.VNODE_LIST ?
            (int)result : vNodeId);
        reply.putInt(replyOffset + VNodeDescriptor.STORAGE_MEMBER_OFFSET, storageMember);
        reply.putInt(replyOffset + VNodeDescriptor.CACHE_MEMBER_OFFSET, cacheMember);
        final int replyLength = VNodeDescriptor.putText(reply, replyOffset, text, replyCapacity);
        return replyLength < 0 ? Status.TOO_LARGE : replyLength;
    }

    private long dropAt(final String address, final int vNodeId)
    {
        if (address == null)
        {
            return Errno.EIO;
        }
        synchronized (proxies)
        {
            return dropAtLocked(address, vNodeId);
        }
    }

    private long dropAtLocked(final String address, final int vNodeId)
    {
        try
        {
            StorageProxy proxy = proxies.get(address);
            if (proxy == null)
            {
                proxy = new StorageProxy(fabric.connect(address), REMOVE_TIMEOUT_NS);
                proxies.put(address, proxy);
            }
            final long result = proxy.request(
                Opcodes.FILE_DROP_VNODE, vNodeId, 0, 0, 0, ROOT_PATH, null, null, 0, null, 0, null);
            if (result < 0 && result >= Status.HANDLER_ERROR)
            {
                // A transport failure: forget the connection so a retry reconnects.
                proxies.remove(address).close();
            }
            return result;
        }
        catch (final FabricException ex)
        {
            return Status.NOT_CONNECTED;
        }
    }

    private boolean isLiveMemory(final int memberId)
    {
        for (final MemoryMember member : memoryMembers)
        {
            if (member.memberId == memberId)
            {
                return true;
            }
        }
        return false;
    }

    private boolean isLiveStorage(final int memberId)
    {
        for (final StorageMember member : storageMembers)
        {
            if (member.memberId == memberId)
            {
                return true;
            }
        }
        return false;
    }

    /** Close the connections to storage and cache monitors. */
    void close()
    {
        synchronized (proxies)
        {
            proxies.values().forEach(StorageProxy::close);
            proxies.clear();
        }
    }

    private VNode byName(final String name)
    {
        for (final VNode vNode : vNodes.values())
        {
            if (vNode.name.equals(name))
            {
                return vNode;
            }
        }
        return null;
    }

    /** The member with the fewest vNodes (as storage or as cache), or -1 if there is none. */
    private int leastLoaded(final List<Integer> members, final boolean asStorage)
    {
        int best = -1;
        int bestCount = Integer.MAX_VALUE;
        for (final int member : members)
        {
            int count = 0;
            for (final VNode vNode : vNodes.values())
            {
                count += (asStorage ? vNode.storageMemberId : vNode.cacheMemberId) == member ? 1 : 0;
            }
            if (count < bestCount)
            {
                best = member;
                bestCount = count;
            }
        }
        return best;
    }
}
