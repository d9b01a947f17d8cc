package dev.splitkernel.report;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of long work (the main job's runs): on a terminal, a bar redrawn in place on stderr with the share done
 * and an estimate of the time left; elsewhere (not a terminal, or CI=true) nothing, the work's own plain lines say
 * where it is.
 * <p>
 * Not thread-safe: owned by the thread doing the work.
 */
public final class Progress
{
    private static final int WIDTH = 30;

    private final PrintStream terminal;
    private final long startNs = System.nanoTime();
    private boolean shown;

    private Progress(final PrintStream terminal)
    {
        this.terminal = terminal;
    }

    /** A bar on stderr when it is a terminal and CI is not set; otherwise a progress that draws nothing. */
    public static Progress forConsole()
    {
        return new Progress(isInteractive() ? System.err : null);
    }

    /** True when a person watches a terminal: a console, not CI, not a dumb terminal. */
    public static boolean isInteractive()
    {
        return System.console() != null && !"true".equalsIgnoreCase(System.getenv("CI"))
            && !"dumb".equals(System.getenv("TERM"));
    }

    /** Draw the bar: {@code done} of {@code total} steps, now doing {@code label}. */
    public void update(final int done, final int total, final String label)
    {
        if (terminal == null || total <= 0)
        {
            return;
        }
        final double share = Math.min(1.0, Math.max(0.0, (double)done / total));
        final int filled = (int)Math.round(share * WIDTH);
        final long elapsedNs = System.nanoTime() - startNs;
        final String eta = done == 0 ? "?" : seconds((long)(elapsedNs / share - elapsedNs) / 1_000_000_000L);
        terminal.print("\r\033[K[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] "
            + String.format(Locale.ROOT, "%d/%d %3.0f%% eta %s  %s", done, total, 100 * share, eta, label));
        terminal.flush();
        shown = true;
    }

    /** End the bar's line and keep it (where other output follows at once and would erase it). */
    public void keep()
    {
        if (terminal != null && shown)
        {
            terminal.println();
            terminal.flush();
            shown = false;
        }
    }

    /** Erase the bar (before other output, and at the end). */
    public void clear()
    {
        if (terminal != null && shown)
        {
            terminal.print("\r\033[K");
            terminal.flush();
            shown = false;
        }
    }

    private static String seconds(final long s)
    {
        return s < 60 ? s + "s" : s < 3600 ? (s / 60) + "m" + (s % 60) + "s" : (s / 3600) + "h" + (s / 60 % 60) + "m";
    }
}
