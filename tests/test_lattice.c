/*
 * The lattice noise sampler (src/dp/lattice.c, proofs/lattice-noise.md).
 *
 * Statistical tests run with fixed seeds in `make check`, so they never
 * flake. `make stattest` runs them again with fresh seeds (printed, so a
 * failure can be replayed with LETHE_STAT_SEED) and LETHE_STAT_SCALE times
 * more samples. Every threshold is a two-sided p = 1e-6 (or z = 4.41717,
 * p = 1e-5) critical value.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <gsl/gsl_cdf.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "dp/dp.h"

#define Z_CRIT 4.41717 /* two-sided p = 1e-5 (MATH.md) */

/* Bit-for-bit equality of doubles (NaN never equal), without -Wfloat-equal. */
static int same(double a, double b) { return !(a < b) && !(a > b) && !isnan(a) && !isnan(b); }

static unsigned char stat_seed[32];
static size_t stat_scale = 1;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    const char *fresh = getenv("LETHE_STAT_FRESH"), *hex = getenv("LETHE_STAT_SEED");
    const char *scale = getenv("LETHE_STAT_SCALE");
    for (int i = 0; i < 32; i++)
        stat_seed[i] = (unsigned char)(0x5b + 3 * i);
    if (hex != NULL && strlen(hex) == 64) {
        for (int i = 0; i < 32; i++) {
            unsigned v = 0;
            if (sscanf(hex + 2 * i, "%2x", &v) != 1)
                return -1;
            stat_seed[i] = (unsigned char)v;
        }
    } else if (fresh != NULL && strcmp(fresh, "1") == 0) {
        randombytes_buf(stat_seed, sizeof stat_seed);
    }
    if (scale != NULL && atoi(scale) > 0)
        stat_scale = (size_t)atoi(scale);
    char shown[65];
    for (int i = 0; i < 32; i++)
        snprintf(shown + 2 * i, 3, "%02x", stat_seed[i]);
    print_message("lattice: seed %s, scale %zu\n", shown, stat_scale);
    return 0;
}

/* A seeded stream derived from the suite's seed and a per-test tag, so the
 * tests do not share samples. */
static lethe_rng *stat_rng(unsigned char tag)
{
    unsigned char seed[32];
    memcpy(seed, stat_seed, sizeof seed);
    seed[31] ^= tag;
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    return r;
}

/* N samples of m/t for σ (m in lattice units, scaled to unit variance). */
static double *draw_unit(double sigma, size_t N, unsigned char tag, lethe_lattice *lat)
{
    assert_status(lethe__lattice_params(sigma, lat), LETHE_OK);
    lethe_rng *r = stat_rng(tag);
    double *u = malloc(N * sizeof *u);
    assert_non_null(u);
    for (size_t i = 0; i < N; i++)
        u[i] = (double)lethe__lattice_sample(lat, r) / (double)lat->t;
    lethe__rng_free(r);
    return u;
}

/* EVIDENCE: LTH-C-0010 */
/* MATH.md §5's lattice vectors, t = σ/g exactly in (2^55, 2^56], and the
 * parameters the sampler refuses. */
static void test_lattice_params(void **state)
{
    (void)state;
    const struct { double sigma, g; } v[] = { { 1.0, 0x1p-56 }, { 6.8e10, 0x1p-20 },
                                              { 1e17, 2.0 }, { 2.385, 0x1p-54 },
                                              { 0x1p-3, 0x1p-59 } };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        lethe_lattice lat;
        assert_status(lethe__lattice_params(v[i].sigma, &lat), LETHE_OK);
        assert_true(same(lat.g, v[i].g));
        assert_true(lat.t > (UINT64_C(1) << 55) && lat.t <= (UINT64_C(1) << 56));
        assert_true(fabs((double)lat.t * lat.g / v[i].sigma - 1.0) < 0x1p-52);
        assert_true(lat.S == lat.t + lat.t / 4);
        /* S² ≥ 2 ln 2·t² makes α ≤ 1 in every block (LTH-C-0010 §1) */
        assert_true((double)lat.S * (double)lat.S >= 2.0 * log(2.0) * (double)lat.t * (double)lat.t);
    }
    const double bad[] = { 0.0, -1.0, NAN, INFINITY, -INFINITY, 0x1p-901, 0x1p901 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lethe_lattice lat;
        assert_status(lethe__lattice_params(bad[i], &lat), LETHE_EINVAL);
    }
}

/* EVIDENCE: LTH-C-0010 */
/* Golden values: the sampler on the seeded stream, recomputed by an
 * independent implementation of the same algorithm in exact integer
 * arithmetic (Python, with its own ChaCha20). */
static void test_lattice_golden(void **state)
{
    (void)state;
    static const int64_t want[8] = { 65451498419305768,  89719328603102424,
                                     38650577871447542,  -15091748298071444,
                                     -3879323589798338,  15988444102968729,
                                     28173395282017437,  -13101767080969111 };
    unsigned char seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(0xa0 + i);
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    lethe_lattice lat;
    assert_status(lethe__lattice_params(2.385, &lat), LETHE_OK);
    assert_true(lat.t == UINT64_C(42964340445114528));
    assert_true(lat.inv_t == UINT64_C(15468967776695642150));
    int64_t m[8];
    lethe__lattice_draw(&lat, r, m, 8);
    for (int i = 0; i < 8; i++)
        assert_true(m[i] == want[i]);
    lethe__rng_free(r);
#if defined(__SIZEOF_INT128__)
    /* the portable 64×64 → 128 high word agrees with the compiler's */
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 100000; i++) {
        uint64_t a = tu_next(&s), b = tu_next(&s);
        if (i < 4)
            a = i & 1 ? UINT64_MAX : 0, b = i & 2 ? UINT64_MAX : b;
        assert_true(lethe__mulhi_portable(a, b) ==
                    (uint64_t)(((unsigned __int128)a * b) >> 64));
    }
#endif
}

/* EVIDENCE: LTH-C-0010 */
/* The fixed-point acceptance α̂ against α = 2^k·exp(−x²/(2t²)) computed in
 * long double, on every block edge and a dense grid to 10t: the error stays
 * below the η of LTH-C-0010 §2, and α̂ > 0 up to 6σ (no holes). */
static void test_lattice_accept_error(void **state)
{
    (void)state;
    const double sigmas[] = { 1.0, 2.385, 0.7071, 6.8e10, 1e-4 };
    long double worst = 0.0L;
    for (size_t si = 0; si < sizeof sigmas / sizeof sigmas[0]; si++) {
        lethe_lattice lat;
        assert_status(lethe__lattice_params(sigmas[si], &lat), LETHE_OK);
        const uint64_t S = lat.S;
        for (unsigned k = 0; k <= 7; k++) {
            for (uint64_t step = 0; step <= 20000; step++) {
                /* |x| runs over block k: kS … kS + S, edges included */
                uint64_t a = (uint64_t)k * S + (uint64_t)((long double)S * step / 20000.0L);
                if (step == 20000)
                    a = (uint64_t)k * S + S; /* the negative side's last |x| */
                long double u = (long double)a / (long double)lat.t;
                long double alpha = ldexpl(expl(-0.5L * u * u), (int)k);
                long double got = ldexpl((long double)lethe__lattice_accept_q62(&lat, a, k), -62);
                long double err = fabsl(got - alpha);
                if (err > worst)
                    worst = err;
                assert_true(alpha <= 1.0L + 1e-18L);
                if (u <= 6.0L)
                    assert_true(got > 0.0L);
            }
        }
    }
    print_message("max |α̂ − α| = %.3Le (2^%.1f); bound 39.92·2^-62 < η = 41·2^-62\n", worst,
                  (double)log2l(worst));
    assert_true(worst <= 40.0L * 0x1p-62L); /* LTH-C-0010 §3.7: 39.92·2^-62 */
}

/* EVIDENCE: LTH-C-0010 */
/* Mean and variance z-tests at z = 4.41717; the sample standard deviation
 * is that of the symmetric binomial, √n/2 = s/2 = t (= σ in lattice units). */
static void test_lattice_moments(void **state)
{
    (void)state;
    const size_t N = 200000 * stat_scale;
    const double sigmas[] = { 2.385, 1e-4 };
    for (size_t si = 0; si < 2; si++) {
        lethe_lattice lat;
        double *u = draw_unit(sigmas[si], N, (unsigned char)(1 + si), &lat);
        double mean = 0.0, m2 = 0.0, m4 = 0.0;
        for (size_t i = 0; i < N; i++)
            mean += u[i];
        mean /= (double)N;
        for (size_t i = 0; i < N; i++) {
            double c = (u[i] - mean) * (u[i] - mean);
            m2 += c;
            m4 += c * c;
        }
        double var = m2 / (double)(N - 1), kurt = m4 / (double)N / (var * var);
        double zmean = mean * sqrt((double)N);
        double zvar = (var - 1.0) / sqrt(2.0 / (double)(N - 1)); /* Var(s²) = 2σ⁴/(N−1) */
        print_message("σ = %g: z(mean) = %+.3f, z(var) = %+.3f, sd/t = %.5f, kurtosis %.4f\n",
                      sigmas[si], zmean, zvar, sqrt(var), kurt);
        assert_le(fabs(zmean), Z_CRIT);
        assert_le(fabs(zvar), Z_CRIT);
        /* a Gaussian's kurtosis is 3; its sample sd is 24/N: z-test it too */
        assert_le(fabs(kurt - 3.0) / sqrt(24.0 / (double)N), Z_CRIT);
        free(u);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* EVIDENCE: LTH-C-0010 */
/* Kolmogorov–Smirnov against N(0, 1) for m/t: n = 5000 draws per batch,
 * critical value 0.03805 at p = 1e-6 (MATH.md §5). At t > 2^55 the lattice
 * is far finer than the test can see. */
static void test_lattice_ks(void **state)
{
    (void)state;
    const size_t N = 5000;
    for (size_t batch = 0; batch < stat_scale; batch++) {
        lethe_lattice lat;
        double *u = draw_unit(0.7071, N, (unsigned char)(16 + batch % 200), &lat);
        qsort(u, N, sizeof *u, cmp_double);
        double D = 0.0;
        for (size_t i = 0; i < N; i++) {
            double F = 0.5 * erfc(-u[i] / sqrt(2.0));
            D = fmax(D, fmax(fabs((double)(i + 1) / (double)N - F), fabs(F - (double)i / (double)N)));
        }
        if (batch == 0)
            print_message("KS statistic D = %.5f (critical 0.03805)\n", D);
        assert_le(D, 0.03805);
        free(u);
    }
}

/* EVIDENCE: LTH-C-0010 */
/* χ² against the discrete Gaussian's pmf on 40 bins of equal width between
 * −4t and 4t whose edges are lattice points, plus the two tails — chosen so
 * that every bin expects at least 5 draws (at 200 000 draws), as χ² needs.
 * A bin's probability Σ_{x=a}^{b−1} e^{−x²/2t²}/Σ_x e^{−x²/2t²} equals
 * Φ((b − ½)/t) − Φ((a − ½)/t) up to a relative O(e^{−2π²t²}) (Poisson
 * summation), i.e. exactly in binary64. 41 degrees of freedom: the
 * critical value at p = 1e-6 is GSL's χ² quantile (99.1739). */
static void test_lattice_chi2(void **state)
{
    (void)state;
    enum { BINS = 42 };
    const size_t N = 200000 * stat_scale;
    lethe_lattice lat;
    assert_status(lethe__lattice_params(3.3, &lat), LETHE_OK);
    lethe_rng *r = stat_rng(3);
    const int64_t t = (int64_t)lat.t, width = 8 * t / 40, lo = -20 * width;
    double count[BINS] = { 0 };
    for (size_t i = 0; i < N; i++) {
        int64_t m = lethe__lattice_sample(&lat, r);
        int b = m < lo ? 0 : m >= -lo ? BINS - 1 : 1 + (int)((m - lo) / width);
        count[b] += 1.0;
    }
    double chi2 = 0.0, least = INFINITY;
    for (int b = 0; b < BINS; b++) {
        double a = b == 0 ? -INFINITY : (double)(lo + (b - 1) * width) - 0.5;
        double c = b == BINS - 1 ? INFINITY : (double)(lo + b * width) - 0.5;
        double p = 0.5 * (erfc(-c / ((double)t * sqrt(2.0))) - erfc(-a / ((double)t * sqrt(2.0))));
        double e = p * (double)N;
        least = fmin(least, e);
        chi2 += (count[b] - e) * (count[b] - e) / e;
    }
    const double crit = gsl_cdf_chisq_Qinv(1e-6, 41.0);
    assert_close(crit, 99.1739, 0.0, 1e-4); /* the value the text states */
    print_message("χ² = %.2f on 41 degrees of freedom (p = %.3g; critical %.2f at p = 1e-6)\n",
                  chi2, gsl_cdf_chisq_Q(chi2, 41.0), crit);
    assert_true(least >= 5.0); /* the test's own validity */
    assert_le(chi2, crit);
    lethe__rng_free(r);
}

/* EVIDENCE: LTH-C-0010 */
/* No holes at the lattice's own scale: the low 6 bits of m are uniform
 * (χ², 63 degrees of freedom, GSL's critical value at p = 1e-6). A sampler
 * that skipped odd multiples of g, as a float transform rounded to a
 * coarser grid does, fails this at once. */
static void test_lattice_low_bits(void **state)
{
    (void)state;
    const size_t N = 128000 * stat_scale;
    lethe_lattice lat;
    assert_status(lethe__lattice_params(1e-4, &lat), LETHE_OK);
    lethe_rng *r = stat_rng(4);
    double count[64] = { 0 };
    for (size_t i = 0; i < N; i++)
        count[(uint64_t)lethe__lattice_sample(&lat, r) & 63] += 1.0;
    double e = (double)N / 64.0, chi2 = 0.0;
    for (int b = 0; b < 64; b++)
        chi2 += (count[b] - e) * (count[b] - e) / e;
    const double crit = gsl_cdf_chisq_Qinv(1e-6, 63.0);
    assert_close(crit, 131.3697, 0.0, 1e-4);
    print_message("low bits: χ² = %.2f on 63 degrees of freedom (p = %.3g; critical %.2f)\n",
                  chi2, gsl_cdf_chisq_Q(chi2, 63.0), crit);
    assert_le(chi2, crit);
    lethe__rng_free(r);
}

/* The exact sum round(v/g) + m rounded once, by an independent route:
 * 128-bit integers where the compiler has them (the test may use them; the
 * library does not). */
#if defined(__SIZEOF_INT128__)
static double release_oracle(double v, int64_t m, double g)
{
    __int128 z = (__int128)nearbyint(v / g) + m;
    return (double)z * g;
}
#endif

/* EVIDENCE: LTH-C-0010 */
/* The release: every output is a multiple of g, equals the exactly rounded
 * (round(v/g) + m)·g, and out-of-range inputs are refused unchanged. */
static void test_lattice_release(void **state)
{
    (void)state;
    lethe_lattice lat;
    assert_status(lethe__lattice_params(2.385e-4, &lat), LETHE_OK);
    lethe_rng *r = stat_rng(5);
    enum { D = 4096 };
    static double v[D], out[D];
    static int64_t m[D];
    for (int rep = 0; rep < 24; rep++) {
        /* magnitudes from far below g to 2^110·g, signs mixed */
        for (int i = 0; i < D; i++) {
            double mag = ldexp(1.0 + (double)(lethe__rng_u64(r) >> 11) * 0x1p-53,
                               (int)(lethe__rng_u64(r) % 170) - 60);
            v[i] = (i & 1 ? -mag : mag) * lat.g;
            if (i % 97 == 0)
                v[i] = (double)(i - 2048) * lat.g * 0.5; /* halves: ties to even */
        }
        lethe__lattice_draw(&lat, r, m, D);
        assert_status(lethe__lattice_release(&lat, v, m, out, D), LETHE_OK);
        for (int i = 0; i < D; i++) {
            double q = out[i] / lat.g;
            assert_true(same(q, nearbyint(q))); /* a lattice point */
#if defined(__SIZEOF_INT128__)
            if (!same(out[i], release_oracle(v[i], m[i], lat.g)))
                fail_msg("v = %a, m = %lld: got %a, want %a", v[i], (long long)m[i], out[i],
                         release_oracle(v[i], m[i], lat.g));
#endif
        }
    }
    /* refused, output untouched */
    double bad[3] = { 1.0, NAN, 2.0 }, keep[3] = { 7.0, 7.0, 7.0 };
    int64_t z[3] = { 0, 0, 0 };
    assert_status(lethe__lattice_release(&lat, bad, z, keep, 3), LETHE_EINVAL);
    assert_true(same(keep[0], 7.0) && same(keep[2], 7.0));
    bad[1] = ldexp(lat.g, 120);
    assert_status(lethe__lattice_release(&lat, bad, z, keep, 3), LETHE_EINVAL);
    bad[1] = INFINITY;
    assert_status(lethe__lattice_release(&lat, bad, z, keep, 3), LETHE_EINVAL);
    assert_true(same(keep[1], 7.0));
    bad[1] = ldexp(lat.g, 119);
    assert_status(lethe__lattice_release(&lat, bad, z, keep, 3), LETHE_OK);
    lethe__rng_free(r);
}

/* EVIDENCE: LTH-C-0010 */
/* The charges: g√d and d·τ, rounded up, for the demo's d = 784. */
static void test_lattice_charges(void **state)
{
    (void)state;
    lethe_lattice lat;
    assert_status(lethe__lattice_params(2.0e-4, &lat), LETHE_OK);
    double rnd = lethe__lattice_rounding(&lat, 784);
    assert_true(rnd >= lat.g * 28.0);
    assert_true(rnd <= lat.g * 28.0 * (1.0 + 1e-12));
    double tv = lethe__lattice_delta(784, 1.0);
    assert_true(tv >= (1.0 + exp(1.0)) * 784.0 * 8.56e-15);
    assert_true(isnan(lethe__lattice_delta(784, -1.0)) && isnan(lethe__lattice_delta(784, NAN)));
    print_message("d = 784, σ = 2e-4: g = %a, g√d = %.3e, (1 + e)·d·τ = %.3e\n", lat.g, rnd,
                  tv);
    /* MATH.md's τ(s) at its worst point, s = 2^56, is below the constant */
    double s = 0x1p56;
    assert_true(15.2 / s + 0.88 * pow(log(s * s), 1.5) / s <= LETHE__LATTICE_TV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lattice_params),
        cmocka_unit_test(test_lattice_golden),
        cmocka_unit_test(test_lattice_accept_error),
        cmocka_unit_test(test_lattice_moments),
        cmocka_unit_test(test_lattice_ks),
        cmocka_unit_test(test_lattice_chi2),
        cmocka_unit_test(test_lattice_low_bits),
        cmocka_unit_test(test_lattice_release),
        cmocka_unit_test(test_lattice_charges),
    };
    return cmocka_run_group_tests_name("lattice", tests, setup, NULL);
}
