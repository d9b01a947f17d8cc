package dev.splitkernel.monitor.status;

/**
 * Opcodes whose messages are counted but not timed as RPCs, looked up per message without a clock read.
 * <p>
 * Immutable.
 */
final class UntimedOpcodes
{
    private final boolean[] untimed;

    UntimedOpcodes(final int... opcodes)
    {
        int length = 0;
        for (final int opcode : opcodes)
        {
            if (opcode < 0)
            {
                throw new IllegalArgumentException("opcode " + opcode + " is negative");
            }
            length = Math.max(length, opcode + 1);
        }
        untimed = new boolean[length];
        for (final int opcode : opcodes)
        {
            untimed[opcode] = true;
        }
    }

    boolean contains(final int opcode)
    {
        return opcode >= 0 && opcode < untimed.length && untimed[opcode];
    }
}
