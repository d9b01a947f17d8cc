package dev.splitkernel.verbs.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server ends of tcp connections whose client runs in this same process (an embedded cluster over loopback),
 * found by the connection's two socket addresses. A client that has sent a frame tells its server end
 * ({@link TcpServerConnection#expectFrame()}), and that end's poller reads the connection at its next duty cycle: a
 * round trip between two monitors of one process costs the four socket calls it needs, with no empty reads of
 * connections kept hot in case and no wait for a periodic select (up to a millisecond once a connection went quiet).
 * Clients in other processes give no such hint; their connections are found by the poller's select and hot list.
 * <p>
 * Thread-safe.
 */
final class LocalPeers
{
    private static final ConcurrentHashMap<String, TcpServerConnection> SERVED = new ConcurrentHashMap<>();

    private LocalPeers()
    {
    }

    /** The key of a served connection, from its server end; null when the channel has no addresses (closed). */
    static String keyAtServer(final SocketChannel channel)
    {
        try
        {
            return key(channel.getLocalAddress(), channel.getRemoteAddress());
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    /** The key of the same connection from its client end. */
    static String keyAtClient(final SocketChannel channel)
    {
        try
        {
            return key(channel.getRemoteAddress(), channel.getLocalAddress());
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    private static String key(final SocketAddress server, final SocketAddress client)
    {
        if (!(server instanceof InetSocketAddress) || !(client instanceof InetSocketAddress))
        {
            return null;
        }
        final InetSocketAddress s = (InetSocketAddress)server;
        final InetSocketAddress c = (InetSocketAddress)client;
        if (s.getAddress() == null || c.getAddress() == null)
        {
            return null;
        }
        // Numeric forms: a client that connected by host name sees the same addresses as the server.
        return s.getAddress().getHostAddress() + ":" + s.getPort() + "|" + c.getAddress().getHostAddress() + ":"
            + c.getPort();
    }

    static void add(final String key, final TcpServerConnection connection)
    {
        if (key != null)
        {
            SERVED.put(key, connection);
        }
    }

    static void remove(final String key, final TcpServerConnection connection)
    {
        if (key != null)
        {
            SERVED.remove(key, connection);
        }
    }

    /** The server end served in this process, or null (a peer elsewhere, or not registered yet). */
    static TcpServerConnection find(final String key)
    {
        return key == null ? null : SERVED.get(key);
    }
}
