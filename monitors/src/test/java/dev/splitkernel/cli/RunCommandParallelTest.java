package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCommandParallelTest
{
    @Test
    void shouldFailARunWhoseThreadHangsInsteadOfWaitingForever()
    {
        final CountDownLatch never = new CountDownLatch(1);
        final IllegalStateException hung = assertTimeoutPreemptively(Duration.ofSeconds(20),
            () -> assertThrows(IllegalStateException.class, () -> RunCommand.parallel(2, t -> { }, t ->
            {
                if (t == 1)
                {
                    try
                    {
                        never.await(); // until the watchdog interrupts it
                    }
                    catch (final InterruptedException ex)
                    {
                        Thread.currentThread().interrupt();
                    }
                }
                return t;
            }, 200_000_000L)));
        assertTrue(hung.getMessage().contains("did not finish"), hung.getMessage());
    }

    @Test
    void shouldSumTheResultsOfThreadsThatFinish() throws Exception
    {
        assertEquals(0 + 1 + 2, RunCommand.parallel(3, t -> { }, t -> t, 10_000_000_000L));
    }
}
