/*
 * An index from 64-bit record ids to row numbers: open addressing with
 * linear probing, capacity a power of two at least twice the rows, built
 * once and never grown (rows are only ever removed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_IDINDEX_H
#define LETHE_IDINDEX_H

#include "base/base.h"

typedef struct lethe_idindex {
    size_t cap;
    uint64_t *key;
    size_t *row; /* SIZE_MAX = empty */
} lethe_idindex;

/* Allocate for n rows (all-or-nothing). Returns LETHE_OK, LETHE_ESIZE, LETHE_ENOMEM. */
lethe_status lethe__idindex_alloc(lethe_ctx *ctx, lethe_idindex *ix, size_t n);
void lethe__idindex_free(lethe_ctx *ctx, lethe_idindex *ix);
/* Index ids[0..n-1] (distinct) as rows 0..n-1; no allocation. */
void lethe__idindex_build(lethe_idindex *ix, const uint64_t *ids, size_t n);
/* The row of id, or SIZE_MAX. O(1) expected. */
size_t lethe__idindex_find(const lethe_idindex *ix, uint64_t id);

#endif /* LETHE_IDINDEX_H */
