package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvCQ;
import com.ibm.disni.verbs.IbvCompChannel;
import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.IbvQPInitAttr;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaConnParam;
import com.ibm.disni.verbs.RdmaEventChannel;
import com.ibm.disni.verbs.SVCPollCq;
import com.ibm.disni.verbs.SVCReqNotify;
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
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

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
 *   <li>Completions: one poller thread drains the completion queue, busy-spinning when
 *   {@code splitkernel.fabric.busyPoll} is true, otherwise sleeping on the completion channel when idle.</li>
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
    private static final int POLL_BATCH = 16;
    private static final int IDLE_POLLS_BEFORE_SLEEP = 1_000;
    private static final int CQ_EVENT_TIMEOUT_MS = 10;
    private static final int CM_ROUND_PAUSE_MS = 1;
    private static final int LISTEN_BACKLOG = 128;
    private static final int ACCESS = IbvMr.IBV_ACCESS_LOCAL_WRITE | IbvMr.IBV_ACCESS_REMOTE_WRITE
        | IbvMr.IBV_ACCESS_REMOTE_READ;

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
    private final String localAddress;
    private final RdmaEventChannel deviceChannel;
    private final RdmaCmId deviceId;
    private final int deviceFd;
    private final IbvPd pd;
    private final IbvCompChannel compChannel;
    private final IbvCQ cq;
    private final IbvWC[] wcs = new IbvWC[POLL_BATCH];
    private final SVCPollCq pollCall;
    private final SVCReqNotify notifyCall;

    private final Object regionLock = new Object();
    private final Map<Integer, RdmaRegion> regions = new ConcurrentHashMap<>();
    private final AtomicReferenceArray<RdmaConnection> connections;
    private final int[] generations;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final List<RdmaConnection> connectorChannels = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<RdmaConnection> toDestroy = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<RdmaEventChannel> retiredChannels = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedDeque<String> recentErrors = new ConcurrentLinkedDeque<>();

    private final Thread pollerThread;
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
        final String address = ctx.localAddress().isEmpty() ? detectLocalAddress(Path.of("/sys/class/infiniband"))
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
            this.compChannel = verbs.createCompChannel();
            final int cqEntries = ctx.maxConnections() * (ctx.sendSlots() + 2 + ctx.recvDepth());
            this.cq = verbs.createCQ(compChannel, cqEntries, 0);
            for (int i = 0; i < POLL_BATCH; i++)
            {
                wcs[i] = new IbvWC();
            }
            this.pollCall = cq.poll(wcs, POLL_BATCH);
            this.notifyCall = cq.reqNotification(false);
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

        pollerThread = new Thread(this::pollLoop, "rdma-poller");
        pollerThread.setDaemon(true);
        cmThread = new Thread(this::cmLoop, "rdma-cm");
        cmThread.setDaemon(true);
        pollerThread.start();
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
        final RdmaRegion region = new RdmaRegion(this, buffer, registerLocal(buffer));
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

    IbvMr registerLocal(final ByteBuffer buffer)
    {
        try
        {
            final IbvMr mr = pd.regMr(buffer, ACCESS).execute().free().getMr();
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
            connection.onEstablished();

            step = "authenticating";
            authenticateConnector(connection, address, deadlineNs, timeoutNs);
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
     * The connecting side of the handshake, as the first SEND/RECV messages after ESTABLISHED (receives were posted
     * before connect, so the listener's answer always finds a buffer).
     */
    private void authenticateConnector(
        final RdmaConnection connection, final String address, final long deadlineNs, final long timeoutNs)
    {
        try
        {
            final ClusterAuthenticator.Connector connector = auth.newConnector(address);
            sendAuth(connection, connector.hello(), address);
            final byte[] challenge = connection.awaitAuth(deadlineNs);
            if (challenge == null)
            {
                throw new FabricException("authentication failed: no handshake answer from " + address + " within "
                    + timeoutNs / 1_000_000 + " ms (or it disconnected)");
            }
            final byte[] proof;
            try
            {
                proof = connector.onChallenge(challenge);
            }
            catch (final FabricException ex)
            {
                connection.sendAuth(connector.refusal(), ctx.fabricContext().operationTimeoutNs());
                throw ex;
            }
            sendAuth(connection, proof, address);
            final byte[] result = connection.awaitAuth(deadlineNs);
            if (result == null)
            {
                throw new FabricException("authentication failed: no handshake result from " + address + " within "
                    + timeoutNs / 1_000_000 + " ms (or it disconnected: it may have refused us)");
            }
            connector.onResult(result);
        }
        catch (final FabricException ex)
        {
            auth.onFailure(address, ex.getMessage());
            throw ex;
        }
    }

    private void sendAuth(final RdmaConnection connection, final byte[] message, final String address)
    {
        final int status = connection.sendAuth(message, ctx.fabricContext().operationTimeoutNs());
        if (status != Status.OK)
        {
            throw new FabricException("authentication failed: cannot send the handshake to " + address + ": "
                + Status.describe(status));
        }
    }

    /**
     * The listening side of the handshake, in its own short-lived thread. Only after the connector's proof
     * verified does the connection start its service and receive the region table, so an unauthenticated peer
     * never learns an rkey and no request of it reaches a handler (see {@link RdmaConnection}: it drops them).
     */
    private void authenticateListener(final RdmaConnection connection)
    {
        final String peer = connection.peerAddress();
        final long timeoutNs = ctx.fabricContext().connectTimeoutNs();
        final long deadlineNs = System.nanoTime() + timeoutNs;
        final ClusterAuthenticator.Listener listener = auth.newListener(peer);
        String failure = null;
        final byte[] hello = connection.awaitAuth(deadlineNs);
        if (hello == null)
        {
            failure = "authentication failed: " + peer + " sent no complete handshake within " + timeoutNs / 1_000_000
                + " ms (or disconnected, or sent another message first); dropped it";
        }
        else
        {
            connection.sendAuth(listener.onHello(hello), ctx.fabricContext().operationTimeoutNs());
            if (listener.isRefused())
            {
                failure = listener.failure();
            }
            else
            {
                final byte[] proof = connection.awaitAuth(deadlineNs);
                if (proof == null)
                {
                    failure = "authentication failed: " + peer + " sent no handshake proof within "
                        + timeoutNs / 1_000_000 + " ms (or disconnected); dropped it";
                }
                else
                {
                    final byte[] result = listener.onProof(proof);
                    if (result != null)
                    {
                        connection.sendAuth(result, ctx.fabricContext().operationTimeoutNs());
                    }
                    failure = listener.isAccepted() ? null : listener.failure();
                }
            }
        }
        if (failure != null || connection.isClosed())
        {
            if (running)
            {
                auth.onFailure(peerHost(peer), failure != null ? failure :
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

    /** "/10.0.0.1:4711" to "10.0.0.1": refusals are reported once per host, not per ephemeral port. */
    private static String peerHost(final String peerAddress)
    {
        final int colon = peerAddress.lastIndexOf(':');
        final String host = colon > 0 ? peerAddress.substring(0, colon) : peerAddress;
        return host.startsWith("/") ? host.substring(1) : host;
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
                    attr.setSend_cq(cq);
                    attr.setRecv_cq(cq);
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
        param.setRnr_retry_count((byte)7);
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
    // The completion poller
    // ---------------------------------------------------------------------------------------------------------

    private void pollLoop()
    {
        final boolean busyPoll = ctx.fabricContext().busyPoll();
        int idlePolls = 0;
        while (running)
        {
            int polled;
            try
            {
                polled = pollCall.execute().getPolls();
            }
            catch (final IOException ex)
            {
                recordError("polling the completion queue", ex);
                polled = 0;
            }
            for (int i = 0; i < polled; i++)
            {
                dispatch(wcs[i]);
            }
            if (!toDestroy.isEmpty())
            {
                destroyReady(false);
            }
            if (polled > 0)
            {
                idlePolls = 0;
            }
            else if (busyPoll || ++idlePolls < IDLE_POLLS_BEFORE_SLEEP)
            {
                Thread.onSpinWait();
            }
            else
            {
                sleepOnCompletionChannel();
                idlePolls = 0;
            }
        }
    }

    private void dispatch(final IbvWC wc)
    {
        final long wrId = wc.getWr_id();
        final int index = RdmaConnection.wrConnectionIndex(wrId);
        if (index >= connections.length())
        {
            return;
        }
        final RdmaConnection connection = connections.get(index);
        if (connection == null || connection.generation() != RdmaConnection.wrGeneration(wrId))
        {
            return; // a completion flushed from a connection already torn down
        }
        connection.onCompletion(RdmaConnection.wrKind(wrId), RdmaConnection.wrIndex(wrId), wc.getStatus(),
            wc.getByte_len());
    }

    private void sleepOnCompletionChannel()
    {
        try
        {
            notifyCall.execute();
            // A completion may have arrived between the last poll and arming the notification: poll once more.
            final int polled = pollCall.execute().getPolls();
            for (int i = 0; i < polled; i++)
            {
                dispatch(wcs[i]);
            }
            if (polled == 0 && compChannel.getCqEvent(cq, CQ_EVENT_TIMEOUT_MS))
            {
                cq.ackEvents(1);
            }
        }
        catch (final IOException ex)
        {
            LockSupport.parkNanos(CQ_EVENT_TIMEOUT_MS * 1_000_000L);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Connection management
    // ---------------------------------------------------------------------------------------------------------

    private void cmLoop()
    {
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
            if (!any)
            {
                LockSupport.parkNanos(CM_ROUND_PAUSE_MS * 1_000_000L);
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
                connection.failPendingCalls();
                connection.destroy();
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
        join(pollerThread, 5_000);
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
        pollCall.free();
        notifyCall.free();
        try
        {
            cq.destroyCQ();
            compChannel.destroyCompChannel();
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

    // ---------------------------------------------------------------------------------------------------------
    // Finding the local RDMA interface
    // ---------------------------------------------------------------------------------------------------------

    /**
     * The first IPv4 address of a network interface that carries an ACTIVE RDMA port under {@code infinibandDir}
     * (RoCE and Soft-RoCE: {@code ports/N/gid_attrs/ndevs/0}; InfiniBand: {@code device/net/*}), or null.
     */
    public static String detectLocalAddress(final Path infinibandDir)
    {
        for (final String netdev : rdmaNetdevs(infinibandDir))
        {
            try
            {
                final NetworkInterface nif = NetworkInterface.getByName(netdev);
                if (nif == null)
                {
                    continue;
                }
                final Enumeration<InetAddress> addresses = nif.getInetAddresses();
                while (addresses.hasMoreElements())
                {
                    final InetAddress a = addresses.nextElement();
                    if (a instanceof Inet4Address)
                    {
                        return a.getHostAddress();
                    }
                }
            }
            catch (final SocketException ex)
            {
                // try the next interface
            }
        }
        return null;
    }

    /** Network interface names behind the ACTIVE ports under {@code infinibandDir}, in device order. */
    static List<String> rdmaNetdevs(final Path infinibandDir)
    {
        final List<String> netdevs = new ArrayList<>();
        for (final Path device : list(infinibandDir))
        {
            boolean active = false;
            for (final Path port : list(device.resolve("ports")))
            {
                final String state = read(port.resolve("state"));
                if (state == null || !state.endsWith("ACTIVE"))
                {
                    continue;
                }
                active = true;
                final String ndev = read(port.resolve("gid_attrs").resolve("ndevs").resolve("0"));
                if (ndev != null && !ndev.isEmpty() && !netdevs.contains(ndev))
                {
                    netdevs.add(ndev);
                }
            }
            if (!active)
            {
                continue;
            }
            for (final Path net : list(device.resolve("device").resolve("net")))
            {
                final String name = net.getFileName().toString();
                if (!netdevs.contains(name))
                {
                    netdevs.add(name);
                }
            }
        }
        return netdevs;
    }

    private static List<Path> list(final Path dir)
    {
        if (!Files.isDirectory(dir))
        {
            return Collections.emptyList();
        }
        try (Stream<Path> entries = Files.list(dir))
        {
            final List<Path> paths = new ArrayList<>();
            entries.sorted().forEach(paths::add);
            return paths;
        }
        catch (final IOException ex)
        {
            return Collections.emptyList();
        }
    }

    private static String read(final Path file)
    {
        try
        {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        catch (final IOException ex)
        {
            return null;
        }
    }
}
