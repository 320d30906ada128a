/*
 * dp: the libsodium known-answer vector, the resumable seeded stream and the
 * CSPRNG. The noise sampler has its own suite (test_lattice.c).
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
        cmocka_unit_test(test_csprng),
    };
    return cmocka_run_group_tests_name("dp", tests, setup, NULL);
}
