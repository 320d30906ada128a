/*
 * Randomness and noise. Knows nothing of models.
 *
 * Production randomness is libsodium's CSPRNG (randombytes_buf). Tests and
 * reproducible runs use a seeded, resumable ChaCha20 stream: key = the 32-byte
 * seed, nonce "LibsodiumDRG", block counter advancing from 0 — the same byte
 * stream as randombytes_buf_deterministic(), but one that continues across
 * calls instead of restarting at byte 0 (MATH.md §5).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_DP_H
#define LETHE_DP_H

#include "base/base.h"

#define LETHE__SEED_BYTES 32

typedef struct lethe_rng lethe_rng;

/* seed NULL: the CSPRNG; otherwise a copy of 32 bytes keys the test stream.
 * The state lives in sodium_malloc memory (guarded, wiped on free).
 * Returns LETHE_OK or LETHE_ENOMEM. */
lethe_status lethe__rng_create(const unsigned char *seed, lethe_rng **out);
void lethe__rng_free(lethe_rng *rng);
int lethe__rng_seeded(const lethe_rng *rng);
/* Fill buf with len random bytes. */
void lethe__rng_bytes(lethe_rng *rng, void *buf, size_t len);
uint64_t lethe__rng_u64(lethe_rng *rng);
/* Uniform double in [0, 1): (x >> 11)·2⁻⁵³ — for comparisons only. */
double lethe__rng_uniform(lethe_rng *rng);
/* Position of the seeded stream (bytes consumed), for save/restore; 0 for CSPRNG. */
uint64_t lethe__rng_position(const lethe_rng *rng);
/* Move a seeded stream to a byte position (no allocation; no-op for the
 * CSPRNG). Used to rewind after a failed call. */
void lethe__rng_seek(lethe_rng *rng, uint64_t position);
/* Copy the seed (32 bytes) of a seeded stream; returns 0 for the CSPRNG. */
int lethe__rng_seed(const lethe_rng *rng, unsigned char *seed);
/* Re-create a seeded stream at a byte position. */
lethe_status lethe__rng_create_at(const unsigned char *seed, uint64_t position, lethe_rng **out);

/* Name of the Gaussian sampler, recorded with every model. */
#define LETHE__SAMPLER_NAME "box-muller-f64 (provisional: float transform)"

/* out[0..d-1] ~ N(0, σ²) i.i.d., by the Box–Muller transform of 53-bit
 * uniforms. A floating-point transform: it is replaced by an integer lattice
 * sampler before lethe claims resistance to floating-point attacks. */
void lethe__gaussian(lethe_rng *rng, double sigma, double *out, size_t d);

#endif /* LETHE_DP_H */
