package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.global.GlobalManager;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.LineLocation;
import dev.splitkernel.protocol.MemoryMonitorProxy;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.Prot;
import dev.splitkernel.protocol.VRegionMap;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.verbs.MemoryRegion;
import dev.splitkernel.verbs.Status;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory side over tcp with every monitor in its own JVM: a global manager and two memory monitors started as
 * child processes from this test's classpath, killed in {@link #stopChildren()}; every wait has a deadline.
 */
class MemoryMonitorTcpTest
{
    private static final long TIMEOUT_NS = 10_000_000_000L;
    private static final long START_TIMEOUT_MS = 60_000;
    private static final int LINE = 4096;
    private static final int RW = Prot.PROT_READ | Prot.PROT_WRITE;
    private static final int ANON = Prot.MAP_PRIVATE | Prot.MAP_ANONYMOUS;
    private static final long VREGION_BYTES = 2 << 20;

    private static final List<Process> CHILDREN = new ArrayList<>();
    private static Fabric client;
    private static String globalAddress;

    @BeforeAll
    static void startChildren() throws Exception
    {
        globalAddress = start(GlobalManager.class.getName(), "global manager listening at ",
            "-Dsplitkernel.global.listen=127.0.0.1:0");
        for (int i = 0; i < 2; i++)
        {
            start(MemoryMonitor.class.getName(), "listening at ",
                "-Dsplitkernel.memory.listen=127.0.0.1:0",
                "-Dsplitkernel.global.address=" + globalAddress,
                "-Dsplitkernel.memory.capacityBytes=" + (1 << 20),
                "-Dsplitkernel.memory.vRegionBytes=" + VREGION_BYTES,
                "-Dsplitkernel.memory.chunkBytes=" + (1 << 20));
        }
        client = Fabrics.create(new FabricContext().fabric("tcp"), null);
    }

    private static String start(final String mainClass, final String marker, final String... properties)
        throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        final String projectDir = System.getProperty("splitkernel.projectDir", "..");
        final Path jvmOptions = Path.of(projectDir, "native-config", "jvm.options");
        if (Files.exists(jvmOptions))
        {
            command.add("@" + jvmOptions.toAbsolutePath());
        }
        command.add("-Xmx256m");
        command.add("-Dsplitkernel.fabric=tcp");
        command.addAll(List.of(properties));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        CHILDREN.add(process);

        final BlockingQueue<String> addresses = new ArrayBlockingQueue<>(1);
        final StringBuilder output = new StringBuilder();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    synchronized (output)
                    {
                        output.append(line).append(File.separatorChar == '/' ? "\n" : "\r\n");
                    }
                    final int at = line.indexOf(marker);
                    if (at >= 0)
                    {
                        addresses.offer(line.substring(at + marker.length()).trim());
                    }
                }
            }
            catch (final Exception ignore)
            {
                // The child went away; the test's deadline reports it.
            }
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
        final String address = addresses.poll(START_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        if (address == null)
        {
            process.destroyForcibly();
            synchronized (output)
            {
                throw new IllegalStateException(mainClass + " did not start within " + START_TIMEOUT_MS + " ms: " +
                    output);
            }
        }
        return address;
    }

    @AfterAll
    static void stopChildren() throws Exception
    {
        if (client != null)
        {
            client.close();
        }
        for (final Process process : CHILDREN)
        {
            process.destroy();
        }
        for (final Process process : CHILDREN)
        {
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static void fill(final UnsafeBuffer buffer, final int seed)
    {
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            buffer.putLong(i, seed * 7_919L + i);
        }
    }

    private static void assertFilled(final UnsafeBuffer buffer, final int seed)
    {
        for (int i = 0; i < buffer.capacity(); i += 8)
        {
            assertEquals(seed * 7_919L + i, buffer.getLong(i), "at byte " + i);
        }
    }

    @Test
    void shouldSpreadMapFetchWriteBackAndMoveAcrossSeparateJvms()
    {
        try (GlobalManagerProxy global = new GlobalManagerProxy(client.connect(globalAddress, TIMEOUT_NS), TIMEOUT_NS))
        {
            final Placement placement = global.chooseHome(-1);
            assertTrue(placement.isOk(), Errno.describe(placement.result()));
            final int asid = placement.asid();
            final VRegionMap map = new VRegionMap(VREGION_BYTES);
            final MemoryMonitorProxy[] proxies = new MemoryMonitorProxy[2];
            final int[] ids = new int[2];
            try (MemoryMonitorProxy home = new MemoryMonitorProxy(
                client.connect(placement.address(), TIMEOUT_NS), placement.memberId(), LINE, TIMEOUT_NS))
            {
                assertEquals(0, home.createProcess(asid));
                final long first = home.mmap(asid, 0, 768 * 1024, RW, ANON, map);
                final long second = home.mmap(asid, 0, 768 * 1024, RW, ANON, map);
                assertTrue(first > 0 && second > 0, Errno.describe(first) + " " + Errno.describe(second));
                ids[0] = map.ownerOfAddress(first);
                ids[1] = map.ownerOfAddress(second);
                assertNotEquals(ids[0], ids[1], "a full monitor sends the second vRegion to the other one");
                for (int i = 0; i < 2; i++)
                {
                    final String address = global.lookupMember(ids[i]);
                    assertNotNull(address);
                    proxies[i] = ids[i] == home.memberId() ? null :
                        new MemoryMonitorProxy(client.connect(address, TIMEOUT_NS), ids[i], LINE, TIMEOUT_NS);
                }
                final MemoryMonitorProxy ownerOfFirst = proxies[0] == null ? home : proxies[0];
                final MemoryMonitorProxy ownerOfSecond = proxies[1] == null ? home : proxies[1];

                final UnsafeBuffer line = new UnsafeBuffer(new byte[LINE]);
                fill(line, 11);
                assertEquals(0, ownerOfFirst.writeBackLine(asid, first, LINE, line, 0));
                fill(line, 12);
                assertEquals(0, ownerOfSecond.writeBackLine(asid, second + LINE, LINE, line, 0));

                final LineLocation location = new LineLocation();
                assertEquals(RW, ownerOfFirst.fetchLine(asid, first, LINE, line, 0, location));
                assertFilled(line, 11);
                final MemoryRegion local = client.allocate(LINE);
                assertEquals(Status.OK, ownerOfFirst.connection().read(local, 0, location.remoteAddress(),
                    location.rkey(), LINE, TIMEOUT_NS));
                assertFilled(local.buffer(), 11);

                // Shrinking frees room at the first owner; the content of what is left stays.
                assertEquals(first, home.mremap(asid, first, 768 * 1024, LINE, 0, 0, map));
                assertEquals(RW, ownerOfFirst.fetchLine(asid, first, LINE, line, 0, null));
                assertFilled(line, 11);
                assertEquals(Errno.EFAULT, ownerOfFirst.fetchLine(asid, first + LINE, LINE, line, 0, null));
                assertEquals(Errno.ENOMEM, home.mmap(asid, 0, 2 << 20, RW, ANON, map));

                assertEquals(0, home.exitProcess(asid, map));
                assertEquals(Errno.EFAULT, ownerOfSecond.fetchLine(asid, second + LINE, LINE, line, 0, null));
            }
            finally
            {
                for (final MemoryMonitorProxy proxy : proxies)
                {
                    if (proxy != null)
                    {
                        proxy.close();
                    }
                }
            }
        }
    }
}
