package dev.splitkernel.monitor.status;

import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.ForwardingFabric;
import dev.splitkernel.verbs.RequestHandler;

import java.util.function.IntFunction;

/**
 * A fabric as one monitor uses it: every connection it makes is an {@link ObservedConnection} that counts the
 * messages sent by opcode and times the calls' round trips in this monitor's status file, and every listener an
 * {@link ObservedHandler} that counts the requests served and times them; some opcodes may be left untimed. Several
 * monitors may share the fabric underneath (embedded mode): each counts its own. Closing it closes the fabric
 * underneath, as closing the fabric a monitor was given would (a crash is emulated so); the monitor itself closes
 * only a fabric it made.
 * <p>
 * Thread-safe, as the fabric it wraps.
 */
public final class ObservedFabric extends ForwardingFabric
{
    private final MonitorStatus status;
    private final IntFunction<String> opcodeNames;
    private final LatencyHistogram callLatency;
    private final OpcodeCounters sent;
    private final UntimedOpcodes untimed;

    /**
     * @param opcodeNames names opcodes for the counters' labels.
     * @param untimed     opcodes counted but kept out of the RPC histograms, on both sides: the data path, which the
     *                    processor monitor times once, waits included, as misses and write-backs. Timed as RPCs
     *                    too, a tcp miss would pay four more clock reads and two recordings (about 150 ns here,
     *                    2% of it).
     */
    public ObservedFabric(final Fabric fabric, final MonitorStatus status, final IntFunction<String> opcodeNames,
        final int... untimed)
    {
        super(fabric);
        this.status = status;
        this.opcodeNames = opcodeNames;
        this.callLatency = status.histogram(StatusFileDescriptor.RPC_CALL_LATENCY);
        this.sent = new OpcodeCounters(status, "sent", MonitorStatus.TYPE_SENT_OPCODE, opcodeNames);
        this.untimed = new UntimedOpcodes(untimed);
    }

    /** Listen with {@code handler} observed: requests counted by opcode, timed in the RPC served histogram. */
    @Override
    public String listen(final String address, final RequestHandler handler)
    {
        return fabric.listen(address, new ObservedHandler(handler, status, opcodeNames, untimed));
    }

    @Override
    public Connection connect(final String address, final long timeoutNs)
    {
        return new ObservedConnection(fabric.connect(address, timeoutNs), callLatency, sent, untimed);
    }
}
