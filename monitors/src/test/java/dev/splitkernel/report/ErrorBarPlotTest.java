package dev.splitkernel.report;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ErrorBarPlotTest
{
    @Test
    void shouldWriteAPngOfTheRequestedSize() throws Exception
    {
        final ErrorBarPlot plot = new ErrorBarPlot("slowdown", "ExCache %", "slowdown").logY(true);
        plot.series("tf").add(14, Samples.of(2.0, 2.2, 2.1)).add(28, Samples.of(1.5, 1.6, 1.7)).add(57, 1.2);
        plot.reference("tf (LegoOS)").add(14, 2.13).add(28, 1.68).add(57, 1.41).add(80, Double.NaN);
        final Path file = Files.createTempDirectory("plot").resolve("p.png");
        plot.writePng(file, 640, 400);
        final BufferedImage image = ImageIO.read(file.toFile());
        assertEquals(640, image.getWidth());
        assertEquals(400, image.getHeight());
    }

    @Test
    void shouldRefuseTwoSeriesOfOneName()
    {
        final ErrorBarPlot plot = new ErrorBarPlot("t", "x", "y");
        plot.series("a");
        assertThrows(IllegalArgumentException.class, () -> plot.reference("a"));
    }
}
