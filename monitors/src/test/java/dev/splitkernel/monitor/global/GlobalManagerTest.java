package dev.splitkernel.monitor.global;

import dev.splitkernel.protocol.Errno;
import dev.splitkernel.protocol.GlobalDescriptor;
import dev.splitkernel.protocol.GlobalManagerProxy;
import dev.splitkernel.protocol.Opcodes;
import dev.splitkernel.protocol.Placement;
import dev.splitkernel.protocol.SyscallReplyDescriptor;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.FabricContext;
import dev.splitkernel.verbs.Status;
import dev.splitkernel.verbs.local.LocalFabric;
import dev.splitkernel.verbs.local.LocalNetwork;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlobalManagerTest
{
    private static final long TIMEOUT_NS = 5_000_000_000L;
    private final LocalNetwork network = new LocalNetwork();
    private Fabric serverFabric;
    private Fabric clientFabric;
    private GlobalManager manager;
    private GlobalManagerProxy proxy;

    @BeforeEach
    void before()
    {
        serverFabric = new LocalFabric(new FabricContext().fabric("local"), network);
        clientFabric = new LocalFabric(new FabricContext().fabric("local"), network);
        // Placement of owners alone (replicas are FailoverTest's): no secondaries counted against the capacities.
        manager = new GlobalManager(new GlobalManagerContext().fabric(serverFabric).listenAddress("gm")
            .replication(false)).start();
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

    @Test
    void shouldNameASecondaryOnceAMonitorJoinsForAVRegionLeftWithoutOne()
    {
        manager.close();
        proxy.close();
        serverFabric = new LocalFabric(new FabricContext().fabric("local"), network);
        manager = new GlobalManager(new GlobalManagerContext().fabric(serverFabric).listenAddress("gm-replicated")
            .replication(true).memberTimeoutMs(0)).start();
        proxy = new GlobalManagerProxy(clientFabric.connect("gm-replicated", TIMEOUT_NS), TIMEOUT_NS);
        // Memory monitors that accept every replication the GMM asks of them.
        for (final String address : new String[] {"ma", "mb", "mc"})
        {
            clientFabric.listen(address, (opcode, request, offset, length, reply, replyOffset, replyCapacity) ->
                SyscallReplyDescriptor.encodeHeader(reply, replyOffset, 0, 0));
        }
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "ma");
        final int b = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "mb");
        final int asid = proxy.chooseHome(0).asid();
        final Placement p = proxy.allocateVRegion(asid, 16, 50, -1);
        final int owner = p.memberId();
        final int secondary = owner == a ? b : a;
        assertEquals(secondary, manager.secondaryOf(asid, 16));
        assertTrue(manager.declareDead(secondary));
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (manager.replicationQueued(asid, 16))
        {
            assertTrue(System.nanoTime() < deadlineNs, "the re-replication never ran");
            Thread.yield();
        }
        assertEquals(-1, manager.secondaryOf(asid, 16), "no monitor but the owner had room");
        final int c = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "mc");
        while (manager.secondaryOf(asid, 16) != c)
        {
            assertTrue(System.nanoTime() < deadlineNs, () -> "no new secondary: " + manager.membersText());
            Thread.yield();
        }
    }

    @Test
    void shouldPlaceVRegionsOnTheLeastLoadedMonitorWithRoom()
    {
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "a");
        final int b = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 200, "b");
        assertEquals(0, proxy.reportMemoryLoad(a, 100, 10, 0, 1));
        assertEquals(0, proxy.reportMemoryLoad(b, 200, 100, 0, 1));
        Placement p = proxy.allocateVRegion(1, 16, 20, -1);
        assertEquals(a, p.memberId());
        assertEquals("a", p.address());
        assertEquals(a, proxy.allocateVRegion(1, 17, 40, -1).memberId(), "a at 30% (counted), b at 50%");
        assertEquals(b, proxy.allocateVRegion(1, 18, 10, -1).memberId(), "a at 70%, b at 50%");
        proxy.reportMemoryLoad(a, 100, 0, 0, 0);
        assertEquals(b, proxy.allocateVRegion(1, 19, 10, -1).memberId(),
            "a report taken before a's placements does not undo them: a at 60%, b at 55%");
        assertEquals(0, proxy.freeVRegion(1, 16, a));
        assertEquals(0, proxy.freeVRegion(1, 17, a));
        proxy.reportMemoryLoad(a, 100, 0, 0, 0);
        assertEquals(a, proxy.allocateVRegion(1, 20, 10, -1).memberId(), "once freed, a's report rules: a at 0%");
    }

    @Test
    void shouldSkipFullMonitorsAndTheExcludedOne()
    {
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "a");
        final int b = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "b");
        proxy.reportMemoryLoad(a, 100, 10, 0, 1);
        proxy.reportMemoryLoad(b, 100, 50, 0, 1);
        assertEquals(b, proxy.allocateVRegion(1, 16, 40, a).memberId());
        assertEquals(a, proxy.allocateVRegion(1, 17, 60, -1).memberId());
        final Placement none = proxy.allocateVRegion(1, 18, 60, -1);
        assertFalse(none.isOk());
        assertEquals(Errno.ENOMEM, none.result());
        assertEquals(0, proxy.freeVRegion(1, 17, a));
        assertEquals(a, proxy.allocateVRegion(1, 18, 60, -1).memberId());
    }

    @Test
    void shouldAssignProcessIdsAndHomes()
    {
        assertEquals(Errno.ENOMEM, proxy.chooseHome(0).result());
        final int a = proxy.registerMember(GlobalDescriptor.ROLE_MEMORY, 100, "a");
        final Placement first = proxy.chooseHome(0);
        final Placement second = proxy.chooseHome(0);
        assertEquals(a, first.memberId());
        assertTrue(first.asid() > 0);
        assertEquals(first.asid() + 1, second.asid());
        assertEquals("a", proxy.lookupMember(a));
        assertNull(proxy.lookupMember(99));
    }

    @Test
    void shouldChooseTheProcessorWithFewestThreads()
    {
        assertEquals(Errno.ENOENT, proxy.chooseProcessor().result());
        final int p = proxy.registerMember(GlobalDescriptor.ROLE_PROCESSOR, 0, "p");
        final int q = proxy.registerMember(GlobalDescriptor.ROLE_PROCESSOR, 0, "q");
        proxy.reportProcessorLoad(p, 4);
        proxy.reportProcessorLoad(q, 2);
        assertEquals(q, proxy.chooseProcessor().memberId());
        assertEquals(q, proxy.chooseProcessor().memberId());
        assertEquals(p, proxy.chooseProcessor().memberId(), "q counted the placements: 4 threads, p first at a tie");
        assertEquals(Errno.ENOENT, proxy.reportProcessorLoad(42, 1));
    }

    @Test
    void shouldRejectMalformedRequests()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[128]);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[2048]);
        assertEquals(Status.MALFORMED, proxy.connection().call(Opcodes.CHOOSE_HOME, request, 0, 10, reply, 0, 2048,
            TIMEOUT_NS));
        assertEquals(Status.UNKNOWN_OPCODE, proxy.connection().call(7, request, 0, 64, reply, 0, 2048, TIMEOUT_NS));
        assertEquals(Errno.EINVAL, proxy.registerMember(5, 0, "x"));
        assertEquals(3, manager.errors());
    }
}
