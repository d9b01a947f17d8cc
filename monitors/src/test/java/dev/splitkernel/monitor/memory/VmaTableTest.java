package dev.splitkernel.monitor.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VmaTableTest
{
    @Test
    void shouldMergeAdjacentRangesWithTheSameProtection()
    {
        final VmaTable table = VmaTable.EMPTY.with(0x1000, 0x2000, 3).with(0x2000, 0x5000, 3).with(0x5000, 0x6000, 1);
        assertEquals(2, table.count());
        assertEquals(0x1000, table.start(0));
        assertEquals(0x5000, table.end(0));
        assertEquals(1, table.protAt(0x5800));
        assertEquals(-1, table.protAt(0x6000));
        assertEquals(-1, table.protAt(0x0fff));
    }

    @Test
    void shouldSplitOnUnmapAndProtect()
    {
        VmaTable table = VmaTable.EMPTY.with(0x1000, 0x9000, 3);
        table = table.without(0x3000, 0x4000);
        assertEquals(2, table.count());
        assertTrue(table.isFree(0x3000, 0x4000));
        assertFalse(table.isMapped(0x2000, 0x5000));
        assertEquals(0x7000, table.mappedBytes());
        table = table.protect(0x2000, 0x6000, 1);
        assertEquals(3, table.protAt(0x1000));
        assertEquals(1, table.protAt(0x2000));
        assertEquals(-1, table.protAt(0x3000));
        assertEquals(1, table.protAt(0x5000));
        assertEquals(3, table.protAt(0x6000));
        assertEquals(0x6000, table.mappedBytes(0, 0x8000));
    }

    @Test
    void shouldFindTheLowestGapThatFits()
    {
        final VmaTable table = VmaTable.EMPTY.with(0x1000, 0x2000, 3).with(0x3000, 0x4000, 3).with(0x6000, 0x7000, 3);
        assertEquals(0x2000, table.findGap(0x1000, 0x10000, 0x1000));
        assertEquals(0x4000, table.findGap(0x1000, 0x10000, 0x2000));
        assertEquals(0x7000, table.findGap(0x1000, 0x10000, 0x3000));
        assertEquals(-1, table.findGap(0x1000, 0x8000, 0x3000));
        assertEquals(0x1000, VmaTable.EMPTY.findGap(0x1000, 0x2000, 0x1000));
    }
}
