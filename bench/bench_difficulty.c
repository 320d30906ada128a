/*
 * Does the litmus test predict what a removal costs? (lethe_model_hardest,
 * lethe_record_difficulty; proofs/difficulty.md.) On the demo's data
 * (Fashion-MNIST coat vs pullover, n = 12 000, d = 784, rows scaled to unit
 * norm, M3 at λ = 1e-4) for Δ_max = 0.03 (the default), 0.003 and 0.0003
 * (tight, so that some removals need more than one Newton step), measured
 * in this run:
 *
 *   the time to rank every record by influence; SAMPLE random records, each
 *   with a dry run of its removal alone (the removal's own computation:
 *   certified distance, Newton steps, time); Spearman's rank correlation of
 *   the influence with the distance and with the time; how many of the
 *   records that need more than one step the influence's top decile (of the
 *   sample) holds; and the dry runs of the 20 hardest records by influence.
 *
 *   usage: bench_difficulty [DATA_DIR] [SAMPLE]   (default 1000)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdint.h>

#include "../examples/fmnist.h"

/* Ranks (0 = smallest; ties get their mean rank) of v[0..n-1]. */
static double *ranks(const double *v, size_t n)
{
    size_t *idx = malloc(n * sizeof *idx);
    double *r = malloc(n * sizeof *r);
    if (idx == NULL || r == NULL)
        exit(1);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    /* insertion by binary search keeps this O(n log n) comparisons; n is a
     * sample of a few thousand */
    for (size_t i = 1; i < n; i++) {
        size_t x = idx[i], lo = 0, hi = i;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (v[idx[mid]] <= v[x])
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(idx + lo + 1, idx + lo, (i - lo) * sizeof *idx);
        idx[lo] = x;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && !(v[idx[j + 1]] > v[idx[i]]))
            j++;
        for (size_t t = i; t <= j; t++)
            r[idx[t]] = 0.5 * (double)(i + j);
        i = j + 1;
    }
    free(idx);
    return r;
}

static double spearman(const double *a, const double *b, size_t n)
{
    double *ra = ranks(a, n), *rb = ranks(b, n);
    double ma = 0.0, mb = 0.0, sab = 0.0, saa = 0.0, sbb = 0.0;
    for (size_t i = 0; i < n; i++) {
        ma += ra[i] / (double)n;
        mb += rb[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra);
    free(rb);
    return sab / sqrt(saa * sbb);
}

static void run(lethe_ctx *ctx, const lethe_dataset *data, double delta_max, size_t sample)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.delta_max = delta_max;
    lethe_model *m = NULL;
    lethe_status st = lethe_model_train(ctx, data, &o, &m);
    if (st != LETHE_OK)
        fm_die(ctx, "train", st);
    const size_t n = lethe_dataset_rows(data);
    lethe_difficulty *all = malloc(n * sizeof *all), *s = malloc(sample * sizeof *s);
    uint64_t *ids = malloc(sample * sizeof *ids);
    double *infl = calloc(sample, sizeof *infl), *dist = calloc(sample, sizeof *dist);
    double *sec = calloc(sample, sizeof *sec);
    if (all == NULL || s == NULL || ids == NULL || infl == NULL || dist == NULL || sec == NULL)
        exit(1);
    fm_progress("Δ_max = %g: ranking %zu records", delta_max, n);
    size_t count = 0;
    double t0 = fm_now();
    st = lethe_model_hardest(m, n, 0, all, &count);
    const double rank_s = fm_now() - t0;
    if (st != LETHE_OK)
        fm_die(ctx, "hardest", st);
    size_t *pick = fm_pick(n, sample, 2027);
    for (size_t t = 0; t < sample; t++)
        ids[t] = lethe_dataset_ids(data)[pick[t]];
    for (size_t t = 0; t < sample; t++) {
        fm_progress("Δ_max = %g: dry run %zu/%zu", delta_max, t + 1, sample);
        st = lethe_record_difficulty(m, &ids[t], 1, 1, &s[t]);
        if (st != LETHE_OK)
            fm_die(ctx, "difficulty", st);
        infl[t] = s[t].influence;
        dist[t] = s[t].distance;
        sec[t] = s[t].seconds;
    }
    const double rho_d = spearman(infl, dist, sample), rho_t = spearman(infl, sec, sample);
    /* the records needing more than one step, and how many of them are in
     * the sample's top decile by influence */
    double *sorted = malloc(sample * sizeof *sorted);
    memcpy(sorted, infl, sample * sizeof *sorted);
    qsort(sorted, sample, sizeof *sorted, fm_cmp);
    const double decile = sorted[sample - sample / 10];
    size_t more = 0, more_top = 0;
    for (size_t t = 0; t < sample; t++) {
        more += s[t].steps > 1;
        more_top += s[t].steps > 1 && infl[t] >= decile;
    }
    /* the 20 hardest by influence, with their dry runs */
    lethe_difficulty top[20];
    size_t top_more = 0;
    double top_dist = 0.0;
    for (size_t t = 0; t < 20; t++) {
        st = lethe_record_difficulty(m, &all[t].id, 1, 1, &top[t]);
        if (st != LETHE_OK)
            fm_die(ctx, "difficulty", st);
        top_more += top[t].steps > 1;
        top_dist += top[t].distance / 20.0;
    }
    double mean_dist = 0.0;
    for (size_t t = 0; t < sample; t++)
        mean_dist += dist[t] / (double)sample;
    printf("| %g | %.2f | %.2f | %.3f | %.3f | %zu of %zu | %zu of %zu | %zu of 20 | %.2g | %.2g |\n",
           delta_max, rank_s, 1e3 * fm_median(sec, sample), rho_d, rho_t, more, sample,
           more_top, more, top_more, top_dist, mean_dist);
    fflush(stdout);
    free(sorted);
    free(pick);
    free(all);
    free(s);
    free(ids);
    free(infl);
    free(dist);
    free(sec);
    lethe_model_free(m);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const size_t sample = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
    if (sample < 20 || sample > 12000) {
        fprintf(stderr, "usage: bench_difficulty [DATA_DIR] [SAMPLE (20 … 12000)]\n");
        return 2;
    }
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return 1;
    lethe_dataset *data = fm_load(ctx, dir, "train");
    printf("Fashion-MNIST coat vs pullover, n = %zu, d = 784, M3, λ = 1e-4; %zu random records "
           "with a dry run each\n\n",
           lethe_dataset_rows(data), sample);
    printf("| Δ_max | rank all n (s) | dry run median (ms) | Spearman: influence ~ distance | "
           "Spearman: influence ~ time | records needing > 1 step | of them in the influence "
           "top 10 %% | top 20 by influence needing > 1 step | mean distance, top 20 | "
           "mean distance, sample |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    run(ctx, data, 0.03, sample);
    run(ctx, data, 0.003, sample);
    run(ctx, data, 0.0003, sample);
    fputs("\n", stderr);
    lethe_dataset_free(data);
    lethe_ctx_free(ctx);
    return 0;
}
