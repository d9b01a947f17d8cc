package dev.splitkernel.verbs.auth;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.FabricException;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The secret settings of {@link FabricContext}: read from a file at conclude(), never printed. */
class ClusterSecretSettingsTest
{
    @TempDir
    Path dir;

    @Test
    void shouldReadTheSecretFileAtConcludeIgnoringTrailingNewlines() throws Exception
    {
        final Path file = dir.resolve("secret");
        Files.write(file, "s3cret-value\n".getBytes(StandardCharsets.US_ASCII));
        final FabricContext ctx = new FabricContext().secretFile(file).conclude();
        assertArrayEquals("s3cret-value".getBytes(StandardCharsets.US_ASCII), ctx.secret());
        assertFalse(ctx.toString().contains("s3cret"), ctx.toString());
        assertArrayEquals(ctx.secret(), ctx.forFabric("local").secret());
    }

    @Test
    void shouldNameTheSettingForAMissingOrEmptySecretFile() throws Exception
    {
        final Path missing = dir.resolve("missing");
        final FabricException missingEx = assertThrows(FabricException.class,
            () -> new FabricContext().secretFile(missing).conclude());
        assertTrue(missingEx.getMessage().contains(FabricContext.SECRET_FILE_PROP_NAME), missingEx.getMessage());
        assertTrue(missingEx.getMessage().contains("does not exist"), missingEx.getMessage());

        final Path empty = dir.resolve("empty");
        Files.write(empty, "\n".getBytes(StandardCharsets.US_ASCII));
        final FabricException emptyEx = assertThrows(FabricException.class,
            () -> new FabricContext().secretFile(empty).conclude());
        assertTrue(emptyEx.getMessage().contains("is empty"), emptyEx.getMessage());

        assertThrows(FabricException.class, () -> new FabricContext().secretFile(dir).conclude());
    }

    @Test
    void shouldWarnAboutAWorldReadableSecretFile() throws Exception
    {
        final Path file = dir.resolve("open-secret");
        Files.write(file, "abc".getBytes(StandardCharsets.US_ASCII));
        try
        {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        catch (final UnsupportedOperationException ex)
        {
            org.junit.jupiter.api.Assumptions.abort("no POSIX permissions on this file system: the warning cannot arise");
        }
        try (LogCapture log = new LogCapture())
        {
            new FabricContext().secretFile(file).conclude();
            assertEquals(1, log.linesContaining("is readable by every user of this host: chmod 600 it"));
        }
    }

    @Test
    void shouldAuthenticateAFileSecretAgainstTheSameBytesGivenDirectly() throws Exception
    {
        final Path file = dir.resolve("secret");
        Files.write(file, "shared\r\n".getBytes(StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        final LocalNetwork network = new LocalNetwork();
        try (LocalFabric server = new LocalFabric(new FabricContext().secretFile(file), network);
            LocalFabric client = new LocalFabric(
                new FabricContext().secret("shared".getBytes(StandardCharsets.US_ASCII)), network))
        {
            server.listen("m", (opcode, request, offset, length, reply, replyOffset, capacity) -> 0);
            final Connection connection = client.connect("m", 1_000_000_000L);
            assertTrue(connection.isConnected());
        }
        assertNull(new FabricContext().secret(new byte[0]).conclude().secret());
    }
}
