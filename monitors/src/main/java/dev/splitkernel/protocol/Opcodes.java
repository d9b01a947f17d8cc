package dev.splitkernel.protocol;

/**
 * Request opcodes of the monitors' protocol, carried by the fabric's RPC layer. Each names the descriptor class
 * of its request and reply layout.
 */
public final class Opcodes
{
    // Memory monitor, data path (processor -> owner of the line). Request: LineRequestDescriptor; reply: LineReplyDescriptor.
    /** Fetch a line; the page is created zero-filled at the first miss. */
    public static final int LINE_FETCH = 1;
    /** Write a line back; creates the page at the first write-back of a p-local line. Reply: header only. */
    public static final int LINE_WRITE_BACK = 2;
    /** Write back the victim (victim fields + data) and fetch the line, in one round trip. */
    public static final int LINE_FETCH_WITH_WRITE_BACK = 3;
    /**
     * How far the owner's forwards to its secondaries have gone: a piggybacked write-back sent with
     * {@link LineRequestDescriptor#FLAG_REPLICA_ASYNC} may be answered "applied here, replication pending" with a
     * ticket; it is acknowledged (the processor may forget it) once this reports that ticket done with the same fence
     * count. Request: LineRequestDescriptor, the ticket in lineAddress, {@link LineRequestDescriptor#FLAG_WAIT} to
     * wait (the caller sends the forwards before it). Reply: header only, the tickets done in remoteAddress, the
     * fence count in rkey.
     */
    public static final int LINE_REPLICA_ACKS = 4;

    // Memory monitor as a secondary (primary -> secondary). REPLICA_WRITE_BACK: request LineRequestDescriptor with
    // the line, reply LineReplyDescriptor header only. REPLICA_VMA and REPLICA_PROMOTE: SyscallRequestDescriptor and
    // SyscallReplyDescriptor, as the owner operations.
    /**
     * Apply owner operation {@code flags} (VMA_MAP_FIXED, VMA_UNMAP, VMA_PROTECT, VMA_DROP_PROCESS) to the
     * secondary's copy of the vma tables (an unmap also voids the logged lines of its range), so a promoted secondary
     * has them; or mark the replica of the vRegion at {@code address} as being copied ({@link #REPLICA_COPY_BEGIN})
     * or complete ({@link #REPLICA_COPY_DONE}).
     */
    public static final int REPLICA_VMA = 7;
    /** REPLICA_VMA's {@code flags}: a replication starts; the replica is incomplete (not promotable) until... */
    public static final int REPLICA_COPY_BEGIN = 60;
    /** ...REPLICA_VMA's {@code flags}: the primary has copied every older page; the replica can take over. */
    public static final int REPLICA_COPY_DONE = 61;
    /**
     * REPLICA_VMA's {@code flags}, sent by the GMM to a vRegion's former owner after promoting its secondary: vRegion
     * {@code newAddress} (an index) of {@code asid} is no longer yours (you were declared dead): stop serving it.
     */
    public static final int REPLICA_FENCE = 62;
    /**
     * REPLICA_VMA's {@code flags}, sent by the GMM to a monitor declared dead by mistake once it is back: you are no
     * longer the secondary of vRegion {@code newAddress} (an index) of {@code asid} (another was named): free your
     * replica of it (its vma table; its logged lines are voided).
     */
    public static final int REPLICA_DROP = 63;
    /**
     * The primary of vRegion {@code newAddress} (an index) of process {@code asid} is dead: the secondary takes it
     * over (its pages built by replaying its write-back log, then an owned vRegion). Sent by the GMM. Result 0, ENOENT
     * if nothing is here, EAGAIN if its copy is not complete, or EIO if its log cannot be read back (the vRegion is
     * lost).
     */
    public static final int REPLICA_PROMOTE = 8;
    /** Log a write-back or page copy in the secondary's write-back log; the primary acknowledges after. */
    public static final int REPLICA_WRITE_BACK = 9;

    // Memory monitor, system calls at the process's home. Request: SyscallRequestDescriptor; reply: SyscallReplyDescriptor.
    public static final int PROCESS_CREATE = 10;
    public static final int PROCESS_EXIT = 11;
    public static final int MMAP = 12;
    public static final int MUNMAP = 13;
    public static final int MREMAP = 14;
    public static final int MPROTECT = 15;
    public static final int BRK = 16;
    public static final int MSYNC = 17;
    /** The whole vRegion-to-owner map of a process (reply entries), e.g. after a processor restarts. */
    public static final int VREGION_MAP = 18;

    // Memory monitor, home -> owner (fine-grained vma work in the owner's vRegions). Same layouts as the syscalls.
    /** Find room for {@code length} in vRegion {@code newAddress} (an index) and map it; result: the address. */
    public static final int VMA_ALLOCATE = 30;
    /** Map exactly [address, address + length), which must be free; result 0, EEXIST or ENOMEM. */
    public static final int VMA_MAP_FIXED = 31;
    /** Unmap [address, address + length), freeing its pages. */
    public static final int VMA_UNMAP = 32;
    /** Change protection of [address, address + length); ENOMEM if not all mapped. */
    public static final int VMA_PROTECT = 33;
    /** Drop everything the owner holds for a process. */
    public static final int VMA_DROP_PROCESS = 34;
    /** Result: the protection at {@code address} if [address, address + length) is fully mapped here, else ENOMEM. */
    public static final int VMA_CHECK = 35;
    /** Result: how many bytes of [address, address + length) are mapped at this owner. */
    public static final int VMA_MAPPED_BYTES = 36;
    /**
     * Move the existing pages of [address, address + length) to [newAddress, newAddress + length), both in vRegions
     * of this owner, without copying (mremap); result: pages moved.
     */
    public static final int VMA_MOVE_PAGES = 37;
    /** Result: the address of the first existing page in [address, address + length), or ENOENT. */
    public static final int VMA_NEXT_PAGE = 38;
    /**
     * Replicate vRegion {@code newAddress} (an index) to memory monitor {@code prot} (a member id; -1 stops): the
     * owner sends its vma table now, forwards every later write-back and vma change, and copies its pages in the
     * background. Sent by the home after placing a vRegion, and by the GMM after a failure (a new secondary).
     */
    public static final int VMA_REPLICATE = 39;

    // Global managers. Request and reply: GlobalDescriptor.
    /**
     * The sender, owner of vRegion {@code VREGION_INDEX_OFFSET} of process {@code ASID_OFFSET}, dropped memory monitor
     * {@code MEMBER_ID_OFFSET} as its secondary (a forward failed or was refused): unless it has named another since,
     * the GMM releases the replica there and names a new secondary. Result 0.
     */
    public static final int REPLICA_LOST = 48;
    /**
     * A call to memory monitor {@code MEMBER_ID_OFFSET} failed in transport (sent by a processor or a primary): the
     * GMM probes it at once and, if it does not answer, declares it dead and fails its vRegions over. Result 0.
     */
    public static final int MEMBER_SUSPECT = 49;
    public static final int MEMBER_REGISTER = 50;
    /** Load report (also the heartbeat). */
    public static final int LOAD_REPORT = 51;
    /** Assign a new process id (asid) and choose its home memory monitor. */
    public static final int CHOOSE_HOME = 52;
    /** Choose the owner of a new vRegion of a process (asked by the home). */
    public static final int ALLOCATE_VREGION = 53;
    /** Choose the processor monitor for a new process (GPM). */
    public static final int CHOOSE_PROCESSOR = 54;
    /** The listen address of a member. */
    public static final int LOOKUP_MEMBER = 55;
    /** Give back a vRegion (the process unmapped it or exited). */
    public static final int FREE_VREGION = 56;
    /** Every member with its state (alive or dead), one line each in the reply's address field (text). */
    public static final int MEMBER_LIST = 57;

    // Global managers -> processor monitors, pushed (membership changes reach the processors' views without a lookup
    // on their miss paths). Request and reply: GlobalDescriptor.
    /**
     * A memory monitor's state: member id, address, {@code COUNT_OFFSET} 1 alive or 0 dead. Sent when it joins, is
     * declared dead or comes back, and for every memory monitor to a processor that (re)joins.
     */
    public static final int MEMBER_UPDATE = 58;
    /** VRegion {@code VREGION_INDEX_OFFSET} of process {@code ASID_OFFSET} has a new owner ({@code MEMBER_ID_OFFSET}). */
    public static final int VREGION_OWNER = 59;

    // Global storage manager (GSM, served by the GlobalManager). Request and reply: VNodeDescriptor.
    /** Create a vNode (name, mount point): the GSM picks its storage monitor and buffer-cache memory monitor. */
    public static final int VNODE_CREATE = 60;
    public static final int VNODE_REMOVE = 61;
    /** Every vNode, one record each in the reply's text. */
    public static final int VNODE_LIST = 62;
    /** One vNode with the addresses of its storage monitor and its buffer-cache memory monitor. */
    public static final int VNODE_LOOKUP = 63;

    // Files: processor -> buffer cache (a memory monitor) -> storage monitor; the same opcodes and layouts at both.
    // Request and reply: StorageDescriptor. Stateless: every request carries the vNode, the full path, offset, length.
    public static final int FILE_OPEN = 70;
    public static final int FILE_READ = 71;
    public static final int FILE_WRITE = 72;
    public static final int FILE_FSYNC = 73;
    public static final int FILE_STAT = 74;
    public static final int FILE_TRUNCATE = 75;
    public static final int FILE_UNLINK = 76;
    public static final int FILE_RENAME = 77;
    public static final int FILE_MKDIR = 78;
    public static final int FILE_RMDIR = 79;
    public static final int FILE_READDIR = 80;
    /** The file's last descriptor at a processor closed: the buffer cache writes its dirty pages to storage. */
    public static final int FILE_CLOSE = 81;
    /**
     * Remove every file and directory of the request's vNode (path "/"), durably (journaled and forced). Sent by the
     * GSM when a vNode is removed; a buffer-cache memory monitor drops the vNode's pages (dirty ones discarded)
     * instead of forwarding it. Result: how many entries were removed.
     */
    public static final int FILE_DROP_VNODE = 82;

    /** True for the file opcodes ({@link #FILE_OPEN} to {@link #FILE_DROP_VNODE}). */
    /** The data path: line fetch, write-back, both in one, and the replication acknowledgements. */
    public static boolean isLineOpcode(final int opcode)
    {
        return opcode >= LINE_FETCH && opcode <= LINE_REPLICA_ACKS;
    }

    public static boolean isFileOpcode(final int opcode)
    {
        return opcode >= FILE_OPEN && opcode <= FILE_DROP_VNODE;
    }

    /** True for the GSM's opcodes ({@link #VNODE_CREATE} to {@link #VNODE_LOOKUP}). */
    public static boolean isVNodeOpcode(final int opcode)
    {
        return opcode >= VNODE_CREATE && opcode <= VNODE_LOOKUP;
    }

    private Opcodes()
    {
    }

    public static String describe(final int opcode)
    {
        switch (opcode)
        {
            case LINE_FETCH: return "LINE_FETCH";
            case LINE_WRITE_BACK: return "LINE_WRITE_BACK";
            case LINE_FETCH_WITH_WRITE_BACK: return "LINE_FETCH_WITH_WRITE_BACK";
            case LINE_REPLICA_ACKS: return "LINE_REPLICA_ACKS";
            case REPLICA_VMA: return "REPLICA_VMA";
            case REPLICA_PROMOTE: return "REPLICA_PROMOTE";
            case REPLICA_WRITE_BACK: return "REPLICA_WRITE_BACK";
            case PROCESS_CREATE: return "PROCESS_CREATE";
            case PROCESS_EXIT: return "PROCESS_EXIT";
            case MMAP: return "MMAP";
            case MUNMAP: return "MUNMAP";
            case MREMAP: return "MREMAP";
            case MPROTECT: return "MPROTECT";
            case BRK: return "BRK";
            case MSYNC: return "MSYNC";
            case VREGION_MAP: return "VREGION_MAP";
            case VMA_ALLOCATE: return "VMA_ALLOCATE";
            case VMA_MAP_FIXED: return "VMA_MAP_FIXED";
            case VMA_UNMAP: return "VMA_UNMAP";
            case VMA_PROTECT: return "VMA_PROTECT";
            case VMA_DROP_PROCESS: return "VMA_DROP_PROCESS";
            case VMA_CHECK: return "VMA_CHECK";
            case VMA_MAPPED_BYTES: return "VMA_MAPPED_BYTES";
            case VMA_MOVE_PAGES: return "VMA_MOVE_PAGES";
            case VMA_NEXT_PAGE: return "VMA_NEXT_PAGE";
            case VMA_REPLICATE: return "VMA_REPLICATE";
            case REPLICA_LOST: return "REPLICA_LOST";
            case MEMBER_SUSPECT: return "MEMBER_SUSPECT";
            case MEMBER_REGISTER: return "MEMBER_REGISTER";
            case LOAD_REPORT: return "LOAD_REPORT";
            case CHOOSE_HOME: return "CHOOSE_HOME";
            case ALLOCATE_VREGION: return "ALLOCATE_VREGION";
            case CHOOSE_PROCESSOR: return "CHOOSE_PROCESSOR";
            case LOOKUP_MEMBER: return "LOOKUP_MEMBER";
            case FREE_VREGION: return "FREE_VREGION";
            case MEMBER_LIST: return "MEMBER_LIST";
            case MEMBER_UPDATE: return "MEMBER_UPDATE";
            case VREGION_OWNER: return "VREGION_OWNER";
            case VNODE_CREATE: return "VNODE_CREATE";
            case VNODE_REMOVE: return "VNODE_REMOVE";
            case VNODE_LIST: return "VNODE_LIST";
            case VNODE_LOOKUP: return "VNODE_LOOKUP";
            case FILE_OPEN: return "FILE_OPEN";
            case FILE_READ: return "FILE_READ";
            case FILE_WRITE: return "FILE_WRITE";
            case FILE_FSYNC: return "FILE_FSYNC";
            case FILE_STAT: return "FILE_STAT";
            case FILE_TRUNCATE: return "FILE_TRUNCATE";
            case FILE_UNLINK: return "FILE_UNLINK";
            case FILE_RENAME: return "FILE_RENAME";
            case FILE_MKDIR: return "FILE_MKDIR";
            case FILE_RMDIR: return "FILE_RMDIR";
            case FILE_READDIR: return "FILE_READDIR";
            case FILE_CLOSE: return "FILE_CLOSE";
            case FILE_DROP_VNODE: return "FILE_DROP_VNODE";
            default: return "opcode " + opcode;
        }
    }
}
