package dev.splitkernel.exec;

/**
 * The messages between the preload library and the fault handler (mirrors src/main/c/preload/exec_protocol.h),
 * one per SOCK_SEQPACKET packet, little-endian:
 * <pre>
 * hello (program to handler), with SCM_RIGHTS [userfaultfd, memfd]     answer (handler to program)
 *   0 u32 magic 'SKH1'  4 i32 pid  8 u64 arenaBase                        0 u32 magic 'SKA1'
 *  16 u64 arenaBytes   24 u64 userfaultfd features                        4 i32 status (0 emulated, 1 outside)
 * goodbye (program to handler, at exit): what stayed local
 *   0 u32 magic 'SKB1'  4 i32 forks  8 u64 mmapCalls  16 u64 mmapBytes  24 u64 stackBytes
 *  32 u64 rssAnonBytes 40 u64 rssFileBytes 48 u64 heapUsedBytes
 * </pre>
 * Any other packet from the handler to the program is a reason to stop, in text: the program prints it and exits.
 */
final class ExecProtocol
{
    static final int HELLO_MAGIC = 0x31484b53;
    static final int ANSWER_MAGIC = 0x31414b53;
    static final int GOODBYE_MAGIC = 0x31424b53;
    static final int HELLO_BYTES = 32;
    static final int ANSWER_BYTES = 8;
    static final int GOODBYE_BYTES = 56;

    static final int HELLO_PID_OFFSET = 4;
    static final int HELLO_ARENA_BASE_OFFSET = 8;
    static final int HELLO_ARENA_BYTES_OFFSET = 16;

    static final int ANSWER_STATUS_OFFSET = 4;
    static final int ANSWER_EMULATED = 0;
    static final int ANSWER_OUTSIDE = 1;

    static final int GOODBYE_FORKS_OFFSET = 4;
    static final int GOODBYE_MMAP_CALLS_OFFSET = 8;
    static final int GOODBYE_MMAP_BYTES_OFFSET = 16;
    static final int GOODBYE_STACK_OFFSET = 24;
    static final int GOODBYE_RSS_ANON_OFFSET = 32;
    static final int GOODBYE_RSS_FILE_OFFSET = 40;
    static final int GOODBYE_HEAP_USED_OFFSET = 48;

    private ExecProtocol()
    {
    }
}
