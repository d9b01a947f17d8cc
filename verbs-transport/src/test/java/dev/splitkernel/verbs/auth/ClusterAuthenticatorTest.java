package dev.splitkernel.verbs.auth;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The handshake's messages themselves: proofs bind both nonces and the direction. */
class ClusterAuthenticatorTest
{
    private static final byte[] SECRET = "the cluster secret".getBytes(StandardCharsets.US_ASCII);

    private final ClusterAuthenticator listenerSide =
        new ClusterAuthenticator("test", new FabricContext().secret(SECRET).conclude(), new FabricCounters(null));
    private final ClusterAuthenticator connectorSide =
        new ClusterAuthenticator("test", new FabricContext().secret(SECRET).conclude(), new FabricCounters(null));

    @Test
    void shouldAcceptAProofMadeForThisHandshake()
    {
        final ClusterAuthenticator.Listener listener = listenerSide.newListener("peer");
        final ClusterAuthenticator.Connector connector = connectorSide.newConnector("server");
        final byte[] result = listener.onProof(connector.onChallenge(listener.onHello(connector.hello())));
        connector.onResult(result);
        assertTrue(listener.isAccepted());
        assertEquals(HandshakeDescriptor.ACCEPTED, result[HandshakeDescriptor.TYPE_OFFSET]);
    }

    @Test
    void shouldRefuseAProofReplayedFromAnotherHandshake()
    {
        final ClusterAuthenticator.Listener first = listenerSide.newListener("peer");
        final ClusterAuthenticator.Connector honest = connectorSide.newConnector("server");
        final byte[] hello = honest.hello();
        final byte[] recordedProof = honest.onChallenge(first.onHello(hello));

        final ClusterAuthenticator.Listener second = listenerSide.newListener("attacker");
        second.onHello(hello);
        final byte[] result = second.onProof(recordedProof);
        assertEquals(HandshakeDescriptor.REFUSED, result[HandshakeDescriptor.TYPE_OFFSET]);
        assertFalse(second.isAccepted());
        assertTrue(second.failure().contains("does not share this cluster's secret"), second.failure());
    }

    @Test
    void shouldRefuseTheListenersOwnProofReflectedBack()
    {
        final ClusterAuthenticator.Listener listener = listenerSide.newListener("attacker");
        final byte[] hello = HandshakeDescriptor.newMessage(HandshakeDescriptor.HELLO);
        hello[HandshakeDescriptor.FLAGS_OFFSET] = HandshakeDescriptor.FLAG_HAS_SECRET;
        final byte[] challenge = listener.onHello(hello);
        final byte[] reflected = HandshakeDescriptor.newMessage(HandshakeDescriptor.PROOF);
        reflected[HandshakeDescriptor.FLAGS_OFFSET] = HandshakeDescriptor.FLAG_HAS_SECRET;
        System.arraycopy(challenge, HandshakeDescriptor.PROOF_OFFSET, reflected, HandshakeDescriptor.PROOF_OFFSET,
            HandshakeDescriptor.PROOF_LENGTH);
        final byte[] result = listener.onProof(reflected);
        assertEquals(HandshakeDescriptor.REFUSED, result[HandshakeDescriptor.TYPE_OFFSET]);
        assertEquals(HandshakeDescriptor.REASON_BAD_PROOF, result[HandshakeDescriptor.REASON_OFFSET]);
    }

    @Test
    void shouldUseFreshNoncesInEveryHandshake()
    {
        final byte[] a = connectorSide.newConnector("x").hello();
        final byte[] b = connectorSide.newConnector("x").hello();
        boolean differ = false;
        for (int i = HandshakeDescriptor.NONCE_OFFSET; i < HandshakeDescriptor.NONCE_OFFSET
            + HandshakeDescriptor.NONCE_LENGTH; i++)
        {
            differ |= a[i] != b[i];
        }
        assertTrue(differ);
    }
}
