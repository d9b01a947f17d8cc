package dev.splitkernel.workload;

/**
 * A built-in workload over a {@link WordMemory} region of {@code lengthBytes} at {@code base}: populate it, run
 * the measured phase in one or more threads that share the region, then verify. Every word holds
 * {@link Words#value(long, long) (version, index)}: each read checks the index (a line from the wrong place, or a
 * torn or lost line, fails at once), each write bumps a version, and verification checks that the versions
 * add up to the writes made, so a lost write-back fails the run.
 * <p>
 * Instances are immutable and may be shared by threads; each thread passes its own index.
 */
public interface MemoryWorkload
{
    String name();

    /** Length of the region the workload uses for a working set of {@code workingSetBytes}. */
    long regionBytes(long workingSetBytes);

    /** Write the initial contents: thread {@code thread} of {@code threads} writes its share. */
    void populate(WordMemory memory, long base, long lengthBytes, int thread, int threads);

    /**
     * The measured phase, thread {@code thread} of {@code threads}.
     *
     * @return the number of version bumps (writes) this thread made.
     * @throws VerificationException on a read that does not hold the expected word.
     */
    long run(WordMemory memory, long base, long lengthBytes, int thread, int threads);

    /**
     * Read the whole region back after the measured phase.
     *
     * @param totalWrites the sum of {@link #run}'s results over the threads.
     * @throws VerificationException when a word or the version total is wrong.
     */
    void verify(WordMemory memory, long base, long lengthBytes, long totalWrites);
}
