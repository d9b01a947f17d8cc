package dev.splitkernel.verbs;

import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

/**
 * Statistics of one fabric instance: operations issued and served, bytes moved, and errors by kind. Each is an
 * Agrona {@link AtomicCounter} (its own cache line) in the {@link CountersManager} of
 * {@link FabricContext#countersManager()}: a monitor's counters file, or a private one when none is given.
 * <p>
 * Where each is counted: issued operations and their bytes, TIMEOUTS and NOT_CONNECTED at the initiator; served
 * operations, BAD_RKEY, OUT_OF_BOUNDS, UNKNOWN_OPCODE and HANDLER_ERRORS at the target; MALFORMED_FRAMES at the side
 * that received the bad frame; AUTH_FAILURES at both sides of a refused handshake.
 * <p>
 * Thread-safe.
 */
public final class FabricCounters
{
    public static final int READS = 0;
    public static final int WRITES = 1;
    public static final int CALLS = 2;
    public static final int SENDS = 3;
    public static final int BYTES_READ = 4;
    public static final int BYTES_WRITTEN = 5;
    public static final int BYTES_REQUESTED = 6;
    public static final int BYTES_REPLIED = 7;
    public static final int SERVED_READS = 8;
    public static final int SERVED_WRITES = 9;
    public static final int SERVED_REQUESTS = 10;
    public static final int BAD_RKEY = 11;
    public static final int OUT_OF_BOUNDS = 12;
    public static final int MALFORMED_FRAMES = 13;
    public static final int TIMEOUTS = 14;
    public static final int NOT_CONNECTED = 15;
    public static final int UNKNOWN_OPCODE = 16;
    public static final int HANDLER_ERRORS = 17;
    public static final int TOO_LARGE = 18;
    public static final int CONNECTIONS_ACCEPTED = 19;
    public static final int CONNECTIONS_CLOSED = 20;
    public static final int BACK_PRESSURED = 21;
    /** Peers refused at connection time: wrong or missing cluster secret, or no valid handshake in time. */
    public static final int AUTH_FAILURES = 22;

    /** How many counters there are; ids run from 0 to COUNT - 1. */
    public static final int COUNT = 23;

    private static final String[] LABELS = {
        "reads", "writes", "calls", "sends", "bytes read", "bytes written", "bytes requested", "bytes replied",
        "served reads", "served writes", "served requests", "errors: bad rkey", "errors: out of bounds",
        "errors: malformed frames", "errors: timeouts", "errors: not connected", "errors: unknown opcode",
        "errors: handler", "errors: too large", "connections accepted", "connections closed",
        "errors: back-pressured", "errors: authentication" };

    /** Type id of these counters in a counters file. */
    public static final int TYPE_ID = 2;

    /** What {@link Fabric#counters()} returns for a fabric that counts nothing yet: always zero. */
    public static final FabricCounters UNCOUNTED = new FabricCounters(null);

    private final AtomicCounter[] values = new AtomicCounter[COUNT];

    /**
     * @param manager where the counters live (a monitor's counters file), or null for a private one.
     */
    public FabricCounters(final CountersManager manager)
    {
        final CountersManager m = manager != null ? manager : PrivateCounters.newManager(COUNT);
        for (int i = 0; i < COUNT; i++)
        {
            values[i] = m.newCounter("fabric: " + LABELS[i], TYPE_ID);
        }
    }

    /** A short label of a counter id, e.g. "errors: bad rkey". */
    public static String label(final int id)
    {
        return LABELS[id];
    }

    public long get(final int id)
    {
        return values[id].get();
    }

    public void increment(final int id)
    {
        values[id].increment();
    }

    public void add(final int id, final long delta)
    {
        values[id].getAndAdd(delta);
    }

    /** Count a failed operation's status under its error kind (no-op for success and uncounted kinds). */
    public void countError(final int status)
    {
        switch (status)
        {
            case Status.TIMEOUT: increment(TIMEOUTS); break;
            case Status.NOT_CONNECTED: increment(NOT_CONNECTED); break;
            case Status.BAD_RKEY: increment(BAD_RKEY); break;
            case Status.OUT_OF_BOUNDS: increment(OUT_OF_BOUNDS); break;
            case Status.MALFORMED: increment(MALFORMED_FRAMES); break;
            case Status.UNKNOWN_OPCODE: increment(UNKNOWN_OPCODE); break;
            case Status.HANDLER_ERROR: increment(HANDLER_ERRORS); break;
            case Status.TOO_LARGE: increment(TOO_LARGE); break;
            case Status.BACK_PRESSURED: increment(BACK_PRESSURED); break;
            default: break;
        }
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < COUNT; i++)
        {
            final long v = get(i);
            if (v != 0)
            {
                sb.append(sb.length() == 0 ? "" : ", ").append(LABELS[i]).append('=').append(v);
            }
        }
        return "FabricCounters{" + sb + "}";
    }
}
