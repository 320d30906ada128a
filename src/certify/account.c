/*
 * The accountant of mechanism M1: the residual budget ε' = σε/c(δ)
 * (Guo et al. 2020, Thm 3; proofs/certificate.md, LTH-C-0001), the residual
 * spent, and the worst-case bound of Guo's Thm 1 (proofs/worst-case-bound.md,
 * LTH-C-0005). Every rounding goes the conservative way: c up, the budget
 * down, NaN counts as exhausted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

/* A few ulps: log and sqrt are correctly rounded or within one ulp in glibc,
 * and each product or quotient adds half an ulp. */
#define SAFETY (8.0 * 0x1p-53)

/* IMPLEMENTS: LTH-C-0001 */
double lethe_guo_c(double delta)
{
    if (!(delta > 0.0 && delta < 1.0))
        return NAN;
    return sqrt(2.0 * log(1.5 / delta)) * (1.0 + SAFETY);
}

/* IMPLEMENTS: LTH-C-0001 */
double lethe__budget_from_sigma(double sigma, double epsilon, double delta)
{
    double c = lethe_guo_c(delta);
    double b = sigma * epsilon / c * (1.0 - SAFETY);
    return isfinite(b) && b > 0.0 ? b : NAN;
}

/* IMPLEMENTS: LTH-C-0005 */
double lethe__guo_worst_case(double gamma, double R, double C, double bnorm, double lambda,
                             size_t n, size_t m)
{
    if (m >= n || !isfinite(C) || !isfinite(bnorm))
        return INFINITY;
    double mm = (double)m, c = C + bnorm / (2.0 * (double)n);
    return 2.0 * gamma * R * R * R * mm * mm * c * c / (lambda * lambda * (double)(n - m)) *
           (1.0 + SAFETY);
}

/* Further single removals that fit if the residual grows at most
 * quadratically in the removals k since training or the last refresh (as
 * Guo's batch bound does, m²) from its largest value so far, with room left
 * for the largest jump one removal has caused (ρ):
 *   res_max·((k + j)/k)² + ρ ≤ budget  ⇒  j = k·(√((budget − ρ)/res_max) − 1).
 * Before the first removal, k = 1 and res_max is the dry run's residual. */
static size_t capacity_estimate(const lethe_model *m)
{
    if (m->n_live < 2 || isnan(m->rho) || isnan(m->res_max))
        return 0;
    double k = m->removals > 0 ? (double)m->removals : 1.0;
    double r = m->removals > 0 ? m->res_max : fmax(m->rho, m->res_max);
    double room = m->budget - m->rho;
    if (!(room > r))
        return 0;
    double more = r > 0.0 ? floor(k * (sqrt(room / r) - 1.0)) : INFINITY;
    if (m->removals == 0)
        more += 1.0; /* the dry-run removal itself fits */
    return more >= (double)(m->n_live - 1) ? m->n_live - 1 : (size_t)more;
}

/* The current residual with its rounding bound: what the certificate uses. */
static double charged_residual(const lethe_model *m)
{
    return m->residual + m->residual_fp;
}

/* IMPLEMENTS: LTH-C-0001 */
lethe_status lethe_model_epsilon(const lethe_model *m, double delta, double *epsilon)
{
    if (m == NULL || epsilon == NULL || !(delta > 0.0 && delta < 1.0))
        return LETHE_EINVAL;
    double e = lethe_guo_c(delta) * charged_residual(m) / m->sigma * (1.0 + SAFETY);
    *epsilon = e <= 1.0 ? e : NAN; /* c(δ) is proven for ε ≤ 1 only */
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0001 */
lethe_status lethe_model_delta(const lethe_model *m, double epsilon, double *delta)
{
    if (m == NULL || delta == NULL || !(epsilon > 0.0) || !isfinite(epsilon))
        return LETHE_EINVAL;
    if (epsilon > 1.0) {
        *delta = NAN;
        return LETHE_OK;
    }
    double r = charged_residual(m);
    if (!(r > 0.0)) {
        *delta = 0.0;
        return LETHE_OK;
    }
    /* c(δ) = √(2 ln(1.5/δ)) ≥ εσ/r  ⇔  δ ≤ 1.5·exp(−(εσ/r)²/2) */
    double t = epsilon * m->sigma / r * (1.0 - SAFETY);
    double d = 1.5 * exp(-0.5 * t * t) * (1.0 + SAFETY);
    *delta = d < 1.0 ? d : 1.0;
    return LETHE_OK;
}

/* The largest batch m (from the exact minimiser) whose Thm 1 bound fits. */
static size_t worst_case_count(const lethe_model *m)
{
    double room = m->budget - m->train_residual;
    double bnorm = cblas_dnrm2(lethe__blas_int(m->d), m->b, 1);
    size_t lo = 0, hi = m->n_live > 1 ? m->n_live - 1 : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        double w = lethe__guo_worst_case(m->k.d2_lip, m->R, m->k.grad_bound, bnorm, m->lambda,
                                         m->n_live, mid);
        if (w <= room)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

lethe_status lethe_model_budget(const lethe_model *m, lethe_budget *out)
{
    if (m == NULL || out == NULL)
        return LETHE_EINVAL;
    memset(out, 0, sizeof *out);
    out->epsilon = m->epsilon;
    out->delta = m->delta;
    out->sigma = m->sigma;
    out->c = m->c;
    out->budget = m->budget;
    out->residual = m->residual;
    out->residual_fp = m->residual_fp;
    out->train_residual = m->train_residual;
    out->residual_bound = m->residual_bound;
    double rem = m->budget - (m->residual + m->residual_fp);
    out->remaining = isnan(rem) ? 0.0 : rem > 0.0 ? rem * (1.0 - SAFETY) : rem;
    out->removals = m->removals;
    out->removals_total = m->removals_total;
    out->refreshes = m->refreshes;
    out->n = m->n_live;
    out->seeded = lethe__rng_seeded(m->rng);
    out->worst_case_bound =
        lethe__guo_worst_case(m->k.d2_lip, m->R, m->k.grad_bound,
                              cblas_dnrm2(lethe__blas_int(m->d), m->b, 1), m->lambda, m->n_live, 1);
    out->capacity_estimate = capacity_estimate(m);
    out->worst_case_count = worst_case_count(m);
    return LETHE_OK;
}
