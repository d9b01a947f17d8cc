package dev.splitkernel.cluster;

import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

/** The scenarios with the global manager and both memory monitors in separate JVMs, over tcp on loopback. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TcpClusterTest extends ChildJvmClusterTest
{
    @Override
    String fabric()
    {
        return "tcp";
    }

    @Override
    String listenHost()
    {
        return "127.0.0.1";
    }
}
