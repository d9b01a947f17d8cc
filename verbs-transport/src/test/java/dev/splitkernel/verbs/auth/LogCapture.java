package dev.splitkernel.verbs.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Test helper: collects what our code logs (System.Logger, through java.util.logging) until closed; it is still
 * logged as usual.
 */
public final class LogCapture implements AutoCloseable
{
    private final Logger logger = Logger.getLogger("dev.splitkernel");
    private final List<String> messages = new ArrayList<>();
    private final Handler handler = new Handler()
    {
        @Override
        public void publish(final LogRecord record)
        {
            synchronized (messages)
            {
                messages.add(record.getMessage());
            }
        }

        @Override
        public void flush()
        {
        }

        @Override
        public void close()
        {
        }
    };

    public LogCapture()
    {
        logger.addHandler(handler);
    }

    /** How many logged messages contain {@code text}. */
    public long linesContaining(final String text)
    {
        synchronized (messages)
        {
            return messages.stream().filter(m -> m != null && m.contains(text)).count();
        }
    }

    @Override
    public void close()
    {
        logger.removeHandler(handler);
    }
}
