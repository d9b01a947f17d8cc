package dev.splitkernel.excache;

/**
 * The count of {@link ExCacheHits} between 64 bytes of padding on each side: the JVM lays out a superclass's fields
 * before its subclass's, so the count, declared in the middle class, has a cache line of its own whatever the JVM
 * does with the order of fields within one class.
 */
final class ExCacheHitsPadding
{
    private ExCacheHitsPadding()
    {
    }

    /** The padding before the count. */
    @SuppressWarnings("unused")
    abstract static class Left
    {
        private long p01, p02, p03, p04, p05, p06, p07, p08;
    }

    /** The count. */
    abstract static class Count extends Left
    {
        /** Hits so far; written by the holding thread only (plain), read by others through its count(). */
        long count;
    }

    /** The padding after the count. */
    @SuppressWarnings("unused")
    abstract static class Right extends Count
    {
        private long p11, p12, p13, p14, p15, p16, p17, p18;
    }
}
