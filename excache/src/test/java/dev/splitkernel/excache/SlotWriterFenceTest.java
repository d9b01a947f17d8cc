package dev.splitkernel.excache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seqlock writer must fence the busy mark from the stores that follow it (a StoreStore barrier): without it a
 * weakly ordered CPU (ARM, POWER) may make a line's new bytes visible before the busy mark, and a lock-free reader
 * then accepts them under the old, settled state. x86, where these tests run, never reorders two stores, so the
 * missing fence cannot be provoked here; this test records the writer's memory operations during real misses,
 * evictions and flushes and checks the protocol instead.
 */
class SlotWriterFenceTest
{
    /** Records every ordering-relevant operation of the writer, in program order, and performs it. */
    private static final class RecordingWriter extends SlotWriter
    {
        final List<String> trace = new ArrayList<>();

        @Override
        synchronized void storeVolatile(final long address, final long value)
        {
            trace.add((value & ExCacheLayout.STATE_BUSY) != 0 ? "busy" : "volatile");
            super.storeVolatile(address, value);
        }

        @Override
        synchronized void storeStoreFence()
        {
            trace.add("fence");
            super.storeStoreFence();
        }

        @Override
        synchronized void storeRelease(final long address, final long value)
        {
            trace.add("publish");
            super.storeRelease(address, value);
        }
    }

    @Test
    void shouldFenceTheBusyMarkFromTheLineStoresThatFollowIt()
    {
        final RecordingWriter writer = new RecordingWriter();
        final TestLineSource source = new TestLineSource(4096);
        try (ExCache cache = new ExCache(new ExCacheContext().capacityBytes(4 * 4096).lineBytes(4096).ways(4),
            source, writer))
        {
            for (int line = 0; line < 12; line++)
            {
                cache.putLong(1, line * 4096L, line); // fills, then dirty evictions
            }
            assertEquals(0, cache.flushAndDropAll(1));
        }
        final List<String> trace = writer.trace;
        assertTrue(trace.size() >= 24, "misses and drops wrote slots: " + trace);
        for (int i = 0; i < trace.size(); i++)
        {
            if ("busy".equals(trace.get(i)))
            {
                assertTrue(i + 1 < trace.size() && "fence".equals(trace.get(i + 1)),
                    "a StoreStore fence right after the busy mark, before the bytes change (at " + i + "): " + trace);
            }
        }
        assertEquals(trace.stream().filter("busy"::equals).count(), trace.stream().filter("publish"::equals).count(),
            "every busy mark is published: " + trace);
    }
}
