/*
 * Gaussian calibration and accounting (src/dp/calibrate.c): the vectors of
 * MATH.md §4 to 1e-10 relative, the postconditions of calibration, and the
 * ordering of the conversions, over grids.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <float.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>

#include "dp/dp.h"

static int lethe__is_zero_test(double v)
{
    return !(v < 0.0) && !(v > 0.0);
}

/* EVIDENCE: LTH-C-0007 */
static void test_calibration_vectors(void **state)
{
    (void)state;
    const double rel = 1e-10;
    struct { double eps, delta, sigma; } s[] = {
        { 1.0, 1e-5, 3.73063163482 },
        { 0.5, 1e-5, 7.03182667558 },
        { 1.0, 1e-6, 4.22467888933 },
        { 2.0, 1e-5, 1.99381244564 },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        double sigma = 0.0;
        assert_status(lethe_gaussian_sigma(s[i].eps, s[i].delta, 1.0, &sigma), LETHE_OK);
        assert_close(sigma, s[i].sigma, rel, 0.0);
        /* Δ scales σ */
        double sigma2 = 0.0;
        assert_status(lethe_gaussian_sigma(s[i].eps, s[i].delta, 2.385, &sigma2), LETHE_OK);
        assert_close(sigma2, 2.385 * s[i].sigma, rel, 0.0);
    }
    assert_close(lethe_gaussian_sigma_classical(1.0, 1e-5, 1.0), 4.84480526261, rel, 0.0);
    assert_close(lethe_gdp_delta(1.0 / 10.0, 0.1), 0.008751768145809594, rel, 0.0);
    assert_close(lethe_gdp_delta(1.0, log(3.0)), 0.10985556344445049, rel, 0.0);
    /* the underflow case: the naive formula is off at 1e-10 relative here */
    assert_close(lethe_gdp_delta(10.0 / 500.0, 0.5), 3.129776772980134e-141, rel, 0.0);
    assert_close(lethe_gdp_delta(1.0, 1.0), 0.126936737507, rel, 0.0);
    /* δ is rounded up: never below the true value (60-digit mpmath), and tight */
    struct { double mu, eps, delta; } ref[] = {
        { 1e-4, 1.7e-3, 2.400898969110423239e-70 }, { 0.05, 0.05, 0.0042703834349376733919 },
        { 2.0, 20.0, 2.0160288013060390096e-20 },   { 0.3, 0.01, 0.11487553909919979155 },
        { 1e-3, 1e-3, 0.000083357132125208491812 }, { 7.0, 3.0, 0.998076640000439769 },
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double dl = lethe_gdp_delta(ref[i].mu, ref[i].eps);
        assert_true(dl >= ref[i].delta);
        assert_close(dl, ref[i].delta, 1e-11, 0.0);
    }
    double eps = 0.0;
    assert_status(lethe_gdp_epsilon(1.0, 1e-5, &eps), LETHE_OK);
    assert_close(eps, 4.37717809568, rel, 0.0);
    /* zCDP ρ = 0.05 at δ = 1e-5: standard, CKS, exact GDP (μ = √(2ρ)) */
    assert_close(lethe_zcdp_epsilon(0.05, 1e-5), 1.567427129, 1e-9, 0.0);
    assert_close(lethe_zcdp_epsilon_cks(0.05, 1e-5), 1.308118343, 1e-9, 0.0);
    assert_status(lethe_gdp_epsilon(sqrt(0.1), 1e-5, &eps), LETHE_OK);
    assert_close(eps, 1.199369574, 1e-9, 0.0);
}

/* log Φ against GSL where GSL's form is accurate: log1p(−Q(x)) for x > 0
 * (the upper tail, Q relative-accurate), log P(x) for −37 < x ≤ 0 (P
 * relative-accurate down to its underflow). 5e-14 and 1e-14 relative: the ln form
 * this code once used for 0 < x ≤ 5 was off by 1.2e-10 there. And the
 * Gauss–Legendre constants against GSL's 20-point table. EVIDENCE: LTH-C-0007 */
static void test_log_ndtr_and_quadrature(void **state)
{
    (void)state;
    double worst_pos = 0.0, worst_neg = 0.0;
    for (double x = -37.0; x <= 8.0; x += 0.0625) {
        double ref = x > 0.0 ? log1p(-gsl_cdf_ugaussian_Q(x)) : log(gsl_cdf_ugaussian_P(x));
        double rel = fabs(lethe__log_ndtr(x) - ref) / fabs(ref);
        if (x > 0.0)
            worst_pos = fmax(worst_pos, rel);
        else
            worst_neg = fmax(worst_neg, rel);
    }
    print_message("log Φ against GSL: max relative difference %.2e on (0, 8], %.2e on "
                  "[-37, 0]\n", worst_pos, worst_neg);
    assert_le(worst_pos, 5e-14);
    assert_le(worst_neg, 1e-14);
    gsl_integration_glfixed_table *t = gsl_integration_glfixed_table_alloc(20);
    assert_non_null(t);
    for (size_t i = 0; i < 10; i++) {
        double xi, wi;
        /* GSL orders the points from −1 to 1: point 10 + i is the i-th positive */
        assert_int_equal(gsl_integration_glfixed_point(-1.0, 1.0, 10 + i, &xi, &wi, t), 0);
        assert_close(lethe__gl20_node[i], xi, 1e-15, 1e-16);
        assert_close(lethe__gl20_weight[i], wi, 1e-15, 1e-16);
    }
    gsl_integration_glfixed_table_free(t);
}

/* EVIDENCE: LTH-C-0007 */
static void test_calibration_postconditions(void **state)
{
    (void)state;
    const double deltas[] = { 1e-12, 1e-9, 1e-6, 1e-5, 1e-3, 0.05 };
    size_t checked = 0;
    for (double eps = 0.05; eps <= 8.0; eps *= 1.37) {
        for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
            double sigma = 0.0, d = deltas[k];
            assert_status(lethe_gaussian_sigma(eps, d, 1.7, &sigma), LETHE_OK);
            /* δ(σ) ≤ δ, and σ is tight: 1e-9 less noise would break it */
            assert_le(lethe_gdp_delta(1.7 / sigma, eps), d);
            assert_true(lethe_gdp_delta(1.7 / (sigma * (1.0 - 1e-9)), eps) > d);
            /* analytic ≤ classical wherever the classical one applies */
            if (eps <= 1.0)
                assert_le(sigma, lethe_gaussian_sigma_classical(eps, d, 1.7));
            /* ε at δ for the calibrated μ is at most the ε asked for */
            double e = 0.0;
            assert_status(lethe_gdp_epsilon(1.7 / sigma, d, &e), LETHE_OK);
            assert_le(e, eps * (1.0 + 1e-12));
            assert_le(lethe_gdp_delta(1.7 / sigma, e), d);
            checked++;
        }
    }
    assert_true(checked > 50);
    /* δ(ε) decreases in ε and increases in μ */
    for (double mu = 0.01; mu < 20.0; mu *= 1.9) {
        double prev = 1.0;
        for (double e = 0.0; e < 40.0; e += 0.7) {
            double d = lethe_gdp_delta(mu, e);
            assert_true(d >= 0.0 && d <= prev);
            assert_le(d, lethe_gdp_delta(mu * 1.01, e));
            prev = d;
        }
    }
    /* bad arguments */
    double out = 0.0;
    assert_true(isnan(lethe_gdp_delta(0.0, 1.0)) && isnan(lethe_gdp_delta(1.0, -1.0)) &&
                isnan(lethe_gdp_delta(NAN, 1.0)));
    assert_status(lethe_gaussian_sigma(0.0, 1e-5, 1.0, &out), LETHE_EINVAL);
    assert_status(lethe_gaussian_sigma(1.0, 1.0, 1.0, &out), LETHE_EINVAL);
    assert_status(lethe_gaussian_sigma(1.0, 1e-5, -1.0, &out), LETHE_EINVAL);
    assert_status(lethe_gaussian_sigma(1.0, 1e-5, 1.0, NULL), LETHE_EINVAL);
    assert_status(lethe_gdp_epsilon(1.0, 0.0, &out), LETHE_EINVAL);
    assert_status(lethe_gdp_epsilon(INFINITY, 1e-5, &out), LETHE_EINVAL);
    assert_true(isnan(lethe_gaussian_sigma_classical(1.5, 1e-5, 1.0)));
    assert_true(isnan(lethe_zcdp_epsilon(-1.0, 1e-5)) && isnan(lethe_zcdp_epsilon_cks(0.1, 2.0)));
    double a1 = 1.0, e1 = 0.1;
    assert_true(isnan(lethe_rdp_epsilon(1, &a1, &e1, 1e-5))); /* α must exceed 1 */
    /* μ below resolution: an upper bound, never 0 */
    assert_true(lethe_gdp_delta(1e-18, 0.0) > 0.0);
    assert_le(lethe_gdp_delta(1e-18, 0.0), 1e-18);
}

/* EVIDENCE: LTH-C-0007 */
static void test_conversion_ordering(void **state)
{
    (void)state;
    size_t n = 0;
    for (double rho = 1e-4; rho < 50.0; rho *= 1.6) {
        for (double d = 1e-12; d < 0.5; d *= 31.0) {
            double exact = 0.0;
            assert_status(lethe_gdp_epsilon(sqrt(2.0 * rho), d, &exact), LETHE_OK);
            double cks = lethe_zcdp_epsilon_cks(rho, d), std = lethe_zcdp_epsilon(rho, d);
            assert_le(exact, cks);
            assert_le(cks, std);
            /* the Rényi curve of the same Gaussian, on a grid of orders: ≥ CKS, close */
            double al[200], er[200];
            for (int i = 0; i < 200; i++) {
                al[i] = 1.0 + exp(-8.0 + 0.09 * i);
                er[i] = al[i] * rho;
            }
            double rdp = lethe_rdp_epsilon(200, al, er, d);
            assert_le(cks, rdp * (1.0 + 1e-12) + 1e-15);
            assert_le(rdp, cks * 1.01 + 1e-3);
            n++;
        }
    }
    assert_true(n > 100);
    /* tiny ρ with tiny δ: the optimum lies far out, still CKS ≤ standard */
    assert_le(lethe_zcdp_epsilon_cks(1e-12, 1e-30), lethe_zcdp_epsilon(1e-12, 1e-30));
    assert_le(lethe_zcdp_epsilon_cks(1e-9, 1e-300), lethe_zcdp_epsilon(1e-9, 1e-300));
    assert_true(lethe__is_zero_test(lethe_zcdp_epsilon_cks(0.0, 1e-5)));
    double huge = 0.0;
    assert_status(lethe_gaussian_sigma(1.0, 1e-5, 1e308, &huge), LETHE_EINVAL); /* no hang */
}

static lethe_capacity_query query(size_t n, double lambda, double eps, double alpha,
                                  int classical, int sekhari)
{
    lethe_capacity_query q = { n, 784, eps, 1e-5, lambda, 0.0, 0.0, alpha, classical, sekhari,
                               0.0 };
    assert_status(lethe_loss_capacity_constants(LETHE_LOSS_LOGISTIC, 1.0, lambda, &q.L, &q.M),
                  LETHE_OK);
    return q;
}

/* F(m) of proofs/deletion-capacity.md, written out again here. */
static double excess_risk(const lethe_capacity_query *q, double k, double m)
{
    double n = (double)q->n, lam = q->lambda, L = q->L;
    double gamma = 2.0 * q->M * m * m * L * L / (lam * lam * lam * n * n);
    /* lethe's Δ(m) with tol = 0: γ/4 plus the Neumann solve's allowance */
    double delta = q->sekhari ? gamma : gamma / 4.0 + 1e-10 * m * L / (lam * (n - m));
    return L * sqrt((double)q->d) * k * delta + L * L * m / (lam * (n - m)) + 2.0 * L * L / (lam * n);
}

/* EVIDENCE: LTH-C-0008 */
static void test_capacity_formula(void **state)
{
    (void)state;
    /* the table of proofs/deletion-capacity.md (d = 784, R = 1, δ = 1e-5),
     * Sekhari et al.'s γ: classical / analytic Newton capacity */
    struct { size_t n; double lambda, alpha, eps; size_t classical, analytic; } t[] = {
        { 12000, 0.1, 0.05, 0.5, 3, 3 },  { 12000, 0.1, 0.05, 1.0, 4, 4 },
        { 60000, 0.1, 0.01, 0.5, 6, 6 },  { 60000, 0.1, 0.01, 1.0, 7, 8 },
        { 60000, 0.1, 0.05, 0.5, 17, 20 }, { 60000, 0.1, 0.05, 1.0, 23, 26 },
        { 60000, 0.01, 0.05, 2.0, 1, 1 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        for (int cl = 0; cl < 2; cl++) {
            if (cl && t[i].eps > 1.0)
                continue;
            lethe_capacity_query q = query(t[i].n, t[i].lambda, t[i].eps, t[i].alpha, cl, 1);
            lethe_capacity c;
            assert_status(lethe_deletion_capacity(&q, &c), LETHE_OK);
            assert_true(c.feasible);
            assert_int_equal(c.newton, cl ? t[i].classical : t[i].analytic);
            /* the defining property: F(m) ≤ α < F(m + 1) */
            assert_le(excess_risk(&q, c.noise_per_unit, (double)c.newton), t[i].alpha);
            assert_true(excess_risk(&q, c.noise_per_unit, (double)c.newton + 1.0) > t[i].alpha);
            assert_int_equal(c.dp, 0); /* the DP baseline cannot afford one removal here */
        }
    }
    /* infeasible: the generalisation term 2L²/(λn) alone exceeds α */
    lethe_capacity_query q = query(12000, 1e-3, 1.0, 0.05, 0, 1);
    lethe_capacity c;
    assert_status(lethe_deletion_capacity(&q, &c), LETHE_OK);
    assert_false(c.feasible);
    assert_int_equal(c.newton, 0);
    assert_close(c.generalisation, 8.0 / 12.0, 1e-15, 0.0);
    /* the DP baseline's closed form */
    q = query(60000, 1.0, 2.0, 0.05, 0, 0);
    assert_status(lethe_deletion_capacity(&q, &c), LETHE_OK);
    double mdp = floor((0.05 - c.generalisation) * 60000.0 / (2.0 * 28.0 * c.noise_per_unit * 4.0));
    assert_close((double)c.dp, mdp, 0.0, 1.0);
    assert_true(c.dp >= 1);
    /* bad arguments */
    q.alpha = 0.0;
    assert_status(lethe_deletion_capacity(&q, &c), LETHE_EINVAL);
    q = query(12000, 1.0, 2.0, 0.05, 1, 0); /* classical needs ε ≤ 1 */
    assert_status(lethe_deletion_capacity(&q, &c), LETHE_EINVAL);
    double L, M;
    assert_status(lethe_loss_capacity_constants(LETHE_LOSS_SQUARED, 1.0, 1.0, &L, &M),
                  LETHE_EINVAL);
}

/* EVIDENCE: LTH-C-0008 */
static void test_capacity_monotone(void **state)
{
    (void)state;
    size_t prev_n = 0;
    for (size_t n = 5000; n <= 80000; n += 5000) {
        lethe_capacity_query q = query(n, 0.5, 1.0, 0.05, 0, 0);
        lethe_capacity c;
        assert_status(lethe_deletion_capacity(&q, &c), LETHE_OK);
        assert_true(c.newton >= prev_n); /* more data, more removals */
        prev_n = c.newton;
        lethe_capacity_query q2 = q;
        q2.epsilon = 2.0;
        lethe_capacity c2;
        assert_status(lethe_deletion_capacity(&q2, &c2), LETHE_OK);
        assert_true(c2.newton >= c.newton); /* weaker privacy, more removals */
        q2 = q;
        q2.sekhari = 1;
        assert_status(lethe_deletion_capacity(&q2, &c2), LETHE_OK);
        assert_true(c2.newton <= c.newton); /* a 4× larger sensitivity allows fewer */
        q2 = q;
        q2.d = 3000;
        assert_status(lethe_deletion_capacity(&q2, &c2), LETHE_OK);
        assert_true(c2.newton <= c.newton); /* more dimensions, more noise */
        assert_true(c.newton >= c.dp); /* Newton beats the DP baseline here */
    }
    assert_true(prev_n > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibration_vectors),
        cmocka_unit_test(test_calibration_postconditions),
        cmocka_unit_test(test_log_ndtr_and_quadrature),
        cmocka_unit_test(test_conversion_ordering),
        cmocka_unit_test(test_capacity_formula),
        cmocka_unit_test(test_capacity_monotone),
    };
    return cmocka_run_group_tests_name("calibrate", tests, NULL, NULL);
}
