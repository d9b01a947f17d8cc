/* A fork without exec: the child allocates and prints (its own heap), then, if asked, touches the parent's heap.
 * The parent checks its own heap after the child ended. usage: fork_child [touch] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int touch = argc > 1 && strcmp(argv[1], "touch") == 0;
    size_t n = 8 << 20;
    char *heap = malloc(n);
    memset(heap, 'p', n);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *own = malloc(1 << 20);
        memset(own, 'c', 1 << 20);
        char line[64];
        int len = snprintf(line, sizeof line, "child heap ok %c\n", own[12345]);
        ssize_t ignored = write(1, line, (size_t)len);
        (void)ignored;
        if (touch) {
            ((volatile char *)heap)[4096] = 'c'; /* volatile: a store the compiler may not drop */
        }
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    for (size_t i = 0; i < n; i++) {
        if (heap[i] != 'p') {
            printf("parent heap changed at %zu\n", i);
            return 1;
        }
    }
    printf("parent heap intact; child %s\n", WIFSIGNALED(status) ? "killed by a signal" : "exited");
    return 0;
}
