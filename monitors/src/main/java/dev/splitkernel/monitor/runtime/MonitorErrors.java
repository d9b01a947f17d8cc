package dev.splitkernel.monitor.runtime;

import dev.splitkernel.monitor.status.MonitorStatus;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One monitor's error handler: every error of its agents (and any other error the monitor hands it) is counted and
 * goes to the distinct-error log of the monitor's status file (each distinct one once, with its count and first and
 * last times); the first of each kind is also logged. The agent that failed keeps running.
 * <p>
 * Thread-safe.
 */
public final class MonitorErrors implements ErrorHandler
{
    /** Distinct errors logged (and listed by {@link #distinct()}) at most; later new ones are only counted. */
    public static final int MAX_DISTINCT = 256;

    private static final System.Logger LOG = System.getLogger(MonitorErrors.class.getName());

    private final String monitorName;
    private final MonitorStatus status;
    private final AtomicCounter count;
    private final Map<String, long[]> distinct = new LinkedHashMap<>();

    MonitorErrors(final String monitorName, final MonitorStatus status)
    {
        this.monitorName = monitorName;
        this.status = status;
        this.count = status.newCounter("errors", MonitorStatus.TYPE_MONITOR);
    }

    public String monitorName()
    {
        return monitorName;
    }

    /** The monitor's status file (counters, histograms, error log). */
    public MonitorStatus status()
    {
        return status;
    }

    @Override
    public void onError(final Throwable error)
    {
        record(String.valueOf(error), error);
    }

    /** An error that is not an exception (a refused report, a peer that went away). */
    public void record(final String message)
    {
        record(message, new ReportedError(message));
    }

    private void record(final String key, final Throwable error)
    {
        count.increment();
        status.recordError(error);
        final boolean first;
        synchronized (distinct)
        {
            final long[] seen = distinct.get(key);
            first = seen == null && distinct.size() < MAX_DISTINCT;
            if (seen != null)
            {
                seen[0]++;
            }
            else if (first)
            {
                distinct.put(key, new long[] {1});
            }
        }
        if (first)
        {
            LOG.log(System.Logger.Level.ERROR, monitorName + ": " + key + " (logged once; repeats are counted, see "
                + "'splitkernel errors')", error instanceof ReportedError ? null : error);
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

    /** An error reported as a message: no stack trace, so that repeats of the message are one distinct error. */
    static final class ReportedError extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        ReportedError(final String message)
        {
            super(message, null, false, false);
        }

        @Override
        public String toString()
        {
            return getMessage();
        }
    }
}
