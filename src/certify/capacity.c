/*
 * Deletion capacity of Newton-step unlearning with output perturbation, and
 * of a plain DP learner, with every constant explicit
 * (proofs/deletion-capacity.md, LTH-C-0008). Mean form, f = ℓ + (λ/2)‖w‖²:
 *
 *   F(m)    = L·√d·k·Δ(m) + L²·m/(λ(n − m)) + 2L²/(λn)       (Newton, Theorem R)
 *   F_DP(m) = L·√d·k·2mL/(λn) + 2L²/(λn)                    (DP baseline, Theorem B)
 *
 * with k the noise per unit of sensitivity (analytic: σ(ε, δ, Δ = 1);
 * classical: √(2 ln(1.25/δ))/ε, ε ≤ 1) and Δ(m) either Sekhari et al.'s
 * γ(m) = 2Mm²L²/(λ³n²) or exactly the Δ(m) lethe's M2 calibrates for
 * (about γ(m)/4 plus the solver's allowances, proofs/m2-removal.md (4.1);
 * Theorems U and R hold for any valid bound).
 * The capacity is the largest m with F(m) ≤ α, rounded down (F is
 * evaluated with a relative margin of 32u).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>

#define MARGIN (1.0 + 32.0 * 0x1p-53)

static double noise_per_unit(const lethe_capacity_query *q)
{
    if (q->classical)
        return lethe_gaussian_sigma_classical(q->epsilon, q->delta, 1.0);
    double k = NAN;
    if (lethe_gaussian_sigma(q->epsilon, q->delta, 1.0, &k) != LETHE_OK)
        return NAN;
    return k;
}

static double sensitivity(const lethe_capacity_query *q, double m)
{
    double n = (double)q->n, lam = q->lambda;
    if (q->sekhari)
        return 2.0 * q->M * m * m * q->L * q->L / (lam * lam * lam * n * n);
    return lethe__m2_sensitivity(q->M, q->L, lam, q->n, (size_t)m, q->tol);
}

/* IMPLEMENTS: LTH-C-0008 */
lethe_status lethe_deletion_capacity(const lethe_capacity_query *q, lethe_capacity *out)
{
    if (q == NULL || out == NULL || q->n < 2 || q->d == 0 || !(q->lambda > 0.0) ||
        !isfinite(q->lambda) || !(q->L > 0.0) || !isfinite(q->L) || !(q->M >= 0.0) ||
        !isfinite(q->M) || !(q->alpha > 0.0) || !isfinite(q->alpha))
        return LETHE_EINVAL;
    double k = noise_per_unit(q);
    if (!(k > 0.0) || !isfinite(k))
        return LETHE_EINVAL; /* bad (ε, δ), or ε > 1 with the classical calibration */
    const double n = (double)q->n, lam = q->lambda, L = q->L, sd = sqrt((double)q->d);
    const double G = 2.0 * L * L / (lam * n);
    out->noise_per_unit = k;
    out->generalisation = G;
    out->feasible = G * MARGIN <= q->alpha;
    out->newton = 0;
    out->dp = 0;
    if (!out->feasible)
        return LETHE_OK;
    /* Newton: F is increasing in m; binary search for the largest m with F(m) ≤ α */
    size_t lo = 0, hi = q->n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        double m = (double)mid;
        double F = L * sd * k * sensitivity(q, m) + L * L * m / (lam * (n - m)) + G;
        if (F * MARGIN <= q->alpha)
            lo = mid;
        else
            hi = mid - 1;
    }
    out->newton = lo;
    /* DP baseline, closed form, rounded down */
    double mdp = floor((q->alpha / MARGIN - G) * lam * n / (2.0 * sd * k * L * L));
    out->dp = mdp <= 0.0 ? 0 : mdp >= n - 1.0 ? q->n - 1 : (size_t)mdp;
    return LETHE_OK;
}

lethe_status lethe_loss_capacity_constants(lethe_loss loss, double R, double lambda, double *L,
                                           double *M)
{
    if (L == NULL || M == NULL || !(R > 0.0) || !isfinite(R) || !(lambda > 0.0) ||
        !isfinite(lambda) || loss != LETHE_LOSS_LOGISTIC)
        return LETHE_EINVAL;
    lethe_loss_constants k;
    lethe_loss_get_constants(loss, R, &k);
    *L = 2.0 * R; /* on ‖w‖ ≤ R/λ, which holds every minimiser */
    *M = k.d2_lip * R * R * R;
    return LETHE_OK;
}
