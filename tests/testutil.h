/*
 * Helpers shared by the cmocka suites: double comparisons that print both
 * values, a counting allocator that can fail the N-th allocation, and
 * random problems. SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_TESTUTIL_H
#define LETHE_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lethe.h"

/* |a − b| ≤ atol + rtol·|b|, NaN never equal, printed on failure. */
#define assert_close(a, b, rtol, atol) \
    tu_assert_close((a), (b), (rtol), (atol), #a, __FILE__, __LINE__)

static inline void tu_assert_close(double a, double b, double rtol, double atol,
                                   const char *what, const char *file, int line)
{
    if (isnan(a) || isnan(b) || !(fabs(a - b) <= atol + rtol * fabs(b))) {
        print_error("%s = %.17g, expected %.17g (rtol %g, atol %g)\n", what, a, b, rtol, atol);
        _fail(file, line);
    }
}

/* a ≤ b, printed on failure. */
#define assert_le(a, b) tu_assert_le((a), (b), #a, #b, __FILE__, __LINE__)

static inline void tu_assert_le(double a, double b, const char *sa, const char *sb,
                                const char *file, int line)
{
    if (!(a <= b)) {
        print_error("%s = %.17g is not ≤ %s = %.17g\n", sa, a, sb, b);
        _fail(file, line);
    }
}

#define assert_status(call, want) \
    do { \
        lethe_status tu_st_ = (call); \
        if (tu_st_ != (want)) { \
            print_error("%s returned %d (%s), expected %d (%s)\n", #call, (int)tu_st_, \
                        lethe_strerror(tu_st_), (int)(want), lethe_strerror(want)); \
            _fail(__FILE__, __LINE__); \
        } \
    } while (0)

/* The last error message on ctx contains needle, printed on failure. */
#define assert_msg_has(ctx, needle) tu_msg_has((ctx), (needle), __FILE__, __LINE__)

static inline void tu_msg_has(const lethe_ctx *ctx, const char *needle, const char *file,
                              int line)
{
    const char *msg = lethe_ctx_errmsg(ctx);
    if (strstr(msg, needle) == NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", msg, needle);
        _fail(file, line);
    }
}

/* cmocka fixtures: a context with the default allocator in *state. */
static inline int tu_ctx_setup(void **state)
{
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return -1;
    *state = ctx;
    return 0;
}

static inline int tu_ctx_teardown(void **state)
{
    lethe_ctx_free(*state);
    return 0;
}

/* A counting allocator: fails the fail_at-th allocation (1-based; 0 = never)
 * and tracks how many blocks are live, so a test can check for leaks. */
typedef struct tu_alloc {
    long count, fail_at, live;
} tu_alloc;

static inline void *tu_malloc(void *ud, size_t size)
{
    tu_alloc *a = ud;
    a->count++;
    if (a->fail_at != 0 && a->count == a->fail_at)
        return NULL;
    void *p = malloc(size);
    if (p != NULL)
        a->live++;
    return p;
}

static inline void tu_free(void *ud, void *p)
{
    tu_alloc *a = ud;
    if (p != NULL) {
        a->live--;
        free(p);
    }
}

static inline lethe_allocator tu_allocator(tu_alloc *a)
{
    lethe_allocator al = { tu_malloc, tu_free, a };
    return al;
}

/* A small deterministic generator for test problems (splitmix64). */
static inline uint64_t tu_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline double tu_uniform(uint64_t *s) /* [−1, 1) */
{
    return (double)(tu_next(s) >> 11) * 0x1p-52 - 1.0;
}

/* n×d features in [−1, 1), labels from a planted linear model with 10 %
 * label noise (logistic: ±1; squared: real values). Caller frees x and y. */
static inline void tu_problem(uint64_t seed, size_t n, size_t d, lethe_loss loss, double **x,
                              double **y)
{
    uint64_t s = seed;
    double *w = malloc(d * sizeof *w);
    *x = malloc(n * d * sizeof **x);
    *y = malloc(n * sizeof **y);
    for (size_t j = 0; j < d; j++)
        w[j] = 2.385 * tu_uniform(&s);
    for (size_t i = 0; i < n; i++) {
        double z = 0.0;
        for (size_t j = 0; j < d; j++) {
            (*x)[i * d + j] = tu_uniform(&s);
            z += (*x)[i * d + j] * w[j];
        }
        if (lethe_loss_is_classifier(loss))
            (*y)[i] = ((z > 0.0) != (tu_uniform(&s) > 0.8)) ? 1.0 : -1.0;
        else if (loss == LETHE_LOSS_HUBER && i % 9 == 4) /* outliers, beyond the threshold */
            (*y)[i] = z + 4.0 * tu_uniform(&s) + (tu_uniform(&s) > 0.0 ? 3.0 : -3.0);
        else
            (*y)[i] = z + 0.3 * tu_uniform(&s);
    }
    free(w);
}

/* tu_problem's records as a dataset, rows scaled to norm R under policy. */
static inline lethe_dataset *tu_dataset(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d,
                                        lethe_loss loss, lethe_norm_policy policy, double R)
{
    double *x, *y;
    tu_problem(seed, n, d, loss, &x, &y);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, n, d, x, d, y, NULL, policy, R, &ds), LETHE_OK);
    free(x);
    free(y);
    return ds;
}

/* Directory of the real data, or NULL when it is not installed or the run
 * asks to skip it (LETHE_TEST_NO_REAL=1: make valgrind, where training on
 * 2 000 × 784 records takes minutes; random data covers the same code). */
static inline const char *tu_fmnist(void)
{
    static const char *dir = "/usr/share/datasets/fashion-mnist";
    const char *skip = getenv("LETHE_TEST_NO_REAL");
    if (skip != NULL && strcmp(skip, "1") == 0)
        return NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", dir);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fclose(f);
    return dir;
}

#endif /* LETHE_TESTUTIL_H */
