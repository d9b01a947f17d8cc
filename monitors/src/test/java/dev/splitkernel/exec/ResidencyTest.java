package dev.splitkernel.exec;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ResidencyTest
{
    @Test
    void fifoShouldEvictInInstallOrder()
    {
        final Residency fifo = Residency.create("fifo", 3, 100);
        fifo.installed(7);
        fifo.installed(3);
        fifo.installed(9);
        fifo.referenced(7);
        assertEquals(7, fifo.evict());
        fifo.installed(1);
        assertEquals(3, fifo.evict());
        assertEquals(9, fifo.evict());
        assertEquals(1, fifo.evict());
        assertEquals(0, fifo.size());
    }

    @Test
    void clockShouldGiveAReferencedPageASecondChance()
    {
        final Residency clock = Residency.create("clock", 3, 100);
        clock.installed(7);
        clock.installed(3);
        clock.installed(9);
        // Every page is referenced on install: the hand clears all three and takes the first.
        assertEquals(7, clock.evict());
        clock.installed(1);
        clock.referenced(3);
        // 3 was written after the sweep: spared once; 9 was not.
        assertEquals(9, clock.evict());
        assertEquals(3, clock.size() + 1);
    }

    @Test
    void shouldRefuseAnUnknownPolicy()
    {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> Residency.create("lru", 3, 100));
    }
}
