package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OptionsTest
{
    @Test
    void shouldParseDurationsInSecondsMinutesAndHours()
    {
        assertEquals(600_000_000_000L, Options.parseDurationNs("600s"));
        assertEquals(600_000_000_000L, Options.parseDurationNs("10m"));
        assertEquals(600_000_000_000L, Options.parseDurationNs("600"));
        assertEquals(150_000_000_000L, Options.parseDurationNs("2.5m"));
        assertEquals(3_600_000_000_000L, Options.parseDurationNs("1H"));
        assertEquals(1_000_000L, Options.parseDurationNs("0.001s"));
    }

    @Test
    void shouldRefuseWhatIsNotADuration()
    {
        for (final String bad : new String[]{"", "m", "-5s", "10d", "NaN", "1e3", "ten minutes", "5x"})
        {
            assertThrows(NumberFormatException.class, () -> Options.parseDurationNs(bad), bad);
        }
    }

    @Test
    void shouldPrintWholeMinutesAsMinutes()
    {
        assertEquals("10 min", Options.formatDuration(600_000_000_000L));
        assertEquals("90 s", Options.formatDuration(90_000_000_000L));
        assertEquals("0.00100 s", Options.formatDuration(1_000_000L));
    }
}
