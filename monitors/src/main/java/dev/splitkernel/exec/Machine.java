package dev.splitkernel.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What to print beside a timing figure: how busy the machine was. */
public final class Machine
{
    private Machine()
    {
    }

    /** /proc/loadavg as it reads (1, 5 and 15 minute load averages, ...), or "unknown". */
    public static String loadAverage()
    {
        try
        {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }
}
