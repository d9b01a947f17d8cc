package dev.splitkernel.verbs;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a fabric's agents (the tcp poller: accepts, handshakes and serves every connection of its fabric). How agents
 * map to threads is the host's business, as Aeron's threading mode: a monitor runtime shares one thread between
 * many fabrics on a small machine, gives each its own busy thread on a testbed, or lets the application invoke them.
 * <p>
 * An agent given to a host never blocks in {@code doWork()} and returns how much work it did, so the host's idle
 * strategy can back off (spin, yield, then park) when there is none.
 */
@FunctionalInterface
public interface AgentHost
{
    /**
     * An agent that reads the time from its host's clock, which the host updates once per duty cycle of the agents
     * it runs on one thread, instead of reading the system clock itself: on a virtual machine a clock read costs as
     * much as a tenth of a loopback round trip, and a thread that drives several fabrics' pollers per poll of its
     * own socket would read it once per poller. A host that keeps no such clock leaves the system clock.
     */
    interface ClockedAgent extends Agent
    {
        /** The clock to read from now on; called by the host before the agent's first duty cycle. */
        void nanoClock(org.agrona.concurrent.NanoClock clock);
    }

    /**
     * Start running {@code agent} (its {@code onStart}, then {@code doWork} duty cycles) until the returned handle
     * is closed, which also runs the agent's {@code onClose}.
     */
    AutoCloseable run(Agent agent);

    /**
     * One duty cycle of the hosted agents in the calling thread, when this host is an invoker (Aeron's INVOKER
     * mode: a thread that waits on the network drives the in-process servers it waits for, so a round trip between
     * two monitors of one process needs no other thread). Never blocks: returns 0 at once when another thread is
     * invoking, and always for hosts that run their agents on threads of their own.
     *
     * @return the work done.
     */
    default int invoke()
    {
        return 0;
    }

    /** True when {@link #invoke()} drives the agents (nobody else does, but a fallback now and then). */
    default boolean isInvoker()
    {
        return false;
    }

    /**
     * What a fabric uses when nobody gave it a host (tests, benchmarks, peers of their own): a daemon thread per
     * agent with a bounded idle strategy (a few spins, a few yields, then parks of up to 1 ms), errors reported on
     * stderr once per distinct message; the agent keeps running after an error.
     */
    AgentHost OWN_THREAD = agent ->
    {
        final Set<String> reported = ConcurrentHashMap.newKeySet();
        final AgentRunner runner = new AgentRunner(
            new BackoffIdleStrategy(100, 20, 1_000, 1_000_000),
            ex ->
            {
                if (reported.add(String.valueOf(ex)) && reported.size() < 100)
                {
                    System.getLogger(AgentHost.class.getName()).log(System.Logger.Level.ERROR,
                        agent.roleName() + ": " + ex + " (logged once; repeats are not)", ex);
                }
            },
            null,
            agent);
        AgentRunner.startOnThread(runner, r ->
        {
            final Thread thread = new Thread(r, agent.roleName());
            thread.setDaemon(true);
            return thread;
        });
        return runner;
    };
}
