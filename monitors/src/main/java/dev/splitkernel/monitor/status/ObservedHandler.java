package dev.splitkernel.monitor.status;

import dev.splitkernel.verbs.RequestHandler;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.function.IntFunction;

/**
 * A monitor's request handler, observed: each request served is counted under its opcode (a counter per opcode,
 * made at its first request) and its service time goes to the monitor's RPC histogram.
 * <p>
 * Thread-safe, as the handler it wraps.
 */
public final class ObservedHandler implements RequestHandler
{
    private static final int MAX_OPCODE = 255;

    private final RequestHandler handler;
    private final MonitorStatus status;
    private final IntFunction<String> opcodeNames;
    private final LatencyHistogram latency;
    private final AtomicCounter[] served = new AtomicCounter[MAX_OPCODE + 1];
    private final AtomicCounter otherOpcodes;

    /**
     * @param opcodeNames names opcodes for the counters' labels.
     */
    public ObservedHandler(final RequestHandler handler, final MonitorStatus status,
        final IntFunction<String> opcodeNames)
    {
        this.handler = handler;
        this.status = status;
        this.opcodeNames = opcodeNames;
        this.latency = status.histogram(StatusFileDescriptor.RPC_LATENCY);
        this.otherOpcodes = status.newCounter("served: opcodes out of range", MonitorStatus.TYPE_SERVED_OPCODE);
    }

    @Override
    public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity)
    {
        final long startNs = latency.startNs();
        final int result = handler.onRequest(opcode, request, offset, length, reply, replyOffset, replyCapacity);
        latency.recordSince(startNs);
        counter(opcode).increment();
        return result;
    }

    @Override
    public int onRequest(final int opcode, final DirectBuffer request, final int offset, final int length,
        final MutableDirectBuffer reply, final int replyOffset, final int headerLength,
        final MutableDirectBuffer data, final int dataOffset, final int dataCapacity)
    {
        final long startNs = latency.startNs();
        final int result = handler.onRequest(opcode, request, offset, length, reply, replyOffset, headerLength, data,
            dataOffset, dataCapacity);
        latency.recordSince(startNs);
        counter(opcode).increment();
        return result;
    }

    @Override
    public boolean mayBlock(final int opcode)
    {
        return handler.mayBlock(opcode);
    }

    private AtomicCounter counter(final int opcode)
    {
        if (opcode < 0 || opcode > MAX_OPCODE)
        {
            return otherOpcodes;
        }
        final AtomicCounter counter = served[opcode];
        return counter != null ? counter : newCounter(opcode);
    }

    private synchronized AtomicCounter newCounter(final int opcode)
    {
        AtomicCounter counter = served[opcode];
        if (counter == null)
        {
            counter = status.newCounter("served: " + opcodeNames.apply(opcode), MonitorStatus.TYPE_SERVED_OPCODE);
            served[opcode] = counter;
        }
        return counter;
    }
}
