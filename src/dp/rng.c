/*
 * The CSPRNG and the seeded ChaCha20 test stream (MATH.md §5).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "dp/dp.h"

#include <math.h>
#include <string.h>

#include <sodium.h>

#define BLOCK 64

struct lethe_rng {
    int seeded;
    unsigned char key[LETHE__SEED_BYTES];
    uint64_t position;         /* bytes consumed from the stream */
    unsigned char buf[BLOCK];  /* keystream block containing position */
    int buf_valid;
};

static const unsigned char nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = "LibsodiumDRG";

lethe_status lethe__rng_create_at(const unsigned char *seed, uint64_t position, lethe_rng **out)
{
    lethe_rng *r = sodium_malloc(sizeof *r);
    if (r == NULL)
        return LETHE_ENOMEM;
    memset(r, 0, sizeof *r);
    if (seed != NULL) {
        r->seeded = 1;
        memcpy(r->key, seed, sizeof r->key);
        r->position = position;
    }
    *out = r;
    return LETHE_OK;
}

lethe_status lethe__rng_create(const unsigned char *seed, lethe_rng **out)
{
    return lethe__rng_create_at(seed, 0, out);
}

void lethe__rng_free(lethe_rng *rng)
{
    if (rng != NULL)
        sodium_free(rng); /* sodium_free wipes the memory */
}

int lethe__rng_seeded(const lethe_rng *rng) { return rng->seeded; }
uint64_t lethe__rng_position(const lethe_rng *rng) { return rng->seeded ? rng->position : 0; }

void lethe__rng_seek(lethe_rng *rng, uint64_t position)
{
    if (!rng->seeded)
        return;
    rng->position = position;
    rng->buf_valid = 0;
}

int lethe__rng_seed(const lethe_rng *rng, unsigned char *seed)
{
    if (!rng->seeded)
        return 0;
    memcpy(seed, rng->key, sizeof rng->key);
    return 1;
}

void lethe__rng_bytes(lethe_rng *rng, void *buf, size_t len)
{
    if (!rng->seeded) {
        randombytes_buf(buf, len);
        return;
    }
    unsigned char *out = buf;
    while (len > 0) {
        uint64_t blockno = rng->position / BLOCK;
        size_t off = (size_t)(rng->position % BLOCK);
        if (!rng->buf_valid || off == 0) {
            static const unsigned char zero[BLOCK];
            /* The IETF counter is 32 bits: 2^32 blocks = 256 GiB of stream. */
            crypto_stream_chacha20_ietf_xor_ic(rng->buf, zero, BLOCK, nonce, (uint32_t)blockno,
                                               rng->key);
            rng->buf_valid = 1;
        }
        size_t take = BLOCK - off < len ? BLOCK - off : len;
        memcpy(out, rng->buf + off, take);
        out += take;
        len -= take;
        rng->position += take;
        if (rng->position % BLOCK == 0)
            rng->buf_valid = 0;
    }
}

uint64_t lethe__rng_u64(lethe_rng *rng)
{
    unsigned char b[8];
    lethe__rng_bytes(rng, b, sizeof b);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

double lethe__rng_uniform(lethe_rng *rng)
{
    return (double)(lethe__rng_u64(rng) >> 11) * 0x1p-53;
}

void lethe__gaussian(lethe_rng *rng, double sigma, double *out, size_t d)
{
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t i = 0; i < d; i += 2) {
        double u1 = 1.0 - lethe__rng_uniform(rng); /* (0, 1]: log is finite */
        double u2 = lethe__rng_uniform(rng);
        double r = sigma * sqrt(-2.0 * log(u1));
        out[i] = r * cos(two_pi * u2);
        if (i + 1 < d)
            out[i + 1] = r * sin(two_pi * u2);
    }
}
