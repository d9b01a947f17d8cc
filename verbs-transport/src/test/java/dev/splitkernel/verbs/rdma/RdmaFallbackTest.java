package dev.splitkernel.verbs.rdma;

import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.Fabrics;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Choosing rdma where it cannot run: alone it is an error carrying the probe's message; in a list such as
 * {@code rdma,tcp} the next fabric is used and the choice is reported. Runs for real on machines without RDMA.
 */
class RdmaFallbackTest
{
    private static String systemReason()
    {
        final String reason = RdmaProbe.ofSystem().unavailableReason();
        assumeTrue(reason != null, "rdma is available on this machine, so there is no fallback to exercise here");
        return reason;
    }

    @Test
    void shouldBeListedAmongTheProviders()
    {
        assertTrue(Fabrics.names().contains("rdma"), Fabrics.names().toString());
    }

    @Test
    void shouldFailWithTheProbesMessageWhenRdmaAloneIsChosen()
    {
        final String reason = systemReason();
        final FabricException ex = assertThrows(FabricException.class,
            () -> Fabrics.create(new FabricContext().fabric("rdma"), null));
        assertTrue(ex.getMessage().contains(reason), ex.getMessage());
        assertTrue(ex.getMessage().contains("rdma fabric unavailable: (1) "), ex.getMessage());
    }

    @Test
    void shouldFallBackToTcpAndSaySoWhenRdmaIsUnavailable()
    {
        final String reason = systemReason();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream log = new PrintStream(out, true, StandardCharsets.UTF_8);
            Fabric fabric = Fabrics.create(new FabricContext().fabric("rdma,tcp"), log))
        {
            assertEquals("tcp", fabric.name());
        }
        final String said = out.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("using tcp"), said);
        assertTrue(said.contains("rdma: " + reason), said);
    }

    @Test
    void shouldReportUnavailabilityFromAnInjectedEnvironmentAndRefuseToCreate()
    {
        final RdmaFabricProvider provider = new RdmaFabricProvider(new RdmaProbe.Environment()
        {
            @Override
            public void loadLibrary(final String name)
            {
                throw new UnsatisfiedLinkError("no disni in java.library.path: /opt/none");
            }

            @Override
            public int jniVersion()
            {
                return RdmaProbe.REQUIRED_JNI_VERSION;
            }

            @Override
            public String libraryPath()
            {
                return "/opt/none";
            }

            @Override
            public Path infinibandClassDir()
            {
                return Path.of("/nonexistent/sys/class/infiniband");
            }

            @Override
            public Path processLimits()
            {
                return Path.of("/proc/self/limits");
            }
        });
        final FabricContext ctx = new FabricContext().fabric("rdma").conclude();
        final String reason = provider.unavailableReason(ctx);
        assertTrue(reason.contains("libdisni not found on java.library.path (/opt/none)"), reason);
        assertTrue(reason.contains("no RDMA device (/nonexistent/sys/class/infiniband"), reason);
        final FabricException ex = assertThrows(FabricException.class, () -> provider.create(ctx));
        assertEquals(reason, ex.getMessage());
    }

    @Test
    void shouldBeAvailableWhenTheInjectedEnvironmentHasEverything(@org.junit.jupiter.api.io.TempDir final Path root)
        throws IOException
    {
        final Path port = root.resolve("infiniband/rxe_eth0/ports/1");
        java.nio.file.Files.createDirectories(port);
        java.nio.file.Files.writeString(port.resolve("state"), "4: ACTIVE\n");
        final Path limits = root.resolve("limits");
        java.nio.file.Files.writeString(limits, "Max locked memory         unlimited            unlimited  bytes\n");
        final RdmaFabricProvider provider = new RdmaFabricProvider(new RdmaProbe.Environment()
        {
            @Override
            public void loadLibrary(final String name)
            {
            }

            @Override
            public int jniVersion()
            {
                return RdmaProbe.REQUIRED_JNI_VERSION;
            }

            @Override
            public String libraryPath()
            {
                return "/usr/local/lib";
            }

            @Override
            public Path infinibandClassDir()
            {
                return root.resolve("infiniband");
            }

            @Override
            public Path processLimits()
            {
                return limits;
            }
        });
        assertNull(provider.unavailableReason(new FabricContext().fabric("rdma").conclude()));
    }
}
