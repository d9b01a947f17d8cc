package dev.splitkernel.workload;

import dev.splitkernel.excache.CacheWaits;
import dev.splitkernel.verbs.VirtualClock;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The work each thread of a run does between barriers, without the time it waits at them: per step, the thread's
 * CPU time (less the time it spun in the cache waiting for another thread, {@link CacheWaits}) plus the network stalls
 * charged to its {@link VirtualClock}. The run command sums, over the steps, the
 * slowest thread's work: the run's critical path on a machine with a core per thread (LegoOS's). Waiting is left out
 * because what a waiting thread burns depends on the machine, not on the workload: with more threads than cores a
 * thread spinning at a barrier for one that lost its core burns CPU for as long as the scheduler keeps the other
 * one off, which changed from run to run.
 * <p>
 * {@link PhaseBarrier} marks the steps; a thread records only between {@link #start} and {@link #finish} (the run
 * command's threads), elsewhere {@link #arrive} and {@link #depart} do nothing. One class for both twins (see
 * {@link TwinLoader}). Thread-confined: each thread records only its own steps.
 */
public final class StepClock
{
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final ThreadLocal<Recorder> STEPS = new ThreadLocal<>();

    private StepClock()
    {
    }

    /**
     * A thread's steps: per step its work (CPU time, without its contended waits in the cache, plus stalls) and the
     * stalls in it, in nanoseconds.
     */
    public record Steps(long[] workNs, long[] stallNs)
    {
        public int count()
        {
            return workNs.length;
        }
    }

    /** The calling thread starts recording; its first step starts now. */
    public static void start()
    {
        final Recorder recorder = new Recorder();
        STEPS.set(recorder);
        recorder.begin();
    }

    /** The calling thread reached a barrier: its current step ends now (no-op when it is not recording). */
    public static void arrive()
    {
        final Recorder recorder = STEPS.get();
        if (recorder != null)
        {
            recorder.end();
        }
    }

    /** The calling thread left a barrier: its next step starts now (no-op when it is not recording). */
    public static void depart()
    {
        final Recorder recorder = STEPS.get();
        if (recorder != null)
        {
            recorder.begin();
        }
    }

    /** Ends the calling thread's last step and recording; returns its steps. */
    public static Steps finish()
    {
        final Recorder recorder = STEPS.get();
        STEPS.remove();
        if (recorder == null)
        {
            throw new IllegalStateException("this thread is not recording its steps");
        }
        recorder.end();
        return recorder.steps();
    }

    /**
     * The critical path of threads that passed the same barriers: per step the slowest thread's work, summed. When
     * their step counts differ (a workload whose barriers do not include every thread) steps cannot be matched, and
     * the slowest thread's total work stands for it.
     *
     * @return [0] the critical path, [1] the stalls on it (those of each step's slowest thread).
     */
    public static long[] criticalPath(final Steps... threads)
    {
        final int count = threads[0].count();
        if (Arrays.stream(threads).anyMatch(s -> s.count() != count))
        {
            long[] slowest = {0, 0};
            for (final Steps s : threads)
            {
                final long work = Arrays.stream(s.workNs()).sum();
                if (work > slowest[0])
                {
                    slowest = new long[]{work, Arrays.stream(s.stallNs()).sum()};
                }
            }
            return slowest;
        }
        long path = 0;
        long stalls = 0;
        for (int step = 0; step < count; step++)
        {
            Steps slowest = threads[0];
            for (final Steps s : threads)
            {
                slowest = s.workNs()[step] > slowest.workNs()[step] ? s : slowest;
            }
            path += slowest.workNs()[step];
            stalls += slowest.stallNs()[step];
        }
        return new long[]{path, stalls};
    }

    /** The calling thread's CPU time (ns resolution on Linux: CLOCK_THREAD_CPUTIME_ID, user and system). */
    private static long cpuNs()
    {
        return THREADS.getCurrentThreadCpuTime();
    }

    /** Recording in progress (a Steps whose arrays are filled as the thread goes). */
    private static final class Recorder
    {
        private long[] work = new long[8];
        private long[] stalls = new long[8];
        private int count;
        private long cpu0;
        private long stall0;
        private long wait0;
        private boolean inStep;

        void begin()
        {
            inStep = true;
            stall0 = VirtualClock.stallNs();
            wait0 = CacheWaits.waitedNs();
            cpu0 = cpuNs();
        }

        void end()
        {
            final long cpu = cpuNs();
            final long stall = VirtualClock.stallNs();
            final long waited = CacheWaits.waitedNs() - wait0;
            if (!inStep)
            {
                return;
            }
            inStep = false;
            if (count == work.length)
            {
                work = Arrays.copyOf(work, count * 2);
                stalls = Arrays.copyOf(stalls, count * 2);
            }
            // The cache's contended waits are left out like barrier waits (CacheWaits says why).
            work[count] = Math.max(0, cpu - cpu0 - waited) + (stall - stall0);
            stalls[count] = stall - stall0;
            count++;
        }

        Steps steps()
        {
            return new Steps(Arrays.copyOf(work, count), Arrays.copyOf(stalls, count));
        }
    }
}
