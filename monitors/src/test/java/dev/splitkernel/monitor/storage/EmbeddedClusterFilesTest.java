package dev.splitkernel.monitor.storage;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.monitor.processor.FileCalls;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.FileFlags;
import dev.splitkernel.protocol.FileStat;
import dev.splitkernel.protocol.StorageManagerProxy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedClusterFilesTest
{
    /** The cluster under test: in-process here; a subclass picks another fabric. */
    ClusterContext context()
    {
        return new ClusterContext().fabric("local").preset("none");
    }

    @Test
    void shouldGiveEachProcessTheFilesOfItsVNodeThroughTheBufferCache()
    {
        final ClusterContext ctx = context().memoryMonitors(2);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(ctx);
            StorageManagerProxy gsm = new StorageManagerProxy(cluster.processor().fabric()
                .connect(cluster.globalAddress()), ctx.timeoutNs()))
        {
            final int other = gsm.createVNode("other", "/mnt/other");
            assertTrue(other > FileCalls.DEFAULT_VNODE_ID, Errno.describe(other));
            final UnsafeBuffer data = new UnsafeBuffer(new byte[10_000]);
            for (int i = 0; i < data.capacity(); i++)
            {
                data.putByte(i, (byte)i);
            }
            try (LegoProcess writer = cluster.createProcess("writer"))
            {
                final FileCalls files = writer.files();
                final int fd = files.open("/data", FileFlags.O_CREAT | FileFlags.O_WRONLY);
                assertEquals(data.capacity(), files.write(fd, data, 0, data.capacity()));
                assertEquals(0, files.fsync(fd));
                assertThrows(IllegalStateException.class, () -> writer.files(other));
            }
            try (LegoProcess reader = cluster.createProcess("reader");
                LegoProcess stranger = cluster.createProcess("stranger"))
            {
                final FileCalls files = reader.files();
                final int fd = files.open("/data", FileFlags.O_RDONLY);
                final UnsafeBuffer back = new UnsafeBuffer(new byte[data.capacity()]);
                assertEquals(data.capacity(), files.read(fd, back, 0, back.capacity()));
                assertEquals(0, data.compareTo(back));
                assertEquals(Errno.ENOENT, stranger.files(other).stat("/data", new FileStat()));
            }
            assertTrue(cluster.storage().usedBytes() >= data.capacity());
            assertThrows(IllegalStateException.class, () -> cluster.createProcess("lost").files(999));
        }
    }
}
