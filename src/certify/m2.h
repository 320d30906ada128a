/*
 * Mechanism M2's model (see m2.c), visible to the tests.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_M2_H
#define LETHE_M2_H

#include "certify/certify.h"

#define LETHE__M2_DIGEST_BYTES 16

struct lethe_m2 {
    /* w̄ is the deterministic Newton step; w_pub = w̄ + ν is what is published */
    lethe_ctx *ctx;
    size_t n, d, capacity, used;
    double lambda, epsilon, delta, R, L, M, gamma, sensitivity, sigma, train_residual, tol;
    double *w_star, *U, *U2, *G, *G2, *w_bar, *w_pub, *t, *acc, *w_new;
    double newton_fp;         /* bound on the rounding of w̄ (LTH-C-0011)  */
    lethe_lattice lat;        /* the noise lattice of σ (LTH-C-0010)      */
    int64_t *noise;           /* d integers drawn for the next release    */
    uint64_t *ids;            /* n record ids                             */
    unsigned char *removed;   /* n flags                                  */
    unsigned char *digest;    /* n × DIGEST_BYTES, keyed by key           */
    unsigned char *key;       /* crypto_generichash key, sodium_malloc    */
    lethe_idindex index;
    lethe_rng *rng;
};

/* Allocate every buffer for n records of d features (all-or-nothing). */
lethe_status lethe__m2_alloc(lethe_ctx *ctx, size_t n, size_t d, lethe_m2 **out);
/* A bound on ‖w̄ computed − w̄ exact‖ from public quantities (LTH-C-0011). */
double lethe__m2_rounding_bound(size_t n, size_t m, size_t d, double R, double lambda,
                                double tol);
/* The distance M2's release centre may move, before lattice rounding, for
 * the public parameters: the sensitivity (4.1) of proofs/m2-removal.md plus
 * the Newton step's rounding bound (LTH-C-0011, also in *newton_fp if not
 * NULL); +Inf outside the range where that bound holds. The library's
 * calibration and the certificate verifier both use it. */
double lethe__m2_base(double R, double lambda, size_t n, size_t m, size_t d, double tol,
                      double *newton_fp);
/* Derive γ(m), the sensitivity and σ from the stored parameters. */
lethe_status lethe__m2_calibrate(lethe_m2 *m);

#endif /* LETHE_M2_H */
