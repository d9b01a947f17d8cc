package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.auth.ClusterAuthenticator;

/**
 * The cluster-secret handshake over a new connection's SEND/RECV path (AUTH frames), before anything else: the
 * connector says hello, the listener challenges, the connector proves, the listener answers. Both sides wait
 * within the connect deadline. Nothing here grants access: the fabric does, once {@link #asListener} says yes.
 */
final class RdmaHandshake
{
    private final ClusterAuthenticator auth;
    private final long operationTimeoutNs;

    RdmaHandshake(final ClusterAuthenticator auth, final long operationTimeoutNs)
    {
        this.auth = auth;
        this.operationTimeoutNs = operationTimeoutNs;
    }

    /**
     * The connecting side of the handshake, as the first SEND/RECV messages after ESTABLISHED (receives were posted
     * before connect, so the listener's answer always finds a buffer).
     */
    void asConnector(
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
                connection.sendAuth(connector.refusal(), operationTimeoutNs);
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
        final int status = connection.sendAuth(message, operationTimeoutNs);
        if (status != Status.OK)
        {
            throw new FabricException("authentication failed: cannot send the handshake to " + address + ": "
                + Status.describe(status));
        }
    }

    /**
     * The listening side of the handshake.
     *
     * @return null when the peer proved the cluster secret, otherwise why it did not.
     */
    String asListener(final RdmaConnection connection, final long timeoutNs)
    {
        final String peer = connection.peerAddress();
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
            connection.sendAuth(listener.onHello(hello), operationTimeoutNs);
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
                        connection.sendAuth(result, operationTimeoutNs);
                    }
                    failure = listener.isAccepted() ? null : listener.failure();
                }
            }
        }
        return failure;
    }

    /** "/10.0.0.1:4711" to "10.0.0.1": refusals are reported once per host, not per ephemeral port. */
    static String peerHost(final String peerAddress)
    {
        final int colon = peerAddress.lastIndexOf(':');
        final String host = colon > 0 ? peerAddress.substring(0, colon) : peerAddress;
        return host.startsWith("/") ? host.substring(1) : host;
    }
}
