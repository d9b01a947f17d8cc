package dev.splitkernel.verbs.auth;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Test helper: copies what is printed to System.err (still printed) until closed. */
public final class StderrCapture implements AutoCloseable
{
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    public StderrCapture()
    {
        final OutputStream tee = new OutputStream()
        {
            @Override
            public void write(final int b)
            {
                synchronized (captured)
                {
                    captured.write(b);
                }
                original.write(b);
            }

            @Override
            public void write(final byte[] bytes, final int offset, final int length)
            {
                synchronized (captured)
                {
                    captured.write(bytes, offset, length);
                }
                original.write(bytes, offset, length);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    /** How many printed lines contain {@code text}. */
    public long linesContaining(final String text)
    {
        final String all;
        synchronized (captured)
        {
            all = captured.toString(StandardCharsets.UTF_8);
        }
        return all.lines().filter(line -> line.contains(text)).count();
    }

    @Override
    public void close()
    {
        System.setErr(original);
    }
}
