/* Random reads and writes over one large malloc'ed array; prints a checksum of the final array (deterministic).
 * usage: random_rw MIB OPS SEED */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: random_rw MIB OPS SEED\n");
        return 2;
    }
    size_t n = (size_t)strtoull(argv[1], NULL, 10) << 17; /* 8-byte words */
    uint64_t ops = strtoull(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10) | 1;
    uint64_t *a = malloc(n * sizeof *a);
    if (a == NULL) {
        perror("malloc");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = i * 0x9e3779b97f4a7c15ULL;
    }
    uint64_t sum = 0;
    for (uint64_t k = 0; k < ops; k++) {
        uint64_t r = next(&seed);
        size_t i = (size_t)(r % n);
        if ((r >> 60) < 4) {
            a[i] ^= r;
        } else {
            sum += a[i];
        }
    }
    uint64_t check = sum;
    for (size_t i = 0; i < n; i++) {
        check = check * 31 + a[i];
    }
    printf("random_rw %zu words, %llu ops: checksum %016llx\n", n, (unsigned long long)ops,
           (unsigned long long)check);
    free(a);
    return 0;
}
