package dev.splitkernel.cli;

import dev.splitkernel.excache.CacheWaits;
import dev.splitkernel.monitor.processor.LegoProcess;
import dev.splitkernel.monitor.processor.LegoThread;
import dev.splitkernel.verbs.VirtualClock;
import dev.splitkernel.workload.StepClock;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a workload's two phases (populate, then the measured phase after a barrier) in N threads, plain ones or
 * threads of a splitkernel process, under a watchdog, and times them two ways: the wall clock, and the critical
 * path in virtual time: per step (the phases, and inside them the workload's {@code PhaseBarrier}s), the slowest
 * thread's CPU time plus the network stalls that the {@code account} timing mode charged to its
 * {@link VirtualClock}, summed over the steps ({@link StepClock}). CPU time, not the thread's wall time: on a
 * machine with fewer cores than threads, or one shared with other jobs, a thread's wall time counts the time the
 * scheduler gave its core to someone else, which varies from run to run; its CPU time is the work it did, as on a
 * machine with a core per thread (LegoOS's). The time a thread waits at a barrier is left out (it spins there, and
 * how long depends on when the scheduler runs the thread it waits for), and so is time it spends blocked.
 */
final class WorkloadThreads
{
    /** How long the threads of one run may take before the run fails (a hung workload, not a slow one). */
    static final long WATCHDOG_NS = 30L * 60 * 1_000_000_000L;

    @FunctionalInterface
    interface Phase
    {
        long run(int thread);
    }

    @FunctionalInterface
    interface VoidPhase
    {
        void run(int thread);
    }

    /**
     * What a run's threads did.
     *
     * @param result          the sum of the measured phase's results over the threads.
     * @param wallNs          wall-clock time of both phases.
     * @param criticalPathNs  per step the slowest thread's CPU time plus its virtual stalls, summed over the steps.
     * @param stallNs         virtual stalls of all threads (0 unless the fabric accounts its time).
     * @param criticalStallNs the virtual stalls on the critical path: per step those of its slowest thread.
     * @param cacheWaitNs     CPU time all threads spun in the cache waiting for another thread ({@link CacheWaits}),
     *                        left out of the critical path.
     * @param activity        what the JVM and kernel did to the process meanwhile (collections, compiles, faults).
     */
    record Outcome(long result, long wallNs, long criticalPathNs, long stallNs, long criticalStallNs,
        long cacheWaitNs, JvmActivity activity)
    {
    }

    private WorkloadThreads()
    {
    }

    /** Populate then run in {@code threads} plain threads. */
    static Outcome parallel(final int threads, final VoidPhase populate, final Phase run) throws InterruptedException
    {
        return parallel(threads, populate, run, WATCHDOG_NS);
    }

    /**
     * As {@link #parallel(int, VoidPhase, Phase)}, failing with an IllegalStateException (the threads interrupted)
     * when they are not all done within {@code watchdogNs}.
     */
    static Outcome parallel(final int threads, final VoidPhase populate, final Phase run, final long watchdogNs)
        throws InterruptedException
    {
        final Timed timed = new Timed(threads, populate, run);
        final long startNs = System.nanoTime();
        if (threads == 1)
        {
            return timed.alone(startNs);
        }
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<Thread> list = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            final Thread th = new Thread(() ->
            {
                try
                {
                    timed.body(thread);
                }
                catch (final Throwable ex)
                {
                    failure.compareAndSet(null, ex);
                    timed.barrier.reset();
                }
            }, "local-" + t);
            list.add(th);
            th.start();
        }
        final long deadlineNs = startNs + watchdogNs;
        for (final Thread th : list)
        {
            final long leftMs = (deadlineNs - System.nanoTime()) / 1_000_000;
            if (leftMs > 0)
            {
                th.join(leftMs);
            }
            if (th.isAlive())
            {
                list.forEach(Thread::interrupt);
                throw new IllegalStateException("thread " + th.getName() + " did not finish within "
                    + watchdogNs / 1_000_000 + " ms (a hung workload?)");
            }
        }
        rethrow(failure.get());
        return timed.outcome(System.nanoTime() - startNs);
    }

    /** As {@link #parallel} but in threads of the process (sharing its address space). */
    static Outcome inProcess(final LegoProcess process, final int threads, final VoidPhase populate, final Phase run)
        throws InterruptedException
    {
        final Timed timed = new Timed(threads, populate, run);
        final long startNs = System.nanoTime();
        if (threads == 1)
        {
            return timed.alone(startNs);
        }
        final List<LegoThread> list = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int thread = t;
            list.add(process.spawnThread("worker-" + t, p ->
            {
                try
                {
                    timed.body(thread);
                    return 0;
                }
                catch (final Throwable ex)
                {
                    timed.barrier.reset();
                    throw ex;
                }
            }));
        }
        final long deadlineNs = startNs + WATCHDOG_NS;
        for (final LegoThread th : list)
        {
            if (!th.join(Math.max(1, deadlineNs - System.nanoTime())))
            {
                throw new IllegalStateException("thread " + th.name() + " did not finish within 30 minutes");
            }
        }
        // The first real failure, not the broken barriers it left the other threads.
        for (final LegoThread th : list)
        {
            if (th.failure() != null && !(th.failure() instanceof BrokenBarrierException))
            {
                rethrow(th.failure());
            }
        }
        for (final LegoThread th : list)
        {
            rethrow(th.failure());
        }
        return timed.outcome(System.nanoTime() - startNs);
    }

    /** The phases of every thread with their steps; each thread writes only its own slot. */
    private static final class Timed
    {
        final CyclicBarrier barrier;
        final VoidPhase populate;
        final Phase run;
        final StepClock.Steps[] steps;
        final long[] stallNs;
        final long[] waitNs;
        final AtomicLong total = new AtomicLong();
        final JvmActivity activity0 = JvmActivity.now();

        Timed(final int threads, final VoidPhase populate, final Phase run)
        {
            this.barrier = new CyclicBarrier(threads);
            this.populate = populate;
            this.run = run;
            this.steps = new StepClock.Steps[threads];
            this.stallNs = new long[threads];
            this.waitNs = new long[threads];
        }

        /** Populate and run, each at least one step: the barrier between them ends one and starts the next. */
        void body(final int thread) throws Exception
        {
            final long stall0 = VirtualClock.stallNs();
            final long wait0 = CacheWaits.waitedNs();
            StepClock.start();
            try
            {
                populate.run(thread);
                StepClock.arrive();
                if (barrier.getParties() > 1)
                {
                    barrier.await();
                }
                StepClock.depart();
                total.addAndGet(run.run(thread));
            }
            finally
            {
                steps[thread] = StepClock.finish();
            }
            stallNs[thread] = VirtualClock.stallNs() - stall0;
            waitNs[thread] = CacheWaits.waitedNs() - wait0;
        }

        /** One thread: the phases in the caller's thread, no barrier. */
        Outcome alone(final long startNs)
        {
            try
            {
                body(0);
            }
            catch (final Exception ex)
            {
                rethrow(ex);
            }
            return outcome(System.nanoTime() - startNs);
        }

        Outcome outcome(final long wallNs)
        {
            final long[] path = StepClock.criticalPath(steps);
            return new Outcome(total.get(), wallNs, path[0], Arrays.stream(stallNs).sum(), path[1],
                Arrays.stream(waitNs).sum(), JvmActivity.now().since(activity0));
        }
    }

    private static void rethrow(final Throwable t)
    {
        if (t == null)
        {
            return;
        }
        if (t instanceof RuntimeException)
        {
            throw (RuntimeException)t;
        }
        if (t instanceof Error)
        {
            throw (Error)t;
        }
        throw new IllegalStateException(t);
    }
}
