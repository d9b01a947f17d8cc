package dev.splitkernel.monitor.runtime;

import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.verbs.AgentHost;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.DynamicCompositeAgent;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The one runtime of the monitors in a process: it runs their agents, in Aeron's manner. An embedded cluster shares
 * one among all its monitors; a monitor started as a server has its own.
 * <ul>
 * <li><b>Network agents</b> (each fabric's poller, via {@link #fabricHost}) run as the {@link ThreadingMode} says:
 * one shared thread, a thread each ({@link ThreadingMode#DEDICATED}, never more spinning threads than cores), or
 * invoked by the application ({@link #invoke()}). Their idle strategy backs off: {@code idleSpins} idle duty cycles,
 * then {@code idleYields} yields, then parks of up to {@code maxParkNs}.</li>
 * <li><b>Background agents</b> (load reports, heartbeats, membership checks: interval work that may wait on a peer)
 * share one thread that parks when idle, so they never hold up the network agents a peer may be waiting on.</li>
 * <li><b>Errors</b>: each monitor has its {@link MonitorErrors}; an exception in one of its agents is counted and
 * reported there, and the agent (and the others sharing its thread) keeps running.</li>
 * </ul>
 * Thread-safe. {@link #close()} stops every runner; close the monitors (and their fabrics) first.
 */
public final class MonitorRuntime implements AutoCloseable
{
    private static final long ADD_TIMEOUT_NS = 10_000_000_000L;
    private static final long SWEEP_AFTER_NS = 1_000_000;
    private static final long BACKGROUND_MIN_PARK_NS = 1_000_000;

    private final MonitorContext ctx;
    private final ThreadingMode mode;
    private final ConcurrentHashMap<String, MonitorErrors> errors = new ConcurrentHashMap<>();
    /** Peers' statuses with a publisher of this runtime ({@link #peerErrors}); guards itself. */
    private final Set<MonitorStatus> publishedPeers = Collections.newSetFromMap(new IdentityHashMap<>());
    private final MonitorErrors runtimeErrors;
    private final List<AgentRunner> dedicatedRunners = new ArrayList<>();
    private volatile Group network;
    private Group background;
    private boolean closed;

    private MonitorRuntime(final MonitorContext ctx)
    {
        this.ctx = ctx;
        this.mode = ctx.resolvedThreadingMode();
        // The runtime's own threads' errors (rare: its agents' go to their monitors) are kept in memory.
        this.runtimeErrors = new MonitorErrors("runtime", MonitorStatus.inMemory("runtime", false));
    }

    /** Start a runtime with the settings of {@code ctx} (concluded here). */
    public static MonitorRuntime launch(final MonitorContext ctx)
    {
        return new MonitorRuntime(ctx.conclude());
    }

    /** Start a runtime with the default settings (system properties, {@link MonitorContext}). */
    public static MonitorRuntime launch()
    {
        return launch(new MonitorContext());
    }

    public MonitorContext context()
    {
        return ctx;
    }

    public ThreadingMode threadingMode()
    {
        return mode;
    }

    /**
     * The error handler of the monitor named {@code monitorName}, with its status file (both created at first use, and
     * anew once the monitor of that name has closed its status).
     */
    public MonitorErrors errors(final String monitorName)
    {
        return errors.compute(monitorName, (name, existing) ->
            existing != null && !existing.status().isClosed() ? existing : new MonitorErrors(name,
                MonitorStatus.open(name)));
    }

    /**
     * The errors and status file of a peer that is not a monitor (an embedded cluster's own client, a benchmark's
     * fabric), published every interval on the background thread until this runtime closes: without a publisher the
     * file's heartbeat stops and {@code stat} lists the peer as dead while it runs. A monitor's status is published
     * by its {@link MonitorResources}; the peer's is closed with this runtime.
     */
    public MonitorErrors peerErrors(final String peerName)
    {
        final MonitorErrors peer = errors(peerName);
        synchronized (publishedPeers)
        {
            if (publishedPeers.add(peer.status()))
            {
                runBackground(new StatusPublisher(peer.status()), peer);
            }
        }
        return peer;
    }

    /** Every monitor's errors, for a report at close or a stat command. */
    public List<MonitorErrors> allErrors()
    {
        return new ArrayList<>(errors.values());
    }

    /** The host a monitor gives its fabric: the fabric's agents run as network agents, their errors go to the monitor. */
    public AgentHost fabricHost(final MonitorErrors monitorErrors)
    {
        return new MonitorAgentHost(monitorErrors);
    }

    /** The monitor whose fabric host this is (see {@link #fabricHost}), or null for another host. */
    public static MonitorErrors hostedMonitor(final AgentHost host)
    {
        return host instanceof MonitorAgentHost ? ((MonitorAgentHost)host).monitorErrors : null;
    }

    private final class MonitorAgentHost implements AgentHost
    {
        final MonitorErrors monitorErrors;

        MonitorAgentHost(final MonitorErrors monitorErrors)
        {
            this.monitorErrors = monitorErrors;
        }

        @Override
        public AutoCloseable run(final Agent agent)
        {
            return runNetwork(agent, monitorErrors);
        }

        @Override
        public int invoke()
        {
            return MonitorRuntime.this.invoke();
        }

        @Override
        public boolean isInvoker()
        {
            return mode == ThreadingMode.INVOKER;
        }
    }

    /**
     * Run a network agent (it never blocks in {@code doWork}) until the returned handle is closed.
     *
     * @throws IllegalStateException if the runtime is closed.
     */
    public AutoCloseable runNetwork(final Agent agent, final MonitorErrors monitorErrors)
    {
        final GuardedAgent guarded = new GuardedAgent(agent, monitorErrors);
        final Group group;
        synchronized (this)
        {
            checkOpen();
            if (mode == ThreadingMode.DEDICATED && dedicatedRunners.size() < ctx.cores() - 1)
            {
                // A core of its own while one is left for the work; the rest share the network thread.
                final CachedNanoClock clock = new CachedNanoClock();
                useClock(agent, clock);
                final AgentRunner runner = new AgentRunner(
                    new BackoffIdleStrategy(ctx.idleSpins(), ctx.idleYields(), 1_000, ctx.maxParkNs()),
                    monitorErrors, null, new TickingAgent(guarded, clock));
                AgentRunner.startOnThread(runner, daemon(agent.roleName()));
                dedicatedRunners.add(runner);
                return () ->
                {
                    synchronized (this)
                    {
                        dedicatedRunners.remove(runner);
                    }
                    runner.close();
                };
            }
            if (network == null)
            {
                network = new Group("network", mode == ThreadingMode.INVOKER,
                    new BackoffIdleStrategy(ctx.idleSpins(), ctx.idleYields(), 1_000, ctx.maxParkNs()));
            }
            group = network;
        }
        if (group.invoker != null)
        {
            startSweeper(group);
        }
        useClock(agent, group.clock);
        group.add(guarded);
        return () -> group.remove(guarded);
    }

    private static void useClock(final Agent agent, final CachedNanoClock clock)
    {
        clock.update(System.nanoTime());
        if (agent instanceof AgentHost.ClockedAgent)
        {
            ((AgentHost.ClockedAgent)agent).nanoClock(clock);
        }
    }

    /**
     * Run a background agent (interval work that may wait on a peer, within its own timeouts) on the background
     * thread until the returned handle is closed.
     */
    public AutoCloseable runBackground(final Agent agent, final MonitorErrors monitorErrors)
    {
        final GuardedAgent guarded = new GuardedAgent(agent, monitorErrors);
        final Group group;
        synchronized (this)
        {
            checkOpen();
            if (background == null)
            {
                // Parks start at a millisecond: interval work needs no finer timing, and each wake-up of an idle
                // cluster costs tens of microseconds of CPU on these machines.
                background = new Group("background", false, new BackoffIdleStrategy(1, 1,
                    Math.min(BACKGROUND_MIN_PARK_NS, ctx.backgroundParkNs()), ctx.backgroundParkNs()));
            }
            group = background;
        }
        group.add(guarded);
        return () -> group.remove(guarded);
    }

    /**
     * {@link ThreadingMode#INVOKER}: one duty cycle of every network agent, in the calling thread. One caller at a
     * time: another caller meanwhile gets 0 at once, as does a nested call. Returns the work done; 0 in the other
     * modes.
     */
    public int invoke()
    {
        final Group group = network;
        return group == null || group.invoker == null ? 0 : group.invoke();
    }

    private boolean sweeperStarted;

    /** INVOKER mode: the background thread invokes the network agents when no waiter has for a millisecond. */
    private void startSweeper(final Group group)
    {
        synchronized (this)
        {
            if (sweeperStarted)
            {
                return;
            }
            sweeperStarted = true;
        }
        runBackground(new Agent()
        {
            @Override
            public int doWork()
            {
                return System.nanoTime() - group.lastInvokeNs > SWEEP_AFTER_NS ? group.invoke() : 0;
            }

            @Override
            public String roleName()
            {
                return "network-sweeper";
            }
        }, runtimeErrors);
    }

    /** Runtime threads that may spin (busy-poll before they back off): dedicated network threads and the shared one. */
    public synchronized int spinningThreads()
    {
        return dedicatedRunners.size() + (network != null && network.runner != null ? 1 : 0);
    }

    /** Stop every runner (their agents' {@code onClose} run). Idempotent. */
    @Override
    public void close()
    {
        final List<AgentRunner> runners;
        final Group networkGroup;
        final Group backgroundGroup;
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            runners = new ArrayList<>(dedicatedRunners);
            dedicatedRunners.clear();
            networkGroup = network;
            backgroundGroup = background;
        }
        for (final AgentRunner runner : runners)
        {
            runner.close();
        }
        if (networkGroup != null)
        {
            networkGroup.close();
        }
        if (backgroundGroup != null)
        {
            backgroundGroup.close();
        }
        // Peers' statuses (fabrics that are not monitors') close here; monitors' close with them.
        errors.values().forEach(e -> e.status().close());
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("the monitor runtime is closed");
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(final String name)
    {
        return runnable ->
        {
            final Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Agents sharing one thread (or one invoker): a dynamic composite, added to and removed from while it runs. */
    private final class Group
    {
        final DynamicCompositeAgent composite;
        final AgentRunner runner;
        final AgentInvoker invoker;
        /** Read once per duty cycle, for every agent of the group ({@link AgentHost.ClockedAgent}). */
        final CachedNanoClock clock = new CachedNanoClock();
        final java.util.concurrent.atomic.AtomicBoolean invoking = new java.util.concurrent.atomic.AtomicBoolean();
        volatile long lastInvokeNs = System.nanoTime();

        Group(final String name, final boolean invoked, final IdleStrategy idleStrategy)
        {
            composite = new DynamicCompositeAgent("splitkernel-" + name);
            final ErrorHandler handler = runtimeErrors;
            if (invoked)
            {
                runner = null;
                invoker = new AgentInvoker(handler, null, composite);
                invoker.start();
            }
            else
            {
                invoker = null;
                runner = new AgentRunner(idleStrategy, handler, null, new TickingAgent(composite, clock));
                AgentRunner.startOnThread(runner, daemon(composite.roleName()));
                awaitActive();
            }
        }

        private void awaitActive()
        {
            final long deadlineNs = System.nanoTime() + ADD_TIMEOUT_NS;
            while (composite.status() != DynamicCompositeAgent.Status.ACTIVE)
            {
                checkDeadline(deadlineNs, "start");
                LockSupport.parkNanos(10_000);
            }
        }

        int invoke()
        {
            if (!invoking.compareAndSet(false, true))
            {
                return 0;
            }
            try
            {
                final long nowNs = System.nanoTime();
                lastInvokeNs = nowNs;
                clock.update(nowNs);
                return invoker.invoke();
            }
            finally
            {
                invoking.set(false);
            }
        }

        synchronized void add(final Agent agent)
        {
            final long deadlineNs = System.nanoTime() + ADD_TIMEOUT_NS;
            while (!composite.tryAdd(agent))
            {
                checkDeadline(deadlineNs, "add " + agent.roleName() + " to");
                progress();
            }
            while (!composite.hasAddAgentCompleted())
            {
                checkDeadline(deadlineNs, "add " + agent.roleName() + " to");
                progress();
            }
        }

        synchronized void remove(final Agent agent)
        {
            if (composite.status() != DynamicCompositeAgent.Status.ACTIVE)
            {
                return;
            }
            final long deadlineNs = System.nanoTime() + ADD_TIMEOUT_NS;
            while (!composite.tryRemove(agent))
            {
                checkDeadline(deadlineNs, "remove " + agent.roleName() + " from");
                progress();
            }
            while (!composite.hasRemoveAgentCompleted())
            {
                checkDeadline(deadlineNs, "remove " + agent.roleName() + " from");
                progress();
            }
        }

        private void progress()
        {
            if (invoker != null)
            {
                invoke();
            }
            else
            {
                LockSupport.parkNanos(10_000);
            }
        }

        private void checkDeadline(final long deadlineNs, final String what)
        {
            if (System.nanoTime() - deadlineNs >= 0)
            {
                throw new IllegalStateException("monitor runtime: could not " + what + " " + composite.roleName()
                    + " within " + ADD_TIMEOUT_NS / 1_000_000 + " ms: is its thread stuck in an agent?");
            }
        }

        synchronized void close()
        {
            if (runner != null)
            {
                runner.close();
            }
            else
            {
                // Wait out a waiter in the middle of a duty cycle, then keep the flag: later invokes return 0.
                while (!invoking.compareAndSet(false, true))
                {
                    Thread.yield();
                }
                invoker.close();
            }
        }
    }

    /** Reads the clock once per duty cycle, then runs the agent (a composite: every agent of the thread). */
    private static final class TickingAgent implements Agent
    {
        private final Agent agent;
        private final CachedNanoClock clock;

        TickingAgent(final Agent agent, final CachedNanoClock clock)
        {
            this.agent = agent;
            this.clock = clock;
        }

        @Override
        public void onStart()
        {
            agent.onStart();
        }

        @Override
        public int doWork() throws Exception
        {
            clock.update(System.nanoTime());
            return agent.doWork();
        }

        @Override
        public void onClose()
        {
            agent.onClose();
        }

        @Override
        public String roleName()
        {
            return agent.roleName();
        }
    }

    /**
     * An agent whose failures go to its monitor's {@link MonitorErrors} and never to the agents it shares a thread
     * with: an exception in a duty cycle is counted and reported, and the next duty cycle runs as usual.
     */
    private static final class GuardedAgent implements Agent
    {
        private final Agent agent;
        private final MonitorErrors errors;

        GuardedAgent(final Agent agent, final MonitorErrors errors)
        {
            this.agent = agent;
            this.errors = errors;
        }

        @Override
        public void onStart()
        {
            try
            {
                agent.onStart();
            }
            catch (final Throwable ex)
            {
                errors.onError(ex);
            }
        }

        @Override
        public int doWork()
        {
            try
            {
                return agent.doWork();
            }
            catch (final Throwable ex)
            {
                errors.onError(ex);
                return 1;
            }
        }

        @Override
        public void onClose()
        {
            try
            {
                agent.onClose();
            }
            catch (final Throwable ex)
            {
                errors.onError(ex);
            }
        }

        @Override
        public String roleName()
        {
            return agent.roleName();
        }
    }
}
