package dev.splitkernel.monitor.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The storage monitor's local disk: every byte the storage monitor keeps goes through this interface, so a test can
 * put a crash-simulating layer underneath (one that drops whatever was not forced). {@link FileChannelDisk} is the
 * real one.
 * <p>
 * The durability contract is POSIX's: a file's bytes and size are durable once {@link DiskFile#force()} returns; a
 * file's existence (its link in a directory: created, deleted or moved) once {@link #forceDirectory(Path)} of its
 * parent returns.
 */
public interface Disk
{
    /** Open the file for reading and writing, creating it (empty) if missing; its parent directory must exist. */
    DiskFile open(Path file) throws IOException;

    boolean exists(Path path) throws IOException;

    /** Size of an existing file. */
    long size(Path file) throws IOException;

    /** Create the directory and any missing parent. */
    void createDirectories(Path dir) throws IOException;

    /**
     * Delete a file or an empty directory.
     *
     * @return false if it did not exist.
     * @throws java.nio.file.DirectoryNotEmptyException if a directory still has entries.
     */
    boolean deleteIfExists(Path path) throws IOException;

    /** Move a file atomically, replacing {@code to} if it exists. */
    void move(Path from, Path to) throws IOException;

    /** Make the directory's entries (files created, deleted or moved in it) durable: fsync of the directory. */
    void forceDirectory(Path dir) throws IOException;
}
