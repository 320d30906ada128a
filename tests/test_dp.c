/*
 * dp: the libsodium known-answer vector, the resumable seeded stream, golden
 * Gaussian values and the sampler's moments with a fixed seed.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <sodium.h>

#include "dp/dp.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* MATH.md §5: seed 00 01 … 1f gives this first 32 bytes, in libsodium's
 * randombytes_buf_deterministic and in lethe's stream alike. */
static void test_known_answer(void **state)
{
    (void)state;
    static const unsigned char want[32] = {
        0x0d, 0x8e, 0x6c, 0xc6, 0x87, 0x15, 0x64, 0x89, 0x26, 0x73, 0x2e,
        0x7e, 0xa7, 0x32, 0x50, 0xcf, 0xaf, 0x2d, 0x58, 0x42, 0x20, 0x83,
        0x90, 0x4c, 0x84, 0x1a, 0x8b, 0xa3, 0x3b, 0x98, 0x61, 0x11,
    };
    unsigned char seed[32], got[32], lib[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)i;
    randombytes_buf_deterministic(lib, sizeof lib, seed);
    assert_memory_equal(lib, want, 32);
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    lethe__rng_bytes(r, got, sizeof got);
    assert_memory_equal(got, want, 32);
    assert_true(lethe__rng_seeded(r));
    lethe__rng_free(r);
}

/* Reading the stream in pieces of any size, or resuming it at a saved
 * position, gives the bytes of one long deterministic read. */
static void test_stream_resumable(void **state)
{
    (void)state;
    unsigned char seed[32], whole[1000], parts[1000];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(7 * i + 3);
    randombytes_buf_deterministic(whole, sizeof whole, seed);
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    size_t pos = 0, step = 1;
    while (pos < sizeof parts) {
        size_t take = step < sizeof parts - pos ? step : sizeof parts - pos;
        lethe__rng_bytes(r, parts + pos, take);
        pos += take;
        step = step * 3 % 97 + 1;
    }
    assert_memory_equal(whole, parts, sizeof whole);
    assert_int_equal(lethe__rng_position(r), 1000);
    lethe__rng_free(r);
    /* seeking back replays the stream, within a block and across blocks */
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    lethe__rng_bytes(r, parts, 150);
    lethe__rng_seek(r, 70);
    lethe__rng_bytes(r, parts, 100);
    assert_memory_equal(parts, whole + 70, 100);
    lethe__rng_free(r);
    for (uint64_t at = 0; at < 200; at += 37) {
        assert_status(lethe__rng_create_at(seed, at, &r), LETHE_OK);
        lethe__rng_bytes(r, parts, 100);
        assert_memory_equal(parts, whole + at, 100);
        lethe__rng_free(r);
    }
}

/* Golden values: Box–Muller of the seeded stream, recomputed independently
 * with another ChaCha20 implementation (Python's cryptography package). */
static void test_gaussian_golden(void **state)
{
    (void)state;
    static const double want[6] = { 0.4044913843848081, 2.03104537043731,
                                    -1.3598109120414912, 0.30737816643769283,
                                    3.1195241506147564, 1.7033211476265318 };
    unsigned char seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(0xa0 + i);
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    double g[6];
    lethe__gaussian(r, 2.385, g, 6);
    for (int i = 0; i < 6; i++)
        assert_close(g[i], want[i], 1e-15, 0.0);
    assert_true(lethe__rng_u64(r) == 280966975068288788ULL);
    lethe__rng_free(r);
}

/* Mean and variance of 200 000 draws: z-tests at z = 4.41717 (two-sided
 * p = 1e-5), with a fixed seed so the test never flakes. */
static void test_gaussian_moments(void **state)
{
    (void)state;
    const size_t N = 200000;
    const double sigma = 3.7;
    double *g = malloc(N * sizeof *g);
    unsigned char seed[32] = { 42 };
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    lethe__gaussian(r, sigma, g, N);
    double mean = 0.0, m2 = 0.0;
    for (size_t i = 0; i < N; i++)
        mean += g[i];
    mean /= (double)N;
    for (size_t i = 0; i < N; i++)
        m2 += (g[i] - mean) * (g[i] - mean);
    double var = m2 / (double)(N - 1);
    const double z = 4.41717;
    assert_le(fabs(mean), z * sigma / sqrt((double)N));
    /* Var(s²) = 2σ⁴/(N−1) for a Gaussian */
    assert_le(fabs(var - sigma * sigma), z * sigma * sigma * sqrt(2.0 / (double)(N - 1)));
    free(g);
    lethe__rng_free(r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov–Smirnov against N(0, σ²): n = 5000 draws, critical value
 * 0.03805 at p = 1e-6 (MATH.md §5), fixed seed. */
static void test_gaussian_ks(void **state)
{
    (void)state;
    const size_t N = 5000;
    const double sigma = 2.385;
    double *g = malloc(N * sizeof *g);
    unsigned char seed[32] = { 7, 7, 7 };
    lethe_rng *r = NULL;
    assert_status(lethe__rng_create(seed, &r), LETHE_OK);
    lethe__gaussian(r, sigma, g, N);
    qsort(g, N, sizeof *g, cmp_double);
    double D = 0.0;
    for (size_t i = 0; i < N; i++) {
        double F = 0.5 * erfc(-g[i] / (sigma * sqrt(2.0)));
        D = fmax(D, fmax(fabs((double)(i + 1) / (double)N - F), fabs(F - (double)i / (double)N)));
    }
    print_message("KS statistic D = %.5f (critical 0.03805)\n", D);
    assert_le(D, 0.03805);
    free(g);
    lethe__rng_free(r);
}

/* The production source is not the seeded one and does not repeat. */
static void test_csprng(void **state)
{
    (void)state;
    lethe_rng *a = NULL, *b = NULL;
    assert_status(lethe__rng_create(NULL, &a), LETHE_OK);
    assert_status(lethe__rng_create(NULL, &b), LETHE_OK);
    assert_false(lethe__rng_seeded(a));
    unsigned char seed[32];
    assert_int_equal(lethe__rng_seed(a, seed), 0);
    assert_true(lethe__rng_u64(a) != lethe__rng_u64(b));
    double u = lethe__rng_uniform(a);
    assert_true(u >= 0.0 && u < 1.0);
    lethe__rng_free(a);
    lethe__rng_free(b);
    lethe__rng_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_stream_resumable),
        cmocka_unit_test(test_gaussian_golden),
        cmocka_unit_test(test_gaussian_moments),
        cmocka_unit_test(test_gaussian_ks),
        cmocka_unit_test(test_csprng),
    };
    return cmocka_run_group_tests_name("dp", tests, setup, NULL);
}
