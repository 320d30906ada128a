/*
 * Shared by the demo and the benchmarks: Fashion-MNIST pullover (2) vs coat
 * (4) with rows scaled to unit norm, a monotonic clock, medians, progress,
 * the dataset of a model's remaining records (for retraining from scratch),
 * and the accuracy of fresh releases.
 * Uses only the public API. SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_EXAMPLES_FMNIST_H
#define LETHE_EXAMPLES_FMNIST_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lethe.h"

#define FM_POS 4 /* coat     → +1 */
#define FM_NEG 2 /* pullover → −1 */

static inline double fm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fm_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n-1] (sorts v). */
static inline double fm_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, fm_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static inline void fm_die(lethe_ctx *ctx, const char *what, lethe_status st)
{
    fprintf(stderr, "%s: %s (%s)\n", what, lethe_strerror(st), lethe_ctx_errmsg(ctx));
    exit(1);
}

/* split is "train" or "t10k"; class pos → +1, neg → −1, the others left
 * out, or with pos = neg = −1 every record with its class as its label. */
static inline lethe_dataset *fm_load_classes(lethe_ctx *ctx, const char *dir, const char *split,
                                             long pos, long neg)
{
    char img[1024], lab[1024];
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, split);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    lethe_read_options ro;
    lethe_read_options_init(&ro);
    ro.pos_class = pos;
    ro.neg_class = neg;
    ro.policy = LETHE_NORM_NORMALIZE;
    ro.R = 1.0;
    lethe_dataset *ds = NULL;
    lethe_status st = lethe_dataset_read_idx(ctx, img, lab, &ro, &ds);
    if (st != LETHE_OK)
        fm_die(ctx, img, st);
    return ds;
}

/* The demo's two classes: coat → +1, pullover → −1. */
static inline lethe_dataset *fm_load(lethe_ctx *ctx, const char *dir, const char *split)
{
    return fm_load_classes(ctx, dir, split, FM_POS, FM_NEG);
}

/* The records of data that model still holds, as a new dataset. */
static inline lethe_dataset *fm_remaining(lethe_ctx *ctx, const lethe_dataset *data,
                                          const lethe_model *model)
{
    size_t n = lethe_dataset_rows(data), d = lethe_dataset_cols(data), k = 0;
    const double *x = lethe_dataset_x(data), *y = lethe_dataset_y(data);
    const uint64_t *ids = lethe_dataset_ids(data);
    double *rx = malloc(n * d * sizeof *rx), *ry = malloc(n * sizeof *ry);
    uint64_t *rid = malloc(n * sizeof *rid);
    if (rx == NULL || ry == NULL || rid == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        if (!lethe_model_has_id(model, ids[i]))
            continue;
        memcpy(rx + k * d, x + i * d, d * sizeof *rx);
        ry[k] = y[i];
        rid[k++] = ids[i];
    }
    lethe_dataset *out = NULL;
    lethe_status st = lethe_dataset_create(ctx, k, d, rx, d, ry, rid, LETHE_NORM_REQUIRE, 1.0,
                                           &out);
    free(rx);
    free(ry);
    free(rid);
    if (st != LETHE_OK)
        fm_die(ctx, "remaining records", st);
    return out;
}

/* The first n records of data, as a new dataset. */
static inline lethe_dataset *fm_head(lethe_ctx *ctx, const lethe_dataset *data, size_t n)
{
    lethe_dataset *out = NULL;
    size_t d = lethe_dataset_cols(data);
    lethe_status st = lethe_dataset_create(ctx, n, d, lethe_dataset_x(data), d,
                                           lethe_dataset_y(data), lethe_dataset_ids(data),
                                           LETHE_NORM_REQUIRE, 1.0, &out);
    if (st != LETHE_OK)
        fm_die(ctx, "subset", st);
    return out;
}

/* k distinct random indices in [0, n) (partial Fisher–Yates). */
static inline size_t *fm_pick(size_t n, size_t k, uint64_t seed)
{
    size_t *idx = malloc(n * sizeof *idx);
    if (idx == NULL)
        exit(1);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    uint64_t s = seed;
    for (size_t i = 0; i < k && i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t j = i + (size_t)((s >> 33) % (n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    return idx;
}

/* Progress on stderr, only when it is a terminal. */
static inline void fm_progress(const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO))
        return;
    va_list ap;
    va_start(ap, fmt);
    fputc('\r', stderr);
    vfprintf(stderr, fmt, ap);
    fputs("   ", stderr);
    va_end(ap);
}

/* Test accuracy of `count` fresh releases of an M3 model: the mean, and the
 * lowest and highest in *lo, *hi; each release's time in seconds goes to
 * seconds[0..count-1] if not NULL. Every release counts in the model's
 * published history. */
static inline double fm_published_accuracy(lethe_ctx *ctx, lethe_model *m,
                                           const lethe_dataset *test, int count, double *lo,
                                           double *hi, double *seconds)
{
    double sum = 0.0;
    *lo = 1.0;
    *hi = 0.0;
    for (int r = 0; r < count; r++) {
        double a = 0.0, t0 = fm_now();
        lethe_status st = lethe_model_publish(m, NULL);
        if (seconds != NULL)
            seconds[r] = fm_now() - t0;
        if (st == LETHE_OK)
            st = lethe_model_evaluate(m, test, &a);
        if (st != LETHE_OK)
            fm_die(ctx, "publish", st);
        sum += a;
        *lo = fmin(*lo, a);
        *hi = fmax(*hi, a);
    }
    return sum / count;
}

#endif
