package dev.splitkernel.monitor.processor;

/**
 * A program that runs as a process (or as one thread of a process) on a processor monitor: it sees the process's
 * virtual address space through {@link LegoProcess}.
 */
@FunctionalInterface
public interface Workload
{
    /**
     * @return the exit code (0 for success).
     * @throws SegmentationFault when it touches an unmapped or protected address (the process is killed).
     */
    int run(LegoProcess process) throws Exception;
}
