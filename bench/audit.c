/*
 * Audits of mechanism M3's claim (proofs/m3-release.md, LTH-C-0012), each
 * with a control that must fail, so that an audit that cannot see anything
 * does not pass for one that saw nothing (MATH.md §6; bench/audit.md).
 *
 * 1. Two-model reconstruction (Bertran et al., NeurIPS 2024, for linear
 *    models). An outsider holds two consecutive public models w_b and w_a
 *    (before and after the removal of record r) and the remaining records
 *    D'. With the noise-free objective
 *
 *        F_{D'}(w) = Σ_{i∈D'} ℓ(wᵀxᵢ, yᵢ) + (λ|D'|/2)‖w‖²
 *
 *    it computes v = ∇F_{D'}(w_a) − ∇F_{D'}(w_b) − λ·w_b. When w_b minimises
 *    F_D + bᵀw and w_a minimises F_{D'} + bᵀw with the same b (M1, "guo"),
 *    ∇F_{D'}(w_b) = −b − ℓ'(w_bᵀx_r, y_r)·x_r − λw_b and ∇F_{D'}(w_a) = −b, so
 *    v = ℓ'(w_bᵀx_r, y_r)·x_r up to the two residuals: the record comes back,
 *    and its label with it, since ℓ'(z, y) = −y·σ(−yz) has the sign of −y.
 *    Measured: |cos(v, x_r)|, the label guess −sign⟨v, x_r⟩, and as the
 *    baseline |cos(v, x_j)| for a random record j still in D'. Arms: M1; M3
 *    (forget, then publish); M3 with dp_releases; and the ideal — the exact
 *    retrain w*(D') released with fresh lattice noise of M3's σ.
 *
 * 2. Distinguishing. Releases (round(v/g) + m)·g of the unlearned θ and of
 *    the exact retrain w*(D'), each with fresh lattice noise, are projected
 *    on u = (θ − w*)/‖θ − w*‖ (the most powerful test between two Gaussians
 *    of the same covariance) and thresholded: "θ" when the projection
 *    exceeds t. t is chosen on the first half of the samples, and on the
 *    second half Clopper–Pearson upper bounds FPR_ub, FNR_ub (one-sided
 *    α/2 = 0.025 each) give
 *
 *        ε_LB = max(ln((1 − δ − FNR_ub)/FPR_ub), ln((1 − δ − FPR_ub)/FNR_ub), 0),
 *
 *    a lower bound on the ε of any (ε, δ) guarantee, with 95 % confidence.
 *    σ is calibrated for Δ = ‖θ − w*‖ itself (tight: ε_LB must not exceed
 *    ε), for Δ/2 (reported: the audit's resolution) and, as the control,
 *    for Δ/10 (sensitivity understated ten times: ε_LB must exceed ε); end
 *    to end, the releases are lethe_model_publish()'s, σ the model's own.
 *
 * Both audits also check that every release lethe_model_publish() makes is
 * (round(θ/g) + m)·g bit for bit, m replayed from the model's seed, and
 * that ‖θ − w*(D')‖ ≤ the removal's certified bound ≤ Δ_max.
 *
 *   usage: audit [DATA_DIR]   (default: Debian's dataset-fashion-mnist)
 *
 * Every seed is fixed and printed. Exits 1 if an assertion fails. The same
 * functions, with fewer samples, are the cmocka suite tests/test_audit.c,
 * which includes this file with AUDIT_NO_MAIN defined.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

#include "../examples/fmnist.h"
#include "certify/certify.h"
#include "dp/dp.h"

/* Each Clopper–Pearson bound is one-sided at level α/2 (MATH.md §6). */
#define AUDIT_ALPHA 0.05

/* Candidate thresholds: every pooled score among the outermost SPAN of
 * each end, then steps growing as 1/SPAN of the distance to the nearer end
 * (about 2·SPAN·(1 + ln(N/SPAN)) candidates). */
#define AUDIT_SPAN 32

/* ─── Clopper–Pearson and ε_LB ───────────────────────────────────────────── */

/* The Clopper–Pearson upper bound on a binomial p from k successes in N
 * trials at one-sided level a: the p with P(Bin(N, p) ≤ k) = a, which is
 * the upper a-quantile of Beta(k + 1, N − k) (GSL's gsl_cdf_beta_Qinv, in
 * place of the continued fraction and bisection this file had: it agrees
 * with an independent computation to 1e-11, tests/test_audit.c); 1 when
 * k = N. */
static double audit_cp_upper(size_t k, size_t N, double a)
{
    if (k >= N)
        return 1.0;
    gsl_set_error_handler_off(); /* GSL's default handler aborts */
    return gsl_cdf_beta_Qinv(a, (double)k + 1.0, (double)(N - k));
}

/* ε_LB of MATH.md §6 from fp false positives among n_neg releases of the
 * retrain and fn false negatives among n_pos releases of θ; the two upper
 * bounds go to *fpr_ub and *fnr_ub. */
static double audit_eps_lb(size_t fp, size_t n_neg, size_t fn, size_t n_pos, double delta,
                           double *fpr_ub, double *fnr_ub)
{
    double f = audit_cp_upper(fp, n_neg, AUDIT_ALPHA / 2.0);
    double g = audit_cp_upper(fn, n_pos, AUDIT_ALPHA / 2.0);
    double eps = 0.0;
    if (1.0 - delta - g > 0.0)
        eps = fmax(eps, log((1.0 - delta - g) / f));
    if (1.0 - delta - f > 0.0)
        eps = fmax(eps, log((1.0 - delta - f) / g));
    *fpr_ub = f;
    *fnr_ub = g;
    return eps;
}

/* ─── The threshold test ─────────────────────────────────────────────────── */

typedef struct audit_test {
    size_t n;          /* releases per side in each half                           */
    double threshold;  /* "θ" when the projection exceeds it (from the first half) */
    double eps_select; /* ε_LB at that threshold on the first half                */
    size_t fp, fn;     /* on the second half                                      */
    double fpr_ub, fnr_ub, eps_lb;
} audit_test;

static int audit_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* How many of sorted[0..n-1] exceed t. */
static size_t audit_above(const double *sorted, size_t n, double t)
{
    size_t lo = 0, hi = n; /* sorted[lo..] may exceed t, sorted[hi..] do */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return n - lo;
}

/* The test on N projections per side: pos of releases of θ, neg of the
 * retrain's. The threshold maximises ε_LB on the first N/2 of each; ε_LB is
 * then measured on the other N/2. Returns 0, or −1 when out of memory. */
static int audit_threshold_test(const double *pos, const double *neg, size_t N, double delta,
                                audit_test *out)
{
    const size_t h = N / 2;
    double *p = malloc(h * sizeof *p), *q = malloc(h * sizeof *q);
    double *all = malloc(2 * h * sizeof *all);
    if (p == NULL || q == NULL || all == NULL) {
        free(p);
        free(q);
        free(all);
        return -1;
    }
    memcpy(p, pos, h * sizeof *p);
    memcpy(q, neg, h * sizeof *q);
    memcpy(all, p, h * sizeof *all);
    memcpy(all + h, q, h * sizeof *all);
    qsort(p, h, sizeof *p, audit_cmp);
    qsort(q, h, sizeof *q, audit_cmp);
    qsort(all, 2 * h, sizeof *all, audit_cmp);
    double best = -1.0, t_best = 0.0, fu, nu;
    for (size_t i = 0; i < 2 * h;) {
        double t = all[i];
        double e = audit_eps_lb(audit_above(q, h, t), h, h - audit_above(p, h, t), h, delta,
                                &fu, &nu);
        if (e > best) {
            best = e;
            t_best = t;
        }
        size_t edge = i < 2 * h - 1 - i ? i : 2 * h - 1 - i;
        i += edge / AUDIT_SPAN > 0 ? edge / AUDIT_SPAN : 1;
    }
    out->n = h;
    out->threshold = t_best;
    out->eps_select = best;
    out->fp = out->fn = 0;
    for (size_t i = h; i < 2 * h; i++) {
        out->fp += neg[i] > t_best;
        out->fn += !(pos[i] > t_best);
    }
    out->eps_lb = audit_eps_lb(out->fp, h, out->fn, h, delta, &out->fpr_ub, &out->fnr_ub);
    free(p);
    free(q);
    free(all);
    return 0;
}

/* ─── Releases and their projections ─────────────────────────────────────── */

/* A seed for one purpose: base with its last byte xor tag, so that the
 * streams of one run do not share samples. */
static void audit_seed(const unsigned char base[32], unsigned char tag, unsigned char out[32])
{
    memcpy(out, base, 32);
    out[31] ^= tag;
}

/* ⟨rel − ref, u⟩, the differences taken first so that the small shift
 * along u is not lost to cancellation. */
static double audit_project(const double *rel, const double *ref, const double *u, size_t d)
{
    long double s = 0.0L;
    for (size_t j = 0; j < d; j++)
        s += (long double)(rel[j] - ref[j]) * u[j];
    return (double)s;
}

/* One fresh release (round(v/g) + m)·g of v into out, m the next d
 * integers of rng (m is scratch). Returns 0, or −1 if v is beyond the
 * lattice's range. */
static int audit_release(const lethe_lattice *lat, lethe_rng *rng, const double *v, int64_t *m,
                         double *out, size_t d)
{
    lethe__lattice_draw(lat, rng, m, d);
    return lethe__lattice_release(lat, v, m, out, d) == LETHE_OK ? 0 : -1;
}

/* out[i] = ⟨release_i − ref, u⟩ for N fresh releases of v. Returns 0, or −1. */
static int audit_release_scores(const lethe_lattice *lat, lethe_rng *rng, const double *v,
                                const double *ref, const double *u, size_t d, size_t N,
                                double *out)
{
    int64_t *m = malloc(d * sizeof *m);
    double *rel = malloc(d * sizeof *rel);
    int rc = m != NULL && rel != NULL ? 0 : -1;
    for (size_t i = 0; i < N && rc == 0; i++) {
        rc = audit_release(lat, rng, v, m, rel, d);
        if (rc == 0)
            out[i] = audit_project(rel, ref, u, d);
    }
    free(m);
    free(rel);
    return rc;
}

/* Is the model's public release exactly (round(θ/g) + m)·g, m the next d
 * integers of a stream replayed from the model's seed? 1 if so. */
static int audit_replay(const lethe_model *model, lethe_rng *replay)
{
    const size_t d = model->d;
    int64_t *m = malloc(d * sizeof *m);
    double *rel = malloc(d * sizeof *rel);
    int same = m != NULL && rel != NULL &&
               audit_release(&model->lat, replay, model->w, m, rel, d) == 0 &&
               memcmp(rel, lethe_model_weights(model), d * sizeof *rel) == 0;
    free(m);
    free(rel);
    return same;
}

static double audit_distance(const double *a, const double *b, size_t d)
{
    long double s = 0.0L;
    for (size_t j = 0; j < d; j++)
        s += (long double)(a[j] - b[j]) * (a[j] - b[j]);
    return (double)sqrtl(s);
}

/* The certified bound on ‖θ − w*(D)‖ of a model's current state (for a
 * retrain: how far its θ may be from the exact minimiser). */
static double audit_bound(const lethe_model *m)
{
    return lethe__m3_distance(m, m->residual, m->residual_fp, m->n_live);
}

static void audit_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "audit: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* A random problem from a seeded stream: n records of d features uniform
 * in [−1, 1), labels from a planted linear model with 10 % flipped; rows
 * normalised to ‖x‖ = R = 1, a bound fixed in advance (dp_releases needs
 * one). NULL (with a message) on failure. */
static lethe_dataset *audit_problem(lethe_ctx *ctx, const unsigned char seed[32], size_t n,
                                    size_t d)
{
    lethe_rng *rng = NULL;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
    double *w = malloc(d * sizeof *w);
    lethe_dataset *ds = NULL;
    if (x != NULL && y != NULL && w != NULL && lethe__rng_create(seed, &rng) == LETHE_OK) {
        for (size_t j = 0; j < d; j++)
            w[j] = 4.77 * lethe__rng_uniform(rng) - 2.385;
        for (size_t i = 0; i < n; i++) {
            double z = 0.0;
            for (size_t j = 0; j < d; j++) {
                x[i * d + j] = 2.0 * lethe__rng_uniform(rng) - 1.0;
                z += x[i * d + j] * w[j];
            }
            y[i] = (z > 0.0) != (lethe__rng_uniform(rng) < 0.1) ? 1.0 : -1.0;
        }
        if (lethe_dataset_create(ctx, n, d, x, d, y, NULL, LETHE_NORM_NORMALIZE, 1.0, &ds) !=
            LETHE_OK)
            audit_say("random problem: %s", lethe_ctx_errmsg(ctx));
    }
    lethe__rng_free(rng);
    free(x);
    free(y);
    free(w);
    return ds;
}

/* ─── Distinguishing releases of θ from releases of w*(D') ──────────────── */

/* The sensitivity the releases are calibrated for is the true distance
 * divided by these: 1 is the tight audit, which must show ε_LB ≤ ε; the
 * last is the control, which must show ε_LB > ε; those between measure
 * the audit's resolution (reported only). */
#define AUDIT_UNDER 3
static const double audit_under[AUDIT_UNDER] = { 1.0, 2.0, 10.0 };

typedef struct audit_dist {
    size_t n, d, N;       /* records before the removal, features, releases per side  */
    uint64_t id;          /* the record removed                                       */
    double distance;      /* ‖θ − w*‖, the measured distance                          */
    double bound;         /* the removal's certified bound on it (rep.distance)       */
    double retrain_err;   /* bound on ‖w* as computed − the exact minimiser‖          */
    double delta_max;     /* of the model                                             */
    double sigma[AUDIT_UNDER]; /* calibrated for Δ = distance/audit_under[i]          */
    audit_test t[AUDIT_UNDER]; /* [0] tight, [AUDIT_UNDER − 1] the control             */
    /* end to end: models trained with Δ_max = the bound above, their
     * releases by lethe_model_publish, against w* released with their σ */
    size_t n_e2e;         /* releases per side (0: not run)                           */
    size_t e2e_models;    /* models trained for them                                  */
    double e2e_delta_max, e2e_distance, e2e_sigma;
    int e2e_replayed;     /* every release replayed bit for bit                       */
    int e2e_same;         /* every model's θ' the same, bit for bit                   */
    audit_test e2e;
} audit_dist;

/* Train an M3 model on ds with opt, remove id, retrain on what is left,
 * and run the distinguishing audits: tight and control with N releases per
 * side, end to end with n_e2e ≤ N (0: skip it). Seeds derive from seed
 * (tags 1 to 3 + AUDIT_UNDER). Returns 0, or −1 with a message. */
static int audit_distinguish(lethe_ctx *ctx, const lethe_dataset *ds,
                             const lethe_train_options *opt, uint64_t id, size_t N,
                             size_t n_e2e, const unsigned char seed[32], audit_dist *out)
{
    const size_t d = lethe_dataset_cols(ds);
    lethe_model *m = NULL, *ret = NULL, *e2e = NULL;
    lethe_dataset *rest = NULL;
    lethe_rng *rng = NULL, *replay = NULL;
    double *theta = malloc(d * sizeof *theta), *u = malloc(d * sizeof *u);
    double *pos = malloc(N * sizeof *pos), *neg = malloc(N * sizeof *neg);
    int rc = -1;
    unsigned char s[32];
    lethe_train_options o = *opt;
    lethe_removal_report rep;
    lethe_lattice lat;
    double sens;
    memset(out, 0, sizeof *out);
    if (theta == NULL || u == NULL || pos == NULL || neg == NULL) {
        audit_say("distinguishing: out of memory");
        goto done;
    }
    out->n = lethe_dataset_rows(ds);
    out->d = d;
    out->N = N;
    out->n_e2e = n_e2e = n_e2e < N ? n_e2e : N;
    out->id = id;
    audit_seed(seed, 1, s);
    o.seed = s;
    if (lethe_model_train(ctx, ds, &o, &m) != LETHE_OK ||
        lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep) != LETHE_OK)
        goto fail;
    memcpy(theta, m->w, d * sizeof *theta);
    out->bound = rep.distance;
    out->delta_max = m->delta_max;
    /* the exact retrain: the same objective on D', solved far tighter */
    rest = fm_remaining(ctx, ds, m);
    o.tol = 1e-13;
    if (lethe_model_train(ctx, rest, &o, &ret) != LETHE_OK)
        goto fail;
    out->retrain_err = audit_bound(ret);
    out->distance = audit_distance(theta, ret->w, d);
    for (size_t j = 0; j < d; j++)
        u[j] = (theta[j] - ret->w[j]) / out->distance;

    /* σ for Δ = the true distance (tight), and for understated ones */
    for (int i = 0; i < AUDIT_UNDER; i++) {
        if (lethe__calibrate_release(m->epsilon, m->delta, d, out->distance / audit_under[i],
                                     &sens, &out->sigma[i], &lat) != LETHE_OK)
            goto fail;
        audit_seed(seed, (unsigned char)(2 + i), s);
        if (lethe__rng_create(s, &rng) != LETHE_OK ||
            audit_release_scores(&lat, rng, theta, ret->w, u, d, N, pos) != 0 ||
            audit_release_scores(&lat, rng, ret->w, ret->w, u, d, N, neg) != 0 ||
            audit_threshold_test(pos, neg, N, m->delta, &out->t[i]))
            goto fail;
        lethe__rng_free(rng);
        rng = NULL;
    }

    /* end to end: Δ_max as tight as this removal allows (its certified
     * bound, plus room for the rounding of the certificate's arithmetic).
     * A model refuses to publish once no ε reaches δ for its history (about
     * 50 releases at d = 784, 90 at d = 5): train as many as N releases
     * need, each with its own seed; the removal is deterministic, so each
     * holds the same θ'. */
    o = *opt;
    o.delta_max = out->bound * (1.0 + 1e-9);
    o.tol = fmin(opt->tol, 1e-3 * o.delta_max);
    out->e2e_replayed = out->e2e_same = 1;
    for (size_t got = 0; got < n_e2e; out->e2e_models++) {
        audit_seed(seed, 2 + AUDIT_UNDER, s);
        for (size_t b = 0; b < sizeof out->e2e_models; b++) /* one seed per model */
            s[b] ^= (unsigned char)(out->e2e_models >> (8 * b));
        o.seed = s;
        if (lethe__rng_create(s, &replay) != LETHE_OK ||
            lethe_model_train(ctx, ds, &o, &e2e) != LETHE_OK)
            goto fail;
        out->e2e_replayed &= audit_replay(e2e, replay);
        if (lethe_model_remove(e2e, &id, 1, LETHE_PATH_FAST, &rep) != LETHE_OK)
            goto fail;
        if (got == 0) {
            out->e2e_delta_max = e2e->delta_max;
            out->e2e_sigma = e2e->sigma;
            out->e2e_distance = audit_distance(e2e->w, ret->w, d);
            memcpy(theta, e2e->w, d * sizeof *theta);
            lat = e2e->lat; /* for the retrain's releases below */
            for (size_t j = 0; j < d; j++)
                u[j] = (theta[j] - ret->w[j]) / out->e2e_distance;
        }
        out->e2e_same &= memcmp(theta, e2e->w, d * sizeof *theta) == 0;
        size_t before = got;
        lethe_status st = LETHE_OK;
        while (got < n_e2e && (st = lethe_model_publish(e2e, NULL)) == LETHE_OK) {
            out->e2e_replayed &= audit_replay(e2e, replay);
            pos[got++] = audit_project(lethe_model_weights(e2e), ret->w, u, d);
        }
        if (got < n_e2e && (st != LETHE_EBUDGET || got == before))
            goto fail;
        lethe_model_free(e2e);
        e2e = NULL;
        lethe__rng_free(replay);
        replay = NULL;
    }
    if (n_e2e > 0) {
        audit_seed(seed, 3 + AUDIT_UNDER, s);
        if (lethe__rng_create(s, &rng) != LETHE_OK ||
            audit_release_scores(&lat, rng, ret->w, ret->w, u, d, n_e2e, neg) != 0 ||
            audit_threshold_test(pos, neg, n_e2e, opt->delta, &out->e2e) != 0)
            goto fail;
    }
    rc = 0;
    goto done;
fail:
    audit_say("distinguishing: %s", lethe_ctx_errmsg(ctx));
done:
    lethe__rng_free(rng);
    lethe__rng_free(replay);
    lethe_model_free(e2e);
    lethe_model_free(ret);
    lethe_model_free(m);
    lethe_dataset_free(rest);
    free(theta);
    free(u);
    free(pos);
    free(neg);
    return rc;
}

/* ─── Reconstruction from two consecutive models ─────────────────────────── */

enum { ARM_M1, ARM_M3, ARM_IDEAL, ARM_DP, ARMS };

static const char *const audit_arm_name[ARMS] = {
    [ARM_M1] = "M1 (guo), λ = 1e-3",
    [ARM_M3] = "M3 default",
    [ARM_IDEAL] = "ideal: retrain + M3's noise",
    [ARM_DP] = "M3 with dp_releases",
};

typedef struct audit_recon {
    size_t k;                    /* sequential single removals               */
    double *cos[ARMS];           /* |cos(v, x_r)|, one per removal           */
    double *base[ARMS];          /* |cos(v, x_j)|, j a random record in D'   */
    unsigned char *label[ARMS];  /* 1 when −sign⟨v, x_r⟩ = y_r               */
    double *rank[ARMS];          /* share of D' with |cos(v, xᵢ)| above |cos(v, x_r)|:
                                    0 when v singles r out, about ½ when v knows nothing */
    double lambda[ARMS], sigma[ARMS];
    size_t releases, replayed;   /* M3 and dp releases, and how many replayed bit for bit */
    size_t bound_ok;             /* removals with ‖θ − w*‖ ≤ bound ≤ Δ_max (M3 and dp) */
    double ratio_min, ratio_max; /* certified bound / true distance          */
    double dist_max;             /* largest true ‖θ − w*(D')‖                 */
    double shift_mean, shift_max; /* ‖w*(D) − w*(D')‖: how far a removal moves the retrain */
    double *cos_bare;            /* the control: |cos(v, x_r)| from M3's θ itself, a release
                                    with its noise left out, which the M3 − ideal check
                                    must flag                                           */
} audit_recon;

static void audit_recon_free(audit_recon *r)
{
    for (int a = 0; a < ARMS; a++) {
        free(r->cos[a]);
        free(r->base[a]);
        free(r->label[a]);
        free(r->rank[a]);
    }
    free(r->cos_bare);
}

/* ∇F_{D'}(w) = Σ_{i∈D'} ℓ'(wᵀxᵢ, yᵢ)·xᵢ + λ|D'|·w for the logistic loss,
 * ℓ'(z, y) = −y/(1 + e^{yz}): the auditor's own arithmetic, not the
 * library's. gone[i] marks the records not in D'. */
static void audit_gradient(const double *x, const double *y, const unsigned char *gone,
                           size_t n, size_t d, double lambda, const double *w, double *g)
{
    const int di = (int)d;
    size_t live = 0;
    memset(g, 0, d * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        if (gone[i])
            continue;
        live++;
        double z = cblas_ddot(di, x + i * d, 1, w, 1);
        cblas_daxpy(di, -y[i] / (1.0 + exp(y[i] * z)), x + i * d, 1, g, 1);
    }
    cblas_daxpy(di, lambda * (double)live, w, 1, g, 1);
}

static double audit_abscos(const double *a, const double *b, size_t d)
{
    const int di = (int)d;
    return fabs(cblas_ddot(di, a, 1, b, 1)) / (cblas_dnrm2(di, a, 1) * cblas_dnrm2(di, b, 1));
}

/* Run the four arms over k sequential single removals of random records
 * (chosen from pick_seed) of ds, whose rows must have a norm bound fixed in
 * advance. Seeds derive from seed (tags 11–16). Returns 0, or −1
 * with a message. */
static int audit_reconstruct(lethe_ctx *ctx, const lethe_dataset *ds, size_t k,
                             uint64_t pick_seed, const unsigned char seed[32], audit_recon *out)
{
    const size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    const uint64_t *ids = lethe_dataset_ids(ds);
    lethe_model *mod[ARMS] = { NULL };
    lethe_rng *noise = NULL, *replay[ARMS] = { NULL }, *pick_rng = NULL;
    unsigned char s[ARMS + 1][32];
    unsigned char *gone = calloc(n, 1);
    double *wb[ARMS] = { NULL }, *v = malloc(d * sizeof *v), *ga = malloc(d * sizeof *ga);
    double *ideal = malloc(d * sizeof *ideal), *prev = malloc(d * sizeof *prev);
    int64_t *ints = malloc(d * sizeof *ints);
    double *theta_b = malloc(d * sizeof *theta_b);
    size_t *pick = fm_pick(n, k, pick_seed);
    memset(out, 0, sizeof *out);
    out->cos_bare = malloc(k * sizeof *out->cos_bare);
    int rc = -1, ok = gone != NULL && v != NULL && ga != NULL && ideal != NULL && prev != NULL &&
                      ints != NULL && theta_b != NULL && out->cos_bare != NULL;
    out->k = k;
    out->ratio_min = INFINITY;
    for (int a = 0; a < ARMS; a++) {
        wb[a] = malloc(d * sizeof *wb[a]);
        out->cos[a] = malloc(k * sizeof *out->cos[a]);
        out->base[a] = malloc(k * sizeof *out->base[a]);
        out->label[a] = malloc(k);
        out->rank[a] = malloc(k * sizeof *out->rank[a]);
        ok = ok && wb[a] != NULL && out->cos[a] != NULL && out->base[a] != NULL &&
             out->label[a] != NULL && out->rank[a] != NULL;
    }
    if (!ok || k >= n) {
        audit_say("reconstruction: out of memory, or %zu removals of %zu records", k, n);
        goto done;
    }
    /* ARM_IDEAL's model is the oracle: each removal, then a refresh
     * (Newton's method on D' to the tolerance: the exact retrain w*(D')). */
    for (int a = 0; a < ARMS; a++) {
        lethe_train_options o;
        lethe_train_options_init(&o);
        audit_seed(seed, (unsigned char)(11 + a), s[a]);
        o.seed = s[a];
        if (a == ARM_M1) {
            o.mechanism = LETHE_MECH_M1;
            o.lambda = 1e-3;
        }
        o.dp_releases = a == ARM_DP;
        if (lethe_model_train(ctx, ds, &o, &mod[a]) != LETHE_OK ||
            lethe__rng_create(s[a], &replay[a]) != LETHE_OK)
            goto fail;
        out->lambda[a] = o.lambda;
    }
    out->sigma[ARM_M3] = out->sigma[ARM_IDEAL] = mod[ARM_M3]->sigma;
    out->sigma[ARM_DP] = mod[ARM_DP]->sigma;
    audit_seed(seed, 15, s[ARMS]);
    if (lethe__rng_create(s[ARMS], &noise) != LETHE_OK)
        goto fail;
    audit_seed(seed, 16, s[ARMS]);
    if (lethe__rng_create(s[ARMS], &pick_rng) != LETHE_OK)
        goto fail;
    /* the models before the first removal: M1's w, the first releases, and
     * a release of the exact minimiser */
    for (int a = 0; a < ARMS; a++) {
        memcpy(wb[a], lethe_model_weights(mod[a]), d * sizeof *wb[a]);
        if (a == ARM_M3 || a == ARM_DP) {
            out->releases++;
            out->replayed += (size_t)audit_replay(mod[a], replay[a]);
        }
    }
    /* the ideal arm's releases: the retrain on M3's lattice, fresh m */
    const lethe_lattice *lat = &mod[ARM_M3]->lat;
    if (audit_release(lat, noise, mod[ARM_IDEAL]->w, ints, wb[ARM_IDEAL], d) != 0)
        goto fail;
    memcpy(prev, mod[ARM_IDEAL]->w, d * sizeof *prev);
    memcpy(theta_b, mod[ARM_M3]->w, d * sizeof *theta_b);

    for (size_t t = 0; t < k; t++) {
        const size_t r = pick[t];
        size_t j;
        do /* a random record other than r still in D' */
            j = (size_t)(lethe__rng_u64(pick_rng) % n);
        while (j == r || gone[j]);
        gone[r] = 1;
        lethe_removal_report rep[ARMS];
        for (int a = 0; a < ARMS; a++) {
            if (lethe_model_remove(mod[a], &ids[r], 1, LETHE_PATH_FAST, &rep[a]) != LETHE_OK)
                goto fail;
            if (a == ARM_M3 || a == ARM_DP) { /* forget, then publish */
                if (lethe_model_publish(mod[a], NULL) != LETHE_OK)
                    goto fail;
                out->releases++;
                out->replayed += (size_t)audit_replay(mod[a], replay[a]);
            }
        }
        if (lethe_model_refresh(mod[ARM_IDEAL]) != LETHE_OK ||
            audit_release(lat, noise, mod[ARM_IDEAL]->w, ints, ideal, d) != 0)
            goto fail;
        double shift = audit_distance(prev, mod[ARM_IDEAL]->w, d);
        out->shift_mean += shift / (double)k;
        out->shift_max = fmax(out->shift_max, shift);
        memcpy(prev, mod[ARM_IDEAL]->w, d * sizeof *prev);
        /* the certified bounds against the true distances */
        const double err = audit_bound(mod[ARM_IDEAL]);
        for (int a = ARM_M3; a < ARMS; a += ARM_DP - ARM_M3) {
            double dist = audit_distance(mod[a]->w, mod[ARM_IDEAL]->w, d);
            out->dist_max = fmax(out->dist_max, dist);
            out->bound_ok += dist <= rep[a].distance + err && rep[a].distance <= mod[a]->delta_max;
            out->ratio_min = fmin(out->ratio_min, rep[a].distance / dist);
            out->ratio_max = fmax(out->ratio_max, rep[a].distance / dist);
        }
        for (int a = 0; a < ARMS; a++) {
            const double *wa = a == ARM_IDEAL ? ideal : lethe_model_weights(mod[a]);
            /* v = ∇F_{D'}(w_a) − ∇F_{D'}(w_b) − λ·w_b */
            audit_gradient(x, y, gone, n, d, out->lambda[a], wa, ga);
            audit_gradient(x, y, gone, n, d, out->lambda[a], wb[a], v);
            for (size_t c = 0; c < d; c++)
                v[c] = ga[c] - v[c] - out->lambda[a] * wb[a][c];
            memcpy(wb[a], wa, d * sizeof *wb[a]);
            out->cos[a][t] = audit_abscos(v, x + r * d, d);
            out->base[a][t] = audit_abscos(v, x + j * d, d);
            out->label[a][t] = (cblas_ddot((int)d, v, 1, x + r * d, 1) < 0.0) == (y[r] > 0.0);
            size_t above = 0;
            for (size_t i = 0; i < n; i++)
                above += !gone[i] && audit_abscos(v, x + i * d, d) > out->cos[a][t];
            out->rank[a][t] = (double)above / (double)(n - t - 1);
        }
        /* the control: the same attack on M3's θ, as if released without noise */
        audit_gradient(x, y, gone, n, d, out->lambda[ARM_M3], mod[ARM_M3]->w, ga);
        audit_gradient(x, y, gone, n, d, out->lambda[ARM_M3], theta_b, v);
        for (size_t c = 0; c < d; c++)
            v[c] = ga[c] - v[c] - out->lambda[ARM_M3] * theta_b[c];
        memcpy(theta_b, mod[ARM_M3]->w, d * sizeof *theta_b);
        out->cos_bare[t] = audit_abscos(v, x + r * d, d);
    }
    rc = 0;
    goto done;
fail:
    audit_say("reconstruction: %s", lethe_ctx_errmsg(ctx));
done:
    for (int a = 0; a < ARMS; a++) {
        lethe_model_free(mod[a]);
        lethe__rng_free(replay[a]);
        free(wb[a]);
    }
    lethe__rng_free(noise);
    lethe__rng_free(pick_rng);
    free(gone);
    free(v);
    free(ga);
    free(ideal);
    free(prev);
    free(ints);
    free(theta_b);
    free(pick);
    if (rc != 0)
        audit_recon_free(out);
    return rc;
}

/* Mean, standard error, min and max of a[i] − b[i] (b NULL: of a[i]). */
typedef struct audit_stat {
    double mean, se, min, max;
} audit_stat;

static audit_stat audit_stats(const double *a, const double *b, size_t k)
{
    audit_stat s = { 0.0, 0.0, INFINITY, -INFINITY };
    double ss = 0.0;
    for (size_t i = 0; i < k; i++) {
        double v = a[i] - (b != NULL ? b[i] : 0.0);
        s.mean += v / (double)k;
        s.min = fmin(s.min, v);
        s.max = fmax(s.max, v);
    }
    for (size_t i = 0; i < k; i++) {
        double v = a[i] - (b != NULL ? b[i] : 0.0) - s.mean;
        ss += v * v;
    }
    s.se = k > 1 ? sqrt(ss / (double)(k - 1) / (double)k) : INFINITY;
    return s;
}

/* The paired-difference rule the audits use: |mean(a − b)| ≤ 4 standard
 * errors of the differences (a two-sided z-test at p ≈ 6e-5). */
#define AUDIT_Z 4.0

#ifndef AUDIT_NO_MAIN

static int failures;

static void audit_print_seed(const char *what, const unsigned char seed[32])
{
    printf("%s", what);
    for (int i = 0; i < 32; i++)
        printf("%02x", seed[i]);
    printf("\n");
}

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures += !ok;
}

static void print_test(const char *what, double sigma, const audit_test *t)
{
    printf("  %-22s σ = %.4e  t = %+.4e  FP %5zu/%zu (ub %.4f)  FN %5zu/%zu (ub %.4f)  "
           "ε_LB %.4f (%.4f on the first half)\n",
           what, sigma, t->threshold, t->fp, t->n, t->fpr_ub, t->fn, t->n, t->fnr_ub, t->eps_lb,
           t->eps_select);
}

/* The distinguishing audit of one removal, printed and checked. */
static void distinguish(lethe_ctx *ctx, const char *name, const lethe_dataset *ds,
                        const lethe_train_options *opt, uint64_t id, size_t N, size_t n_e2e,
                        const unsigned char seed[32])
{
    audit_dist r;
    if (audit_distinguish(ctx, ds, opt, id, N, n_e2e, seed, &r) != 0) {
        check(0, "%s: the distinguishing audit could not run", name);
        return;
    }
    printf("\n%s, n = %zu, d = %zu, record %llu removed, %zu releases per side "
           "(half to choose t, half to measure)\n", name, r.n, r.d, (unsigned long long)r.id,
           r.N);
    printf("  ‖θ − w*‖ = %.6e (retrain within %.1e of the exact minimiser); certified bound "
           "%.6e (%.1f×), Δ_max %g\n", r.distance, r.retrain_err, r.bound, r.bound / r.distance,
           r.delta_max);
    for (int i = 0; i < AUDIT_UNDER; i++) {
        char what[64];
        snprintf(what, sizeof what, i == 0 ? "tight (Δ = ‖θ − w*‖)" : "%s (Δ/%g)",
                 i == AUDIT_UNDER - 1 ? "control" : "reported", audit_under[i]);
        print_test(what, r.sigma[i], &r.t[i]);
    }
    const audit_test *tight = &r.t[0], *control = &r.t[AUDIT_UNDER - 1];
    check(r.distance <= r.bound + r.retrain_err && r.bound <= r.delta_max,
          "‖θ − w*‖ ≤ certified bound ≤ Δ_max");
    check(tight->eps_lb <= opt->epsilon, "tight: ε_LB = %.4f ≤ ε = %g", tight->eps_lb,
          opt->epsilon);
    check(control->eps_lb > opt->epsilon, "control: ε_LB = %.4f > ε = %g (the audit can fail)",
          control->eps_lb, opt->epsilon);
    if (r.n_e2e == 0)
        return;
    printf("  end to end: Δ_max = %.6e (the certified bound), ‖θ' − w*‖ = %.6e; %zu releases "
           "per side from %zu models\n", r.e2e_delta_max, r.e2e_distance, r.n_e2e,
           r.e2e_models);
    print_test("lethe_model_publish", r.e2e_sigma, &r.e2e);
    check(r.e2e.eps_lb <= opt->epsilon, "end to end: ε_LB = %.4f ≤ ε = %g", r.e2e.eps_lb,
          opt->epsilon);
    check(r.e2e_distance <= r.e2e_delta_max + r.retrain_err, "end to end: ‖θ' − w*‖ ≤ Δ_max");
    check(r.e2e_same, "end to end: the %zu models hold the same θ' bit for bit", r.e2e_models);
    check(r.e2e_replayed, "end to end: every release, the models' first included, is "
          "(round(θ/g) + m)·g, m replayed from the seed");
}

/* The reconstruction audit of k removals, printed and checked. */
static void reconstruct(lethe_ctx *ctx, const lethe_dataset *ds, size_t k, uint64_t pick_seed,
                        const unsigned char seed[32])
{
    audit_recon r;
    printf("\nTwo-model reconstruction on the demo data: %zu sequential single removals of "
           "random records (pick seed %llu)\n", k, (unsigned long long)pick_seed);
    double t0 = fm_now();
    if (audit_reconstruct(ctx, ds, k, pick_seed, seed, &r) != 0) {
        check(0, "the reconstruction audit could not run");
        return;
    }
    printf("  (%.1f s)\n", fm_now() - t0);
    printf("  %-28s %8s %13s %15s %7s %13s %6s %13s\n", "arm", "σ", "|cos(v, x_r)|",
           "min … max", "label", "baseline", "top-1", "share");
    audit_stat st[ARMS];
    for (int a = 0; a < ARMS; a++) {
        st[a] = audit_stats(r.cos[a], NULL, k);
        audit_stat b = audit_stats(r.base[a], NULL, k);
        audit_stat sh = audit_stats(r.rank[a], NULL, k);
        size_t lab = 0, top = 0;
        for (size_t t = 0; t < k; t++) {
            lab += r.label[a][t];
            top += !(r.rank[a][t] > 0.0);
        }
        printf("  %-28s %8.4f %5.3f ± %.3f %7.3f … %.3f %3zu/%-3zu %5.3f ± %.3f %3zu/%-3zu "
               "%5.3f ± %.3f\n", audit_arm_name[a], r.sigma[a], st[a].mean, st[a].se, st[a].min,
               st[a].max, lab, k, b.mean, b.se, top, k, sh.mean, sh.se);
    }
    printf("  (mean ± standard error. label: −sign⟨v, x_r⟩ = y_r. baseline: |cos(v, x_j)|, j a "
           "random record of D'.\n   top-1: x_r has the largest |cos| with v of all records; "
           "share: mean share of D' above x_r, ½ when v knows nothing)\n");
    audit_stat m3 = audit_stats(r.cos[ARM_M3], r.cos[ARM_IDEAL], k);
    audit_stat dp = audit_stats(r.cos[ARM_DP], r.base[ARM_DP], k);
    audit_stat m3s = audit_stats(r.rank[ARM_M3], r.rank[ARM_IDEAL], k);
    printf("  certified bound / ‖θ − w*(D')‖: %.2f … %.2f; largest ‖θ − w*(D')‖ %.3e\n",
           r.ratio_min, r.ratio_max, r.dist_max);
    printf("  a removal moves the exact retrain by ‖w*(D) − w*(D')‖ = %.3e on average (at most "
           "%.3e);\n  two M3 releases differ by noise of sd σ√2 = %.3f along any direction\n",
           r.shift_mean, r.shift_max, r.sigma[ARM_M3] * sqrt(2.0));
    check(st[ARM_M1].mean >= 0.99, "M1 (the control): mean |cos| = %.5f ≥ 0.99",
          st[ARM_M1].mean);
    check(fabs(m3.mean) <= AUDIT_Z * m3.se,
          "M3 − ideal: mean paired difference %+.4f, |·| ≤ %g·SE = %.4f", m3.mean, AUDIT_Z,
          AUDIT_Z * m3.se);
    audit_stat bare = audit_stats(r.cos_bare, r.cos[ARM_IDEAL], k);
    check(fabs(bare.mean) > AUDIT_Z * bare.se,
          "control: M3's θ without its noise − ideal: mean paired difference %+.4f, beyond "
          "%g·SE = %.4f (the M3 − ideal check can fail)", bare.mean, AUDIT_Z,
          AUDIT_Z * bare.se);
    check(fabs(m3s.mean) <= AUDIT_Z * m3s.se,
          "M3 − ideal, share above x_r: mean paired difference %+.4f, |·| ≤ %g·SE = %.4f",
          m3s.mean, AUDIT_Z, AUDIT_Z * m3s.se);
    check(fabs(dp.mean) <= AUDIT_Z * dp.se,
          "dp − baseline: mean paired difference %+.4f, |·| ≤ %g·SE = %.4f", dp.mean, AUDIT_Z,
          AUDIT_Z * dp.se);
    check(r.replayed == r.releases, "%zu of %zu M3 and dp releases are (round(θ/g) + m)·g, m "
          "replayed from the seed", r.replayed, r.releases);
    check(r.bound_ok == 2 * k, "%zu of %zu removals (M3 and dp): ‖θ − w*(D')‖ ≤ certified "
          "bound ≤ Δ_max", r.bound_ok, 2 * k);
    audit_recon_free(&r);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    static const unsigned char SEED[32] = { 0xa7, 0x0d, 0x17, 0x2e, 0x5b, 0x38, 0x85 };
    const uint64_t PICK_SEED = 2385;
    /* releases per side: the tight and control audits on the random
     * problem and on the demo data; end to end (about 2.6 ms a release:
     * lethe_model_publish recomputes the history's ε each time), on the
     * first random removal only; sequential removals of the reconstruction
     * (a model's history runs out after about 50 releases at d = 784) */
    const size_t N_RANDOM = 100000, N_DEMO = 20000, N_E2E = 20000, K = 40;
    lethe_ctx *ctx = NULL;
    lethe_status st = lethe_ctx_create(NULL, &ctx);
    if (st != LETHE_OK)
        fm_die(ctx, "lethe", st);
    printf("lethe %s — audits of M3's claim (bench/audit.md)\n", LETHE_VERSION_STRING);
    audit_print_seed("seed      ", SEED);

    /* MATH.md §6's vector */
    double fu, nu, e = audit_eps_lb(10, 1000, 500, 1000, 1e-5, &fu, &nu);
    printf("\nClopper–Pearson: N = 1000 per side, FP 10, FN 500, δ = 1e-5: FPR_ub %.6f, "
           "FNR_ub %.6f, ε_LB %.6f\n", fu, nu, e);
    check(fabs(e - 3.241995) <= 1e-5, "ε_LB = %.7f, MATH.md §6 says 3.241995", e);

    lethe_train_options opt;
    lethe_train_options_init(&opt); /* M3: λ = 1e-4, Δ_max = 0.03, ε = 1, δ = 1e-5 */
    lethe_dataset *small = audit_problem(ctx, SEED, 200, 5);
    if (small == NULL)
        return 1;
    const uint64_t ids[] = { 7, 61, 118, 150, 193 };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        distinguish(ctx, "Distinguishing, random problem", small, &opt, ids[i], N_RANDOM,
                    i == 0 ? N_E2E : 0, SEED);
    lethe_dataset_free(small);

    char probe[1024];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", dir);
    FILE *f = fopen(probe, "rb");
    if (f == NULL) {
        printf("\nFashion-MNIST is not installed in %s (Debian: dataset-fashion-mnist): the "
               "audits on the demo data are SKIPPED\n", dir);
    } else {
        fclose(f);
        lethe_dataset *train = fm_load(ctx, dir, "train");
        distinguish(ctx, "Distinguishing, demo data", train, &opt, lethe_dataset_ids(train)[2385],
                    N_DEMO, 0, SEED);
        reconstruct(ctx, train, K, PICK_SEED, SEED);
        lethe_dataset_free(train);
    }
    lethe_ctx_free(ctx);
    printf("\n%s: %d assertion%s failed\n", failures ? "FAILED" : "passed", failures,
           failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}

#endif /* AUDIT_NO_MAIN */
