package dev.splitkernel.verbs.tcp;

import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.auth.ClusterAuthenticator;
import dev.splitkernel.verbs.auth.HandshakeDescriptor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * The connecting side of the cluster-authentication handshake ({@link HandshakeDescriptor}) on a freshly connected
 * socket, before it becomes a {@link FrameChannel}; the listening side runs in the {@link TcpPoller} without
 * blocking. Every read and write waits at most until the deadline.
 * <p>
 * Control path only. Stateless: each call owns its socket.
 */
final class TcpHandshake
{
    private TcpHandshake()
    {
    }

    /**
     * The connecting side. On failure closes nothing: the caller closes the socket.
     *
     * @throws FabricException "authentication failed: ..." when either side refuses, or the handshake breaks.
     */
    static void connect(
        final ClusterAuthenticator auth, final SocketChannel channel, final String peerAddress, final long deadlineNs,
        final long timeoutNs) throws IOException
    {
        final ClusterAuthenticator.Connector connector = auth.newConnector(peerAddress);
        channel.configureBlocking(false);
        try (Selector selector = Selector.open())
        {
            channel.register(selector, 0);
            write(channel, selector, connector.hello(), deadlineNs);
            final byte[] challenge = read(channel, selector, deadlineNs);
            if (challenge == null || challenge.length == 0)
            {
                throw new FabricException("authentication failed: " + (challenge == null ?
                    "no handshake answer from " + peerAddress + " within " + timeoutNs / 1_000_000 + " ms" :
                    peerAddress + " closed the connection during the handshake")
                    + " (is it a splitkernel tcp fabric of this version?)");
            }
            final byte[] proof;
            try
            {
                proof = connector.onChallenge(challenge);
            }
            catch (final FabricException ex)
            {
                write(channel, selector, connector.refusal(), deadlineNs);
                throw ex;
            }
            if (!write(channel, selector, proof, deadlineNs))
            {
                throw new FabricException("authentication failed: " + peerAddress + " closed the connection during "
                    + "the handshake");
            }
            final byte[] result = read(channel, selector, deadlineNs);
            if (result == null || result.length == 0)
            {
                throw new FabricException("authentication failed: " + (result == null ?
                    "no handshake result from " + peerAddress + " within " + timeoutNs / 1_000_000 + " ms" :
                    peerAddress + " closed the connection before accepting our proof"));
            }
            connector.onResult(result);
        }
    }

    /** One whole message; an empty array at end of stream; null at the deadline. */
    private static byte[] read(final SocketChannel channel, final Selector selector, final long deadlineNs)
        throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(HandshakeDescriptor.MESSAGE_LENGTH);
        channel.keyFor(selector).interestOps(SelectionKey.OP_READ);
        while (buffer.hasRemaining())
        {
            int read;
            try
            {
                read = channel.read(buffer);
            }
            catch (final IOException ex)
            {
                read = -1;
            }
            if (read < 0)
            {
                return new byte[0];
            }
            if (read == 0)
            {
                final long remainingNs = deadlineNs - System.nanoTime();
                if (remainingNs <= 0)
                {
                    return null;
                }
                selector.select(Math.max(1, remainingNs / 1_000_000));
                selector.selectedKeys().clear();
            }
        }
        return buffer.array();
    }

    /** @return false when the peer closed or the deadline passed. */
    private static boolean write(
        final SocketChannel channel, final Selector selector, final byte[] message, final long deadlineNs)
        throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.wrap(message);
        channel.keyFor(selector).interestOps(SelectionKey.OP_WRITE);
        try
        {
            while (buffer.hasRemaining())
            {
                if (channel.write(buffer) == 0)
                {
                    final long remainingNs = deadlineNs - System.nanoTime();
                    if (remainingNs <= 0)
                    {
                        return false;
                    }
                    selector.select(Math.max(1, remainingNs / 1_000_000));
                    selector.selectedKeys().clear();
                }
            }
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }
}
