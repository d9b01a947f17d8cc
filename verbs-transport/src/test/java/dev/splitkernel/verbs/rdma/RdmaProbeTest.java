package dev.splitkernel.verbs.rdma;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every branch of the probe, over injected environments (fake sysfs and procfs trees, fake library loaders). */
class RdmaProbeTest
{
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path root;

    /** A scriptable environment: what loading libdisni does, its JNI version, and file trees under {@code root}. */
    final class FakeEnvironment implements RdmaProbe.Environment
    {
        UnsatisfiedLinkError loadError;
        IOException versionError;
        int version = RdmaProbe.REQUIRED_JNI_VERSION;
        int versionCalls;

        @Override
        public void loadLibrary(final String name)
        {
            assertEquals("disni", name);
            if (loadError != null)
            {
                throw loadError;
            }
        }

        @Override
        public int jniVersion() throws IOException
        {
            versionCalls++;
            if (versionError != null)
            {
                throw versionError;
            }
            return version;
        }

        @Override
        public String libraryPath()
        {
            return "/usr/java/packages/lib:/usr/lib64";
        }

        @Override
        public Path infinibandClassDir()
        {
            return root.resolve("sys/class/infiniband");
        }

        @Override
        public Path processLimits()
        {
            return root.resolve("proc/self/limits");
        }
    }

    private void port(final String device, final String port, final String state) throws IOException
    {
        final Path dir = root.resolve("sys/class/infiniband").resolve(device).resolve("ports").resolve(port);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("state"), state + "\n", StandardCharsets.UTF_8);
    }

    private void memlock(final String soft, final String hard) throws IOException
    {
        final Path limits = root.resolve("proc/self/limits");
        Files.createDirectories(limits.getParent());
        Files.writeString(limits,
            "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max open files            1024                 524288               files     \n"
            + "Max locked memory         " + soft + "              " + hard + "              bytes     \n"
            + "Max address space         unlimited            unlimited            bytes     \n",
            StandardCharsets.UTF_8);
    }

    private FakeEnvironment healthy() throws IOException
    {
        port("mlx5_0", "1", "4: ACTIVE");
        memlock("unlimited", "unlimited");
        return new FakeEnvironment();
    }

    private static RdmaProbe probe(final RdmaProbe.Environment environment)
    {
        return new RdmaProbe(environment, 64 * MIB);
    }

    @Test
    void shouldReportNothingWhenLibraryDeviceAndMemlockAreFine() throws IOException
    {
        final FakeEnvironment environment = healthy();
        assertEquals(List.of(), probe(environment).problems());
        assertNull(probe(environment).unavailableReason());
        assertEquals("mlx5_0/1", probe(environment).firstActivePort());
    }

    @Test
    void shouldNameTheLibraryPathAndTheBuildStepsWhenLibdisniIsMissing() throws IOException
    {
        final FakeEnvironment environment = healthy();
        environment.loadError = new UnsatisfiedLinkError("no disni in java.library.path: /usr/java/packages/lib");
        final List<String> problems = probe(environment).problems();
        assertEquals(1, problems.size(), problems.toString());
        final String problem = problems.get(0);
        assertTrue(problem.startsWith("libdisni not found on java.library.path (/usr/java/packages/lib:/usr/lib64)"),
            problem);
        assertTrue(problem.contains("./autoprepare.sh") && problem.contains("--with-jdk")
            && problem.contains("make install") && problem.contains("native-config/jvm.options")
            && problem.contains("-Djava.library.path=DIR"), problem);
        assertEquals(0, environment.versionCalls, "no version check without a library");
    }

    @Test
    void shouldNameTheMissingDependencyWhenLibdisniCannotBeLinked() throws IOException
    {
        final FakeEnvironment environment = healthy();
        environment.loadError = new UnsatisfiedLinkError(
            "/usr/local/lib/libdisni.so: librdmacm.so.1: cannot open shared object file: No such file or directory");
        final String problem = probe(environment).problems().get(0);
        assertTrue(problem.startsWith("libdisni found but cannot be loaded"), problem);
        assertTrue(problem.contains("librdmacm.so.1") && problem.contains("install-rdma-packages"), problem);
    }

    @Test
    void shouldRefuseALibdisniOfAnotherJniVersion() throws IOException
    {
        final FakeEnvironment environment = healthy();
        environment.version = 31;
        final List<String> problems = probe(environment).problems();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("JNI version 31 but DiSNI 2.1 requires 32"), problems.get(0));
    }

    @Test
    void shouldReportADiSNIThatCannotStart() throws IOException
    {
        final FakeEnvironment environment = healthy();
        environment.versionError = new IOException("sock_addr_in size mismatch");
        final String problem = probe(environment).problems().get(0);
        assertTrue(problem.startsWith("libdisni loaded but DiSNI cannot start"), problem);
        assertTrue(problem.contains("sock_addr_in size mismatch"), problem);
    }

    @Test
    void shouldReadTheVersionOutOfDiSNIsRefusal()
    {
        assertEquals(30, RdmaProbe.versionFound("jverbs outdated, version found 30, version required 32"));
        assertEquals(Integer.MIN_VALUE, RdmaProbe.versionFound("something else"));
        assertEquals(Integer.MIN_VALUE, RdmaProbe.versionFound(null));
    }

    @Test
    void shouldReportNoDeviceWhenTheInfinibandClassIsAbsentOrEmpty() throws IOException
    {
        memlock("unlimited", "unlimited");
        final FakeEnvironment environment = new FakeEnvironment();
        final String absent = probe(environment).problems().get(0);
        assertTrue(absent.startsWith("no RDMA device"), absent);
        assertTrue(absent.contains("soft-roce up NETDEV") && absent.contains("rdma_rxe"), absent);

        Files.createDirectories(root.resolve("sys/class/infiniband"));
        final String empty = probe(environment).problems().get(0);
        assertTrue(empty.startsWith("no RDMA device"), empty);
        assertNull(probe(environment).firstActivePort());
    }

    @Test
    void shouldListEveryPortStateWhenNoneIsActive() throws IOException
    {
        memlock("unlimited", "unlimited");
        port("rxe_eth0", "1", "1: DOWN");
        port("mlx5_0", "1", "2: INIT");
        Files.createDirectories(root.resolve("sys/class/infiniband/odd0"));
        final List<String> problems = probe(new FakeEnvironment()).problems();
        assertEquals(1, problems.size(), problems.toString());
        final String problem = problems.get(0);
        assertTrue(problem.startsWith("no ACTIVE RDMA port (mlx5_0/1 2: INIT, odd0: no ports, rxe_eth0/1 1: DOWN)"),
            problem);
        assertTrue(problem.contains("ip link set NETDEV up"), problem);
    }

    @Test
    void shouldAcceptAnyActivePortAmongSeveral() throws IOException
    {
        memlock("unlimited", "unlimited");
        port("mlx5_0", "1", "1: DOWN");
        port("mlx5_0", "2", "4: ACTIVE");
        assertEquals(List.of(), probe(new FakeEnvironment()).problems());
        assertEquals("mlx5_0/2", probe(new FakeEnvironment()).firstActivePort());
    }

    @Test
    void shouldNotTakeActiveDeferForActive() throws IOException
    {
        memlock("unlimited", "unlimited");
        port("mlx5_0", "1", "5: ACTIVE_DEFER");
        assertTrue(probe(new FakeEnvironment()).problems().get(0).startsWith("no ACTIVE RDMA port"));
    }

    @Test
    void shouldRefuseAMemlockLimitBelowTheRequirementAndNameTheFixes() throws IOException
    {
        port("mlx5_0", "1", "4: ACTIVE");
        memlock("8388608", "8388608");
        final List<String> problems = probe(new FakeEnvironment()).problems();
        assertEquals(1, problems.size(), problems.toString());
        final String problem = problems.get(0);
        assertTrue(problem.startsWith("locked-memory limit is 8388608 bytes, below the 67108864 bytes"), problem);
        assertTrue(problem.contains("ulimit -l unlimited") && problem.contains("limits.d")
            && problem.contains("LimitMEMLOCK=infinity"), problem);
    }

    @Test
    void shouldAcceptAMemlockLimitAtTheRequirementOrUnlimited() throws IOException
    {
        port("mlx5_0", "1", "4: ACTIVE");
        memlock(Long.toString(64 * MIB), "unlimited");
        assertEquals(List.of(), probe(new FakeEnvironment()).problems());
        memlock("unlimited", "unlimited");
        assertEquals(RdmaProbe.UNLIMITED, probe(new FakeEnvironment()).memlockLimitBytes());
        assertEquals(List.of(), new RdmaProbe(new FakeEnvironment(), 0).problems());
    }

    @Test
    void shouldSayWhenTheMemlockLimitCannotBeRead() throws IOException
    {
        port("mlx5_0", "1", "4: ACTIVE");
        final String missing = probe(new FakeEnvironment()).problems().get(0);
        assertTrue(missing.startsWith("cannot read 'Max locked memory'"), missing);

        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/self/limits"), "Max locked memory         lots   lots   bytes\n",
            StandardCharsets.UTF_8);
        assertEquals(RdmaProbe.UNKNOWN, probe(new FakeEnvironment()).memlockLimitBytes());
    }

    @Test
    void shouldNumberEveryProblemInOneMessage() throws IOException
    {
        memlock("65536", "65536");
        final FakeEnvironment environment = new FakeEnvironment();
        environment.loadError = new UnsatisfiedLinkError("no disni in java.library.path: /nowhere");
        final String reason = probe(environment).unavailableReason();
        assertNotNull(reason);
        assertTrue(reason.startsWith("rdma fabric unavailable: (1) libdisni not found"), reason);
        assertTrue(reason.contains("; (2) no RDMA device"), reason);
        assertTrue(reason.contains("; (3) locked-memory limit is 65536 bytes"), reason);
        assertTrue(reason.endsWith("run native-config/doctor)"), reason);
        assertFalse(reason.contains("(4)"), reason);
    }

    @Test
    void shouldRefuseANegativeRequirement()
    {
        try
        {
            new RdmaProbe(new FakeEnvironment(), -1);
        }
        catch (final IllegalArgumentException ex)
        {
            assertTrue(ex.getMessage().contains("requiredMemlockBytes"));
            return;
        }
        throw new AssertionError("a negative requirement was accepted");
    }
}
