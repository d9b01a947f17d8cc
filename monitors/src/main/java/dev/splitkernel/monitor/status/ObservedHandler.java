package dev.splitkernel.monitor.status;

import dev.splitkernel.verbs.RequestHandler;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.function.IntFunction;

/**
 * A monitor's request handler, observed: each request served is counted under its opcode (a counter per opcode,
 * made at its first request) and its service time goes to the monitor's RPC histogram, but for the untimed opcodes.
 * <p>
 * Thread-safe, as the handler it wraps.
 */
final class ObservedHandler implements RequestHandler
{
    private final RequestHandler handler;
    private final LatencyHistogram latency;
    private final OpcodeCounters served;
    private final UntimedOpcodes untimed;

    /**
     * @param opcodeNames names opcodes for the counters' labels.
     * @param untimed     opcodes counted but not timed.
     */
    ObservedHandler(final RequestHandler handler, final MonitorStatus status, final IntFunction<String> opcodeNames,
        final UntimedOpcodes untimed)
    {
        this.handler = handler;
        this.latency = status.histogram(StatusFileDescriptor.RPC_LATENCY);
        this.served = new OpcodeCounters(status, "served", MonitorStatus.TYPE_SERVED_OPCODE, opcodeNames);
        this.untimed = untimed;
    }

    @Override
    public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        served.increment(opcode);
        if (untimed.contains(opcode))
        {
            return handler.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity);
        }
        final long startNs = latency.startNs();
        final int result = handler.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity);
        latency.recordSince(startNs);
        return result;
    }

    @Override
    public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity)
    {
        served.increment(opcode);
        if (untimed.contains(opcode))
        {
            return handler.onRequest(opcode, request, offset, length, reply, replyOffset, headerLength, data,
                dataOffset, dataCapacity);
        }
        final long startNs = latency.startNs();
        final int result = handler.onRequest(opcode, request, offset, length, reply, replyOffset, headerLength, data,
            dataOffset, dataCapacity);
        latency.recordSince(startNs);
        return result;
    }

    @Override
    public boolean mayBlock(final int opcode)
    {
        return handler.mayBlock(opcode);
    }
}
