/*
 * Preloaded into an unmodified program by `scripts/splitkernel exec`: serves the program's malloc family from one
 * memfd-backed arena registered with userfaultfd (missing and write-protect faults), and hands both descriptors to
 * the processor monitor's fault handler over a UNIX socket. Pages resident in the arena are hardware hits; a missing
 * page is a fault the handler serves from the memory monitor that owns it.
 *
 * Also here, because only the program can do them: a watchdog thread that stops the program with a message when the
 * handler goes away (a program left waiting on a missing page would hang forever), a forked child that never shares
 * the parent's heap (the arena is not inherited; the child gets a private one), and a count of the memory that stays
 * local (the program's own mmaps, its stack, static data).
 *
 * Without SPLITKERNEL_EXEC_SOCKET (or when the handler answers "outside") the same allocator runs over a private
 * anonymous arena: the program runs natively.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "exec_protocol.h"

#define PAGE 4096UL
#define HDR 16UL
#define ALIGN 16UL
#define SMALL_MAX (256UL << 10)
#define NCLASS 97
#define DEFAULT_ARENA_BYTES (16UL << 30)
#define EXIT_HANDLER_GONE 125

#define TAG_SMALL 0x5a00u
#define TAG_LARGE 0x5b00u
#define TAG_ALIGNED 0x5c00u
#define TAG_MASK 0xff00u

struct chunk {
    size_t size; /* bytes of the chunk, header included; for TAG_ALIGNED: distance back to the real header */
    size_t tag;  /* TAG_* | size class */
};

struct free_large {
    size_t size;
    size_t tag;
    struct free_large *next;
};

static atomic_flag lock = ATOMIC_FLAG_INIT;
static atomic_int init_state; /* 0 none, 1 in progress, 2 done */
static char *arena_base;
static size_t arena_bytes;
static char *arena_top;  /* bump pointer */
static char *arena_clean; /* nothing at or above this address was ever allocated: it reads as zero */
static void *free_small[NCLASS];
static struct free_large *free_large_list;

static int emulated;     /* the arena is served by the handler */
static int is_fork_child;
static char *parent_base; /* a fork child's inaccessible copy of the parent's arena range */
static size_t parent_bytes;
static int uffd = -1;
static int sock = -1;
static atomic_long mmap_calls;
static atomic_long mmap_bytes;
static int forks;

static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 1) {
        n = sizeof line - 1;
    }
    ssize_t ignored = write(2, line, (size_t)n);
    (void)ignored;
}

static void lock_heap(void)
{
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {
        sched_yield();
    }
}

static void unlock_heap(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Connecting to the handler                                                                                        */
/* ---------------------------------------------------------------------------------------------------------------- */

static size_t arena_size_from_env(void)
{
    const char *v = getenv("SPLITKERNEL_EXEC_ARENA");
    if (v == NULL || *v == 0) {
        return DEFAULT_ARENA_BYTES;
    }
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != 0 || n < (64UL << 20)) {
        say("splitkernel exec: SPLITKERNEL_EXEC_ARENA=%s is not a byte count of at least 64 MiB\n", v);
        _exit(126);
    }
    return (size_t)(n & ~(PAGE - 1));
}

static int open_userfaultfd(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == EPERM) {
        int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
        if (dev >= 0) {
            fd = ioctl(dev, _IO(0xAA, 0x00), O_CLOEXEC | O_NONBLOCK); /* USERFAULTFD_IOC_NEW */
            close(dev);
        } else {
            errno = EPERM; /* the refusal to report is the syscall's, not the missing or root-only device's */
        }
    }
    return fd;
}

static void private_arena(void)
{
    void *a = raw_mmap(arena_base, arena_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (arena_base ? MAP_FIXED : 0), -1, 0);
    if (a == MAP_FAILED) {
        say("splitkernel exec: cannot reserve a heap of %zu bytes: %s\n", arena_bytes, strerror(errno));
        _exit(126);
    }
    arena_base = a;
    arena_top = a;
    arena_clean = a;
}

/* Create the memfd arena, register it, hand it to the handler. Returns 0, or -1 to run outside the emulation. */
static int emulated_arena(const char *path)
{
    int memfd = memfd_create("splitkernel-heap", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, (off_t)arena_bytes) != 0) {
        say("splitkernel exec: memfd for the heap failed: %s\n", strerror(errno));
        _exit(126);
    }
    void *a = raw_mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd, 0);
    if (a == MAP_FAILED) {
        say("splitkernel exec: cannot map a heap of %zu bytes: %s\n", arena_bytes, strerror(errno));
        _exit(126);
    }
    arena_base = a;
    arena_top = a;
    arena_clean = a;
    uffd = open_userfaultfd();
    if (uffd < 0) {
        say("splitkernel exec: userfaultfd refused (%s): run as root, or set sysctl vm.unprivileged_userfaultfd=1\n",
            strerror(errno));
        _exit(126);
    }
    struct uffdio_api api = {.api = UFFD_API,
                             .features = UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_WP_HUGETLBFS_SHMEM};
    if (ioctl(uffd, UFFDIO_API, &api) != 0) {
        say("splitkernel exec: this kernel's userfaultfd lacks shmem missing/write-protect faults: %s\n",
            strerror(errno));
        _exit(126);
    }
    struct uffdio_register reg = {.range = {.start = (uintptr_t)a, .len = arena_bytes},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP};
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) {
        say("splitkernel exec: registering the heap with userfaultfd failed: %s\n", strerror(errno));
        _exit(126);
    }

    sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
        say("splitkernel exec: cannot reach the fault handler at %s: %s\n", path, strerror(errno));
        _exit(126);
    }
    struct sk_hello hello = {.magic = SK_HELLO_MAGIC, .pid = getpid(), .arena_base = (uintptr_t)a,
                             .arena_bytes = arena_bytes, .uffd_features = api.features};
    int fds[2] = {uffd, memfd};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = &hello, .iov_len = sizeof hello};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cm), fds, sizeof fds);
    struct timeval timeout = {.tv_sec = 60};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sk_answer answer;
    if (sendmsg(sock, &msg, 0) != (ssize_t)sizeof hello || recv(sock, &answer, sizeof answer, 0) != sizeof answer
        || answer.magic != SK_ANSWER_MAGIC) {
        say("splitkernel exec: the fault handler did not answer: %s\n", strerror(errno));
        _exit(126);
    }
    close(memfd); /* the mapping keeps the file; the handler has its own descriptor */
    if (answer.status == SK_ANSWER_OUTSIDE) {
        close(uffd);
        close(sock);
        uffd = sock = -1;
        return -1;
    }
    if (answer.status != SK_ANSWER_EMULATED) {
        say("splitkernel exec: the fault handler refused this program (status %d)\n", answer.status);
        _exit(126);
    }
    struct timeval forever = {0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof forever);
    /* A forked child must never write into the parent's pages: it does not inherit the arena at all. */
    madvise(a, arena_bytes, MADV_DONTFORK);
    return 0;
}

/* Stops the program when the handler goes away, or when the handler tells it to stop (with the reason). */
static void *watchdog(void *unused)
{
    (void)unused;
    char reason[1024];
    for (;;) {
        ssize_t n = recv(sock, reason, sizeof reason - 1, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n > 0) {
            reason[n] = 0;
            say("splitkernel exec: stopped by the processor monitor: %s\n", reason);
        } else {
            say("splitkernel exec: the fault handler is gone: stopping %s, which would otherwise wait forever on "
                "its next missing page\n", program_invocation_short_name);
        }
        _exit(EXIT_HANDLER_GONE);
    }
    return NULL;
}

static void on_child_segv(int sig, siginfo_t *info, void *context)
{
    (void)context;
    char *at = info->si_addr;
    if (at >= parent_base && at < parent_base + parent_bytes) {
        say("splitkernel exec: %s (pid %d), a child forked without exec, touched its parent's heap at %p: a forked "
            "child does not share the parent's disaggregated heap\n", program_invocation_short_name, getpid(),
            (void *)at);
    }
    signal(sig, SIG_DFL); /* the fault repeats and kills the child as it would have */
}

static void after_fork_in_child(void)
{
    if (!emulated) {
        return;
    }
    /* The arena was not inherited (MADV_DONTFORK): keep its range inaccessible and give the child its own heap. */
    parent_base = arena_base;
    parent_bytes = arena_bytes;
    raw_mmap(parent_base, parent_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    close(uffd);
    close(sock);
    uffd = sock = -1;
    emulated = 0;
    is_fork_child = 1;
    arena_base = NULL;
    private_arena();
    memset(free_small, 0, sizeof free_small);
    free_large_list = NULL;
    atomic_flag_clear(&lock); /* the forking thread held no heap lock (fork takes none), but be sure */
    struct sigaction sa = {.sa_sigaction = on_child_segv, .sa_flags = SA_SIGINFO | SA_RESETHAND};
    sigaction(SIGSEGV, &sa, NULL);
}

static void count_fork_in_parent(void)
{
    forks++;
}

static void init_heap(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&init_state, &expected, 1)) {
        while (atomic_load(&init_state) != 2) {
            sched_yield();
        }
        return;
    }
    arena_bytes = arena_size_from_env();
    const char *path = getenv("SPLITKERNEL_EXEC_SOCKET");
    if (path != NULL && *path != 0 && emulated_arena(path) == 0) {
        emulated = 1;
    } else {
        private_arena(); /* at the memfd mapping's address when the handler said "outside" */
    }
    atomic_store(&init_state, 2);
    /* After the heap works: both may allocate. */
    pthread_atfork(NULL, count_fork_in_parent, after_fork_in_child);
    if (emulated) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 << 10);
        if (pthread_create(&t, &attr, watchdog, NULL) != 0) {
            say("splitkernel exec: cannot start the watchdog thread\n");
            _exit(126);
        }
        pthread_attr_destroy(&attr);
    }
}

__attribute__((constructor)) static void on_load(void)
{
    init_heap();
}

static unsigned long status_kb(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p == NULL ? 0 : strtoul(p + strlen(key), NULL, 10);
}

__attribute__((destructor)) static void on_unload(void)
{
    if (!emulated || is_fork_child) {
        return;
    }
    char text[4096];
    text[0] = 0;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, text, sizeof text - 1);
        text[n > 0 ? n : 0] = 0;
        close(fd);
    }
    struct sk_goodbye bye = {.magic = SK_GOODBYE_MAGIC,
                             .forks = forks,
                             .mmap_calls = (uint64_t)atomic_load(&mmap_calls),
                             .mmap_bytes = (uint64_t)atomic_load(&mmap_bytes),
                             .stack_bytes = status_kb(text, "VmStk:") << 10,
                             .rss_anon_bytes = status_kb(text, "RssAnon:") << 10,
                             .rss_file_bytes = status_kb(text, "RssFile:") << 10,
                             .heap_used_bytes = (uint64_t)(arena_top - arena_base)};
    send(sock, &bye, sizeof bye, MSG_NOSIGNAL);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* The allocator: size classes with free lists, large chunks first-fit, bump allocation from the arena            */
/* ---------------------------------------------------------------------------------------------------------------- */

static inline int in_arena(const void *p)
{
    return (const char *)p >= arena_base && (const char *)p < arena_top;
}

static inline int in_parent_arena(const void *p)
{
    return (const char *)p >= parent_base && (const char *)p < parent_base + parent_bytes;
}

/* Class index and chunk size for a chunk of n bytes (header included), n <= SMALL_MAX + HDR. */
static inline unsigned class_of(size_t n, size_t *chunk_bytes)
{
    if (n <= 1024) {
        unsigned idx = (unsigned)((n + 15) >> 4);
        *chunk_bytes = (size_t)idx << 4;
        return idx;
    }
    unsigned lg = 63u - (unsigned)__builtin_clzl(n - 1); /* 2^lg < n <= 2^(lg+1) */
    size_t step = 1UL << (lg - 2);
    size_t k = (n - (1UL << lg) + step - 1) / step;      /* 1..4 */
    *chunk_bytes = (1UL << lg) + k * step;
    return 64u + (lg - 10u) * 4u + (unsigned)k;
}

static void *bump(size_t bytes)
{
    if ((size_t)(arena_base + arena_bytes - arena_top) < bytes) {
        return NULL;
    }
    void *p = arena_top;
    arena_top += bytes;
    if (arena_top > arena_clean) {
        arena_clean = arena_top;
    }
    return p;
}

/* Returns the chunk (header) of at least `bytes`, fresh (never used: zero) or reused. Heap lock held. */
static struct chunk *take(size_t want, int *fresh)
{
    size_t total = want + HDR;
    if (total < want) {
        return NULL;
    }
    if (total <= SMALL_MAX) {
        size_t bytes;
        unsigned idx = class_of(total, &bytes);
        struct chunk *c = free_small[idx];
        if (c != NULL) {
            free_small[idx] = *(void **)(c + 1);
            *fresh = 0;
            return c;
        }
        *fresh = arena_top >= arena_clean;
        c = bump(bytes);
        if (c == NULL) {
            return NULL;
        }
        c->size = bytes;
        c->tag = TAG_SMALL | idx;
        return c;
    }
    size_t bytes = (total + PAGE - 1) & ~(PAGE - 1);
    if (bytes < total) {
        return NULL;
    }
    struct free_large **best = NULL;
    for (struct free_large **at = &free_large_list; *at != NULL; at = &(*at)->next) {
        if ((*at)->size >= bytes && (best == NULL || (*at)->size < (*best)->size)) {
            best = at;
        }
    }
    if (best != NULL) {
        struct free_large *f = *best;
        *best = f->next;
        if (f->size - bytes >= SMALL_MAX + PAGE) {
            struct free_large *rest = (struct free_large *)((char *)f + bytes);
            rest->size = f->size - bytes;
            rest->tag = TAG_LARGE;
            rest->next = free_large_list;
            free_large_list = rest;
            f->size = bytes;
        }
        f->tag = TAG_LARGE;
        *fresh = 0;
        return (struct chunk *)f;
    }
    *fresh = arena_top >= arena_clean;
    struct chunk *c = bump(bytes);
    if (c == NULL) {
        return NULL;
    }
    c->size = bytes;
    c->tag = TAG_LARGE;
    return c;
}

static void give_back(struct chunk *c)
{
    if ((c->tag & TAG_MASK) == TAG_SMALL) {
        unsigned idx = (unsigned)(c->tag & 0xffu);
        *(void **)(c + 1) = free_small[idx];
        free_small[idx] = c;
        return;
    }
    struct free_large *f = (struct free_large *)c;
    if ((char *)f + f->size == arena_top) {
        arena_top = (char *)f; /* the last chunk: give its space back to the bump pointer */
        return;
    }
    f->next = free_large_list;
    free_large_list = f;
}

static inline struct chunk *chunk_of(void *p)
{
    struct chunk *c = (struct chunk *)p - 1;
    if ((c->tag & TAG_MASK) == TAG_ALIGNED) {
        c = (struct chunk *)((char *)c - c->size);
    }
    return c;
}

static void *allocate(size_t n, int zero)
{
    if (atomic_load_explicit(&init_state, memory_order_acquire) != 2) {
        init_heap();
    }
    int fresh = 0;
    lock_heap();
    struct chunk *c = take(n, &fresh);
    unlock_heap();
    if (c == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = c + 1;
    if (zero && !fresh) {
        memset(p, 0, n); /* fresh memory is already zero: never touch it (that would fault every page in) */
    }
    return p;
}

void *malloc(size_t n)
{
    return allocate(n, 0);
}

void *calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return allocate(n, 1);
}

void free(void *p)
{
    if (p == NULL || !in_arena(p)) {
        return; /* not ours (the dynamic loader's early memory, or a forked child's view of its parent's heap) */
    }
    struct chunk *c = chunk_of(p);
    lock_heap();
    give_back(c);
    unlock_heap();
}

void cfree(void *p)
{
    free(p);
}

size_t malloc_usable_size(void *p)
{
    if (p == NULL || !in_arena(p)) {
        return 0;
    }
    struct chunk *c = chunk_of(p);
    return (size_t)((char *)c + c->size - (char *)p);
}

void *realloc(void *p, size_t n)
{
    if (p == NULL) {
        return malloc(n);
    }
    if (!in_arena(p)) {
        if (in_parent_arena(p)) {
            say("splitkernel exec: %s (pid %d), a child forked without exec, reallocated its parent's heap memory, "
                "which a forked child does not share\n", program_invocation_short_name, getpid());
        } else {
            say("splitkernel exec: realloc of memory this heap never allocated (%p)\n", p);
        }
        abort();
    }
    if (n == 0) {
        free(p);
        return NULL;
    }
    struct chunk *c = chunk_of(p);
    size_t have = (size_t)((char *)c + c->size - (char *)p);
    if (n <= have) {
        return p;
    }
    lock_heap();
    /* The last chunk grows in place: a growing buffer never copies. */
    if ((c->tag & TAG_MASK) == TAG_LARGE && (char *)c + c->size == arena_top && (char *)p == (char *)(c + 1)) {
        size_t bytes = (n + HDR + PAGE - 1) & ~(PAGE - 1);
        if (bytes > n && bump(bytes - c->size) != NULL) {
            c->size = bytes;
            unlock_heap();
            return p;
        }
    }
    unlock_heap();
    void *q = malloc(n);
    if (q != NULL) {
        memcpy(q, p, have);
        free(p);
    }
    return q;
}

void *reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

int posix_memalign(void **out, size_t alignment, size_t n)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) {
        return EINVAL;
    }
    if (alignment <= ALIGN) {
        void *p = malloc(n);
        if (p == NULL) {
            return ENOMEM;
        }
        *out = p;
        return 0;
    }
    if (n + alignment + HDR < n) {
        return ENOMEM;
    }
    char *raw = malloc(n + alignment + HDR);
    if (raw == NULL) {
        return ENOMEM;
    }
    char *aligned = (char *)(((uintptr_t)raw + HDR + alignment - 1) & ~(uintptr_t)(alignment - 1));
    struct chunk *real = (struct chunk *)raw - 1;
    struct chunk *marker = (struct chunk *)aligned - 1;
    if (marker != real) {
        marker->size = (size_t)((char *)marker - (char *)real);
        marker->tag = TAG_ALIGNED;
    }
    *out = aligned;
    return 0;
}

void *memalign(size_t alignment, size_t n)
{
    if (alignment < sizeof(void *)) {
        alignment = sizeof(void *);
    }
    if ((alignment & (alignment - 1)) != 0) {
        errno = EINVAL;
        return NULL;
    }
    void *p;
    int rc = posix_memalign(&p, alignment, n);
    if (rc != 0) {
        errno = rc;
        return NULL;
    }
    return p;
}

void *aligned_alloc(size_t alignment, size_t n)
{
    return memalign(alignment, n);
}

void *valloc(size_t n)
{
    return memalign(PAGE, n);
}

void *pvalloc(size_t n)
{
    return memalign(PAGE, (n + PAGE - 1) & ~(PAGE - 1));
}

/* The program's own anonymous mmaps stay local: counted, and reported at exit. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = raw_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) != 0) {
        atomic_fetch_add(&mmap_calls, 1);
        atomic_fetch_add(&mmap_bytes, (long)len);
    }
    return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));
