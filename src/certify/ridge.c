/*
 * Exact ridge regression by sufficient statistics (Cao & Yang, IEEE S&P
 * 2015; proofs/exact-ridge.md, LTH-C-0019): G = XᵀX and b = Xᵀy, kept and
 * down-dated; w solves (G + λnI)w = b by Cholesky. Every solution carries
 * an a-priori bound on its distance to the exact minimiser of the records
 * held, from the rounding of the sums (every row ever added or removed),
 * of the shift λn and of the Cholesky solve.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

struct lethe_ridge {
    lethe_ctx *ctx;
    double lambda;
    size_t d, n_rows, n_live;
    double *x, *y;       /* n_rows × d, n_rows: removed rows zeroed        */
    uint64_t *ids;
    unsigned char *alive;
    lethe_idindex index;
    double *G, *b;       /* Σ xxᵀ (upper triangle), Σ y·x over the live rows */
    double *w, *U;       /* the solution and the factor of G + λnI          */
    double *G2, *b2, *blk; /* scratch: a removal's G, b, and its rows (k × d) */
    size_t blk_rows;
    /* the bound's inputs: every row ever held counts in the sums' rounding */
    size_t terms;        /* N + 2K: rows trained, twice the rows removed   */
    double Q, P;         /* ≥ Σ‖xᵢ‖², Σ|yᵢ|·‖xᵢ‖ over every row ever held */
    double dist;         /* the current certified bound                     */
};

static const double U_ROUND = 0x1p-53;

/* γ_m = m·u/(1 − m·u), rounded up (m·u < ½ is checked by the caller's
 * sizes: m < 2⁵⁰). */
static double gamma_m(double m)
{
    return m * U_ROUND / (1.0 - m * U_ROUND) * (1.0 + 0x1p-50);
}

/* A·(1 + γ_m) for a sum of m positive terms computed in double: an upper
 * bound on the exact sum. */
static double up(double sum, double m)
{
    return sum * (1.0 + gamma_m(m));
}

/* Factor G + λnI into U and solve for w from b (G, b unchanged); then the
 * certified bound (proofs/exact-ridge.md, (B)). LETHE_OK or LETHE_ENOTPD. */
static lethe_status solve(lethe_ridge *m, const double *G, const double *b, size_t n,
                          size_t terms, double *w, double *U, double *dist)
{
    const size_t d = m->d;
    const double lamn = m->lambda * (double)n;
    double gmax = 0.0;
    memcpy(U, G, d * d * sizeof *U);
    for (size_t j = 0; j < d; j++) {
        gmax = fmax(gmax, fabs(G[j * d + j]));
        U[j * d + j] += lamn;
    }
    if (lethe__chol_factor(U, d) != LETHE_OK)
        return LETHE_ENOTPD;
    memcpy(w, b, d * sizeof *w);
    lethe__chol_solve(U, d, w);
    /* (B): (E_b + (E_G + E_shift + E_chol)·‖w‖) / (λn), each rounded up */
    double fro = 0.0; /* ‖U‖_F², the upper triangle */
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            fro += U[i * d + j] * U[i * d + j];
    const double dd = (double)d;
    const double e_chol = gamma_m(3.0 * dd + 1.0) * up(fro, dd * dd);
    const double g_sum = gamma_m((double)terms + 2.0);
    const double e_g = g_sum * m->Q, e_b = g_sum * m->P;
    const double e_shift = U_ROUND * (gmax + 2.0 * lamn * (1.0 + U_ROUND));
    const double wn = up(cblas_dnrm2(lethe__blas_int(d), w, 1), dd + 4.0);
    const double num = e_b + (e_g + e_shift + e_chol) * wn;
    *dist = num / (lamn * (1.0 - 4.0 * U_ROUND)) * (1.0 + 0x1p-40);
    return LETHE_OK;
}

void lethe_ridge_free(lethe_ridge *m)
{
    if (m == NULL)
        return;
    lethe_ctx *ctx = m->ctx;
    if (m->x != NULL)
        sodium_memzero(m->x, m->n_rows * m->d * sizeof *m->x);
    double *bufs[] = { m->x, m->y, m->G, m->b, m->w, m->U, m->G2, m->b2, m->blk };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        lethe__free(ctx, bufs[i]);
    lethe__free(ctx, m->ids);
    lethe__free(ctx, m->alive);
    lethe__idindex_free(ctx, &m->index);
    lethe__free(ctx, m);
}

/* IMPLEMENTS: LTH-C-0019 */
lethe_status lethe_ridge_train(lethe_ctx *ctx, const lethe_dataset *data, double lambda,
                               lethe_ridge **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (data == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "ridge: data and out must not be NULL");
    *out = NULL;
    if (!(lambda > 0.0) || !isfinite(lambda))
        return lethe__fail(ctx, LETHE_EINVAL, "ridge: λ must be finite and > 0, not %g", lambda);
    const size_t n = data->n, d = data->d;
    size_t cells = 0, dd = 0;
    if (!lethe__mul_size(n, d, &cells) || !lethe__mul_size(d, d, &dd) || n > ((size_t)1 << 40))
        return lethe__fail(ctx, LETHE_ESIZE, "ridge: %zu × %zu is too large", n, d);
    lethe_ridge *m = lethe__calloc(ctx, 1, sizeof *m);
    if (m == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "ridge: no memory");
    m->ctx = ctx;
    m->lambda = lambda;
    m->d = d;
    m->n_rows = m->n_live = n;
    m->terms = n;
    m->x = lethe__calloc(ctx, cells, sizeof *m->x);
    m->y = lethe__calloc(ctx, n, sizeof *m->y);
    m->ids = lethe__calloc(ctx, n, sizeof *m->ids);
    m->alive = lethe__calloc(ctx, n, 1);
    double **mats[] = { &m->G, &m->U, &m->G2 };
    for (size_t i = 0; i < 3; i++)
        *mats[i] = lethe__calloc(ctx, dd, sizeof **mats[i]);
    m->b = lethe__calloc(ctx, d, sizeof *m->b);
    m->b2 = lethe__calloc(ctx, d, sizeof *m->b2);
    m->w = lethe__calloc(ctx, d, sizeof *m->w);
    lethe_status st = m->x == NULL || m->y == NULL || m->ids == NULL || m->alive == NULL ||
                              m->G == NULL || m->U == NULL || m->G2 == NULL || m->b == NULL ||
                              m->b2 == NULL || m->w == NULL
                          ? lethe__fail(ctx, LETHE_ENOMEM, "ridge: no memory for %zu × %zu", n,
                                        d)
                          : lethe__idindex_alloc(ctx, &m->index, n);
    if (st != LETHE_OK) {
        lethe_ridge_free(m);
        return st;
    }
    memcpy(m->x, data->x, cells * sizeof *m->x);
    memcpy(m->y, data->y, n * sizeof *m->y);
    memcpy(m->ids, data->ids, n * sizeof *m->ids);
    memset(m->alive, 1, n);
    lethe__idindex_build(&m->index, m->ids, n);
    const int di = lethe__blas_int(d), ni = lethe__blas_int(n);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, ni, 1.0, m->x, di, 0.0, m->G, di);
    cblas_dgemv(CblasRowMajor, CblasTrans, ni, di, 1.0, m->x, di, m->y, 1, 0.0, m->b, 1);
    double Q = 0.0, P = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double r2 = up(cblas_ddot(di, m->x + i * d, 1, m->x + i * d, 1), (double)d);
        Q += r2;
        P += fabs(m->y[i]) * sqrt(r2) * (1.0 + 2.0 * U_ROUND);
    }
    m->Q = up(Q, (double)n);
    m->P = up(P, (double)n);
    if (solve(m, m->G, m->b, n, m->terms, m->w, m->U, &m->dist) != LETHE_OK) {
        lethe_ridge_free(m);
        return lethe__fail(ctx, LETHE_ENOTPD, "ridge: G + λnI is not positive definite as "
                                              "computed (λ too small for the data's scale?)");
    }
    *out = m;
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0019 */
lethe_status lethe_ridge_remove(lethe_ridge *m, const uint64_t *ids, size_t k, double *distance)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe_ctx *ctx = m->ctx;
    lethe__clear(ctx);
    if (ids == NULL || k == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "ridge: no ids given");
    if (k >= m->n_live)
        return lethe__fail(ctx, LETHE_ELAST, "ridge: %zu ids would leave none of the %zu "
                                             "records", k, m->n_live);
    const size_t d = m->d;
    if (k > m->blk_rows) {
        size_t cells = 0;
        double *blk = lethe__mul_size(k, d, &cells) ? lethe__calloc(ctx, cells, sizeof *blk)
                                                    : NULL;
        if (blk == NULL)
            return lethe__fail(ctx, LETHE_ENOMEM, "ridge: no memory for %zu rows", k);
        lethe__free(ctx, m->blk);
        m->blk = blk;
        m->blk_rows = k;
    }
    size_t *rows = lethe__calloc(ctx, k, sizeof *rows);
    if (rows == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "ridge: no memory for %zu ids", k);
    lethe_status st = LETHE_OK;
    for (size_t t = 0; t < k && st == LETHE_OK; t++) {
        size_t r = lethe__idindex_find(&m->index, ids[t]);
        if (r != SIZE_MAX && m->alive[r] == 2)
            st = lethe__fail(ctx, LETHE_EDUPLICATE, "ridge: id %llu appears twice in the batch",
                             (unsigned long long)ids[t]);
        else if (r == SIZE_MAX || m->alive[r] != 1)
            st = lethe__fail(ctx, LETHE_ENOTFOUND, "ridge: no record has id %llu",
                             (unsigned long long)ids[t]);
        else
            m->alive[rows[t] = r] = 2; /* in this batch */
    }
    double w2_dist = 0.0;
    double *w2 = NULL, *U2 = NULL;
    if (st == LETHE_OK) {
        /* G − XₖᵀXₖ and b − Xₖᵀyₖ into the scratch, then solve */
        double *yk = lethe__calloc(ctx, k, sizeof *yk);
        w2 = lethe__calloc(ctx, d, sizeof *w2);
        U2 = lethe__calloc(ctx, d * d, sizeof *U2);
        if (yk == NULL || w2 == NULL || U2 == NULL)
            st = lethe__fail(ctx, LETHE_ENOMEM, "ridge: no memory for a removal");
        for (size_t t = 0; t < k && st == LETHE_OK; t++) {
            memcpy(m->blk + t * d, m->x + rows[t] * d, d * sizeof *m->blk);
            yk[t] = m->y[rows[t]];
        }
        if (st == LETHE_OK) {
            const int di = lethe__blas_int(d), ki = lethe__blas_int(k);
            memcpy(m->G2, m->G, d * d * sizeof *m->G2);
            memcpy(m->b2, m->b, d * sizeof *m->b2);
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, ki, -1.0, m->blk, di, 1.0,
                        m->G2, di);
            cblas_dgemv(CblasRowMajor, CblasTrans, ki, di, -1.0, m->blk, di, yk, 1, 1.0, m->b2,
                        1);
            if (solve(m, m->G2, m->b2, m->n_live - k, m->terms + 2 * k, w2, U2, &w2_dist) !=
                LETHE_OK)
                st = lethe__fail(ctx, LETHE_ENOTPD, "ridge: the down-dated G + λnI is not "
                                                    "positive definite as computed");
        }
        if (yk != NULL)
            sodium_memzero(yk, k * sizeof *yk);
        lethe__free(ctx, yk);
        sodium_memzero(m->blk, k * d * sizeof *m->blk);
    }
    if (st == LETHE_OK) { /* commit: the rows erased, the statistics and solution swapped */
        for (size_t t = 0; t < k; t++) {
            sodium_memzero(m->x + rows[t] * d, d * sizeof *m->x);
            m->y[rows[t]] = 0.0;
            m->alive[rows[t]] = 0;
        }
        double *t2 = m->G;
        m->G = m->G2;
        m->G2 = t2;
        t2 = m->b;
        m->b = m->b2;
        m->b2 = t2;
        memcpy(m->w, w2, d * sizeof *w2);
        memcpy(m->U, U2, d * d * sizeof *U2);
        m->n_live -= k;
        m->terms += 2 * k;
        m->dist = w2_dist;
        if (distance != NULL)
            *distance = w2_dist;
    } else {
        for (size_t i = 0; i < m->n_rows; i++) /* the batch's marks undone */
            if (m->alive[i] == 2)
                m->alive[i] = 1;
    }
    lethe__free(ctx, w2);
    lethe__free(ctx, U2);
    lethe__free(ctx, rows);
    return st;
}

const double *lethe_ridge_weights(const lethe_ridge *m)
{
    return m != NULL ? m->w : NULL;
}

double lethe_ridge_distance(const lethe_ridge *m)
{
    return m != NULL ? m->dist : NAN;
}

size_t lethe_ridge_rows(const lethe_ridge *m)
{
    return m != NULL ? m->n_live : 0;
}

int lethe_ridge_has_id(const lethe_ridge *m, uint64_t id)
{
    if (m == NULL)
        return 0;
    size_t r = lethe__idindex_find(&m->index, id);
    return r != SIZE_MAX && m->alive[r] == 1;
}
