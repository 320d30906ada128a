/*
 * lethe — the command-line tool: train a certified model, forget records,
 * publish M3 releases, show the removal budget, predict, make signing keys,
 * verify deletion certificates. Uses only the public API (lethe.h).
 *
 * Exit status (also printed by `lethe --help`):
 *   0  success
 *   1  usage error: unknown option, missing argument, bad value (ε ≤ 0,
 *      δ outside (0, 1), λ ≤ 0, …), checked before the library is called
 *   2  input data error: unreadable or malformed file, NaN, empty data,
 *      wrong dimensions, labels the loss cannot take
 *   3  an id is unknown, already removed, or repeated in one batch
 *   4  removal refused: it would exceed the certified budget (guo: refresh
 *      the model; M2: the capacity), or an M3 publication refused by the ε
 *      cap or the DP floor; for forget --dry-run: it would be refused
 *   5  any other failure (solver, memory, linear algebra, writing a file)
 *   6  verify: a certificate or the ledger failed a check (the message names
 *      the file and the check)
 *
 * Every exit, of success or failure, flushes stdout and stderr and ends the
 * process with _exit: no atexit handler or library destructor runs. Under an
 * address-space limit (ulimit -v or -d), OpenBLAS 0.3.21 retries a failed
 * allocation of its work buffer forever (fixed upstream in 0.3.30, PR 5303),
 * in any call that needs a buffer, and its exit handler joins its worker
 * threads. So under such a limit the tool runs itself again with
 * OPENBLAS_NUM_THREADS=1 (OpenBLAS reads it when it loads, before main, and
 * otherwise starts a worker that takes a 128 MiB buffer of its own) and
 * takes the calling thread's buffer before the data, with a call large
 * enough to need one (small calls use the stack): the buffer stays in
 * OpenBLAS's pool and later calls on this thread reuse it. Two guards end
 * the process with exit 5 and a message instead of a hang: an alarm around
 * that first call, and, for any later allocation (a thread of the library's
 * own that needs a buffer), the tool's mmap, which OpenBLAS calls through the
 * dynamic linker: the same anonymous mapping refused for lack of memory
 * MMAP_RETRY_LIMIT times in a row is a retry loop, not a request. This is
 * process-wide state, which the library never touches and the tool may.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
/* syscall() and MAP_ANONYMOUS are outside POSIX. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cblas.h>

#include "cli/cli.h"

/* How long the first BLAS call may take before it counts as stuck: it is a
 * BLAS_WARM_N × BLAS_WARM_N triangular solve, about a millisecond unless
 * OpenBLAS is retrying an allocation that cannot succeed. OpenBLAS 0.3.21
 * takes a triangular solve's work space (about 2n doubles) from the stack
 * up to a few KiB (Debian's build: 512 unknowns) and from its pool above. */
#define BLAS_WARM_SECONDS 10u
#define BLAS_WARM_N 1024

/* Consecutive refusals (ENOMEM) of one anonymous mapping size that count as
 * an allocator's endless retry rather than requests (see the top of this
 * file); OpenBLAS retries thousands of times a second. */
#define MMAP_RETRY_LIMIT 256

static const lethe__cli_command *const commands[] = {
    &lethe__cli_init,
    &lethe__cli_train,
    &lethe__cli_forget,
    &lethe__cli_publish,
    &lethe__cli_difficulty,
    &lethe__cli_capacity,
    &lethe__cli_status_cmd,
    &lethe__cli_predict,
    &lethe__cli_evaluate,
    &lethe__cli_refresh,
    &lethe__cli_export,
    &lethe__cli_keygen,
    &lethe__cli_verify,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

const char lethe__cli_exit_help[] =
    "exit status:\n"
    "  0  success\n"
    "  1  usage error (unknown option, missing argument, bad value)\n"
    "  2  input data error (unreadable or malformed file, NaN, empty data,\n"
    "     wrong dimensions)\n"
    "  3  unknown, already removed or duplicate id\n"
    "  4  removal refused: over the certified budget (guo: refresh the model;\n"
    "     M2: the capacity), or an M3 publication refused by the ε cap or the\n"
    "     DP floor (nothing changes); with forget --dry-run: it would be refused\n"
    "  5  other failure (solver, memory, linear algebra, writing a file)\n"
    "  6  verify: a certificate or the ledger failed a check\n";

static void help(FILE *f)
{
    fputs("usage: lethe COMMAND [OPTIONS]\n"
          "       lethe COMMAND --help\n"
          "       lethe --help | --version\n"
          "\n"
          "Certified machine unlearning for L2-regularised convex models (logistic,\n"
          "smooth hinge, ridge, Huber; binary or one-vs-rest; on the records or a\n"
          "frozen feature map): train a model whose records can later be removed\n"
          "with an (ε, δ) certificate.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n%s", lethe__cli_exit_help);
}

/* Instrumentation that would otherwise run from atexit, which _exit skips:
 * gcov's counters (make coverage) and LeakSanitizer's check (make
 * SANITIZE=address). Weak: null unless the build links them in. */
extern void __gcov_dump(void) __attribute__((weak));
extern void __lsan_do_leak_check(void) __attribute__((weak));

/* End the process now with exit status rc, after flushing stdout and stderr
 * (a failed write of the report is a failure, exit 5). */
static _Noreturn void finish(int rc)
{
    if (fflush(stdout) != 0 && rc == LETHE__EXIT_OK) {
        fprintf(stderr, "lethe: writing standard output: %s\n", strerror(errno));
        rc = LETHE__EXIT_FAILURE;
    }
    fflush(stderr);
    if (__gcov_dump)
        __gcov_dump();
    if (__lsan_do_leak_check)
        __lsan_do_leak_check();
    _exit(rc);
}

static _Noreturn void out_of_blas_memory(void)
{
    static const char msg[] =
        "lethe: out of memory: the address-space limit (ulimit -v) leaves no room for "
        "the linear-algebra library's work buffer\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(LETHE__EXIT_FAILURE);
}

static void blas_stuck(int sig)
{
    (void)sig;
    out_of_blas_memory();
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* The tool's mmap, found by the dynamic linker before the C library's for
 * OpenBLAS's calls (the C library's own allocator maps memory internally and
 * never comes here). It maps exactly as the C library would, and ends the
 * process when one size is refused MMAP_RETRY_LIMIT times in a row. Not
 * built under the sanitizers, which intercept mmap themselves. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    static _Atomic size_t refused_len;
    static _Atomic unsigned refusals;
    long p = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != -1) {
        refusals = 0;
        return (void *)p;
    }
    if (errno == ENOMEM && (flags & MAP_ANONYMOUS)) {
        if (atomic_exchange(&refused_len, len) != len)
            refusals = 0;
        if (atomic_fetch_add(&refusals, 1) + 1 >= MMAP_RETRY_LIMIT)
            out_of_blas_memory();
    }
    return MAP_FAILED;
}
#endif

/* 1 if an address-space or data-segment limit is in force. */
static int memory_limited(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
        return 1;
    return getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY;
}

/* Under a memory limit: BLAS on the calling thread only, one malloc arena
 * for every thread (each further arena reserves 64 MiB of address space), and
 * BLAS's work buffer taken now, before the data (see the comment at the top of this file). The
 * solve is with the identity; if even its 2 MiB cannot be had, the command
 * could not have run. */
static void blas_reserve(char **argv)
{
    if (!memory_limited())
        return;
    const char *nt = getenv("OPENBLAS_NUM_THREADS");
    if (!nt || strcmp(nt, "1") != 0) {
        /* If the tool cannot run itself again, the guards still hold. */
        if (setenv("OPENBLAS_NUM_THREADS", "1", 1) == 0)
            execv("/proc/self/exe", argv);
    }
    openblas_set_num_threads(1);
    mallopt(M_ARENA_MAX, 1);
    double *u = calloc((size_t)BLAS_WARM_N * BLAS_WARM_N + BLAS_WARM_N, sizeof *u);
    if (!u)
        out_of_blas_memory();
    double *x = u + (size_t)BLAS_WARM_N * BLAS_WARM_N;
    for (size_t i = 0; i < BLAS_WARM_N; i++) {
        u[i * BLAS_WARM_N + i] = 1.0;
        x[i] = 1.0;
    }
    signal(SIGALRM, blas_stuck);
    alarm(BLAS_WARM_SECONDS);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, BLAS_WARM_N, u,
                BLAS_WARM_N, x, 1);
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    free(u);
}

/* Commands that do no linear algebra, and so need no BLAS buffer. */
static int no_algebra(const char *name)
{
    return strcmp(name, "init") == 0 || strcmp(name, "keygen") == 0 ||
           strcmp(name, "verify") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        finish(LETHE__EXIT_USAGE);
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        help(stdout);
        finish(LETHE__EXIT_OK);
    }
    if (strcmp(name, "--version") == 0) {
        printf("lethe %s\n", LETHE_VERSION_STRING);
        finish(LETHE__EXIT_OK);
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i]->name) != 0)
            continue;
        lethe__cli_args a;
        int rc = lethe__cli_parse(commands[i], argc - 1, argv + 1, &a);
        if (rc >= 0)
            finish(rc);
        if (!no_algebra(name))
            blas_reserve(argv);
        finish(commands[i]->run(&a));
    }
    fprintf(stderr, "lethe: unknown command '%s' (see 'lethe --help')\n", name);
    finish(LETHE__EXIT_USAGE);
}
