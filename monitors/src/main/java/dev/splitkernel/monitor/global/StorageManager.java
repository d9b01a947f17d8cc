package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.VNodeDescriptor;
import dev.splitkernel.verbs.Status;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The global storage manager (GSM): the vNodes, and for each its storage monitor and its buffer-cache memory monitor,
 * both chosen as the member with the fewest vNodes. Coarse and occasional: never on the data path.
 * <p>
 * Not thread-safe: owned by the {@link GlobalManager}, which serialises requests.
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

    private final Map<Integer, String> addresses;
    private final List<MemoryMember> memoryMembers;
    private final List<Integer> storageMembers = new ArrayList<>();
    private final Map<Integer, VNode> vNodes = new LinkedHashMap<>();
    private int nextVNodeId = 1;

    /** Shares the global manager's member tables (read only here). */
    StorageManager(final Map<Integer, String> addresses, final List<MemoryMember> memoryMembers)
    {
        this.addresses = addresses;
        this.memoryMembers = memoryMembers;
    }

    void addStorage(final int memberId)
    {
        storageMembers.add(memberId);
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
                storageMember = leastLoaded(storageMembers, true);
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
            case Opcodes.VNODE_REMOVE:
                result = vNodes.remove(vNodeId) == null ? Errno.ENOENT : 0;
                break;
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
        reply.putLong(replyOffset + VNodeDescriptor.RESULT_OFFSET, result);
        reply.putInt(replyOffset + VNodeDescriptor.VNODE_OFFSET, result >= 0 && opcode != Opcodes.VNODE_LIST ?
            (int)result : vNodeId);
        reply.putInt(replyOffset + VNodeDescriptor.STORAGE_MEMBER_OFFSET, storageMember);
        reply.putInt(replyOffset + VNodeDescriptor.CACHE_MEMBER_OFFSET, cacheMember);
        final int replyLength = VNodeDescriptor.putText(reply, replyOffset, text, replyCapacity);
        return replyLength < 0 ? Status.TOO_LARGE : replyLength;
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
