/* The reference miss handler for `scripts/bench exec`: a minimal C handler that serves a program run with the
 * preload library of `splitkernel exec` the same way the processor monitor does (same protocol, same work per fault:
 * FIFO residency, write-protect + copy-out + punch on eviction, fill from its page store or with zeros, install
 * write-protected after a read), but from its own memory instead of memory monitors. It is what the Java handler's
 * fault-to-resume latency is compared with.
 * usage: uffd_reference SOCKET_PATH CAPACITY_PAGES [SPIN_US]   (serves one program, exits when it exits) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../../../monitors/src/main/c/preload/exec_protocol.h"

#define PAGE 4096UL
enum { ABSENT = 0, CLEAN = 1, DIRTY = 2 };

static int uffd, memfd;
static char *base, *mirror, *store;
static size_t pages, capacity, resident, head;
static uint8_t *state, *stored;
static uint32_t *ring;
static char zero[PAGE] __attribute__((aligned(4096)));

static void die(const char *what)
{
    fprintf(stderr, "uffd_reference: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void evict(void)
{
    size_t v = ring[head];
    head = (head + 1) % capacity;
    resident--;
    if (state[v] == DIRTY) {
        struct uffdio_writeprotect wp = {.range = {.start = (uintptr_t)(base + v * PAGE), .len = PAGE},
                                         .mode = UFFDIO_WRITEPROTECT_MODE_WP};
        if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0) die("write-protect");
        memcpy(store + v * PAGE, mirror + v * PAGE, PAGE);
        stored[v] = 1;
    }
    if (fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(v * PAGE), PAGE) != 0) die("punch");
    state[v] = ABSENT;
}

static void fault(uint64_t address, uint64_t flags)
{
    size_t p = (address - (uintptr_t)base) / PAGE;
    char *at = base + p * PAGE;
    int write = (flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0;
    if (flags & UFFD_PAGEFAULT_FLAG_WP) {
        if (state[p] == CLEAN) {
            state[p] = DIRTY;
            struct uffdio_writeprotect wp = {.range = {.start = (uintptr_t)at, .len = PAGE}, .mode = 0};
            if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0) die("unprotect");
            return;
        }
        write = 1;
    }
    if (state[p] != ABSENT) {
        struct uffdio_range r = {.start = (uintptr_t)at, .len = PAGE};
        ioctl(uffd, UFFDIO_WAKE, &r);
        return;
    }
    while (resident >= capacity) {
        evict();
    }
    struct uffdio_copy c = {.dst = (uintptr_t)at, .src = (uintptr_t)(stored[p] ? store + p * PAGE : zero),
                            .len = PAGE, .mode = write ? 0 : UFFDIO_COPY_MODE_WP};
    if (ioctl(uffd, UFFDIO_COPY, &c) != 0) die("copy");
    state[p] = write ? DIRTY : CLEAN;
    ring[(head + resident) % capacity] = (uint32_t)p;
    resident++;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: uffd_reference SOCKET_PATH CAPACITY_PAGES [SPIN_US]\n");
        return 2;
    }
    capacity = (size_t)atol(argv[2]);
    uint64_t spin_ns = argc > 3 ? (uint64_t)atol(argv[3]) * 1000 : 0;
    int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 4) != 0) die("listen");
    printf("READY\n");
    fflush(stdout);
    int sock = accept(listener, NULL, NULL);
    if (sock < 0) die("accept");
    struct sk_hello hello;
    int fds[2];
    char control[CMSG_SPACE(sizeof fds)];
    struct iovec iov = {.iov_base = &hello, .iov_len = sizeof hello};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    if (recvmsg(sock, &msg, 0) != sizeof hello || hello.magic != SK_HELLO_MAGIC) die("hello");
    memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fds);
    uffd = fds[0];
    memfd = fds[1];
    base = (char *)(uintptr_t)hello.arena_base;
    pages = hello.arena_bytes / PAGE;
    if (capacity < 1 || capacity > pages) capacity = pages;
    mirror = mmap(NULL, hello.arena_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd, 0);
    store = mmap(NULL, hello.arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    state = calloc(pages, 1);
    stored = calloc(pages, 1);
    ring = calloc(capacity, sizeof *ring);
    if (mirror == MAP_FAILED || store == MAP_FAILED || !state || !stored || !ring) die("memory");
    struct sk_answer answer = {.magic = SK_ANSWER_MAGIC, .status = SK_ANSWER_EMULATED};
    if (send(sock, &answer, sizeof answer, MSG_NOSIGNAL) != sizeof answer) die("answer");

    struct uffd_msg msgs[64];
    uint64_t idle_since = 0;
    for (;;) {
        ssize_t n = read(uffd, msgs, sizeof msgs);
        if (n > 0) {
            for (ssize_t i = 0; i < n / (ssize_t)sizeof *msgs; i++) {
                if (msgs[i].event == UFFD_EVENT_PAGEFAULT) {
                    fault(msgs[i].arg.pagefault.address, msgs[i].arg.pagefault.flags);
                }
            }
            idle_since = 0;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) die("read");
        if (spin_ns > 0) {
            uint64_t now = now_ns();
            if (idle_since == 0) idle_since = now;
            if (now - idle_since < spin_ns) continue;
        }
        struct pollfd pfd[2] = {{.fd = uffd, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
        poll(pfd, 2, 10);
        if (pfd[1].revents & (POLLHUP | POLLERR)) {
            return 0; /* the program exited */
        }
        if (pfd[1].revents & POLLIN) {
            char bye[128];
            if (recv(sock, bye, sizeof bye, MSG_DONTWAIT) == 0) return 0;
        }
    }
}
