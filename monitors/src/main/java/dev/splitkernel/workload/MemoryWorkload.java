package dev.splitkernel.workload;

/**
 * A workload that the {@code run} command measures on a splitkernel process and on local memory: the workload API.
 * Its region of {@code lengthBytes} at {@code base} is mapped (read-write, anonymous, zero-filled) before
 * {@link #prepare}; then, in {@code threads} threads sharing the region, {@link #populate} and, after a barrier,
 * {@link #run} are timed together; then {@link #verify} checks the result. The same code runs on both memories,
 * through {@link WordMemory} (typed loads and stores, bulk copies, {@link WordMemory#files() files}).
 * <p>
 * The built-in ones keep {@link Words#value(long, long) (version, index)} words or check their results against a
 * reference computation, so a lost write-back or a line from the wrong place fails the run. A user's workload is a
 * public class with a public no-argument constructor ({@code run --workload-class NAME --classpath JAR}).
 * <p>
 * One instance is used for every run of one workload, one run at a time; its threads share it. {@link #prepare} may
 * set up per-run state (a barrier for {@code threads}, expected results) that later phases read.
 */
public interface MemoryWorkload
{
    String name();

    /** Length of the region the workload uses for a working set of {@code workingSetBytes}. */
    long regionBytes(long workingSetBytes);

    /**
     * Untimed set-up before the timed phases, in one thread: write input files, compute expected results. The
     * region is mapped and zero. By default nothing.
     */
    default void prepare(WordMemory memory, long base, long lengthBytes, int threads)
    {
    }

    /** Write the initial contents: thread {@code thread} of {@code threads} writes its share. */
    void populate(WordMemory memory, long base, long lengthBytes, int thread, int threads);

    /**
     * The measured phase, thread {@code thread} of {@code threads}.
     *
     * @return a count that {@link #verify} checks (the built-in ones: writes made, words counted, ...); summed over
     * the threads.
     * @throws VerificationException on a read that does not hold the expected value.
     */
    long run(WordMemory memory, long base, long lengthBytes, int thread, int threads);

    /**
     * Check the result after the measured phase.
     *
     * @param total the sum of {@link #run}'s results over the threads.
     * @throws VerificationException when the result is wrong.
     */
    void verify(WordMemory memory, long base, long lengthBytes, long total);
}
