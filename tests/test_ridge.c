/*
 * Exact ridge by sufficient statistics (proofs/exact-ridge.md): the
 * certified bound against the real distance to the exact minimiser (solved
 * in long double from the records held), after training and after batches
 * of removals, on well- and ill-conditioned data; against a retrain; and
 * refusals that change nothing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "modelutil.h"

enum { DMAX = 8 };

/* w* of the records of ds not in gone[0..k-1], by the normal equations in
 * long double (Gaussian elimination with partial pivoting). */
static void reference(const lethe_dataset *ds, const uint64_t *gone, size_t k, double lambda,
                      long double *w)
{
    const size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    long double A[DMAX][DMAX + 1];
    memset(A, 0, sizeof A);
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        int drop = 0;
        for (size_t t = 0; t < k; t++)
            drop |= lethe_dataset_ids(ds)[i] == gone[t];
        if (drop)
            continue;
        live++;
        const double *x = lethe_dataset_x(ds) + i * d;
        for (size_t a = 0; a < d; a++) {
            for (size_t b = 0; b < d; b++)
                A[a][b] += (long double)x[a] * x[b];
            A[a][d] += (long double)x[a] * lethe_dataset_y(ds)[i];
        }
    }
    for (size_t a = 0; a < d; a++)
        A[a][a] += (long double)lambda * (long double)live;
    for (size_t c = 0; c < d; c++) {
        size_t p = c;
        for (size_t r = c + 1; r < d; r++)
            if (fabsl(A[r][c]) > fabsl(A[p][c]))
                p = r;
        for (size_t j = 0; j <= d; j++) {
            long double t = A[c][j];
            A[c][j] = A[p][j];
            A[p][j] = t;
        }
        for (size_t r = c + 1; r < d; r++) {
            long double f = A[r][c] / A[c][c];
            for (size_t j = c; j <= d; j++)
                A[r][j] -= f * A[c][j];
        }
    }
    for (size_t r = d; r-- > 0;) {
        long double s = A[r][d];
        for (size_t j = r + 1; j < d; j++)
            s -= A[r][j] * w[j];
        w[r] = s / A[r][r];
    }
}

static double gap(const double *w, const long double *ref, size_t d)
{
    long double s = 0.0L;
    for (size_t j = 0; j < d; j++)
        s += ((long double)w[j] - ref[j]) * ((long double)w[j] - ref[j]);
    return (double)sqrtl(s);
}

/* ill = 1: rows of norm up to 10³, two nearly collinear features, tiny λ */
static lethe_dataset *data(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d, int ill)
{
    double *x, *y;
    tu_problem(seed, n, d, LETHE_LOSS_SQUARED, &x, &y);
    if (ill)
        for (size_t i = 0; i < n; i++) {
            x[i * d + 1] = x[i * d] + 1e-7 * x[i * d + 1];
            for (size_t j = 0; j < d; j++)
                x[i * d + j] *= 1.0 + 999.0 * (double)(i % 7) / 6.0;
            y[i] *= 100.0;
        }
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, n, d, x, d, y, NULL, LETHE_NORM_MEASURE, 0.0, &ds),
                  LETHE_OK);
    free(x);
    free(y);
    return ds;
}

/* EVIDENCE: LTH-C-0019 */
static void test_ridge_bound(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 400, d = 6;
    for (int ill = 0; ill < 2; ill++) {
        const double lambda = ill ? 1e-9 : 1e-3;
        lethe_dataset *ds = data(ctx, 71 + (uint64_t)ill, n, d, ill);
        lethe_ridge *m = NULL;
        assert_status(lethe_ridge_train(ctx, ds, lambda, &m), LETHE_OK);
        long double ref[DMAX];
        reference(ds, NULL, 0, lambda, ref);
        double g = gap(lethe_ridge_weights(m), ref, d), bound = lethe_ridge_distance(m);
        print_message("ridge %s: trained, ‖w − w*‖ = %.3g ≤ %.3g\n", ill ? "ill" : "well", g,
                      bound);
        assert_le(g, bound);
        /* batches in sequence: the bound holds for the records left each time */
        const uint64_t *ids = lethe_dataset_ids(ds);
        uint64_t gone[40];
        for (size_t t = 0; t < 40; t++)
            gone[t] = ids[(13 * t + 2) % n];
        size_t done = 0;
        const size_t batch[3] = { 1, 9, 30 };
        for (size_t b = 0; b < 3; b++) {
            double dist = 0.0;
            assert_status(lethe_ridge_remove(m, gone + done, batch[b], &dist), LETHE_OK);
            done += batch[b];
            assert_int_equal(lethe_ridge_rows(m), n - done);
            reference(ds, gone, done, lambda, ref);
            g = gap(lethe_ridge_weights(m), ref, d);
            print_message("  after %zu removed: ‖w − w*‖ = %.3g ≤ %.3g\n", done, g, dist);
            assert_le(g, dist);
            if (!ill)
                assert_true(dist < 1e-8); /* not vacuous on ordinary data */
        }
        /* against a retrain on the records left: both within their bounds */
        lethe_dataset *rest = tu_without(ctx, ds, gone, done, LETHE_NORM_MEASURE, 0.0);
        assert_int_equal(lethe_dataset_rows(rest), n - done);
        lethe_ridge *r = NULL;
        assert_status(lethe_ridge_train(ctx, rest, lambda, &r), LETHE_OK);
        assert_le(tu_dist(lethe_ridge_weights(m), lethe_ridge_weights(r), d),
                  lethe_ridge_distance(m) + lethe_ridge_distance(r));
        lethe_ridge_free(r);
        lethe_dataset_free(rest);
        lethe_ridge_free(m);
        lethe_dataset_free(ds);
    }
}

/* Bad input is refused and changes nothing. EVIDENCE: LTH-C-0019 */
static void test_ridge_refusals(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 50, d = 4;
    lethe_dataset *ds = data(ctx, 75, n, d, 0);
    lethe_ridge *m = NULL;
    assert_status(lethe_ridge_train(ctx, ds, 0.0, &m), LETHE_EINVAL);
    assert_status(lethe_ridge_train(ctx, ds, NAN, &m), LETHE_EINVAL);
    assert_status(lethe_ridge_train(ctx, NULL, 1e-3, &m), LETHE_EINVAL);
    assert_status(lethe_ridge_train(ctx, ds, 1e-3, &m), LETHE_OK);
    const uint64_t *ids = lethe_dataset_ids(ds);
    assert_status(lethe_ridge_remove(m, &ids[7], 1, NULL), LETHE_OK);
    double w[4], dist = lethe_ridge_distance(m);
    memcpy(w, lethe_ridge_weights(m), sizeof w);
    const uint64_t unknown[2] = { ids[1], 99999 }, twice[2] = { ids[2], ids[2] };
    assert_status(lethe_ridge_remove(m, unknown, 2, NULL), LETHE_ENOTFOUND);
    assert_msg_has(ctx, "99999");
    assert_status(lethe_ridge_remove(m, twice, 2, NULL), LETHE_EDUPLICATE);
    assert_status(lethe_ridge_remove(m, &ids[7], 1, NULL), LETHE_ENOTFOUND); /* removed */
    assert_status(lethe_ridge_remove(m, ids, 0, NULL), LETHE_EINVAL);
    assert_status(lethe_ridge_remove(m, ids, n - 1, NULL), LETHE_ELAST);
    assert_memory_equal(w, lethe_ridge_weights(m), sizeof w);
    assert_memory_equal(&dist, &(double){ lethe_ridge_distance(m) }, sizeof dist);
    assert_int_equal(lethe_ridge_rows(m), n - 1);
    assert_true(lethe_ridge_has_id(m, ids[1]) && lethe_ridge_has_id(m, ids[2]));
    assert_false(lethe_ridge_has_id(m, ids[7]));
    lethe_ridge_free(m);
    lethe_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ridge_bound, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_ridge_refusals, tu_ctx_setup, tu_ctx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
