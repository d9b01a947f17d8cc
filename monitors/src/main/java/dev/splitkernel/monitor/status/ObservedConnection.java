package dev.splitkernel.monitor.status;

import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.MemoryRegion;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A monitor's connection to a peer, observed: each request and one-way message it sends is counted under its opcode,
 * and each call's round trip (from the call to its reply or failure, as the caller sees it) goes to the monitor's
 * RPC call histogram. One-sided operations pass straight through (the fabric counts them).
 * <p>
 * Thread-safe, as the connection it wraps.
 */
final class ObservedConnection implements Connection
{
    private final Connection connection;
    private final LatencyHistogram latency;
    private final OpcodeCounters sent;

    ObservedConnection(final Connection connection, final LatencyHistogram latency, final OpcodeCounters sent)
    {
        this.connection = connection;
        this.latency = latency;
        this.sent = sent;
    }

    @Override
    public String peerAddress()
    {
        return connection.peerAddress();
    }

    @Override
    public boolean isConnected()
    {
        return connection.isConnected();
    }

    @Override
    public int postRead(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        return connection.postRead(local, localOffset, remoteAddress, rkey, lengthBytes, completion);
    }

    @Override
    public int postWrite(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final Completion completion)
    {
        return connection.postWrite(local, localOffset, remoteAddress, rkey, lengthBytes, completion);
    }

    @Override
    public int read(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        return connection.read(local, localOffset, remoteAddress, rkey, lengthBytes, timeoutNs);
    }

    @Override
    public int write(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
        final int lengthBytes, final long timeoutNs)
    {
        return connection.write(local, localOffset, remoteAddress, rkey, lengthBytes, timeoutNs);
    }

    @Override
    public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final long timeoutNs)
    {
        sent.increment(opcode);
        final long startNs = latency.startNs();
        final int result = connection.call(opcode, request, offset, length, reply, replyOffset, replyCapacity,
            timeoutNs);
        latency.recordSince(startNs);
        return result;
    }

    @Override
    public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength, final MutableDirectBuffer data,
        final int dataOffset, final int dataCapacity, final long timeoutNs)
    {
        sent.increment(opcode);
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

    @Override
    public void close()
    {
        connection.close();
    }

    @Override
    public String toString()
    {
        return connection.toString();
    }
}
