/*
 * SISA (Bourtoule et al., IEEE S&P 2021): exact unlearning by sharded,
 * sliced retraining (proofs/sisa.md, LTH-C-0018). Each record goes to a
 * shard and a slice by a keyed hash of its id under the public seed; within
 * a shard the rows are stored slice by slice, in the order given; shard s
 * trains the convex ERM on its slices 1..r for r = 1..R in turn, each from
 * the previous checkpoint, and keeps every checkpoint. A removal rebuilds
 * the shards that held the records without them and retrains each from the
 * checkpoint before its first affected slice: the same arithmetic on the
 * same rows as training on the records left, so the same bits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

typedef struct shard {
    size_t n;     /* rows                                        */
    double *x;    /* n × d, slice by slice                       */
    double *y;    /* n                                           */
    uint64_t *id; /* n                                           */
    size_t *off;  /* R + 1: slice r holds rows [off[r], off[r+1]) */
    double *W;    /* R × d: the checkpoint after each slice       */
} shard;

struct lethe_sisa {
    lethe_ctx *ctx;
    lethe_sisa_options o;
    size_t d, n;
    shard *sh;          /* S                                        */
    size_t *base;       /* S + 1: shard s's rows are [base[s], base[s+1]) of gid */
    uint64_t *gid;      /* n: every id, shard by shard              */
    lethe_idindex index; /* id → position in gid                    */
};

void lethe_sisa_options_init(lethe_sisa_options *o)
{
    memset(o, 0, sizeof *o);
    o->shards = 5;
    o->slices = 4;
    o->loss = LETHE_LOSS_LOGISTIC;
    o->lambda = 1e-4;
    o->tol = 1e-10;
    o->max_iter = 100;
}

/* The shard and slice of id: 8 bytes of BLAKE2b keyed by the seed. */
static void assign(const lethe_sisa_options *o, uint64_t id, size_t *s, size_t *r)
{
    unsigned char in[8], h[8];
    for (int i = 0; i < 8; i++)
        in[i] = (unsigned char)(id >> (8 * i));
    crypto_generichash(h, sizeof h, in, sizeof in, o->seed, sizeof o->seed);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)h[i] << (8 * i);
    *s = (size_t)(u % o->shards);
    *r = (size_t)((u / o->shards) % o->slices);
}

static void shard_free(lethe_ctx *ctx, shard *sh)
{
    lethe__free(ctx, sh->x);
    lethe__free(ctx, sh->y);
    lethe__free(ctx, sh->id);
    lethe__free(ctx, sh->off);
    lethe__free(ctx, sh->W);
    memset(sh, 0, sizeof *sh);
}

/* Room for n rows of d features and R checkpoints (all or nothing). */
static lethe_status shard_alloc(lethe_ctx *ctx, shard *sh, size_t n, size_t d, size_t R)
{
    memset(sh, 0, sizeof *sh);
    size_t cells = 0, wcells = 0;
    if (!lethe__mul_size(n, d, &cells) || !lethe__mul_size(R, d, &wcells))
        return lethe__fail(ctx, LETHE_ESIZE, "sisa: %zu × %zu overflows", n, d);
    sh->n = n;
    sh->x = lethe__calloc(ctx, cells > 0 ? cells : 1, sizeof *sh->x);
    sh->y = lethe__calloc(ctx, n > 0 ? n : 1, sizeof *sh->y);
    sh->id = lethe__calloc(ctx, n > 0 ? n : 1, sizeof *sh->id);
    sh->off = lethe__calloc(ctx, R + 1, sizeof *sh->off);
    sh->W = lethe__calloc(ctx, wcells, sizeof *sh->W);
    if (sh->x == NULL || sh->y == NULL || sh->id == NULL || sh->off == NULL || sh->W == NULL) {
        shard_free(ctx, sh);
        return lethe__fail(ctx, LETHE_ENOMEM, "sisa: no memory for a shard of %zu × %zu", n,
                           d);
    }
    return LETHE_OK;
}

/* Train slices r0..R−1 of sh, each from the checkpoint before it (zero for
 * the first), into sh->W. Adds the Newton steps to *steps and sets *dist to
 * the last slice's ‖∇F‖/(λn). */
static lethe_status train_shard(lethe_ctx *ctx, const lethe_sisa_options *o, size_t d,
                                shard *sh, size_t r0, unsigned *steps, double *dist)
{
    lethe_optim_ws ws;
    lethe_status st = lethe__optim_ws_init(ctx, &ws, sh->n, d);
    if (st != LETHE_OK)
        return st;
    size_t dd = 0;
    lethe__mul_size(d, d, &dd); /* d fits BLAS: no overflow */
    double *U = lethe__calloc(ctx, dd, sizeof *U), *s = lethe__calloc(ctx, sh->n, sizeof *s);
    double *w = lethe__calloc(ctx, d, sizeof *w);
    if (U == NULL || s == NULL || w == NULL)
        st = lethe__fail(ctx, LETHE_ENOMEM, "sisa: no memory to train a shard (d = %zu)", d);
    const size_t R = o->slices;
    if (st == LETHE_OK && r0 > 0)
        memcpy(w, sh->W + (r0 - 1) * d, d * sizeof *w);
    for (size_t r = r0; r < R && st == LETHE_OK; r++) {
        const size_t m = sh->off[r + 1];
        if (m > 0) {
            lethe_objective obj = { .loss = o->loss, .n = m, .d = d, .x = sh->x, .y = sh->y,
                                    .alive = NULL, .n_reg = m, .lambda = o->lambda, .b = NULL };
            double gnorm = 0.0, scale = fmax(1.0, o->lambda * (double)m);
            unsigned iters = 0;
            st = lethe__newton(ctx, &obj, w, o->tol * scale, o->max_iter, U, s, &ws, &gnorm,
                               &iters);
            *steps += iters;
            *dist = gnorm / (o->lambda * (double)m);
        }
        if (st == LETHE_OK)
            memcpy(sh->W + r * d, w, d * sizeof *w);
        lethe__progress(ctx, "sisa: slices", (double)(r + 1), (double)R);
    }
    lethe__free(ctx, U);
    lethe__free(ctx, s);
    lethe__free(ctx, w);
    lethe__optim_ws_free(ctx, &ws);
    return st;
}

/* gid, base and the index from the shards (no allocation). */
static void reindex(lethe_sisa *m)
{
    size_t pos = 0;
    for (size_t s = 0; s < m->o.shards; s++) {
        m->base[s] = pos;
        memcpy(m->gid + pos, m->sh[s].id, m->sh[s].n * sizeof *m->gid);
        pos += m->sh[s].n;
    }
    m->base[m->o.shards] = pos;
    m->n = pos;
    lethe__idindex_build(&m->index, m->gid, pos);
}

void lethe_sisa_free(lethe_sisa *m)
{
    if (m == NULL)
        return;
    lethe_ctx *ctx = m->ctx;
    for (size_t s = 0; m->sh != NULL && s < m->o.shards; s++)
        shard_free(ctx, &m->sh[s]);
    lethe__free(ctx, m->sh);
    lethe__free(ctx, m->base);
    lethe__free(ctx, m->gid);
    lethe__idindex_free(ctx, &m->index);
    lethe__free(ctx, m);
}

static lethe_status check_options(lethe_ctx *ctx, const lethe_sisa_options *o, size_t n)
{
    if (o->shards == 0 || o->slices == 0 || o->shards > n || o->slices > ((size_t)1 << 20))
        return lethe__fail(ctx, LETHE_EINVAL, "sisa: %zu shards × %zu slices for %zu records "
                                              "(need 1 ≤ S ≤ n, 1 ≤ R ≤ 2^20)",
                           o->shards, o->slices, n);
    if ((unsigned)o->loss >= LETHE_LOSS_COUNT)
        return lethe__fail(ctx, LETHE_EINVAL, "sisa: unknown loss %d", (int)o->loss);
    if (!(o->lambda > 0.0) || !isfinite(o->lambda) || !(o->tol > 0.0) || !isfinite(o->tol) ||
        o->max_iter == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "sisa: λ and tol must be finite and > 0, "
                                              "max_iter ≥ 1");
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0018 */
lethe_status lethe_sisa_train(lethe_ctx *ctx, const lethe_dataset *data,
                              const lethe_sisa_options *opt, lethe_sisa **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (data == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "sisa: data, opt and out must not be NULL");
    *out = NULL;
    const size_t n = data->n, d = data->d, S = opt->shards, R = opt->slices;
    lethe_status st = check_options(ctx, opt, n);
    for (size_t i = 0; i < n && st == LETHE_OK; i++)
        if (!lethe__loss_label_ok(opt->loss, data->y[i]))
            st = lethe__fail(ctx, LETHE_ELABEL, "sisa: label %g of record %zu is not valid for "
                                                "%s", data->y[i], i, lethe_loss_name(opt->loss));
    if (st != LETHE_OK)
        return st;
    lethe_sisa *m = lethe__calloc(ctx, 1, sizeof *m);
    size_t *where = lethe__calloc(ctx, n, 2 * sizeof *where); /* (shard, slice) per record */
    size_t *count = lethe__calloc(ctx, S, (R + 1) * sizeof *count);
    if (m == NULL || where == NULL || count == NULL) {
        lethe__free(ctx, where);
        lethe__free(ctx, count);
        lethe__free(ctx, m);
        return lethe__fail(ctx, LETHE_ENOMEM, "sisa: no memory for %zu records", n);
    }
    m->ctx = ctx;
    m->o = *opt;
    m->d = d;
    m->sh = lethe__calloc(ctx, S, sizeof *m->sh);
    m->base = lethe__calloc(ctx, S + 1, sizeof *m->base);
    m->gid = lethe__calloc(ctx, n, sizeof *m->gid);
    st = m->sh == NULL || m->base == NULL || m->gid == NULL
             ? lethe__fail(ctx, LETHE_ENOMEM, "sisa: no memory for %zu shards", S)
             : lethe__idindex_alloc(ctx, &m->index, n);
    for (size_t i = 0; i < n && st == LETHE_OK; i++) {
        assign(opt, data->ids[i], &where[2 * i], &where[2 * i + 1]);
        count[where[2 * i] * (R + 1) + where[2 * i + 1] + 1]++;
    }
    for (size_t s = 0; s < S && st == LETHE_OK; s++) {
        size_t *c = count + s * (R + 1); /* c[r + 1]: rows of slice r; then offsets */
        for (size_t r = 0; r < R; r++)
            c[r + 1] += c[r];
        if (c[R] == 0)
            st = lethe__fail(ctx, LETHE_EEMPTY, "sisa: shard %zu received no record of %zu: "
                                                "use fewer shards", s, n);
        else
            st = shard_alloc(ctx, &m->sh[s], c[R], d, R);
        if (st == LETHE_OK)
            memcpy(m->sh[s].off, c, (R + 1) * sizeof *c);
    }
    /* rows slice by slice, in the order given (count's offsets as cursors) */
    for (size_t i = 0; i < n && st == LETHE_OK; i++) {
        shard *sh = &m->sh[where[2 * i]];
        size_t row = count[where[2 * i] * (R + 1) + where[2 * i + 1]]++;
        memcpy(sh->x + row * d, data->x + i * d, d * sizeof *sh->x);
        sh->y[row] = data->y[i];
        sh->id[row] = data->ids[i];
    }
    lethe__free(ctx, where);
    lethe__free(ctx, count);
    unsigned steps = 0;
    double dist = 0.0;
    for (size_t s = 0; s < S && st == LETHE_OK; s++)
        st = train_shard(ctx, opt, d, &m->sh[s], 0, &steps, &dist);
    if (st != LETHE_OK) {
        lethe_sisa_free(m);
        return st;
    }
    reindex(m);
    *out = m;
    return LETHE_OK;
}

/* Position of id in gid, or SIZE_MAX. */
static size_t find(const lethe_sisa *m, uint64_t id)
{
    return lethe__idindex_find(&m->index, id);
}

static size_t shard_of(const lethe_sisa *m, size_t pos)
{
    size_t s = 0;
    while (pos >= m->base[s + 1])
        s++;
    return s;
}

/* IMPLEMENTS: LTH-C-0018 */
lethe_status lethe_sisa_remove(lethe_sisa *m, const uint64_t *ids, size_t k,
                               lethe_sisa_report *rep)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe_ctx *ctx = m->ctx;
    lethe__clear(ctx);
    if (ids == NULL || k == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "sisa: no ids given");
    const size_t S = m->o.shards, R = m->o.slices, d = m->d;
    unsigned char *gone = lethe__calloc(ctx, m->n, 1);
    shard *fresh = lethe__calloc(ctx, S, sizeof *fresh);
    size_t *r0 = lethe__calloc(ctx, S, sizeof *r0), *left = lethe__calloc(ctx, S, sizeof *left);
    lethe_status st = gone == NULL || fresh == NULL || r0 == NULL || left == NULL
                          ? lethe__fail(ctx, LETHE_ENOMEM, "sisa: no memory for a removal")
                          : LETHE_OK;
    for (size_t s = 0; s < S && st == LETHE_OK; s++) {
        r0[s] = R; /* R: untouched */
        left[s] = m->sh[s].n;
    }
    for (size_t t = 0; t < k && st == LETHE_OK; t++) {
        size_t pos = find(m, ids[t]);
        if (pos == SIZE_MAX) {
            st = lethe__fail(ctx, LETHE_ENOTFOUND, "sisa: no record has id %llu",
                             (unsigned long long)ids[t]);
        } else if (gone[pos]) {
            st = lethe__fail(ctx, LETHE_EDUPLICATE, "sisa: id %llu appears twice in the batch",
                             (unsigned long long)ids[t]);
        } else {
            gone[pos] = 1;
            size_t s = shard_of(m, pos), row = pos - m->base[s], sl = 0;
            while (row >= m->sh[s].off[sl + 1])
                sl++;
            r0[s] = sl < r0[s] ? sl : r0[s];
            if (--left[s] == 0)
                st = lethe__fail(ctx, LETHE_ELAST, "sisa: the batch would leave shard %zu "
                                                   "without records", s);
        }
    }
    /* each affected shard rebuilt without the rows, then retrained */
    lethe_sisa_report rp = { .removed = k };
    double dist = 0.0;
    for (size_t s = 0; s < S && st == LETHE_OK; s++) {
        if (r0[s] == R)
            continue;
        const shard *old = &m->sh[s];
        st = shard_alloc(ctx, &fresh[s], left[s], d, R);
        if (st != LETHE_OK)
            break;
        size_t j = 0;
        for (size_t r = 0; r < R; r++) {
            fresh[s].off[r] = j;
            for (size_t row = old->off[r]; row < old->off[r + 1]; row++) {
                if (gone[m->base[s] + row])
                    continue;
                memcpy(fresh[s].x + j * d, old->x + row * d, d * sizeof *old->x);
                fresh[s].y[j] = old->y[row];
                fresh[s].id[j++] = old->id[row];
            }
        }
        fresh[s].off[R] = j;
        memcpy(fresh[s].W, old->W, R * d * sizeof *old->W);
        st = train_shard(ctx, &m->o, d, &fresh[s], r0[s], &rp.newton_steps, &dist);
        rp.shards_retrained++;
        rp.slices_retrained += R - r0[s];
        rp.distance = fmax(rp.distance, dist);
    }
    if (st == LETHE_OK) { /* commit: the old shards' rows are erased as they go */
        for (size_t s = 0; s < S; s++) {
            if (r0[s] == R)
                continue;
            sodium_memzero(m->sh[s].x, m->sh[s].n * d * sizeof *m->sh[s].x);
            sodium_memzero(m->sh[s].y, m->sh[s].n * sizeof *m->sh[s].y);
            sodium_memzero(m->sh[s].id, m->sh[s].n * sizeof *m->sh[s].id);
            shard_free(ctx, &m->sh[s]);
            m->sh[s] = fresh[s];
            memset(&fresh[s], 0, sizeof fresh[s]);
        }
        reindex(m);
        if (rep != NULL)
            *rep = rp;
    }
    for (size_t s = 0; fresh != NULL && s < S; s++)
        shard_free(ctx, &fresh[s]);
    lethe__free(ctx, fresh);
    lethe__free(ctx, gone);
    lethe__free(ctx, r0);
    lethe__free(ctx, left);
    return st;
}

lethe_status lethe_sisa_predict(const lethe_sisa *m, size_t n, const double *x, size_t ldx,
                                double *label, double *prob)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (x == NULL && n > 0)
        return lethe__fail(m->ctx, LETHE_EINVAL, "sisa: predict: x is NULL");
    if (ldx < m->d)
        return lethe__fail(m->ctx, LETHE_ESIZE, "sisa: predict: leading dimension %zu < %zu "
                                                "features", ldx, m->d);
    const size_t S = m->o.shards, R = m->o.slices, d = m->d;
    const int di = lethe__blas_int(d);
    const lethe_loss loss = m->o.loss;
    for (size_t i = 0; i < n; i++) {
        double mean = 0.0, votes = 0.0;
        for (size_t s = 0; s < S; s++) {
            double z = cblas_ddot(di, m->sh[s].W + (R - 1) * d, 1, x + i * ldx, 1);
            votes += z >= 0.0 ? 1.0 : -1.0;
            mean += (loss == LETHE_LOSS_LOGISTIC
                         ? (z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z)))
                         : z) /
                    (double)S;
        }
        double lab = loss == LETHE_LOSS_LOGISTIC       ? (mean >= 0.5 ? 1.0 : -1.0)
                     : loss == LETHE_LOSS_SMOOTH_HINGE ? (votes >= 0.0 ? 1.0 : -1.0)
                                                       : mean;
        if (label != NULL)
            label[i] = lab;
        if (prob != NULL)
            prob[i] = mean;
    }
    return LETHE_OK;
}

lethe_status lethe_sisa_evaluate(const lethe_sisa *m, const lethe_dataset *data, double *score)
{
    if (m == NULL)
        return LETHE_EINVAL;
    if (data == NULL || score == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "sisa: evaluate: data and score must not be "
                                                 "NULL");
    if (data->d != m->d)
        return lethe__fail(m->ctx, LETHE_ESIZE, "sisa: evaluate: %zu features, the model has "
                                                "%zu", data->d, m->d);
    double *label = lethe__calloc(m->ctx, data->n > 0 ? data->n : 1, sizeof *label);
    if (label == NULL)
        return lethe__fail(m->ctx, LETHE_ENOMEM, "sisa: evaluate: no memory");
    lethe_status st = lethe_sisa_predict(m, data->n, data->x, data->d, label, NULL);
    double acc = 0.0;
    for (size_t i = 0; i < data->n && st == LETHE_OK; i++) {
        double e = label[i] - data->y[i];
        acc += lethe_loss_is_classifier(m->o.loss) ? (fabs(e) < 0.5 ? 1.0 : 0.0) : e * e;
    }
    if (st == LETHE_OK)
        *score = data->n == 0                            ? NAN
                 : lethe_loss_is_classifier(m->o.loss) ? acc / (double)data->n
                                                         : sqrt(acc / (double)data->n);
    lethe__free(m->ctx, label);
    return st;
}

size_t lethe_sisa_rows(const lethe_sisa *m)
{
    return m != NULL ? m->n : 0;
}

int lethe_sisa_has_id(const lethe_sisa *m, uint64_t id)
{
    return m != NULL && find(m, id) != SIZE_MAX;
}

const double *lethe_sisa_shard_weights(const lethe_sisa *m, size_t s)
{
    if (m == NULL || s >= m->o.shards)
        return NULL;
    return m->sh[s].W + (m->o.slices - 1) * m->d;
}
