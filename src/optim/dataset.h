/*
 * The dataset: a private, contiguous copy of n rows of d features
 * (row-major, leading dimension d), labels, ids, and the norm bound R.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_DATASET_H
#define LETHE_DATASET_H

#include "base/base.h"

struct lethe_dataset {
    lethe_ctx *ctx;
    size_t n, d;
    double *x;     /* n×d, row-major, ld = d */
    double *y;     /* n */
    uint64_t *ids; /* n, distinct */
    double R;      /* every ‖xᵢ‖ ≤ R */
    int r_measured; /* R was measured from the data (LETHE_NORM_MEASURE) */
};

/* Check that ids[0..n-1] are distinct (sorting a scratch copy, O(n log n)).
 * Returns LETHE_OK, LETHE_EDUPLICATE (with *dup set) or LETHE_ENOMEM. */
lethe_status lethe__ids_distinct(lethe_ctx *ctx, const uint64_t *ids, size_t n, uint64_t *dup);

#endif /* LETHE_DATASET_H */
