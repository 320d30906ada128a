/*
 * How hard a record is to forget, before forgetting it (proofs/difficulty.md):
 * the influence ‖Ĥ⁻¹∇F_{D∖{i}}(θ)‖ of every record (a ranking: the length of
 * the Newton step its removal alone would take with the current factor),
 * and for the records asked about a dry run of the removal itself.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L

#include "certify/certify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

/* Records per block of triangular solves: A is BLOCK × d. */
enum { BLOCK = 128 };

/* The heads of m: itself, or a one-vs-rest parent's K heads. */
static size_t n_heads(const lethe_model *m)
{
    return m->K > 0 ? m->K : 1;
}

static const lethe_model *head(const lethe_model *m, size_t k)
{
    return m->K > 0 ? m->heads[k] : m;
}

/* For the rows rows[0..nb-1] of head h: each row of A (nb × d) becomes the
 * gradient of F on D∖{i} at θ, g − ℓ'(θᵀxᵢ, yᵢ)·xᵢ − λθ (g the exact
 * gradient on D; the regulariser loses one record's λθ), then A·Ĥ⁻¹ with
 * Ĥ = UᵀU (two triangular solves), and sq[t] gains its row's squared norm. */
static void influence_block(const lethe_model *h, const size_t *rows, size_t nb, double *A,
                            double *sq)
{
    const size_t d = h->d;
    const int di = lethe__blas_int(d);
    for (size_t t = 0; t < nb; t++) {
        const double *x = h->x + rows[t] * d;
        double l, d1, d2;
        lethe__loss_eval(h->loss, cblas_ddot(di, h->w, 1, x, 1), h->y[rows[t]], &l, &d1, &d2);
        double *a = A + t * d;
        for (size_t j = 0; j < d; j++)
            a[j] = h->g[j] - d1 * x[j] - h->lambda * h->w[j];
    }
    const int nbi = lethe__blas_int(nb);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, nbi, di, 1.0,
                h->U, di, A, di); /* A·U⁻¹ */
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, nbi, di, 1.0,
                h->U, di, A, di); /* A·U⁻¹·U⁻ᵀ = A·Ĥ⁻¹ */
    for (size_t t = 0; t < nb; t++)
        sq[t] += cblas_ddot(di, A + t * d, 1, A + t * d, 1);
}

/* Influence of the rows rows[0..n-1] into infl[0..n-1], block by block over
 * every head, with progress. */
static lethe_status influences(lethe_model *m, const size_t *rows, size_t n, double *infl)
{
    const size_t d = head(m, 0)->d, K = n_heads(m);
    double *A = lethe__calloc(m->ctx, BLOCK, d * sizeof *A); /* d·8 fits: d fits BLAS */
    if (A == NULL)
        return lethe__fail(m->ctx, LETHE_ENOMEM, "difficulty: no memory for %d × %zu", BLOCK, d);
    memset(infl, 0, n * sizeof *infl);
    const double total = (double)n * (double)K;
    for (size_t k = 0; k < K; k++) {
        for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
            const size_t nb = n - i0 < BLOCK ? n - i0 : BLOCK;
            influence_block(head(m, k), rows + i0, nb, A, infl + i0);
            lethe__progress(m->ctx, "influence", (double)(k * n + i0 + nb), total);
        }
    }
    for (size_t i = 0; i < n; i++)
        infl[i] = sqrt(infl[i]);
    lethe__free(m->ctx, A);
    return LETHE_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* out's dry-run fields: the removal of out->id alone, checked, not made. */
static lethe_status dry_run(lethe_model *m, lethe_difficulty *out)
{
    lethe_removal_report r;
    const double t0 = now();
    lethe_status st = lethe_model_check_removal(m, &out->id, 1, LETHE_PATH_FAST, &r);
    out->seconds = now() - t0;
    if (st != LETHE_OK)
        return st;
    out->dry_run = 1;
    out->distance = r.distance;
    out->share = (r.residual + r.residual_fp) / r.budget;
    out->steps = r.steps;
    out->reanchors = r.reanchors;
    return LETHE_OK;
}

static void blank(lethe_difficulty *out, uint64_t id, double influence)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    out->influence = influence;
    out->distance = out->share = out->seconds = NAN;
}

/* IMPLEMENTS: LTH-C-0017 */
lethe_status lethe_record_difficulty(lethe_model *m, const uint64_t *ids, size_t k, int dry,
                                     lethe_difficulty *out)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (ids == NULL || out == NULL || k == 0)
        return lethe__fail(m->ctx, LETHE_EINVAL, "difficulty: no ids given");
    size_t *rows = lethe__calloc(m->ctx, k, sizeof *rows);
    double *infl = lethe__calloc(m->ctx, k, sizeof *infl);
    lethe_status st = rows == NULL || infl == NULL
                          ? lethe__fail(m->ctx, LETHE_ENOMEM, "difficulty: no memory for %zu "
                                                               "ids", k)
                          : LETHE_OK;
    for (size_t t = 0; t < k && st == LETHE_OK; t++) {
        rows[t] = lethe__model_find(m, ids[t]);
        if (rows[t] == SIZE_MAX)
            st = lethe__fail(m->ctx, LETHE_ENOTFOUND, "difficulty: no record has id %llu",
                             (unsigned long long)ids[t]);
        else if (m->alive[rows[t]] != ROW_LIVE)
            st = lethe__fail(m->ctx, LETHE_EREMOVED, "difficulty: record %llu was removed",
                             (unsigned long long)ids[t]);
    }
    if (st == LETHE_OK)
        st = influences(m, rows, k, infl);
    for (size_t t = 0; t < k && st == LETHE_OK; t++) {
        blank(&out[t], ids[t], infl[t]);
        if (dry)
            st = dry_run(m, &out[t]);
    }
    lethe__free(m->ctx, rows);
    lethe__free(m->ctx, infl);
    return st;
}

typedef struct ranked {
    double influence;
    uint64_t id;
} ranked;

/* Hardest first; ties by the smaller id (NaN, which cannot occur for a
 * finite model, last). */
static int by_influence(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->influence > b->influence || (isnan(b->influence) && !isnan(a->influence)))
        return -1;
    if (a->influence < b->influence || (isnan(a->influence) && !isnan(b->influence)))
        return 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* IMPLEMENTS: LTH-C-0017 */
lethe_status lethe_model_hardest(lethe_model *m, size_t top, int dry, lethe_difficulty *out,
                                 size_t *count)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (out == NULL || count == NULL || top == 0)
        return lethe__fail(m->ctx, LETHE_EINVAL, "hardest: top must be ≥ 1, out and count "
                                                 "not NULL");
    *count = 0;
    const size_t n = m->n_live;
    size_t *rows = lethe__calloc(m->ctx, n, sizeof *rows);
    double *infl = lethe__calloc(m->ctx, n, sizeof *infl);
    ranked *r = lethe__calloc(m->ctx, n, sizeof *r);
    lethe_status st = rows == NULL || infl == NULL || r == NULL
                          ? lethe__fail(m->ctx, LETHE_ENOMEM, "hardest: no memory for %zu "
                                                               "records", n)
                          : LETHE_OK;
    if (st == LETHE_OK) {
        size_t j = 0;
        for (size_t i = 0; i < m->n_rows; i++)
            if (m->alive[i] == ROW_LIVE)
                rows[j++] = i;
        st = influences(m, rows, n, infl);
    }
    if (st == LETHE_OK) {
        for (size_t i = 0; i < n; i++)
            r[i] = (ranked){ infl[i], m->ids[rows[i]] };
        qsort(r, n, sizeof *r, by_influence);
        const size_t c = top < n ? top : n;
        for (size_t t = 0; t < c && st == LETHE_OK; t++) {
            blank(&out[t], r[t].id, r[t].influence);
            if (dry) {
                st = dry_run(m, &out[t]);
                lethe__progress(m->ctx, "dry runs", (double)(t + 1), (double)c);
            }
        }
        if (st == LETHE_OK)
            *count = c;
    }
    lethe__free(m->ctx, rows);
    lethe__free(m->ctx, infl);
    lethe__free(m->ctx, r);
    return st;
}
