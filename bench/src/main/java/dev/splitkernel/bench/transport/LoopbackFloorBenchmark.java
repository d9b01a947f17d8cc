package dev.splitkernel.bench.transport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * The kernel's floor under a tcp miss in an embedded cluster: one thread plays both ends of a loopback connection, as
 * the invoker threading mode does (the waiting thread serves the memory monitor's side itself), with the four socket
 * calls a miss needs and nothing else: write a request, read it at the other end, write a reply of a line, read it.
 * No framing, no handler, no cache. A tcp miss cannot cost less than this; the main job's tcp / local ratio cannot be
 * lower than (local time + misses x this) / local time.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class LoopbackFloorBenchmark
{
    /** Request bytes: a fetch (header only) or a fetch with a dirty victim riding along. */
    @Param({ "64", "4160" })
    public int requestBytes;

    /** Reply bytes: a line and its header. */
    @Param({ "4160" })
    public int replyBytes;

    private ServerSocketChannel listener;
    private SocketChannel client;
    private SocketChannel server;
    private ByteBuffer clientOut;
    private ByteBuffer clientIn;
    private ByteBuffer serverOut;
    private ByteBuffer serverIn;

    @Setup(Level.Trial)
    public void setup() throws IOException
    {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client = SocketChannel.open(listener.getLocalAddress());
        server = listener.accept();
        for (final SocketChannel channel : new SocketChannel[] {client, server})
        {
            channel.socket().setTcpNoDelay(true);
            channel.configureBlocking(false);
        }
        clientOut = ByteBuffer.allocateDirect(requestBytes);
        serverIn = ByteBuffer.allocateDirect(requestBytes);
        serverOut = ByteBuffer.allocateDirect(replyBytes);
        clientIn = ByteBuffer.allocateDirect(replyBytes);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException
    {
        client.close();
        server.close();
        listener.close();
    }

    @Benchmark
    public int roundTrip() throws IOException
    {
        transfer(client, clientOut, server, serverIn);
        transfer(server, serverOut, client, clientIn);
        return clientIn.position();
    }

    private static void transfer(
        final SocketChannel from, final ByteBuffer out, final SocketChannel to, final ByteBuffer in) throws IOException
    {
        out.clear();
        while (out.hasRemaining())
        {
            from.write(out);
        }
        in.clear();
        while (in.hasRemaining())
        {
            if (to.read(in) < 0)
            {
                throw new IOException("loopback peer closed");
            }
        }
    }
}
