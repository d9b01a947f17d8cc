package dev.splitkernel.monitor.storage;

import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.StorageDescriptor;
import dev.splitkernel.verbs.Status;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StorageMonitorTest
{
    @TempDir
    Path temp;

    @Test
    void shouldReplayItsJournalAfterARestartAndCutATornTail() throws Exception
    {
        final Path data = temp.resolve("data");
        try (StorageFixture fixture = new StorageFixture(data, 0, 1L << 30))
        {
            final FileCalls files = fixture.files(9);
            assertEquals(0, files.mkdir("/a"));
            assertEquals(0, files.mkdir("/a/b"));
            final int fd = files.open("/a/b/file", FileFlags.O_CREAT | FileFlags.O_WRONLY);
            assertEquals(5, files.write(fd, new UnsafeBuffer("hello".getBytes()), 0, 5));
            assertEquals(0, files.fsync(fd));
            assertEquals(0, files.close(fd));
            assertEquals(0, files.rename("/a", "/z"));
            assertTrue(files.open("/gone", FileFlags.O_CREAT | FileFlags.O_WRONLY) >= 0);
            assertEquals(0, files.unlink("/gone"));
        }
        // A record cut short by a crash: replay must stop before it and truncate it away.
        Files.write(data.resolve("journal.log"), new byte[] {40, 0, 0, 0, 1, 0}, StandardOpenOption.APPEND);
        try (StorageFixture fixture = new StorageFixture(data, 0, 1L << 30))
        {
            final FileCalls files = fixture.files(9);
            final FileStat stat = new FileStat();
            assertEquals(0, files.stat("/z/b/file", stat));
            assertEquals(5, stat.sizeBytes());
            assertEquals(Errno.ENOENT, files.stat("/a", stat));
            assertEquals(Errno.ENOENT, files.stat("/gone", stat));
            final List<String> names = new ArrayList<>();
            assertEquals(1, files.readdir("/", names));
            assertEquals(List.of("z"), names);
            assertEquals(0, files.mkdir("/after"));
            assertEquals(0, fixture.files(10).readdir("/", new ArrayList<>()));
        }
        try (StorageFixture fixture = new StorageFixture(data, 0, 1L << 30))
        {
            assertEquals(0, fixture.files(9).stat("/after", new FileStat()));
        }
    }

    @Test
    void shouldServeMoreFilesThanItKeepsOpen()
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), 0, 1L << 30))
        {
            final FileCalls files = fixture.files(2);
            final int count = FileStore.MAX_OPEN_CHANNELS + 44;
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8]);
            for (int i = 0; i < count; i++)
            {
                final int fd = files.open("/f" + i, FileFlags.O_CREAT | FileFlags.O_WRONLY);
                buffer.putLong(0, i * 31L);
                assertEquals(8, files.write(fd, buffer, 0, 8));
                assertEquals(0, files.fsync(fd));
                assertEquals(0, files.close(fd));
            }
            for (int i = 0; i < count; i++)
            {
                final int fd = files.open("/f" + i, FileFlags.O_RDONLY);
                assertEquals(8, files.read(fd, buffer, 0, 8));
                assertEquals(i * 31L, buffer.getLong(0));
                assertEquals(0, files.close(fd));
            }
            assertEquals(count * 8L, fixture.storage.usedBytes());
        }
    }

    @Test
    void shouldRefuseUnknownOpcodesAndMalformedRequestsAndKeepServing()
    {
        try (StorageFixture fixture = new StorageFixture(temp.resolve("data"), 0, 1L << 30))
        {
            final UnsafeBuffer request = new UnsafeBuffer(new byte[128]);
            final UnsafeBuffer reply = new UnsafeBuffer(new byte[128]);
            assertEquals(Status.UNKNOWN_OPCODE, fixture.storage.onRequest(Opcodes.MMAP, request, 0, 64, reply, 0, 128));
            assertEquals(Status.MALFORMED, fixture.storage.onRequest(Opcodes.FILE_STAT, request, 0, 8, reply, 0, 128));
            request.putInt(StorageDescriptor.PATH_LENGTH_OFFSET, -1);
            assertEquals(Status.MALFORMED, fixture.storage.onRequest(Opcodes.FILE_STAT, request, 0, 64, reply, 0, 128));
            final int length = StorageDescriptor.encodeRequest(request, 0, 1, 0, 0, 0, StorageDescriptor.bytes("a/../b"), null);
            assertTrue(fixture.storage.onRequest(Opcodes.FILE_STAT, request, 0, length, reply, 0, 128) > 0);
            assertEquals(Errno.EINVAL, StorageDescriptor.result(reply, 0));
            assertTrue(fixture.storage.errors() >= 4);
            assertEquals(0, fixture.files(1).mkdir("/still-serving"));
        }
    }
}
