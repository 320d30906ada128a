/*
 * Helpers the model benchmarks share: run one configuration in a child
 * process (so its peak memory is its own), and the distance between two
 * models' secret states.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_BENCH_CHILD_H
#define LETHE_BENCH_CHILD_H

#include <math.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certify/certify.h"

/* fn(arg, out) in a child process, its result (size bytes) back through a
 * pipe, *rss_mb the child's peak resident memory in MB. 0 on success. */
static inline int bench_in_child(void (*fn)(const void *arg, void *out), const void *arg,
                                 void *out, size_t size, double *rss_mb)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        fn(arg, out);
        ssize_t w = write(fd[1], out, size);
        _exit(w == (ssize_t)size ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = pid < 0 ? -1 : read(fd[0], out, size);
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || got != (ssize_t)size ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *rss_mb = (double)ru.ru_maxrss / 1024.0;
    return 0;
}

/* ‖θ_a − θ_b‖ of two models of the same width (the owner's states). */
static inline double bench_gap(const lethe_model *a, const lethe_model *b)
{
    double s = 0.0;
    for (size_t j = 0; j < a->d; j++)
        s += (a->w[j] - b->w[j]) * (a->w[j] - b->w[j]);
    return sqrt(s);
}

#endif
