package dev.splitkernel.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class JvmQuietTest
{
    @Test
    void shouldReturnWithinItsBound()
    {
        // Right after start-up the JIT is busy (this test's own classes): settle waits, but no longer than its bound.
        assertTimeoutPreemptively(Duration.ofMillis(JvmQuiet.MAX_WAIT_MS + 5_000), JvmQuiet::settle);
    }
}
