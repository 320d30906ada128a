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

/* IMPLEMENTS: LTH-C-0001, LTH-C-0010 */
double lethe__m1_c(double delta, size_t d)
{
    /* the lattice sampler spends (1 + e^ε)·d·τ of δ; M1 has ε ≤ 1 */
    double tv = lethe__lattice_delta(d, 1.0);
    return delta > tv ? lethe_guo_c(delta - tv) : NAN;
}

/* What M1 charges for the lattice: b is stored as the double nearest to m·g,
 * |m| up to 2^60, so each coordinate is within 64·g of m·g and g/2 of the
 * coupled continuous Gaussian: 65·g√d (LTH-C-0010 §7.1, LN-C2). */
static double m1_rounding(double sigma, size_t d)
{
    lethe_lattice lat;
    if (lethe__lattice_params(sigma, &lat) != LETHE_OK)
        return NAN;
    return 65.0 * lethe__lattice_rounding(&lat, d);
}

/* IMPLEMENTS: LTH-C-0001, LTH-C-0010 */
double lethe__budget_from_sigma(double sigma, double epsilon, double delta, size_t d)
{
    /* b lies within 65·g√d of a continuous Gaussian under the coupling of
     * LTH-C-0010 §7.1: that distance is spent from the residual budget. */
    double b = sigma * epsilon / lethe__m1_c(delta, d) * (1.0 - SAFETY) - m1_rounding(sigma, d);
    return isfinite(b) && b > 0.0 ? b : NAN;
}

/* The residual the certificate charges: the exact residual, its rounding
 * bound, and the lattice's (LTH-C-0010 §7.1). */
static double charged_residual(const lethe_model *m)
{
    return (m->residual + m->residual_fp) + m1_rounding(m->sigma, m->d);
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
size_t lethe__capacity_estimate(const lethe_model *m)
{
    if (m->n_live < 2 || isnan(m->rho) || isnan(m->res_max))
        return 0;
    double k = m->removals > 0 ? (double)m->removals : 1.0;
    double r = m->removals > 0 ? m->res_max : fmax(m->rho, m->res_max);
    double room = lethe__budget_at(m, m->n_live) - m->rho;
    if (!(room > r))
        return 0;
    double more = r > 0.0 ? floor(k * (sqrt(room / r) - 1.0)) : INFINITY;
    if (m->removals == 0)
        more += 1.0; /* the dry-run removal itself fits */
    return more >= (double)(m->n_live - 1) ? m->n_live - 1 : (size_t)more;
}

/* IMPLEMENTS: LTH-C-0001 */
lethe_status lethe_model_epsilon(const lethe_model *m, double delta, double *epsilon)
{
    if (m == NULL || epsilon == NULL || !(delta > 0.0 && delta < 1.0))
        return LETHE_EINVAL;
    if (m->mech == LETHE_MECH_M3) {
        *epsilon = lethe__m3_epsilon(m, m->releases, delta);
        return LETHE_OK;
    }
    double e = lethe__m1_c(delta, m->d) * charged_residual(m) / m->sigma * (1.0 + SAFETY);
    *epsilon = e <= 1.0 ? e : NAN; /* c(δ) is proven for ε ≤ 1 only */
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0001 */
lethe_status lethe_model_delta(const lethe_model *m, double epsilon, double *delta)
{
    if (m == NULL || delta == NULL || !(epsilon > 0.0) || !isfinite(epsilon))
        return LETHE_EINVAL;
    if (m->mech == LETHE_MECH_M3) {
        /* the history of k releases: √k·μ-GDP plus the sampler's (1 + e^ε)·k·d·τ */
        size_t units;
        if (!lethe__mul_size(m->releases, m->d, &units))
            return LETHE_EINVAL;
        double mu = m->sens / m->sigma * sqrt((double)m->releases) * (1.0 + SAFETY);
        double d = lethe_gdp_delta(mu, epsilon) + lethe__lattice_delta(units, epsilon);
        *delta = d < 1.0 ? d : 1.0;
        return LETHE_OK;
    }
    if (epsilon > 1.0) {
        *delta = NAN;
        return LETHE_OK;
    }
    double r = charged_residual(m);
    if (isnan(r)) {
        *delta = NAN;
        return LETHE_OK;
    }
    /* c(δ − δ_s) = √(2 ln(1.5/(δ − δ_s))) ≥ εσ/r  ⇔  δ ≥ 1.5·exp(−(εσ/r)²/2) + δ_s,
     * δ_s = (1 + e)·d·τ the sampler's share (ε ≤ 1) */
    double t = epsilon * m->sigma / r * (1.0 - SAFETY);
    double d = 1.5 * exp(-0.5 * t * t) * (1.0 + SAFETY) + lethe__lattice_delta(m->d, 1.0);
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
    out->budget = lethe__budget_at(m, m->n_live);
    out->residual = m->residual;
    out->residual_fp = m->residual_fp;
    out->train_residual = m->train_residual;
    out->residual_bound = m->residual_bound;
    double rem = out->budget - (m->residual + m->residual_fp);
    out->remaining = isnan(rem) ? 0.0 : rem > 0.0 ? rem * (1.0 - SAFETY) : rem;
    out->removals = m->removals;
    out->removals_total = m->removals_total;
    out->refreshes = m->refreshes;
    out->n = m->n_live;
    out->seeded = lethe__rng_seeded(m->rng);
    out->sampler = LETHE__SAMPLER_NAME;
    out->capacity_estimate = lethe__capacity_estimate(m);
    out->lambda = m->lambda;
    out->R = m->R;
    out->loss = m->loss;
    if (m->mech == LETHE_MECH_M3) { /* its own lattice, charges and bounds */
        lethe__m3_budget_report(m, out);
        if (m->K > 0)
            lethe__multi_budget(m, out);
        return LETHE_OK;
    }
    out->worst_case_bound =
        lethe__guo_worst_case(m->k.d2_lip, m->R, m->k.grad_bound,
                              cblas_dnrm2(lethe__blas_int(m->d), m->b, 1), m->lambda, m->n_live, 1);
    lethe_lattice lat;
    if (lethe__lattice_params(m->sigma, &lat) == LETHE_OK)
        out->lattice = lat.g;
    out->lattice_rounding = m1_rounding(m->sigma, m->d);
    out->delta_sampler = lethe__lattice_delta(m->d, 1.0);
    out->mechanism = LETHE_MECH_M1;
    out->worst_case_count = worst_case_count(m);
    return LETHE_OK;
}
