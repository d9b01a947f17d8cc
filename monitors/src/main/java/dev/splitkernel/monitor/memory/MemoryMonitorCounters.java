package dev.splitkernel.monitor.memory;

import dev.splitkernel.monitor.status.MonitorStatus;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * A memory monitor's counters, in its status file (Agrona counters), readable from any thread while it runs and from
 * outside by {@code splitkernel stat}.
 * <p>
 * Thread-safe.
 */
public final class MemoryMonitorCounters
{
    public static final int LINE_FETCHES = 0;
    public static final int LINE_WRITE_BACKS = 1;
    public static final int PIGGYBACKED_WRITE_BACKS = 2;
    /** Pages created zero-filled at their first miss. */
    public static final int PAGES_CREATED_BY_FETCH = 3;
    /** Pages created at the first write-back of a p-local line. */
    public static final int PAGES_CREATED_BY_WRITE_BACK = 4;
    /** Line requests refused with EFAULT or EACCES (no vma, or no permission). */
    public static final int FAULTS = 5;
    /** Requests refused with ENOMEM. */
    public static final int OUT_OF_MEMORY = 6;
    public static final int MALFORMED_REQUESTS = 7;
    public static final int UNKNOWN_OPCODES = 8;
    public static final int SYSCALLS = 9;
    public static final int OWNER_OPERATIONS = 10;
    public static final int HANDLER_ERRORS = 11;
    public static final int LOAD_REPORTS = 12;
    public static final int LOAD_REPORT_FAILURES = 13;
    public static final int PAGES_MOVED = 14;
    /** Data requests refused because no memory worker came free within the request timeout. */
    public static final int WORKER_TIMEOUTS = 15;
    /** Write-backs forwarded to a secondary and acknowledged by it (as a primary). */
    public static final int REPLICA_FORWARDS = 16;
    /** Pages copied to a new secondary (as a primary). */
    public static final int REPLICA_PAGES_COPIED = 17;
    /** Replications of a vRegion started and whose page copy completed (as a primary). */
    public static final int REPLICATIONS_STARTED = 18;
    public static final int REPLICATIONS_COMPLETED = 19;
    /** vRegions left without a replica because their secondary failed (as a primary). */
    public static final int REPLICAS_LOST = 20;
    /** Write-backs and page copies logged (as a secondary). */
    public static final int REPLICA_WRITE_BACKS = 21;
    /** Replicated vRegions taken over after their primary died, their pages built from the log (as a secondary). */
    public static final int PROMOTIONS = 22;
    /** Owned vRegions this monitor stopped serving because another owns them now (it was declared dead while alive). */
    public static final int VREGIONS_FENCED = 23;
    /** Piggybacked write-backs answered before their secondary had them (the processor kept them until then). */
    public static final int REPLICA_PENDING_ACKS = 24;
    /** Log entries a promotion replayed into the promoted vRegions' pages (as a secondary). */
    public static final int REPLAYED_ENTRIES = 25;
    /** Time the promotions spent replaying the log, in microseconds (as a secondary). */
    public static final int REPLAY_MICROS = 26;
    public static final int COUNT = 27;

    private static final String[] NAMES =
    {
        "line fetches", "line write-backs", "piggybacked write-backs", "pages created by fetch",
        "pages created by write-back", "faults", "out of memory", "malformed requests", "unknown opcodes", "syscalls",
        "owner operations", "handler errors", "load reports", "load report failures", "pages moved",
        "worker timeouts", "replica forwards", "replica pages copied", "replications started",
        "replications completed", "replicas lost", "replica write-backs", "promotions",
        "vRegions fenced", "replica acks deferred", "log entries replayed", "log replay us"
    };

    private final AtomicCounter[] values = new AtomicCounter[COUNT];

    MemoryMonitorCounters(final MonitorStatus status)
    {
        for (int i = 0; i < COUNT; i++)
        {
            values[i] = status.newCounter("memory: " + NAMES[i], MonitorStatus.TYPE_MONITOR);
        }
    }

    void increment(final int counter)
    {
        values[counter].increment();
    }

    void add(final int counter, final long delta)
    {
        values[counter].getAndAdd(delta);
    }

    public long get(final int counter)
    {
        return values[counter].get();
    }

    public static String name(final int counter)
    {
        return NAMES[counter];
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < COUNT; i++)
        {
            sb.append(i == 0 ? "" : ", ").append(NAMES[i]).append('=').append(get(i));
        }
        return sb.toString();
    }
}
