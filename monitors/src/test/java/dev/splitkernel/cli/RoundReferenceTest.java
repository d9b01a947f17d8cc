package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RoundReferenceTest
{
    private static WorkloadThreads.Outcome run(final long wallNs, final long criticalPathNs)
    {
        return new WorkloadThreads.Outcome(0, wallNs, criticalPathNs, 0, 0, 0, new JvmActivity(1, 2, 3, 0));
    }

    @Test
    void shouldTakeTheMedianOfTheRoundsLocalRunsNotTheFirstOrTheMean()
    {
        final RoundReference reference = new RoundReference();
        // The first run slow (a compile): one run as the reference would give 0.30 s, the mean 0.17 s.
        reference.add(run(300, 310));
        reference.add(run(100, 90));
        reference.add(run(110, 120));
        assertEquals(110, reference.ns(false));
        assertEquals(120, reference.ns(true));
        assertEquals(List.of(310L, 90L, 120L), reference.runsNs(true));
        assertEquals(new JvmActivity(3, 6, 9, 0), reference.activity());
    }

    @Test
    void shouldAverageTheMiddleTwoOfAnEvenCount()
    {
        assertEquals(15, RoundReference.median(List.of(40L, 10L, 20L, 5L)));
    }

    @Test
    void shouldSpreadTheLocalRunsFromBeforeTheFirstSplitkernelRunToAfterTheLast()
    {
        // Three splitkernel runs, three local runs: before, in the middle, after.
        assertEquals(List.of(1, 0, 1, 1), slots(3, 3));
        assertEquals(List.of(1, 0, 0, 0), slots(3, 1));
        assertEquals(List.of(1, 1), slots(1, 2));
        for (int n = 1; n <= 7; n++)
        {
            for (int k = 1; k <= 9; k++)
            {
                assertEquals(k, slots(n, k).stream().mapToInt(Integer::intValue).sum(), n + " runs, k " + k);
            }
        }
    }

    private static List<Integer> slots(final int n, final int k)
    {
        return java.util.stream.IntStream.rangeClosed(0, n).mapToObj(i -> RoundReference.runsAt(i, n, k)).toList();
    }
}
