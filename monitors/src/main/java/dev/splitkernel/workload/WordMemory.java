package dev.splitkernel.workload;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * What a workload runs on: typed loads and stores at byte addresses, bulk copies, and files. The same workload code
 * measures local memory (a plain off-heap buffer and a local folder) and a splitkernel process (loads and stores
 * through the ExCache, files through the storage monitor). Addresses are absolute; implementations decide what they
 * mean. Part of the workload API ({@link MemoryWorkload}).
 * <p>
 * Thread-safety is the implementation's: both built-in ones allow concurrent access to distinct words.
 */
public interface WordMemory
{
    byte getByte(long address);

    void putByte(long address, byte value);

    int getInt(long address);

    void putInt(long address, int value);

    long getLong(long address);

    void putLong(long address, long value);

    float getFloat(long address);

    void putFloat(long address, float value);

    double getDouble(long address);

    void putDouble(long address, double value);

    /** Copy {@code length} bytes at {@code address} into {@code dst}. */
    void getBytes(long address, MutableDirectBuffer dst, int dstOffset, int length);

    /** Copy {@code length} bytes of {@code src} to {@code address}. */
    void putBytes(long address, DirectBuffer src, int srcOffset, int length);

    /** The process's files: the storage monitor's file API in a splitkernel process, a folder for local memory. */
    WorkloadFiles files();
}
