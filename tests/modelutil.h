/*
 * Helpers for the suites that look inside a model (certify/certify.h):
 * the exact retrain on the model's live rows, and distances.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_MODELUTIL_H
#define LETHE_MODELUTIL_H

#include "testutil.h"

#include "certify/certify.h"

/* Retrain from scratch on the model's live rows with the model's b (M3:
 * b = 0, so this is w*(D)); *gnorm the retrain's own final gradient norm. */
static inline void tu_retrain_same_b(lethe_model *m, double *w, double *gnorm)
{
    lethe_objective obj = lethe__model_objective(m, m->b);
    lethe_optim_ws ws;
    double *U = malloc(m->d * m->d * sizeof *U);
    unsigned iters;
    assert_status(lethe__optim_ws_init(m->ctx, &ws, m->n_rows, m->d), LETHE_OK);
    memset(w, 0, m->d * sizeof *w);
    assert_status(lethe__newton(m->ctx, &obj, w, 1e-11, 100, U, NULL, &ws, gnorm, &iters),
                  LETHE_OK);
    lethe__optim_ws_free(m->ctx, &ws);
    free(U);
}

static inline double tu_dist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

/* The records of ds without the ids gone[0..k-1], in their order, made
 * under policy and R as lethe_dataset_create takes them. */
static inline lethe_dataset *tu_without(lethe_ctx *ctx, const lethe_dataset *ds,
                                        const uint64_t *gone, size_t k,
                                        lethe_norm_policy policy, double R)
{
    const size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
    uint64_t *ids = malloc(n * sizeof *ids);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int drop = 0;
        for (size_t t = 0; t < k; t++)
            drop |= lethe_dataset_ids(ds)[i] == gone[t];
        if (drop)
            continue;
        memcpy(x + m * d, lethe_dataset_x(ds) + i * d, d * sizeof *x);
        y[m] = lethe_dataset_y(ds)[i];
        ids[m++] = lethe_dataset_ids(ds)[i];
    }
    lethe_dataset *out = NULL;
    assert_status(lethe_dataset_create(ctx, m, d, x, d, y, ids, policy, R, &out), LETHE_OK);
    free(x);
    free(y);
    free(ids);
    return out;
}

#endif /* LETHE_MODELUTIL_H */
