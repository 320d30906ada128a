/*
 * The models of lethe side by side under M3 on the demo's data
 * (Fashion-MNIST coat vs pullover, n = 12 000, d = 784, rows scaled to unit
 * norm, (ε, δ) = (1, 1e-5) per release, Δ_max = 0.03): the linear logistic
 * head, with an intercept, the smooth hinge, and convex heads on random
 * Fourier (also after the pixels' signed square root) and ReLU features. Each model is trained in a child process of
 * its own (so its peak memory is its own) and measured in this one run:
 *
 *   training time; test accuracy of the noise-free θ and of the PUBLISHED
 *   model (mean and range of 10 releases); REMOVALS random single removals
 *   on the fast path — median and 99th-percentile time, re-anchors, extra
 *   steps, and the largest certified distance — against retraining from
 *   scratch without them (training time, and the retrain's ‖θ − θ_retrain‖
 *   within the certified bound); the guaranteed capacity; peak RSS.
 *
 *   usage: bench_models [DATA_DIR] [REMOVALS]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */
#define _DEFAULT_SOURCE         /* wait4 */

#include <stdint.h>

#include "../examples/fmnist.h"
#include "certify/certify.h"
#include "child.h"

typedef struct config {
    const char *name;
    lethe_loss loss;
    lethe_feature_kind kind;
    size_t dim;
    double gamma, bias;
    lethe_feature_input input;
} config;

static const config configs[] = {
    { "linear, logistic", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_NONE, 0, 0.0, 0.0, LETHE_INPUT_RAW },
    { "linear + intercept", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_NONE, 0, 0.0, 1.0,
      LETHE_INPUT_RAW },
    { "linear, smooth hinge", LETHE_LOSS_SMOOTH_HINGE, LETHE_FEATURES_NONE, 0, 0.0, 0.0,
      LETHE_INPUT_RAW },
    { "RFF D=1000 γ=2", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_RFF, 1000, 2.0, 0.0, LETHE_INPUT_RAW },
    { "RFF D=2000 γ=2", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_RFF, 2000, 2.0, 0.0, LETHE_INPUT_RAW },
    { "RFF D=2000 γ=2, √pixels", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_RFF, 2000, 2.0, 0.0,
      LETHE_INPUT_SQRT },
    { "RFF D=4000 γ=2", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_RFF, 4000, 2.0, 0.0, LETHE_INPUT_RAW },
    { "ReLU D=2000", LETHE_LOSS_LOGISTIC, LETHE_FEATURES_RELU, 2000, 0.0, 0.0, LETHE_INPUT_RAW },
};
#define N_CONFIGS (sizeof configs / sizeof configs[0])

/* What one child measures, sent back through a pipe. */
typedef struct result {
    double train_s, acc_theta, acc_pub, acc_lo, acc_hi, med_ms, p99_ms, max_dist;
    double retrain_s, retrain_gap, retrain_bound;
    size_t d, reanchors, extra, guaranteed;
} result;

static lethe_model *train(lethe_ctx *ctx, const lethe_dataset *data, const config *c,
                          double tol, double *seconds)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.loss = c->loss;
    o.tol = tol;
    o.features.kind = c->kind;
    o.features.dim = c->dim;
    o.features.gamma = c->gamma;
    o.features.bias = c->bias;
    o.features.input = c->input;
    memset(o.features.seed, 0x5e, sizeof o.features.seed); /* one public seed for all runs */
    lethe_model *m = NULL;
    double t0 = fm_now();
    lethe_status st = lethe_model_train(ctx, data, &o, &m);
    *seconds = fm_now() - t0;
    if (st != LETHE_OK)
        fm_die(ctx, "train", st);
    return m;
}

/* Test accuracy of the noise-free θ (the owner's secret state). */
static double theta_accuracy(lethe_ctx *ctx, lethe_model *m, const lethe_dataset *test)
{
    lethe_dataset *phi = NULL;
    const lethe_dataset *use = test;
    if (m->mapped) {
        if (lethe__fmap_dataset(ctx, &m->fmap, test, &phi) != LETHE_OK)
            fm_die(ctx, "map", lethe_ctx_errcode(ctx));
        use = phi;
    }
    double a = 0.0;
    if (lethe__evaluate(ctx, m->loss, m->w, m->d, use, &a) != LETHE_OK)
        fm_die(ctx, "evaluate", lethe_ctx_errcode(ctx));
    lethe_dataset_free(phi);
    return a;
}

static result run_one(const char *dir, const config *c, size_t n_rem)
{
    result r;
    memset(&r, 0, sizeof r);
    lethe_ctx *ctx = NULL;
    lethe_status st = lethe_ctx_create(NULL, &ctx);
    if (st != LETHE_OK)
        fm_die(ctx, "lethe", st);
    lethe_dataset *data = fm_load(ctx, dir, "train"), *test = fm_load(ctx, dir, "t10k");
    lethe_model *m = train(ctx, data, c, 1e-10, &r.train_s);
    r.d = lethe_model_dim(m);
    r.acc_theta = theta_accuracy(ctx, m, test);
    r.acc_pub = fm_published_accuracy(ctx, m, test, 10, &r.acc_lo, &r.acc_hi, NULL);
    lethe_budget b;
    lethe_model_budget(m, &b);
    r.guaranteed = b.capacity_guaranteed;
    const uint64_t *ids = lethe_dataset_ids(data);
    size_t *pick = fm_pick(lethe_dataset_rows(data), n_rem, 2027);
    double *t = malloc(n_rem * sizeof *t);
    uint64_t *gone = malloc(n_rem * sizeof *gone);
    for (size_t k = 0; k < n_rem; k++) {
        lethe_removal_report rep;
        gone[k] = ids[pick[k]];
        double t0 = fm_now();
        st = lethe_model_remove(m, &gone[k], 1, LETHE_PATH_FAST, &rep);
        t[k] = fm_now() - t0;
        if (st != LETHE_OK)
            fm_die(ctx, "remove", st);
        r.reanchors += rep.reanchors;
        r.extra += rep.reanchors == 0 ? rep.steps - 1 : 0;
        r.max_dist = fmax(r.max_dist, rep.distance);
        if (k % 50 == 0)
            fm_progress("%s: removal %zu/%zu", c->name, k + 1, n_rem);
    }
    r.med_ms = 1e3 * fm_median(t, n_rem);
    r.p99_ms = 1e3 * t[(size_t)(0.99 * (double)(n_rem - 1))];
    /* retraining from scratch on the records left, through the same map */
    lethe_dataset *rest = fm_remaining(ctx, data, m);
    lethe_model *rt = train(ctx, rest, c, 1e-12, &r.retrain_s);
    lethe_budget br;
    lethe_model_budget(rt, &br);
    lethe_model_budget(m, &b);
    r.retrain_gap = bench_gap(m, rt);
    r.retrain_bound = b.distance + br.distance;
    lethe_model_free(rt);
    lethe_dataset_free(rest);
    free(gone);
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
    const config *c;
    size_t n_rem;
} child_arg;

static void child(const void *arg, void *out)
{
    const child_arg *a = arg;
    *(result *)out = run_one(a->dir, a->c, a->n_rem);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    size_t n_rem = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
    if (n_rem < 2 || n_rem > 5000) {
        fprintf(stderr, "usage: bench_models [DATA_DIR] [REMOVALS] (2 … 5000)\n");
        return 2;
    }
    printf("Fashion-MNIST coat vs pullover, n = 12000 train / 2000 test, d = 784, M3, "
           "(ε, δ) = (1, 1e-5) per release, λ = 1e-4, Δ_max = 0.03; %zu random single "
           "removals\n\n", n_rem);
    printf("| model | weights | train (s) | test acc. θ | published (10 releases) | removal "
           "median / p99 (ms) | retrain (s) | retrain ÷ removal | re-anchors, extra steps | "
           "‖θ − θ_retrain‖ ≤ bound | guaranteed capacity | peak RSS (MB) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    int failed = 0;
    for (size_t i = 0; i < N_CONFIGS; i++) {
        child_arg arg = { dir, &configs[i], n_rem };
        result r;
        double rss = 0.0;
        if (bench_in_child(child, &arg, &r, sizeof r, &rss) != 0) {
            fprintf(stderr, "bench_models: %s failed\n", configs[i].name);
            failed = 1;
            continue;
        }
        const int bound_ok = r.retrain_gap <= r.retrain_bound;
        failed |= !bound_ok;
        printf("| %s | %zu | %.2f | %.2f %% | %.2f %% (%.2f–%.2f) | %.2f / %.2f | %.2f | %.0f× "
               "| %zu, %zu | %.2g ≤ %.2g%s | %zu | %.0f |\n",
               configs[i].name, r.d, r.train_s, 100 * r.acc_theta, 100 * r.acc_pub,
               100 * r.acc_lo, 100 * r.acc_hi, r.med_ms, r.p99_ms, r.retrain_s,
               r.retrain_s / (r.med_ms / 1e3), r.reanchors, r.extra, r.retrain_gap,
               r.retrain_bound, bound_ok ? "" : " VIOLATED", r.guaranteed, rss);
        fflush(stdout);
    }
    fputs("\n", stderr);
    return failed;
}
