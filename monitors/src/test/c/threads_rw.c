/* Threads sharing one heap: each updates its own slice of a shared array at random, reads all slices, and builds
 * and frees lists of small blocks (malloc from every thread); prints a checksum that does not depend on scheduling.
 * usage: threads_rw THREADS MIB OPS */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct node {
    struct node *next;
    uint64_t value;
};

static uint64_t *shared;
static size_t words;
static int threads;
static uint64_t ops;
static uint64_t results[64];

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *work(void *arg)
{
    int t = (int)(intptr_t)arg;
    size_t slice = words / (size_t)threads;
    uint64_t *mine = shared + (size_t)t * slice;
    uint64_t seed = 0x1234567ULL * (uint64_t)(t + 1) | 1;
    uint64_t noise = 0;
    struct node *list = NULL;
    uint64_t listed = 0;
    for (uint64_t k = 0; k < ops; k++) {
        uint64_t r = next(&seed);
        mine[r % slice] += r;
        noise += shared[(r >> 7) % words]; /* reads other threads' slices: not part of the result */
        if ((k & 63) == 0) {
            struct node *n = malloc(sizeof *n + (r & 255));
            n->value = r;
            n->next = list;
            list = n;
            listed += r;
        }
        if ((k & 4095) == 4095) {
            while (list != NULL) {
                struct node *n = list;
                list = n->next;
                listed -= n->value;
                free(n);
            }
        }
    }
    uint64_t check = listed;
    for (size_t i = 0; i < slice; i++) {
        check = check * 31 + mine[i];
    }
    results[t] = check;
    return (void *)(uintptr_t)(noise & 1);
}

int main(int argc, char **argv)
{
    if (argc != 4 || atoi(argv[1]) < 1 || atoi(argv[1]) > 64) {
        fprintf(stderr, "usage: threads_rw THREADS(1..64) MIB OPS\n");
        return 2;
    }
    threads = atoi(argv[1]);
    words = (size_t)strtoull(argv[2], NULL, 10) << 17;
    ops = strtoull(argv[3], NULL, 10);
    shared = calloc(words, sizeof *shared);
    if (shared == NULL) {
        perror("calloc");
        return 1;
    }
    pthread_t tid[64];
    for (int t = 0; t < threads; t++) {
        pthread_create(&tid[t], NULL, work, (void *)(intptr_t)t);
    }
    uint64_t check = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        check = check * 1000003 + results[t];
    }
    printf("threads_rw %d threads, %zu words, %llu ops each: checksum %016llx\n", threads, words,
           (unsigned long long)ops, (unsigned long long)check);
    return 0;
}
