package dev.splitkernel.workload;

final class VersionSum
{
    private VersionSum()
    {
    }

    /** Read every word of a word-indexed region: each must hold its own index; the versions must add up. */
    static void verify(final WordMemory memory, final long base, final long words, final long totalWrites,
        final String workload)
    {
        long versions = 0;
        for (long i = 0; i < words; i++)
        {
            final long address = base + i * 8;
            final long word = memory.getLong(address);
            Words.check(word, i, address, workload);
            versions += Words.version(word);
        }
        if (versions != totalWrites)
        {
            throw new VerificationException(workload + ": versions in memory add up to " + versions + " but "
                + totalWrites + " writes were made (a write or a write-back was lost)");
        }
    }
}
