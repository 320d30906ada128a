/*
 * Mechanism M2: data-free removal by a Newton step and output perturbation
 * (Sekhari, Acharya, Kamath, Suresh, NeurIPS 2021, Alg. 1–2;
 * proofs/m2-removal.md, LTH-C-0009).
 *
 *   train:   w* = argmin Σᵢ ℓ(wᵀxᵢ, yᵢ) + (λn/2)‖w‖²           (no noise term)
 *   remove:  G = Σ_{z∈U} (ℓ'(w*ᵀx)x + λw*),  H_U = Σ_{S∖U} ℓ''(w*ᵀx)xxᵀ + λ(n − m)I
 *            w̄ = w* + H_U⁻¹G,   publish Π(w̄ + ν),  ν ~ N(0, σ²I) fresh each release,
 *            Π the projection onto ‖w‖ ≤ R/λ (post-processing)
 *   σ:       analytic Gaussian for the sensitivity Δ of proofs/m2-removal.md (4.1),
 *            a quarter of Sekhari et al.'s γ(m) = 2·M·m²·L²/(λ³n²) plus the solver's
 *            and the Neumann solve's allowances;  L = 2R,  M = γ_z·R³  (logistic)
 *
 * The factor kept is that of B = Σ_{S∖U} ℓ''xxᵀ + λnI, down-dated by one
 * rank-1 term per removed record; H_U = B − λmI is then solved exactly by
 * the Neumann series H_U⁻¹ = Σ_k (λm)^k B^{−(k+1)}, which converges because
 * B ⪰ λnI makes ‖λm·B⁻¹‖ ≤ m/n < 1 (each term two triangular solves).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/m2.h"
#include "optim/dataset.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

void lethe_m2_options_init(lethe_m2_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, sizeof *opt);
    opt->lambda = 1.0;
    opt->epsilon = 1.0;
    opt->delta = 1e-5;
    opt->capacity = 100;
    opt->tol = 1e-12;
    opt->max_iter = 100;
}

void lethe_m2_free(lethe_m2 *m)
{
    if (m == NULL)
        return;
    lethe_ctx *ctx = m->ctx;
    double **bufs[] = { &m->w_star, &m->U, &m->U2, &m->G, &m->G2, &m->w_bar,
                        &m->w_pub, &m->t, &m->acc, &m->w_new };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        lethe__free(ctx, *bufs[i]);
    if (m->noise != NULL)
        sodium_memzero(m->noise, m->d * sizeof *m->noise);
    lethe__free(ctx, m->noise);
    lethe__free(ctx, m->ids);
    lethe__free(ctx, m->removed);
    lethe__free(ctx, m->digest);
    lethe__idindex_free(ctx, &m->index);
    if (m->key != NULL)
        sodium_free(m->key);
    lethe__rng_free(m->rng);
    lethe__free(ctx, m);
}

/* The record's keyed digest: features and label, as their IEEE bytes. */
static void record_digest(const lethe_m2 *m, const double *x, double y, unsigned char *out)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, m->key, crypto_generichash_KEYBYTES, LETHE__M2_DIGEST_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)x, m->d * sizeof *x);
    crypto_generichash_update(&st, (const unsigned char *)&y, sizeof y);
    crypto_generichash_final(&st, out, LETHE__M2_DIGEST_BYTES);
}

/* Sekhari et al.'s γ(m), reported for comparison (the noise uses Δ, below). */
static double m2_gamma(double M, double L, double lambda, size_t n, size_t m)
{
    double mm = (double)m, nn = (double)n;
    return 2.0 * M * mm * mm * L * L / (lambda * lambda * lambda * nn * nn) * (1.0 + 1e-12);
}

/* Relative accuracy of the Neumann solve. Its error, at most NEUMANN_TOL·‖p‖
 * with ‖p‖ ≤ m·L/(λ(n − m)), is added to the sensitivity (m2_allowance). */
#define NEUMANN_TOL 1e-10

/* p := H⁻¹g for H = UᵀU − shift·I, by the Neumann series (see the top of the
 * file); q = shift/λn bounds ‖shift·(UᵀU)⁻¹‖. Stops when the tail bound
 * ‖term‖·q/(1 − q) falls below NEUMANN_TOL of the sum. Uses m->t. */
static lethe_status shifted_solve(lethe_m2 *m, const double *U, double shift, double q,
                                  const double *g, double *p)
{
    const size_t d = m->d;
    const int di = lethe__blas_int(d);
    memcpy(m->t, g, d * sizeof *m->t);
    lethe__chol_solve(U, d, m->t);
    memcpy(p, m->t, d * sizeof *p);
    if (!(shift > 0.0))
        return LETHE_OK;
    /* q ≤ ½ (capacity ≤ n/2): ‖term_k‖ ≤ q^k‖term_0‖, so 200 terms are far
     * more than the rule needs; if it is not met anyway, refuse. */
    for (int k = 0; k < 200; k++) {
        cblas_dscal(di, shift, m->t, 1);
        lethe__chol_solve(U, d, m->t);
        cblas_daxpy(di, 1.0, m->t, 1, p, 1);
        if (cblas_dnrm2(di, m->t, 1) * q / (1.0 - q) <= NEUMANN_TOL * cblas_dnrm2(di, p, 1))
            return LETHE_OK;
    }
    return lethe__fail(m->ctx, LETHE_ENOTPD, "m2: the shifted Newton system did not converge");
}

lethe_status lethe__m2_alloc(lethe_ctx *ctx, size_t n, size_t d, lethe_m2 **out)
{
    size_t dd, nh;
    if (!lethe__mul_size(d, d, &dd) || !lethe__mul_size(n, LETHE__M2_DIGEST_BYTES, &nh))
        return lethe__fail(ctx, LETHE_ESIZE, "m2: %zu×%zu overflows", n, d);
    lethe_m2 *m = lethe__calloc(ctx, 1, sizeof *m);
    if (m == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "m2: no memory");
    m->ctx = ctx;
    m->n = n;
    m->d = d;
    double **vec[] = { &m->w_star, &m->G, &m->G2, &m->w_bar, &m->w_pub, &m->t, &m->acc,
                       &m->w_new };
    int ok = 1;
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
        ok &= (*vec[i] = lethe__calloc(ctx, d, sizeof(double))) != NULL;
    m->U = lethe__calloc(ctx, dd, sizeof(double));
    m->U2 = lethe__calloc(ctx, dd, sizeof(double));
    m->noise = lethe__calloc(ctx, d, sizeof *m->noise);
    m->removed = lethe__calloc(ctx, n, 1);
    m->ids = lethe__calloc(ctx, n, sizeof *m->ids);
    m->digest = lethe__calloc(ctx, nh, 1);
    m->key = sodium_malloc(crypto_generichash_KEYBYTES);
    if (!ok || m->U == NULL || m->U2 == NULL || m->noise == NULL || m->removed == NULL ||
        m->ids == NULL ||
        m->digest == NULL ||
        m->key == NULL || lethe__idindex_alloc(ctx, &m->index, n) != LETHE_OK) {
        lethe_m2_free(m);
        return lethe__fail(ctx, LETHE_ENOMEM, "m2: no memory for %zu×%zu", n, d);
    }
    *out = m;
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0009 */
double lethe__m2_sensitivity(double M, double L, double lambda, size_t n, size_t m, double tol)
{
    const double nn = (double)n, mm = (double)m;
    /* t bounds the true training residual r₀: the solver stops at a computed
     * ‖∇‖ ≤ tol·max(1, λn), whose own rounding is at most γ_{n+2}·(2nR + t)
     * (M2-G3, proofs/m2-removal.md §10; 2R = L) */
    const double t0 = tol * fmax(1.0, lambda * nn), ku = (nn + 2.0) * 0x1p-53;
    const double t = (t0 + ku / (1.0 - ku) * (nn * L + t0)) * (1.0 + 1e-12), a = mm * L + t;
    return (M * a * a / (2.0 * lambda * lambda * lambda * nn * nn) +
            (2.0 * t + NEUMANN_TOL * mm * (L + t / nn)) / (lambda * (nn - mm))) *
           (1.0 + 1e-12);
}

/* IMPLEMENTS: LTH-C-0011 */
/* A bound on ‖w̄ computed − w̄ exact‖ for the m-th release from public
 * quantities only (proofs/m2-newton-rounding.md, Summary): the rounding of
 * the training Hessian and its factor, of every down-date, of the Neumann
 * solve and of w* + p, with u = 2⁻⁵³ and γ_k = 1.01·k·u; ×10 for safety and
 * for this evaluation's own rounding. +Inf (calibration then refuses) when a
 * side condition of the derivation fails — only for extreme n, d, R or λ.
 * Non-decreasing in m, so m = the capacity covers every release. */
double lethe__m2_rounding_bound(size_t n_, size_t m_, size_t d_, double R, double lambda,
                                double tol)
{
    const double u = 0x1p-53, tau = NEUMANN_TOL;
    const double n = (double)n_, m = (double)m_, d = (double)d_;
    if (m_ == 0)
        return 0.0; /* w̄ = w* is copied, not computed */
    if (!(lambda > 0.0) || !isfinite(lambda) || !(R >= 0.0) || !isfinite(R) || !(tol > 0.0) ||
        !isfinite(tol) || !(2.0 * m <= n) || !((n + 4.0 * d + 2.0 * m + 220.0) * u <= 1e-3) ||
        !(R * R <= 2.0 * lambda * n) || !(1.01 * d * u * R * R <= 1e-3 * lambda))
        return INFINITY;
#define GAM(k) (1.01 * (k) * u)
    const double t = tol * fmax(1.0, lambda * n), q = m / n, R2 = R * R;
    const double W = 1.01 * (R + t / n) / lambda; /* ≥ ‖w*‖ */
    /* errors of ℓ' and ℓ'' at the computed z */
    const double e1 = 0.25 * GAM(d) * R * W + 16.0 * u, e2 = 0.1 * GAM(d) * R * W + 16.0 * u;
    const double T = n * (0.26 * R2 + 1.01 * lambda * d), V = R2 * (1.0 + R2 / (4.0 * lambda));
    /* ‖B̂ − B‖: assembly, factorisation, the m down-dates (A-DOWNDATE) */
    const double etaB = GAM(n + 6.0) * n * (0.26 * R2 + 1.01 * lambda) + u * lambda * n +
                        (n + m) * R2 * e2 + 1.05 * GAM(d + 1.0) * T +
                        80.0 * u * m * (1.05 * T + d * V) + 0.26 * GAM(4.0) * m * R2;
    const double etaH = etaB + u * lambda * m;
    const double etaG = GAM(2.0 * m + 1.0) * m * (1.01 * R + lambda * W) + m * R * e1;
    const double P = m * (R + lambda * W) / (lambda * (n - m)); /* ≥ ‖p‖ */
    const double Gb = m * (R + lambda * W) + etaG;
    const double beta = 1.0 / (lambda * n - etaB);
    const double om = GAM(2.0 * d) * 1.05 * T * beta;
    const double xi = (u + etaB / (lambda * n)) / (1.0 - etaB / (lambda * n));
    if (!(d * etaB <= 0.01 * T) || !(etaH <= 1e-3 * lambda * (n - m)) || !(om <= 1e-3))
        return INFINITY;
    const double rho = q * (1.0 + xi) * (1.0 + u) / (1.0 - om);
    /* the Neumann solve's rounding, and the perturbation of the exact system */
    const double Es = ((u + om) / ((1.0 - rho) * (1.0 - rho)) + GAM(200.0) / (1.0 - rho)) *
                      beta * Gb / (1.0 - om);
    const double Ep = (etaG + etaH * P) / (lambda * (n - m) - etaH);
    const double raw = u * (W + 1.01 * P) + 2.1 * Es + 1.01 * Ep +
                       tau * (0.01 + 1.01 * (GAM(4.0 * d + 16.0) + 3.0 * xi)) * P;
#undef GAM
    return 10.0 * raw;
}

/* L = 2R and M = γ_z·R³ of the logistic loss on ‖x‖ ≤ R, ‖w‖ ≤ R/λ
 * (‖ℓ'x + λw‖ ≤ R + λ·R/λ). 0, or −1 when R is not usable. */
static int m2_constants(double R, double *L, double *M)
{
    lethe_loss_constants k;
    if (lethe_loss_get_constants(LETHE_LOSS_LOGISTIC, R, &k) != LETHE_OK)
        return -1;
    *L = 2.0 * R;
    *M = k.d2_lip * R * R * R;
    return 0;
}

/* IMPLEMENTS: LTH-C-0009 */
double lethe__m2_base(double R, double lambda, size_t n, size_t m, size_t d, double tol,
                      double *newton_fp)
{
    double L = NAN, M = NAN;
    double fp = m2_constants(R, &L, &M) == 0
                    ? lethe__m2_rounding_bound(n, m, d, R, lambda, tol)
                    : INFINITY;
    if (newton_fp != NULL)
        *newton_fp = fp;
    return isfinite(fp) ? lethe__m2_sensitivity(M, L, lambda, n, m, tol) + fp : INFINITY;
}

lethe_status lethe__m2_calibrate(lethe_m2 *m)
{
    if (m2_constants(m->R, &m->L, &m->M) != 0)
        return lethe__fail(m->ctx, LETHE_EINVAL, "m2: the norm bound R = %g is not usable", m->R);
    m->gamma = m2_gamma(m->M, m->L, m->lambda, m->n, m->capacity);
    /* The sensitivity actually used, proofs/m2-removal.md (4.1): valid for
     * every training residual r₀ ≤ t, with t = tol·max(1, λn) the solver's
     * stopping bound — public, so σ does not depend on the data — and the
     * Neumann solve's relative error τ = NEUMANN_TOL:
     *   Δ = M(mL + t)²/(2λ³n²) + (2t + τ·m(L + t/n))/(λ(n − m)),  m = m_cap,
     * four times below Sekhari et al.'s γ(m) when t ≪ mL; plus the Newton
     * step's rounding (LTH-C-0011). */
    const double base =
        lethe__m2_base(m->R, m->lambda, m->n, m->capacity, m->d, m->tol, &m->newton_fp);
    if (!isfinite(m->newton_fp))
        return lethe__fail(m->ctx, LETHE_EINVAL,
                           "m2: n = %zu, d = %zu, R = %g, λ = %g are outside the range where the "
                           "Newton step's rounding is bounded (LTH-C-0011)", m->n, m->d, m->R,
                           m->lambda);
    if (lethe__calibrate_release(m->epsilon, m->delta, m->d, base,
                                 &m->sensitivity, &m->sigma, &m->lat) != LETHE_OK)
        return lethe__fail(m->ctx, LETHE_EINVAL,
                           "m2: cannot calibrate σ for Δ = %g at ε = %g, δ = %g (δ below the "
                           "sampler's share, or σ outside its range)", base, m->epsilon,
                           m->delta);
    return LETHE_OK;
}

/* Draw the integers of the next release's noise into m->noise, before any
 * data is touched (LTH-C-0010, timing); *pos receives the stream position
 * to rewind to if the call fails. */
static void draw_noise(lethe_m2 *m, uint64_t *pos)
{
    *pos = lethe__rng_position(m->rng);
    lethe__lattice_draw(&m->lat, m->rng, m->noise, m->d);
}

/* Publish Π_W((round(w̄/g) + m)·g) into dst: m the integers drawn by
 * draw_noise, the sum exact (LTH-C-0010 §6); Π_W the projection onto the
 * ball ‖w‖ ≤ R/λ that holds every minimiser. Being post-processing it leaves
 * the certificate as it is, and it is what the excess-risk bound of
 * proofs/deletion-capacity.md (Theorem R) needs. LETHE_EINVAL if |w̄/g| is
 * beyond the sampler's range (dst untouched). */
static lethe_status release(lethe_m2 *m, const double *w_bar, double *dst)
{
    const int di = lethe__blas_int(m->d);
    if (lethe__lattice_release(&m->lat, w_bar, m->noise, dst, m->d) != LETHE_OK)
        return lethe__fail(m->ctx, LETHE_EINVAL,
                           "m2: a weight of w̄ is not finite or beyond 2^120 lattice steps");
    double norm = cblas_dnrm2(di, dst, 1), rho = m->R / m->lambda;
    if (norm > rho)
        cblas_dscal(di, rho / norm * (1.0 - 4.0 * 0x1p-53), dst, 1);
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0009 */
lethe_status lethe_m2_train(lethe_ctx *ctx, const lethe_dataset *data,
                            const lethe_m2_options *opt, lethe_m2 **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (data == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "m2: data, opt and out must not be NULL");
    if (!(opt->lambda > 0.0) || !isfinite(opt->lambda) || !(opt->epsilon > 0.0) ||
        !isfinite(opt->epsilon) || !(opt->delta > 0.0 && opt->delta < 1.0) ||
        !(opt->tol > 0.0) || !isfinite(opt->tol) || opt->max_iter == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "m2: λ, ε, tol must be finite and > 0, δ in (0, 1), "
                                              "max_iter ≥ 1");
    size_t capacity = opt->capacity;
    if (capacity == 0 && opt->alpha > 0.0 && isfinite(opt->alpha) && data->n >= 2) {
        /* the largest m whose excess-risk bound stays within α (LTH-C-0008) */
        lethe_capacity_query q = { data->n, data->d, opt->epsilon, opt->delta, opt->lambda,
                                   0.0, 0.0, opt->alpha, 0, 0, opt->tol };
        lethe_capacity c;
        if (lethe_loss_capacity_constants(LETHE_LOSS_LOGISTIC, data->R, opt->lambda, &q.L,
                                          &q.M) != LETHE_OK ||
            lethe_deletion_capacity(&q, &c) != LETHE_OK || c.newton == 0)
            return lethe__fail(ctx, LETHE_EINVAL,
                               "m2: no removal fits the excess risk α = %g at λ = %g, n = %zu",
                               opt->alpha, opt->lambda, data->n);
        capacity = c.newton < data->n / 2 ? c.newton : data->n / 2;
    }
    /* m ≤ n/2 keeps the Neumann solve's ratio q = m/n ≤ ½ (≤ 35 terms) */
    if (capacity == 0 || capacity > data->n / 2)
        return lethe__fail(ctx, LETHE_EINVAL, "m2: capacity %zu must lie in [1, n/2 = %zu]",
                           capacity, data->n / 2);
    if (data->r_measured)
        return lethe__fail(ctx, LETHE_EINVAL,
                           "m2: the norm bound R must be fixed in advance (REQUIRE, CLIP or "
                           "NORMALIZE), not measured: σ must not depend on the data");
    for (size_t i = 0; i < data->n; i++)
        if (!lethe__loss_label_ok(LETHE_LOSS_LOGISTIC, data->y[i]))
            return lethe__fail(ctx, LETHE_ELABEL, "m2: label %g of row %zu is not ±1",
                               data->y[i], i);
    lethe_m2 *m = NULL;
    lethe_status st = lethe__m2_alloc(ctx, data->n, data->d, &m);
    if (st != LETHE_OK)
        return st;
    m->lambda = opt->lambda;
    m->epsilon = opt->epsilon;
    m->delta = opt->delta;
    m->capacity = capacity;
    m->tol = opt->tol;
    m->R = data->R;
    /* σ from public quantities, then the noise, before any pass over the data */
    st = lethe__m2_calibrate(m);
    if (st == LETHE_OK)
        st = lethe__rng_create(opt->seed, &m->rng);
    if (st != LETHE_OK) {
        lethe_m2_free(m);
        return st == LETHE_ENOMEM ? lethe__fail(ctx, st, "m2: no memory for the noise") : st;
    }
    uint64_t pos;
    draw_noise(m, &pos);

    /* exact ERM, no noise; the solver's workspace lives only for training */
    lethe_objective obj = { LETHE_LOSS_LOGISTIC, data->n, data->d, data->x, data->y, NULL,
                            data->n, m->lambda, NULL };
    lethe_optim_ws ws;
    double *s = lethe__calloc(ctx, data->n, sizeof *s);
    if (s == NULL || lethe__optim_ws_init(ctx, &ws, data->n, data->d) != LETHE_OK) {
        lethe__free(ctx, s);
        lethe_m2_free(m);
        return lethe__fail(ctx, LETHE_ENOMEM, "m2: no memory for the solver");
    }
    double gnorm = 0.0;
    unsigned iters = 0;
    st = lethe__newton(ctx, &obj, m->w_star, opt->tol * fmax(1.0, m->lambda * (double)data->n),
                       opt->max_iter, m->U, s, &ws, &gnorm, &iters);
    lethe__optim_ws_free(ctx, &ws);
    lethe__free(ctx, s);
    if (st == LETHE_OK) {
        m->train_residual = gnorm; /* ≤ t by the solver's stopping rule */
        memcpy(m->w_bar, m->w_star, m->d * sizeof *m->w_bar);
        st = release(m, m->w_bar, m->w_pub); /* even the first model is the noised one */
    }
    if (st != LETHE_OK) {
        lethe_m2_free(m);
        return st;
    }
    randombytes_buf(m->key, crypto_generichash_KEYBYTES);
    for (size_t i = 0; i < m->n; i++)
        record_digest(m, data->x + i * m->d, data->y[i], m->digest + i * LETHE__M2_DIGEST_BYTES);
    memcpy(m->ids, data->ids, m->n * sizeof *m->ids);
    lethe__idindex_build(&m->index, m->ids, m->n);
    *out = m;
    return LETHE_OK;
}

static lethe_status check_records(lethe_m2 *m, size_t k, const double *x, size_t ldx,
                                  const double *y, const uint64_t *ids, size_t *rows)
{
    lethe_status st = LETHE_OK;
    size_t t = 0;
    unsigned char dg[LETHE__M2_DIGEST_BYTES];
    for (; t < k && st == LETHE_OK; t++) {
        size_t i = lethe__idindex_find(&m->index, ids[t]);
        if (i == SIZE_MAX)
            st = lethe__fail(m->ctx, LETHE_ENOTFOUND, "m2: no record has id %llu",
                             (unsigned long long)ids[t]);
        else if (m->removed[i] == 1)
            st = lethe__fail(m->ctx, LETHE_EREMOVED, "m2: record %llu was already removed",
                             (unsigned long long)ids[t]);
        else if (m->removed[i] == 2)
            st = lethe__fail(m->ctx, LETHE_EDUPLICATE, "m2: id %llu appears twice",
                             (unsigned long long)ids[t]);
        if (st != LETHE_OK)
            break;
        record_digest(m, x + t * ldx, y[t], dg);
        if (sodium_memcmp(dg, m->digest + i * LETHE__M2_DIGEST_BYTES, LETHE__M2_DIGEST_BYTES) != 0) {
            st = lethe__fail(m->ctx, LETHE_EMISMATCH,
                             "m2: the features or label given for id %llu are not those trained on",
                             (unsigned long long)ids[t]);
            break;
        }
        m->removed[i] = 2; /* pending: catches an id given twice in the batch */
        rows[t] = i;
    }
    for (size_t u = 0; u < t; u++) /* the marks served their purpose: clear them all */
        m->removed[rows[u]] = 0;
    return st;
}

/* Argument, capacity, label and finiteness checks shared by remove and check. */
static lethe_status precheck(lethe_m2 *m, size_t k, const double *x, size_t ldx,
                             const double *y, const uint64_t *ids)
{
    if (k == 0 || x == NULL || y == NULL || ids == NULL || ldx < m->d)
        return lethe__fail(m->ctx, LETHE_EINVAL, "m2: remove needs k ≥ 1 records, ldx ≥ d");
    if (k > m->capacity - m->used)
        return lethe__fail(m->ctx, LETHE_ECAPACITY,
                           "m2: %zu more removals would exceed the capacity %zu (%zu used); "
                           "retrain the model", k, m->capacity, m->used);
    for (size_t t = 0; t < k; t++) {
        if (!lethe__loss_label_ok(LETHE_LOSS_LOGISTIC, y[t]))
            return lethe__fail(m->ctx, LETHE_ELABEL, "m2: label %g is not ±1", y[t]);
        for (size_t j = 0; j < m->d; j++)
            if (!isfinite(x[t * ldx + j]))
                return lethe__fail(m->ctx, LETHE_ENONFINITE, "m2: record %zu holds %g", t,
                                   x[t * ldx + j]);
    }
    return LETHE_OK;
}

/* Every check a removal makes before any arithmetic; on LETHE_OK *rows
 * (k entries, the caller frees) holds the records' rows. Leaves no mark. */
static lethe_status validate_batch(lethe_m2 *m, size_t k, const double *x, size_t ldx,
                                   const double *y, const uint64_t *ids, size_t **rows)
{
    lethe_status st = precheck(m, k, x, ldx, y, ids);
    if (st != LETHE_OK)
        return st;
    *rows = lethe__calloc(m->ctx, k, sizeof **rows);
    if (*rows == NULL)
        return lethe__fail(m->ctx, LETHE_ENOMEM, "m2: no memory for %zu records", k);
    st = check_records(m, k, x, ldx, y, ids, *rows);
    if (st != LETHE_OK) {
        lethe__free(m->ctx, *rows);
        *rows = NULL;
    }
    return st;
}

lethe_status lethe_m2_check_removal(lethe_m2 *m, size_t k, const double *x, size_t ldx,
                                    const double *y, const uint64_t *ids)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    size_t *rows = NULL;
    lethe_status st = validate_batch(m, k, x, ldx, y, ids, &rows);
    lethe__free(m->ctx, rows);
    return st;
}

/* IMPLEMENTS: LTH-C-0009 */
lethe_status lethe_m2_remove(lethe_m2 *m, size_t k, const double *x, size_t ldx,
                             const double *y, const uint64_t *ids, lethe_m2_report *rep)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    /* the release's noise first, before any record is read (LTH-C-0010);
     * every failure below rewinds the stream, so nothing changes */
    uint64_t pos;
    draw_noise(m, &pos);
    size_t *rows = NULL;
    lethe_status st = validate_batch(m, k, x, ldx, y, ids, &rows);
    if (st != LETHE_OK) {
        lethe__rng_seek(m->rng, pos);
        return st;
    }
    const size_t d = m->d;
    const int di = lethe__blas_int(d);
    /* G2 = G + Σ (ℓ'(w*ᵀx)x + λw*); U2 = U down-dated by ℓ''(w*ᵀx)·xxᵀ */
    memcpy(m->G2, m->G, d * sizeof *m->G2);
    for (size_t t = 0; t < k && st == LETHE_OK; t++) {
        const double *xt = x + t * ldx;
        double d1, d2;
        lethe__loss_eval(LETHE_LOSS_LOGISTIC, cblas_ddot(di, xt, 1, m->w_star, 1), y[t], NULL,
                         &d1, &d2);
        cblas_daxpy(di, d1, xt, 1, m->G2, 1);
        cblas_daxpy(di, m->lambda, m->w_star, 1, m->G2, 1);
        cblas_dcopy(di, xt, 1, m->acc, 1);
        cblas_dscal(di, sqrt(d2), m->acc, 1);
        /* B ⪰ λnI stays true, so each pivot² is ≥ λn; and every transformed
         * vector within V = R²(1 + R²/(4λ)), twice its exact-arithmetic bound,
         * as the rounding bound assumes (A-DOWNDATE, LTH-C-0011). M2 has no
         * data to recompute the Hessian from: a failed check refuses the
         * removal, which depends on the data and U only, never on the noise. */
        const double V = m->R * m->R * (1.0 + m->R * m->R / (4.0 * m->lambda));
        if (lethe__chol_downdate_from(t == 0 ? m->U : m->U2, m->U2, d, m->acc,
                                      0.5 * m->lambda * (double)m->n, V) != LETHE_OK)
            st = lethe__fail(m->ctx, LETHE_ENOTPD,
                             "m2: the down-date left its proven range (definiteness, or a "
                             "transformed vector above R²(1 + R²/(4λ)): A-DOWNDATE); nothing "
                             "was removed");
    }
    size_t used = m->used + k;
    double shift = m->lambda * (double)used, q = (double)used / (double)m->n;
    if (st == LETHE_OK)
        st = shifted_solve(m, m->U2, shift, q, m->G2, m->acc); /* acc = H_U⁻¹G */
    if (st == LETHE_OK) {
        for (size_t j = 0; j < d; j++)
            m->t[j] = m->w_star[j] + m->acc[j]; /* the new w̄ */
        st = release(m, m->t, m->w_new);
    }
    if (st != LETHE_OK) {
        lethe__free(m->ctx, rows);
        lethe__rng_seek(m->rng, pos);
        return st;
    }
    /* commit: nothing below can fail */
    double *tmp = m->U;
    m->U = m->U2;
    m->U2 = tmp;
    memcpy(m->G, m->G2, d * sizeof *m->G);
    memcpy(m->w_bar, m->t, d * sizeof *m->w_bar);
    tmp = m->w_pub;
    m->w_pub = m->w_new;
    m->w_new = tmp;
    for (size_t t = 0; t < k; t++)
        m->removed[rows[t]] = 1;
    lethe__free(m->ctx, rows);
    m->used = used;
    if (rep != NULL) {
        lethe_m2_status(m, rep);
        rep->removed = k;
    }
    return LETHE_OK;
}

const double *lethe_m2_weights(const lethe_m2 *m) { return m == NULL ? NULL : m->w_pub; }

lethe_status lethe_m2_predict(lethe_m2 *m, size_t n, const double *x, size_t ldx, double *label,
                              double *prob)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    return lethe__predict(m->ctx, LETHE_LOSS_LOGISTIC, m->w_pub, m->d, n, x, ldx, label, prob);
}
size_t lethe_m2_dim(const lethe_m2 *m) { return m == NULL ? 0 : m->d; }

lethe_status lethe_m2_status(const lethe_m2 *m, lethe_m2_report *out)
{
    if (m == NULL || out == NULL)
        return LETHE_EINVAL;
    memset(out, 0, sizeof *out);
    out->used = m->used;
    out->capacity = m->capacity;
    out->gamma = m->gamma;
    out->sensitivity = m->sensitivity;
    out->sigma = m->sigma;
    out->epsilon = m->epsilon;
    out->delta = m->delta;
    out->newton_fp = m->newton_fp;
    out->lattice = m->lat.g;
    out->lattice_rounding = lethe__lattice_rounding(&m->lat, m->d);
    out->delta_sampler = lethe__lattice_delta(m->d, m->epsilon);
    out->sampler = LETHE__SAMPLER_NAME;
    out->seeded = lethe__rng_seeded(m->rng);
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0007 */
lethe_status lethe_m2_epsilon(const lethe_m2 *m, double delta, double *epsilon)
{
    if (m == NULL)
        return LETHE_EINVAL;
    if (epsilon == NULL || !(delta > 0.0 && delta < 1.0))
        return LETHE_EINVAL;
    return lethe__epsilon_with_sampler(m->sensitivity / m->sigma, m->d, delta, epsilon);
}

/* IMPLEMENTS: LTH-C-0007 */
lethe_status lethe_m2_delta(const lethe_m2 *m, double epsilon, double *delta)
{
    if (m == NULL || delta == NULL)
        return LETHE_EINVAL;
    double d = lethe_gdp_delta(m->sensitivity / m->sigma, epsilon);
    if (isnan(d))
        return LETHE_EINVAL;
    d += lethe__lattice_delta(m->d, epsilon);
    *delta = d < 1.0 ? d : 1.0;
    return LETHE_OK;
}

lethe_status lethe_m2_evaluate(lethe_m2 *m, const lethe_dataset *data, double *accuracy)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    return lethe__evaluate(m->ctx, LETHE_LOSS_LOGISTIC, m->w_pub, m->d, data, accuracy);
}
