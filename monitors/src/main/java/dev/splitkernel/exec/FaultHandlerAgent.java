package dev.splitkernel.exec;

import dev.splitkernel.exec.linux.LibC;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The processor monitor's miss handler for one unmodified program: each duty cycle serves the faults pending on the
 * program's userfaultfd ({@link HeapSession}). When the session fails (a memory monitor does not answer, the cluster
 * has no memory), it reports the reason once and terminates, and the runner stops the program.
 * Runs on a thread of its own with a {@link FaultIdleStrategy}.
 */
final class FaultHandlerAgent implements Agent
{
    private final HeapSession session;
    private final Consumer<String> onFailure;

    FaultHandlerAgent(final HeapSession session, final Consumer<String> onFailure)
    {
        this.session = session;
        this.onFailure = onFailure;
    }

    @Override
    public int doWork()
    {
        final int served = session.serve();
        if (served < 0)
        {
            onFailure.accept(session.failure());
            throw new AgentTerminationException(session.failure());
        }
        return served;
    }

    @Override
    public String roleName()
    {
        return "exec-fault-handler-" + session.pid();
    }

    /**
     * Spin (re-reading the userfaultfd) for up to {@code spinNs} after the last fault, then sleep in the kernel in
     * poll() until the next one (at most 10 ms, so the runner can stop it). Spinning takes a core: on a machine
     * with few cores the program's own threads need it, so the default is not to spin.
     */
    static final class FaultIdleStrategy implements IdleStrategy
    {
        private static final int POLL_TIMEOUT_MS = 10;
        private final int fd;
        private final long spinNs;
        private final UnsafeBuffer pollFd = new UnsafeBuffer(ByteBuffer.allocateDirect(LibC.POLLFD_BYTES));
        private long idleSinceNs;
        private boolean idle;

        FaultIdleStrategy(final int fd, final long spinNs)
        {
            this.fd = fd;
            this.spinNs = spinNs;
        }

        @Override
        public void idle(final int workCount)
        {
            if (workCount > 0)
            {
                reset();
                return;
            }
            idle();
        }

        @Override
        public void idle()
        {
            if (spinNs > 0)
            {
                final long now = System.nanoTime();
                if (!idle)
                {
                    idle = true;
                    idleSinceNs = now;
                }
                if (now - idleSinceNs < spinNs)
                {
                    Thread.onSpinWait();
                    return;
                }
            }
            pollFd.putInt(0, fd);
            pollFd.putShort(4, LibC.POLLIN);
            pollFd.putShort(6, (short)0);
            LibC.poll(pollFd.addressOffset(), 1, POLL_TIMEOUT_MS);
        }

        @Override
        public void reset()
        {
            idle = false;
        }

        @Override
        public String alias()
        {
            return "uffd-poll";
        }
    }
}
