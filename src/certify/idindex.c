/*
 * Record id → row index (see idindex.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/idindex.h"

#include <string.h>

/* splitmix64's finaliser: ids are often consecutive, the table wants spread. */
static size_t id_hash(uint64_t id, size_t cap)
{
    id ^= id >> 30;
    id *= 0xbf58476d1ce4e5b9ULL;
    id ^= id >> 27;
    id *= 0x94d049bb133111ebULL;
    id ^= id >> 31;
    return (size_t)id & (cap - 1);
}

lethe_status lethe__idindex_alloc(lethe_ctx *ctx, lethe_idindex *ix, size_t n)
{
    memset(ix, 0, sizeof *ix);
    size_t cap = 16;
    while (cap < 2 * n) {
        if (cap > SIZE_MAX / 4)
            return LETHE_ESIZE;
        cap *= 2;
    }
    ix->key = lethe__calloc(ctx, cap, sizeof *ix->key);
    ix->row = lethe__calloc(ctx, cap, sizeof *ix->row);
    if (ix->key == NULL || ix->row == NULL) {
        lethe__idindex_free(ctx, ix);
        return LETHE_ENOMEM;
    }
    ix->cap = cap;
    return LETHE_OK;
}

void lethe__idindex_free(lethe_ctx *ctx, lethe_idindex *ix)
{
    lethe__free(ctx, ix->key);
    lethe__free(ctx, ix->row);
    memset(ix, 0, sizeof *ix);
}

void lethe__idindex_build(lethe_idindex *ix, const uint64_t *ids, size_t n)
{
    for (size_t h = 0; h < ix->cap; h++)
        ix->row[h] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t h = id_hash(ids[i], ix->cap);
        while (ix->row[h] != SIZE_MAX)
            h = (h + 1) & (ix->cap - 1);
        ix->key[h] = ids[i];
        ix->row[h] = i;
    }
}

size_t lethe__idindex_find(const lethe_idindex *ix, uint64_t id)
{
    size_t h = id_hash(id, ix->cap);
    while (ix->row[h] != SIZE_MAX) {
        if (ix->key[h] == id)
            return ix->row[h];
        h = (h + 1) & (ix->cap - 1);
    }
    return SIZE_MAX;
}
