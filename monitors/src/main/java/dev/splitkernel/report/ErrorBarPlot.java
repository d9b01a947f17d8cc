package dev.splitkernel.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Polygon;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A PNG line plot through JFreeChart: measured series drawn as lines with a vertical error bar per point (e.g. the
 * median and its 95% confidence interval), and reference series (e.g. published figures) drawn as unconnected
 * diamonds. Not thread-safe: build, then write.
 */
public final class ErrorBarPlot
{
    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private boolean logY;

    public ErrorBarPlot(final String title, final String xLabel, final String yLabel)
    {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** A logarithmic y axis (for values spanning decades, such as slowdowns). */
    public ErrorBarPlot logY(final boolean logY)
    {
        this.logY = logY;
        return this;
    }

    /** A measured series, drawn with lines and error bars; points are added in x order. */
    public Series series(final String name)
    {
        return add(name, false);
    }

    /** A reference series, drawn as diamonds without lines or bars. */
    public Series reference(final String name)
    {
        return add(name, true);
    }

    private Series add(final String name, final boolean reference)
    {
        for (final Series s : series)
        {
            if (s.name.equals(name))
            {
                throw new IllegalArgumentException("series '" + name + "' exists already");
            }
        }
        final Series s = new Series(name, reference);
        series.add(s);
        return s;
    }

    public void writePng(final Path file, final int width, final int height) throws IOException
    {
        final YIntervalSeriesCollection dataset = new YIntervalSeriesCollection();
        final XYErrorRenderer renderer = new XYErrorRenderer();
        renderer.setDrawXError(false);
        renderer.setErrorStroke(new BasicStroke(1.5f));
        renderer.setCapLength(6);
        final Polygon diamond = new Polygon(new int[]{0, 6, 0, -6}, new int[]{-6, 0, 6, 0}, 4);
        double minY = Double.POSITIVE_INFINITY;
        for (final Series s : series)
        {
            for (final double[] p : s.points)
            {
                minY = Math.min(minY, p[1]);
            }
        }
        // A log axis cannot show a bar reaching zero or below (a wide interval of few samples): cut it at the floor.
        final boolean log = logY && minY > 0;
        final double floor = log ? Math.min(1.0, minY) * 0.8 : Double.NEGATIVE_INFINITY;
        for (final Series s : series)
        {
            final int index = dataset.getSeriesCount();
            final YIntervalSeries data = new YIntervalSeries(s.name, true, true);
            for (final double[] p : s.points)
            {
                data.add(p[0], p[1], Math.max(floor, p[2]), p[3]);
            }
            dataset.addSeries(data);
            renderer.setSeriesLinesVisible(index, !s.reference);
            renderer.setSeriesShapesVisible(index, true);
            renderer.setSeriesStroke(index, new BasicStroke(2.0f));
            if (s.reference)
            {
                renderer.setSeriesShape(index, diamond);
            }
        }
        final NumberAxis xAxis = new NumberAxis(xLabel);
        xAxis.setAutoRangeIncludesZero(false);
        final ValueAxis yAxis;
        if (log)
        {
            final LogAxis logAxis = new LogAxis(yLabel);
            logAxis.setBase(10);
            logAxis.setSmallestValue(floor);
            logAxis.setNumberFormatOverride(new java.text.DecimalFormat("0.##"));
            yAxis = logAxis;
        }
        else
        {
            yAxis = new NumberAxis(yLabel);
        }
        final XYPlot plot = new XYPlot(dataset, xAxis, yAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        final JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        final Path parent = file.toAbsolutePath().getParent();
        if (parent != null)
        {
            Files.createDirectories(parent);
        }
        ChartUtils.saveChartAsPNG(file.toFile(), chart, width, height);
    }

    /** One series of points. */
    public static final class Series
    {
        private final String name;
        private final boolean reference;
        private final List<double[]> points = new ArrayList<>();

        private Series(final String name, final boolean reference)
        {
            this.name = name;
            this.reference = reference;
        }

        /** A point with its interval ({@code low <= y <= high}); non-finite values are skipped, not plotted. */
        public Series add(final double x, final double y, final double low, final double high)
        {
            if (Double.isFinite(x) && Double.isFinite(y))
            {
                points.add(new double[]{x, y, Double.isFinite(low) ? Math.min(low, y) : y,
                    Double.isFinite(high) ? Math.max(high, y) : y});
            }
            return this;
        }

        /** A point without an interval. */
        public Series add(final double x, final double y)
        {
            return add(x, y, y, y);
        }

        /**
         * The median of {@code samples} at {@code x}, with the median's 95% confidence interval as the bar (min..max
         * under 6 samples, see {@link Samples#medianCiLow95()}).
         */
        public Series add(final double x, final Samples samples)
        {
            return add(x, samples.median(), samples.medianCiLow95(), samples.medianCiHigh95());
        }

        public int count()
        {
            return points.size();
        }
    }
}
