package dev.splitkernel.verbs.rdma;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Whether tests over real verbs can run here, and where. Such tests carry the JUnit tag {@value #TAG}: the build
 * excludes it on machines without an RDMA device, and {@code scripts/test} runs it inside a Soft-RoCE guest with
 * {@value #REQUIRED_PROP_NAME}{@code =true}, where a missing device fails the test instead of skipping it.
 */
public final class RdmaTestEnvironment
{
    public static final String TAG = "rdma";
    public static final String REQUIRED_PROP_NAME = "splitkernel.test.rdmaRequired";

    private static final String UNAVAILABLE_REASON;
    private static final String LOCAL_ADDRESS;
    private static boolean skipSaid;

    static
    {
        String reason = RdmaProbe.ofSystem().unavailableReason();
        String address = null;
        if (reason == null)
        {
            final String configured = System.getProperty(RdmaContext.LOCAL_ADDRESS_PROP_NAME, "").trim();
            address = configured.isEmpty() ? RdmaInterfaces.detectLocalAddress(Path.of("/sys/class/infiniband"))
                : configured;
            if (address == null)
            {
                reason = "no IPv4 address on the interface of an ACTIVE RDMA port: set "
                    + RdmaContext.LOCAL_ADDRESS_PROP_NAME;
            }
        }
        UNAVAILABLE_REASON = reason;
        LOCAL_ADDRESS = address;
    }

    private RdmaTestEnvironment()
    {
    }

    /**
     * The IPv4 address of this host's RDMA interface. When verbs cannot run here: fails the calling test if they
     * are required, otherwise skips it; either way with the probe's reason.
     */
    public static String localAddress()
    {
        if (UNAVAILABLE_REASON != null)
        {
            if (Boolean.getBoolean(REQUIRED_PROP_NAME))
            {
                fail("rdma is required here (" + REQUIRED_PROP_NAME + "=true) but cannot run: " + UNAVAILABLE_REASON);
            }
            if (!skipSaid)
            {
                skipSaid = true;
                System.out.println("rdma tests skipped: " + UNAVAILABLE_REASON);
            }
            assumeTrue(false, UNAVAILABLE_REASON);
        }
        return LOCAL_ADDRESS;
    }
}
