package dev.splitkernel.verbs.auth;

import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricCounters;
import dev.splitkernel.verbs.FabricException;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static dev.splitkernel.verbs.auth.HandshakeDescriptor.ACCEPTED;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.CHALLENGE;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.FLAGS_OFFSET;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.FLAG_HAS_SECRET;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.HELLO;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.NONCE_LENGTH;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.NONCE_OFFSET;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.PROOF;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.PROOF_LENGTH;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.PROOF_OFFSET;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.REASON_BAD_MESSAGE;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.REASON_BAD_PROOF;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.REASON_NO_SECRET;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.REASON_OFFSET;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.REFUSED;
import static dev.splitkernel.verbs.auth.HandshakeDescriptor.TYPE_OFFSET;

/**
 * The cluster-authentication handshake of one fabric instance ({@link HandshakeDescriptor}): the transport moves
 * the messages, this class makes and checks them, counts refusals in {@link FabricCounters#AUTH_FAILURES} and
 * reports each refused peer once on stderr (a retry loop does not flood the log).
 * <p>
 * Control path only: allocates. Thread-safe; each connection attempt uses its own {@link Connector} or
 * {@link Listener}.
 */
public final class ClusterAuthenticator
{
    private static final String ALGORITHM = "HmacSHA256";
    private static final byte[] LISTENER_LABEL = "splitkernel-auth-v1 listener".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONNECTOR_LABEL = "splitkernel-auth-v1 connector".getBytes(StandardCharsets.US_ASCII);

    private final String fabricName;
    private final SecretKeySpec key;
    private static final System.Logger LOG = System.getLogger(ClusterAuthenticator.class.getName());

    private final FabricCounters counters;
    private final SecureRandom random = new SecureRandom();
    private final Set<String> reportedPeers = ConcurrentHashMap.newKeySet();
    /** Once per JVM: an embedded cluster has many fabrics, and the notice is the same for all of them. */
    private static final AtomicBoolean OPEN_NOTICE_PRINTED = new AtomicBoolean();

    public ClusterAuthenticator(final String fabricName, final FabricContext ctx, final FabricCounters counters)
    {
        this.fabricName = fabricName;
        this.counters = counters;
        final byte[] secret = ctx.secret();
        this.key = secret == null ? null : new SecretKeySpec(secret, ALGORITHM);
        if (secret != null)
        {
            Arrays.fill(secret, (byte)0);
        }
    }

    public boolean hasSecret()
    {
        return key != null;
    }

    /**
     * Call at every listen: without a secret on a network fabric, says once per JVM that any peer may connect. The
     * local fabric has no peers outside its JVM, so it says nothing.
     */
    public void onListen()
    {
        if (key == null && !"local".equals(fabricName) && OPEN_NOTICE_PRINTED.compareAndSet(false, true))
        {
            LOG.log(System.Logger.Level.WARNING, fabricName + " fabric: no cluster secret set: any peer may connect");
        }
    }

    /**
     * Count a refused or failed handshake and report it on stderr, once per {@code peerKey}.
     *
     * @param peerKey what identifies the peer across attempts, e.g. its host (not its ephemeral port).
     */
    public void onFailure(final String peerKey, final String message)
    {
        counters.increment(FabricCounters.AUTH_FAILURES);
        if (reportedPeers.add(peerKey))
        {
            LOG.log(System.Logger.Level.WARNING, fabricName + " fabric: " + message + " (reported once per peer; further refusals "
                + "are only counted under '" + FabricCounters.label(FabricCounters.AUTH_FAILURES) + "')");
        }
    }

    public Connector newConnector(final String peerAddress)
    {
        return new Connector(peerAddress);
    }

    public Listener newListener(final String peerAddress)
    {
        return new Listener(peerAddress);
    }

    private byte[] nonce()
    {
        final byte[] nonce = new byte[NONCE_LENGTH];
        random.nextBytes(nonce);
        return nonce;
    }

    private byte[] proof(final byte[] label, final byte[] connectorNonce, final byte[] listenerNonce)
    {
        try
        {
            final Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update(label);
            mac.update(connectorNonce);
            mac.update(listenerNonce);
            return mac.doFinal();
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("HmacSHA256 is unavailable in this JVM", ex);
        }
    }

    private static byte[] field(final byte[] message, final int offset, final int length)
    {
        return Arrays.copyOfRange(message, offset, offset + length);
    }

    private static FabricException failed(final String message)
    {
        return new FabricException("authentication failed: " + message);
    }

    /**
     * The connecting side: {@link #hello()}, then {@link #onChallenge(byte[])} (send what it returns), then
     * {@link #onResult(byte[])}. Each throws {@link FabricException} ("authentication failed: ...") when the peer
     * is refused or refuses us; the caller then closes, and calls {@link ClusterAuthenticator#onFailure}.
     */
    public final class Connector
    {
        private final String peerAddress;
        private final byte[] connectorNonce = nonce();

        private Connector(final String peerAddress)
        {
            this.peerAddress = peerAddress;
        }

        public byte[] hello()
        {
            final byte[] hello = HandshakeDescriptor.newMessage(HELLO);
            hello[FLAGS_OFFSET] = key != null ? FLAG_HAS_SECRET : 0;
            System.arraycopy(connectorNonce, 0, hello, NONCE_OFFSET, NONCE_LENGTH);
            return hello;
        }

        /** Check the listener's proof and answer with ours. */
        public byte[] onChallenge(final byte[] challenge)
        {
            check(challenge, CHALLENGE);
            final boolean peerHasSecret = (challenge[FLAGS_OFFSET] & FLAG_HAS_SECRET) != 0;
            final byte[] reply = HandshakeDescriptor.newMessage(PROOF);
            if (key == null)
            {
                return reply;
            }
            if (!peerHasSecret)
            {
                throw failed("the peer at " + peerAddress + " has no cluster secret set, and this fabric requires "
                    + "one: it does not share this cluster's secret");
            }
            final byte[] listenerNonce = field(challenge, NONCE_OFFSET, NONCE_LENGTH);
            final byte[] expected = proof(LISTENER_LABEL, connectorNonce, listenerNonce);
            if (!MessageDigest.isEqual(expected, field(challenge, PROOF_OFFSET, PROOF_LENGTH)))
            {
                throw failed("the peer at " + peerAddress + " does not share this cluster's secret");
            }
            reply[FLAGS_OFFSET] = FLAG_HAS_SECRET;
            System.arraycopy(proof(CONNECTOR_LABEL, connectorNonce, listenerNonce), 0, reply, PROOF_OFFSET,
                PROOF_LENGTH);
            return reply;
        }

        /**
         * What to send the listener, best effort, after {@link #onChallenge} threw: a REFUSED that tells it we do
         * not accept its proof, so it can report the peer precisely.
         */
        public byte[] refusal()
        {
            final byte[] refused = HandshakeDescriptor.newMessage(REFUSED);
            refused[REASON_OFFSET] = REASON_BAD_PROOF;
            return refused;
        }

        public void onResult(final byte[] result)
        {
            check(result, ACCEPTED);
        }

        private void check(final byte[] message, final byte expectedType)
        {
            final String invalid = HandshakeDescriptor.invalidReason(message);
            if (invalid != null)
            {
                throw failed("bad handshake from " + peerAddress + ": " + invalid);
            }
            final byte type = message[TYPE_OFFSET];
            if (type == REFUSED)
            {
                throw failed("the server at " + peerAddress + " refused us: "
                    + HandshakeDescriptor.describeReason(message[REASON_OFFSET])
                    + (message[REASON_OFFSET] == REASON_BAD_PROOF ?
                    " (the peer does not share this cluster's secret)" : ""));
            }
            if (type != expectedType)
            {
                throw failed("bad handshake from " + peerAddress + ": message type " + type + " where "
                    + expectedType + " was due");
            }
        }
    }

    /**
     * The listening side: {@link #onHello(byte[])}, send what it returns, then (unless {@link #isRefused()})
     * {@link #onProof(byte[])} and send what it returns. After a refusal the caller sends the REFUSED message,
     * closes, and calls {@link ClusterAuthenticator#onFailure} with {@link #failure()}.
     */
    public final class Listener
    {
        private final String peerAddress;
        private final byte[] listenerNonce = nonce();
        private byte[] connectorNonce;
        private String failure;
        private boolean accepted;

        private Listener(final String peerAddress)
        {
            this.peerAddress = peerAddress;
        }

        public boolean isRefused()
        {
            return failure != null;
        }

        /** Why the peer was refused ("authentication failed: ..."), or null. */
        public String failure()
        {
            return failure;
        }

        /** True once a valid proof (or, without a secret, any well-formed PROOF) was received. */
        public boolean isAccepted()
        {
            return accepted;
        }

        public byte[] onHello(final byte[] hello)
        {
            final String invalid = HandshakeDescriptor.invalidReason(hello);
            if (invalid != null || hello[TYPE_OFFSET] != HELLO)
            {
                return refuse(REASON_BAD_MESSAGE, "refused " + peerAddress + ": "
                    + (invalid != null ? invalid : "message type " + hello[TYPE_OFFSET] + " instead of HELLO"));
            }
            if (key != null && (hello[FLAGS_OFFSET] & FLAG_HAS_SECRET) == 0)
            {
                return refuse(REASON_NO_SECRET, "refused " + peerAddress + ": it has no cluster secret, so it "
                    + "cannot prove it shares this cluster's secret");
            }
            connectorNonce = field(hello, NONCE_OFFSET, NONCE_LENGTH);
            final byte[] challenge = HandshakeDescriptor.newMessage(CHALLENGE);
            System.arraycopy(listenerNonce, 0, challenge, NONCE_OFFSET, NONCE_LENGTH);
            if (key != null)
            {
                challenge[FLAGS_OFFSET] = FLAG_HAS_SECRET;
                System.arraycopy(proof(LISTENER_LABEL, connectorNonce, listenerNonce), 0, challenge, PROOF_OFFSET,
                    PROOF_LENGTH);
            }
            return challenge;
        }

        public byte[] onProof(final byte[] proofMessage)
        {
            if (connectorNonce == null || failure != null)
            {
                throw new IllegalStateException("onProof before a successful onHello");
            }
            final String invalid = HandshakeDescriptor.invalidReason(proofMessage);
            if (invalid == null && proofMessage[TYPE_OFFSET] == REFUSED)
            {
                failure = "authentication failed: " + peerAddress + " refused our proof: the peer does not share "
                    + "this cluster's secret" + (key == null ? " (this fabric has none, and the peer requires one)" : "");
                return null;
            }
            if (invalid != null || proofMessage[TYPE_OFFSET] != PROOF)
            {
                return refuse(REASON_BAD_MESSAGE, "refused " + peerAddress + ": "
                    + (invalid != null ? invalid : "message type " + proofMessage[TYPE_OFFSET] + " instead of PROOF"));
            }
            if (key != null)
            {
                final byte[] expected = proof(CONNECTOR_LABEL, connectorNonce, listenerNonce);
                if (!MessageDigest.isEqual(expected, field(proofMessage, PROOF_OFFSET, PROOF_LENGTH)))
                {
                    return refuse(REASON_BAD_PROOF, "refused " + peerAddress + ": the peer does not share this "
                        + "cluster's secret");
                }
            }
            accepted = true;
            return HandshakeDescriptor.newMessage(ACCEPTED);
        }

        private byte[] refuse(final byte reason, final String why)
        {
            failure = "authentication failed: " + why;
            final byte[] refused = HandshakeDescriptor.newMessage(REFUSED);
            refused[REASON_OFFSET] = reason;
            return refused;
        }
    }
}
