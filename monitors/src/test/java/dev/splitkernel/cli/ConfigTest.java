package dev.splitkernel.cli;

import dev.splitkernel.monitor.global.GlobalManagerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings files and bad settings: each fails at start with a message naming the setting. */
class ConfigTest
{
    private static final String TIMEOUT = GlobalManagerContext.MEMBER_TIMEOUT_PROP_NAME;

    @TempDir
    Path dir;

    private final Properties saved = new Properties();

    @BeforeEach
    void before()
    {
        saved.putAll(System.getProperties());
    }

    /** Loading a file sets system properties: put back exactly what was there, for the other tests in this JVM. */
    @AfterEach
    void after()
    {
        for (final String key : System.getProperties().stringPropertyNames())
        {
            if (!saved.containsKey(key))
            {
                System.clearProperty(key);
            }
        }
        saved.forEach((k, v) -> System.setProperty((String)k, (String)v));
    }

    private int execute(final ByteArrayOutputStream err, final String... args)
    {
        return Main.execute(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shouldLoadAFileWithoutOverridingSystemProperties() throws IOException
    {
        final Path file = Files.writeString(dir.resolve("a.properties"),
            TIMEOUT + "=1234\nsplitkernel.memory.capacityBytes=4096\n");
        System.setProperty("splitkernel.memory.capacityBytes", "8192");
        assertArrayEquals(new String[] {"--x", "y"}, Config.apply(new String[] {"--config", file.toString(), "--x", "y"}));
        assertEquals("1234", System.getProperty(TIMEOUT));
        assertEquals("8192", System.getProperty("splitkernel.memory.capacityBytes"), "-D wins over the file");
        assertEquals(1234, new GlobalManagerContext().conclude().memberTimeoutMs());
    }

    @Test
    void shouldReadTheShippedPresets()
    {
        final String projectDir = System.getProperty("splitkernel.projectDir", "..");
        for (final String preset : new String[] {"tcp-cluster", "testbed"})
        {
            Config.load(Path.of(projectDir, "native-config", "presets", preset + ".properties"));
            assertTrue(System.getProperty(TIMEOUT) != null, preset);
            System.clearProperty(TIMEOUT);
        }
    }

    @Test
    void shouldAcceptTheRdmaSettingsFileForEveryRole()
    {
        final String file = Path.of(System.getProperty("splitkernel.projectDir", ".."), "native-config",
            "disni.properties").toString();
        for (final String role : new String[] {"global", "memory", "storage", "processor", "run", "members"})
        {
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, execute(err, role, "--config", file, "--help"), () -> role + ": " + err);
            assertEquals("64", System.getProperty("splitkernel.rdma.sendSlots"), role);
            after();
        }
    }

    @Test
    void shouldRefuseAnUnknownSettingNamingIt() throws IOException
    {
        final Path file = Files.writeString(dir.resolve("b.properties"), "splitkernel.memory.capasityBytes=1\n");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, execute(err, "global", "--config", file.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown setting 'splitkernel.memory.capasityBytes'"),
            err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRefuseAMissingConfigFile()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, execute(err, "memory", "--config", dir.resolve("none.properties").toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--config: no such file"));
    }

    @Test
    void shouldRefuseANonNumericSettingNamingIt()
    {
        System.setProperty("splitkernel.memory.capacityBytes", "12m");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, execute(err, "memory", "--help"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("splitkernel.memory.capacityBytes='12m' is not a whole"),
            err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRefuseANegativeMemberTimeoutAtStart()
    {
        System.setProperty(TIMEOUT, "-5");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, execute(err, "global", "--fabric", "local", "--listen", "g-config-test"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains(TIMEOUT), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRefuseARunWithoutAGlobalAddressAndPrintHelp()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, execute(err, "members"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("give --global ADDRESS or --cluster FILE"));
        assertEquals(0, execute(new ByteArrayOutputStream(), "run", "--global", "x", "--help"));
        assertEquals(0, execute(new ByteArrayOutputStream(), "members", "--help"));
        assertEquals(0, execute(new ByteArrayOutputStream(), "ping", "--help"));
        final ByteArrayOutputStream badSize = new ByteArrayOutputStream();
        assertEquals(2, execute(badSize, "run", "--global", "127.0.0.1:1", "--working-set", "lots"));
        assertTrue(badSize.toString(StandardCharsets.UTF_8).contains("--working-set: 'lots' is not a size"));
    }
}
