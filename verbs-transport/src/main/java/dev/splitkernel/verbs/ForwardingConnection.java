package dev.splitkernel.verbs;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * A connection that passes every operation to another one: extend it to add to some operations (count, time, hold
 * them). The call whose reply carries bulk data is the interface's default here (it goes through
 * {@link #call(int, DirectBuffer, int, int, MutableDirectBuffer, int, int, long)}); override it to forward it whole.
 * <p>
 * Thread-safe, as the connection it wraps.
 */
public class ForwardingConnection implements Connection
{
    protected final Connection connection;

    public ForwardingConnection(final Connection connection)
    {
        this.connection = connection;
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
        return connection.call(opcode, request, offset, length, reply, replyOffset, replyCapacity, timeoutNs);
    }

    @Override
    public int send(final int opcode, final DirectBuffer message, final int offset, final int length)
    {
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
