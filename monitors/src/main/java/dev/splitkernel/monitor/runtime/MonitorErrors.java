package dev.splitkernel.monitor.runtime;

import org.agrona.ErrorHandler;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One monitor's error handler: every error of its agents (and any other error the monitor hands it) is counted, each
 * distinct one (by type and message) is kept with its count and reported once on the runtime's error log. The agent
 * that failed keeps running.
 * <p>
 * Thread-safe.
 */
public final class MonitorErrors implements ErrorHandler
{
    /** Distinct errors kept at most; later new ones are only counted. */
    public static final int MAX_DISTINCT = 256;

    private final String monitorName;
    private final PrintStream log;
    private final AtomicLong count = new AtomicLong();
    private final Map<String, long[]> distinct = new LinkedHashMap<>();

    MonitorErrors(final String monitorName, final PrintStream log)
    {
        this.monitorName = monitorName;
        this.log = log;
    }

    public String monitorName()
    {
        return monitorName;
    }

    @Override
    public void onError(final Throwable error)
    {
        record(String.valueOf(error));
    }

    /** An error that is not an exception (a refused report, a peer that went away). */
    public void record(final String message)
    {
        count.incrementAndGet();
        final boolean first;
        synchronized (distinct)
        {
            final long[] seen = distinct.get(message);
            first = seen == null && distinct.size() < MAX_DISTINCT;
            if (seen != null)
            {
                seen[0]++;
            }
            else if (first)
            {
                distinct.put(message, new long[] {1});
            }
        }
        if (first)
        {
            log.println(monitorName + ": error: " + message + " (reported once; repeats are counted)");
        }
    }

    /** Errors so far. */
    public long count()
    {
        return count.get();
    }

    /** The distinct errors so far, oldest first, each as "N x message". */
    public List<String> distinct()
    {
        synchronized (distinct)
        {
            final List<String> result = new ArrayList<>(distinct.size());
            distinct.forEach((message, n) -> result.add(n[0] + " x " + message));
            return result;
        }
    }

    @Override
    public String toString()
    {
        return "MonitorErrors{" + monitorName + ", count=" + count() + "}";
    }
}
