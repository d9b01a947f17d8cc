package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.auth.ClusterAuthenticator;
import dev.splitkernel.verbs.auth.HandshakeDescriptor;
import org.agrona.concurrent.Agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The one agent that serves a tcp fabric at the target, as Aeron's receiver polls every transport from one agent:
 * it accepts on every listen address, runs each new connection's authentication handshake without blocking, and then
 * serves the connection's frames (one-sided READ/WRITE, requests) through its {@link TcpServerConnection}. One
 * selector, polled without blocking once per duty cycle; the runtime's idle strategy backs off when there is no work.
 * A connection whose client runs in this process is read when that client says a frame is on its way
 * ({@link LocalPeers}), not by the select or the hot list.
 * <p>
 * No thread is started per connection: a flood of connections that never authenticate costs a socket and a few
 * bytes each, is dropped after {@code connectTimeoutNs}, and beyond {@link #MAX_PENDING_HANDSHAKES} at once the oldest
 * is dropped for each new one (counted under AUTH_FAILURES), so honest peers still get in.
 * <p>
 * Not thread-safe: owned by the thread that runs it; {@link #addListener} queues work for that thread.
 */
final class TcpPoller implements dev.splitkernel.verbs.AgentHost.ClockedAgent, Consumer<SelectionKey>
{
    /** Connections accepted but not yet authenticated, at most; beyond it the oldest is dropped. */
    static final int MAX_PENDING_HANDSHAKES = 256;
    /** Connections polled directly (a read each duty cycle) while busy, at most. */
    static final int MAX_HOT = 8;
    /** A hot connection quiet for this long goes back to the selector only. */
    static final long HOT_NS = 2_000_000;
    /**
     * The selector (new connections, and requests on quiet ones) is polled at most this often after it found work,
     * and half as often after each poll that found none, down to once per {@link #MAX_SELECT_INTERVAL_NS}: a thread
     * that waits on the network may drive every poller of its process per poll of its own socket, and a select costs
     * more than the read of a hot connection.
     */
    static final long MIN_SELECT_INTERVAL_NS = 10_000;
    static final long MAX_SELECT_INTERVAL_NS = 1_000_000;
    /** Hinted connections queued at most; beyond, a hint becomes a select at the next duty cycle. */
    static final int EXPECTED_CAPACITY = 1024;

    private final TcpFabric fabric;
    private final ClusterAuthenticator auth;
    private final FabricCounters counters;
    private final long handshakeTimeoutNs;
    private final Selector selector;
    private final org.jctools.queues.MpscArrayQueue<Object[]> newListeners =
        new org.jctools.queues.MpscArrayQueue<>(64);
    private final List<Handshake> handshakes = new ArrayList<>();
    /** Connections whose client (in this process) has just written a frame: read at the next duty cycle. */
    private final org.jctools.queues.MpscArrayQueue<TcpServerConnection> expected =
        new org.jctools.queues.MpscArrayQueue<>(EXPECTED_CAPACITY);
    /** A hint that did not fit the queue: select at the next duty cycle. */
    private volatile boolean selectSoon;
    private final TcpServerConnection[] hot = new TcpServerConnection[MAX_HOT];
    private final long[] hotActiveNs = new long[MAX_HOT];
    private int hotCount;
    private long lastSelectNs;
    private long selectIntervalNs = MIN_SELECT_INTERVAL_NS;
    private long nowNs;
    private int work;
    /** The host's duty-cycle clock, or the system's (see {@link dev.splitkernel.verbs.AgentHost.ClockedAgent}). */
    private org.agrona.concurrent.NanoClock clock = org.agrona.concurrent.SystemNanoClock.INSTANCE;

    TcpPoller(final TcpFabric fabric, final ClusterAuthenticator auth)
    {
        this.fabric = fabric;
        this.auth = auth;
        this.counters = fabric.counters();
        this.handshakeTimeoutNs = fabric.context().connectTimeoutNs();
        try
        {
            selector = Selector.open();
        }
        catch (final IOException ex)
        {
            throw new dev.splitkernel.verbs.FabricException("tcp fabric: cannot open a selector: " + ex.getMessage(), ex);
        }
    }

    @Override
    public String roleName()
    {
        return "tcp-poller-" + fabric.name();
    }

    @Override
    public void nanoClock(final org.agrona.concurrent.NanoClock clock)
    {
        this.clock = clock;
    }

    /** From any thread: serve {@code server} with {@code handler} from the next duty cycle on. */
    void addListener(final ServerSocketChannel server, final RequestHandler handler)
    {
        while (!newListeners.offer(new Object[] {server, handler}))
        {
            Thread.yield();
        }
    }

    /** From a client thread in this process: {@code connection} has a frame on its way (see {@link LocalPeers}). */
    void expect(final TcpServerConnection connection)
    {
        if (!expected.offer(connection))
        {
            selectSoon = true;
        }
    }

    /**
     * One duty cycle: the connections a client of this process said have a frame are read; the hot connections (busy lately) are read directly, a syscall each; the selector, which
     * finds activity on every other socket, is polled every {@link #MIN_SELECT_INTERVAL_NS} to
     * {@link #MAX_SELECT_INTERVAL_NS}, less often the longer it finds nothing. A busy fabric so pays one read per busy
     * connection per cycle instead of a select over all of them, and a quiet one about a select per millisecond.
     */
    @Override
    public int doWork() throws IOException
    {
        work = 0;
        nowNs = clock.nanoTime();
        if (!expected.isEmpty())
        {
            pollExpected();
        }
        if (hotCount > 0)
        {
            pollHot();
        }
        if (nowNs - lastSelectNs < selectIntervalNs && newListeners.isEmpty() && !selectSoon)
        {
            return work;
        }
        selectSoon = false;
        lastSelectNs = nowNs;
        final int hotWork = work;
        Object[] listener;
        while ((listener = newListeners.poll()) != null)
        {
            final ServerSocketChannel server = (ServerSocketChannel)listener[0];
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT, listener[1]);
            work++;
        }
        selector.selectNow(this);
        if (!handshakes.isEmpty())
        {
            expireHandshakes(nowNs);
        }
        selectIntervalNs = work > hotWork || !handshakes.isEmpty() ?
            MIN_SELECT_INTERVAL_NS : Math.min(MAX_SELECT_INTERVAL_NS, selectIntervalNs << 1);
        return work;
    }

    private void pollExpected()
    {
        // Bounded: hints that arrive meanwhile wait for the next duty cycle.
        for (int i = 0; i < EXPECTED_CAPACITY; i++)
        {
            final TcpServerConnection connection = expected.relaxedPoll();
            if (connection == null)
            {
                return;
            }
            final int frames = connection.onReadable();
            if (frames > 0)
            {
                work += frames;
            }
            else if (frames < 0)
            {
                closeServed(connection);
            }
            else
            {
                // Not there yet (its delivery deferred on a loaded machine) or read already: select again soon.
                selectIntervalNs = MIN_SELECT_INTERVAL_NS;
            }
        }
    }

    private void closeServed(final TcpServerConnection connection)
    {
        final SelectionKey key = connection.channel().keyFor(selector);
        if (key != null)
        {
            key.cancel();
        }
        connection.close();
        for (int i = 0; i < hotCount; i++)
        {
            if (hot[i] == connection)
            {
                removeHot(i);
                break;
            }
        }
    }

    private void pollHot()
    {
        for (int i = hotCount - 1; i >= 0; i--)
        {
            final TcpServerConnection connection = hot[i];
            final int frames = connection.onReadable();
            if (frames > 0)
            {
                work += frames;
                hotActiveNs[i] = nowNs;
            }
            else if (frames < 0 || nowNs - hotActiveNs[i] > HOT_NS || connection.isHinted())
            {
                removeHot(i);
                if (frames < 0)
                {
                    closeServed(connection);
                }
            }
        }
    }

    private void makeHot(final TcpServerConnection connection)
    {
        if (connection.isHinted())
        {
            // Its client says when to read it: polling it every cycle would only add empty reads.
            return;
        }
        for (int i = 0; i < hotCount; i++)
        {
            if (hot[i] == connection)
            {
                hotActiveNs[i] = nowNs;
                return;
            }
        }
        if (hotCount < MAX_HOT)
        {
            hot[hotCount] = connection;
            hotActiveNs[hotCount++] = nowNs;
        }
    }

    private void removeHot(final int index)
    {
        hot[index] = hot[--hotCount];
        hotActiveNs[index] = hotActiveNs[hotCount];
        hot[hotCount] = null;
    }

    /** A ready key: accept, a handshake step, or frames of an authenticated connection. */
    @Override
    public void accept(final SelectionKey key)
    {
        final Object attachment = key.attachment();
        try
        {
            if (attachment instanceof TcpServerConnection)
            {
                final TcpServerConnection connection = (TcpServerConnection)attachment;
                final int frames = key.isValid() ? connection.onReadable() : -1;
                if (frames < 0)
                {
                    key.cancel();
                    closeServed(connection);
                }
                else if (frames > 0)
                {
                    work += frames;
                    makeHot(connection);
                }
            }
            else if (attachment instanceof Handshake)
            {
                work++;
                ((Handshake)attachment).step(key);
            }
            else if (key.isValid() && key.isAcceptable())
            {
                work++;
                onAccept((ServerSocketChannel)key.channel(), (RequestHandler)attachment);
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            if (!fabric.isClosed())
            {
                fabric.reportError("serving " + key.channel() + " failed: " + ex);
            }
            key.cancel();
            closeQuietly(key.channel());
            if (attachment instanceof TcpServerConnection)
            {
                ((TcpServerConnection)attachment).close();
            }
            else if (attachment instanceof Handshake)
            {
                handshakes.remove(attachment);
            }
        }
    }

    private void onAccept(final ServerSocketChannel server, final RequestHandler handler) throws IOException
    {
        SocketChannel channel;
        while ((channel = server.accept()) != null)
        {
            if (handshakes.size() >= MAX_PENDING_HANDSHAKES)
            {
                // Drop the oldest: an honest peer finishes in a round trip or two, a silent one is the likely flood.
                handshakes.remove(0).fail("authentication failed: dropped " + handshakes.size() + "+ connections "
                    + "waiting to authenticate (the oldest first): a connection flood?");
            }
            channel.configureBlocking(false);
            final Handshake handshake = new Handshake(channel, handler, System.nanoTime() + handshakeTimeoutNs);
            handshakes.add(handshake);
            channel.register(selector, SelectionKey.OP_READ, handshake);
        }
    }

    private void expireHandshakes(final long nowNs)
    {
        for (int i = handshakes.size() - 1; i >= 0; i--)
        {
            final Handshake handshake = handshakes.get(i);
            if (nowNs - handshake.deadlineNs >= 0)
            {
                handshakes.remove(i);
                handshake.fail("authentication failed: " + handshake.peer + " sent no complete handshake within "
                    + handshakeTimeoutNs / 1_000_000 + " ms; dropped it");
                work++;
            }
        }
    }

    @Override
    public void onClose()
    {
        for (final SelectionKey key : selector.keys())
        {
            closeQuietly(key.channel());
        }
        for (final Handshake handshake : handshakes)
        {
            closeQuietly(handshake.channel);
        }
        handshakes.clear();
        for (int i = 0; i < hotCount; i++)
        {
            hot[i].close();
        }
        hotCount = 0;
        try
        {
            selector.close();
        }
        catch (final IOException ignore)
        {
            // closing
        }
    }

    static String remote(final SocketChannel channel)
    {
        try
        {
            final SocketAddress address = channel.getRemoteAddress();
            if (address instanceof InetSocketAddress)
            {
                final InetSocketAddress inet = (InetSocketAddress)address;
                return TcpFabric.format(inet.getHostString(), inet.getPort());
            }
            return String.valueOf(address);
        }
        catch (final IOException ex)
        {
            return "an unknown peer";
        }
    }

    private static String host(final SocketChannel channel, final String fallback)
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
            // fall back
        }
        return fallback;
    }

    private static void closeQuietly(final java.nio.channels.Channel channel)
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

    /**
     * The listening side of the authentication handshake ({@link HandshakeDescriptor}), one non-blocking step per
     * readiness: HELLO in, CHALLENGE out, PROOF in, result out. Nothing the peer sends reaches a handler or the
     * one-sided service until it is accepted.
     */
    private final class Handshake
    {
        private static final int READ_HELLO = 0;
        private static final int READ_PROOF = 1;
        private static final int WRITING = 2;

        final SocketChannel channel;
        final RequestHandler handler;
        final long deadlineNs;
        final String peer;
        final ClusterAuthenticator.Listener listener;
        final ByteBuffer in = ByteBuffer.allocate(HandshakeDescriptor.MESSAGE_LENGTH);
        ByteBuffer out;
        int state = READ_HELLO;
        /** What follows the write in progress: READ_PROOF, or done (accepted or refused). */
        boolean done;

        Handshake(final SocketChannel channel, final RequestHandler handler, final long deadlineNs)
        {
            this.channel = channel;
            this.handler = handler;
            this.deadlineNs = deadlineNs;
            this.peer = remote(channel);
            this.listener = auth.newListener(peer);
        }

        void step(final SelectionKey key) throws IOException
        {
            if (state == WRITING)
            {
                write(key);
                return;
            }
            final int read = channel.read(in);
            if (read < 0)
            {
                handshakes.remove(this);
                fail("authentication failed: " + peer + " closed the connection before completing the handshake");
                return;
            }
            if (in.hasRemaining())
            {
                return;
            }
            final byte[] message = in.array().clone();
            in.clear();
            if (state == READ_HELLO)
            {
                out = ByteBuffer.wrap(listener.onHello(message));
                done = listener.isRefused();
            }
            else
            {
                final byte[] result = listener.onProof(message);
                out = result == null ? null : ByteBuffer.wrap(result);
                done = true;
            }
            state = WRITING;
            write(key);
        }

        private void write(final SelectionKey key) throws IOException
        {
            if (out != null)
            {
                channel.write(out);
                if (out.hasRemaining())
                {
                    key.interestOps(SelectionKey.OP_WRITE);
                    return;
                }
            }
            key.interestOps(SelectionKey.OP_READ);
            if (!done)
            {
                state = READ_PROOF;
                return;
            }
            handshakes.remove(this);
            if (!listener.isAccepted())
            {
                fail(listener.failure());
                return;
            }
            if (fabric.isClosed())
            {
                key.cancel();
                closeQuietly(channel);
                return;
            }
            final TcpServerConnection connection = fabric.newServerConnection(TcpPoller.this, channel, handler);
            counters.increment(FabricCounters.CONNECTIONS_ACCEPTED);
            key.attach(connection);
        }

        void fail(final String why)
        {
            final SelectionKey key = channel.keyFor(selector);
            if (key != null)
            {
                key.cancel();
            }
            if (!fabric.isClosed())
            {
                auth.onFailure(host(channel, peer), why);
            }
            closeQuietly(channel);
        }
    }
}
