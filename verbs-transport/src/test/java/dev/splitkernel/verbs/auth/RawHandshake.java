package dev.splitkernel.verbs.auth;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;

/** Test helper: a raw socket that speaks the handshake with no secret, as a fabric without one does. */
public final class RawHandshake
{
    private RawHandshake()
    {
    }

    /** Complete a no-secret handshake on {@code socket}; returns the listener's final message type. */
    public static byte completeWithoutSecret(final Socket socket) throws IOException
    {
        final byte[] hello = HandshakeDescriptor.newMessage(HandshakeDescriptor.HELLO);
        socket.getOutputStream().write(hello);
        socket.getOutputStream().flush();
        final DataInputStream in = new DataInputStream(socket.getInputStream());
        final byte[] challenge = new byte[HandshakeDescriptor.MESSAGE_LENGTH];
        in.readFully(challenge);
        if (challenge[HandshakeDescriptor.TYPE_OFFSET] != HandshakeDescriptor.CHALLENGE)
        {
            return challenge[HandshakeDescriptor.TYPE_OFFSET];
        }
        socket.getOutputStream().write(HandshakeDescriptor.newMessage(HandshakeDescriptor.PROOF));
        socket.getOutputStream().flush();
        final byte[] result = new byte[HandshakeDescriptor.MESSAGE_LENGTH];
        in.readFully(result);
        return result[HandshakeDescriptor.TYPE_OFFSET];
    }
}
