package dev.splitkernel.monitor.status;

import org.agrona.concurrent.status.AtomicCounter;

import java.util.function.IntFunction;

/**
 * Messages by opcode, one counter of a monitor's status file per opcode seen (made at its first message), e.g.
 * "served: LINE_FETCH" or "sent: LOAD_REPORT".
 * <p>
 * Thread-safe.
 */
final class OpcodeCounters
{
    private static final int MAX_OPCODE = 255;

    private final MonitorStatus status;
    private final String prefix;
    private final int typeId;
    private final IntFunction<String> opcodeNames;
    private final AtomicCounter[] counters = new AtomicCounter[MAX_OPCODE + 1];
    private final AtomicCounter otherOpcodes;

    /**
     * @param prefix      what the counters count, as labels start: "served" or "sent".
     * @param opcodeNames names opcodes for the labels.
     */
    OpcodeCounters(final MonitorStatus status, final String prefix, final int typeId,
        final IntFunction<String> opcodeNames)
    {
        this.status = status;
        this.prefix = prefix;
        this.typeId = typeId;
        this.opcodeNames = opcodeNames;
        this.otherOpcodes = status.newCounter(prefix + ": opcodes out of range", typeId);
    }

    /** Count one message of {@code opcode}. */
    void increment(final int opcode)
    {
        counter(opcode).increment();
    }

    private AtomicCounter counter(final int opcode)
    {
        if (opcode < 0 || opcode > MAX_OPCODE)
        {
            return otherOpcodes;
        }
        final AtomicCounter counter = counters[opcode];
        return counter != null ? counter : newCounter(opcode);
    }

    private synchronized AtomicCounter newCounter(final int opcode)
    {
        AtomicCounter counter = counters[opcode];
        if (counter == null)
        {
            counter = status.newCounter(prefix + ": " + opcodeNames.apply(opcode), typeId);
            counters[opcode] = counter;
        }
        return counter;
    }
}
