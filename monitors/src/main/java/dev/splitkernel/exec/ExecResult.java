package dev.splitkernel.exec;

/**
 * How a program ran under {@code splitkernel exec}.
 *
 * @param exitCode        the program's own exit code (128 + signal when a signal ended it)
 * @param wallNs          from its start to its exit
 * @param counts          what the fault handler did (null when the program never connected)
 * @param failure         why the emulation stopped the program, or null
 * @param outsideExecs    programs it started with exec, which ran outside the emulation
 * @param local           what stayed local (null when the program did not say goodbye: killed, or _exit)
 */
public record ExecResult(int exitCode, long wallNs, ExecCounts counts, String failure, int outsideExecs,
    LocalMemory local)
{
    /**
     * Memory outside the emulated heap, as the program saw it at exit.
     *
     * @param forks         fork() calls (children without exec get a private heap)
     * @param mmapCalls     the program's own anonymous mmaps
     * @param mmapBytes     their bytes
     * @param stackBytes    its main stack (VmStk)
     * @param rssAnonBytes  resident anonymous memory outside the heap (stacks, static data, its mmaps)
     * @param rssFileBytes  resident file-backed memory (code, read-only data)
     * @param heapUsedBytes the heap arena's high-water mark
     */
    public record LocalMemory(int forks, long mmapCalls, long mmapBytes, long stackBytes, long rssAnonBytes,
        long rssFileBytes, long heapUsedBytes)
    {
    }
}
