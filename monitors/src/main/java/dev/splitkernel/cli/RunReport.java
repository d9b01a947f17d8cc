package dev.splitkernel.cli;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@code run} command's outputs: the table on the console, a JSON file and a PNG plot of slowdown vs size. */
final class RunReport
{
    private static final Color[] COLOURS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd), new Color(0xff7f0e) };

    private RunReport()
    {
    }

    static void printHeader(final PrintStream out)
    {
        out.printf(Locale.ROOT, "%-8s %-6s %10s %7s %10s %10s %9s %8s %11s %11s %11s %9s%n", "workload", "fabric",
            "ExCache MB", "% WS", "run s", "local s", "slowdown", "hit %", "misses", "write-backs", "one-sided",
            "RT/miss");
    }

    static void printRow(final PrintStream out, final RunResult r)
    {
        out.printf(Locale.ROOT, "%-8s %-6s %10.1f %6.1f%% %10.3f %10.3f %8.2fx %7.2f%% %11d %11d %11d %9.3f%n",
            r.workload(), r.fabric(), r.cacheBytes() / (1024.0 * 1024.0), r.sizePercent(), r.runNs() / 1e9, r.localNs() / 1e9,
            r.slowdown(), 100.0 * r.hitRatio(), r.misses(), r.writeBacks(), r.oneSided(), r.roundTripsPerMiss());
    }

    /**
     * With several fabrics: each fabric's run time over the first one's, per workload and ExCache size, measured in
     * the same run (e.g. "random 25.0%: tcp / local = 3.42x").
     */
    static void printFabricRatios(final PrintStream out, final List<RunResult> results)
    {
        final List<String> fabrics = results.stream().map(RunResult::fabric).distinct().toList();
        if (fabrics.size() < 2)
        {
            return;
        }
        out.println();
        for (final RunResult base : results)
        {
            if (!base.fabric().equals(fabrics.get(0)))
            {
                continue;
            }
            for (final RunResult other : results)
            {
                if (other.workload().equals(base.workload()) && other.sizePercent() == base.sizePercent() &&
                    !other.fabric().equals(base.fabric()))
                {
                    out.printf(Locale.ROOT, "%s %.1f%%: %s / %s = %.2fx%n", base.workload(), base.sizePercent(),
                        other.fabric(), base.fabric(), (double)other.runNs() / base.runNs());
                }
            }
        }
    }

    static void writeJson(final Path file, final Map<String, String> settings, final List<RunResult> results)
        throws IOException
    {
        final StringBuilder sb = new StringBuilder(1024);
        sb.append("{\n  \"settings\": {");
        boolean first = true;
        for (final Map.Entry<String, String> e : settings.entrySet())
        {
            sb.append(first ? "\n" : ",\n").append("    ").append(quote(e.getKey())).append(": ")
                .append(quote(e.getValue()));
            first = false;
        }
        sb.append("\n  },\n  \"results\": [");
        first = true;
        for (final RunResult r : results)
        {
            sb.append(first ? "\n" : ",\n");
            first = false;
            sb.append(String.format(Locale.ROOT, "    {\"workload\": %s, \"fabric\": %s, \"excachePercent\": %s, \"excacheBytes\": %d, "
                + "\"workingSetBytes\": %d, \"runSeconds\": %.6f, \"localSeconds\": %.6f, \"slowdown\": %s, "
                + "\"hitRatio\": %s, \"hits\": %d, \"misses\": %d, \"writeBacks\": %d, \"oneSidedReads\": %d, "
                + "\"pLocalFills\": %d, \"roundTrips\": %d, \"roundTripsPerMiss\": %s}",
                quote(r.workload()), quote(r.fabric()), number(r.sizePercent()), r.cacheBytes(), r.workingSetBytes(), r.runNs() / 1e9,
                r.localNs() / 1e9, number(r.slowdown()), number(r.hitRatio()), r.hits(), r.misses(), r.writeBacks(),
                r.oneSided(), r.pLocalFills(), r.roundTrips(), number(r.roundTripsPerMiss())));
        }
        sb.append("\n  ]\n}\n");
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    /** Slowdown (log scale) against ExCache size in percent of the working set, one line per workload. */
    static void writePlot(final Path file, final String title, final List<RunResult> results) throws IOException
    {
        final int width = 900;
        final int height = 560;
        final int left = 80;
        final int right = 170;
        final int top = 50;
        final int bottom = 70;
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = image.createGraphics();
        try
        {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);

            final Map<String, List<RunResult>> byWorkload = new LinkedHashMap<>();
            double maxPercent = 100;
            double maxSlowdown = 2;
            final boolean severalFabrics = results.stream().map(RunResult::fabric).distinct().count() > 1;
            for (final RunResult r : results)
            {
                byWorkload.computeIfAbsent(severalFabrics ? r.workload() + " (" + r.fabric() + ")" : r.workload(),
                    k -> new ArrayList<>()).add(r);
                maxPercent = Math.max(maxPercent, r.sizePercent());
                if (Double.isFinite(r.slowdown()))
                {
                    maxSlowdown = Math.max(maxSlowdown, r.slowdown());
                }
            }
            final double logMax = Math.ceil(Math.log10(maxSlowdown) * 2) / 2;
            final int plotW = width - left - right;
            final int plotH = height - top - bottom;
            final double xMax = maxPercent;

            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(new Color(0xdddddd));
            for (int p = 0; p <= xMax; p += xMax > 100 ? 50 : 25)
            {
                final int x = left + (int)(plotW * p / xMax);
                g.drawLine(x, top, x, top + plotH);
                g.setColor(Color.DARK_GRAY);
                g.drawString(p + "%", x - 12, top + plotH + 18);
                g.setColor(new Color(0xdddddd));
            }
            for (final double tick : new double[]{1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000})
            {
                if (Math.log10(tick) > logMax)
                {
                    break;
                }
                final int y = yOf(tick, logMax, top, plotH);
                g.setColor(new Color(0xdddddd));
                g.drawLine(left, y, left + plotW, y);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%sx", tick == Math.rint(tick) ? Long.toString((long)tick)
                    : Double.toString(tick)), left - 45, y + 4);
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, plotW, plotH);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, left, top - 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString("ExCache size (% of working set)", left + plotW / 2 - 100, height - 25);
            g.rotate(-Math.PI / 2);
            g.drawString("slowdown vs local memory (log)", -(top + plotH / 2 + 100), 25);
            g.rotate(Math.PI / 2);

            int series = 0;
            g.setStroke(new BasicStroke(2.5f));
            for (final Map.Entry<String, List<RunResult>> e : byWorkload.entrySet())
            {
                final Color colour = COLOURS[series % COLOURS.length];
                g.setColor(colour);
                int prevX = -1;
                int prevY = -1;
                final List<RunResult> points = new ArrayList<>(e.getValue());
                points.sort((a, b) -> Double.compare(a.sizePercent(), b.sizePercent()));
                for (final RunResult r : points)
                {
                    if (!Double.isFinite(r.slowdown()))
                    {
                        continue;
                    }
                    final int x = left + (int)(plotW * r.sizePercent() / xMax);
                    final int y = yOf(Math.max(1e-3, r.slowdown()), logMax, top, plotH);
                    g.fillOval(x - 4, y - 4, 9, 9);
                    if (prevX >= 0)
                    {
                        g.drawLine(prevX, prevY, x, y);
                    }
                    prevX = x;
                    prevY = y;
                }
                final int ly = top + 20 + 22 * series;
                g.drawLine(left + plotW + 15, ly - 4, left + plotW + 40, ly - 4);
                g.setColor(Color.BLACK);
                g.drawString(e.getKey(), left + plotW + 48, ly);
                series++;
            }
        }
        finally
        {
            g.dispose();
        }
        if (!ImageIO.write(image, "png", file.toFile()))
        {
            throw new IOException("no PNG writer in this JVM");
        }
    }

    private static int yOf(final double slowdown, final double logMax, final int top, final int plotH)
    {
        final double frac = logMax <= 0 ? 0 : Math.log10(Math.max(1.0, slowdown)) / logMax;
        return top + plotH - (int)(plotH * Math.min(1.0, frac));
    }

    private static String number(final double v)
    {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6f", v) : "null";
    }

    private static String quote(final String s)
    {
        final StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            if (c == '"' || c == '\\')
            {
                sb.append('\\').append(c);
            }
            else if (c < 0x20)
            {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int)c));
            }
            else
            {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
