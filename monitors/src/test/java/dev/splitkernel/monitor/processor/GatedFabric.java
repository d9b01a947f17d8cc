package dev.splitkernel.monitor.processor;

import dev.splitkernel.verbs.Completion;
import dev.splitkernel.verbs.Connection;
import dev.splitkernel.verbs.Fabric;
import dev.splitkernel.verbs.ForwardingConnection;
import dev.splitkernel.verbs.ForwardingFabric;
import dev.splitkernel.verbs.MemoryRegion;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A fabric with a gate for tests that need an operation to stay in flight: once {@link #arm()}ed, the next one-sided
 * READ signals {@link #entered} and waits for {@link #open()} before it is made; once {@link #armAfterCall(int)}ed,
 * the next call with that opcode is made, then signals and waits before it returns.
 */
final class GatedFabric extends ForwardingFabric
{
    final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);
    private volatile boolean armed;
    private volatile int armedOpcode = Integer.MIN_VALUE;
    private volatile int busyOpcode = Integer.MIN_VALUE;
    private final java.util.concurrent.atomic.AtomicInteger busyCalls = new java.util.concurrent.atomic.AtomicInteger();

    GatedFabric(final Fabric fabric)
    {
        super(fabric);
    }

    void arm()
    {
        armed = true;
    }

    void armAfterCall(final int opcode)
    {
        armedOpcode = opcode;
    }

    /** The next {@code count} calls with {@code opcode} answer BACK_PRESSURED and are not made (a busy owner). */
    void busy(final int opcode, final int count)
    {
        busyCalls.set(count);
        busyOpcode = opcode;
    }

    void open()
    {
        gate.countDown();
    }

    private void pass()
    {
        if (armed)
        {
            armed = false;
            hold();
        }
    }

    private void hold()
    {
        {
            entered.countDown();
            try
            {
                if (!gate.await(30, TimeUnit.SECONDS))
                {
                    throw new IllegalStateException("gate never opened");
                }
            }
            catch (final InterruptedException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }

    @Override
    public Connection connect(final String address, final long timeoutNs)
    {
        final Connection connection = fabric.connect(address, timeoutNs);
        return new ForwardingConnection(connection)
        {
            @Override
            public int postRead(final MemoryRegion local, final int localOffset, final long remoteAddress,
                final int rkey, final int lengthBytes, final Completion completion)
            {
                pass();
                return connection.postRead(local, localOffset, remoteAddress, rkey, lengthBytes, completion);
            }

            @Override
            public int read(final MemoryRegion local, final int localOffset, final long remoteAddress, final int rkey,
                final int lengthBytes, final long timeoutNs)
            {
                pass();
                return connection.read(local, localOffset, remoteAddress, rkey, lengthBytes, timeoutNs);
            }

            @Override
            public int call(final int opcode, final DirectBuffer request, final int offset, final int length,
                final MutableDirectBuffer reply, final int replyOffset, final int replyCapacity, final long timeoutNs)
            {
                if (opcode == busyOpcode && busyCalls.getAndUpdate(n -> Math.max(0, n - 1)) > 0)
                {
                    return dev.splitkernel.verbs.Status.BACK_PRESSURED;
                }
                final int result = connection.call(
                    opcode, request, offset, length, reply, replyOffset, replyCapacity, timeoutNs);
                if (opcode == armedOpcode)
                {
                    armedOpcode = Integer.MIN_VALUE;
                    hold();
                }
                return result;
            }
        };
    }
}
