package dev.splitkernel.monitor.memory;

import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.Status;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Whom the home and the page mover talk to: this monitor's member id and the GMM, the other memory monitors
 * (connected at first use, on the control path), and the owner of a vRegion, which may be this monitor itself
 * (its {@link VmaOwner}, without the network).
 * <p>
 * Thread-safe.
 */
final class Peers implements AutoCloseable
{
    private final Fabric fabric;
    private final VmaOwner self;
    private final int pageBytes;
    private final long requestTimeoutNs;
    private final ConcurrentHashMap<Integer, MemoryMonitorProxy> peers = new ConcurrentHashMap<>();
    private volatile GlobalManagerProxy global;
    private volatile int memberId;
    private volatile Replication replication;

    Peers(final Fabric fabric, final VmaOwner self, final int pageBytes, final long requestTimeoutNs)
    {
        this.fabric = fabric;
        this.self = self;
        this.pageBytes = pageBytes;
        this.requestTimeoutNs = requestTimeoutNs;
    }

    /** Where {@link Opcodes#VMA_REPLICATE} goes when this monitor is the owner (set once, before serving). */
    void replication(final Replication replication)
    {
        this.replication = replication;
    }

    /** Joined the cluster: this monitor's member id and its proxy to the GMM. */
    void joined(final int memberId, final GlobalManagerProxy global)
    {
        this.memberId = memberId;
        this.global = global;
    }

    int memberId()
    {
        return memberId;
    }

    /** The GMM, or null when standalone. */
    GlobalManagerProxy global()
    {
        return global;
    }

    /** An owner operation on {@code owner}: this monitor's own vma owner, or a peer over the network. */
    long callOwner(final int owner, final int opcode, final int asid, final long address, final long lengthBytes,
        final int prot, final long newAddress)
    {
        if (owner == memberId)
        {
            return opcode == Opcodes.VMA_REPLICATE ? replication.replicate(asid, (int)newAddress, prot) :
                self.ownerOperation(opcode, asid, address, lengthBytes, prot, newAddress);
        }
        final MemoryMonitorProxy peer = peer(owner);
        if (peer == null)
        {
            return Status.NOT_CONNECTED;
        }
        return peer.ownerOperation(opcode, asid, address, lengthBytes, prot, 0, 0, newAddress);
    }

    MemoryMonitorProxy peer(final int owner)
    {
        final MemoryMonitorProxy peer = peers.get(owner);
        if (peer != null)
        {
            return peer;
        }
        final GlobalManagerProxy gmm = global;
        final String peerAddress = gmm == null ? null : gmm.lookupMember(owner);
        return peerAddress == null ? null : connectPeer(owner, peerAddress);
    }

    MemoryMonitorProxy connectPeer(final int owner, final String peerAddress)
    {
        return peers.computeIfAbsent(owner, id -> new MemoryMonitorProxy(
            fabric.connect(peerAddress), id, pageBytes, requestTimeoutNs));
    }

    @Override
    public void close()
    {
        for (final MemoryMonitorProxy peer : peers.values())
        {
            peer.close();
        }
        peers.clear();
        final GlobalManagerProxy gmm = global;
        global = null;
        if (gmm != null)
        {
            gmm.close();
        }
    }
}
