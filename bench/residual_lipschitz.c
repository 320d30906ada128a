/*
 * Measures the gap G1 of proofs/certificate.md: how fast the residual
 * u(b) = ∇L_b(w⁻(b); D') of a removal changes with the noise b.
 *
 * The certificate theorem (LTH-C-0001) closes when b ↦ u(b) is L-Lipschitz
 * with L < 1, at an extra cost in ε of
 *   κ = L̃(√d + t)² + (ε/c)·L̃·(√d + t) + d·ln(1/(1 − L)),  L̃ = L/(1 − L),
 * and δ + e^{−t²/2} (proofs/certificate.md, Theorem A). lethe does not bound
 * L; this program computes the Jacobian J = ∂u/∂b by central finite
 * differences — one training and one removal sequence per coordinate and
 * side, 2d + 1 in all — and reports L = ‖J‖₂ (dgesvd) with κ at t = 5.
 * It is a measurement on one problem and one b, not a bound.
 *
 *   usage: residual_lipschitz DATA_DIR|random [REMOVALS] [PATH: fast|exact]
 *
 * DATA_DIR: the Fashion-MNIST test split (2 000 records of 784 pixels,
 * pullover vs coat, unit rows); "random": a random problem, n = 2 000, d = 50.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, mkstemp */

#include <math.h>
#include <unistd.h>

#include <cblas.h>
#include <lapacke.h>

#include "../examples/fmnist.h"
#include "certify/certify.h"

static const unsigned char SEED[32] = { 0x6c, 0x69, 0x70 };

static lethe_model *train(lethe_ctx *ctx, const lethe_dataset *ds)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    o.seed = SEED;
    lethe_model *m = NULL;
    lethe_status st = lethe_model_train(ctx, ds, &o, &m);
    if (st != LETHE_OK)
        fm_die(ctx, "train", st);
    return m;
}

/* Retrain m with b + h·e_j (h may be 0), remove the same records, copy u. */
static void residual_at(lethe_ctx *ctx, const lethe_dataset *ds, size_t j, double h,
                        size_t removals, lethe_removal_path path, double *u)
{
    lethe_model *m = train(ctx, ds);
    if (h > 0.0 || h < 0.0) {
        m->b[j] += h;
        memset(m->w2, 0, m->d * sizeof *m->w2);
        lethe_status st = lethe__model_solve(m, m->w2);
        if (st != LETHE_OK)
            fm_die(ctx, "solve", st);
    }
    const uint64_t *ids = lethe_dataset_ids(ds);
    lethe_removal_report rep;
    for (size_t k = 0; k < removals; k++) {
        lethe_status st = lethe_model_remove(m, &ids[(7 * k + 3) % lethe_dataset_rows(ds)], 1,
                                             path, &rep);
        if (st != LETHE_OK)
            fm_die(ctx, "remove", st);
    }
    memcpy(u, m->g, m->d * sizeof *u); /* ∇L_b(w⁻; D') after the last removal */
    lethe_model_free(m);
}

static lethe_dataset *random_data(lethe_ctx *ctx)
{
    const size_t n = 2000, d = 50;
    double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
    uint64_t s = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        double z = 0.0;
        for (size_t j = 0; j < d; j++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            x[i * d + j] = (double)(s >> 11) * 0x1p-53 - 0.5;
            z += x[i * d + j] * (j % 3 ? 1.0 : -2.0);
        }
        y[i] = z > 0.0 ? 1.0 : -1.0;
    }
    lethe_dataset *ds = NULL;
    lethe_status st = lethe_dataset_create(ctx, n, d, x, d, y, NULL, LETHE_NORM_NORMALIZE, 1.0,
                                           &ds);
    free(x);
    free(y);
    if (st != LETHE_OK)
        fm_die(ctx, "data", st);
    return ds;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: residual_lipschitz DATA_DIR|random [REMOVALS] [fast|exact]\n");
        return 2;
    }
    size_t removals = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    lethe_removal_path path =
        argc > 3 && strcmp(argv[3], "exact") == 0 ? LETHE_PATH_EXACT : LETHE_PATH_FAST;
    lethe_ctx *ctx = NULL;
    lethe_status st = lethe_ctx_create(NULL, &ctx);
    if (st != LETHE_OK)
        fm_die(ctx, "lethe", st);
    lethe_dataset *ds = strcmp(argv[1], "random") == 0 ? random_data(ctx)
                                                        : fm_load(ctx, argv[1], "t10k");
    size_t d = lethe_dataset_cols(ds);
    lethe_model *m = train(ctx, ds);
    double sigma = m->sigma, eps = m->epsilon, c = m->c, budget = m->budget;
    lethe_model_free(m);
    double *u0 = malloc(d * sizeof *u0), *up = malloc(d * sizeof *up), *um = malloc(d * sizeof *um);
    double *J = malloc(d * d * sizeof *J);
    residual_at(ctx, ds, 0, 0.0, removals, path, u0);
    const double h = 1e-3 * sigma;
    double t0 = fm_now();
    for (size_t j = 0; j < d; j++) {
        residual_at(ctx, ds, j, h, removals, path, up);
        residual_at(ctx, ds, j, -h, removals, path, um);
        for (size_t i = 0; i < d; i++)
            J[i * d + j] = (up[i] - um[i]) / (2.0 * h);
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "\rcolumn %zu/%zu (%.0f s)", j + 1, d, fm_now() - t0);
    }
    if (isatty(STDERR_FILENO))
        fputc('\n', stderr);
    double *sv = malloc(d * sizeof *sv), *sup = malloc(d * sizeof *sup);
    if (LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (int)d, (int)d, J, (int)d, sv, NULL, 1, NULL,
                       1, sup) != 0)
        return 1;
    double L = sv[0], Lt = L / (1.0 - L), t = 5.0, sd = sqrt((double)d) + t;
    double kappa = L < 1.0 ? Lt * sd * sd + eps / c * Lt * sd - (double)d * log1p(-L) : INFINITY;
    printf("residual_lipschitz: %s, n = %zu, d = %zu, %zu %s removals, σ = %.4f, budget %.4f\n",
           argv[1], lethe_dataset_rows(ds), d, removals,
           path == LETHE_PATH_FAST ? "fast" : "exact", sigma, budget);
    printf("  residual ‖u(b)‖          %.3e\n", cblas_dnrm2((int)d, u0, 1));
    printf("  L = ‖∂u/∂b‖₂             %.3e   (central differences, h = %.3g)\n", L, h);
    printf("  κ at t = 5 (δ + 2.9e-7)  %.3e   extra ε of Theorem A\n", kappa);
    free(u0);
    free(up);
    free(um);
    free(J);
    free(sv);
    free(sup);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
    return 0;
}
