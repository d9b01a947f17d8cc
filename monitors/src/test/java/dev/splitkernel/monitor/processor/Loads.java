package dev.splitkernel.monitor.processor;

/**
 * One load for tests that check a value here and there: a process has no load of its own (every load goes through a
 * thread's view that holds its hit count), so this opens a view, loads and closes it; the hit stays counted.
 */
public final class Loads
{
    private Loads()
    {
    }

    /** {@code process.threadMemory().getLong(address)}, the view closed again. */
    public static long getLong(final LegoProcess process, final long address)
    {
        try (LegoProcess.ThreadMemory memory = process.threadMemory())
        {
            return memory.getLong(address);
        }
    }
}
