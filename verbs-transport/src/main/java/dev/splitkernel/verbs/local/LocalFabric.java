package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.auth.ClusterAuthenticator;
import dev.splitkernel.verbs.support.Region;
import dev.splitkernel.verbs.support.RegionTable;
import dev.splitkernel.verbs.support.TimingModel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The in-JVM fabric: every monitor in one JVM, each with its own instance, finding each other by listen name in a
 * {@link LocalNetwork}. A one-sided READ or WRITE is a memory copy between registered regions after the rkey and
 * bounds checks; a request runs the target's handler in the caller's thread (Aeron's INVOKER mode: no spare core,
 * no copy, no allocation). The {@link TimingModel} of the caller's context is charged by busy-waiting in the
 * caller's thread, from the start of the operation.
 * <p>
 * An RPC is charged its network time after the handler returns, so handler time adds to it, as it would at a
 * remote target. With {@code serverWorkers} N &gt; 0 at most N handlers of this fabric run at once; other callers
 * wait their turn (spinning, then yielding) until their call's timeout, which then fails with TIMEOUT.
 * <p>
 * Because handlers run in the caller's thread, a call's timeout cannot interrupt a slow handler; a target closed
 * while its handler runs fails the call with NOT_CONNECTED (the reply is lost), and every later operation to it
 * fails the same way.
 * <p>
 * Authentication: {@link #connect} runs the same cluster-authentication handshake as the other fabrics
 * ({@link dev.splitkernel.verbs.auth.HandshakeDescriptor}), the messages passed in-JVM between this fabric's
 * authenticator and the target's; a fabric with another secret (or none, when the target has one) is refused
 * before any connection exists, counted under AUTH_FAILURES at both ends and reported once per peer.
 * <p>
 * Thread-safe.
 */
public final class LocalFabric implements Fabric
{
    public static final String NAME = "local";

    private final FabricContext ctx;
    private final LocalNetwork network;
    private final TimingModel timing;
    private final RegionTable regions = new RegionTable();
    private final FabricCounters counters;
    private final List<String> listenNames = new CopyOnWriteArrayList<>();
    private final List<LocalConnection> connections = new CopyOnWriteArrayList<>();
    private final AtomicInteger activeHandlers = new AtomicInteger();
    private final ClusterAuthenticator auth;
    private final int maxHandlers;
    private volatile RequestHandler handler;
    private volatile boolean closed;

    public LocalFabric(final FabricContext ctx, final LocalNetwork network)
    {
        this.ctx = ctx.conclude();
        this.counters = new FabricCounters(this.ctx.countersManager());
        this.network = network;
        this.timing = new TimingModel(ctx);
        this.maxHandlers = ctx.serverWorkers() == 0 ? Integer.MAX_VALUE : ctx.serverWorkers();
        this.auth = new ClusterAuthenticator(NAME, this.ctx, counters);
    }

    /** Take a handler turn (serverWorkers); false if none came free by {@code deadlineNs}. */
    boolean acquireHandler(final long deadlineNs)
    {
        int spins = 0;
        while (true)
        {
            final int active = activeHandlers.get();
            if (active < maxHandlers && activeHandlers.compareAndSet(active, active + 1))
            {
                return true;
            }
            if (System.nanoTime() - deadlineNs >= 0)
            {
                return false;
            }
            if (++spins < 100)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    void releaseHandler()
    {
        activeHandlers.decrementAndGet();
    }

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public FabricContext context()
    {
        return ctx;
    }

    @Override
    public MemoryRegion allocate(final int lengthBytes)
    {
        checkOpen();
        return regions.allocate(lengthBytes);
    }

    @Override
    public void deregister(final MemoryRegion region)
    {
        regions.deregister(region);
    }

    /** One handler serves every name this fabric listens at; a second listen replaces it. */
    @Override
    public String listen(final String address, final RequestHandler handler)
    {
        checkOpen();
        if (handler == null)
        {
            throw new FabricException("listen at '" + address + "' needs a RequestHandler");
        }
        this.handler = handler;
        network.bind(address, this);
        listenNames.add(address);
        auth.onListen();
        return address;
    }

    /** Waits up to {@code timeoutNs} for a listener of that name to appear (monitors may start in any order). */
    @Override
    public Connection connect(final String address, final long timeoutNs)
    {
        checkOpen();
        final long deadlineNs = System.nanoTime() + timeoutNs;
        LocalFabric peer;
        while ((peer = network.lookup(address)) == null)
        {
            if (System.nanoTime() - deadlineNs >= 0)
            {
                throw new FabricException("no local fabric listens at '" + address + "' (waited "
                    + timeoutNs / 1_000_000 + " ms); listening now: " + network.names());
            }
            LockSupport.parkNanos(1_000_000);
        }
        authenticate(peer, address);
        final LocalConnection connection = new LocalConnection(this, peer, address);
        connections.add(connection);
        return connection;
    }

    /** The handshake across the in-JVM connection, both ends' parts run in this thread. */
    private void authenticate(final LocalFabric peer, final String address)
    {
        final String self = listenNames.isEmpty() ?
            "local fabric@" + Integer.toHexString(System.identityHashCode(this)) : "local fabric " + listenNames;
        final ClusterAuthenticator.Connector connector = auth.newConnector(address);
        final ClusterAuthenticator.Listener listener = peer.auth.newListener(self);
        try
        {
            final byte[] challenge = listener.onHello(connector.hello());
            if (listener.isRefused())
            {
                connector.onResult(challenge);
            }
            else
            {
                byte[] proof;
                try
                {
                    proof = connector.onChallenge(challenge);
                }
                catch (final FabricException ex)
                {
                    listener.onProof(connector.refusal());
                    throw ex;
                }
                connector.onResult(listener.onProof(proof));
            }
        }
        catch (final FabricException ex)
        {
            peer.auth.onFailure(self, listener.isRefused() ? listener.failure() :
                "authentication failed: " + self + " abandoned the handshake");
            auth.onFailure(address, ex.getMessage());
            throw ex;
        }
    }

    @Override
    public FabricCounters counters()
    {
        return counters;
    }

    boolean isOpen()
    {
        return !closed;
    }

    TimingModel timing()
    {
        return timing;
    }

    RequestHandler handler()
    {
        return handler;
    }

    Region lookup(final int rkey)
    {
        return regions.lookup(rkey);
    }

    void removeConnection(final LocalConnection connection)
    {
        connections.remove(connection);
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        for (final String name : listenNames)
        {
            network.unbind(name, this);
        }
        for (final LocalConnection connection : new ArrayList<>(connections))
        {
            connection.close();
        }
        regions.clear();
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("local fabric is closed");
        }
    }

    @Override
    public String toString()
    {
        return "LocalFabric{listen=" + listenNames + ", timing=" + ctx.timing() + "}";
    }
}
