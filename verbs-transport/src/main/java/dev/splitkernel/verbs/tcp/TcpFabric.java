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
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * The TCP fabric: Java NIO between processes or hosts, one frame layout ({@link FrameDescriptor}) for one-sided and
 * two-sided operations on one connection.
 * <p>
 * <b>Threads at the target.</b> An acceptor thread per listen address; each accepted connection gets its own
 * NIC-like service thread that serves one-sided READ/WRITE from registered regions, never calling application code.
 * Requests: with {@code serverWorkers} = 0 (the default, lowest latency) the service thread runs the
 * {@link RequestHandler} inline, in arrival order, so handlers run on as many threads as there are connections and a
 * handler that blocks delays its own connection's later operations (one-sided ones included). With
 * {@code serverWorkers} = N &gt; 0 requests from every connection go to one pool of N worker threads
 * ({@link TcpServerWorkers}): at most N handlers run at once, as LegoOS's memory workers, and a slow handler never
 * delays one-sided service.
 * <p>
 * <b>Threads at the initiator.</b> See {@link TcpConnection}: a receiver thread sleeping in the kernel, or, with
 * busy-poll, the waiting threads themselves. With busy-poll the target's service threads also spin (non-blocking
 * reads) while busy and fall back to sleeping in the kernel after 200 ms without work.
 * <p>
 * <b>Authentication.</b> Every connection starts with the cluster-authentication handshake
 * ({@link dev.splitkernel.verbs.auth.HandshakeDescriptor}), run by the accepted connection's own thread before its
 * service starts, so no frame from an unauthenticated peer reaches the one-sided service or a handler, and a silent
 * peer never holds the acceptor: it is dropped after {@code connectTimeoutNs}. A refused peer is counted under
 * AUTH_FAILURES and reported once per host.
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
    private final FabricCounters counters = new FabricCounters();
    private final List<ServerSocketChannel> listeners = new CopyOnWriteArrayList<>();
    private final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
    private final List<TcpServerConnection> serverConnections = new CopyOnWriteArrayList<>();
    private final Set<SocketChannel> handshaking = ConcurrentHashMap.newKeySet();
    private final ClusterAuthenticator auth;
    private TcpServerWorkers workers;
    private volatile boolean closed;

    public TcpFabric(final FabricContext ctx)
    {
        this.ctx = ctx.conclude();
        this.auth = new ClusterAuthenticator(NAME, this.ctx, counters);
    }

    @Override
    public String name()
    {
        return NAME;
    }

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
        final TcpServerWorkers serverWorkers = workers();
        final InetSocketAddress bound = (InetSocketAddress)server.socket().getLocalSocketAddress();
        final String boundAddress = format(socketAddress.getHostString(), bound.getPort());
        final Thread acceptor = new Thread(
            () -> acceptLoop(server, handler, serverWorkers), "tcp-fabric-acceptor-" + boundAddress);
        acceptor.setDaemon(true);
        acceptor.start();
        return boundAddress;
    }

    private synchronized TcpServerWorkers workers()
    {
        if (workers == null && ctx.serverWorkers() > 0)
        {
            workers = new TcpServerWorkers(this, ctx.serverWorkers());
        }
        return workers;
    }

    private void acceptLoop(
        final ServerSocketChannel server, final RequestHandler handler, final TcpServerWorkers serverWorkers)
    {
        while (!closed && server.isOpen())
        {
            try
            {
                final SocketChannel channel = server.accept();
                handshaking.add(channel);
                if (closed)
                {
                    handshaking.remove(channel);
                    closeQuietly(channel);
                    return;
                }
                final Thread thread = new Thread(
                    () -> authenticateAndServe(channel, handler, serverWorkers), "tcp-fabric-nic-" + remote(channel));
                thread.setDaemon(true);
                thread.start();
            }
            catch (final IOException ex)
            {
                if (!closed && server.isOpen())
                {
                    reportError("accept failed: " + ex);
                    LockSupport.parkNanos(10_000_000);
                }
            }
        }
    }

    /** The accepted connection's thread: the handshake, then (only if it succeeded) the service. */
    private void authenticateAndServe(
        final SocketChannel channel, final RequestHandler handler, final TcpServerWorkers serverWorkers)
    {
        final String peer = remote(channel);
        TcpServerConnection connection = null;
        try
        {
            final String failure = TcpHandshake.accept(
                auth, channel, peer, System.nanoTime() + ctx.connectTimeoutNs(), ctx.connectTimeoutNs());
            if (failure != null)
            {
                if (!closed)
                {
                    auth.onFailure(peerHost(channel, peer), failure);
                }
                return;
            }
            connection = new TcpServerConnection(
                this, new FrameChannel(channel, ctx.maxMessageBytes()), regions, handler, serverWorkers);
            counters.increment(FabricCounters.CONNECTIONS_ACCEPTED);
            serverConnections.add(connection);
        }
        catch (final IOException | RuntimeException ex)
        {
            if (!closed)
            {
                reportError("accepting " + peer + " failed: " + ex);
            }
            return;
        }
        finally
        {
            handshaking.remove(channel);
            if (connection == null)
            {
                closeQuietly(channel);
            }
        }
        if (closed)
        {
            connection.close();
            return;
        }
        connection.run();
    }

    private static String remote(final SocketChannel channel)
    {
        try
        {
            final SocketAddress address = channel.getRemoteAddress();
            if (address instanceof InetSocketAddress)
            {
                final InetSocketAddress inet = (InetSocketAddress)address;
                return format(inet.getHostString(), inet.getPort());
            }
            return String.valueOf(address);
        }
        catch (final IOException ex)
        {
            return "an unknown peer";
        }
    }

    /** Who a refused peer is across attempts: its host, not its ephemeral port. */
    private static String peerHost(final SocketChannel channel, final String fallback)
    {
        try
        {
            final SocketAddress address = channel.getRemoteAddress();
            if (address instanceof InetSocketAddress)
            {
                return ((InetSocketAddress)address).getHostString();
            }
        }
        catch (final IOException ex)
        {
            // fall back to what was recorded at accept
        }
        return fallback;
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
        System.err.println("tcp fabric: " + message);
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        for (final ServerSocketChannel server : listeners)
        {
            closeQuietly(server);
        }
        for (final SocketChannel channel : new ArrayList<>(handshaking))
        {
            closeQuietly(channel);
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

    private static String format(final String host, final int port)
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
