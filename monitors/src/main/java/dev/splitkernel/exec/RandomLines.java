package dev.splitkernel.exec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Input for sorting programs: lines of 8 to 60 letters and digits from a seed (the exec tests and benchmark). */
public final class RandomLines
{
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    private RandomLines()
    {
    }

    /** Write lines to {@code file} until it holds at least {@code bytes}. */
    public static void write(final Path file, final long bytes, final long seed) throws IOException
    {
        final Random random = new Random(seed);
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII))
        {
            final StringBuilder line = new StringBuilder(64);
            long written = 0;
            while (written < bytes)
            {
                line.setLength(0);
                final int length = 8 + random.nextInt(53);
                for (int i = 0; i < length; i++)
                {
                    line.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                }
                line.append('\n');
                w.append(line);
                written += line.length();
            }
        }
    }
}
