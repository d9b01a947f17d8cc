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
