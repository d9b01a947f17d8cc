package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvQPInitAttr;
import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaConnParam;
import com.ibm.disni.verbs.RdmaEventChannel;
import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.RequestHandler;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.auth.ClusterAuthenticator;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The rdma fabric: real verbs through DiSNI's verbs API (rdma_cm endpoints, one protection domain, one completion
 * queue shared by every queue pair, stateful verb calls prepared once and reused).
 * <ul>
 *   <li>Memory: {@link #allocate} registers direct memory for local write and remote read/write;
 *   {@link MemoryRegion#address()} is the real virtual address and {@link MemoryRegion#rkey()} the real rkey.
 *   The listener announces its regions to each connector (see {@link RdmaFrameDescriptor}), and {@link #deregister}
 *   waits (bounded) until connected peers have dropped a region before deregistering it.</li>
 *   <li>Connections: rdma_cm address and route resolution, then connect, each step under the caller's deadline
 *   (DiSNI's endpoint API can wait without bound on a route error; here every wait is a timed poll of the event
 *   channel, and the half-made endpoint is torn down on expiry).</li>
 *   <li>Completions: one queue for every queue pair, drained by {@link RdmaCompletionPoller}'s thread.</li>
 *   <li>Safety: a queue pair allows no remote access until its peer has proved the cluster secret (connectors'
 *   never do; {@link QueuePairAccess}); message buffers are registered for local access only; a timed-out
 *   one-sided operation tears its connection down and waits for the flush before its caller gets the buffer back;
 *   RNR retries are finite ({@link RdmaContext#RNR_RETRY_PROP_NAME}); what the connections pin is fixed per
 *   connection and bounded by {@link RdmaContext#connectionsPinnedBytes()}, which the probe and the doctor check
 *   against the locked-memory limit.</li>
 *   <li>Connection management: one thread polls the listeners' and connections' event channels for new
 *   connections and disconnects.</li>
 * </ul>
 * Use {@link RdmaProbe} first: creating this fabric on a machine without libdisni or a device fails with a
 * {@link FabricException}.
 * <p>
 * Thread-safe.
 */
public final class RdmaFabric implements Fabric
{
    private static final int CM_ROUND_PAUSE_MS = 1;
    /**
     * The longest pause between idle rounds of the connection manager: its pause doubles while no channel has an
     * event (a thread that polls every channel each millisecond for ever takes a tenth of an emulated CPU, as in
     * CI's guest, from the monitors' work) and falls back to {@value #CM_ROUND_PAUSE_MS} ms at the next event. A
     * connect request or a disconnect waits at most this long to be seen; operations never wait on it.
     */
    static final int CM_MAX_PAUSE_MS = 32;
    private static final int LISTEN_BACKLOG = 128;
    private static final int REGION_ACCESS = IbvMr.IBV_ACCESS_LOCAL_WRITE | IbvMr.IBV_ACCESS_REMOTE_WRITE
        | IbvMr.IBV_ACCESS_REMOTE_READ;
    /** Message buffers are only ever sent from and received into: no peer may address them. */
    private static final int MESSAGE_ACCESS = IbvMr.IBV_ACCESS_LOCAL_WRITE;

    private static final int EV_ADDR_RESOLVED = RdmaCmEvent.EventType.RDMA_CM_EVENT_ADDR_RESOLVED.ordinal();
    private static final int EV_ROUTE_RESOLVED = RdmaCmEvent.EventType.RDMA_CM_EVENT_ROUTE_RESOLVED.ordinal();
    private static final int EV_CONNECT_REQUEST = RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_REQUEST.ordinal();
    private static final int EV_ESTABLISHED = RdmaCmEvent.EventType.RDMA_CM_EVENT_ESTABLISHED.ordinal();
    private static final int EV_DISCONNECTED = RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED.ordinal();
    private static final int EV_DEVICE_REMOVAL = RdmaCmEvent.EventType.RDMA_CM_EVENT_DEVICE_REMOVAL.ordinal();

    /** A listening endpoint and the handler its connections serve. */
    private static final class Listener
    {
        final RdmaEventChannel channel;
        final RdmaCmId id;
        final RequestHandler handler;
        final String address;
        final Map<RdmaCmId, RdmaConnection> pending = new IdentityHashMap<>();

        Listener(final RdmaEventChannel channel, final RdmaCmId id, final RequestHandler handler, final String address)
        {
            this.channel = channel;
            this.id = id;
            this.handler = handler;
            this.address = address;
        }
    }

    private final RdmaContext ctx;
    private final FabricCounters counters;
    private final ClusterAuthenticator auth;
    private final RdmaHandshake handshake;
    private final String localAddress;
    private final RdmaEventChannel deviceChannel;
    private final RdmaCmId deviceId;
    private final int deviceFd;
    private final IbvPd pd;
    private final RdmaCompletionPoller poller;

    private final Object regionLock = new Object();
    private final Map<Integer, RdmaRegion> regions = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<RdmaConnection> connections;
    private final int[] generations;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final List<RdmaConnection> connectorChannels = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<RdmaConnection> toDestroy = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<RdmaEventChannel> retiredChannels = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedDeque<String> recentErrors = new ConcurrentLinkedDeque<>();
    /** Listener handshakes ever started: only grows (a test waits on it; the live threads come and go). */
    private final AtomicInteger handshakesStarted = new AtomicInteger();
    private final AtomicLong messageBytesPinned = new AtomicLong();

    private final Thread cmThread;
    private volatile boolean running = true;
    private volatile boolean closed;

    /**
     * Open the device that serves the local address, and start the completion poller and the connection manager.
     *
     * @throws FabricException if DiSNI, the device or the address is unusable, naming the fix.
     */
    public RdmaFabric(final RdmaContext context)
    {
        this.ctx = context.conclude();
        this.counters = new FabricCounters(ctx.fabricContext().countersManager());
        this.auth = new ClusterAuthenticator("rdma", ctx.fabricContext(), counters);
        this.handshake = new RdmaHandshake(auth, ctx.fabricContext().operationTimeoutNs());
        final String address = ctx.localAddress().isEmpty() ? RdmaInterfaces.detectLocalAddress(Path.of("/sys/class/infiniband"))
            : ctx.localAddress();
        if (address == null)
        {
            throw new FabricException("rdma: no IPv4 address found on the network interface of an ACTIVE RDMA "
                + "port: set " + RdmaContext.LOCAL_ADDRESS_PROP_NAME + " to the IP of your RDMA interface "
                + "(ib0, the RoCE netdev, or the Soft-RoCE netdev)");
        }
        this.localAddress = address;
        this.connections = new AtomicReferenceArray<>(ctx.maxConnections());
        this.generations = new int[ctx.maxConnections()];

        RdmaEventChannel channel = null;
        RdmaCmId id = null;
        try
        {
            channel = RdmaEventChannel.createEventChannel();
            id = channel.createId(RdmaCm.RDMA_PS_TCP);
            id.bindAddr(new InetSocketAddress(InetAddress.getByName(address), 0));
            final IbvContext verbs = id.getVerbs();
            if (verbs == null)
            {
                throw new FabricException("rdma: address " + address + " is not served by an RDMA device: set "
                    + RdmaContext.LOCAL_ADDRESS_PROP_NAME + " to the IP of an RDMA interface (see 'rdma link show')");
            }
            this.deviceChannel = channel;
            this.deviceId = id;
            this.deviceFd = verbs.getCmd_fd();
            this.pd = verbs.allocPd();
            this.poller = new RdmaCompletionPoller(this, verbs,
                ctx.maxConnections() * (ctx.sendSlots() + 2 + ctx.recvDepth()), ctx.fabricContext().busyPoll());
        }
        catch (final IOException | RuntimeException | LinkageError ex)
        {
            destroyQuietly(id, channel);
            if (ex instanceof FabricException)
            {
                throw (FabricException)ex;
            }
            throw new FabricException("rdma: cannot open the RDMA device for " + address + " (" + ex + "); run "
                + "native-config/doctor to see what is missing", ex);
        }

        cmThread = new Thread(this::cmLoop, "rdma-cm");
        cmThread.setDaemon(true);
        poller.start();
        cmThread.start();
    }

    @Override
    public String name()
    {
        return "rdma";
    }

    /** The rdma settings (queue depths, message sizes) beside the fabric ones. */
    public RdmaContext rdmaContext()
    {
        return ctx;
    }

    @Override
    public FabricCounters counters()
    {
        return counters;
    }

    @Override
    public FabricContext context()
    {
        return ctx.fabricContext();
    }

    /** The IP address of the RDMA interface this fabric uses. */
    public String localAddress()
    {
        return localAddress;
    }

    /** The most recent faults seen off the caller's path (teardown, handler exceptions), newest last. */
    public List<String> recentErrors()
    {
        return new ArrayList<>(recentErrors);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Memory
    // ---------------------------------------------------------------------------------------------------------

    @Override
    public MemoryRegion allocate(final int lengthBytes)
    {
        checkOpen();
        if (lengthBytes <= 0)
        {
            throw new IllegalArgumentException("lengthBytes must be positive: " + lengthBytes);
        }
        final ByteBuffer buffer = ByteBuffer.allocateDirect(lengthBytes);
        final RdmaRegion region = new RdmaRegion(this, buffer, registerLocal(buffer, REGION_ACCESS));
        synchronized (regionLock)
        {
            regions.put(region.rkey(), region);
            final List<RdmaRegion> one = List.of(region);
            for (int i = 0; i < connections.length(); i++)
            {
                final RdmaConnection connection = connections.get(i);
                if (connection != null && connection.isAccepted() && connection.isConnected())
                {
                    final int status = connection.sendRegions(one, ctx.fabricContext().operationTimeoutNs());
                    if (status != Status.OK)
                    {
                        recordError("announcing region rkey " + region.rkey() + " to " + connection.peerAddress()
                            + " failed: " + Status.describe(status), null);
                    }
                }
            }
        }
        return region;
    }

    @Override
    public void deregister(final MemoryRegion region)
    {
        if (!(region instanceof RdmaRegion) || ((RdmaRegion)region).owner() != this)
        {
            throw new IllegalArgumentException("region " + region + " was not allocated by this rdma fabric");
        }
        final RdmaRegion rdmaRegion = (RdmaRegion)region;
        final List<RdmaConnection> waitFor = new ArrayList<>();
        final List<Long> sequences = new ArrayList<>();
        synchronized (regionLock)
        {
            if (regions.remove(rdmaRegion.rkey()) == null)
            {
                return;
            }
            rdmaRegion.markDeregistered();
            for (int i = 0; i < connections.length(); i++)
            {
                final RdmaConnection connection = connections.get(i);
                if (connection != null && connection.isAccepted() && connection.isConnected())
                {
                    final long sequence = connection.sendRegionRemove(rdmaRegion.rkey(), ctx.deregisterTimeoutNs());
                    if (sequence > 0)
                    {
                        waitFor.add(connection);
                        sequences.add(sequence);
                    }
                }
            }
        }
        final long deadlineNs = System.nanoTime() + ctx.deregisterTimeoutNs();
        for (int i = 0; i < waitFor.size(); i++)
        {
            if (!waitFor.get(i).awaitRemoveAck(sequences.get(i), deadlineNs))
            {
                recordError("peer " + waitFor.get(i).peerAddress() + " did not acknowledge the removal of rkey "
                    + rdmaRegion.rkey() + " in time; its later access fails at the NIC", null);
            }
        }
        deregisterLocal(rdmaRegion.mr());
    }

    /** Register a connection's message buffers (local access only). */
    IbvMr registerMessageBuffers(final ByteBuffer buffer)
    {
        final IbvMr mr = registerLocal(buffer, MESSAGE_ACCESS);
        messageBytesPinned.addAndGet(mr.getLength());
        return mr;
    }

    /** Deregister a connection's message buffers. */
    void deregisterMessageBuffers(final IbvMr mr)
    {
        messageBytesPinned.addAndGet(-mr.getLength());
        deregisterLocal(mr);
    }

    /**
     * Bytes of message buffers registered (pinned) right now, as the NIC was given them: what the locked-memory
     * bound ({@link RdmaContext#connectionsPinnedBytes()}) must cover.
     */
    public long messageBytesPinned()
    {
        return messageBytesPinned.get();
    }

    private IbvMr registerLocal(final ByteBuffer buffer, final int access)
    {
        try
        {
            final IbvMr mr = pd.regMr(buffer, access).execute().free().getMr();
            if (mr == null)
            {
                throw new IOException("ibv_reg_mr returned nothing");
            }
            return mr;
        }
        catch (final IOException ex)
        {
            throw new FabricException("rdma: registering " + buffer.capacity() + " bytes failed (" + ex.getMessage()
                + "): the locked-memory limit is the usual cause; run 'ulimit -l unlimited' or install "
                + "native-config/memlock.conf", ex);
        }
    }

    void deregisterLocal(final IbvMr mr)
    {
        try
        {
            mr.deregMr().execute().free();
        }
        catch (final IOException | RuntimeException ex)
        {
            recordError("deregistering rkey " + mr.getRkey(), ex);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Endpoints
    // ---------------------------------------------------------------------------------------------------------

    @Override
    public String listen(final String address, final RequestHandler handler)
    {
        checkOpen();
        if (handler == null)
        {
            throw new IllegalArgumentException("handler is null");
        }
        final InetSocketAddress bind = parse(address, true);
        RdmaEventChannel channel = null;
        RdmaCmId id = null;
        try
        {
            channel = RdmaEventChannel.createEventChannel();
            id = channel.createId(RdmaCm.RDMA_PS_TCP);
            id.bindAddr(bind);
            final IbvContext verbs = id.getVerbs();
            if (verbs == null || verbs.getCmd_fd() != deviceFd)
            {
                throw new FabricException("rdma: cannot listen at " + address + ": it is not on the RDMA device of "
                    + localAddress + "; listen on " + localAddress + ":PORT (or set "
                    + RdmaContext.LOCAL_ADDRESS_PROP_NAME + ")");
            }
            id.listen(LISTEN_BACKLOG);
            final SocketAddress source = id.getSource();
            final int port = source instanceof InetSocketAddress ? ((InetSocketAddress)source).getPort()
                : bind.getPort();
            final String bound = bind.getAddress().getHostAddress() + ":" + port;
            listeners.add(new Listener(channel, id, handler, bound));
            auth.onListen();
            return bound;
        }
        catch (final IOException | RuntimeException ex)
        {
            destroyQuietly(id, channel);
            if (ex instanceof FabricException)
            {
                throw (FabricException)ex;
            }
            throw new FabricException("rdma: cannot listen at " + address + " (" + ex.getMessage() + "): is the "
                + "port in use, or the address not on an RDMA interface?", ex);
        }
    }

    @Override
    public Connection connect(final String address, final long timeoutNs)
    {
        checkOpen();
        final long deadlineNs = System.nanoTime() + timeoutNs;
        final RdmaConnection connection = establish(address, deadlineNs, timeoutNs);
        String step = "authenticating";
        try
        {
            handshake.asConnector(connection, address, deadlineNs, timeoutNs);
            connection.markAuthenticated();

            step = "receiving the peer's region table";
            while (!connection.isTableComplete())
            {
                if (connection.isClosed() || System.nanoTime() - deadlineNs > 0)
                {
                    throw timeout(address, step, timeoutNs);
                }
                LockSupport.parkNanos(10_000);
            }
            return connection;
        }
        catch (final RuntimeException ex)
        {
            closeConnection(connection);
            if (ex instanceof FabricException)
            {
                throw (FabricException)ex;
            }
            throw new FabricException("rdma: connect to " + address + " failed while " + step + " (" + ex.getMessage()
                + ")", ex);
        }
    }

    /**
     * The connection up to ESTABLISHED, not yet authenticated: its queue pair allows no remote access (a
     * connector's memory is never read by its peer). Package-private so a test can play a peer that skips the
     * handshake.
     */
    RdmaConnection establish(final String address, final long deadlineNs, final long timeoutNs)
    {
        final InetSocketAddress peer = parse(address, false);
        RdmaEventChannel channel = null;
        RdmaCmId id = null;
        RdmaConnection connection = null;
        String step = "resolving the address";
        try
        {
            channel = RdmaEventChannel.createEventChannel();
            id = channel.createId(RdmaCm.RDMA_PS_TCP);
            id.resolveAddr(null, peer, remainingMs(deadlineNs));
            expect(channel, EV_ADDR_RESOLVED, deadlineNs, address, step);

            step = "resolving the route";
            id.resolveRoute(remainingMs(deadlineNs));
            expect(channel, EV_ROUTE_RESOLVED, deadlineNs, address, step);

            step = "creating the queue pair";
            final IbvContext verbs = id.getVerbs();
            if (verbs == null || verbs.getCmd_fd() != deviceFd)
            {
                throw new FabricException("rdma: peer " + address + " is reached through another RDMA device than "
                    + "the one of " + localAddress + ": set " + RdmaContext.LOCAL_ADDRESS_PROP_NAME
                    + " to the address on the peer's network");
            }
            connection = newConnection(false, address, channel, id, null);
            connection.postAllReceives();

            step = "connecting";
            id.connect(connParam());
            expect(channel, EV_ESTABLISHED, deadlineNs, address, step);
            connection.setRemoteAccess(QueuePairAccess.NONE);
            connection.onEstablished();
            connectorChannels.add(connection);
            return connection;
        }
        catch (final IOException | RuntimeException ex)
        {
            if (connection != null)
            {
                connection.markBroken();
                scheduleDestroy(connection);
            }
            else
            {
                destroyQuietly(id, channel);
            }
            if (ex instanceof FabricException)
            {
                throw (FabricException)ex;
            }
            throw new FabricException("rdma: connect to " + address + " failed while " + step + " (" + ex.getMessage()
                + ")", ex);
        }
    }

    /**
     * How many handshakes this fabric's listeners have started, ever: each one after the accepted queue pair lost
     * its remote access. Package-private for tests that play a peer skipping the handshake.
     */
    int handshakesStarted()
    {
        return handshakesStarted.get();
    }

    /**
     * The listening side of the handshake, in its own short-lived thread ({@link RdmaHandshake#asListener}). Only
     * after the connector's proof verified does its queue pair get remote access and the connection start its
     * service and receive the region table, so an unauthenticated peer can neither address our memory nor learn an
     * rkey, and no request of it reaches a handler (see {@link RdmaConnection}: it drops them).
     */
    private void authenticateListener(final RdmaConnection connection)
    {
        final String peer = connection.peerAddress();
        final String failure = handshake.asListener(connection, ctx.fabricContext().connectTimeoutNs());
        if (failure != null || connection.isClosed())
        {
            if (running)
            {
                auth.onFailure(RdmaHandshake.peerHost(peer), failure != null ? failure :
                    "authentication failed: " + peer + " broke the connection during the handshake");
            }
            // A REFUSED just posted may not reach the peer before the disconnect; it then reports a closed handshake.
            connection.markBroken();
            scheduleDestroy(connection);
            return;
        }
        synchronized (regionLock)
        {
            // Under the region lock: a region allocated concurrently is either in this table or announced after it.
            try
            {
                connection.setRemoteAccess(QueuePairAccess.REMOTE);
            }
            catch (final IOException ex)
            {
                recordError("granting remote access to " + peer + " failed; dropped it", ex);
                connection.markBroken();
                scheduleDestroy(connection);
                return;
            }
            connection.markAuthenticated();
            connection.startService();
            counters.increment(FabricCounters.CONNECTIONS_ACCEPTED);
            final int status = connection.sendRegionTable(new ArrayList<>(regions.values()),
                ctx.fabricContext().operationTimeoutNs());
            if (status != Status.OK)
            {
                recordError("sending the region table to " + connection.peerAddress() + " failed: "
                    + Status.describe(status), null);
            }
        }
    }

    private RdmaConnection newConnection(final boolean accepted, final String peerAddress,
        final RdmaEventChannel ownChannel, final RdmaCmId id, final RequestHandler handler) throws IOException
    {
        synchronized (connections)
        {
            for (int i = 0; i < connections.length(); i++)
            {
                if (connections.get(i) == null)
                {
                    final IbvQPInitAttr attr = new IbvQPInitAttr();
                    attr.cap().setMax_send_wr(ctx.sendSlots() + 2);
                    attr.cap().setMax_recv_wr(ctx.recvDepth());
                    attr.cap().setMax_send_sge(1);
                    attr.cap().setMax_recv_sge(1);
                    attr.cap().setMax_inline_data(ctx.maxInlineBytes());
                    attr.setQp_type(IbvQP.IBV_QPT_RC);
                    attr.setSend_cq(poller.cq());
                    attr.setRecv_cq(poller.cq());
                    final IbvQP qp = id.createQP(pd, attr);
                    if (qp == null)
                    {
                        throw new IOException("rdma_create_qp failed (device limits? lower "
                            + RdmaContext.SEND_SLOTS_PROP_NAME + ", " + RdmaContext.RECV_DEPTH_PROP_NAME + " or "
                            + RdmaContext.MAX_INLINE_PROP_NAME + ")");
                    }
                    final int generation = (generations[i] + 1) & 0xFFFF;
                    generations[i] = generation;
                    final RdmaConnection connection;
                    try
                    {
                        connection = new RdmaConnection(this, i, generation, accepted, peerAddress, ownChannel, id,
                            qp, handler);
                    }
                    catch (final IOException | RuntimeException ex)
                    {
                        id.destroyQP();
                        throw ex;
                    }
                    connections.set(i, connection);
                    return connection;
                }
            }
        }
        throw new FabricException("rdma: this fabric already holds " + ctx.maxConnections() + " connections: "
            + "close some, or raise " + RdmaContext.MAX_CONNECTIONS_PROP_NAME);
    }

    private RdmaConnParam connParam() throws IOException
    {
        final RdmaConnParam param = new RdmaConnParam();
        param.setRetry_count((byte)ctx.retryCount());
        param.setRnr_retry_count((byte)ctx.rnrRetryCount());
        return param;
    }

    /** Wait for one event on a connector's own channel, never past the deadline. */
    private static void expect(final RdmaEventChannel channel, final int expected, final long deadlineNs,
        final String address, final String step) throws IOException
    {
        while (true)
        {
            final long remainingNs = deadlineNs - System.nanoTime();
            if (remainingNs <= 0)
            {
                throw timeout(address, step, -1);
            }
            final RdmaCmEvent event = channel.getCmEvent((int)Math.max(1, Math.min(100, remainingNs / 1_000_000)));
            if (event == null)
            {
                continue;
            }
            final int type = event.getEvent();
            event.ackEvent();
            if (type == expected)
            {
                return;
            }
            throw new FabricException("rdma: connect to " + address + " failed while " + step + ": got "
                + eventName(type) + " (rejected, unreachable, or no route: is a fabric listening there, and is "
                + "the address on an RDMA interface? try 'rping -c -a HOST' and 'ibv_devinfo')");
        }
    }

    private static FabricException timeout(final String address, final String step, final long timeoutNs)
    {
        return new FabricException("rdma: connect to " + address + " timed out while " + step
            + (timeoutNs > 0 ? " (" + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms)" : "")
            + ": check that the peer listens there and is reachable over its RDMA interface (ping it, "
            + "'rping -c -a HOST')");
    }

    private static String eventName(final int type)
    {
        final RdmaCmEvent.EventType[] values = RdmaCmEvent.EventType.values();
        return type >= 0 && type < values.length ? values[type].name() : "event " + type;
    }

    private static int remainingMs(final long deadlineNs)
    {
        return (int)Math.max(1, Math.min(Integer.MAX_VALUE, (deadlineNs - System.nanoTime()) / 1_000_000));
    }

    private InetSocketAddress parse(final String address, final boolean listening)
    {
        if (address == null)
        {
            throw new IllegalArgumentException("address is null: use HOST:PORT");
        }
        final int colon = address.lastIndexOf(':');
        final String host = colon < 0 ? address : address.substring(0, colon);
        final String portText = colon < 0 ? (listening ? "0" : "") : address.substring(colon + 1);
        final int port;
        try
        {
            port = Integer.parseInt(portText);
        }
        catch (final NumberFormatException ex)
        {
            throw new FabricException("rdma address '" + address + "' has no valid port: use HOST:PORT");
        }
        if (port < 0 || port > 65535 || (!listening && port == 0))
        {
            throw new FabricException("rdma address '" + address + "' has port " + port + ": use 1..65535"
                + (listening ? " or 0 to pick one" : ""));
        }
        try
        {
            final String h = host.isEmpty() || "0.0.0.0".equals(host) ? localAddress : host;
            return new InetSocketAddress(InetAddress.getByName(h), port);
        }
        catch (final IOException ex)
        {
            throw new FabricException("rdma address '" + address + "': unknown host " + host, ex);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Completions (called by the poller thread, or by a waiter polling for its own; one thread at a time)
    // ---------------------------------------------------------------------------------------------------------

    /** Hand one completion to its connection; one flushed from a connection already torn down is dropped. */
    void dispatch(final long wrId, final int wcStatus, final int byteLength)
    {
        final int index = RdmaWorkRequestId.connectionIndex(wrId);
        if (index >= connections.length())
        {
            return;
        }
        final RdmaConnection connection = connections.get(index);
        if (connection == null || connection.generation() != RdmaWorkRequestId.generation(wrId))
        {
            return;
        }
        connection.onCompletion(RdmaWorkRequestId.kind(wrId), RdmaWorkRequestId.index(wrId), wcStatus, byteLength);
    }

    /**
     * Drives a waiter's completion: it polls the completion queue itself; without busy-polling it may park once it
     * has polled and yielded a while (the poller thread then completes and unparks it).
     */
    private final Completion.Progressor callerPolling = new Completion.Progressor()
    {
        @Override
        public int progress()
        {
            return poller.pollFromCaller();
        }

        @Override
        public boolean mayPark()
        {
            return !ctx.fabricContext().busyPoll();
        }
    };

    Completion.Progressor callerPolling()
    {
        return callerPolling;
    }

    /**
     * A caller starts waiting for its own completion or reply: when busy-polling it is then the one thread spinning
     * on the completion queue ({@link RdmaCompletionPoller#callerWaits}). Returns whether {@link #callerDone} must
     * follow.
     */
    boolean callerWaits()
    {
        if (!ctx.fabricContext().busyPoll())
        {
            return false;
        }
        poller.callerWaits();
        return true;
    }

    /** The wait begun by {@link #callerWaits} (when it returned true) ended. */
    void callerDone()
    {
        poller.callerDone();
    }

    /** The completion poller's channel counts (see {@link RdmaCompletionPoller#channelCounts()}). */
    long[] pollerChannelCounts()
    {
        return poller.channelCounts();
    }

    /** Between completion batches: destroy closed connections that no thread posts on any more. */
    void destroyClosedConnections()
    {
        if (!toDestroy.isEmpty())
        {
            destroyReady(false);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Connection management
    // ---------------------------------------------------------------------------------------------------------

    private void cmLoop()
    {
        int pauseMs = CM_ROUND_PAUSE_MS;
        while (running)
        {
            destroyRetiredChannels();
            boolean any = false;
            for (final Listener listener : listeners)
            {
                any |= pollListener(listener);
            }
            for (final RdmaConnection connection : connectorChannels)
            {
                any |= pollConnector(connection);
            }
            if (any)
            {
                pauseMs = CM_ROUND_PAUSE_MS;
            }
            else
            {
                LockSupport.parkNanos(pauseMs * 1_000_000L);
                pauseMs = Math.min(CM_MAX_PAUSE_MS, pauseMs * 2);
            }
        }
    }

    private boolean pollListener(final Listener listener)
    {
        final RdmaCmEvent event;
        try
        {
            event = listener.channel.getCmEvent(0);
        }
        catch (final IOException ex)
        {
            return false;
        }
        if (event == null)
        {
            return false;
        }
        final int type = event.getEvent();
        final RdmaCmId id = event.getConnIdPriv();
        try
        {
            event.ackEvent();
        }
        catch (final IOException ex)
        {
            recordError("acknowledging a cm event", ex);
        }
        if (type == EV_CONNECT_REQUEST)
        {
            accept(listener, id);
        }
        else if (type == EV_ESTABLISHED)
        {
            final RdmaConnection connection = listener.pending.remove(id);
            if (connection != null)
            {
                connection.onEstablished();
                // The handshake waits for the peer: never in this cm thread, which serves every connection.
                final Thread handshake = new Thread(
                    () -> authenticateListener(connection), "rdma-auth-" + connection.peerAddress());
                handshake.setDaemon(true);
                handshake.start();
                handshakesStarted.incrementAndGet();
            }
        }
        else if (type == EV_DISCONNECTED || type == EV_DEVICE_REMOVAL)
        {
            final RdmaConnection pending = listener.pending.remove(id);
            final RdmaConnection connection = pending != null ? pending : find(id);
            if (connection != null)
            {
                connection.markBroken();
                scheduleDestroy(connection);
            }
        }
        return true;
    }

    private void accept(final Listener listener, final RdmaCmId id)
    {
        RdmaConnection connection = null;
        try
        {
            final IbvContext verbs = id.getVerbs();
            if (verbs == null || verbs.getCmd_fd() != deviceFd)
            {
                throw new IOException("request arrived on another RDMA device than " + localAddress);
            }
            final SocketAddress peer = id.getDestination();
            connection = newConnection(true, String.valueOf(peer), null, id, listener.handler);
            connection.postAllReceives();
            listener.pending.put(id, connection);
            id.accept(connParam());
            // rdma_accept brought the queue pair to RTS with remote READ and WRITE allowed: take them away before
            // the peer can use them (it needs our REP first); they come back once it has proved the secret.
            connection.setRemoteAccess(QueuePairAccess.NONE);
        }
        catch (final IOException | RuntimeException ex)
        {
            recordError("refused a connection at " + listener.address, ex);
            if (connection != null)
            {
                listener.pending.remove(id);
                connection.markBroken();
                scheduleDestroy(connection);
            }
            else
            {
                destroyQuietly(id, null);
            }
        }
    }

    private boolean pollConnector(final RdmaConnection connection)
    {
        final RdmaCmEvent event;
        try
        {
            event = connection.ownChannel().getCmEvent(0);
        }
        catch (final IOException ex)
        {
            return false;
        }
        if (event == null)
        {
            return false;
        }
        final int type = event.getEvent();
        try
        {
            event.ackEvent();
        }
        catch (final IOException ex)
        {
            recordError("acknowledging a cm event", ex);
        }
        if (type == EV_DISCONNECTED || type == EV_DEVICE_REMOVAL)
        {
            connection.markBroken();
            scheduleDestroy(connection);
        }
        return true;
    }

    private RdmaConnection find(final RdmaCmId id)
    {
        for (int i = 0; i < connections.length(); i++)
        {
            final RdmaConnection connection = connections.get(i);
            if (connection != null && connection.cmId() == id)
            {
                return connection;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Teardown
    // ---------------------------------------------------------------------------------------------------------

    void closeConnection(final RdmaConnection connection)
    {
        connection.markBroken();
        scheduleDestroy(connection);
    }

    private void scheduleDestroy(final RdmaConnection connection)
    {
        connectorChannels.remove(connection);
        synchronized (toDestroy)
        {
            if (connection.markScheduledForDestroy())
            {
                try
                {
                    connection.cmId().disconnect();
                }
                catch (final IOException | RuntimeException ex)
                {
                    recordError("disconnecting from " + connection.peerAddress(), ex);
                }
                toDestroy.add(connection);
            }
        }
        if (!running)
        {
            destroyReady(true);
        }
    }

    /** Destroy closed connections that no thread posts on any more (poller thread, or any thread after stop). */
    private void destroyReady(final boolean force)
    {
        for (final RdmaConnection connection : toDestroy)
        {
            final Thread service = connection.serviceThread();
            if (!force && (connection.hasActivePosters() || (service != null && service.isAlive())))
            {
                continue;
            }
            if (toDestroy.remove(connection))
            {
                if (connections.get(connection.index()) == connection)
                {
                    connections.set(connection.index(), null);
                }
                if (force)
                {
                    // Give a thread that is inside a post a moment to leave before the queue pair goes.
                    final long deadlineNs = System.nanoTime() + 100_000_000L;
                    while (connection.hasActivePosters() && System.nanoTime() - deadlineNs < 0)
                    {
                        Thread.yield();
                    }
                }
                // The queue pair goes first: once it is destroyed the NIC touches none of the waiters' buffers, and
                // only then may they have them back (a fenced READ waits for exactly this).
                connection.destroy();
                connection.failPendingCalls();
                if (connection.ownChannel() != null)
                {
                    retiredChannels.add(connection.ownChannel());
                }
                counters.increment(FabricCounters.CONNECTIONS_CLOSED);
            }
        }
    }

    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        for (int i = 0; i < connections.length(); i++)
        {
            final RdmaConnection connection = connections.get(i);
            if (connection != null)
            {
                connection.markBroken();
                scheduleDestroy(connection);
            }
        }
        running = false;
        poller.stop(5_000);
        join(cmThread, 5_000);
        for (int i = 0; i < connections.length(); i++)
        {
            final RdmaConnection connection = connections.get(i);
            if (connection != null && connection.serviceThread() != null)
            {
                // A handler blocked in user code cannot be stopped; its reply is refused once the connection closed.
                join(connection.serviceThread(), 200);
            }
        }
        destroyReady(true);
        destroyRetiredChannels();
        for (final Listener listener : listeners)
        {
            listener.pending.clear(); // they are in the connection table, destroyed above
            destroyQuietly(listener.id, listener.channel);
        }
        listeners.clear();
        for (final RdmaRegion region : regions.values())
        {
            region.markDeregistered();
            deregisterLocal(region.mr());
        }
        regions.clear();
        try
        {
            poller.close();
            pd.deallocPd();
        }
        catch (final Exception ex)
        {
            recordError("releasing the completion queue and protection domain", ex);
        }
        destroyQuietly(deviceId, deviceChannel);
    }

    /** Destroy connectors' event channels; only the connection-management thread (or close, after it) polls them. */
    private void destroyRetiredChannels()
    {
        RdmaEventChannel channel;
        while ((channel = retiredChannels.poll()) != null)
        {
            destroyQuietly(null, channel);
        }
    }

    private static void join(final Thread thread, final long timeoutMs)
    {
        if (thread == Thread.currentThread())
        {
            return;
        }
        try
        {
            thread.join(timeoutMs);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void destroyQuietly(final RdmaCmId id, final RdmaEventChannel channel)
    {
        try
        {
            if (id != null)
            {
                id.destroyId();
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            recordError("destroying a cm id", ex);
        }
        try
        {
            if (channel != null)
            {
                channel.destroyEventChannel();
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            recordError("destroying an event channel", ex);
        }
    }

    void recordError(final String what, final Throwable cause)
    {
        recentErrors.addLast(what + (cause == null ? "" : ": " + cause));
        while (recentErrors.size() > 100)
        {
            recentErrors.pollFirst();
        }
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("this rdma fabric is closed");
        }
    }
}
