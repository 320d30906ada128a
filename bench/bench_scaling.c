/*
 * How M3's removal and retraining from scratch scale with n and with d, on
 * the demo's data (Fashion-MNIST coat vs pullover, rows scaled to unit norm)
 * with the library's defaults (logistic, λ = 1e-4, Δ_max = 0.03, (ε, δ) =
 * (1, 1e-5) per release):
 *
 *   n   the first n training records (750 … 12 000) and their 784 pixels;
 *   d   all 12 000 records through random Fourier features of D = 250 …
 *       2 000 (γ = 2, one public seed), so that the head has d = D weights.
 *
 * At each point, in the same run: REMOVALS random single removals on the
 * fast path (down-dated factor, exact residual; the median and the 10th and
 * 90th percentiles of their times), RETRAINS trainings from scratch on the
 * records left (median, least, most), and the first training's time. The
 * removals and retrains run in RETRAINS rounds over all the points, each
 * round a share of every point's removals and one retrain of each.
 * A removal costs O(d²) for the down-date plus one O(nd) pass for the
 * residual; a training O(nd²) per Newton step plus O(d³) for the factor.
 * Prints a table, and writes one CSV row per point to OUT.csv unless it is
 * "-" or missing (bench/plot_scaling.py draws the figures from it).
 *
 *   usage: bench_scaling n|d [DATA_DIR] [OUT.csv] [REMOVALS] [RETRAINS]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */

#include <stdint.h>

#include "../examples/fmnist.h"

static const size_t n_sizes[] = { 750, 1500, 3000, 6000, 12000 };
static const size_t d_sizes[] = { 250, 500, 1000, 2000 };

/* One point of the sweep: its data, its model, and what it measured. */
typedef struct point {
    lethe_dataset *data; /* owned when it is a subset */
    int owns_data;
    lethe_train_options opt;
    lethe_model *model;
    size_t *pick;                  /* the records to remove, in order */
    double *removal_ms, *retrain_ms, train_ms;
    size_t n, d, extra_steps, reanchors;
} point;

/* The q-quantile of sorted v[0..k-1], interpolated between ranks. */
static double quantile(const double *v, size_t k, double q)
{
    double pos = q * (double)(k - 1);
    size_t i = (size_t)pos;
    return i + 1 < k ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[k - 1];
}

static lethe_model *train(lethe_ctx *ctx, const lethe_dataset *data,
                          const lethe_train_options *opt, double *ms)
{
    lethe_model *m = NULL;
    double t0 = fm_now();
    lethe_status st = lethe_model_train(ctx, data, opt, &m);
    *ms = 1e3 * (fm_now() - t0);
    if (st != LETHE_OK)
        fm_die(ctx, "train", st);
    return m;
}

/* Round r of `rounds`: point p's share of the removals, then one retrain
 * from scratch on the records it has left. */
static void round_of(lethe_ctx *ctx, point *p, size_t r, size_t rounds, size_t removals)
{
    const uint64_t *ids = lethe_dataset_ids(p->data);
    for (size_t k = r * removals / rounds; k < (r + 1) * removals / rounds; k++) {
        lethe_removal_report rep;
        double t0 = fm_now();
        lethe_status st = lethe_model_remove(p->model, &ids[p->pick[k]], 1, LETHE_PATH_FAST, &rep);
        p->removal_ms[k] = 1e3 * (fm_now() - t0);
        if (st != LETHE_OK)
            fm_die(ctx, "remove", st);
        p->extra_steps += rep.steps > 1 ? rep.steps - 1 : 0;
        p->reanchors += rep.reanchors;
    }
    lethe_dataset *left = fm_remaining(ctx, p->data, p->model);
    lethe_model_free(train(ctx, left, &p->opt, &p->retrain_ms[r]));
    lethe_dataset_free(left);
}

int main(int argc, char **argv)
{
    const char *sweep = argc > 1 ? argv[1] : "";
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    const char *out = argc > 3 && strcmp(argv[3], "-") != 0 ? argv[3] : NULL;
    long removals = argc > 4 ? strtol(argv[4], NULL, 10) : 100;
    long retrains = argc > 5 ? strtol(argv[5], NULL, 10) : 3;
    int by_n = strcmp(sweep, "n") == 0;
    if ((!by_n && strcmp(sweep, "d") != 0) || removals < 1 || removals >= 750 || retrains < 1) {
        fprintf(stderr, "usage: bench_scaling n|d [DATA_DIR] [OUT.csv|-] [REMOVALS (1-749)] "
                        "[RETRAINS (≥ 1)]\n");
        return 2;
    }
    FILE *csv = NULL;
    if (out != NULL && (csv = fopen(out, "w")) == NULL) {
        perror(out);
        return 2;
    }
    lethe_ctx *ctx = NULL;
    lethe_status st = lethe_ctx_create(NULL, &ctx);
    if (st != LETHE_OK)
        fm_die(ctx, "lethe", st);
    lethe_dataset *data = fm_load(ctx, dir, "train");
    lethe_train_options opt;
    lethe_train_options_init(&opt);
    printf("bench_scaling %s: Fashion-MNIST coat vs pullover, M3, logistic, λ = %g, Δ_max = %g; "
           "%ld removals, %ld retrains per point\n",
           sweep, opt.lambda, opt.delta_max, removals, retrains);
    printf("%7s %6s | %-28s | %-28s | %10s | %8s | %s\n", "n", "d",
           "removal ms: median (p10–p90)", "retrain ms: median (min–max)", "train ms", "ratio",
           "extra steps, re-anchors");
    if (csv != NULL)
        fprintf(csv, "sweep,n,d,removals,removal_median_ms,removal_p10_ms,removal_p90_ms,"
                     "retrains,retrain_median_ms,retrain_min_ms,retrain_max_ms,train_ms,"
                     "extra_steps,reanchors\n");
    /* Every point is trained first; then, round by round, each point takes
     * its share of the removals and one retrain, so that a point's
     * measurements spread over the whole run and a passing load on the
     * machine does not fall on one point alone. */
    size_t count = by_n ? sizeof n_sizes / sizeof *n_sizes : sizeof d_sizes / sizeof *d_sizes;
    size_t K = (size_t)removals, R = (size_t)retrains;
    point *pts = calloc(count, sizeof *pts);
    if (pts == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        point *p = &pts[i];
        p->opt = opt;
        p->data = data;
        if (by_n) {
            p->data = fm_head(ctx, data, n_sizes[i]);
            p->owns_data = 1;
        } else {
            p->opt.features.kind = LETHE_FEATURES_RFF;
            p->opt.features.dim = d_sizes[i];
            p->opt.features.gamma = 2.0;
            memset(p->opt.features.seed, 0x5e, sizeof p->opt.features.seed); /* public, fixed */
        }
        p->n = lethe_dataset_rows(p->data);
        p->model = train(ctx, p->data, &p->opt, &p->train_ms);
        p->d = lethe_model_dim(p->model);
        p->pick = fm_pick(p->n, K, 4242);
        p->removal_ms = malloc(K * sizeof *p->removal_ms);
        p->retrain_ms = malloc(R * sizeof *p->retrain_ms);
        if (p->removal_ms == NULL || p->retrain_ms == NULL) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        fm_progress("trained %zu/%zu", i + 1, count);
    }
    for (size_t r = 0; r < R; r++)
        for (size_t i = 0; i < count; i++) {
            round_of(ctx, &pts[i], r, R, K);
            fm_progress("round %zu/%zu, point %zu/%zu", r + 1, R, i + 1, count);
        }
    fm_progress("%60s\r", "");
    for (size_t i = 0; i < count; i++) {
        point *p = &pts[i];
        double rem = fm_median(p->removal_ms, K), ret = fm_median(p->retrain_ms, R); /* sort */
        double p10 = quantile(p->removal_ms, K, 0.1), p90 = quantile(p->removal_ms, K, 0.9);
        printf("%7zu %6zu | %8.3f (%7.3f–%7.3f)%*s | %8.1f (%7.1f–%7.1f)%*s | %10.1f | %7.0f× | "
               "%zu, %zu\n",
               p->n, p->d, rem, p10, p90, 2, "", ret, p->retrain_ms[0], p->retrain_ms[R - 1], 2,
               "", p->train_ms, ret / rem, p->extra_steps, p->reanchors);
        if (csv != NULL)
            fprintf(csv, "%s,%zu,%zu,%zu,%.6g,%.6g,%.6g,%zu,%.6g,%.6g,%.6g,%.6g,%zu,%zu\n", sweep,
                    p->n, p->d, K, rem, p10, p90, R, ret, p->retrain_ms[0], p->retrain_ms[R - 1],
                    p->train_ms, p->extra_steps, p->reanchors);
        lethe_model_free(p->model);
        if (p->owns_data)
            lethe_dataset_free(p->data);
        free(p->pick);
        free(p->removal_ms);
        free(p->retrain_ms);
    }
    free(pts);
    lethe_dataset_free(data);
    lethe_ctx_free(ctx);
    if (csv != NULL && fclose(csv) != 0) {
        perror(out);
        return 1;
    }
    return 0;
}
