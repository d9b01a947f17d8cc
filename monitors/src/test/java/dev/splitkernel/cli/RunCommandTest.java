package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RunCommandTest
{
    /** Local runs whose JIT activity is, in turn, {@code jitMs}; counts the runs made. */
    private static final class FakeLocal implements RunCommand.LocalRun
    {
        final Deque<Long> jitMs;
        int runs;

        FakeLocal(final Long... jitMs)
        {
            this.jitMs = new ArrayDeque<>(List.of(jitMs));
        }

        @Override
        public WorkloadThreads.Outcome run()
        {
            runs++;
            return new WorkloadThreads.Outcome(0, 1, 1, 0, 0, 0, new JvmActivity(0, jitMs.removeFirst(), 0, 0));
        }
    }

    @Test
    void shouldRunTheLocalTwinUntilARunCompilesNothing() throws Exception
    {
        final FakeLocal local = new FakeLocal(6L, 9L, 0L, 0L, 0L);
        assertEquals(3, RunCommand.settleLocal(local, 5));
        assertEquals(3, local.runs);
    }

    @Test
    void shouldStopSettlingAfterTheLimitWhenTheJitNeverGoesQuiet() throws Exception
    {
        final FakeLocal local = new FakeLocal(1L, 1L, 1L, 1L, 1L, 1L, 1L);
        assertEquals(5, RunCommand.settleLocal(local, 5));
        assertEquals(5, local.runs);
    }
}
