/*
 * The owner's state file and the public model file.
 *
 * State file (SECRET: it holds b, the seed and the retained data; mode 0600;
 * encrypted when the context holds an at-rest key, sfile.h). Only the live
 * rows are written, so n_rows = n_live in a file: removed records leave no
 * bytes in it.
 *   "LETHEST1" | u64 version, loss, d, n_rows, n_live, n_f, max_iter, seeded | f64 λ ε δ σ c ε' tol R ‖X‖₂-bound residual
 *   train_residual residual_bound ρ res_max | u64 removals removals_total refreshes
 *   rng_position | seed[32] | w[d] g[d] b[d] U[d·d] s_f[n] y[n] ids[n]
 *   alive[n] x[n·d] | BLAKE2b-256 of all preceding bytes.
 * Mechanism M3's state has the magic "LETHEM31" and the same layout, with
 *   u64 dp dp_min newton_extra releases fresh reanchors extra_steps n_unpub
 *   | f64 Δ_max ε_cap drift
 * right after the first eight u64, and pub[d] unpub[n_unpub] after x (b is
 * 0). Version 2 (both magics) then has the feature map:
 *   u64 mapped kind d_in dim | f64 γ bias | seed[32] identity[32]
 * (kind is the map's kind | its input transform << 8: 0 for the raw
 * records, so older files read the same)
 * (Ω and β are drawn again from the seed on load). σ, the sensitivity, the lattice and the budget are recomputed on
 * load, never trusted.
 * A one-vs-rest M3 model (K heads) has the magic "LETHEOV1" and holds the
 * records once:
 *   u64 version K d n loss max_iter seeded dp dp_min newton_extra releases
 *   fresh reanchors extra_steps n_unpub removals removals_total refreshes
 *   rng_position | the feature map (as version 2) | f64 λ ε δ tol R ‖X‖₂-bound
 *   Δ_max ε_cap train_residual res_max | seed[32] | classes[K] pub[K·d]
 *   unpub[n_unpub] ids[n] y[n] x[n·d] | per head: u64 n_f reanchors
 *   extra_steps | f64 residual residual_fp train_residual ρ res_max drift |
 *   θ[d] g[d] U[d·d] s_f[n]
 * with the heads' labels, their Δ_max and σ, the lattice and the budget
 * derived on load.
 * Integers and doubles are little-endian (doubles as their IEEE-754 bits).
 * Writes are atomic: a unique temporary file beside the target (mkstemp),
 * fsync, rename, fsync of the directory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"
#include "io/read.h"
#include "optim/dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "certify/m2.h"
#include "io/sfile.h"

#define MAGIC "LETHEST1"
#define MAGIC_M3 "LETHEM31"
#define MAGIC_OVR "LETHEOV1" /* a one-vs-rest M3 model (save_multi) */
#define VERSION_OVR 1u
#define VERSION 2u /* 2 adds the feature map; 1 (no map) still loads */
#define FEATURES_BYTES ((size_t)(6 * 8 + 2 * 32))

static lethe_pass gradient_pass(lethe_model *m);

/* The map's kind word: the kind, and the input transform above bit 8. */
static uint64_t map_word(const lethe_feature_map *p)
{
    return (uint64_t)p->kind | (uint64_t)p->input << 8;
}

/* Set p's kind and input transform from a kind word; 1 if both are known. */
static int read_map_word(uint64_t w, lethe_feature_map *p)
{
    const uint64_t kind = w & 0xff, input = w >> 8;
    if (kind > LETHE_FEATURES_DECLARED || input > LETHE_INPUT_SQRT)
        return 0;
    p->kind = (lethe_feature_kind)kind;
    p->input = (lethe_feature_input)input;
    return 1;
}

static void put_features(lethe_sfile *s, const lethe_model *m)
{
    const lethe_feature_map *fp = &m->fmap.p;
    const uint64_t hf[] = { (uint64_t)m->mapped, map_word(fp), m->fmap.d_in, fp->dim };
    for (size_t i = 0; i < sizeof hf / sizeof hf[0]; i++)
        lethe__sf_put_u64(s, hf[i]);
    const double pf[] = { fp->gamma, fp->bias };
    lethe__sf_put_f64s(s, pf, 2);
    lethe__sf_put_bytes(s, fp->seed, sizeof fp->seed);
    lethe__sf_put_bytes(s, fp->identity, sizeof fp->identity);
}

/* A one-vs-rest model: the records once, then each head's state. */
static lethe_status save_multi(lethe_model *P, const char *path)
{
    lethe_sfile s;
    lethe_status st = lethe__sfile_create(P->ctx, path, 0600, MAGIC_OVR, &s);
    if (st != LETHE_OK)
        return st;
    if (P->n_rows != P->n_live)
        lethe__multi_compact(P);
    const size_t d = P->d_row, n = P->n_rows, K = P->K;
    unsigned char seed[LETHE__SEED_BYTES] = { 0 };
    int seeded = lethe__rng_seed(P->rng, seed);
    const uint64_t head[] = { VERSION_OVR, K, d, n, (uint64_t)P->loss, P->max_iter,
                              (uint64_t)seeded, (uint64_t)P->dp, P->dp_min, P->newton_extra,
                              P->releases, (uint64_t)P->fresh, P->reanchors, P->extra_steps,
                              P->n_unpub, P->removals, P->removals_total, P->refreshes,
                              lethe__rng_position(P->rng) };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        lethe__sf_put_u64(&s, head[i]);
    put_features(&s, P);
    const double par[] = { P->lambda, P->epsilon, P->delta, P->tol, P->R, P->xnorm,
                           P->delta_max, P->eps_cap, P->train_residual, P->res_max };
    lethe__sf_put_f64s(&s, par, sizeof par / sizeof par[0]);
    lethe__sf_put_bytes(&s, seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    lethe__sf_put_f64s(&s, P->classes, K);
    lethe__sf_put_f64s(&s, P->pub, K * d);
    for (size_t i = 0; i < P->n_unpub; i++)
        lethe__sf_put_u64(&s, P->unpub[i]);
    for (size_t i = 0; i < n; i++)
        lethe__sf_put_u64(&s, P->ids[i]);
    lethe__sf_put_f64s(&s, P->y, n);
    lethe__sf_put_f64s(&s, P->x, n * d);
    for (size_t k = 0; k < K; k++) {
        const lethe_model *h = P->heads[k];
        const uint64_t hu[] = { h->n_f, h->reanchors, h->extra_steps };
        for (size_t i = 0; i < 3; i++)
            lethe__sf_put_u64(&s, hu[i]);
        const double hp[] = { h->residual, h->residual_fp, h->train_residual, h->rho,
                              h->res_max, h->drift };
        lethe__sf_put_f64s(&s, hp, 6);
        lethe__sf_put_f64s(&s, h->w, d);
        lethe__sf_put_f64s(&s, h->g, d);
        lethe__sf_put_f64s(&s, h->U, d * d);
        lethe__sf_put_f64s(&s, h->s_f, n);
    }
    return lethe__sfile_commit(&s);
}

lethe_status lethe_model_save(lethe_model *m, const char *path)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (path == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "save: path is NULL");
    if (m->K > 0)
        return save_multi(m, path);
    lethe_sfile s;
    const int m3 = m->mech == LETHE_MECH_M3;
    /* the state holds b (or θ), the seed and the data: owner only */
    lethe_status st = lethe__sfile_create(m->ctx, path, 0600, m3 ? MAGIC_M3 : MAGIC, &s);
    if (st != LETHE_OK)
        return st;
    /* Only the live rows are written: a removed record's bytes never reach
     * the file (in memory they were zeroed at removal). Compacting first
     * makes the model in memory the one a load gives back, row order and
     * therefore every later rounding included. */
    if (m->n_rows != m->n_live) {
        lethe__model_compact(m);
        /* the sums over the new row order, as a load will compute them */
        lethe_pass pass = gradient_pass(m);
        memcpy(m->g, m->g2, m->d * sizeof *m->g);
        m->residual = pass.residual;
        m->residual_fp = pass.fp_error;
    }
    const size_t d = m->d, n = m->n_rows;
    unsigned char seed[LETHE__SEED_BYTES] = { 0 };
    int seeded = lethe__rng_seed(m->rng, seed);
    const uint64_t head[] = { VERSION, (uint64_t)m->loss, d, n, m->n_live, m->n_f, m->max_iter,
                              (uint64_t)seeded };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        lethe__sf_put_u64(&s, head[i]);
    if (m3) {
        const uint64_t h3[] = { (uint64_t)m->dp, m->dp_min, m->newton_extra, m->releases,
                                (uint64_t)m->fresh, m->reanchors, m->extra_steps, m->n_unpub };
        for (size_t i = 0; i < sizeof h3 / sizeof h3[0]; i++)
            lethe__sf_put_u64(&s, h3[i]);
        const double p3[] = { m->delta_max, m->eps_cap, m->drift };
        lethe__sf_put_f64s(&s, p3, 3);
    }
    put_features(&s, m);
    const double par[] = { m->lambda, m->epsilon, m->delta, m->sigma, m->c,
                           lethe__budget_at(m, m->n_live), m->tol,
                           m->R, m->xnorm, m->residual, m->train_residual, m->residual_bound,
                           m->rho, m->res_max };
    lethe__sf_put_f64s(&s, par, sizeof par / sizeof par[0]);
    lethe__sf_put_u64(&s, m->removals);
    lethe__sf_put_u64(&s, m->removals_total);
    lethe__sf_put_u64(&s, m->refreshes);
    lethe__sf_put_u64(&s, lethe__rng_position(m->rng));
    lethe__sf_put_bytes(&s, seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    lethe__sf_put_f64s(&s, m->w, d);
    lethe__sf_put_f64s(&s, m->g, d);
    lethe__sf_put_f64s(&s, m->b, d);
    lethe__sf_put_f64s(&s, m->U, d * d);
    lethe__sf_put_f64s(&s, m->s_f, n);
    lethe__sf_put_f64s(&s, m->y, n);
    for (size_t i = 0; i < n; i++)
        lethe__sf_put_u64(&s, m->ids[i]);
    lethe__sf_put_bytes(&s, m->alive, n);
    lethe__sf_put_f64s(&s, m->x, n * d);
    if (m3) {
        lethe__sf_put_f64s(&s, m->pub, d);
        for (size_t i = 0; i < m->n_unpub; i++)
            lethe__sf_put_u64(&s, m->unpub[i]);
    }
    return lethe__sfile_commit(&s);
}

#define bad lethe__sfile_bad

/* A Cholesky factor read from a file: finite upper triangle, positive diagonal. */
static const char *factor_problem(const double *U, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        if (!(U[j * d + j] > 0.0))
            return "a singular factor";
        for (size_t k = j; k < d; k++)
            if (!isfinite(U[j * d + k]))
                return "non-finite factor";
    }
    return NULL;
}

/* Check what the checksum cannot: that the fields make a consistent model.
 * (The checksum is not keyed: these checks are the defence against a file
 * edited by hand or written by other software.) */
static const char *validate(const lethe_model *m)
{
    if (!isfinite(m->R) || !(m->R >= 0.0) || !(m->xnorm >= 0.0) || !isfinite(m->xnorm))
        return "norm bounds out of range";
    size_t live = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        if (m->alive[i] > ROW_LIVE)
            return "bad row state";
        if (m->alive[i] == ROW_LIVE) {
            live++;
            if (!lethe__loss_label_ok(m->loss, m->y[i]) || !(m->s_f[i] >= 0.0))
                return "bad label or curvature";
        }
    }
    if (live != m->n_live || live == 0 || m->n_f < live)
        return "row counts disagree";
    for (size_t j = 0; j < m->d; j++)
        if (!isfinite(m->w[j]) || !isfinite(m->g[j]) || !isfinite(m->b[j]))
            return "non-finite weights";
    const char *why = factor_problem(m->U, m->d);
    if (why != NULL)
        return why;
    double max_norm = 0.0;
    for (size_t i = 0; i < m->n_rows; i++) {
        double s2 = 0.0;
        for (size_t j = 0; j < m->d; j++) {
            double v = m->x[i * m->d + j];
            if (!isfinite(v))
                return "non-finite data";
            s2 += v * v;
        }
        if (m->alive[i] == ROW_LIVE)
            max_norm = fmax(max_norm, sqrt(s2));
        if (!isfinite(m->s_f[i]))
            return "non-finite curvature";
    }
    /* ‖X‖₂ is at least the longest row; R bounds every row (with rounding room) */
    if (m->xnorm < max_norm * (1.0 - 1e-12) || m->R < max_norm * (1.0 - 1e-12))
        return "norm bounds below the data";
    if (!(m->residual >= 0.0) || !(m->train_residual >= 0.0) || !(m->residual_bound >= 0.0) ||
        !(m->res_max >= 0.0) || isnan(m->rho))
        return "bad accountant";
    if (m->removals > m->removals_total)
        return "bad removal counts";
    if (m->mech == LETHE_MECH_M3) {
        if (!(m->delta_max > 0.0) || !isfinite(m->delta_max) || !(m->eps_cap >= 0.0) ||
            !isfinite(m->eps_cap) || !(m->drift >= 0.0) || !isfinite(m->drift))
            return "M3 parameters out of range";
        if (m->releases == 0 || (m->dp && m->dp_min == 0) || (!m->dp && m->dp_min != 0))
            return "M3 counters out of range";
        for (size_t j = 0; j < m->d; j++)
            if (!isfinite(m->pub[j]) || !lethe__is_zero(m->b[j]))
                return "bad release or a noise term in an M3 state";
    }
    return NULL;
}

/* M3: the unpublished ids were removed (none is a live id) and are distinct. */
static lethe_status check_unpublished(lethe_ctx *ctx, const char *path, const lethe_model *m)
{
    for (size_t i = 0; i < m->n_unpub; i++)
        if (lethe__model_find(m, m->unpub[i]) != SIZE_MAX)
            return bad(ctx, path, "an unpublished removal names a live record");
    if (m->n_unpub < 2)
        return LETHE_OK;
    uint64_t dup = 0;
    lethe_status st = lethe__ids_distinct(ctx, m->unpub, m->n_unpub, &dup);
    return st == LETHE_EDUPLICATE ? bad(ctx, path, "duplicate unpublished ids") : st;
}

/* The parameters pass the checks training applies (ε ≤ 1, the tolerance
 * inside the budget, …); c and the budget are recomputed, never trusted. */
static lethe_status check_params(lethe_ctx *ctx, const char *path, lethe_model *m)
{
    if (m->mech == LETHE_MECH_M3) {
        /* as training checks them; σ, the lattice and the budget recomputed */
        double stop = m->tol * fmax(1.0, m->lambda * (double)m->n_live);
        if (!(m->lambda > 0.0) || !isfinite(m->lambda) || !(m->epsilon > 0.0) ||
            !isfinite(m->epsilon) || !(m->delta > 0.0 && m->delta < 1.0) || !(m->tol > 0.0) ||
            m->max_iter == 0 || !(stop <= m->lambda * (double)m->n_live * m->delta_max / 10.0) ||
            (m->dp && !isfinite(m->k.grad_bound)))
            return bad(ctx, path, "M3 parameters out of range");
        if (lethe__m3_calibrate(m) != LETHE_OK) {
            char why[LETHE__ERRMSG_CAP];
            snprintf(why, sizeof why, "parameters out of range: %s", lethe_ctx_errmsg(ctx));
            return bad(ctx, path, why);
        }
        m->c = NAN;
        return LETHE_OK;
    }
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.loss = m->loss;
    o.lambda = m->lambda;
    o.epsilon = m->epsilon;
    o.delta = m->delta;
    o.sigma = m->sigma;
    o.tol = m->tol;
    o.max_iter = m->max_iter;
    if (!(m->sigma > 0.0))
        return bad(ctx, path, "σ out of range");
    double sigma, budget;
    if (lethe__model_params(ctx, &o, m->n_live, m->d, &sigma, &budget) != LETHE_OK) {
        char why[LETHE__ERRMSG_CAP];
        snprintf(why, sizeof why, "parameters out of range: %s", lethe_ctx_errmsg(ctx));
        return bad(ctx, path, why);
    }
    m->c = lethe__m1_c(m->delta, m->d);
    m->budget = budget;
    return LETHE_OK;
}

/* The exact gradient at w on the live rows, into m->g2 (one O(nd) pass). */
static lethe_pass gradient_pass(lethe_model *m)
{
    const size_t d = m->d;
    memcpy(m->w2, m->w, d * sizeof *m->w2);
    memset(m->p, 0, d * sizeof *m->p);
    memset(m->v, 0, d * sizeof *m->v);
    lethe_pass pass;
    lethe__residual_pass(m, m->b, m->w2, m->p, m->v, &pass);
    return pass;
}

/* Recompute the exact gradient at w on the live rows (one O(nd) pass): it
 * must agree with the stored one, and the residual must be within budget. */
static lethe_status recheck_residual(lethe_ctx *ctx, const char *path, lethe_model *m)
{
    const size_t d = m->d;
    lethe_pass pass = gradient_pass(m);
    double diff = 0.0;
    for (size_t j = 0; j < d; j++)
        diff += (m->g2[j] - m->g[j]) * (m->g2[j] - m->g[j]);
    if (!(sqrt(diff) <= 2.0 * pass.fp_error + 1e-12))
        return bad(ctx, path, "the stored gradient does not match the data and weights");
    if (!(pass.residual + pass.fp_error <= lethe__budget_at(m, m->n_live)))
        return bad(ctx, path, "the residual exceeds the budget");
    memcpy(m->g, m->g2, d * sizeof *m->g);
    m->residual = pass.residual;
    m->residual_fp = pass.fp_error;
    return LETHE_OK;
}

/* 1 if path may hold a one-vs-rest model: its magic says so, or it is
 * encrypted (the magic inside tells). */
static int maybe_ovr(const char *path)
{
    char magic[LETHE__SFILE_MAGIC_BYTES];
    FILE *f = fopen(path, "rb");
    size_t got = f != NULL ? fread(magic, 1, sizeof magic, f) : 0;
    if (f != NULL)
        fclose(f);
    return got == sizeof magic && (memcmp(magic, MAGIC_OVR, sizeof magic) == 0 ||
                                   memcmp(magic, "LETHEENC", sizeof magic) == 0);
}

/* The one-vs-rest model of s (opened with MAGIC_OVR, payload bytes): every
 * size checked against the file before anything is allocated, the fields
 * checked as a trained model's, each head's gradient recomputed from the
 * records and compared, σ and the budget derived. */
static lethe_status load_multi(lethe_ctx *ctx, const char *path, lethe_sfile *s,
                               long long payload, lethe_model **out)
{
    uint64_t h[19];
    for (size_t i = 0; i < 19; i++)
        h[i] = lethe__sf_get_u64(s);
    uint64_t hf[4];
    for (size_t i = 0; i < 4; i++)
        hf[i] = lethe__sf_get_u64(s);
    double pf[2], par[10];
    lethe__sf_get_f64s(s, pf, 2);
    lethe_feature_map fp;
    memset(&fp, 0, sizeof fp);
    lethe__sf_get_bytes(s, fp.seed, sizeof fp.seed);
    lethe__sf_get_bytes(s, fp.identity, sizeof fp.identity);
    lethe__sf_get_f64s(s, par, 10);
    unsigned char seed[LETHE__SEED_BYTES];
    lethe__sf_get_bytes(s, seed, sizeof seed);
    const uint64_t K = h[1], d = h[2], n = h[3], n_unpub = h[14];
    if (s->err)
        return bad(ctx, path, "truncated header");
    if (h[0] != VERSION_OVR)
        return lethe__fail(ctx, LETHE_EFORMAT, "load: %s: format version %llu, expected %u",
                           path, (unsigned long long)h[0], VERSION_OVR);
    if (K < 3 || K > 1024 || d == 0 || n < 2 || h[4] >= LETHE_LOSS_COUNT ||
        !lethe_loss_is_classifier((lethe_loss)h[4]) || h[5] == 0 || h[5] > UINT32_MAX ||
        h[6] > 1 || h[7] > 1 || h[9] > UINT32_MAX || h[10] == 0 || h[11] > 1 ||
        n_unpub > n * 4 || hf[0] > 1 || !read_map_word(hf[1], &fp) ||
        !lethe__fits_blas((size_t)(K * d)) || !lethe__fits_blas((size_t)n) ||
        d > ((uint64_t)1 << 24) || n > ((uint64_t)1 << 40))
        return bad(ctx, path, "header field out of range");
    /* the magic, 19 + 4 u64, 2 + 10 f64, 2·32 + 32 bytes; then the arrays */
    size_t fixed = LETHE__SFILE_MAGIC_BYTES + 23 * 8 + 12 * 8 + 96, need = 0;
    size_t dd = (size_t)(d * d), nd = (size_t)(n * d);
    need = (size_t)(K + K * d + n_unpub + n + n + nd) * 8 +
           (size_t)K * (9 * 8 + (2 * (size_t)d + dd + (size_t)n) * 8);
    if ((long long)(fixed + need) != payload)
        return bad(ctx, path, "size does not match the header (truncated or oversized)");
    lethe_model *P = NULL;
    lethe_status st = lethe__multi_alloc(ctx, (size_t)n, (size_t)d, (size_t)K, &P);
    if (st != LETHE_OK)
        return st;
    if (n_unpub > P->unpub_cap) {
        lethe__free(ctx, P->unpub);
        P->unpub_cap = (size_t)n_unpub;
        P->unpub = lethe__calloc(ctx, P->unpub_cap, sizeof *P->unpub);
        if (P->unpub == NULL) {
            lethe__model_destroy(P);
            return lethe__fail(ctx, LETHE_ENOMEM, "load: no memory for the unpublished ids");
        }
    }
    P->mech = LETHE_MECH_M3;
    P->loss = (lethe_loss)h[4];
    P->max_iter = (unsigned)h[5];
    P->dp = (int)h[7];
    P->dp_min = (size_t)h[8];
    P->newton_extra = (unsigned)h[9];
    P->releases = (size_t)h[10];
    P->fresh = (int)h[11];
    P->reanchors = (size_t)h[12];
    P->extra_steps = (size_t)h[13];
    P->n_unpub = (size_t)n_unpub;
    P->removals = (size_t)h[15];
    P->removals_total = (size_t)h[16];
    P->refreshes = (size_t)h[17];
    P->lambda = par[0];
    P->epsilon = par[1];
    P->delta = par[2];
    P->tol = par[3];
    P->R = par[4];
    P->xnorm = par[5];
    P->delta_max = par[6];
    P->eps_cap = par[7];
    P->train_residual = par[8];
    P->res_max = par[9];
    P->n_live = (size_t)n;
    P->rho = NAN;
    P->c = NAN;
    lethe__sf_get_f64s(s, P->classes, (size_t)K);
    lethe__sf_get_f64s(s, P->pub, (size_t)(K * d));
    for (size_t i = 0; i < P->n_unpub && !s->err; i++)
        P->unpub[i] = lethe__sf_get_u64(s);
    for (size_t i = 0; i < n && !s->err; i++)
        P->ids[i] = lethe__sf_get_u64(s);
    lethe__sf_get_f64s(s, P->y, (size_t)n);
    lethe__sf_get_f64s(s, P->x, nd);
    memset(P->alive, ROW_LIVE, (size_t)n);
    for (size_t k = 0; k < K; k++) {
        lethe_model *hd = P->heads[k];
        hd->n_f = (size_t)lethe__sf_get_u64(s);
        hd->reanchors = (size_t)lethe__sf_get_u64(s);
        hd->extra_steps = (size_t)lethe__sf_get_u64(s);
        double hp[6];
        lethe__sf_get_f64s(s, hp, 6);
        hd->residual = hp[0];
        hd->residual_fp = hp[1];
        hd->train_residual = hp[2];
        hd->rho = hp[3];
        hd->res_max = hp[4];
        hd->drift = hp[5];
        lethe__sf_get_f64s(s, hd->w, (size_t)d);
        lethe__sf_get_f64s(s, hd->g, (size_t)d);
        lethe__sf_get_f64s(s, hd->U, dd);
        lethe__sf_get_f64s(s, hd->s_f, (size_t)n);
    }
    st = lethe__sfile_verify(s);
    const char *why = NULL;
    /* the classes: finite, strictly increasing; every label one of them */
    for (size_t k = 0; st == LETHE_OK && why == NULL && k < K; k++)
        if (!isfinite(P->classes[k]) || (k > 0 && !(P->classes[k] > P->classes[k - 1])))
            why = "classes out of order";
    for (size_t i = 0; st == LETHE_OK && why == NULL && i < n; i++) {
        size_t k = 0;
        while (k < K && (P->y[i] < P->classes[k] || P->y[i] > P->classes[k]))
            k++;
        double s2 = 0.0;
        for (size_t j = 0; j < d; j++)
            s2 += P->x[i * d + j] * P->x[i * d + j];
        if (k == K)
            why = "a label is none of the classes";
        else if (!isfinite(s2) || sqrt(s2) > P->R * (1.0 + 1e-12) ||
                 sqrt(s2) > P->xnorm * (1.0 + 1e-12))
            why = "a record beyond the norm bounds";
    }
    for (size_t j = 0; st == LETHE_OK && why == NULL && j < K * d; j++)
        if (!isfinite(P->pub[j]) || !isfinite(P->w[j]))
            why = "non-finite weights";
    if (st == LETHE_OK && why == NULL &&
        (!(P->R > 0.0) || !isfinite(P->R) || !isfinite(P->xnorm) || !(P->delta_max > 0.0) ||
         !isfinite(P->delta_max) || !(P->eps_cap >= 0.0) || !isfinite(P->eps_cap) ||
         (P->dp && P->dp_min == 0) || (!P->dp && P->dp_min != 0) ||
         P->removals > P->removals_total))
        why = "parameters out of range";
    for (size_t k = 0; st == LETHE_OK && why == NULL && k < K; k++) {
        const lethe_model *hd = P->heads[k];
        why = factor_problem(hd->U, (size_t)d);
        for (size_t i = 0; why == NULL && i < n; i++)
            if (!(hd->s_f[i] >= 0.0) || !isfinite(hd->s_f[i]))
                why = "bad curvature";
        if (why == NULL && (hd->n_f < n || !(hd->drift >= 0.0) || !isfinite(hd->drift)))
            why = "a head's counters out of range";
    }
    uint64_t dup = 0;
    if (st == LETHE_OK && why == NULL &&
        (st = lethe__ids_distinct(ctx, P->ids, (size_t)n, &dup)) == LETHE_EDUPLICATE)
        why = "duplicate ids";
    if (st == LETHE_OK && why != NULL)
        st = bad(ctx, path, why);
    if (st == LETHE_OK) {
        lethe_loss_get_constants(P->loss, P->R, &P->k);
        P->k.grad_bound *= sqrt((double)K) * (1.0 + 0x1p-50);
        st = check_params(ctx, path, P); /* σ for K·d weights */
        /* and the solver's stop inside each head's share, as training checks it */
        const double stop = P->tol * fmax(1.0, P->lambda * (double)P->n_live);
        if (st == LETHE_OK && !(stop <= P->lambda * (double)P->n_live * P->delta_max /
                                             (10.0 * sqrt((double)K))))
            st = bad(ctx, path, "the tolerance is too loose for each head's share of Δ_max");
    }
    if (st == LETHE_OK) {
        lethe__idindex_build(&P->index, P->ids, (size_t)n);
        lethe__multi_heads_setup(P);
        for (size_t k = 0; k < K && st == LETHE_OK; k++)
            st = recheck_residual(ctx, path, P->heads[k]);
    }
    if (st == LETHE_OK)
        st = check_unpublished(ctx, path, P);
    if (st == LETHE_OK && hf[0]) {
        fp.dim = (size_t)hf[3];
        fp.gamma = pf[0];
        fp.bias = pf[1];
        st = lethe__fmap_init(ctx, &fp, (size_t)hf[2], &P->fmap);
        if (st == LETHE_OK && P->fmap.d_out != d)
            st = bad(ctx, path, "the feature map's width is not the model's");
        else if (st == LETHE_EINVAL)
            st = bad(ctx, path, "feature map parameters out of range");
        P->mapped = st == LETHE_OK;
    }
    if (st == LETHE_OK) {
        lethe__multi_combine(P);
        st = lethe__rng_create_at(h[6] ? seed : NULL, h[6] ? h[18] : 0, &P->rng);
        if (st != LETHE_OK)
            st = lethe__fail(ctx, st, "load: no memory for the noise source");
    }
    sodium_memzero(seed, sizeof seed);
    if (st != LETHE_OK) {
        lethe__model_destroy(P);
        return st;
    }
    *out = P;
    return LETHE_OK;
}

lethe_status lethe_model_load(lethe_ctx *ctx, const char *path, lethe_model **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "load: path and out must not be NULL");
    lethe_sfile s;
    long long payload = 0;
    lethe_mechanism mech = LETHE_MECH_M1;
    lethe_status st = lethe_state_mechanism(ctx, path, &mech);
    if (st != LETHE_OK)
        return st;
    if (mech == LETHE_MECH_M2)
        return lethe__fail(ctx, LETHE_EFORMAT, "load: %s holds an M2 state (lethe_m2_load)",
                           path);
    if (mech == LETHE_MECH_M3 && maybe_ovr(path) &&
        lethe__sfile_open(ctx, path, MAGIC_OVR, &s, &payload) == LETHE_OK) {
        lethe_model *P = NULL;
        st = load_multi(ctx, path, &s, payload, &P);
        lethe__sfile_close(&s);
        if (st == LETHE_OK)
            *out = P;
        return st;
    }
    lethe__clear(ctx);
    const int m3 = mech == LETHE_MECH_M3;
    st = lethe__sfile_open(ctx, path, m3 ? MAGIC_M3 : MAGIC, &s, &payload);
    if (st != LETHE_OK)
        return st;
    lethe_model *m = NULL;
    uint64_t version = lethe__sf_get_u64(&s), loss = lethe__sf_get_u64(&s);
    uint64_t d = lethe__sf_get_u64(&s), n = lethe__sf_get_u64(&s);
    uint64_t n_live = lethe__sf_get_u64(&s), n_f = lethe__sf_get_u64(&s);
    uint64_t max_iter = lethe__sf_get_u64(&s), seeded = lethe__sf_get_u64(&s);
    uint64_t h3[8] = { 0 };
    double p3[3] = { 0.0, 0.0, 0.0 };
    if (m3) {
        for (size_t i = 0; i < 8; i++)
            h3[i] = lethe__sf_get_u64(&s);
        lethe__sf_get_f64s(&s, p3, 3);
    }
    const uint64_t n_unpub = h3[7];
    uint64_t hf[4] = { 0 };
    lethe_feature_map fp;
    memset(&fp, 0, sizeof fp);
    if (version == VERSION) {
        for (size_t i = 0; i < 4; i++)
            hf[i] = lethe__sf_get_u64(&s);
        double pf[2];
        lethe__sf_get_f64s(&s, pf, 2);
        fp.dim = (size_t)hf[3];
        fp.gamma = pf[0];
        fp.bias = pf[1];
        lethe__sf_get_bytes(&s, fp.seed, sizeof fp.seed);
        lethe__sf_get_bytes(&s, fp.identity, sizeof fp.identity);
    }
    if (s.err) {
        st = bad(ctx, path, "truncated header");
        goto done;
    }
    if (version != VERSION && version != 1) {
        st = lethe__fail(ctx, LETHE_EFORMAT, "load: %s: format version %llu, expected 1 or %u",
                         path, (unsigned long long)version, VERSION);
        goto done;
    }
    if (hf[0] > 1 || !read_map_word(hf[1], &fp) || hf[2] > SIZE_MAX / 8 ||
        hf[3] > SIZE_MAX / 8) {
        st = bad(ctx, path, "feature map field out of range");
        goto done;
    }
    if (loss >= LETHE_LOSS_COUNT || d == 0 || n == 0 || seeded > 1 || max_iter > UINT32_MAX ||
        !lethe__fits_blas((size_t)d) || !lethe__fits_blas((size_t)n) || h3[0] > 1 ||
        h3[2] > UINT32_MAX || h3[4] > 1 || n_unpub > SIZE_MAX / 16 - n) {
        st = bad(ctx, path, "header field out of range");
        goto done;
    }
    /* the sizes must match the file exactly before anything is allocated */
    const size_t fixed = 8 + 8 * 8 + 14 * 8 + 4 * 8 + LETHE__SEED_BYTES + (m3 ? (size_t)88 : 0) +
                         (version == VERSION ? FEATURES_BYTES : (size_t)0);
    size_t dd, nd, need;
    if (!lethe__mul_size(d, d, &dd) || !lethe__mul_size(n, d, &nd) ||
        (need = 3 * d + dd + 3 * n + nd + (m3 ? d + (size_t)n_unpub : 0)) < dd ||
        need > SIZE_MAX / 8 ||
        (long long)(fixed + need * 8 + n) != payload) {
        st = bad(ctx, path, "size does not match the header (truncated or oversized)");
        goto done;
    }
    st = lethe__model_alloc(ctx, (size_t)n, (size_t)d, &m);
    if (st != LETHE_OK)
        goto done;
    if (m3) {
        /* room for the unpublished ids and for every removal still possible */
        lethe__free(ctx, m->unpub);
        m->unpub_cap = (size_t)n + (size_t)n_unpub;
        m->unpub = lethe__calloc(ctx, m->unpub_cap, sizeof *m->unpub);
        if (m->unpub == NULL) {
            st = lethe__fail(ctx, LETHE_ENOMEM, "load: no memory for %llu ids",
                             (unsigned long long)n_unpub);
            goto done;
        }
    }
    m->mech = mech;
    m->dp = (int)h3[0];
    m->dp_min = (size_t)h3[1];
    m->newton_extra = (unsigned)h3[2];
    m->releases = (size_t)h3[3];
    m->fresh = (int)h3[4];
    m->reanchors = (size_t)h3[5];
    m->extra_steps = (size_t)h3[6];
    m->n_unpub = (size_t)n_unpub;
    m->delta_max = p3[0];
    m->eps_cap = p3[1];
    m->drift = p3[2];
    m->loss = (lethe_loss)loss;
    m->n_live = (size_t)n_live;
    m->n_f = (size_t)n_f;
    m->max_iter = (unsigned)max_iter;
    double par[14];
    lethe__sf_get_f64s(&s, par, 14);
    m->lambda = par[0];
    m->epsilon = par[1];
    m->delta = par[2];
    m->sigma = par[3];
    m->tol = par[6];
    m->R = par[7];
    m->xnorm = par[8];
    m->residual = par[9];
    m->train_residual = par[10];
    m->residual_bound = par[11];
    m->rho = par[12];
    m->res_max = par[13];
    m->removals = (size_t)lethe__sf_get_u64(&s);
    m->removals_total = (size_t)lethe__sf_get_u64(&s);
    m->refreshes = (size_t)lethe__sf_get_u64(&s);
    uint64_t pos = lethe__sf_get_u64(&s);
    unsigned char seed[LETHE__SEED_BYTES];
    lethe__sf_get_bytes(&s, seed, sizeof seed);
    lethe__sf_get_f64s(&s, m->w, d);
    lethe__sf_get_f64s(&s, m->g, d);
    lethe__sf_get_f64s(&s, m->b, d);
    lethe__sf_get_f64s(&s, m->U, dd);
    lethe__sf_get_f64s(&s, m->s_f, n);
    lethe__sf_get_f64s(&s, m->y, n);
    for (size_t i = 0; i < n && !s.err; i++)
        m->ids[i] = lethe__sf_get_u64(&s);
    lethe__sf_get_bytes(&s, m->alive, n);
    lethe__sf_get_f64s(&s, m->x, nd);
    if (m3) {
        lethe__sf_get_f64s(&s, m->pub, d);
        for (size_t i = 0; i < m->n_unpub && !s.err; i++)
            m->unpub[i] = lethe__sf_get_u64(&s);
    }
    st = lethe__sfile_verify(&s);
    if (st == LETHE_OK) {
        const char *why = validate(m);
        uint64_t dup = 0;
        if (why != NULL)
            st = bad(ctx, path, why);
        else if ((st = lethe__ids_distinct(ctx, m->ids, m->n_rows, &dup)) != LETHE_OK)
            st = st == LETHE_EDUPLICATE ? bad(ctx, path, "duplicate ids") : st;
    }
    if (st == LETHE_OK) {
        lethe_loss_get_constants(m->loss, m->R, &m->k);
        st = check_params(ctx, path, m);
    }
    if (st == LETHE_OK) {
        lethe__model_index(m);
        st = recheck_residual(ctx, path, m);
    }
    if (st == LETHE_OK && m3)
        st = check_unpublished(ctx, path, m);
    if (st == LETHE_OK && hf[0]) { /* the map, drawn again from its seed */
        st = lethe__fmap_init(ctx, &fp, (size_t)hf[2], &m->fmap);
        if (st == LETHE_OK && m->fmap.d_out != m->d)
            st = bad(ctx, path, "the feature map's width is not the model's");
        else if (st == LETHE_EINVAL)
            st = bad(ctx, path, "feature map parameters out of range");
        m->mapped = st == LETHE_OK;
    }
    if (st == LETHE_OK) {
        st = lethe__rng_create_at(seeded ? seed : NULL, seeded ? pos : 0, &m->rng);
        if (st != LETHE_OK)
            st = lethe__fail(ctx, st, "load: no memory for the noise source");
    }
    sodium_memzero(seed, sizeof seed);
done:
    lethe__sfile_close(&s);
    if (st != LETHE_OK) {
        lethe_model_free(m);
        return st;
    }
    *out = m;
    return LETHE_OK;
}

/* The publishable model as text: what a user needs to use and judge it,
 * nothing secret, and no counters (they depend on b through refusals). */
/* The public model file: the mechanism, loss, parameters, the feature map
 * (map NULL: none, on d inputs) as lethe_features_describe writes it and
 * its hash, then the weights. */
static lethe_status write_public(lethe_ctx *ctx, const char *path, const char *mechanism,
                                 const char *loss, size_t d, double lambda, double epsilon,
                                 double delta, double sigma, int seeded, const double *w,
                                 const lethe_feature_map *map, size_t d_in, size_t K,
                                 const double *classes)
{
    lethe_feature_map none;
    memset(&none, 0, sizeof none);
    char text[LETHE_FEATURES_TEXT_MAX], hash[65];
    if (lethe_features_describe(map != NULL ? map : &none, map != NULL ? d_in : d, text,
                                hash) != LETHE_OK)
        return lethe__fail(ctx, LETHE_EINVAL, "save_public: the feature map is out of range");
    lethe_sfile s;
    lethe_status st = lethe__sfile_create(ctx, path, 0644, NULL, &s);
    if (st != LETHE_OK)
        return st;
    int ok = fprintf(s.f,
                     "lethe-public-model 1\nmechanism %s\nloss %s\nd %zu\nlambda %.17g\n"
                     "epsilon %.17g\ndelta %.17g\nsigma %.17g\nsampler %s\nseeded %d\n"
                     "features %s\nfeatures_hash %s\nclasses %zu\n",
                     mechanism, loss, d, lambda, epsilon, delta, sigma, LETHE__SAMPLER_NAME,
                     seeded, text, hash, K < 2 ? (size_t)1 : K) >= 0;
    /* one-vs-rest: the class of each block of d/K weights, in order */
    if (ok && K > 1) {
        ok = fputs("class_labels", s.f) >= 0;
        for (size_t k = 0; k < K && ok; k++)
            ok = fprintf(s.f, " %.17g", classes[k]) >= 0;
        ok = ok && fputc('\n', s.f) != EOF;
    }
    ok = ok && fputs("weights\n", s.f) >= 0;
    for (size_t j = 0; j < d && ok; j++)
        ok = fprintf(s.f, "%.17g\n", w[j]) >= 0;
    if (!ok) {
        lethe__sfile_abort(&s);
        return lethe__fail(ctx, LETHE_EIO, "save_public: cannot write %s", path);
    }
    return lethe__sfile_commit(&s);
}

lethe_status lethe_model_save_public(lethe_model *m, const char *path)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (path == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "save_public: path is NULL");
    if (m->mech == LETHE_MECH_M3)
        return write_public(m->ctx, path, "M3 noise-free state, fresh lattice release",
                            lethe_loss_name(m->loss), m->d,
                            m->lambda, m->epsilon, m->delta, m->sigma,
                            lethe__rng_seeded(m->rng), m->pub, lethe_model_features(m),
                            lethe_model_input_dim(m), m->K, m->classes);
    return write_public(m->ctx, path, "M1 loss-perturbation (Guo et al. 2020)",
                        lethe_loss_name(m->loss), m->d, m->lambda,
                        m->epsilon, m->delta, m->sigma, lethe__rng_seeded(m->rng), m->w,
                        lethe_model_features(m), lethe_model_input_dim(m), (size_t)1, NULL);
}

/* ─── Mechanism M2 ───────────────────────────────────────────────────────
 * "LETHEM21" | u64 version, n, d, capacity, used, seeded, rng_position |
 * f64 λ ε δ R train_residual tol | seed[32] | key[32] | w*[d] U[d·d] G[d] w̄[d]
 * w_pub[d] | ids[n] | removed[n] | digest[n·16] | BLAKE2b-256.
 * γ, the sensitivity and σ are recomputed on load, never trusted. */
#define MAGIC_M2 "LETHEM21"

lethe_status lethe_m2_save(lethe_m2 *m, const char *path)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (path == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "save: path is NULL");
    lethe_sfile s;
    lethe_status st = lethe__sfile_create(m->ctx, path, 0600, MAGIC_M2, &s);
    if (st != LETHE_OK)
        return st;
    const size_t d = m->d, n = m->n;
    unsigned char seed[LETHE__SEED_BYTES] = { 0 };
    int seeded = lethe__rng_seed(m->rng, seed);
    const uint64_t head[] = { VERSION, n, d, m->capacity, m->used, (uint64_t)seeded,
                              lethe__rng_position(m->rng) };
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        lethe__sf_put_u64(&s, head[i]);
    const double par[] = { m->lambda, m->epsilon, m->delta, m->R, m->train_residual, m->tol };
    lethe__sf_put_f64s(&s, par, sizeof par / sizeof par[0]);
    lethe__sf_put_bytes(&s, seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    lethe__sf_put_bytes(&s, m->key, crypto_generichash_KEYBYTES);
    lethe__sf_put_f64s(&s, m->w_star, d);
    lethe__sf_put_f64s(&s, m->U, d * d);
    lethe__sf_put_f64s(&s, m->G, d);
    lethe__sf_put_f64s(&s, m->w_bar, d);
    lethe__sf_put_f64s(&s, m->w_pub, d);
    for (size_t i = 0; i < n; i++)
        lethe__sf_put_u64(&s, m->ids[i]);
    lethe__sf_put_bytes(&s, m->removed, n);
    lethe__sf_put_bytes(&s, m->digest, n * LETHE__M2_DIGEST_BYTES);
    return lethe__sfile_commit(&s);
}

static const char *m2_validate(const lethe_m2 *m)
{
    if (!(m->lambda > 0.0) || !isfinite(m->lambda) || !(m->epsilon > 0.0) ||
        !isfinite(m->epsilon) || !(m->delta > 0.0 && m->delta < 1.0) || !(m->R > 0.0) ||
        !isfinite(m->R) || !(m->tol > 0.0) || !isfinite(m->tol) ||
        !(m->train_residual >= 0.0) ||
        !(m->train_residual <= m->tol * fmax(1.0, m->lambda * (double)m->n)))
        return "parameter out of range";
    /* as training allows: the Neumann solve needs m ≤ n/2 */
    if (m->capacity == 0 || m->capacity > m->n / 2 || m->used > m->capacity)
        return "capacity out of range";
    /* B ⪰ λnI, so every pivot² of its factor is ≥ λn (the down-dates' floor) */
    for (size_t j = 0; j < m->d; j++)
        if (!(m->U[j * m->d + j] * m->U[j * m->d + j] >= 0.5 * m->lambda * (double)m->n))
            return "a factor below λn";
    size_t used = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->removed[i] > 1)
            return "bad removal flag";
        used += m->removed[i];
    }
    if (used != m->used)
        return "removal count disagrees";
    for (size_t j = 0; j < m->d; j++)
        if (!isfinite(m->w_star[j]) || !isfinite(m->G[j]) || !isfinite(m->w_bar[j]) ||
            !isfinite(m->w_pub[j]))
            return "non-finite weights";
    return factor_problem(m->U, m->d);
}

lethe_status lethe_m2_load(lethe_ctx *ctx, const char *path, lethe_m2 **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "load: path and out must not be NULL");
    lethe_sfile s;
    long long payload = 0;
    lethe_status st = lethe__sfile_open(ctx, path, MAGIC_M2, &s, &payload);
    if (st != LETHE_OK)
        return st;
    lethe_m2 *m = NULL;
    uint64_t version = lethe__sf_get_u64(&s), n = lethe__sf_get_u64(&s);
    uint64_t d = lethe__sf_get_u64(&s), cap = lethe__sf_get_u64(&s);
    uint64_t used = lethe__sf_get_u64(&s), seeded = lethe__sf_get_u64(&s);
    uint64_t pos = lethe__sf_get_u64(&s);
    unsigned char seed[LETHE__SEED_BYTES] = { 0 };
    const size_t fixed = 8 + 7 * 8 + 6 * 8 + LETHE__SEED_BYTES + crypto_generichash_KEYBYTES;
    size_t dd, need;
    if (s.err) {
        st = bad(ctx, path, "truncated header");
    } else if (version != VERSION) {
        st = lethe__fail(ctx, LETHE_EFORMAT, "load: %s: format version %llu, expected %u", path,
                         (unsigned long long)version, VERSION);
    } else if (n == 0 || d == 0 || seeded > 1 || !lethe__fits_blas((size_t)n) ||
               !lethe__fits_blas((size_t)d) || !lethe__mul_size(d, d, &dd) ||
               (need = 4 * d + dd + n) > SIZE_MAX / 8 ||
               (long long)(fixed + need * 8 + n + n * LETHE__M2_DIGEST_BYTES) != payload) {
        st = bad(ctx, path, "size does not match the header (truncated or oversized)");
    } else {
        st = lethe__m2_alloc(ctx, (size_t)n, (size_t)d, &m);
    }
    if (st == LETHE_OK) {
        m->capacity = (size_t)cap;
        m->used = (size_t)used;
        double par[6];
        lethe__sf_get_f64s(&s, par, 6);
        m->lambda = par[0];
        m->epsilon = par[1];
        m->delta = par[2];
        m->R = par[3];
        m->train_residual = par[4];
        m->tol = par[5];
        lethe__sf_get_bytes(&s, seed, sizeof seed);
        lethe__sf_get_bytes(&s, m->key, crypto_generichash_KEYBYTES);
        lethe__sf_get_f64s(&s, m->w_star, d);
        lethe__sf_get_f64s(&s, m->U, dd);
        lethe__sf_get_f64s(&s, m->G, d);
        lethe__sf_get_f64s(&s, m->w_bar, d);
        lethe__sf_get_f64s(&s, m->w_pub, d);
        for (size_t i = 0; i < n && !s.err; i++)
            m->ids[i] = lethe__sf_get_u64(&s);
        lethe__sf_get_bytes(&s, m->removed, n);
        lethe__sf_get_bytes(&s, m->digest, n * LETHE__M2_DIGEST_BYTES);
        st = lethe__sfile_verify(&s);
    }
    if (st == LETHE_OK) {
        const char *why = m2_validate(m);
        uint64_t dup = 0;
        if (why != NULL)
            st = bad(ctx, path, why);
        else if ((st = lethe__ids_distinct(ctx, m->ids, m->n, &dup)) != LETHE_OK)
            st = st == LETHE_EDUPLICATE ? bad(ctx, path, "duplicate ids") : st;
    }
    if (st == LETHE_OK && lethe__m2_calibrate(m) != LETHE_OK)
        st = bad(ctx, path, "parameters cannot be calibrated");
    if (st == LETHE_OK) {
        lethe__idindex_build(&m->index, m->ids, m->n);
        st = lethe__rng_create_at(seeded ? seed : NULL, seeded ? pos : 0, &m->rng);
        if (st != LETHE_OK)
            st = lethe__fail(ctx, st, "load: no memory for the noise source");
    }
    sodium_memzero(seed, sizeof seed);
    lethe__sfile_close(&s);
    if (st != LETHE_OK) {
        lethe_m2_free(m);
        return st;
    }
    *out = m;
    return LETHE_OK;
}

lethe_status lethe_m2_save_public(lethe_m2 *m, const char *path)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (path == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "save_public: path is NULL");
    return write_public(m->ctx, path, "M2 output-perturbation (Sekhari et al. 2021)", "logistic",
                        m->d, m->lambda, m->epsilon, m->delta, m->sigma,
                        lethe__rng_seeded(m->rng), m->w_pub, NULL, 0, (size_t)1, NULL);
}

lethe_status lethe_state_mechanism(lethe_ctx *ctx, const char *path, lethe_mechanism *out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "state: path and out must not be NULL");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return lethe__fail(ctx, LETHE_EIO, "state: cannot open %s", path);
    char magic[LETHE__SFILE_MAGIC_BYTES];
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got == sizeof magic && memcmp(magic, "LETHEENC", sizeof magic) == 0) {
        /* encrypted: the magic inside tells (this needs the key) */
        const char *const magics[4] = { MAGIC, MAGIC_M2, MAGIC_M3, MAGIC_OVR };
        const lethe_mechanism mechs[4] = { LETHE_MECH_M1, LETHE_MECH_M2, LETHE_MECH_M3,
                                           LETHE_MECH_M3 };
        for (int k = 0; k < 4; k++) {
            lethe_sfile sf;
            long long payload;
            lethe_status st = lethe__sfile_open(ctx, path, magics[k], &sf, &payload);
            if (st == LETHE_OK) {
                lethe__sfile_close(&sf);
                lethe__clear(ctx);
                *out = mechs[k];
                return LETHE_OK;
            }
            if (st != LETHE_EFORMAT || k == 3)
                return st;
        }
    }
    if (got == sizeof magic && memcmp(magic, MAGIC, sizeof magic) == 0)
        *out = LETHE_MECH_M1;
    else if (got == sizeof magic && memcmp(magic, MAGIC_M2, sizeof magic) == 0)
        *out = LETHE_MECH_M2;
    else if (got == sizeof magic && (memcmp(magic, MAGIC_M3, sizeof magic) == 0 ||
                                     memcmp(magic, MAGIC_OVR, sizeof magic) == 0))
        *out = LETHE_MECH_M3;
    else
        return lethe__fail(ctx, LETHE_EFORMAT, "state: %s is not a lethe state file", path);
    return LETHE_OK;
}
