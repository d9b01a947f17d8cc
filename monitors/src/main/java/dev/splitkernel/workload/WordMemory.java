package dev.splitkernel.workload;

/**
 * Eight-byte loads and stores at byte addresses: the one shape every built-in workload runs over, so the same
 * code measures local memory (a plain off-heap buffer) and a splitkernel process (loads and stores through the
 * ExCache). Addresses are absolute; implementations decide what they mean.
 * <p>
 * Thread-safety is the implementation's: both built-in ones allow concurrent access to distinct words.
 */
public interface WordMemory
{
    long getLong(long address);

    void putLong(long address, long value);
}
