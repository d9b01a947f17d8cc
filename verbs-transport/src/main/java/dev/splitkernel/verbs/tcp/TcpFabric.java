package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.auth.ClusterAuthenticator;
import dev.splitkernel.verbs.support.RegionTable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * The TCP fabric: Java NIO between processes or hosts, one frame layout ({@link FrameDescriptor}) for one-sided and
 * two-sided operations on one connection.
 * <p>
 * <b>At the target: one poller.</b> A single {@link TcpPoller} agent serves every listen address and every accepted
 * connection of this fabric: it accepts, runs each connection's authentication handshake without blocking, then
 * serves one-sided READ/WRITE from registered regions (never calling application code) and runs the
 * {@link RequestHandler} inline, in arrival order, for requests that do not {@link RequestHandler#mayBlock block}.
 * Who runs the poller, and how it idles, is the {@link dev.splitkernel.verbs.AgentHost} of the context (a monitor
 * runtime, or a thread of the fabric's own). Requests that may block, and every request when {@code serverWorkers} =
 * N &gt; 0, go to a pool of worker threads ({@link TcpServerWorkers}; N threads, or 2 for blocking requests only), so
 * a slow handler never delays one-sided service or other connections.
 * <p>
 * <b>At the initiator.</b> See {@link TcpConnection}: the waiting threads read their responses themselves
 * (leader/follower), spinning with {@code busyPoll}, otherwise spinning briefly and then parking.
 * <p>
 * <b>Authentication.</b> Every connection starts with the cluster-authentication handshake
 * ({@link dev.splitkernel.verbs.auth.HandshakeDescriptor}), run by the poller before the connection is served, so no
 * frame from an unauthenticated peer reaches the one-sided service or a handler, and a silent peer holds no thread:
 * it is dropped after {@code connectTimeoutNs}. A refused peer is counted under AUTH_FAILURES and reported once per
 * host.
 * <p>
 * Limits: one operation moves at most {@code maxMessageBytes}; larger ones fail with TOO_LARGE.
 * <p>
 * Thread-safe.
 */
public final class TcpFabric implements Fabric
{
    public static final String NAME = "tcp";

    private final FabricContext ctx;
    private final RegionTable regions = new RegionTable();
    private static final System.Logger LOG = System.getLogger(TcpFabric.class.getName());

    private final FabricCounters counters;
    private final List<ServerSocketChannel> listeners = new CopyOnWriteArrayList<>();
    private final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
    private final List<TcpServerConnection> serverConnections = new CopyOnWriteArrayList<>();
    private final ClusterAuthenticator auth;
    private TcpServerWorkers workers;
    private TcpPoller poller;
    private AutoCloseable pollerHandle;
    private volatile boolean closed;

    public TcpFabric(final FabricContext ctx)
    {
        this.ctx = ctx.conclude();
        this.counters = new FabricCounters(this.ctx.countersManager());
        this.auth = new ClusterAuthenticator(NAME, this.ctx, counters);
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
    public FabricCounters counters()
    {
        return counters;
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

    @Override
    public String listen(final String address, final RequestHandler handler)
    {
        checkOpen();
        if (handler == null)
        {
            throw new FabricException("listen at '" + address + "' needs a RequestHandler");
        }
        final InetSocketAddress socketAddress = parse(address);
        final ServerSocketChannel server;
        try
        {
            server = ServerSocketChannel.open();
            server.socket().setReuseAddress(true);
            server.bind(socketAddress, 128);
        }
        catch (final IOException ex)
        {
            throw new FabricException("cannot listen at '" + address + "': " + ex.getMessage()
                + " (is the port in use? use port 0 to pick a free one)", ex);
        }
        listeners.add(server);
        auth.onListen();
        final InetSocketAddress bound = (InetSocketAddress)server.socket().getLocalSocketAddress();
        poller().addListener(server, handler);
        return format(socketAddress.getHostString(), bound.getPort());
    }

    private synchronized TcpPoller poller()
    {
        if (poller == null)
        {
            poller = new TcpPoller(this, auth);
            pollerHandle = ctx.agentHost().run(poller);
        }
        return poller;
    }

    /**
     * The workers that run requests off the poller: {@code serverWorkers} threads for every request, or (with
     * {@code serverWorkers} = 0) two threads for requests that may block. Started at the first such request.
     */
    synchronized TcpServerWorkers workers()
    {
        if (workers == null && !closed)
        {
            workers = new TcpServerWorkers(this, ctx.serverWorkers() > 0 ? ctx.serverWorkers() : 2);
        }
        return workers;
    }

    /** An authenticated connection, served by the poller from now on. */
    TcpServerConnection newServerConnection(
        final TcpPoller poller, final SocketChannel channel, final RequestHandler handler) throws IOException
    {
        final TcpServerConnection connection = new TcpServerConnection(
            this, poller, new FrameChannel(channel, ctx.maxMessageBytes()), regions, handler, ctx.serverWorkers() > 0);
        serverConnections.add(connection);
        connection.registerLocal();
        if (closed)
        {
            connection.close();
        }
        return connection;
    }

    boolean isClosed()
    {
        return closed;
    }

    @Override
    public Connection connect(final String address, final long timeoutNs)
    {
        checkOpen();
        final InetSocketAddress socketAddress = parse(address);
        final long deadlineNs = System.nanoTime() + timeoutNs;
        SocketChannel channel = null;
        try
        {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            boolean connected = channel.connect(socketAddress);
            while (!connected)
            {
                if (System.nanoTime() - deadlineNs >= 0)
                {
                    throw new FabricException("no connection to " + address + " within " + timeoutNs / 1_000_000
                        + " ms: is the peer running and reachable?");
                }
                LockSupport.parkNanos(50_000);
                connected = channel.finishConnect();
            }
            try
            {
                TcpHandshake.connect(auth, channel, address, deadlineNs, timeoutNs);
            }
            catch (final FabricException ex)
            {
                auth.onFailure(address, ex.getMessage());
                throw ex;
            }
            final TcpConnection connection = new TcpConnection(
                this, address, new FrameChannel(channel, ctx.maxMessageBytes()));
            connections.add(connection);
            if (closed)
            {
                connection.close();
                throw new FabricException("tcp fabric closed while connecting to " + address);
            }
            return connection;
        }
        catch (final IOException ex)
        {
            closeQuietly(channel);
            throw new FabricException("cannot connect to " + address + ": " + ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            closeQuietly(channel);
            throw ex;
        }
    }

    void removeConnection(final TcpConnection connection)
    {
        connections.remove(connection);
    }

    void removeServerConnection(final TcpServerConnection connection)
    {
        serverConnections.remove(connection);
    }

    /** Errors that a person should see, off the data path. */
    void reportError(final String message)
    {
        LOG.log(System.Logger.Level.WARNING, "tcp fabric: " + message);
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        final AutoCloseable handle;
        synchronized (this)
        {
            handle = pollerHandle;
        }
        if (handle != null)
        {
            try
            {
                handle.close();
            }
            catch (final Exception ex)
            {
                reportError("stopping the poller failed: " + ex);
            }
        }
        for (final ServerSocketChannel server : listeners)
        {
            closeQuietly(server);
        }
        for (final TcpServerConnection connection : new ArrayList<>(serverConnections))
        {
            connection.close();
        }
        for (final TcpConnection connection : new ArrayList<>(connections))
        {
            connection.close();
        }
        synchronized (this)
        {
            if (workers != null)
            {
                workers.close();
            }
        }
        regions.clear();
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("tcp fabric is closed");
        }
    }

    private static void closeQuietly(final java.nio.channels.Channel channel)
    {
        if (channel != null)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // closing: nothing more to do
            }
        }
    }

    /** "host:port" or "[v6]:port" to a socket address. */
    static InetSocketAddress parse(final String address)
    {
        if (address == null)
        {
            throw new FabricException("tcp address is null: use host:port");
        }
        final int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1)
        {
            throw new FabricException("tcp address '" + address + "' is not host:port (e.g. 127.0.0.1:7000)");
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        final int port;
        try
        {
            port = Integer.parseInt(address.substring(colon + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new FabricException("tcp address '" + address + "' has a bad port: use host:port");
        }
        if (port < 0 || port > 65535)
        {
            throw new FabricException("tcp address '" + address + "' has port outside 0..65535");
        }
        return new InetSocketAddress(host, port);
    }

    static String format(final String host, final int port)
    {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString()
    {
        return "TcpFabric{busyPoll=" + ctx.busyPoll() + ", connections=" + connections.size() + ", served="
            + serverConnections.size() + "}";
    }
}
