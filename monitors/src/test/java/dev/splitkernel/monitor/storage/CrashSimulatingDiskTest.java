package dev.splitkernel.monitor.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The crash-simulating disk itself: what a crash keeps and drops, and crashing partway through a write. */
class CrashSimulatingDiskTest
{
    @TempDir
    Path root;

    @Test
    void shouldKeepForcedBytesAndDropTheRestAtACrash() throws IOException
    {
        final CrashSimulatingDisk disk = new CrashSimulatingDisk(root, CrashSimulatingDisk.Loss.ALL_UNFORCED, 1);
        final Path file = root.resolve("f");
        try (DiskFile f = disk.open(file))
        {
            f.write(ByteBuffer.wrap(bytes(100, 1)), 0);
            f.force();
            f.write(ByteBuffer.wrap(bytes(50, 2)), 80);
            f.truncate(10);
            assertEquals(10, f.size(), "reads see what was written, forced or not");
        }
        disk.forceDirectory(root);
        disk.restart();
        assertArrayEquals(bytes(100, 1), read(disk, file), "the forced image, without the later write and truncate");
    }

    @Test
    void shouldLoseAFileWhoseDirectoryWasNotForcedEvenIfItsDataWas() throws IOException
    {
        final CrashSimulatingDisk disk = new CrashSimulatingDisk(root, CrashSimulatingDisk.Loss.ALL_UNFORCED, 1);
        disk.createDirectories(root.resolve("a/b"));
        final Path file = root.resolve("a/b/f");
        try (DiskFile f = disk.open(file))
        {
            f.write(ByteBuffer.wrap(bytes(10, 1)), 0);
            f.force();
        }
        disk.forceDirectory(root.resolve("a/b"));
        disk.restart();
        assertFalse(disk.exists(root.resolve("a")), "a was never made durable in root, nor b in a");
        assertNull(disk.durableBytes(file));
    }

    @Test
    void shouldFailEveryCallFromTheCrashPointUntilRestart() throws IOException
    {
        final CrashSimulatingDisk disk = new CrashSimulatingDisk(root, CrashSimulatingDisk.Loss.ALL_UNFORCED, 1);
        final DiskFile f = disk.open(root.resolve("f"));
        disk.crashAt(disk.operations() + 1);
        f.write(ByteBuffer.wrap(bytes(10, 1)), 0); // operation n; the crash hits n + 1
        assertThrows(IOException.class, () -> f.write(ByteBuffer.wrap(bytes(10, 2)), 10));
        assertTrue(disk.crashed());
        assertThrows(IOException.class, () -> f.size());
        assertThrows(IOException.class, () -> disk.exists(root));
        disk.restart();
        assertFalse(disk.exists(root.resolve("f")));
        assertThrows(IOException.class, () -> f.size(), "a handle from before the crash is dead");
    }

    @Test
    void shouldReplayTheSameTornCrashFromTheSameSeed() throws IOException
    {
        final byte[][] images = new byte[2][];
        for (int run = 0; run < 2; run++)
        {
            final Path dir = root.resolve("run" + run);
            final CrashSimulatingDisk disk = new CrashSimulatingDisk(dir, CrashSimulatingDisk.Loss.SOME_UNFORCED, 99);
            final Path file = dir.resolve("f");
            try (DiskFile f = disk.open(file))
            {
                disk.forceDirectory(dir);
                for (int i = 0; i < 20; i++)
                {
                    f.write(ByteBuffer.wrap(bytes(1000, i + 1)), i * 1000L);
                }
                disk.crashAt(disk.operations());
                assertThrows(IOException.class, () -> f.write(ByteBuffer.wrap(bytes(1000, 99)), 20_000));
            }
            disk.restart();
            images[run] = read(disk, file);
        }
        assertArrayEquals(images[0], images[1]);
        assertTrue(images[0].length > 0 && images[0].length < 21_000, "some, not all, of the writes should land: " +
            images[0].length);
    }

    private static byte[] read(final CrashSimulatingDisk disk, final Path file) throws IOException
    {
        try (DiskFile f = disk.open(file))
        {
            final ByteBuffer dst = ByteBuffer.allocate((int)f.size());
            while (dst.hasRemaining() && f.read(dst, dst.position()) > 0)
            {
                // read until full
            }
            return dst.array();
        }
    }

    private static byte[] bytes(final int length, final int value)
    {
        final byte[] bytes = new byte[length];
        Arrays.fill(bytes, (byte)value);
        return bytes;
    }
}
