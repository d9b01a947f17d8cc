package dev.splitkernel.monitor.runtime;

import org.agrona.concurrent.Agent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MonitorRuntimeTest
{
    private static final long DEADLINE_NS = TimeUnit.SECONDS.toNanos(20);

    /** Counts its duty cycles; every one of the first {@code failures} throws. */
    private static final class CountingAgent implements Agent
    {
        final AtomicInteger cycles = new AtomicInteger();
        final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        final int failures;
        final String name;

        CountingAgent(final String name, final int failures)
        {
            this.name = name;
            this.failures = failures;
        }

        @Override
        public int doWork()
        {
            threads.add(Thread.currentThread());
            if (cycles.incrementAndGet() <= failures)
            {
                throw new IllegalStateException("failure for the test in " + name);
            }
            return 0;
        }

        @Override
        public String roleName()
        {
            return name;
        }
    }

    private static void awaitCycles(final CountingAgent agent, final int cycles)
    {
        final long deadlineNs = System.nanoTime() + DEADLINE_NS;
        while (agent.cycles.get() < cycles)
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, agent.name + " ran only " + agent.cycles.get() + " cycles");
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void shouldCountAndReportAnAgentsErrorsAndKeepItAndItsNeighboursRunning() throws Exception
    {
        final MonitorContext ctx = new MonitorContext().threadingMode(ThreadingMode.SHARED);
        try (MonitorRuntime runtime = MonitorRuntime.launch(ctx))
        {
            final MonitorErrors errors = runtime.errors("memory-1");
            final CountingAgent failing = new CountingAgent("failing", 3);
            final CountingAgent neighbour = new CountingAgent("neighbour", 0);
            final AutoCloseable a = runtime.runNetwork(failing, errors);
            final AutoCloseable b = runtime.runNetwork(neighbour, runtime.errors("memory-2"));
            final CountingAgent background = new CountingAgent("background", 2);
            final AutoCloseable c = runtime.runBackground(background, errors);

            awaitCycles(failing, 10);
            awaitCycles(neighbour, 10);
            awaitCycles(background, 4);
            assertEquals(5, errors.count(), "3 network and 2 background failures counted under their monitor");
            assertEquals(0, runtime.errors("memory-2").count(), "a neighbour's errors are its own");
            assertTrue(errors.distinct().stream().anyMatch(e -> e.contains("failure for the test in failing")),
                errors.distinct().toString());
            a.close();
            b.close();
            c.close();
        }
    }

    @Test
    void shouldNeverStartMoreSpinningThreadsThanCores() throws Exception
    {
        for (final int cores : new int[] {1, 2, 4})
        {
            try (MonitorRuntime runtime = MonitorRuntime.launch(
                new MonitorContext().threadingMode(ThreadingMode.DEDICATED).cores(cores)))
            {
                final List<AutoCloseable> handles = new ArrayList<>();
                final List<CountingAgent> agents = new ArrayList<>();
                for (int i = 0; i < 6; i++)
                {
                    final CountingAgent agent = new CountingAgent("poller-" + i, 0);
                    agents.add(agent);
                    handles.add(runtime.runNetwork(agent, runtime.errors("m" + i)));
                }
                assertTrue(runtime.spinningThreads() <= cores, cores + " cores but " + runtime.spinningThreads()
                    + " spinning threads");
                for (final CountingAgent agent : agents)
                {
                    awaitCycles(agent, 3);
                }
                for (final AutoCloseable handle : handles)
                {
                    handle.close();
                }
            }
        }
    }

    @Test
    void shouldDriveNetworkAgentsFromTheCallerInInvokerModeAndSpinNoThread() throws Exception
    {
        try (MonitorRuntime runtime = MonitorRuntime.launch(new MonitorContext().threadingMode(ThreadingMode.INVOKER)))
        {
            final CountingAgent agent = new CountingAgent("poller", 0);
            final AutoCloseable handle = runtime.runNetwork(agent, runtime.errors("m"));
            // The background sweeper may hold the invoker at this moment (an invoke then returns 0 and leaves the
            // cycle to it), so invoke until one duty cycle has run in this thread.
            final long deadlineNs = System.nanoTime() + DEADLINE_NS;
            while (!agent.threads.contains(Thread.currentThread()))
            {
                assertTrue(System.nanoTime() - deadlineNs < 0, "no invoke ran a duty cycle in the calling thread");
                runtime.invoke();
            }
            assertEquals(0, runtime.spinningThreads());
            handle.close();
        }
    }

    @Test
    void shouldConcludeAContextOnce()
    {
        final MonitorContext ctx = new MonitorContext();
        MonitorRuntime.launch(ctx).close();
        assertThrows(IllegalStateException.class, () -> MonitorRuntime.launch(ctx));
    }
}
