/*
 * The CSPRNG and the seeded ChaCha20 test stream (MATH.md §5).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "dp/dp.h"

#include <math.h>
#include <string.h>

#include <sodium.h>

#define BLOCK 64             /* ChaCha20 block */
#define BUFBYTES (1024 * BLOCK) /* bytes generated per refill (64 KiB) */

struct lethe_rng {
    int seeded;
    unsigned char key[LETHE__SEED_BYTES];
    uint64_t position;         /* bytes consumed from the seeded stream */
    uint64_t buf_start;        /* seeded: stream position of buf[0] (a block boundary) */
    size_t buf_len;            /* valid bytes in buf (0: nothing buffered) */
    size_t buf_off;            /* CSPRNG: bytes of buf already handed out */
    unsigned char buf[BUFBYTES];
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
        sodium_free(rng); /* sodium_free wipes the memory, buffered bytes included */
}

int lethe__rng_seeded(const lethe_rng *rng) { return rng->seeded; }
uint64_t lethe__rng_position(const lethe_rng *rng) { return rng->seeded ? rng->position : 0; }

void lethe__rng_seek(lethe_rng *rng, uint64_t position)
{
    if (rng->seeded)
        rng->position = position; /* the buffer is reused if it covers position */
}

int lethe__rng_seed(const lethe_rng *rng, unsigned char *seed)
{
    if (!rng->seeded)
        return 0;
    memcpy(seed, rng->key, sizeof rng->key);
    return 1;
}

/* Make buf hold the bytes at the current position (seeded) or fresh bytes
 * (CSPRNG); returns a pointer to the next unread byte and how many follow. */
static const unsigned char *rng_window(lethe_rng *rng, size_t *avail)
{
    if (!rng->seeded) {
        if (rng->buf_off >= rng->buf_len) {
            /* A fresh 256-bit key from the CSPRNG for every refill, expanded
             * by ChaCha20 (libsodium's own CSPRNG construction): one system
             * call per BUFBYTES instead of one per word; the key is used
             * once and wiped. */
            unsigned char key[crypto_stream_chacha20_ietf_KEYBYTES];
            randombytes_buf(key, sizeof key);
            crypto_stream_chacha20_ietf(rng->buf, BUFBYTES, nonce, key);
            sodium_memzero(key, sizeof key);
            rng->buf_len = BUFBYTES;
            rng->buf_off = 0;
        }
        *avail = rng->buf_len - rng->buf_off;
        return rng->buf + rng->buf_off;
    }
    if (rng->buf_len == 0 || rng->position < rng->buf_start ||
        rng->position - rng->buf_start >= rng->buf_len) {
        uint64_t start = rng->position - rng->position % BLOCK;
        memset(rng->buf, 0, BUFBYTES);
        /* The IETF counter is 32 bits: 2^32 blocks = 256 GiB of stream. */
        crypto_stream_chacha20_ietf_xor_ic(rng->buf, rng->buf, BUFBYTES, nonce,
                                           (uint32_t)(start / BLOCK), rng->key);
        rng->buf_start = start;
        rng->buf_len = BUFBYTES;
    }
    size_t off = (size_t)(rng->position - rng->buf_start);
    *avail = rng->buf_len - off;
    return rng->buf + off;
}

static void rng_consume(lethe_rng *rng, size_t n)
{
    if (rng->seeded)
        rng->position += n;
    else
        rng->buf_off += n;
}

void lethe__rng_bytes(lethe_rng *rng, void *buf, size_t len)
{
    unsigned char *out = buf;
    while (len > 0) {
        size_t avail;
        const unsigned char *src = rng_window(rng, &avail);
        size_t take = avail < len ? avail : len;
        memcpy(out, src, take);
        rng_consume(rng, take);
        out += take;
        len -= take;
    }
}

uint64_t lethe__rng_u64(lethe_rng *rng)
{
    size_t avail;
    const unsigned char *b = rng_window(rng, &avail);
    unsigned char tmp[8];
    if (avail < 8) {
        lethe__rng_bytes(rng, tmp, sizeof tmp);
        b = tmp;
    } else {
        rng_consume(rng, 8);
    }
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

double lethe__rng_uniform(lethe_rng *rng)
{
    return (double)(lethe__rng_u64(rng) >> 11) * 0x1p-53;
}
