package dev.splitkernel.workload;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The file calls a workload may make, as POSIX defines them: results are non-negative on success and a negative
 * errno ({@link dev.splitkernel.protocol.Errno}) on failure; flags are {@link dev.splitkernel.protocol.FileFlags}.
 * Part of the workload API ({@link MemoryWorkload}).
 */
public interface WorkloadFiles
{
    /** open(2): a descriptor, or a negative errno. */
    int open(String path, int flags);

    /** pread(2): bytes read (0 at end of file), or a negative errno. */
    long pread(int fd, MutableDirectBuffer dst, int dstOffset, int length, long offset);

    /** pwrite(2): bytes written, or a negative errno. */
    long pwrite(int fd, DirectBuffer src, int srcOffset, int length, long offset);

    /** close(2): 0, or a negative errno. */
    int close(int fd);
}
