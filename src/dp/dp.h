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
/* log Φ(x), the standard normal's log CDF, to about 1e-16 relative (calibrate.c). */
double lethe__log_ndtr(double x);
/* The positive nodes of 20-point Gauss–Legendre on [−1, 1] and their weights. */
extern const double lethe__gl20_node[10], lethe__gl20_weight[10];

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

/* Name of the noise sampler, recorded with every model and certificate. */
#define LETHE__SAMPLER_NAME "lattice-gaussian-int64 (discrete Gaussian for Bin(n,1/2), g = 2^ceil(log2(2 sigma/2^57)))"

/* Per-coordinate total-variation charge of the lattice sampler against a
 * rounded continuous Gaussian: MATH.md §5's 15.2/s + 0.88·ln^1.5(s²)/s at
 * its worst, s = 2^56, rounded up; about 490 times the bound LTH-C-0010 §5
 * proves for the sampler itself. */
#define LETHE__LATTICE_TV 8.6e-15

/* The lattice of one σ (LTH-C-0010): g = 2^⌈log2(2σ/2^57)⌉, the noise
 * m·g with m an integer of standard deviation t = σ/g ∈ (2^55, 2^56]. */
typedef struct {
    double sigma;
    double g;        /* lattice step, a power of two */
    uint64_t t;      /* σ/g, an integer */
    uint64_t S;      /* proposal block width t + t/4 */
    uint64_t reject; /* (2^64 − S) mod S: Lemire's rejection threshold for offsets */
    uint64_t inv_t;  /* ⌊2^119/t⌋ */
} lethe_lattice;

/* Fill lat for σ. LETHE_EINVAL unless 2^-900 ≤ σ ≤ 2^900 (NaN, ±Inf, σ ≤ 0
 * included). O(1). */
lethe_status lethe__lattice_params(double sigma, lethe_lattice *lat);

/* m[0..d-1]: d independent integers from the discrete Gaussian of
 * parameter t (within TV 1.77e-17 per sample, LTH-C-0010), which stands in
 * for Bin(4t², ½) − 2t² (sd t); 64-bit integer arithmetic and rng's words
 * only; |m| < 2^60. About 2 proposals and 6 words per sample; the stream
 * advances in 512-byte steps. */
void lethe__lattice_draw(const lethe_lattice *lat, lethe_rng *rng, int64_t *m, size_t d);

/* One sample (a draw of d = 1; tests and benchmarks). */
int64_t lethe__lattice_sample(const lethe_lattice *lat, lethe_rng *rng);

/* The portable high word of a 64×64-bit product (exposed for tests). */
uint64_t lethe__mulhi_portable(uint64_t a, uint64_t b);

/* α̂·2^62, the acceptance probability the sampler uses for |x| = a in proposal
 * block k (exposed for tests). */
uint64_t lethe__lattice_accept_q62(const lethe_lattice *lat, uint64_t a, unsigned k);

/* out[i] = the double nearest to (round(v[i]/g) + m[i])·g, the sum taken
 * exactly in integers (round half to even). LETHE_EINVAL, with out
 * untouched, if some v[i] is not finite or |v[i]/g| ≥ 2^120. out may equal v. */
lethe_status lethe__lattice_release(const lethe_lattice *lat, const double *v, const int64_t *m,
                                    double *out, size_t d);

/* g√d rounded up: what the rounding to the lattice adds to a sensitivity. */
double lethe__lattice_rounding(const lethe_lattice *lat, size_t d);

/* (1 + e^ε)·d·LETHE__LATTICE_TV rounded up: what the sampler adds to δ
 * for a release of d coordinates at ε (LTH-C-0010 §6.3). NaN if ε < 0. */
double lethe__lattice_delta(size_t d, double epsilon);

/* Calibrate a lattice release of d coordinates whose centre moves by at
 * most base between the two worlds compared: the smallest σ whose
 * sensitivity base + g√d (g the lattice step of that σ) is (ε, δ − (1 +
 * e^ε)·d·τ) by the analytic Gaussian; *sensitivity, *sigma and *lat
 * receive it. Returns LETHE_OK or LETHE_EINVAL (bad arguments, δ below the
 * sampler's share, σ outside the sampler's range). O(1). */
lethe_status lethe__calibrate_release(double epsilon, double delta, size_t d, double base,
                                      double *sensitivity, double *sigma, lethe_lattice *lat);

/* The smallest ε (rounded up) with δ_GDP(μ, ε) + (1 + e^ε)·units·τ ≤ δ:
 * a μ-GDP release history whose lattice samples number `units` in all.
 * Returns LETHE_OK or LETHE_EINVAL (bad arguments, or no ε reaches δ). */
lethe_status lethe__epsilon_with_sampler(double mu, size_t units, double delta, double *epsilon);

#endif /* LETHE_DP_H */
