package dev.splitkernel.monitor.runtime;

import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.monitor.status.ObservedFabric;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Fabrics;
import dev.splitkernel.verbs.RequestHandler;
import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;

import java.util.ArrayList;
import java.util.List;

/**
 * What one monitor holds of the runtime, written once for every monitor: the runtime (the shared one of an embedded
 * cluster, or its own), its {@link MonitorErrors} and {@link MonitorStatus} (counters file), its fabric (given, or
 * made with the runtime as its agent host and its counters in the status file) and its background agents, one of
 * which publishes the status every interval; {@link #close()} stops the agents, marks the status file closed and
 * closes what the monitor made itself.
 * <p>
 * Thread-safe.
 */
public final class MonitorResources implements AutoCloseable
{
    private final MonitorRuntime runtime;
    private final boolean ownsRuntime;
    private final MonitorErrors errors;
    private final Fabric fabric;
    private final ObservedFabric observed;
    private final boolean ownsFabric;
    private final List<AutoCloseable> agents = new ArrayList<>();
    private boolean closed;

    private MonitorResources(final MonitorRuntime runtime, final boolean ownsRuntime, final MonitorErrors errors,
        final Fabric fabric, final boolean ownsFabric)
    {
        this.runtime = runtime;
        this.ownsRuntime = ownsRuntime;
        this.errors = errors;
        this.fabric = fabric;
        // The data path is timed once, where a miss is felt: the processor's miss and write-back histograms.
        this.observed = new ObservedFabric(fabric, errors.status(), Opcodes::describe, Opcodes.LINE_FETCH,
            Opcodes.LINE_WRITE_BACK, Opcodes.LINE_FETCH_WITH_WRITE_BACK);
        this.ownsFabric = ownsFabric;
    }

    /**
     * @param monitorName  names the monitor's errors and status file ("memory 10.0.0.2:7000", ...); a fabric given by
     *                     an embedded cluster brings the name the cluster gave it ("memory-0").
     * @param runtime      the runtime to use, or null for one of the monitor's own (closed with it).
     * @param fabric       the fabric to use (not closed by the monitor), or null to make one from {@code fabricCtx}.
     * @param fabricCtx    settings of the fabric to make; its agents run on the runtime.
     */
    public static MonitorResources open(final String monitorName, final MonitorRuntime runtime, final Fabric fabric,
        final FabricContext fabricCtx)
    {
        final MonitorRuntime rt = runtime != null ? runtime : MonitorRuntime.launch();
        final MonitorErrors hosted = fabric == null ? null : MonitorRuntime.hostedMonitor(fabric.context().agentHost());
        final MonitorErrors errors = hosted != null ? hosted : rt.errors(monitorName);
        try
        {
            final Fabric f = fabric != null ? fabric :
                Fabrics.create((fabricCtx != null ? fabricCtx : new FabricContext()).agentHost(rt.fabricHost(errors))
                    .countersManager(errors.status().countersManager()));
            final MonitorResources resources = new MonitorResources(rt, runtime == null, errors, f, fabric == null);
            resources.runBackground(new StatusPublisher(errors.status()));
            return resources;
        }
        catch (final RuntimeException ex)
        {
            errors.status().close();
            if (runtime == null)
            {
                rt.close();
            }
            throw ex;
        }
    }

    public MonitorRuntime runtime()
    {
        return runtime;
    }

    public MonitorErrors errors()
    {
        return errors;
    }

    /**
     * The fabric as this monitor uses it, observed ({@link ObservedFabric}): messages sent and served by opcode, calls'
     * round trips and service times in the monitor's status file (but the data path's line fetches and write-backs,
     * timed as misses and write-backs).
     */
    public Fabric fabric()
    {
        return observed;
    }

    /**
     * Listen on the fabric with {@code handler}, observed: requests counted by opcode, service times in the RPC
     * served histogram. Returns the address listened on.
     */
    public String listen(final String address, final RequestHandler handler)
    {
        final String actual = observed.listen(address, handler);
        final String name = status().monitorName();
        if (!actual.equals(address) && name.endsWith(" " + address))
        {
            // Named before it listened ("memory 127.0.0.1:0"): stat shows the port it got.
            status().rename(name.substring(0, name.length() - address.length()) + actual);
        }
        return actual;
    }

    /** The monitor's status file: counters, gauges, latency histograms, error log. */
    public MonitorStatus status()
    {
        return errors.status();
    }

    /** Run a background agent (interval work) of this monitor until {@link #close()}. */
    public synchronized void runBackground(final Agent agent)
    {
        if (closed)
        {
            throw new IllegalStateException("monitor is closed");
        }
        agents.add(runtime.runBackground(agent, errors));
    }

    /** Stop this monitor's background agents (before it closes its connections). */
    public void stopAgents()
    {
        final List<AutoCloseable> stopping;
        synchronized (this)
        {
            stopping = new ArrayList<>(agents);
            agents.clear();
        }
        for (final AutoCloseable agent : stopping)
        {
            CloseHelper.quietClose(agent);
        }
    }

    /** Stop the agents, then close the fabric and the runtime if the monitor made them. Idempotent. */
    @Override
    public void close()
    {
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
        }
        stopAgents();
        if (ownsFabric)
        {
            CloseHelper.quietClose(fabric);
        }
        errors.status().close();
        if (ownsRuntime)
        {
            runtime.close();
        }
    }
}
