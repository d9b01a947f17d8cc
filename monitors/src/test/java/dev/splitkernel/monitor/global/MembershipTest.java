package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.concurrent.NanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Heartbeats, the member timeout and rejoining, with a controlled clock and the agent's duty cycle called here. */
class MembershipTest
{
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private static final long MEMBER_TIMEOUT_MS = 1000;
    private static final long MS = 1_000_000L;

    private final LocalNetwork network = new LocalNetwork();
    private final long[] nowNs = {1_000 * MS};
    private final NanoClock clock = () -> nowNs[0];
    private Fabric serverFabric;
    private Fabric clientFabric;
    private GlobalManager manager;
    private MembershipAgent agent;
    private GlobalManagerProxy proxy;

    @BeforeEach
    void before()
    {
        serverFabric = new LocalFabric(new FabricContext().fabric("local"), network);
        clientFabric = new LocalFabric(new FabricContext().fabric("local"), network);
        // memberTimeoutMs 0 here: no background checker; the test drives the agent itself with the same timeout.
        manager = new GlobalManager(new GlobalManagerContext().fabric(serverFabric).listenAddress("gm")
            .nanoClock(clock).memberTimeoutMs(0)).start();
        proxy = new GlobalManagerProxy(clientFabric.connect("gm", TIMEOUT_NS), TIMEOUT_NS);
    }

    @AfterEach
    void after()
    {
        proxy.close();
        manager.close();
        clientFabric.close();
        serverFabric.close();
    }

    private GlobalManager managerWithTimeout()
    {
        manager.close();
        proxy.close();
        manager = new GlobalManager(new GlobalManagerContext().fabric(serverFabric).listenAddress("gm2")
            .nanoClock(clock).memberTimeoutMs(MEMBER_TIMEOUT_MS));
        // Not start(): that would run the real checker thread; listen only, and drive the agent here.
        serverFabric.listen("gm2", manager);
        proxy = new GlobalManagerProxy(clientFabric.connect("gm2", TIMEOUT_NS), TIMEOUT_NS);
        agent = new MembershipAgent(manager, clock, 100 * MS);
        return manager;
    }

    /** The GMM running for {@code ms}: its agent checks every 100 ms, on time. */
    private void runFor(final long ms)
    {
        for (long t = 0; t < ms; t += 100)
        {
            nowNs[0] += 100 * MS;
            agent.doWork();
        }
    }

    @Test
    void shouldNotDeclareMembersDeadWhenTheGmmItselfWasStalled()
    {
        managerWithTimeout();
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "a");
        final int b = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "b");
        final int p = proxy.registerMember(GlobalDescriptor.ROLE_PROCESSOR, 0, "p");
        runFor(500);
        // The GMM stalls for 3 member timeouts (a starved process): its check runs late, before the heartbeats that
        // came meanwhile are read. Every member looks silent for 3.5 s, none was.
        nowNs[0] += 3 * MEMBER_TIMEOUT_MS * MS;
        assertEquals(0, agent.doWork(), "a stalled GMM declares no one dead");
        assertTrue(manager.isAlive(a) && manager.isAlive(b) && manager.isAlive(p));
        assertEquals(0, proxy.reportMemoryLoad(a, 1000, 0, 0, 0), "the queued heartbeats are read");
        assertEquals(0, proxy.reportMemoryLoad(b, 1000, 0, 0, 0));
        assertEquals(0, proxy.reportProcessorLoad(p, 0));
        // Then b dies for real: it is declared once silent for the timeout of the GMM's own running time.
        for (int step = 0; step < 10; step++)
        {
            nowNs[0] += 100 * MS;
            assertEquals(0, proxy.reportMemoryLoad(a, 1000, 0, 0, 0));
            assertEquals(0, proxy.reportProcessorLoad(p, 0));
            agent.doWork();
            assertTrue(manager.isAlive(b), "b silent for " + (step + 1) * 100 + " ms of the GMM's time");
        }
        nowNs[0] += 100 * MS;
        agent.doWork();
        assertFalse(manager.isAlive(b), "b silent for 1.1 s > 1 s");
        assertTrue(manager.isAlive(a) && manager.isAlive(p));
    }

    @Test
    void shouldDeclareASilentMemoryMonitorDeadAndSkipItInPlacement()
    {
        managerWithTimeout();
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "a");
        final int b = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "b");
        assertEquals(b, proxy.allocateVRegion(1, 16, 100, a).memberId());
        assertEquals(a, proxy.allocateVRegion(1, 17, 100, -1).memberId(), "a is less loaded");

        for (int step = 0; step < 12; step++)
        {
            nowNs[0] += 100 * MS;
            assertEquals(0, proxy.reportMemoryLoad(b, 1000, 100, 0, 1), "b keeps reporting");
            agent.doWork();
        }
        assertFalse(manager.isAlive(a), "a was silent for 1.2 s > 1 s");
        assertTrue(manager.isAlive(b));
        assertEquals(b, proxy.allocateVRegion(1, 18, 100, -1).memberId(), "a is out of placement");
        assertEquals(Errno.ENOMEM, proxy.allocateVRegion(1, 19, 100, b).result(), "only b is left");
        assertEquals(b, proxy.chooseHome(0).memberId());
        final String members = proxy.listMembers();
        assertTrue(members.contains(a + " memory a dead "), members);
        assertTrue(members.contains(b + " memory b alive "), members);
    }

    @Test
    void shouldNotDeclareAMemberDeadBeforeTheTimeout()
    {
        managerWithTimeout();
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "a");
        runFor(MEMBER_TIMEOUT_MS);
        assertTrue(manager.isAlive(a), "exactly at the timeout is not past it");
        nowNs[0] += MS;
        assertEquals(0, agent.doWork(), "the agent checks once per interval");
        nowNs[0] += 100 * MS;
        assertEquals(1, agent.doWork());
        assertFalse(manager.isAlive(a));
    }

    @Test
    void shouldTakeADeadMemberBackWhenItReportsAgain()
    {
        managerWithTimeout();
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "a");
        runFor(2 * MEMBER_TIMEOUT_MS);
        assertFalse(manager.isAlive(a));
        assertEquals(Errno.ENOMEM, proxy.allocateVRegion(1, 16, 100, -1).result());
        assertEquals(0, proxy.reportMemoryLoad(a, 1000, 0, 0, 0), "a dead member's report is accepted");
        assertTrue(manager.isAlive(a));
        assertEquals(a, proxy.allocateVRegion(1, 16, 100, -1).memberId(), "placed again");
    }

    @Test
    void shouldPlaceARestartedMonitorThatRegistersAgain()
    {
        managerWithTimeout();
        final int first = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "m");
        runFor(2 * MEMBER_TIMEOUT_MS);
        final int second = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 1000, "m");
        assertTrue(second != first);
        assertEquals(second, proxy.allocateVRegion(1, 16, 100, -1).memberId());
        final String members = proxy.listMembers();
        assertTrue(members.contains(second + " memory m alive "), members);
        assertTrue(members.contains(first + " memory m dead "), members);
    }

    @Test
    void shouldSkipADeadProcessorInTheGpm()
    {
        managerWithTimeout();
        final int p = proxy.registerMember(GlobalDescriptor.ROLE_PROCESSOR, 0, "p");
        final int q = proxy.registerMember(GlobalDescriptor.ROLE_PROCESSOR, 0, "q");
        assertEquals(0, proxy.reportProcessorLoad(p, 5));
        runFor(600);
        assertEquals(0, proxy.reportProcessorLoad(p, 5));
        runFor(600);
        assertFalse(manager.isAlive(q));
        assertEquals(p, proxy.chooseProcessor().memberId(), "q has fewer threads but is dead");
    }

    @Test
    void shouldRefuseANegativeMemberTimeoutNamingTheProperty()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new GlobalManagerContext().memberTimeoutMs(-1).conclude());
        assertTrue(ex.getMessage().contains(GlobalManagerContext.MEMBER_TIMEOUT_PROP_NAME), ex.getMessage());
    }
}
