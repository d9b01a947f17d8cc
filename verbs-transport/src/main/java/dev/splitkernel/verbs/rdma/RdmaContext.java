package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;

/**
 * Settings of the rdma fabric beyond the common {@link FabricContext}: defaults and property names in one place,
 * fluent setters, one {@link #conclude()} that names the setting at fault. Presets live in
 * {@code native-config/disni.properties}.
 * <p>
 * Memory: every connection registers {@code (sendSlots + 1 + recvDepth) * (maxMessageBytes + header)} bytes of
 * message buffers, so keep {@code maxMessageBytes} near the largest RPC you send (a 4 KB line plus headers), not
 * the common fabric's 1 MiB.
 * <p>
 * Not thread-safe: build it in one thread, then hand it to {@link RdmaFabric}.
 */
public final class RdmaContext
{
    /** IP address of the RDMA interface (IPoIB, RoCE or Soft-RoCE netdev); empty: the first ACTIVE device's. */
    public static final String LOCAL_ADDRESS_PROP_NAME = "splitkernel.rdma.localAddress";

    /** Largest payload of one request, reply or one-sided operation on rdma (capped by the common setting). */
    public static final String MAX_MESSAGE_PROP_NAME = "splitkernel.rdma.maxMessageBytes";
    public static final int MAX_MESSAGE_DEFAULT_BYTES = 64 * 1024;

    /** Operations in flight per connection (each owns a registered send buffer); capped by maxInFlight. */
    public static final String SEND_SLOTS_PROP_NAME = "splitkernel.rdma.sendSlots";
    public static final int SEND_SLOTS_DEFAULT = 64;

    /** Receives pre-posted per connection. */
    public static final String RECV_DEPTH_PROP_NAME = "splitkernel.rdma.recvDepth";
    public static final int RECV_DEPTH_DEFAULT = 64;

    /** Sends up to this size go inline in the work request (no DMA read of the buffer by the NIC). */
    public static final String MAX_INLINE_PROP_NAME = "splitkernel.rdma.maxInlineBytes";
    public static final int MAX_INLINE_DEFAULT_BYTES = 128;

    /** Connections one fabric holds at once (they share one completion queue sized for this many). */
    public static final String MAX_CONNECTIONS_PROP_NAME = "splitkernel.rdma.maxConnections";
    public static final int MAX_CONNECTIONS_DEFAULT = 32;

    /** How long deregister waits for connected peers to acknowledge that a region is gone. */
    public static final String DEREGISTER_TIMEOUT_PROP_NAME = "splitkernel.rdma.deregisterTimeoutNs";
    public static final long DEREGISTER_TIMEOUT_DEFAULT_NS = 1_000_000_000L;

    /** Transport retries (0..7) of the reliable connection; 7 RNR retries means retry without limit. */
    public static final String RETRY_COUNT_PROP_NAME = "splitkernel.rdma.retryCount";
    public static final int RETRY_COUNT_DEFAULT = 7;

    /**
     * RNR retries (0..6) when the peer has no receive posted; each waits the peer's RNR timer (up to 655 ms), so
     * the wait is bounded. 7, which the verbs read as "retry forever", is refused.
     */
    public static final String RNR_RETRY_PROP_NAME = "splitkernel.rdma.rnrRetryCount";
    public static final int RNR_RETRY_DEFAULT = 6;

    /**
     * How long a timed-out one-sided operation waits, after tearing its connection down, for the NIC to flush it
     * before its caller gets the local buffer back.
     */
    public static final String FENCE_TIMEOUT_PROP_NAME = "splitkernel.rdma.fenceTimeoutNs";
    public static final long FENCE_TIMEOUT_DEFAULT_NS = 1_000_000_000L;

    /**
     * Locked memory the probe and the doctor require (bytes). Registration pins memory: every connection's
     * message buffers ({@link #pinnedBytesPerConnection()}, times {@link #maxConnections()}) plus the regions the
     * monitors allocate. Default: that connection total plus {@link #REGION_MEMLOCK_DEFAULT_BYTES}; a value set
     * below the connection total is refused.
     */
    public static final String REQUIRED_MEMLOCK_PROP_NAME = "splitkernel.rdma.requiredMemlockBytes";
    public static final long REGION_MEMLOCK_DEFAULT_BYTES = 64L * 1024 * 1024;
    private static final long DERIVED = -1;

    private final FabricContext fabricContext;
    private String localAddress = System.getProperty(LOCAL_ADDRESS_PROP_NAME, "");
    private int maxMessageBytes = Integer.getInteger(MAX_MESSAGE_PROP_NAME, MAX_MESSAGE_DEFAULT_BYTES);
    private int sendSlots = Integer.getInteger(SEND_SLOTS_PROP_NAME, SEND_SLOTS_DEFAULT);
    private int recvDepth = Integer.getInteger(RECV_DEPTH_PROP_NAME, RECV_DEPTH_DEFAULT);
    private int maxInlineBytes = Integer.getInteger(MAX_INLINE_PROP_NAME, MAX_INLINE_DEFAULT_BYTES);
    private int maxConnections = Integer.getInteger(MAX_CONNECTIONS_PROP_NAME, MAX_CONNECTIONS_DEFAULT);
    private long deregisterTimeoutNs = Long.getLong(DEREGISTER_TIMEOUT_PROP_NAME, DEREGISTER_TIMEOUT_DEFAULT_NS);
    private int retryCount = Integer.getInteger(RETRY_COUNT_PROP_NAME, RETRY_COUNT_DEFAULT);
    private int rnrRetryCount = Integer.getInteger(RNR_RETRY_PROP_NAME, RNR_RETRY_DEFAULT);
    private long fenceTimeoutNs = Long.getLong(FENCE_TIMEOUT_PROP_NAME, FENCE_TIMEOUT_DEFAULT_NS);
    private long requiredMemlockBytes = Long.getLong(REQUIRED_MEMLOCK_PROP_NAME, DERIVED);
    private boolean concluded;

    public RdmaContext(final FabricContext fabricContext)
    {
        this.fabricContext = fabricContext;
    }

    /**
     * Validate every setting. Idempotent.
     *
     * @throws FabricException naming the setting (and its property) that is wrong.
     */
    public RdmaContext conclude()
    {
        if (concluded)
        {
            return this;
        }
        fabricContext.conclude();
        if (localAddress == null)
        {
            localAddress = "";
        }
        localAddress = localAddress.trim();
        if (maxMessageBytes < 64 || maxMessageBytes > 16 * 1024 * 1024)
        {
            throw new FabricException("rdma maxMessageBytes " + maxMessageBytes + " must be within 64..16 MiB ("
                + MAX_MESSAGE_PROP_NAME + ")");
        }
        maxMessageBytes = Math.min(maxMessageBytes, fabricContext.maxMessageBytes());
        if (sendSlots < 1 || sendSlots > 4096)
        {
            throw new FabricException("rdma sendSlots " + sendSlots + " must be within 1..4096 ("
                + SEND_SLOTS_PROP_NAME + ")");
        }
        sendSlots = Math.min(sendSlots, fabricContext.maxInFlight());
        if (recvDepth < 2 || recvDepth > 4096)
        {
            throw new FabricException("rdma recvDepth " + recvDepth + " must be within 2..4096 ("
                + RECV_DEPTH_PROP_NAME + ")");
        }
        if (maxInlineBytes < 0 || maxInlineBytes > 1024)
        {
            throw new FabricException("rdma maxInlineBytes " + maxInlineBytes + " must be within 0..1024 ("
                + MAX_INLINE_PROP_NAME + "); 0 turns inline sends off");
        }
        if (maxConnections < 1 || maxConnections > 4096)
        {
            throw new FabricException("rdma maxConnections " + maxConnections + " must be within 1..4096 ("
                + MAX_CONNECTIONS_PROP_NAME + ")");
        }
        if ((long)maxConnections * (sendSlots + 2 + recvDepth) > 4_000_000L)
        {
            throw new FabricException("rdma completion queue would need " + (long)maxConnections * (sendSlots + 2
                + recvDepth) + " entries: lower " + MAX_CONNECTIONS_PROP_NAME + ", " + SEND_SLOTS_PROP_NAME + " or "
                + RECV_DEPTH_PROP_NAME);
        }
        if (deregisterTimeoutNs <= 0)
        {
            throw new FabricException("rdma deregisterTimeoutNs " + deregisterTimeoutNs + " must be positive ("
                + DEREGISTER_TIMEOUT_PROP_NAME + ")");
        }
        if (retryCount < 0 || retryCount > 7)
        {
            throw new FabricException("rdma retryCount " + retryCount + " must be within 0..7 ("
                + RETRY_COUNT_PROP_NAME + ")");
        }
        if (rnrRetryCount < 0 || rnrRetryCount > 6)
        {
            throw new FabricException("rdma rnrRetryCount " + rnrRetryCount + " must be within 0..6 ("
                + RNR_RETRY_PROP_NAME + "; 7 would retry without limit while the peer posts no receive)");
        }
        if (fenceTimeoutNs <= 0)
        {
            throw new FabricException("rdma fenceTimeoutNs " + fenceTimeoutNs + " must be positive ("
                + FENCE_TIMEOUT_PROP_NAME + ")");
        }
        final long connectionsBytes = connectionsPinnedBytes();
        if (requiredMemlockBytes == DERIVED)
        {
            requiredMemlockBytes = connectionsBytes + REGION_MEMLOCK_DEFAULT_BYTES;
        }
        else if (requiredMemlockBytes < connectionsBytes)
        {
            throw new FabricException("rdma requiredMemlockBytes " + requiredMemlockBytes + " is below what the "
                + "connections alone pin: " + connectionsBytes + " bytes (" + maxConnections + " connections x "
                + pinnedBytesPerConnection() + "); raise " + REQUIRED_MEMLOCK_PROP_NAME + ", or lower "
                + MAX_CONNECTIONS_PROP_NAME + ", " + MAX_MESSAGE_PROP_NAME + ", " + SEND_SLOTS_PROP_NAME + " or "
                + RECV_DEPTH_PROP_NAME);
        }
        concluded = true;
        return this;
    }

    public FabricContext fabricContext()
    {
        return fabricContext;
    }

    public RdmaContext localAddress(final String localAddress)
    {
        this.localAddress = localAddress;
        concluded = false;
        return this;
    }

    public String localAddress()
    {
        return localAddress;
    }

    public RdmaContext maxMessageBytes(final int maxMessageBytes)
    {
        this.maxMessageBytes = maxMessageBytes;
        concluded = false;
        return this;
    }

    public int maxMessageBytes()
    {
        return maxMessageBytes;
    }

    public RdmaContext sendSlots(final int sendSlots)
    {
        this.sendSlots = sendSlots;
        concluded = false;
        return this;
    }

    public int sendSlots()
    {
        return sendSlots;
    }

    public RdmaContext recvDepth(final int recvDepth)
    {
        this.recvDepth = recvDepth;
        concluded = false;
        return this;
    }

    public int recvDepth()
    {
        return recvDepth;
    }

    public RdmaContext maxInlineBytes(final int maxInlineBytes)
    {
        this.maxInlineBytes = maxInlineBytes;
        concluded = false;
        return this;
    }

    public int maxInlineBytes()
    {
        return maxInlineBytes;
    }

    public RdmaContext maxConnections(final int maxConnections)
    {
        this.maxConnections = maxConnections;
        concluded = false;
        return this;
    }

    public int maxConnections()
    {
        return maxConnections;
    }

    public RdmaContext deregisterTimeoutNs(final long deregisterTimeoutNs)
    {
        this.deregisterTimeoutNs = deregisterTimeoutNs;
        concluded = false;
        return this;
    }

    public long deregisterTimeoutNs()
    {
        return deregisterTimeoutNs;
    }

    public RdmaContext retryCount(final int retryCount)
    {
        this.retryCount = retryCount;
        concluded = false;
        return this;
    }

    public int retryCount()
    {
        return retryCount;
    }

    public RdmaContext rnrRetryCount(final int rnrRetryCount)
    {
        this.rnrRetryCount = rnrRetryCount;
        concluded = false;
        return this;
    }

    public int rnrRetryCount()
    {
        return rnrRetryCount;
    }

    public RdmaContext fenceTimeoutNs(final long fenceTimeoutNs)
    {
        this.fenceTimeoutNs = fenceTimeoutNs;
        concluded = false;
        return this;
    }

    public long fenceTimeoutNs()
    {
        return fenceTimeoutNs;
    }

    /**
     * Bytes one connection pins for good: its send slots, control slot and receive buffers, each a frame of
     * header plus {@link #maxMessageBytes()}. Fixed at connect: no connection pins more.
     */
    public long pinnedBytesPerConnection()
    {
        return (long)(RdmaFrameDescriptor.HEADER_LENGTH + maxMessageBytes) * (sendSlots + 1 + recvDepth);
    }

    /** What {@link #maxConnections()} connections pin together: the bound on the fabric's message buffers. */
    public long connectionsPinnedBytes()
    {
        return maxConnections * pinnedBytesPerConnection();
    }

    public RdmaContext requiredMemlockBytes(final long requiredMemlockBytes)
    {
        this.requiredMemlockBytes = requiredMemlockBytes;
        concluded = false;
        return this;
    }

    public long requiredMemlockBytes()
    {
        return requiredMemlockBytes == DERIVED ? connectionsPinnedBytes() + REGION_MEMLOCK_DEFAULT_BYTES
            : requiredMemlockBytes;
    }

    @Override
    public String toString()
    {
        return "RdmaContext{localAddress=" + localAddress + ", maxMessageBytes=" + maxMessageBytes + ", sendSlots="
            + sendSlots + ", recvDepth=" + recvDepth + ", maxInlineBytes=" + maxInlineBytes + ", maxConnections="
            + maxConnections + ", deregisterTimeoutNs=" + deregisterTimeoutNs + ", retryCount=" + retryCount
            + ", rnrRetryCount=" + rnrRetryCount + ", fenceTimeoutNs=" + fenceTimeoutNs + ", requiredMemlockBytes="
            + requiredMemlockBytes + ", " + fabricContext + "}";
    }
}
