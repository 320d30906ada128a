/*
 * Calibrating Gaussian noise and converting its guarantee (proofs/calibration.md,
 * LTH-C-0007). Every quantity is rounded the conservative way: σ up and μ
 * down when calibrating, ε and δ up when reporting; NaN means "no guarantee".
 *
 * The Gaussian mechanism with sensitivity Δ and noise σ is exactly μ-GDP,
 * μ = Δ/σ (Dong, Roth, Su 2019), with the privacy profile
 *
 *     δ(ε) = Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2)          (Balle & Wang 2018, Thm 8)
 *
 * evaluated in log space, log δ = log Φ(A) + log(1 − exp(ε + log Φ(B) − log Φ(A))),
 * so that it keeps its relative accuracy where δ underflows the naive formula.
 * Cross-checks: zCDP ρ = μ²/2 with the standard conversion ρ + 2√(ρ ln(1/δ))
 * and Canonne–Kamath–Steinke's (Prop 12), which minimises over α > 1
 *
 *     ε(α) = αρ + (α ln(1 − 1/α) − ln(α − 1) − ln δ)/(α − 1),
 *
 * the same function as the Rényi-DP conversion αρ + ln(1 − 1/α) − (ln δ + ln α)/(α − 1).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "dp/dp.h"

#include <float.h>
#include <math.h>

#define SQRT1_2 0.70710678118654752440084436210484903928
#define LOG_SQRT_PI 0.57236494292470008707171367567652935582
#define LN2 0.69314718055994530941723212145817656808
#define INV_SQRT_2PI 0.39894228040143267793994605993438186848

/* The asymptotic series of erfc: erfc(z) = e^{−z²}/(z√π)·s(z) with
 * s(z) = 1 − t + 3t² − 15t³ + … (t = 1/(2z²)), here to the t⁸ term. The
 * series alternates, so the error is below the first omitted term,
 * 17!!·t⁹ < 2e-15 for z ≥ 14 (x ≤ −20). */
static double erfc_series(double z)
{
    double t = 1.0 / (2.0 * z * z);
    return 1.0 - t * (1.0 - 3.0 * t * (1.0 - 5.0 * t * (1.0 - 7.0 * t * (1.0 - 9.0 * t *
                 (1.0 - 11.0 * t * (1.0 - 13.0 * t * (1.0 - 15.0 * t)))))));
}

/* log Φ(x). erfc keeps its relative accuracy for large arguments until it
 * underflows near 26.5 (x ≈ −37.5); below x = −30 the series is used. For
 * x > 0, log1p of −Φ(−x): log(½erfc(−x/√2)) there is the log of a number
 * near 1 and loses relative accuracy as log Φ(x) → 0 (measured against
 * mpmath on [0, 8]: 1.2e-10 with the log form, which this code used for
 * x ≤ 5 until it was found; the log1p form is at 1e-16).
 *
 * Not GSL: −ln 2 + gsl_sf_log_erfc(−x/√2) was measured against mpmath too.
 * It is as accurate as this for x < 0 (max relative error 4.8e-16 on
 * [−30, 0], 4.6e-16 below; ours 3.6e-16 and 5.6e-16) and has the same flaw
 * for x > 0 (7e-2 on [0, 8]), so it would need the same split, and the
 * library would take on GSL's error handler, which aborts the process by
 * default and can be switched off only process-wide. */
double lethe__log_ndtr(double x)
{
    if (x > 0.0)
        return log1p(-0.5 * erfc(x * SQRT1_2));
    if (x > -30.0)
        return log(0.5 * erfc(-x * SQRT1_2));
    double z = -x * SQRT1_2;
    return -LN2 - z * z - log(z) - LOG_SQRT_PI + log(erfc_series(z));
}

/* K̃(x) = x + φ(x)/Φ(x) = d/dx [x²/2 + log Φ(x)] > 0. For s = −x ≥ 2 the
 * continued fraction K̃ = 1/(s + 2/(s + 3/(s + …))) (the reciprocal Mills
 * ratio minus s, without the cancellation), depth 200; otherwise directly. */
static double ktilde(double x)
{
    if (x <= -2.0) {
        double s = -x, f = s;
        for (int k = 200; k >= 2; k--)
            f = s + (double)k / f;
        return 1.0 / f;
    }
    double phi = INV_SQRT_2PI * exp(-0.5 * x * x);
    return x + phi / (0.5 * erfc(-x * SQRT1_2));
}

/* t = ε + log Φ(B) − log Φ(A) = −∫_B^A K̃(x) dx, since ∫_B^A x dx = −ε; by
 * 20-point Gauss–Legendre, for where the direct difference cancels. The
 * nodes and weights are constants (test_calibrate checks them against GSL's
 * gsl_integration_glfixed table): GSL's rule would allocate its table, and
 * a failed allocation there calls GSL's aborting error handler. The
 * interval is given by its centre −ε/μ and half-width μ/2, not by the
 * rounded A and B: their rounding would move the width by u·|A|/μ relative. */
const double lethe__gl20_node[10] = { 0.07652652113349734, 0.22778585114164507,
                                     0.37370608871541955, 0.5108670019508271,
                                     0.636053680726515, 0.7463319064601508,
                                     0.8391169718222188, 0.912234428251326,
                                     0.9639719272779138, 0.9931285991850949 };
const double lethe__gl20_weight[10] = { 0.15275338713072584, 0.14917298647260374,
                                       0.14209610931838204, 0.13168863844917664,
                                       0.11819453196151841, 0.10193011981724044,
                                       0.08327674157670475, 0.06267204833410907,
                                       0.04060142980038694, 0.017614007139152118 };

static double log_ratio_integral(double mid, double half)
{
    const double *node = lethe__gl20_node, *weight = lethe__gl20_weight;
    double sum = 0.0;
    for (int i = 0; i < 10; i++)
        sum += weight[i] * (ktilde(mid + half * node[i]) + ktilde(mid - half * node[i]));
    return -half * sum;
}

/* log(1 − e^t) for t < 0, accurate at both ends. */
static double log1mexp(double t)
{
    return t > -LN2 ? log(-expm1(t)) : log1p(-exp(t));
}

/* IMPLEMENTS: LTH-C-0007 */
double lethe_gdp_delta(double mu, double epsilon)
{
    if (!(mu > 0.0) || !(epsilon >= 0.0) || isnan(mu) || isinf(epsilon))
        return NAN;
    if (isinf(mu))
        return 1.0;
    double a = -epsilon / mu + 0.5 * mu, b = -epsilon / mu - 0.5 * mu;
    double la = lethe__log_ndtr(a), t;
    if (a < -20.0) {
        /* Deep in the tail t = ε + log Φ(B) − log Φ(A) is a small difference
         * of large numbers. With the series, and since z_B² − z_A² = ε
         * exactly, t = −log(z_B/z_A) + log s(z_B) − log s(z_A), where
         * z_B/z_A = 1 + μ/(−A): no cancellation. */
        double za = -a * SQRT1_2, zb = -b * SQRT1_2;
        t = -log1p(mu / -a) + log(erfc_series(zb) / erfc_series(za));
    } else {
        t = epsilon + lethe__log_ndtr(b) - la;
        if (t >= -1.0) /* the direct difference cancels: integrate instead */
            t = log_ratio_integral(-epsilon / mu, 0.5 * mu);
    }
    if (!(t < 0.0)) {
        /* Φ(A) and e^εΦ(B) agree to working precision (μ below ~1e-16): use
         * δ ≤ Φ(A) − Φ(B) ≤ (A − B)·φ(0) = μ/√(2π), an upper bound. */
        return mu * INV_SQRT_2PI * (1.0 + DBL_EPSILON);
    }
    /* rounded up by the error model of proofs/calibration.md (b3):
     * η = (64 + 8(A² + B²))·u, measured with a safety factor of about 3.5 */
    double eta = (64.0 + 8.0 * (a * a + b * b)) * 0x1p-53;
    double d = exp(la + log1mexp(t)) * (1.0 + eta);
    return d >= DBL_MIN ? d : DBL_MIN; /* below the normal range: DBL_MIN, an upper bound */
}

/* IMPLEMENTS: LTH-C-0007 */
lethe_status lethe_gdp_epsilon(double mu, double delta, double *epsilon)
{
    if (epsilon == NULL || !(mu > 0.0) || !isfinite(mu) || !(delta > 0.0 && delta < 1.0))
        return LETHE_EINVAL;
    /* δ(ε) decreases in ε: bracket, then bisect, keeping δ(hi) ≤ δ. Not
     * Brent (GSL's gsl_root_fsolver_brent): its iterate may land on either
     * side of the root, and the answer must be the side where δ(ε) ≤ δ, so
     * that the reported ε is never too small. */
    double lo = 0.0, hi = 1.0;
    if (lethe_gdp_delta(mu, 0.0) <= delta) {
        *epsilon = 0.0;
        return LETHE_OK;
    }
    while (!(lethe_gdp_delta(mu, hi) <= delta)) {
        lo = hi;
        hi *= 2.0;
        if (hi > 1e6)
            return LETHE_EINVAL;
    }
    for (int it = 0; it < 200 && hi - lo > 4.0 * DBL_EPSILON * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (lethe_gdp_delta(mu, mid) <= delta)
            hi = mid;
        else
            lo = mid;
    }
    *epsilon = hi;
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0007 */
lethe_status lethe_gaussian_sigma(double epsilon, double delta, double sensitivity,
                                  double *sigma)
{
    if (sigma == NULL || !(epsilon > 0.0) || !isfinite(epsilon) || !(delta > 0.0 && delta < 1.0) ||
        !(sensitivity > 0.0) || !isfinite(sensitivity))
        return LETHE_EINVAL;
    /* δ(μ) increases in μ = Δ/σ: find the largest μ with δ(μ) ≤ δ */
    double lo = 1.0, hi = 1.0;
    while (!(lethe_gdp_delta(lo, epsilon) <= delta)) {
        hi = lo;
        lo *= 0.5;
        if (lo < 1e-300)
            return LETHE_EINVAL;
    }
    while (lethe_gdp_delta(hi, epsilon) <= delta) {
        lo = hi;
        hi *= 2.0;
        if (hi > 1e300)
            return LETHE_EINVAL;
    }
    for (int it = 0; it < 200 && hi - lo > 4.0 * DBL_EPSILON * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (lethe_gdp_delta(mid, epsilon) <= delta)
            lo = mid;
        else
            hi = mid;
    }
    double s = sensitivity / lo;
    if (!isfinite(s))
        return LETHE_EINVAL;
    /* the division rounds: step σ up until the guarantee holds for σ itself */
    for (int it = 0; !(lethe_gdp_delta(sensitivity / s, epsilon) <= delta); it++) {
        if (it == 64 || !isfinite(s))
            return LETHE_EINVAL;
        s = nextafter(s, INFINITY);
    }
    *sigma = s;
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0007 */
double lethe_gaussian_sigma_classical(double epsilon, double delta, double sensitivity)
{
    if (!(epsilon > 0.0 && epsilon <= 1.0) || !(delta > 0.0 && delta < 1.0) ||
        !(sensitivity > 0.0) || !isfinite(sensitivity))
        return NAN;
    return nextafter(sensitivity * sqrt(2.0 * log(1.25 / delta)) / epsilon, INFINITY);
}

/* IMPLEMENTS: LTH-C-0007 */
double lethe_zcdp_epsilon(double rho, double delta)
{
    if (!(rho >= 0.0) || !isfinite(rho) || !(delta > 0.0 && delta < 1.0))
        return NAN;
    return nextafter(rho + 2.0 * sqrt(rho * log(1.0 / delta)), INFINITY);
}

static double cks_at(double alpha, double rho, double delta)
{
    return alpha * rho +
           (alpha * log1p(-1.0 / alpha) - log(alpha - 1.0) - log(delta)) / (alpha - 1.0);
}

/* IMPLEMENTS: LTH-C-0007 */
double lethe_rdp_epsilon(size_t k, const double *alpha, const double *eps_rdp, double delta)
{
    if (k == 0 || alpha == NULL || eps_rdp == NULL || !(delta > 0.0 && delta < 1.0))
        return NAN;
    double best = INFINITY;
    for (size_t i = 0; i < k; i++) {
        double a = alpha[i], e = eps_rdp[i];
        if (!(a > 1.0) || !isfinite(a) || !(e >= 0.0) || !isfinite(e))
            return NAN;
        double v = e + log1p(-1.0 / a) - (log(delta) + log(a)) / (a - 1.0);
        best = fmin(best, v + 64.0 * DBL_EPSILON * (fabs(v) + fabs(log(delta)) + e));
    }
    return fmax(0.0, best);
}

/* IMPLEMENTS: LTH-C-0007 */
double lethe_zcdp_epsilon_cks(double rho, double delta)
{
    if (!(rho >= 0.0) || !isfinite(rho) || !(delta > 0.0 && delta < 1.0))
        return NAN;
    if (!(rho > 0.0))
        return 0.0;
    /* ε(α) is evaluated at every α tried, and every α gives a valid bound:
     * a coarse grid in u = log(α − 1), centred on the optimum of the
     * standard bound's α₀ − 1 ≈ √(ln(1/δ)/ρ), finds the basin; golden
     * sections refine it. */
    const double u0 = 0.5 * log(log(1.0 / delta) / rho);
    double best_u = u0, best = cks_at(1.0 + exp(u0), rho, delta);
    for (double u = u0 - 12.0; u <= u0 + 12.0; u += 0.05) {
        double e = cks_at(1.0 + exp(u), rho, delta);
        if (e < best) {
            best = e;
            best_u = u;
        }
    }
    const double g = 0.61803398874989484820;
    double a = best_u - 0.05, b = best_u + 0.05;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = cks_at(1.0 + exp(c), rho, delta), fd = cks_at(1.0 + exp(d), rho, delta);
    for (int it = 0; it < 100; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = cks_at(1.0 + exp(c), rho, delta);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = cks_at(1.0 + exp(d), rho, delta);
        }
    }
    best = fmin(best, fmin(fc, fd));
    /* the bound's own rounding: a few ulps of the terms, taken up; a
     * negative value means (0, δ): ε is never below 0 */
    return fmax(0.0, best + 64.0 * DBL_EPSILON * (fabs(best) + fabs(log(delta))));
}

/* The lattice sampler's charges (LTH-C-0010): accounting, kept out of the
 * integer-only sampler. */
/* IMPLEMENTS: LTH-C-0010 */
double lethe__lattice_rounding(const lethe_lattice *lat, size_t d)
{
    /* g√d, rounded up: the rounding of v to the lattice moves ‖v‖ by ≤ g√d/2 */
    return lat->g * sqrt((double)d) * (1.0 + 0x1p-50);
}

double lethe__lattice_delta(size_t d, double epsilon)
{
    /* (1 + e^ε)·d·τ with τ = 8.6e-15 ≥ 15.2/s + 0.88·ln^1.5(s²)/s on all of
     * s ∈ (2^56, 2^57] (MATH.md §5), itself about 490 times the sampler's own TV
     * (LTH-C-0010 §5). The factor 1 + e^ε: both the released model and the
     * retrained one carry the sampler's TV, and the e^ε side multiplies
     * its share (LTH-C-0010 §6.3, tight). Rounded up; NaN for a bad ε. */
    if (!(epsilon >= 0.0) || !isfinite(epsilon))
        return NAN;
    return (1.0 + exp(epsilon)) * (double)d * LETHE__LATTICE_TV * (1.0 + 0x1p-40);
}

/* IMPLEMENTS: LTH-C-0010 */
lethe_status lethe__calibrate_release(double epsilon, double delta, size_t d, double base,
                                      double *sensitivity, double *sigma, lethe_lattice *lat)
{
    if (!(base > 0.0) || !isfinite(base) || !(epsilon > 0.0) || !isfinite(epsilon) ||
        !(delta > 0.0 && delta < 1.0) || d == 0)
        return LETHE_EINVAL;
    /* calibrated a hair below what the sampler leaves of δ, so that a
     * verifier whose libm rounds δ_GDP differently still finds
     * δ_GDP + share ≤ δ */
    double delta_gauss = (delta - lethe__lattice_delta(d, epsilon)) * (1.0 - 0x1p-40);
    if (!(delta_gauss > 0.0))
        return LETHE_EINVAL;
    /* Lattice rounding adds g√d to Δ (LTH-C-0010 §6.2), and g depends on σ:
     * start from g = 0 and grow until the σ for Δ + g√d has a g no larger
     * than the one charged (g doubles at most once: a few passes). */
    double g = 0.0, s = 0.0, sens = 0.0;
    for (int pass = 0; pass < 8; pass++) {
        sens = (base + g * sqrt((double)d)) * (1.0 + 0x1p-50);
        if (lethe_gaussian_sigma(epsilon, delta_gauss, sens, &s) != LETHE_OK ||
            lethe__lattice_params(s, lat) != LETHE_OK)
            return LETHE_EINVAL;
        if (lat->g <= g) {
            *sensitivity = sens;
            *sigma = s;
            return LETHE_OK;
        }
        g = lat->g;
    }
    return LETHE_EINVAL;
}

/* IMPLEMENTS: LTH-C-0007 */
lethe_status lethe__epsilon_with_sampler(double mu, size_t units, double delta, double *epsilon)
{
    /* The smallest ε with f(ε) = δ_GDP(μ, ε) + (1 + e^ε)·units·τ ≤ δ: the
     * sampler's share of δ (LTH-C-0010 §6.3) grows with the ε sought.
     * f is unimodal — its derivative e^ε(units·τ − Φ(−ε/μ − μ/2)) changes
     * sign once — though not convex once μ > 1.224 (M3-C1,
     * proofs/m3-accounting.md §5): find its minimum on [0, ε_max] by
     * ternary search (beyond ε_max the share alone exceeds δ), refuse if
     * even that is above δ, then bisect on the falling side and answer the
     * feasible end. */
    if (epsilon == NULL || !(delta > 0.0 && delta < 1.0) || !(mu > 0.0) || !isfinite(mu) ||
        units == 0)
        return LETHE_EINVAL;
    const double share1 = lethe__lattice_delta(units, 0.0) / 2.0; /* units·τ, rounded up */
    if (!(delta > 2.0 * share1))
        return LETHE_EINVAL;
    double lo = 0.0, hi = log(delta / share1 - 1.0);
#define F(e) (lethe_gdp_delta(mu, (e)) + lethe__lattice_delta(units, (e)))
    for (int it = 0; it < 200 && hi - lo > 1e-12 * (1.0 + hi); it++) {
        double a = lo + (hi - lo) / 3.0, b = hi - (hi - lo) / 3.0;
        if (F(a) <= F(b))
            hi = b;
        else
            lo = a;
    }
    double emin = 0.5 * (lo + hi);
    if (!(F(emin) <= delta))
        return LETHE_EINVAL; /* no ε reaches δ with this μ */
    if (F(0.0) <= delta) {
        *epsilon = 0.0;
        return LETHE_OK;
    }
    lo = 0.0;  /* infeasible */
    hi = emin; /* feasible */
    for (int it = 0; it < 200 && hi - lo > 1e-15 * (1.0 + hi); it++) {
        double mid = 0.5 * (lo + hi);
        if (F(mid) <= delta)
            hi = mid;
        else
            lo = mid;
    }
#undef F
    *epsilon = hi;
    return LETHE_OK;
}
