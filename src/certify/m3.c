/*
 * Mechanism M3: a secret noise-free state and one fresh lattice release per
 * publication (proofs/m3-release.md LTH-C-0012, proofs/m3-accounting.md
 * LTH-C-0013, proofs/m3-capacity.md LTH-C-0014).
 *
 *   F_D(w) = Σ_{i∈D} ℓ(wᵀxᵢ, yᵢ) + (λ|D|/2)‖w‖²        (no noise term: b = 0)
 *   accept θ'  ⇔  (ρ̂ + E)/(λ|D'|) ≤ Δ_max               (then ‖θ' − w*(D')‖ ≤ Δ_max)
 *              ρ̂ = ‖∇F_{D'}(θ')‖ as computed, E its rounding bound (exact-residual.md (e))
 *   release    (round(θ/g) + m)·g, m fresh from the lattice sampler of σ (LTH-C-0010)
 *   σ          analytic Gaussian for Δ_rel = Δ_max + g√d; with dp_releases for
 *              2Δ_max + 2R·sup|ℓ'|/(λ·n_min) + g√d
 *   history    k releases are √k·μ-GDP, μ = Δ_rel/σ, with (1 + e^ε)·k·d·τ more in δ
 *
 * The state θ, the accept/re-anchor decisions and everything the owner's
 * reports say are deterministic functions of the data and the requests:
 * nothing depends on the noise, which is drawn only when a release is made.
 * The model is lethe_model (model.c) with b = 0; this file holds what M3
 * does differently.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

/* A few ulps for each rounded product or quotient below. */
#define ULPS (4.0 * 0x1p-53)

double lethe__budget_at(const lethe_model *m, size_t n)
{
    return m->mech == LETHE_MECH_M3 ? lethe__m3_budget(m, n) : m->budget;
}

/* IMPLEMENTS: LTH-C-0012 */
double lethe__m3_budget(const lethe_model *m, size_t n)
{
    /* μ = λn rounded down, times Δ_max rounded down; the margin (1 − 2⁻⁵¹)
     * is what makes fl(ρ̂ + E) ≤ this imply (ρ̂ + E)/(λn) ≤ Δ_max with room
     * for this product's own two roundings (m3-release.md): keep it */
    return m->lambda * (double)n * m->delta_max * (1.0 - ULPS);
}

/* IMPLEMENTS: LTH-C-0012 */
double lethe__m3_distance(const lethe_model *m, double residual, double fp, size_t n)
{
    /* ‖θ − w*‖ ≤ ‖∇F(θ)‖/μ by λn-strong convexity, ‖∇F(θ)‖ ≤ ρ̂ + E */
    return (residual + fp) / (m->lambda * (double)n) * (1.0 + ULPS);
}

/* IMPLEMENTS: LTH-C-0012, LTH-C-0013 */
double lethe__m3_base(double delta_max, int dp, double C, double lambda, size_t n_min,
                      double *dp_sens)
{
    if (!dp) {
        if (dp_sens != NULL)
            *dp_sens = 0.0;
        return delta_max;
    }
    /* ‖w*(A) − w*(B)‖ ≤ 2R·sup|ℓ'|/(λ|A|) for A = B ∪ {z}, |A| ≥ n_min;
     * each centre is within Δ_max of its own minimiser */
    double s = 2.0 * C / (lambda * (double)n_min) * (1.0 + ULPS);
    if (dp_sens != NULL)
        *dp_sens = s;
    return (2.0 * delta_max + s) * (1.0 + ULPS);
}

/* IMPLEMENTS: LTH-C-0012, LTH-C-0013 */
lethe_status lethe__m3_calibrate(lethe_model *m)
{
    const double base = lethe__m3_base(m->delta_max, m->dp, m->k.grad_bound, m->lambda,
                                       m->dp_min, &m->dp_sens);
    if (lethe__calibrate_release(m->epsilon, m->delta, m->d, base, &m->sens, &m->sigma,
                                 &m->lat) != LETHE_OK)
        return lethe__fail(m->ctx, LETHE_EINVAL,
                           "m3: cannot calibrate σ for Δ = %g at ε = %g, δ = %g (δ below the "
                           "sampler's share (1 + e^ε)·d·τ, or σ outside the sampler's range)",
                           base, m->epsilon, m->delta);
    return LETHE_OK;
}

lethe_status lethe__m3_setup(lethe_model *m, const lethe_train_options *o, size_t n,
                             int r_measured)
{
    lethe_ctx *ctx = m->ctx;
    if (!(o->delta_max > 0.0) || !isfinite(o->delta_max))
        return lethe__fail(ctx, LETHE_EINVAL, "Δ_max = %g must be finite and > 0", o->delta_max);
    if (!(o->epsilon > 0.0) || !isfinite(o->epsilon))
        return lethe__fail(ctx, LETHE_EINVAL, "ε = %g must be finite and > 0", o->epsilon);
    if (!(o->delta > 0.0 && o->delta < 1.0))
        return lethe__fail(ctx, LETHE_EINVAL, "δ = %g must lie in (0, 1)", o->delta);
    if (!lethe__is_zero(o->sigma))
        return lethe__fail(ctx, LETHE_EINVAL,
                           "σ = %g: M3 derives σ from Δ_max, ε and δ; leave sigma 0 (σ and the "
                           "budget are M1's)", o->sigma);
    if (!(o->epsilon_cap >= 0.0) || !isfinite(o->epsilon_cap))
        return lethe__fail(ctx, LETHE_EINVAL, "the ε cap %g must be finite and ≥ 0 (0: none)",
                           o->epsilon_cap);
    if (o->dp_releases != 0 && o->dp_releases != 1)
        return lethe__fail(ctx, LETHE_EINVAL, "dp_releases must be 0 or 1");
    if (!(o->tol > 0.0) || !isfinite(o->tol) || o->max_iter == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "tol = %g must be finite and > 0, max_iter ≥ 1",
                           o->tol);
    /* the solver stops at ‖∇F‖ ≤ tol·max(1, λn): that must sit well inside
     * what Δ_max allows, λn·Δ_max */
    double stop = o->tol * fmax(1.0, o->lambda * (double)n);
    if (!(stop <= o->lambda * (double)n * o->delta_max / 10.0))
        return lethe__fail(ctx, LETHE_EINVAL,
                           "tol = %g stops at ‖∇F‖ ≈ %.3g, above a tenth of λn·Δ_max = %.3g; "
                           "lower tol or raise Δ_max", o->tol, stop,
                           o->lambda * (double)n * o->delta_max);
    m->delta_max = o->delta_max;
    m->eps_cap = o->epsilon_cap;
    m->newton_extra = o->newton_extra;
    m->dp = o->dp_releases;
    m->dp_min = 0;
    if (m->dp) {
        if (!isfinite(m->k.grad_bound))
            return lethe__fail(ctx, LETHE_EINVAL,
                               "dp_releases needs a loss with bounded ℓ' (logistic, smooth "
                               "hinge, Huber); the squared loss has none");
        if (r_measured)
            return lethe__fail(ctx, LETHE_EINVAL,
                               "dp_releases needs a norm bound R fixed in advance (norm policy "
                               "require, clip or normalize), not one measured from the data");
        m->dp_min = o->dp_min_records != 0 ? o->dp_min_records : (n + 1) / 2;
        /* add/remove neighbours need a non-empty smaller set (m3-accounting.md) */
        if (m->dp_min > n || m->dp_min < 2)
            return lethe__fail(ctx, LETHE_EINVAL,
                               "dp_min_records = %zu must lie in [2, %zu], the records trained on",
                               m->dp_min, n);
    }
    return lethe__m3_calibrate(m);
}

/* drift + ‖p‖ for the step p just taken to w2, rounded up and with the
 * rounding of w2 = fl(w + p) itself (proofs/m3-capacity.md §6): a bound on
 * the distance from the anchor. */
static double drift_add(const lethe_model *m, double drift)
{
    const int di = lethe__blas_int(m->d);
    double p = cblas_dnrm2(di, m->p, 1), w = cblas_dnrm2(di, m->w2, 1);
    /* dnrm2's error: the factor 1 + γ_{2d} (m3-capacity.md §6, M3-C5; 1 + 2⁻⁴⁰
     * alone covered it only for d ≤ 4096), and 2⁻⁴⁰ for the rest */
    const double g2d = 2.0 * (double)m->d * 0x1p-53;
    const double up = 1.0 + g2d / (1.0 - g2d) + 0x1p-40;
    return (drift + p * up + 0x1p-53 * (w + 2.0 * p)) * (1.0 + 0x1p-40);
}

/* One Newton step from the iterate w2 (gradient g2 on D') with the factor
 * in U2; updates w2, g2 and the report. */
static void newton_again(lethe_model *m, lethe_removal_report *rep)
{
    const size_t d = m->d;
    memcpy(m->v, m->g2, d * sizeof *m->v);
    for (size_t j = 0; j < d; j++)
        m->p[j] = -m->v[j];
    lethe__chol_solve(m->U2, d, m->p);
    for (size_t j = 0; j < d; j++)
        m->w2[j] += m->p[j];
    lethe_pass pass;
    lethe__residual_pass(m, m->b, m->w2, m->p, m->v, &pass);
    rep->residual = pass.residual;
    rep->residual_fp = pass.fp_error;
    rep->certified = pass.residual + pass.fp_error <= rep->budget;
}

/* Re-anchor: Newton's method (fresh Hessians, line search) from w2 on D' to
 * the training tolerance, then the exact residual. The factor and the
 * curvatures at the final iterate land in U2 and s2. */
static lethe_status reanchor(lethe_model *m, lethe_removal_report *rep, unsigned *iters)
{
    lethe_objective obj = lethe__model_objective(m, m->b);
    double gnorm = 0.0;
    lethe_status st = lethe__newton(m->ctx, &obj, m->w2,
                                    m->tol * fmax(1.0, m->lambda * (double)m->n_live),
                                    m->max_iter, m->U2, m->s2, &m->ws, &gnorm, iters);
    if (st != LETHE_OK)
        return st;
    memset(m->p, 0, m->d * sizeof *m->p);
    memset(m->v, 0, m->d * sizeof *m->v);
    lethe_pass pass;
    lethe__residual_pass(m, m->b, m->w2, m->p, m->v, &pass);
    rep->residual = pass.residual;
    rep->residual_fp = pass.fp_error;
    rep->certified = pass.residual + pass.fp_error <= rep->budget;
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0012 */
lethe_status lethe__m3_step(lethe_model *m, const size_t *rows, size_t k,
                            lethe_removal_path path, lethe_removal_report *rep, double *drift)
{
    lethe_status st = lethe__removal_step(m, rows, k, path, rep); /* budget at |D'| */
    if (st != LETHE_OK)
        return st;
    return lethe__m3_continue(m, rep, drift);
}

/* IMPLEMENTS: LTH-C-0012 */
lethe_status lethe__m3_continue(lethe_model *m, lethe_removal_report *rep, double *drift)
{
    lethe_status st = LETHE_OK;
    double dr = drift_add(m, rep->path == LETHE_PATH_EXACT ? 0.0 : m->drift);
    unsigned steps = 1, extra = 0, reanchors = 0;
    for (; !rep->certified && extra < m->newton_extra; extra++, steps++) {
        newton_again(m, rep);
        if (!isfinite(rep->residual))
            break; /* a wild step: re-anchor from w (below) */
        dr = drift_add(m, dr);
    }
    if (!rep->certified) {
        unsigned iters = 0;
        if (!isfinite(rep->residual)) /* start again from θ */
            memcpy(m->w2, m->w, m->d * sizeof *m->w2);
        st = reanchor(m, rep, &iters);
        reanchors = 1;
        steps += iters;
        dr = 0.0; /* the factor is the Hessian at the final iterate */
        if (st == LETHE_OK && !rep->certified)
            st = lethe__fail(m->ctx, LETHE_ENOCONV,
                             "remove: even the re-anchored solution has ‖θ − w*‖ ≤ %.3g, above "
                             "Δ_max = %.3g; lower tol or raise Δ_max",
                             lethe__m3_distance(m, rep->residual, rep->residual_fp, m->n_live),
                             m->delta_max);
    }
    /* Guo's bound is M1's and the pass does not compute it for M3: the
     * charged residual is its own bound */
    rep->residual_bound = rep->residual + rep->residual_fp;
    rep->steps = steps;
    rep->reanchors = reanchors;
    rep->distance = lethe__m3_distance(m, rep->residual, rep->residual_fp, m->n_live);
    *drift = dr;
    return st;
}

/* IMPLEMENTS: LTH-C-0013 */
double lethe__m3_epsilon(const lethe_model *m, size_t k, double delta)
{
    size_t units;
    if (k == 0 || !lethe__mul_size(k, m->d, &units))
        return NAN;
    double mu = m->sens / m->sigma * sqrt((double)k) * (1.0 + 2.0 * ULPS);
    double e = NAN;
    if (lethe__epsilon_with_sampler(mu, units, delta, &e) != LETHE_OK)
        return NAN;
    return e;
}

/* IMPLEMENTS: LTH-C-0012, LTH-C-0013 */
lethe_status lethe__m3_publish(lethe_model *m, lethe_release_report *rep)
{
    if (m->dp && m->n_live < m->dp_min)
        return lethe__fail(m->ctx, LETHE_ECAPACITY,
                           "publish: %zu records left, fewer than the %zu that DP releases were "
                           "calibrated for; train a new model", m->n_live, m->dp_min);
    const size_t k = m->releases + 1;
    double eps = lethe__m3_epsilon(m, k, m->delta);
    /* decided on public counts only, before any noise is drawn; a history
     * whose ε no longer reaches δ (the sampler's (1 + e^ε)·k·d·τ grows with
     * ε: about 50 releases at d = 784, (1, 1e-5); M3-F1) is refused too */
    if (isnan(eps))
        return lethe__fail(m->ctx, LETHE_EBUDGET,
                           "publish: after %zu releases no ε reaches δ = %g for the published "
                           "history; batch removals into fewer releases, or train a new model",
                           m->releases, m->delta);
    if (m->eps_cap > 0.0 && !(eps <= m->eps_cap))
        return lethe__fail(m->ctx, LETHE_EBUDGET,
                           "publish: release %zu would take the published history to ε = %.4g "
                           "at δ = %g, above the cap %.4g", k, eps, m->delta, m->eps_cap);
    /* fresh integers first, drawn before θ is read (LTH-C-0010, timing) */
    uint64_t pos = lethe__rng_position(m->rng);
    lethe__lattice_draw(&m->lat, m->rng, m->noise, m->d);
    lethe_status st = lethe__lattice_release(&m->lat, m->w, m->noise, m->pub, m->d);
    sodium_memzero(m->noise, m->d * sizeof *m->noise);
    if (st != LETHE_OK) {
        lethe__rng_seek(m->rng, pos);
        return lethe__fail(m->ctx, LETHE_EINVAL,
                           "publish: a weight of θ is beyond 2^120 lattice steps");
    }
    m->releases = k;
    m->fresh = 1;
    m->n_unpub = 0;
    if (rep != NULL) {
        rep->release = k;
        rep->sigma = m->sigma;
        rep->sensitivity = m->sens;
        rep->mu = m->sens / m->sigma * (1.0 + ULPS);
        rep->mu_total = rep->mu * sqrt((double)k) * (1.0 + 2.0 * ULPS);
        rep->epsilon_total = eps;
    }
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0012 */
/* IMPLEMENTS: LTH-C-0013 */
lethe_status lethe_model_publish(lethe_model *m, lethe_release_report *rep)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (m->mech != LETHE_MECH_M3)
        return lethe__fail(m->ctx, LETHE_EINVAL,
                           "publish: an M1 model's weights are published as they are");
    return lethe__m3_publish(m, rep);
}

lethe_mechanism lethe_model_mechanism(const lethe_model *m)
{
    return m == NULL ? (lethe_mechanism)0 : m->mech;
}

const uint64_t *lethe_model_unpublished(const lethe_model *m, size_t *k)
{
    if (k != NULL)
        *k = m == NULL ? 0 : m->n_unpub;
    return m == NULL || m->n_unpub == 0 ? NULL : m->unpub;
}

/* γ_k = k·u/(1 − k·u), Higham's constant for k roundings. */
static double gam(double k)
{
    const double ku = k * 0x1p-53;
    return ku / (1.0 - ku);
}

/* IMPLEMENTS: LTH-C-0014 */
size_t lethe__m3_guaranteed(const lethe_model *m)
{
    /* The worst case over the record removed at each step, for the FIRST
     * Newton step of each single removal on the fast path (the factor
     * Ĥ' ⪰ λn_f·I, stale since the anchor θ_f), proofs/m3-capacity.md:
     *   G  = r(1 + 1/n) + 2RL                  ‖g'‖, L = sup|ℓ'|
     *   P  = G/(λn_f)                          ‖p‖
     *   T  = (γ_z R X̄² δ + λ(n_f − n'))·P + (γ_z R/2)·X̄²·P²     the true residual
     *   W  = RL/λ + T/(λn')                    ‖θ'‖
     *   Ē  = 2.004·[γ_{d+1}T + γ_{n'+6}(n'RL + λn'W) + n'·d2·γ_d·R²·W]
     *   r' = T + 2Ē                            the charged residual ρ̂ + E
     *   δ' = δ + P + u(W + P),  n' = n − 1
     * counted while r' ≤ lethe__m3_budget(n'), the test the removal applies.
     * Every value is rounded up by (1 + 2⁻⁴⁰) (§6); γ_z = d2_lip, per unit z. */
    const double C = m->k.grad_bound, R = m->R, lam = m->lambda, up = 1.0 + 0x1p-40;
    /* no γ_z (smooth hinge, Huber: ℓ'' jumps): no guarantee */
    if (!isfinite(C) || !isfinite(m->k.d2_lip) || m->n_live < 2 || !(m->xnorm >= 0.0))
        return 0;
    const double gz = m->k.d2_lip, d2 = m->k.d2_max, u = 0x1p-53;
    const double X2 = m->xnorm * m->xnorm * up, nf = (double)m->n_f, d = (double)m->d;
    double r = (m->residual + m->residual_fp) * up, drift = m->drift;
    size_t n = m->n_live, count = 0;
    while (n > 1) {
        double G = (r * (1.0 + 1.0 / (double)n) + 2.0 * C) * up;
        double P = G / (lam * nf) * up;
        size_t n1 = n - 1;
        double nn = (double)n1;
        double T = ((gz * R * X2 * drift + lam * (nf - nn)) * P + 0.5 * gz * R * X2 * P * P) * up;
        double W = (C / lam + T / (lam * nn)) * up;
        double E = 2.004 * (gam(d + 1.0) * T + gam(nn + 6.0) * (nn * C + lam * nn * W) +
                            nn * d2 * gam(d) * R * R * W) * up;
        double r1 = (T + 2.0 * E) * up;
        if (!(r1 <= lethe__m3_budget(m, n1)))
            break;
        r = r1;
        drift = (drift + P + u * (W + P)) * up;
        n = n1;
        count++;
    }
    return count;
}

void lethe__m3_budget_report(const lethe_model *m, lethe_budget *out)
{
    out->mechanism = LETHE_MECH_M3;
    out->delta_max = m->delta_max;
    out->distance = lethe__m3_distance(m, m->residual, m->residual_fp, m->n_live);
    out->sensitivity = m->sens;
    out->mu = m->sens / m->sigma * (1.0 + ULPS);
    out->releases = m->releases;
    out->mu_total = out->mu * sqrt((double)m->releases) * (1.0 + 2.0 * ULPS);
    out->epsilon_total = lethe__m3_epsilon(m, m->releases, m->delta);
    out->epsilon_cap = m->eps_cap;
    out->releases_left = SIZE_MAX;
    if (m->eps_cap > 0.0) {
        /* ε_total grows with k: the largest k whose ε fits, by doubling and bisection */
        size_t lo = m->releases, hi = m->releases + 1;
        while (hi < ((size_t)1 << 40) && lethe__m3_epsilon(m, hi, m->delta) <= m->eps_cap) {
            lo = hi;
            hi = 2 * hi;
        }
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (lethe__m3_epsilon(m, mid, m->delta) <= m->eps_cap)
                lo = mid;
            else
                hi = mid;
        }
        out->releases_left = lo - m->releases;
    }
    out->fresh = m->fresh;
    out->dp_releases = m->dp;
    out->dp_min_records = m->dp_min;
    out->dp_sensitivity = m->dp_sens;
    out->capacity_guaranteed = lethe__m3_guaranteed(m);
    out->reanchors = m->reanchors;
    out->newton_steps = m->extra_steps;
    out->lattice = m->lat.g;
    out->lattice_rounding = lethe__lattice_rounding(&m->lat, m->d);
    out->delta_sampler = lethe__lattice_delta(m->d, m->epsilon);
    out->c = NAN;
    out->worst_case_bound = NAN;
    out->worst_case_count = 0;
}
