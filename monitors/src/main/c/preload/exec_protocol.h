/*
 * The messages between the preloaded library (in the program) and the processor monitor's fault handler, over a
 * UNIX SOCK_SEQPACKET socket. Little-endian, fixed layout; the Java side's ExecProtocol mirrors it.
 *
 * hello (program -> handler), with SCM_RIGHTS [userfaultfd, memfd]:
 *   0  u32 magic 'SKH1'   4  i32 pid   8  u64 arenaBase   16 u64 arenaBytes   24 u64 uffdFeatures
 * answer (handler -> program):
 *   0  u32 magic 'SKA1'   4  i32 status (0: emulated; 1: run outside the emulation; <0: refused)
 * goodbye (program -> handler), at exit, what stayed local:
 *   0  u32 magic 'SKB1'   4  i32 forks   8 u64 mmapCalls   16 u64 mmapBytes   24 u64 stackBytes
 *  32  u64 rssAnonBytes  40 u64 rssFileBytes  48 u64 heapUsedBytes
 */
#ifndef SPLITKERNEL_EXEC_PROTOCOL_H
#define SPLITKERNEL_EXEC_PROTOCOL_H

#include <stdint.h>

#define SK_HELLO_MAGIC 0x31484b53u   /* "SKH1" */
#define SK_ANSWER_MAGIC 0x31414b53u  /* "SKA1" */
#define SK_GOODBYE_MAGIC 0x31424b53u /* "SKB1" */

#define SK_ANSWER_EMULATED 0
#define SK_ANSWER_OUTSIDE 1

struct sk_hello {
    uint32_t magic;
    int32_t pid;
    uint64_t arena_base;
    uint64_t arena_bytes;
    uint64_t uffd_features;
};

struct sk_answer {
    uint32_t magic;
    int32_t status;
};

struct sk_goodbye {
    uint32_t magic;
    int32_t forks;
    uint64_t mmap_calls;
    uint64_t mmap_bytes;
    uint64_t stack_bytes;
    uint64_t rss_anon_bytes;
    uint64_t rss_file_bytes;
    uint64_t heap_used_bytes;
};

#endif
