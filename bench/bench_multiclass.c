/*
 * All ten Fashion-MNIST classes under M3, one-vs-rest (60 000 training and
 * 10 000 test images, rows scaled to unit norm, (ε, δ) = (1, 1e-5) per
 * release, λ = 1e-4, Δ_max = 0.03): the linear model and convex heads on
 * random Fourier features, each in a child process of its own (its peak
 * memory its own), every number measured in this one run:
 *
 *   training time; test accuracy of the noise-free Θ and of the PUBLISHED
 *   model (mean and range of RELEASES releases); REMOVALS random single
 *   removals on the fast path (median and 99th percentile), re-anchors;
 *   retraining from scratch without them (its time, and ‖Θ − Θ_retrain‖
 *   within the two certified distances: the program fails otherwise); the
 *   guaranteed capacity; peak RSS.
 *
 *   usage: bench_multiclass [DATA_DIR] [REMOVALS] [LAMBDA] [RFF_DIMS…]
 *          (default 50 removals, λ = 1e-4, the linear model and RFF with
 *          D = 1000; a D of 0 is the linear model; D:sqrt puts the signed
 *          square root of the pixels, LETHE_INPUT_SQRT, before the map)
 *
 * bench/sklearn_multiclass.py measures scikit-learn on the same data.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* wait4 */

#include <stdint.h>

#include "../examples/fmnist.h"
#include "certify/certify.h"
#include "child.h"

#define RELEASES 5

typedef struct result {
    double train_s, acc_theta, acc_pub, acc_lo, acc_hi, med_ms, p99_ms, max_dist;
    double retrain_s, gap, bound;
    size_t weights, reanchors, guaranteed;
} result;

static double lambda = 1e-4;

static lethe_model *train(lethe_ctx *ctx, const lethe_dataset *data, size_t D, int sq,
                          double tol, double *seconds)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.multiclass = 1;
    o.lambda = lambda;
    o.tol = tol;
    if (D > 0) {
        o.features.kind = LETHE_FEATURES_RFF;
        o.features.dim = D;
        o.features.gamma = 2.0;
        memset(o.features.seed, 0x5e, sizeof o.features.seed);
        o.features.input = sq ? LETHE_INPUT_SQRT : LETHE_INPUT_RAW;
    }
    lethe_model *m = NULL;
    double t0 = fm_now();
    lethe_status st = lethe_model_train(ctx, data, &o, &m);
    *seconds = fm_now() - t0;
    if (st != LETHE_OK)
        fm_die(ctx, "train", st);
    return m;
}

static double theta_accuracy(lethe_ctx *ctx, lethe_model *m, const lethe_dataset *test)
{
    /* the owner's Θ in place of the release, for one evaluation */
    double *keep = malloc(m->d * sizeof *keep), a = 0.0;
    memcpy(keep, m->pub, m->d * sizeof *keep);
    memcpy(m->pub, m->w, m->d * sizeof *keep);
    lethe_status st = lethe_model_evaluate(m, test, &a);
    memcpy(m->pub, keep, m->d * sizeof *keep);
    free(keep);
    if (st != LETHE_OK)
        fm_die(ctx, "evaluate", st);
    return a;
}

static result run_one(const char *dir, size_t D, int sq, size_t n_rem)
{
    result r;
    memset(&r, 0, sizeof r);
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        exit(1);
    lethe_dataset *data = fm_load_classes(ctx, dir, "train", -1, -1);
    lethe_dataset *test = fm_load_classes(ctx, dir, "t10k", -1, -1);
    fm_progress("D = %zu: training", D);
    lethe_model *m = train(ctx, data, D, sq, 1e-10, &r.train_s);
    r.weights = lethe_model_dim(m);
    r.acc_theta = theta_accuracy(ctx, m, test);
    r.acc_pub = fm_published_accuracy(ctx, m, test, RELEASES, &r.acc_lo, &r.acc_hi, NULL);
    const uint64_t *ids = lethe_dataset_ids(data);
    size_t *pick = fm_pick(lethe_dataset_rows(data), n_rem, 2028);
    double *t = malloc(n_rem * sizeof *t);
    for (size_t k = 0; k < n_rem; k++) {
        lethe_removal_report rep;
        double t0 = fm_now();
        lethe_status st = lethe_model_remove(m, &ids[pick[k]], 1, LETHE_PATH_FAST, &rep);
        t[k] = fm_now() - t0;
        if (st != LETHE_OK)
            fm_die(ctx, "remove", st);
        r.reanchors += rep.reanchors;
        r.max_dist = fmax(r.max_dist, rep.distance);
        fm_progress("D = %zu: removal %zu/%zu", D, k + 1, n_rem);
    }
    r.med_ms = 1e3 * fm_median(t, n_rem);
    r.p99_ms = 1e3 * t[(size_t)(0.99 * (double)(n_rem - 1))];
    lethe_budget b;
    lethe_model_budget(m, &b);
    r.guaranteed = b.capacity_guaranteed;
    fm_progress("D = %zu: retraining", D);
    lethe_dataset *rest = fm_remaining(ctx, data, m);
    lethe_model *rt = train(ctx, rest, D, sq, 1e-12, &r.retrain_s);
    lethe_budget br;
    lethe_model_budget(rt, &br);
    r.gap = bench_gap(m, rt);
    r.bound = b.distance + br.distance;
    lethe_model_free(rt);
    lethe_dataset_free(rest);
    free(t);
    free(pick);
    lethe_model_free(m);
    lethe_dataset_free(test);
    lethe_dataset_free(data);
    lethe_ctx_free(ctx);
    return r;
}

typedef struct child_arg {
    const char *dir;
    size_t D;
    int sq;
    size_t n_rem;
} child_arg;

static void child(const void *arg, void *out)
{
    const child_arg *a = arg;
    *(result *)out = run_one(a->dir, a->D, a->sq, a->n_rem);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    size_t n_rem = argc > 2 ? strtoul(argv[2], NULL, 10) : 50;
    size_t dims[8] = { 0, 1000 }, n_dims = 2;
    int sq[8] = { 0 }, bad_dim = 0;
    if (argc > 3)
        lambda = strtod(argv[3], NULL);
    if (argc > 4) {
        n_dims = 0;
        for (int i = 4; i < argc && n_dims < 8; i++) {
            char *end = NULL;
            dims[n_dims] = strtoul(argv[i], &end, 10);
            sq[n_dims] = strcmp(end, ":sqrt") == 0;
            bad_dim |= end == argv[i] || (*end != '\0' && !sq[n_dims]) ||
                       (sq[n_dims] && dims[n_dims] == 0);
            n_dims++;
        }
    }
    if (n_rem < 2 || n_rem > 5000 || !(lambda > 0.0) || bad_dim) {
        fprintf(stderr, "usage: bench_multiclass [DATA_DIR] [REMOVALS (2 … 5000)] [LAMBDA > 0] "
                        "[RFF_DIMS (D or D:sqrt)…]\n");
        return 2;
    }
    printf("Fashion-MNIST, 10 classes one-vs-rest, n = 60000 train / 10000 test, M3, "
           "(ε, δ) = (1, 1e-5) per release, λ = %g, Δ_max = 0.03; %zu random single "
           "removals\n\n", lambda, n_rem);
    printf("| model | weights | train (s) | test acc. Θ | published (%d releases) | removal "
           "median / p99 (ms) | retrain (s) | retrain ÷ removal | re-anchors | "
           "‖Θ − Θ_retrain‖ ≤ bound | guaranteed capacity | peak RSS (MB) |\n", RELEASES);
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    int failed = 0;
    for (size_t i = 0; i < n_dims; i++) {
        child_arg arg = { dir, dims[i], sq[i], n_rem };
        result r;
        double rss = 0.0;
        if (bench_in_child(child, &arg, &r, sizeof r, &rss) != 0) {
            fprintf(stderr, "bench_multiclass: D = %zu failed\n", dims[i]);
            failed = 1;
            continue;
        }
        char name[64];
        if (dims[i] == 0)
            snprintf(name, sizeof name, "linear, logistic");
        else
            snprintf(name, sizeof name, "RFF D=%zu γ=2%s", dims[i], sq[i] ? ", √pixels" : "");
        const int ok = r.gap <= r.bound;
        failed |= !ok;
        printf("| %s | %zu | %.1f | %.2f %% | %.2f %% (%.2f–%.2f) | %.1f / %.1f | %.1f | %.0f× | "
               "%zu | %.2g ≤ %.2g%s | %zu | %.0f |\n",
               name, r.weights, r.train_s, 100 * r.acc_theta, 100 * r.acc_pub, 100 * r.acc_lo,
               100 * r.acc_hi, r.med_ms, r.p99_ms, r.retrain_s, r.retrain_s / (r.med_ms / 1e3),
               r.reanchors, r.gap, r.bound, ok ? "" : " VIOLATED", r.guaranteed, rss);
        fflush(stdout);
    }
    fputs("\n", stderr);
    return failed;
}
