package dev.splitkernel.cli;

import dev.splitkernel.verbs.VirtualClock;
import dev.splitkernel.workload.PhaseBarrier;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadThreadsTest
{
    @Test
    void shouldFailARunWhoseThreadHangsInsteadOfWaitingForever()
    {
        final CountDownLatch never = new CountDownLatch(1);
        final IllegalStateException hung = assertTimeoutPreemptively(Duration.ofSeconds(20),
            () -> assertThrows(IllegalStateException.class, () -> WorkloadThreads.parallel(2, t -> { }, t ->
            {
                if (t == 1)
                {
                    try
                    {
                        never.await(); // until the watchdog interrupts it
                    }
                    catch (final InterruptedException ex)
                    {
                        Thread.currentThread().interrupt();
                    }
                }
                return t;
            }, 200_000_000L)));
        assertTrue(hung.getMessage().contains("did not finish"), hung.getMessage());
    }

    @Test
    void shouldSumTheResultsOfThreadsThatFinish() throws Exception
    {
        assertEquals(0 + 1 + 2, WorkloadThreads.parallel(3, t -> { }, t -> t, 10_000_000_000L).result());
    }

    @Test
    void shouldPutEachPhasesSlowestVirtualThreadOnTheCriticalPath() throws Exception
    {
        // Populate: thread 0 stalls 2 s. Run: thread 1 stalls 3 s. The phases are sequential (a barrier), so the
        // critical path is 2 s + 3 s (plus the little real time), though nobody waited.
        final WorkloadThreads.Outcome outcome = WorkloadThreads.parallel(2,
            t -> VirtualClock.charge(t == 0 ? 2_000_000_000L : 1_000_000_000L),
            t ->
            {
                VirtualClock.charge(t == 1 ? 3_000_000_000L : 0L);
                return 1;
            }, 10_000_000_000L);
        assertEquals(2, outcome.result());
        assertTrue(outcome.wallNs() < 1_000_000_000L, "waited " + outcome.wallNs());
        assertTrue(outcome.criticalPathNs() >= 5_000_000_000L
            && outcome.criticalPathNs() < 5_000_000_000L + outcome.wallNs(), "critical path " + outcome.criticalPathNs());
        assertEquals(6_000_000_000L, outcome.stallNs());
        assertEquals(5_000_000_000L, outcome.criticalStallNs());
    }

    @Test
    void shouldLeaveTimeOffTheCpuOutOfTheCriticalPath() throws Exception
    {
        // Thread 1 is off its CPU for 300 ms (as when the scheduler gives its core to another job): the wall clock
        // counts it, the critical path (CPU time plus virtual stalls) does not.
        final WorkloadThreads.Outcome outcome = WorkloadThreads.parallel(2,
            t -> { },
            t ->
            {
                if (t == 1)
                {
                    LockSupport.parkNanos(300_000_000L);
                }
                VirtualClock.charge(1_000_000L);
                return 1;
            }, 10_000_000_000L);
        assertTrue(outcome.wallNs() >= 300_000_000L, "waited " + outcome.wallNs());
        assertTrue(outcome.criticalPathNs() >= 1_000_000L && outcome.criticalPathNs() < 100_000_000L,
            "critical path " + outcome.criticalPathNs());
    }

    @Test
    void shouldLeaveTheWaitAtABarrierOutOfTheCriticalPath() throws Exception
    {
        // Thread 0 is off its CPU for 300 ms before the barrier (as when it lost its core); thread 1 spins at the
        // barrier meanwhile, burning CPU. A core per thread would have waited, not worked: the critical path is the
        // two threads' little work and the 1 ms stall, not thread 1's spinning.
        final PhaseBarrier barrier = new PhaseBarrier(2);
        final WorkloadThreads.Outcome outcome = WorkloadThreads.parallel(2,
            t -> { },
            t ->
            {
                if (t == 0)
                {
                    LockSupport.parkNanos(300_000_000L);
                    VirtualClock.charge(1_000_000L);
                }
                barrier.await();
                return 1;
            }, 10_000_000_000L);
        assertTrue(outcome.wallNs() >= 300_000_000L, "waited " + outcome.wallNs());
        assertEquals(1_000_000L, outcome.criticalStallNs());
        assertTrue(outcome.criticalPathNs() >= 1_000_000L && outcome.criticalPathNs() < 60_000_000L,
            "critical path " + outcome.criticalPathNs());
    }
}
