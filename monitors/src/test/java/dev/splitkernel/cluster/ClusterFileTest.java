package dev.splitkernel.cluster;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterFileTest
{
    private static final Path FILE = Path.of("test.cluster");

    private static ClusterFile parse(final String... lines)
    {
        return ClusterFile.parse(FILE, List.of(lines));
    }

    private static String error(final String... lines)
    {
        return assertThrows(IllegalArgumentException.class, () -> parse(lines)).getMessage();
    }

    @Test
    void shouldReadSettingsAndMembersIgnoringComments()
    {
        final ClusterFile cluster = parse(
            "# a cluster",
            "fabric tcp   # the fabric",
            "",
            "secret-file native-config/cluster.secret",
            "member-timeout-ms 2500",
            "global g0 10.0.0.1 7000",
            "memory m0 10.0.0.2 7001 --capacity 64m --vregion 4m",
            "\tprocessor   p0  10.0.0.3  7002");
        assertEquals("tcp", cluster.fabric());
        assertEquals("native-config/cluster.secret", cluster.secretFile());
        assertEquals(2500, cluster.memberTimeoutMs());
        assertNull(cluster.home());
        assertEquals(ClusterFile.CONFIG_DEFAULT, cluster.config());
        assertEquals(3, cluster.members().size());
        assertEquals("10.0.0.1:7000", cluster.global().address());
        assertEquals(List.of("--capacity", "64m", "--vregion", "4m"), cluster.member("m0").flags());
        assertEquals("processor", cluster.member("p0").role());
    }

    @Test
    void shouldBuildTheCommandOfEachMember()
    {
        final ClusterFile cluster = parse("config native-config/presets/testbed.properties",
            "global g0 10.0.0.1 7000", "memory m0 10.0.0.2 7001 --capacity 64m");
        assertEquals(List.of("global", "--config", "native-config/presets/testbed.properties", "--fabric", "tcp",
            "--listen", "10.0.0.1:7000"), cluster.commandOf(cluster.global()));
        assertEquals(List.of("memory", "--config", "native-config/presets/testbed.properties", "--fabric", "tcp",
            "--listen", "10.0.0.2:7001", "--global", "10.0.0.1:7000", "--capacity", "64m"),
            cluster.commandOf(cluster.member("m0")));
    }

    @Test
    void shouldRefuseMalformedFilesNamingTheLine()
    {
        assertTrue(error("global g0 h 7000", "memory m0 h").contains("test.cluster:2: a member line is"));
        assertTrue(error("global g0 h 0").contains("port 0 must be 1 to 65535"));
        assertTrue(error("global g0 h http").contains("port 'http' is not a number"));
        assertTrue(error("global g0 h 1", "memory g0 h 2").contains("'g0' is used twice"));
        assertTrue(error("global g0 h 1", "memory m0 h 1").contains("h:1 is used twice"));
        assertTrue(error("memory m0 h 1").contains("exactly one 'global'"));
        assertTrue(error("global g0 h 1", "global g1 h 2").contains("exactly one 'global'"));
        assertTrue(error("fabric local", "global g0 h 1").contains("fabric 'local' cannot reach other hosts"));
        assertTrue(error("gpu x h 1").contains("unknown line kind 'gpu'"));
        assertTrue(error("global name/with/slash h 1").contains("must be 1 to 12 letters"));
        assertTrue(error("fabric tcp rdma", "global g0 h 1").contains("'fabric' takes one value"));
    }

    @Test
    void shouldReadTheShippedExamples()
    {
        final String projectDir = System.getProperty("splitkernel.projectDir", "..");
        final ClusterFile example = ClusterFile.read(Path.of(projectDir, "native-config", "cluster.example"));
        assertEquals(5, example.members().size());
        final ClusterFile testbed = ClusterFile.read(Path.of(projectDir, "native-config", "testbed.cluster"));
        assertEquals("10.77.0.1:7000", testbed.global().address());
        assertTrue(testbed.members().stream().allMatch(m -> m.host().startsWith("10.77.0.")));
    }
}
