package dev.splitkernel.verbs;

/**
 * A network fabric with verbs semantics: memory registration, connections for one-sided and two-sided
 * operations, and a listener that serves requests and one-sided access to this fabric's registered regions.
 * Create one with {@link Fabrics#create(FabricContext)}.
 * <p>
 * Thread-safe.
 */
public interface Fabric extends AutoCloseable
{
    /** "local", "tcp" or "rdma". */
    String name();

    /** Allocate and register {@code lengthBytes} of direct memory, zeroed. */
    MemoryRegion allocate(int lengthBytes);

    /** Withdraw a region: later one-sided access to it by peers fails with {@link Status#BAD_RKEY}. */
    void deregister(MemoryRegion region);

    /**
     * Start serving at {@code address} (tcp: "host:port", port 0 picks one; local: any unique name).
     * Requests go to {@code handler}; one-sided operations are served by the fabric itself.
     *
     * @return the address peers connect to (with the chosen port).
     * @throws FabricException if the address cannot be bound.
     */
    String listen(String address, RequestHandler handler);

    /**
     * Connect to a peer that listens at {@code address}.
     *
     * @throws FabricException if no connection is made within {@code timeoutNs}, naming the address and the cause.
     */
    Connection connect(String address, long timeoutNs);

    /**
     * Connect within this fabric's {@link FabricContext#connectTimeoutNs()}: what monitors use, so that one setting
     * raises every connect's deadline on a slow network (or an emulated CPU).
     */
    default Connection connect(final String address)
    {
        return connect(address, context().connectTimeoutNs());
    }

    /** The settings this fabric was made with. */
    FabricContext context();

    /** This fabric's statistics: operations, bytes and errors by kind, for monitors to publish. */
    default FabricCounters counters()
    {
        return FabricCounters.UNCOUNTED;
    }

    /** Close every connection and listener and release registered memory. */
    @Override
    void close();
}
