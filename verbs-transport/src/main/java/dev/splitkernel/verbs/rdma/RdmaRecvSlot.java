package dev.splitkernel.verbs.rdma;

import com.ibm.disni.verbs.SVCPostRecv;
import org.agrona.concurrent.UnsafeBuffer;

/** A pre-posted receive: its buffer and the prepared call that (re-)posts it. */
final class RdmaRecvSlot
{
    final UnsafeBuffer buffer;
    final SVCPostRecv post;
    volatile int byteLength;

    RdmaRecvSlot(final UnsafeBuffer buffer, final SVCPostRecv post)
    {
        this.buffer = buffer;
        this.post = post;
    }
}
