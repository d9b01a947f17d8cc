package dev.splitkernel.workload;

import dev.splitkernel.verbs.VirtualClock;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepClockTest
{
    @Test
    void shouldSumEachStepsSlowestThread()
    {
        // Step 0: thread a is slower (5 of which 2 stalled); step 1: thread b (7, 3 stalled).
        final StepClock.Steps a = new StepClock.Steps(new long[]{5, 1}, new long[]{2, 0});
        final StepClock.Steps b = new StepClock.Steps(new long[]{4, 7}, new long[]{4, 3});
        assertArrayEquals(new long[]{12, 5}, StepClock.criticalPath(a, b));
    }

    @Test
    void shouldTakeTheSlowestTotalWhenStepsDoNotMatch()
    {
        final StepClock.Steps a = new StepClock.Steps(new long[]{5, 1}, new long[]{2, 0});
        final StepClock.Steps b = new StepClock.Steps(new long[]{8}, new long[]{1});
        assertArrayEquals(new long[]{8, 1}, StepClock.criticalPath(a, b));
    }

    @Test
    void shouldRecordStepsBetweenArrivalAndDepartureOnly()
    {
        StepClock.start();
        VirtualClock.charge(3_000L);
        StepClock.arrive();
        VirtualClock.charge(1_000_000L); // between arrive and depart: waiting, not work
        StepClock.depart();
        VirtualClock.charge(5_000L);
        final StepClock.Steps steps = StepClock.finish();
        assertEquals(2, steps.count());
        assertArrayEquals(new long[]{3_000L, 5_000L}, steps.stallNs());
        assertTrue(steps.workNs()[0] >= 3_000L && steps.workNs()[1] >= 5_000L);
        assertTrue(steps.workNs()[0] < 1_000_000L, "work " + steps.workNs()[0]);
    }

    @Test
    void shouldIgnoreBarriersOfAThreadThatDoesNotRecord()
    {
        StepClock.arrive();
        StepClock.depart();
        assertThrows(IllegalStateException.class, StepClock::finish);
    }
}
