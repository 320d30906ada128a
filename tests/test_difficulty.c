/*
 * How hard a record is to forget (lethe_record_difficulty,
 * lethe_model_hardest; proofs/difficulty.md): the influence against a
 * reference solve and against the step a real removal takes, the ranking
 * against the dry runs' distances, the dry run against the removal itself,
 * and refusals that change nothing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "modelutil.h"

#include <cblas.h>

static const unsigned char SEED[32] = { 0xd1, 0xff, 3 };

static lethe_model *train(lethe_ctx *ctx, const lethe_dataset *ds, lethe_mechanism mech)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = mech;
    o.lambda = 2e-3;
    o.seed = SEED;
    if (mech == LETHE_MECH_M1)
        o.budget = 1.0;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    return m;
}

/* ‖H⁻¹a‖ with H = UᵀU formed and solved by Gaussian elimination in long
 * double: a reference that shares nothing with the blocked solves. */
static double reference_influence(const lethe_model *m, size_t row)
{
    const size_t d = m->d;
    long double H[8][9];
    assert_true(d <= 8);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            long double s = 0.0L;
            for (size_t t = 0; t <= (i < j ? i : j); t++)
                s += (long double)m->U[t * d + i] * m->U[t * d + j];
            H[i][j] = s;
        }
    const double *x = m->x + row * d;
    double z = cblas_ddot((int)d, m->w, 1, x, 1), l, d1, d2;
    lethe__loss_eval(m->loss, z, m->y[row], &l, &d1, &d2);
    for (size_t i = 0; i < d; i++)
        H[i][d] = (long double)m->g[i] - (long double)d1 * x[i] - (long double)m->lambda * m->w[i];
    for (size_t c = 0; c < d; c++)
        for (size_t r = c + 1; r < d; r++) {
            long double f = H[r][c] / H[c][c];
            for (size_t j = c; j <= d; j++)
                H[r][j] -= f * H[c][j];
        }
    long double p[8], norm = 0.0L;
    for (size_t r = d; r-- > 0;) {
        long double s = H[r][d];
        for (size_t j = r + 1; j < d; j++)
            s -= H[r][j] * p[j];
        p[r] = s / H[r][r];
        norm += p[r] * p[r];
    }
    return (double)sqrtl(norm);
}

/* Spearman's rank correlation of a and b (no ties expected). */
static double spearman(const double *a, const double *b, size_t n)
{
    double *ra = malloc(n * sizeof *ra), *rb = malloc(n * sizeof *rb);
    for (size_t i = 0; i < n; i++) {
        size_t ca = 0, cb = 0;
        for (size_t j = 0; j < n; j++) {
            ca += a[j] < a[i];
            cb += b[j] < b[i];
        }
        ra[i] = (double)ca;
        rb[i] = (double)cb;
    }
    double mean = (double)(n - 1) / 2.0, sab = 0.0, saa = 0.0, sbb = 0.0;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - mean) * (rb[i] - mean);
        saa += (ra[i] - mean) * (ra[i] - mean);
        sbb += (rb[i] - mean) * (rb[i] - mean);
    }
    free(ra);
    free(rb);
    return sab / sqrt(saa * sbb);
}

/* EVIDENCE: LTH-C-0017 */
static void test_difficulty_influence(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 300, d = 6;
    lethe_dataset *ds = tu_dataset(ctx, 41, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1.0);
    lethe_model *m = train(ctx, ds, LETHE_MECH_M3);
    const uint64_t *ids = lethe_dataset_ids(ds);
    /* against the reference solve, row by row */
    lethe_difficulty r[5];
    const uint64_t ask[5] = { ids[0], ids[7], ids[99], ids[150], ids[299] };
    assert_status(lethe_record_difficulty(m, ask, 5, 0, r), LETHE_OK);
    const size_t at[5] = { 0, 7, 99, 150, 299 };
    for (size_t t = 0; t < 5; t++) {
        assert_true(r[t].id == ask[t] && !r[t].dry_run && isnan(r[t].distance));
        assert_close(r[t].influence, reference_influence(m, lethe__model_find(m, ids[at[t]])),
                     1e-10, 0.0);
    }
    /* the ranking: every record, hardest first, the same numbers as asked */
    lethe_difficulty *all = malloc(n * sizeof *all), *one = malloc(n * sizeof *one);
    size_t count = 0;
    assert_status(lethe_model_hardest(m, n + 5, 1, all, &count), LETHE_OK);
    assert_int_equal(count, n);
    double *infl = malloc(n * sizeof *infl), *dist = malloc(n * sizeof *dist);
    for (size_t t = 0; t < n; t++) {
        if (t > 0)
            assert_true(all[t - 1].influence >= all[t].influence);
        assert_status(lethe_record_difficulty(m, &all[t].id, 1, 1, &one[t]), LETHE_OK);
        assert_close(one[t].influence, all[t].influence, 1e-12, 0.0);
        assert_true(all[t].dry_run);
        assert_memory_equal(&one[t].distance, &all[t].distance, sizeof(double));
        assert_true(all[t].steps >= 1 && all[t].share > 0.0);
        infl[t] = all[t].influence;
        dist[t] = all[t].distance;
    }
    double rho = spearman(infl, dist, n);
    print_message("n = %zu: Spearman(influence, dry-run distance) = %.3f\n", n, rho);
    assert_true(rho > 0.9);
    /* top 10 is the head of the whole ranking */
    lethe_difficulty top[10];
    assert_status(lethe_model_hardest(m, 10, 0, top, &count), LETHE_OK);
    assert_int_equal(count, 10);
    for (size_t t = 0; t < 10; t++)
        assert_true(top[t].id == all[t].id && !top[t].dry_run);
    /* the influence is the fast path's first step up to its down-date: the
     * real removal of the hardest record whose first step suffices moves θ
     * by within 5 % of it, and leaves the distance its dry run said; harder
     * ones need more steps */
    size_t h = 0;
    while (h < n && all[h].steps != 1)
        h++;
    assert_true(h < n);
    print_message("%zu records need more than one step; the first that does not is #%zu\n", h,
                  h + 1);
    for (size_t t = 0; t < n; t++) /* every record that needs more: in the top 2h */
        assert_true(all[t].steps == 1 || t < 2 * h);
    const size_t row = lethe__model_find(m, all[h].id);
    const double slack = (m->s_f[row] * m->R * m->R + m->lambda) /
                         (m->lambda * (double)(m->n_f - 1)); /* Proposition 2 */
    double *before = malloc(d * sizeof *before);
    memcpy(before, m->w, d * sizeof *before);
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, &all[h].id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_int_equal(rep.steps, 1);
    double moved = tu_dist(before, m->w, d);
    print_message("influence %.5g, the removal moved θ by %.5g (bound ±%.3g)\n",
                  all[h].influence, moved, slack * all[h].influence);
    assert_le(fabs(moved - all[h].influence), slack * all[h].influence);
    assert_memory_equal(&rep.distance, &all[h].distance, sizeof(double));
    free(before);
    free(infl);
    free(dist);
    free(all);
    free(one);
    lethe_model_free(m);
    lethe_dataset_free(ds);
}

/* Bad input is refused and nothing changes; guo's share is of its budget.
 * EVIDENCE: LTH-C-0017 */
static void test_difficulty_refusals(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 200, d = 5;
    lethe_dataset *ds = tu_dataset(ctx, 43, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1.0);
    lethe_model *m = train(ctx, ds, LETHE_MECH_M3);
    const uint64_t *ids = lethe_dataset_ids(ds);
    assert_status(lethe_model_remove(m, &ids[3], 1, LETHE_PATH_FAST, NULL), LETHE_OK);
    double *w = malloc(d * sizeof *w), *U = malloc(d * d * sizeof *U), *g = malloc(d * sizeof *g);
    memcpy(w, m->w, d * sizeof *w);
    memcpy(U, m->U, d * d * sizeof *U);
    memcpy(g, m->g, d * sizeof *g);
    lethe_budget b0, b1;
    assert_status(lethe_model_budget(m, &b0), LETHE_OK);
    lethe_difficulty r[3];
    size_t count = 7;
    const uint64_t bad[2] = { ids[5], 987654321 };
    assert_status(lethe_record_difficulty(m, bad, 2, 1, r), LETHE_ENOTFOUND);
    assert_msg_has(ctx, "987654321");
    assert_status(lethe_record_difficulty(m, &ids[3], 1, 0, r), LETHE_EREMOVED);
    assert_status(lethe_record_difficulty(m, ids, 0, 0, r), LETHE_EINVAL);
    assert_status(lethe_record_difficulty(m, NULL, 1, 0, r), LETHE_EINVAL);
    assert_status(lethe_model_hardest(m, 0, 0, r, &count), LETHE_EINVAL);
    assert_status(lethe_model_hardest(m, 3, 1, r, &count), LETHE_OK);
    assert_int_equal(count, 3);
    for (size_t t = 0; t < 3; t++)
        assert_true(r[t].id != ids[3]); /* a removed record is not ranked */
    /* dry runs and refusals changed nothing */
    assert_memory_equal(w, m->w, d * sizeof *w);
    assert_memory_equal(U, m->U, d * d * sizeof *U);
    assert_memory_equal(g, m->g, d * sizeof *g);
    assert_status(lethe_model_budget(m, &b1), LETHE_OK);
    assert_int_equal(b1.n, b0.n);
    assert_int_equal(b1.removals_total, b0.removals_total);
    free(w);
    free(U);
    free(g);
    lethe_model_free(m);
    /* guo: the share is of ε' */
    m = train(ctx, ds, LETHE_MECH_M1);
    assert_status(lethe_record_difficulty(m, &ids[9], 1, 1, r), LETHE_OK);
    lethe_removal_report rep;
    assert_status(lethe_model_check_removal(m, &ids[9], 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_close(r[0].share, (rep.residual + rep.residual_fp) / rep.budget, 1e-15, 0.0);
    assert_true(r[0].influence > 0.0);
    lethe_model_free(m);
    lethe_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_difficulty_influence, tu_ctx_setup,
                                        tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_difficulty_refusals, tu_ctx_setup,
                                        tu_ctx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
