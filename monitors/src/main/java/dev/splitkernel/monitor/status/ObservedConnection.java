package dev.splitkernel.monitor.status;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.ForwardingConnection;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A monitor's connection to a peer, observed: each request and one-way message it sends is counted under its opcode,
 * and each call's round trip (from the call to its reply or failure, as the caller sees it) goes to the monitor's
 * RPC call histogram, but for the opcodes left untimed ({@link ObservedFabric}: the data path, timed once as misses
 * and write-backs). One-sided operations pass straight through (the fabric counts them).
 * <p>
 * Thread-safe, as the connection it wraps.
 */
final class ObservedConnection extends ForwardingConnection
{
    private final LatencyHistogram latency;
    private final OpcodeCounters sent;
    private final UntimedOpcodes untimed;

    ObservedConnection(final Connection connection, final LatencyHistogram latency, final OpcodeCounters sent,
        final UntimedOpcodes untimed)
    {
        super(connection);
        this.latency = latency;
        this.sent = sent;
        this.untimed = untimed;
    }

    @Override
    public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final long timeoutNs)
    {
        sent.increment(opcode);
        if (untimed.contains(opcode))
        {
            return connection.call(opcode, request, offset, length, reply, replyOffset, replyCapacity, timeoutNs);
        }
        final long startNs = latency.startNs();
        final int result = connection.call(opcode, request, offset, length, reply, replyOffset, replyCapacity,
            timeoutNs);
        latency.recordSince(startNs);
        return result;
    }

    /** Forwarded whole: the fabric underneath may scatter the reply without a copy. */
    @Override
    public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength, final MutableDirectBuffer data,
        final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        sent.increment(opcode);
        if (untimed.contains(opcode))
        {
            return connection.call(opcode, request, offset, length, reply, replyOffset, headerLength, data, dataOffset,
                dataCapacity, timeoutNs);
        }
        final long startNs = latency.startNs();
        final int result = connection.call(opcode, request, offset, length, reply, replyOffset, headerLength, data,
            dataOffset, dataCapacity, timeoutNs);
        latency.recordSince(startNs);
        return result;
    }

    @Override
    public int send(final int opcode, final DirectBuffer message, final int offset, final int length)
    {
        sent.increment(opcode);
        return connection.send(opcode, message, offset, length);
    }
}
