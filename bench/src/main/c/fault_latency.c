/* Fault-to-resume latency of heap misses, seen from the program: writes PAGES pages of a malloc'ed buffer (so every
 * page exists at a memory monitor once evicted), then times the first read of each page, in order. With an ExCache
 * much smaller than the buffer each timed read is a miss served by the handler (a fetch, plus the eviction that makes
 * room). Prints: "fault_latency PAGES pages: median NS p10 NS p90 NS p99 NS mean NS".
 * usage: fault_latency PAGES */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int compare(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 2 || atol(argv[1]) < 100) {
        fprintf(stderr, "usage: fault_latency PAGES (at least 100)\n");
        return 2;
    }
    size_t pages = (size_t)atol(argv[1]);
    uint64_t *ns = calloc(pages, sizeof *ns);  /* before the buffer: small, and touched first */
    memset(ns, 0, pages * sizeof *ns);
    volatile char *buffer = aligned_alloc(4096, pages * 4096);
    for (size_t i = 0; i < pages; i++) {
        buffer[i * 4096] = (char)i;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < pages; i++) {
        uint64_t t0 = now_ns();
        sum += (uint64_t)buffer[i * 4096];
        ns[i] = now_ns() - t0;
    }
    /* The first tenth warms up (and may still hit pages from the write pass): not counted. */
    size_t from = pages / 10, n = pages - from;
    qsort(ns + from, n, sizeof *ns, compare);
    uint64_t total = 0;
    for (size_t i = from; i < pages; i++) {
        total += ns[i];
    }
    printf("fault_latency %zu pages: median %llu p10 %llu p90 %llu p99 %llu mean %llu (check %llu)\n", n,
           (unsigned long long)ns[from + n / 2], (unsigned long long)ns[from + n / 10],
           (unsigned long long)ns[from + n * 9 / 10], (unsigned long long)ns[from + n * 99 / 100],
           (unsigned long long)(total / n), (unsigned long long)sum);
    return 0;
}
