package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.IbvQP;
import com.ibm.disni.verbs.impl.NatIbvQP;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.splitkernel.verbs.FabricException;

import java.io.IOException;

/**
 * Sets which remote operations a queue pair accepts ({@code ibv_modify_qp} with {@code IBV_QP_ACCESS_FLAGS}).
 * <p>
 * rdma_cm brings every queue pair to RTS with remote READ and WRITE allowed, before either side has said a word;
 * on Soft-RoCE an rkey is a small table index and one random byte, so a peer could reach registered memory by
 * guessing, without knowing the cluster secret. The fabric therefore takes remote access away as soon as a
 * connection exists ({@link #NONE}) and grants it ({@link #REMOTE}) only once the peer has proved the secret;
 * connectors, whose memory nobody reads, never grant it. DiSNI 2.1's own modifyQP passes an uninitialised
 * attribute, so this calls libibverbs directly.
 */
final class QueuePairAccess
{
    static final int NONE = 0;
    static final int REMOTE = 2 | 4; // IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ

    private static final int IBV_QP_ACCESS_FLAGS = 1 << 3;
    /** struct ibv_qp_attr: qp_state, cur_qp_state, path_mtu, path_mig_state, qkey, rq_psn, sq_psn, dest_qp_num. */
    private static final int ACCESS_FLAGS_OFFSET = 8 * 4;
    /** Larger than struct ibv_qp_attr (144 bytes on x86-64 Linux); the rest stays zero. */
    private static final int ATTR_BYTES = 256;

    private static volatile Function modifyQp;

    private QueuePairAccess()
    {
    }

    /**
     * Allow exactly {@code flags} remote operations on {@code qp} (it stays in its state).
     *
     * @throws IOException if the verbs refuse; the caller treats the connection as broken.
     */
    static void set(final IbvQP qp, final int flags) throws IOException
    {
        if (!(qp instanceof NatIbvQP))
        {
            throw new IOException("not a native DiSNI queue pair: " + qp);
        }
        final Memory attr = new Memory(ATTR_BYTES);
        attr.clear();
        attr.setInt(ACCESS_FLAGS_OFFSET, flags);
        final int rc = function().invokeInt(new Object[]{new Pointer(((NatIbvQP)qp).getObjId()), attr,
            IBV_QP_ACCESS_FLAGS});
        if (rc != 0)
        {
            throw new IOException("ibv_modify_qp(access flags " + flags + ") failed: errno " + rc);
        }
    }

    private static Function function()
    {
        Function f = modifyQp;
        if (f == null)
        {
            try
            {
                f = NativeLibrary.getInstance("ibverbs").getFunction("ibv_modify_qp");
            }
            catch (final UnsatisfiedLinkError ex)
            {
                try
                {
                    f = NativeLibrary.getInstance("libibverbs.so.1").getFunction("ibv_modify_qp");
                }
                catch (final UnsatisfiedLinkError again)
                {
                    throw new FabricException("rdma: cannot load libibverbs to set queue-pair access ("
                        + again.getMessage() + "); install libibverbs1 (native-config/doctor)", again);
                }
            }
            modifyQp = f;
        }
        return f;
    }
}
