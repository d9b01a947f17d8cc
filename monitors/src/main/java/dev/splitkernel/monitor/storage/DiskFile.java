package dev.splitkernel.monitor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/** An open file of a {@link Disk}, read and written at explicit positions (as {@link java.nio.channels.FileChannel}). */
public interface DiskFile extends AutoCloseable
{
    /** Read into {@code dst} from {@code position}; returns the bytes read, -1 at or past the end. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Write {@code src} at {@code position} (extending the file if needed); returns the bytes written. */
    int write(ByteBuffer src, long position) throws IOException;

    long size() throws IOException;

    /** Cut the file to {@code sizeBytes} if it is longer. */
    void truncate(long sizeBytes) throws IOException;

    /** Make every byte written and the size durable: fsync. */
    void force() throws IOException;

    @Override
    void close() throws IOException;
}
