/*
 * Frozen feature maps: the map a model applies to every record before its
 * convex head (proofs/feature-maps.md, LTH-C-0015). The map never depends
 * on the training records: Ω and β come from a public seed, or the user
 * declares a map computed elsewhere.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_FEATURES_H
#define LETHE_FEATURES_H

#include "base/base.h"
#include "optim/dataset.h"

/* Largest D of a random map. */
#define LETHE__FEATURES_DIM_MAX ((size_t)1 << 20)

/* A map ready to apply: its parameters, the input and output widths, and
 * for the random maps Ω (D × d_in, row-major) and β (D), drawn once. */
typedef struct lethe_fmap {
    lethe_feature_map p;
    size_t d_in, d_out;
    double *omega, *beta;
} lethe_fmap;

/* 1 if p changes the records at all (a map, or an intercept). */
int lethe__features_active(const lethe_feature_map *p);

/* Check p for d_in inputs and build f (Ω and β drawn from p->seed, which
 * must be set: an all-zero seed is replaced by the caller before this).
 * Returns LETHE_OK, LETHE_EINVAL (a parameter out of range, with the
 * message), LETHE_ESIZE, LETHE_ENOMEM. On failure f owns nothing. */
lethe_status lethe__fmap_init(lethe_ctx *ctx, const lethe_feature_map *p, size_t d_in,
                              lethe_fmap *f);
void lethe__fmap_free(lethe_ctx *ctx, lethe_fmap *f);

/* φ of n rows x (ld ldx ≥ d_in) into out (n × d_out, ld d_out): the input
 * transform, the map, each row of a random map scaled to norm 1 (0 stays
 * 0), then the intercept's constant. Allocates (a block of transformed
 * rows) only with an input transform. Returns LETHE_OK or LETHE_ENOMEM. */
lethe_status lethe__fmap_apply(lethe_ctx *ctx, const lethe_fmap *f, size_t n, const double *x,
                               size_t ldx, double *out);

/* The dataset φ(data), its labels and ids copied, with the norm bound of
 * the map: 1 after a random map or an input transform (√(1 + bias²) with
 * an intercept), the
 * data's R (√(R² + bias²) with an intercept) otherwise, each times
 * 1 + (2·d_out + 16)·2⁻⁵² (the room lethe_dataset_create's re-check needs). Returns LETHE_OK,
 * LETHE_ESIZE (data's width is not d_in), LETHE_ENOMEM, and the errors of
 * lethe_dataset_create. */
lethe_status lethe__fmap_dataset(lethe_ctx *ctx, const lethe_fmap *f, const lethe_dataset *data,
                                 lethe_dataset **out);

/* Read a description as lethe_features_describe writes it into *p and
 * *d_in; 1 if it parses (a description that parses may still not be
 * canonical: describe it again and compare). */
int lethe__features_parse(const char *text, lethe_feature_map *p, size_t *d_in);

#endif /* LETHE_FEATURES_H */
