package dev.splitkernel.cli;

import java.util.Locale;

/** Parsing and printing of option values shared by the subcommands. */
final class Options
{
    private Options()
    {
    }

    /** "4096", "64k", "256m", "2g" (binary units). */
    static long parseBytes(final String value)
    {
        final String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.isEmpty())
        {
            throw new NumberFormatException("empty size");
        }
        final char unit = v.charAt(v.length() - 1);
        final long multiplier;
        switch (unit)
        {
            case 'k': multiplier = 1L << 10; break;
            case 'm': multiplier = 1L << 20; break;
            case 'g': multiplier = 1L << 30; break;
            case 't': multiplier = 1L << 40; break;
            default: multiplier = 1; break;
        }
        final String digits = multiplier == 1 ? v : v.substring(0, v.length() - 1);
        return Math.multiplyExact(Long.parseLong(digits), multiplier);
    }

    /** "600s", "10m", "1h", "90" (seconds), "2.5m": a duration in nanoseconds; negative or empty ones are refused. */
    static long parseDurationNs(final String value)
    {
        final String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.isEmpty())
        {
            throw new NumberFormatException("empty duration");
        }
        final char unit = v.charAt(v.length() - 1);
        final double secondsPerUnit;
        switch (unit)
        {
            case 's': secondsPerUnit = 1; break;
            case 'm': secondsPerUnit = 60; break;
            case 'h': secondsPerUnit = 3600; break;
            default: secondsPerUnit = 0; break;
        }
        final String digits = secondsPerUnit == 0 ? v : v.substring(0, v.length() - 1);
        // Plain decimals only: Double.parseDouble would also take "NaN", "1e3" or "10d".
        if (!digits.matches("[0-9]+(\\.[0-9]+)?"))
        {
            throw new NumberFormatException("not a duration: " + value);
        }
        final double seconds = Double.parseDouble(digits) * (secondsPerUnit == 0 ? 1 : secondsPerUnit);
        if (!(seconds >= 0 && seconds < 1e9))
        {
            throw new NumberFormatException("duration out of range: " + value);
        }
        return Math.round(seconds * 1e9);
    }

    /** A duration for the console: "10 min" when whole minutes, else "90 s" or "0.001 s". */
    static String formatDuration(final long ns)
    {
        final double seconds = ns / 1e9;
        if (seconds >= 60 && seconds % 60 == 0)
        {
            return String.format(Locale.ROOT, "%.0f min", seconds / 60);
        }
        return String.format(Locale.ROOT, seconds >= 10 ? "%.0f s" : "%.3g s", seconds);
    }

    static String formatBytes(final long bytes)
    {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0)
        {
            return (bytes >> 30) + " GiB";
        }
        if (bytes >= 1L << 20)
        {
            return bytes % (1L << 20) == 0 ? (bytes >> 20) + " MiB"
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double)(1L << 20));
        }
        if (bytes >= 1L << 10)
        {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        return bytes + " B";
    }
}
