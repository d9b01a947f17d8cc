package dev.splitkernel.monitor.memory;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerGateTest
{
    @Test
    void shouldGiveUpWhenNoWorkerFreesWithinTheTimeout()
    {
        final WorkerGate gate = new WorkerGate(1);
        assertTrue(gate.acquire(1_000_000_000L));
        // The only worker is held (a handler stuck elsewhere): the next request must get an answer, not wait forever.
        assertTimeoutPreemptively(Duration.ofSeconds(10),
            () -> assertFalse(gate.acquire(50_000_000L)));
        gate.release();
        assertTrue(gate.acquire(1_000_000_000L));
    }
}
