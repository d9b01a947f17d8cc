package dev.splitkernel.bench.transport;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.tcp.TcpFabric;
import dev.splitkernel.verbs.tcp.TcpPeerServer;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The tcp fabric over loopback between two JVMs: the setup starts a {@link TcpPeerServer} in a child JVM (same
 * java, same JVM flags file from {@code splitkernel.jvmOptions}, same class path) with the same busy-poll setting,
 * and the benchmark thread is the client. Same operations as {@link LocalFabricBenchmark}.
 */
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TcpFabricBenchmark extends FabricBenchmark
{
    @Param({ "true", "false" })
    public boolean busyPoll;

    private Process peer;
    private TcpFabric client;

    @Setup
    public void setUp() throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        final String jvmOptions = System.getProperty("splitkernel.jvmOptions");
        if (jvmOptions != null && !jvmOptions.isEmpty())
        {
            command.add("@" + jvmOptions);
        }
        command.add("-D" + FabricContext.BUSY_POLL_PROP_NAME + "=" + busyPoll);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(TcpPeerServer.class.getName());
        command.add("127.0.0.1:0");
        command.add(Integer.toString(1024 * 1024));
        peer = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final BufferedReader lines = new BufferedReader(
            new InputStreamReader(peer.getInputStream(), StandardCharsets.US_ASCII));
        final String ready = lines.readLine();
        if (ready == null || !ready.startsWith("READY "))
        {
            peer.destroyForcibly();
            throw new IllegalStateException("peer server did not start: " + ready + " (command " + command + ")");
        }
        final String[] fields = ready.split(" ");
        client = new TcpFabric(new FabricContext().fabric("tcp").busyPoll(busyPoll));
        final Connection connection = client.connect(fields[1], TransportBenchmarkOps.TIMEOUT_NS);
        ops = new TransportBenchmarkOps(connection, client.allocate(1024 * 1024), Long.parseLong(fields[2]),
            Integer.parseInt(fields[3]));
    }

    @TearDown
    public void tearDown() throws Exception
    {
        if (client != null)
        {
            client.close();
        }
        if (peer != null)
        {
            peer.getOutputStream().close();
            if (!peer.waitFor(5, TimeUnit.SECONDS))
            {
                peer.destroyForcibly();
            }
        }
    }
}
