package dev.splitkernel.excache;

import dev.splitkernel.counting.Counting;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The counting switch ({@link Counting}) is a static final read once, so each setting runs in a JVM of its own: a
 * cache serves the same hits and misses correctly either way, and counts them only with counting on.
 */
class CountingSwitchTest
{
    private static final int HITS = 1000;

    @Test
    void shouldCountHitsAndMissesWithCountingOn() throws Exception
    {
        assertEquals("hits=" + HITS + " misses=1", run(true));
    }

    @Test
    void shouldCountNothingButServeTheSameWithCountingOff() throws Exception
    {
        assertEquals("hits=0 misses=0", run(false));
    }

    private static String run(final boolean counting) throws IOException, InterruptedException
    {
        final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        final List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx128m"));
        // the module exports Agrona's Unsafe access needs, as this JVM got them
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("--add-") || a.startsWith("--enable-")).forEach(command::add);
        command.addAll(List.of("-D" + Counting.PROP_NAME + "=" + counting,
            "-cp", System.getProperty("java.class.path"), ServeHits.class.getName()));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the forked JVM did not finish in 60 s");
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, process.exitValue(), out);
        return out;
    }

    /** Run in the forked JVM: one cold miss, then {@link #HITS} hits, each checked; prints what was counted. */
    public static final class ServeHits
    {
        public static void main(final String[] args)
        {
            final TestLineSource source = new TestLineSource(4096);
            try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(16 * 4096).lineBytes(4096).ways(4)
                .policy(EvictionPolicy.FIFO), source))
            {
                final long value = Held.getLong(cache, 1, 0); // the one miss
                final long hitsBefore = cache.counters().hits();
                for (int i = 0; i < HITS; i++)
                {
                    if (Held.getLong(cache, 1, 0) != value)
                    {
                        throw new AssertionError("hit " + i + " read a wrong value");
                    }
                }
                System.out.println("hits=" + (cache.counters().hits() - hitsBefore)
                    + " misses=" + cache.counters().misses());
            }
        }
    }
}
