package dev.splitkernel.excache;

/**
 * How the miss path picks a victim way in a full set. Empty ways are always used first.
 * <ul>
 * <li>{@link #FIFO}: the line filled longest ago in the set (LegoOS's default; no work on hits).</li>
 * <li>{@link #CLOCK}: second chance, an approximation of LRU: hits set a reference bit, the hand clears set bits
 * and takes the first way whose bit is clear.</li>
 * </ul>
 */
public enum EvictionPolicy
{
    FIFO,
    CLOCK
}
