/*
 * Dataset construction: validation, copying and the norm policy that fixes
 * R, the bound on ‖xᵢ‖ that every certificate constant depends on
 * (proofs/loss-constants.md).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "optim/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

/* ‖x‖₂ scaled by the largest |xᵢ|, so that neither tiny nor huge entries
 * underflow or overflow when squared (BLAS dnrm2 guarantees this only in
 * some builds). Relative error ≤ (d/2 + 3)·u, below the (d + 2)·u margins used. */
static double row_norm(const double *x, size_t d)
{
    double scale = 0.0;
    for (size_t j = 0; j < d; j++)
        scale = fmax(scale, fabs(x[j]));
    if (!(scale > 0.0) || !isfinite(scale))
        return scale;
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = x[j] / scale;
        s += t * t;
    }
    return scale * sqrt(s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

lethe_status lethe__ids_distinct(lethe_ctx *ctx, const uint64_t *ids, size_t n, uint64_t *dup)
{
    uint64_t *s = lethe__calloc(ctx, n, sizeof *s);
    if (s == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory to check %zu ids", n);
    memcpy(s, ids, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_u64);
    lethe_status st = LETHE_OK;
    for (size_t i = 1; i < n; i++) {
        if (s[i] == s[i - 1]) {
            *dup = s[i];
            st = LETHE_EDUPLICATE;
            break;
        }
    }
    lethe__free(ctx, s);
    return st;
}

lethe_status lethe_dataset_create(lethe_ctx *ctx, size_t n, size_t d, const double *x,
                                  size_t ldx, const double *y, const uint64_t *ids,
                                  lethe_norm_policy policy, double R, lethe_dataset **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (x == NULL || y == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "dataset: x, y and out must not be NULL");
    if (n == 0 || d == 0)
        return lethe__fail(ctx, LETHE_EEMPTY, "dataset: %zu rows of %zu features", n, d);
    if (ldx < d)
        return lethe__fail(ctx, LETHE_EINVAL, "dataset: leading dimension %zu < %zu features",
                           ldx, d);
    if ((unsigned)policy > LETHE_NORM_NORMALIZE)
        return lethe__fail(ctx, LETHE_EINVAL, "dataset: unknown norm policy %d", (int)policy);
    if (policy != LETHE_NORM_MEASURE && !(isfinite(R) && R > 0.0))
        return lethe__fail(ctx, LETHE_EINVAL, "dataset: norm bound R = %g must be finite and > 0",
                           R);
    size_t nd, span;
    if (!lethe__mul_size(n, d, &nd) || !lethe__mul_size(n - 1, ldx, &span) ||
        span > SIZE_MAX - d || !lethe__mul_size(nd, sizeof(double), &nd))
        return lethe__fail(ctx, LETHE_ESIZE, "dataset: %zu×%zu overflows", n, d);
    if (!lethe__fits_blas(d) || !lethe__fits_blas(n))
        return lethe__fail(ctx, LETHE_ESIZE, "dataset: %zu×%zu exceeds the BLAS index range",
                           n, d);

    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return lethe__fail(ctx, LETHE_ENONFINITE, "dataset: label of row %zu is %g", i, y[i]);
        const double *xi = x + i * ldx;
        for (size_t j = 0; j < d; j++)
            if (!isfinite(xi[j]))
                return lethe__fail(ctx, LETHE_ENONFINITE, "dataset: x[%zu][%zu] is %g", i, j,
                                   xi[j]);
    }
    if (ids != NULL) {
        uint64_t dup = 0;
        lethe_status st = lethe__ids_distinct(ctx, ids, n, &dup);
        if (st == LETHE_EDUPLICATE)
            return lethe__fail(ctx, st, "dataset: id %llu appears twice",
                               (unsigned long long)dup);
        if (st != LETHE_OK)
            return st;
    }

    lethe_dataset *ds = lethe__calloc(ctx, 1, sizeof *ds);
    if (ds == NULL)
        goto nomem;
    ds->ctx = ctx;
    ds->n = n;
    ds->d = d;
    ds->x = lethe__malloc(ctx, nd);
    ds->y = lethe__calloc(ctx, n, sizeof *ds->y);
    ds->ids = lethe__calloc(ctx, n, sizeof *ds->ids);
    if (ds->x == NULL || ds->y == NULL || ds->ids == NULL)
        goto nomem;

    double Rmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double *row = ds->x + i * d;
        memcpy(row, x + i * ldx, d * sizeof *row);
        double norm = row_norm(row, d);
        if (!isfinite(norm)) {
            lethe_dataset_free(ds);
            return lethe__fail(ctx, LETHE_ENONFINITE, "dataset: ‖x[%zu]‖ overflows", i);
        }
        /* the computed norm may fall (d/2 + 3)·u short: require the margin */
        if (policy == LETHE_NORM_REQUIRE && norm > R * (1.0 - ((double)d + 2.0) * 0x1p-53)) {
            lethe_dataset_free(ds);
            return lethe__fail(ctx, LETHE_ENORM, "dataset: ‖x[%zu]‖ = %.17g exceeds R = %.17g",
                               i, norm, R);
        }
        /* CLIP shrinks every row within the margin of R too: a computed
         * norm just below R does not prove the true one is */
        if ((policy == LETHE_NORM_CLIP && norm > R * (1.0 - ((double)d + 2.0) * 0x1p-53)) ||
            (policy == LETHE_NORM_NORMALIZE && norm > 0.0)) {
            /* First bring the norm near 1 by a power of two (exact), since
             * R/norm overflows for rows shorter than R/DBL_MAX. */
            for (int e = -ilogb(norm); e != 0;) { /* 2^e may itself overflow: steps */
                int step = e > 1000 ? 1000 : e;
                cblas_dscal((int)d, ldexp(1.0, step), row, 1);
                e -= step;
            }
            cblas_dscal((int)d, R / row_norm(row, d), row, 1);
            /* The computed norm may fall (d/2 + 1)·u short of the true one:
             * shrink until it is below R with that margin. Each pass scales
             * by target/norm, or by 1 − step if that rounds to 1, the step
             * doubling from one ulp, so that a margin of (d + 2)·u takes
             * O(log d) passes of O(d), not the O(√d) passes of shrinking
             * by growing single ulps (minutes for a row of 10⁶ features). */
            double step = 0x1p-53, target = R * (1.0 - ((double)d + 2.0) * 0x1p-53);
            while ((norm = row_norm(row, d)) > target && isfinite(norm)) {
                cblas_dscal((int)d, fmin(target / norm, 1.0 - step), row, 1);
                step *= 2.0;
            }
            for (size_t j = 0; j < d; j++) {
                if (!isfinite(row[j])) {
                    lethe_dataset_free(ds);
                    return lethe__fail(ctx, LETHE_ENONFINITE,
                                       "dataset: row %zu cannot be scaled to norm %g", i, R);
                }
            }
        }
        if (norm > Rmax)
            Rmax = norm;
        ds->y[i] = y[i];
        ds->ids[i] = ids != NULL ? ids[i] : (uint64_t)i;
    }
    /* row_norm may fall short of the true norm by (d/2 + 3)·u: round up
     * (proofs/loss-constants.md, C5). */
    ds->R = policy == LETHE_NORM_MEASURE ? Rmax * (1.0 + ((double)d + 2.0) * 0x1p-53) : R;
    ds->r_measured = policy == LETHE_NORM_MEASURE;
    *out = ds;
    return LETHE_OK;

nomem:
    lethe_dataset_free(ds);
    return lethe__fail(ctx, LETHE_ENOMEM, "dataset: no memory for %zu×%zu", n, d);
}

void lethe_dataset_free(lethe_dataset *ds)
{
    if (ds == NULL)
        return;
    lethe_ctx *ctx = ds->ctx;
    lethe__free(ctx, ds->x);
    lethe__free(ctx, ds->y);
    lethe__free(ctx, ds->ids);
    lethe__free(ctx, ds);
}

size_t lethe_dataset_rows(const lethe_dataset *ds) { return ds == NULL ? 0 : ds->n; }
size_t lethe_dataset_cols(const lethe_dataset *ds) { return ds == NULL ? 0 : ds->d; }
double lethe_dataset_norm_bound(const lethe_dataset *ds) { return ds == NULL ? NAN : ds->R; }
const double *lethe_dataset_x(const lethe_dataset *ds) { return ds == NULL ? NULL : ds->x; }
const double *lethe_dataset_y(const lethe_dataset *ds) { return ds == NULL ? NULL : ds->y; }
const uint64_t *lethe_dataset_ids(const lethe_dataset *ds) { return ds == NULL ? NULL : ds->ids; }
