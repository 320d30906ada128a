/*
 * optim: losses and their constants, the objective's gradient and Hessian
 * against finite differences, Newton against a direct dposv solve, the
 * Cholesky update/down-date against refactorising, and the dataset's checks.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <float.h>

#include <cblas.h>
#include <lapacke.h>

#include "optim/dataset.h"
#include "optim/optim.h"

static lethe_ctx *ctx_new(void)
{
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    return ctx;
}

/* ℓ' and ℓ'' against central differences over a range of z.
 * EVIDENCE: LTH-C-0004 */
static void test_loss_derivatives(void **state)
{
    (void)state;
    const lethe_loss losses[] = { LETHE_LOSS_LOGISTIC, LETHE_LOSS_SQUARED,
                                  LETHE_LOSS_SMOOTH_HINGE, LETHE_LOSS_HUBER };
    for (size_t k = 0; k < LETHE_LOSS_COUNT; k++) {
        for (double z = -30.0; z <= 30.0; z += 0.37) {
            for (double y = -1.0; y <= 1.0; y += 2.0) {
                double l, d1, d2, lp, lm, d1p, d1m;
                const double h = 1e-5;
                lethe__loss_eval(losses[k], z, y, &l, &d1, &d2);
                lethe__loss_eval(losses[k], z + h, y, &lp, &d1p, NULL);
                lethe__loss_eval(losses[k], z - h, y, &lm, &d1m, NULL);
                assert_true(isfinite(l) && l >= 0.0);
                assert_close(d1, (lp - lm) / (2 * h), 1e-6, 1e-9);
                assert_close(d2, (d1p - d1m) / (2 * h), 1e-6, 1e-9);
            }
        }
    }
    /* the public entry point agrees and checks its arguments */
    double pl, pd1, pd2, il, id1, id2, l0;
    assert_status(lethe_loss_eval(LETHE_LOSS_LOGISTIC, 0.731, -1.0, &pl, &pd1, &pd2), LETHE_OK);
    lethe__loss_eval(LETHE_LOSS_LOGISTIC, 0.731, -1.0, &il, &id1, &id2);
    assert_true(!(pl < il || pl > il) && !(pd1 < id1 || pd1 > id1) && !(pd2 < id2 || pd2 > id2));
    assert_status(lethe_loss_eval(LETHE_LOSS_LOGISTIC, 0.5, 0.5, &pl, NULL, NULL), LETHE_ELABEL);
    assert_status(lethe_loss_eval(LETHE_LOSS_LOGISTIC, 0.5, NAN, &pl, NULL, NULL), LETHE_ELABEL);
    assert_status(lethe_loss_eval(LETHE_LOSS_SQUARED, 0.5, NAN, &pl, NULL, NULL), LETHE_ELABEL);
    assert_status(lethe_loss_eval(LETHE_LOSS_SQUARED, NAN, 0.5, &pl, NULL, NULL), LETHE_ENONFINITE);
    assert_status(lethe_loss_eval(LETHE_LOSS_SMOOTH_HINGE, 0.5, 0.5, &pl, NULL, NULL), LETHE_ELABEL);
    assert_status(lethe_loss_eval(LETHE_LOSS_HUBER, 0.5, 0.5, &pl, NULL, NULL), LETHE_OK);
    assert_status(lethe_loss_eval((lethe_loss)LETHE_LOSS_COUNT, 0.5, 1.0, &pl, NULL, NULL),
                  LETHE_EINVAL);
    /* the pieces, at points away from the kinks */
    double d1, d2;
    lethe__loss_eval(LETHE_LOSS_SMOOTH_HINGE, -2.0, 1.0, &l0, &d1, &d2); /* m = −2: ½ − m */
    assert_close(l0, 2.5, 1e-15, 0.0);
    assert_true(d1 <= -1.0 && d1 >= -1.0 && lethe__is_zero(d2));
    lethe__loss_eval(LETHE_LOSS_SMOOTH_HINGE, 0.25, -1.0, &l0, &d1, &d2); /* m = −¼ */
    assert_close(l0, 0.75, 1e-15, 0.0);
    lethe__loss_eval(LETHE_LOSS_SMOOTH_HINGE, -0.5, -1.0, &l0, &d1, &d2); /* m = ½: ½(1 − m)² */
    assert_close(l0, 0.125, 1e-15, 0.0);
    assert_close(d1, 0.5, 1e-15, 0.0);
    assert_true(d2 >= 1.0 && d2 <= 1.0);
    lethe__loss_eval(LETHE_LOSS_SMOOTH_HINGE, 3.0, 1.0, &l0, &d1, &d2); /* m ≥ 1: 0 */
    assert_true(lethe__is_zero(l0) && lethe__is_zero(d1) && lethe__is_zero(d2));
    lethe__loss_eval(LETHE_LOSS_HUBER, 4.0, 1.5, &l0, &d1, &d2); /* r = 2.5: |r| − ½ */
    assert_close(l0, 2.0, 1e-15, 0.0);
    assert_true(d1 >= 1.0 && d1 <= 1.0 && lethe__is_zero(d2));
    lethe__loss_eval(LETHE_LOSS_HUBER, 1.0, 1.5, &l0, &d1, &d2); /* r = −½: ½r² */
    assert_close(l0, 0.125, 1e-15, 0.0);
    assert_close(d1, -0.5, 1e-15, 0.0);
    /* names */
    for (unsigned k = 0; k < LETHE_LOSS_COUNT; k++) {
        lethe_loss back = LETHE_LOSS_COUNT;
        assert_status(lethe_loss_from_name(lethe_loss_name((lethe_loss)k), &back), LETHE_OK);
        assert_int_equal(back, k);
    }
    lethe_loss none = LETHE_LOSS_HUBER;
    assert_status(lethe_loss_from_name("hinge", &none), LETHE_EINVAL);
    assert_int_equal(none, LETHE_LOSS_HUBER);
    assert_null(lethe_loss_name((lethe_loss)LETHE_LOSS_COUNT));
    /* stable at extreme margins: log(1 + e^{−m}) ≈ −m for m ≪ 0, ≈ e^{−m} for m ≫ 0 */
    double l;
    (void)l0;
    lethe__loss_eval(LETHE_LOSS_LOGISTIC, -800.0, 1.0, &l, NULL, NULL);
    assert_close(l, 800.0, 1e-15, 0.0);
    lethe__loss_eval(LETHE_LOSS_LOGISTIC, 40.0, 1.0, &l, NULL, NULL);
    assert_close(l, exp(-40.0), 1e-12, 0.0);
}

/* EVIDENCE: LTH-C-0004 */
static void test_loss_constants(void **state)
{
    (void)state;
    lethe_loss_constants k;
    const double R = 1.7;
    assert_status(lethe_loss_get_constants(LETHE_LOSS_LOGISTIC, R, &k), LETHE_OK);
    /* dense grid: sup ℓ'' ≤ d2_max, |ℓ'(z)|·R ≤ C, and the Lipschitz quotient of ℓ'' ≤ γ */
    double max_d2 = 0.0, max_d1 = 0.0, max_lip = 0.0, prev_d2 = 0.0;
    const double step = 1e-4;
    for (double z = -20.0; z <= 20.0; z += step) {
        double d1, d2;
        lethe__loss_eval(LETHE_LOSS_LOGISTIC, z, -1.0, NULL, &d1, &d2);
        if (z > -20.0)
            max_lip = fmax(max_lip, fabs(d2 - prev_d2) / step);
        prev_d2 = d2;
        max_d2 = fmax(max_d2, d2);
        max_d1 = fmax(max_d1, fabs(d1));
    }
    assert_le(max_d2, k.d2_max);
    assert_le(max_d1 * R, k.grad_bound);
    assert_le(max_lip, k.d2_lip);
    /* never below the truth, and within one ulp of it */
    long double truth = 1.0L / (6.0L * sqrtl(3.0L));
    assert_true((long double)k.d2_lip >= truth);
    assert_true((long double)nextafter(k.d2_lip, 0.0) < truth);
    /* and the constants are tight: the grid comes within 0.1 % of them */
    assert_close(max_lip, k.d2_lip, 1e-3, 0.0);
    assert_close(max_d2, k.d2_max, 1e-3, 0.0);
    assert_status(lethe_loss_get_constants(LETHE_LOSS_SQUARED, R, &k), LETHE_OK);
    assert_true(lethe__is_zero(k.d2_lip) && isinf(k.grad_bound));
    /* smooth hinge and Huber: |ℓ'| ≤ 1, ℓ' 1-Lipschitz (ℓ'' ≤ 1), ℓ'' not Lipschitz */
    const lethe_loss piecewise[] = { LETHE_LOSS_SMOOTH_HINGE, LETHE_LOSS_HUBER };
    for (size_t t = 0; t < 2; t++) {
        assert_status(lethe_loss_get_constants(piecewise[t], R, &k), LETHE_OK);
        max_d2 = max_d1 = 0.0;
        for (double z = -20.0; z <= 20.0; z += step)
            for (double y = -1.0; y <= 1.0; y += 2.0) {
                double d1, d2;
                lethe__loss_eval(piecewise[t], z, y, NULL, &d1, &d2);
                max_d2 = fmax(max_d2, d2);
                max_d1 = fmax(max_d1, fabs(d1));
            }
        assert_le(max_d2, k.d2_max);
        assert_le(max_d1 * R, k.grad_bound);
        assert_close(max_d1 * R, k.grad_bound, 1e-12, 0.0); /* attained */
        assert_close(max_d2, k.d2_max, 1e-12, 0.0);
        assert_true(isinf(k.d2_lip));
    }
    assert_status(lethe_loss_get_constants((lethe_loss)7, R, &k), LETHE_EINVAL);
    assert_status(lethe_loss_get_constants(LETHE_LOSS_LOGISTIC, NAN, &k), LETHE_EINVAL);
    assert_status(lethe_loss_get_constants(LETHE_LOSS_LOGISTIC, -1.0, &k), LETHE_EINVAL);
    assert_status(lethe_loss_get_constants(LETHE_LOSS_LOGISTIC, 1.0, NULL), LETHE_EINVAL);
}

/* Gradient and Hessian of L_b against central differences, with dead rows. */
static void test_gradient_hessian_fd(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t n = 60, d = 7;
    const lethe_loss losses[] = { LETHE_LOSS_LOGISTIC, LETHE_LOSS_SQUARED,
                                  LETHE_LOSS_SMOOTH_HINGE, LETHE_LOSS_HUBER };
    for (size_t li = 0; li < LETHE_LOSS_COUNT; li++) {
        double *x, *y;
        tu_problem(11 + li, n, d, losses[li], &x, &y);
        unsigned char alive[60];
        for (size_t i = 0; i < n; i++)
            alive[i] = (i % 7 == 3) ? 0 : 1;
        double b[7], w[7], g[7], gp[7], gm[7], H[49], wp[7];
        uint64_t s = 5;
        for (size_t j = 0; j < d; j++) {
            b[j] = 0.7 * tu_uniform(&s);
            w[j] = 1.3 * tu_uniform(&s);
        }
        lethe_objective obj = { losses[li], n, d, x, y, alive, 51, 0.0371, b };
        lethe_optim_ws ws;
        assert_status(lethe__optim_ws_init(ctx, &ws, n, d), LETHE_OK);
        lethe__objective_eval(&obj, w, g, &ws);
        lethe__hessian(&obj, w, H, NULL, &ws);
        const double h = 1e-5;
        for (size_t j = 0; j < d; j++) {
            memcpy(wp, w, sizeof wp);
            wp[j] = w[j] + h;
            double fp = lethe__objective_eval(&obj, wp, gp, &ws);
            wp[j] = w[j] - h;
            double fm = lethe__objective_eval(&obj, wp, gm, &ws);
            assert_close(g[j], (fp - fm) / (2 * h), 1e-6, 1e-7);
            for (size_t i = 0; i <= j; i++) /* upper triangle: H[i][j], i ≤ j */
                assert_close(H[i * d + j], (gp[i] - gm[i]) / (2 * h), 1e-6, 1e-7);
        }
        lethe__optim_ws_free(ctx, &ws);
        free(x);
        free(y);
    }
    lethe_ctx_free(ctx);
}

/* Ridge: one Newton step is exact; compare with dposv on the normal equations. */
static void test_newton_vs_dposv(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t n = 300, d = 12;
    double *x, *y;
    tu_problem(21, n, d, LETHE_LOSS_SQUARED, &x, &y);
    double b[12], w[12] = { 0 }, U[144], s[300], A[144], rhs[12];
    uint64_t st = 9;
    for (size_t j = 0; j < d; j++)
        b[j] = tu_uniform(&st);
    const double lambda = 0.0123;
    lethe_objective obj = { LETHE_LOSS_SQUARED, n, d, x, y, NULL, n, lambda, b };
    lethe_optim_ws ws;
    assert_status(lethe__optim_ws_init(ctx, &ws, n, d), LETHE_OK);
    double gnorm;
    unsigned iters;
    assert_status(lethe__newton(ctx, &obj, w, 1e-11, 50, U, s, &ws, &gnorm, &iters), LETHE_OK);
    assert_le(gnorm, 1e-11);
    /* (XᵀX + λnI) w = Xᵀy − b */
    for (size_t i = 0; i < d; i++) {
        rhs[i] = -b[i];
        for (size_t k = 0; k < n; k++)
            rhs[i] += x[k * d + i] * y[k];
        for (size_t j = 0; j < d; j++) {
            double v = 0.0;
            for (size_t k = 0; k < n; k++)
                v += x[k * d + i] * x[k * d + j];
            A[i * d + j] = v + (i == j ? lambda * (double)n : 0.0);
        }
    }
    assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (int)d, 1, A, (int)d, rhs, 1), 0);
    for (size_t j = 0; j < d; j++)
        assert_close(w[j], rhs[j], 1e-10, 1e-12);
    assert_true(iters <= 2); /* quadratic model: one step, perhaps a polishing one */
    lethe__optim_ws_free(ctx, &ws);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

static void test_newton_no_convergence(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t n = 200, d = 5;
    double *x, *y, w[5] = { 0 }, U[25], gnorm;
    unsigned iters;
    tu_problem(31, n, d, LETHE_LOSS_LOGISTIC, &x, &y);
    lethe_objective obj = { LETHE_LOSS_LOGISTIC, n, d, x, y, NULL, n, 1e-3, NULL };
    lethe_optim_ws ws;
    assert_status(lethe__optim_ws_init(ctx, &ws, n, d), LETHE_OK);
    assert_status(lethe__newton(ctx, &obj, w, 1e-14, 1, U, NULL, &ws, &gnorm, &iters),
                  LETHE_ENOCONV);
    assert_true(strstr(lethe_ctx_errmsg(ctx), "iterations") != NULL);
    lethe__optim_ws_free(ctx, &ws);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

/* The single-precision Hessian against the double one, entry by entry
 * (upper triangle) relative to the largest entry; and Newton with it on a
 * problem large enough to use it (d ≥ 256) still reaches its tolerance and
 * returns the factor of the double Hessian at its final w, bit for bit. */
static void test_hessian_f32(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t n = 1500, d = 300;
    double *x, *y;
    tu_problem(51, n, d, LETHE_LOSS_LOGISTIC, &x, &y);
    for (size_t i = 0; i < n * d; i++)
        x[i] /= sqrt((double)d); /* rows of norm below 1 */
    lethe_objective obj = { LETHE_LOSS_LOGISTIC, n, d, x, y, NULL, n, 1e-3, NULL };
    lethe_optim_ws ws;
    assert_status(lethe__optim_ws_init(ctx, &ws, n, d), LETHE_OK);
    double *w = calloc(d, sizeof *w), *H = malloc(d * d * sizeof *H);
    double *Hf = malloc(d * d * sizeof *Hf), *U = malloc(d * d * sizeof *U);
    uint64_t s = 3;
    for (size_t j = 0; j < d; j++)
        w[j] = 2.0 * tu_uniform(&s);
    lethe__hessian(&obj, w, H, NULL, &ws);
    lethe__hessian_f32(&obj, w, Hf, &ws);
    double top = 0.0, err = 0.0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            top = fmax(top, fabs(H[i * d + j]));
            err = fmax(err, fabs(H[i * d + j] - Hf[i * d + j]));
        }
    print_message("single-precision Hessian: max error %.2e of the largest entry %.3g\n",
                  err / top, top);
    assert_le(err, 1e-5 * top);
    assert_true(err > 0.0); /* it is the float sum, not the double one */
    memset(w, 0, d * sizeof *w);
    double gnorm;
    unsigned iters;
    const double tol = 1e-10 * fmax(1.0, 1e-3 * (double)n);
    assert_status(lethe__newton(ctx, &obj, w, tol, 100, U, NULL, &ws, &gnorm, &iters),
                  LETHE_OK);
    assert_le(gnorm, tol);
    lethe__hessian(&obj, w, H, NULL, &ws);
    assert_status(lethe__chol_factor(H, d), LETHE_OK);
    for (size_t i = 0; i < d; i++) /* the upper triangles */
        assert_memory_equal(U + i * d + i, H + i * d + i, (d - i) * sizeof *H);
    free(w);
    free(H);
    free(Hf);
    free(U);
    lethe__optim_ws_free(ctx, &ws);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

static void random_spd(uint64_t seed, size_t d, double *A)
{
    uint64_t s = seed;
    double *B = malloc(d * d * sizeof *B);
    for (size_t i = 0; i < d * d; i++)
        B[i] = tu_uniform(&s);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, B, (int)d,
                B, (int)d, 0.0, A, (int)d);
    for (size_t i = 0; i < d; i++)
        A[i * d + i] += 0.5;
    free(B);
}

/* Update and down-date against refactorising A ± vvᵀ. */
static void test_cholesky_update_downdate(void **state)
{
    (void)state;
    for (size_t d = 1; d <= 40; d += 13) {
        double *A = malloc(d * d * sizeof *A), *U = malloc(d * d * sizeof *U);
        double *R = malloc(d * d * sizeof *R), *v = malloc(d * sizeof *v);
        double *v2 = malloc(d * sizeof *v2);
        random_spd(100 + d, d, A);
        memcpy(U, A, d * d * sizeof *U);
        assert_status(lethe__chol_factor(U, d), LETHE_OK);
        uint64_t s = d;
        for (size_t j = 0; j < d; j++)
            v[j] = 0.9 * tu_uniform(&s);
        /* update */
        memcpy(v2, v, d * sizeof *v);
        lethe__chol_update(U, d, v2);
        memcpy(R, A, d * d * sizeof *R);
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++)
                R[i * d + j] += v[i] * v[j];
        assert_status(lethe__chol_factor(R, d), LETHE_OK);
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                assert_close(U[i * d + j], R[i * d + j], 1e-11, 1e-12);
        /* down-date back to A */
        memcpy(v2, v, d * sizeof *v);
        assert_status(lethe__chol_downdate(U, d, v2, 0.0), LETHE_OK);
        memcpy(R, A, d * d * sizeof *R);
        assert_status(lethe__chol_factor(R, d), LETHE_OK);
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                assert_close(U[i * d + j], R[i * d + j], 1e-9, 1e-10);
        /* the unchecked down-date (vmax2 = ∞, a vectorised loop) gives the
         * checked one's bits exactly */
        {
            double *Ua = malloc(d * d * sizeof *Ua), *Ub = malloc(d * d * sizeof *Ub);
            double *va = malloc(d * sizeof *va), *vb = malloc(d * sizeof *vb);
            memcpy(va, v, d * sizeof *v);
            memcpy(vb, v, d * sizeof *v);
            lethe__chol_update(R, d, va); /* R: the factor of A + vvᵀ */
            memcpy(va, v, d * sizeof *v);
            assert_status(lethe__chol_downdate_from(R, Ua, d, va, 0.0, INFINITY), LETHE_OK);
            assert_status(lethe__chol_downdate_from(R, Ub, d, vb, 0.0, DBL_MAX), LETHE_OK);
            for (size_t i = 0; i < d; i++)
                assert_memory_equal(Ua + i * d + i, Ub + i * d + i, (d - i) * sizeof *Ua);
            assert_memory_equal(va, vb, d * sizeof *va);
            memcpy(R, A, d * d * sizeof *R);
            assert_status(lethe__chol_factor(R, d), LETHE_OK);
            free(Ua);
            free(Ub);
            free(va);
            free(vb);
        }
        /* down-dating by a vector outside the ellipsoid loses definiteness */
        for (size_t j = 0; j < d; j++)
            v2[j] = 1e3 * (v[j] + 1.0);
        assert_status(lethe__chol_downdate(U, d, v2, 0.0), LETHE_ENOTPD);
        /* a floor above the smallest pivot² is reported the same way */
        memcpy(U, R, d * d * sizeof *U);
        for (size_t j = 0; j < d; j++)
            v2[j] = 1e-3 * v[j];
        assert_status(lethe__chol_downdate(U, d, v2, 1e6), LETHE_ENOTPD);
        /* the A-DOWNDATE check: the largest ‖v^(k)‖² of this down-date, in
         * exact arithmetic at most ‖A‖‖a‖²/(1 − ‖a‖²) (m2-newton-rounding.md
         * Lemma D2), passes a bound just above it and fails one just below */
        if (d > 1) {
            double *W = malloc(d * d * sizeof *W), top = 0.0;
            memcpy(v2, v, d * sizeof *v);
            lethe__chol_update(R, d, v2); /* R: the factor of A + vvᵀ */
            memcpy(v2, v, d * sizeof *v);
            memcpy(W, R, d * d * sizeof *W);
            for (size_t k = 0; k + 1 < d; k++) { /* replay, recording ‖v^(k)‖² */
                double *row = W + k * d, c, sk, vv = 0.0;
                double r = sqrt(row[k] * row[k] - v2[k] * v2[k]);
                c = r / row[k];
                sk = v2[k] / row[k];
                row[k] = r;
                for (size_t j = k + 1; j < d; j++) {
                    double u = (row[j] - sk * v2[j]) / c;
                    v2[j] = c * v2[j] - sk * u;
                    row[j] = u;
                    vv += v2[j] * v2[j];
                }
                top = fmax(top, vv);
            }
            assert_true(top > 0.0);
            memcpy(v2, v, d * sizeof *v);
            assert_status(lethe__chol_downdate_from(R, W, d, v2, 0.0, top * (1.0 + 1e-9)),
                          LETHE_OK);
            memcpy(v2, v, d * sizeof *v);
            assert_status(lethe__chol_downdate_from(R, W, d, v2, 0.0, top * (1.0 - 1e-9)),
                          LETHE_ENOTPD);
            free(W);
        }
        free(A);
        free(U);
        free(R);
        free(v);
        free(v2);
    }
    double Z[4] = { 1.0, 2.0, 2.0, 1.0 }; /* indefinite */
    assert_status(lethe__chol_factor(Z, 2), LETHE_ENOTPD);
}

/* CLIP leaves every row with computed norm at most R(1 − (d + 2)u), the
 * margin that proves the true norm ≤ R: rows at R and just below it are
 * shrunk too, shorter rows are kept as they are. EVIDENCE: LTH-C-0004 */
static void test_dataset_clip_margin(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t d = 3;
    const double x[] = { 1.0, 0.0, 0.0, 0.6, 0.8, 0.0, 0.6, 0.8 - 0x1p-52, 0.0, 0.3, 0.1, 0.2 };
    const double y[] = { 1, -1, 1, -1 };
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, 4, d, x, d, y, NULL, LETHE_NORM_CLIP, 1.0, &ds),
                  LETHE_OK);
    const double *cx = lethe_dataset_x(ds);
    for (size_t i = 0; i < 4; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += cx[i * d + j] * cx[i * d + j];
        assert_le(sqrt(s), 1.0 - ((double)d + 2.0) * 0x1p-53);
    }
    assert_memory_equal(cx + 9, x + 9, 3 * sizeof *x); /* the short row is untouched */
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

static void test_dataset_errors(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    double x[6] = { 3.0, 4.0, 0.6, 0.8, 0.0, 0.0 }, y[3] = { 1.0, -1.0, 1.0 };
    uint64_t ids[3] = { 10, 20, 30 }, dup[3] = { 10, 20, 10 };
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, 3, 2, NULL, 2, y, NULL, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_EINVAL);
    assert_status(lethe_dataset_create(ctx, 0, 2, x, 2, y, NULL, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_EEMPTY);
    assert_status(lethe_dataset_create(ctx, 3, 0, x, 2, y, NULL, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_EEMPTY);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 1, y, NULL, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_EINVAL);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, NULL, (lethe_norm_policy)9, 1, &ds),
                  LETHE_EINVAL);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, NULL, LETHE_NORM_CLIP, -1.0, &ds),
                  LETHE_EINVAL);
    assert_status(lethe_dataset_create(ctx, SIZE_MAX / 2, 4, x, 4, y, NULL,
                                       LETHE_NORM_MEASURE, 1, &ds), LETHE_ESIZE);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, dup, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_EDUPLICATE);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, ids, LETHE_NORM_REQUIRE, 1.0, &ds),
                  LETHE_ENORM);
    assert_true(strstr(lethe_ctx_errmsg(ctx), "x[0]") != NULL);
    x[3] = NAN;
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, ids, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_ENONFINITE);
    x[3] = 0.8;
    y[1] = INFINITY;
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, ids, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_ENONFINITE);
    y[1] = -1.0;
    assert_null(ds);
    /* policies: measure, clip, normalise (the zero row stays zero) */
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, ids, LETHE_NORM_MEASURE, 0, &ds),
                  LETHE_OK);
    assert_close(lethe_dataset_norm_bound(ds), 5.0, 1e-15, 0.0);
    lethe_dataset_free(ds);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, ids, LETHE_NORM_CLIP, 0.5, &ds),
                  LETHE_OK);
    const double *cx = lethe_dataset_x(ds);
    assert_le(hypot(cx[0], cx[1]), 0.5);
    assert_le(hypot(cx[2], cx[3]), 0.5);
    assert_close(cx[0] / cx[1], 0.75, 1e-12, 0.0); /* direction kept */
    lethe_dataset_free(ds);
    assert_status(lethe_dataset_create(ctx, 3, 2, x, 2, y, ids, LETHE_NORM_NORMALIZE, 2.0, &ds),
                  LETHE_OK);
    cx = lethe_dataset_x(ds);
    assert_close(hypot(cx[2], cx[3]), 2.0, 1e-15, 0.0);
    assert_le(hypot(cx[2], cx[3]), 2.0);
    assert_true(lethe__is_zero(cx[4]) && lethe__is_zero(cx[5]));
    assert_int_equal(lethe_dataset_ids(ds)[2], 30);
    lethe_dataset_free(ds);
    /* tiny rows: R/‖x‖ would overflow; scaled in two steps they normalise cleanly */
    double tiny[6] = { 1e-300, 1e-300, 0.0, 1e-320, 3.0, 4.0 };
    assert_status(lethe_dataset_create(ctx, 3, 2, tiny, 2, y, ids, LETHE_NORM_NORMALIZE, 1e10,
                                       &ds), LETHE_OK);
    cx = lethe_dataset_x(ds);
    for (size_t i = 0; i < 3; i++) {
        assert_true(isfinite(cx[2 * i]) && isfinite(cx[2 * i + 1]));
        assert_close(hypot(cx[2 * i], cx[2 * i + 1]), 1e10, 1e-14, 0.0);
    }
    lethe_dataset_free(ds);
    /* a wide sparse row (a LIBSVM file's): clipped and normalised below R
     * with the (d + 2)·u margin, and not far below it */
    const size_t wide = (size_t)1 << 20;
    double *w = calloc(wide, sizeof *w);
    assert_non_null(w);
    w[wide - 1] = 3.0;
    w[7] = -2.385;
    for (int pol = LETHE_NORM_CLIP; pol <= LETHE_NORM_NORMALIZE; pol++) {
        assert_status(lethe_dataset_create(ctx, 1, wide, w, wide, y, ids,
                                           (lethe_norm_policy)pol, 1.5, &ds),
                      LETHE_OK);
        cx = lethe_dataset_x(ds);
        double norm = hypot(cx[7], cx[wide - 1]);
        assert_le(norm, 1.5 * (1.0 - ((double)wide + 2.0) * 0x1p-53));
        assert_close(norm, 1.5, 4.0 * ((double)wide + 2.0) * 0x1p-53, 0.0);
        assert_close(cx[7] / cx[wide - 1], -2.385 / 3.0, 1e-15, 0.0); /* direction kept */
        lethe_dataset_free(ds);
    }
    free(w);
    double huge[2] = { 1.5e308, 1.5e308 };
    assert_status(lethe_dataset_create(ctx, 1, 2, huge, 2, y, ids, LETHE_NORM_MEASURE, 0, &ds),
                  LETHE_ENONFINITE); /* the norm overflows */
    lethe_dataset_free(NULL);
    lethe_ctx_free(ctx);
}

/* Every allocation of dataset_create fails in turn: ENOMEM, nothing leaks. */
static void test_dataset_alloc_failure(void **state)
{
    (void)state;
    double *x, *y;
    tu_problem(41, 30, 4, LETHE_LOSS_LOGISTIC, &x, &y);
    uint64_t ids[30];
    for (size_t i = 0; i < 30; i++)
        ids[i] = 1000 + 7 * i;
    for (long k = 1;; k++) {
        tu_alloc a = { 0, 0, 0 };
        lethe_allocator al = tu_allocator(&a);
        lethe_ctx *ctx = NULL;
        assert_status(lethe_ctx_create(&al, &ctx), LETHE_OK);
        a.fail_at = a.count + k;
        lethe_dataset *ds = NULL;
        lethe_status st = lethe_dataset_create(ctx, 30, 4, x, 4, y, ids, LETHE_NORM_MEASURE, 1,
                                               &ds);
        lethe_dataset_free(ds);
        lethe_ctx_free(ctx);
        assert_int_equal(a.live, 0);
        if (st == LETHE_OK)
            break;
        assert_status(st, LETHE_ENOMEM);
        assert_null(ds);
    }
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_derivatives),
        cmocka_unit_test(test_loss_constants),
        cmocka_unit_test(test_gradient_hessian_fd),
        cmocka_unit_test(test_newton_vs_dposv),
        cmocka_unit_test(test_newton_no_convergence),
        cmocka_unit_test(test_hessian_f32),
        cmocka_unit_test(test_cholesky_update_downdate),
        cmocka_unit_test(test_dataset_errors),
        cmocka_unit_test(test_dataset_clip_margin),
        cmocka_unit_test(test_dataset_alloc_failure),
    };
    return cmocka_run_group_tests_name("optim", tests, NULL, NULL);
}
