/*
 * The regularised objective over a dataset and Newton's method.
 *
 *   min_w L_b(w) = Σ_{i alive} ℓ(wᵀxᵢ, yᵢ) + (λ·n_reg/2)‖w‖² + bᵀw
 *   ∇L_b  = Xᵀℓ'(Xw) + λ·n_reg·w + b
 *   ∇²L_b = Xᵀ diag(ℓ''(Xw)) X + λ·n_reg·I
 *
 * The Hessian is accumulated with dsyrk over blocks of LETHE__HESS_BLOCK rows
 * scaled by √ℓ''; the Newton system is solved by Cholesky (dpotrf). The
 * step is damped by Armijo backtracking (Nocedal & Wright, Alg. 3.1, c = 1e-4).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "optim/optim.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

lethe_status lethe__optim_ws_init(lethe_ctx *ctx, lethe_optim_ws *ws, size_t n, size_t d)
{
    memset(ws, 0, sizeof *ws);
    ws->n = n;
    ws->d = d;
    size_t blk_rows = n < LETHE__HESS_BLOCK ? n : LETHE__HESS_BLOCK;
    ws->z = lethe__calloc(ctx, n, sizeof(double));
    ws->s = lethe__calloc(ctx, n, sizeof(double));
    ws->p = lethe__calloc(ctx, d, sizeof(double));
    ws->wt = lethe__calloc(ctx, d, sizeof(double));
    ws->g = lethe__calloc(ctx, d, sizeof(double));
    size_t bd;
    ws->blk = lethe__mul_size(blk_rows, d, &bd) ? lethe__calloc(ctx, bd, sizeof(double)) : NULL;
    if (ws->z == NULL || ws->s == NULL || ws->p == NULL || ws->wt == NULL || ws->g == NULL ||
        ws->blk == NULL) {
        lethe__optim_ws_free(ctx, ws);
        return LETHE_ENOMEM;
    }
    return LETHE_OK;
}

void lethe__optim_ws_free(lethe_ctx *ctx, lethe_optim_ws *ws)
{
    lethe__free(ctx, ws->z);
    lethe__free(ctx, ws->s);
    lethe__free(ctx, ws->p);
    lethe__free(ctx, ws->wt);
    lethe__free(ctx, ws->g);
    lethe__free(ctx, ws->blk);
    memset(ws, 0, sizeof *ws);
}

/* Below this dimension the Hessian is cheap next to the passes: keep it in
 * double throughout. */
#define F32_MIN_DIM 256

static int row_alive(const lethe_objective *obj, size_t i)
{
    return obj->alive == NULL || obj->alive[i] == 1;
}

double lethe__objective_eval(const lethe_objective *obj, const double *w, double *g,
                             lethe_optim_ws *ws)
{
    const int n = lethe__blas_int(obj->n), d = lethe__blas_int(obj->d);
    const double reg = obj->lambda * (double)obj->n_reg;
    double *z = ws->z, *v = ws->s;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, n, d, 1.0, obj->x, d, w, 1, 0.0, z, 1);
    double f = 0.0, mag = 0.0;
    for (size_t i = 0; i < obj->n; i++) {
        double l = 0.0, d1 = 0.0;
        if (row_alive(obj, i))
            lethe__loss_eval(obj->loss, z[i], obj->y[i], &l, &d1, NULL);
        f += l;
        mag += fabs(l);
        v[i] = d1;
    }
    double ww = cblas_ddot(d, w, 1, w, 1);
    f += 0.5 * reg * ww;
    mag += 0.5 * reg * ww;
    if (obj->b != NULL) {
        double bw = cblas_ddot(d, obj->b, 1, w, 1);
        f += bw;
        mag += fabs(bw);
    }
    ws->fmag = mag;
    if (g != NULL) {
        /* g = Xᵀv + reg·w + b */
        memcpy(g, w, obj->d * sizeof *g);
        if (obj->b != NULL) {
            cblas_dscal(d, reg, g, 1);
            cblas_daxpy(d, 1.0, obj->b, 1, g, 1);
            cblas_dgemv(CblasRowMajor, CblasTrans, n, d, 1.0, obj->x, d, v, 1, 1.0, g, 1);
        } else {
            cblas_dgemv(CblasRowMajor, CblasTrans, n, d, 1.0, obj->x, d, v, 1, reg, g, 1);
        }
    }
    return f;
}

/* ws->z := ℓ''(xᵢᵀw) for the live rows, 0 for the others. */
static void curvatures(const lethe_objective *obj, const double *w, lethe_optim_ws *ws)
{
    double *z = ws->z;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, lethe__blas_int(obj->n), lethe__blas_int(obj->d),
                1.0, obj->x, lethe__blas_int(obj->d), w, 1, 0.0, z, 1);
    for (size_t i = 0; i < obj->n; i++) {
        double d2 = 0.0;
        if (row_alive(obj, i))
            lethe__loss_eval(obj->loss, z[i], obj->y[i], NULL, NULL, &d2);
        z[i] = d2;
    }
}

void lethe__hessian(const lethe_objective *obj, const double *w, double *H, double *s,
                    lethe_optim_ws *ws)
{
    const size_t n = obj->n, d = obj->d;
    const int di = lethe__blas_int(d);
    const double reg = obj->lambda * (double)obj->n_reg;
    curvatures(obj, w, ws);
    for (size_t i = 0; i < d; i++) {
        memset(H + i * d, 0, d * sizeof *H);
        H[i * d + i] = reg;
    }
    for (size_t r0 = 0; r0 < n; r0 += LETHE__HESS_BLOCK) {
        size_t rows = n - r0 < LETHE__HESS_BLOCK ? n - r0 : LETHE__HESS_BLOCK;
        for (size_t k = 0; k < rows; k++) {
            size_t i = r0 + k;
            const double d2 = ws->z[i];
            if (s != NULL)
                s[i] = d2;
            double *dst = ws->blk + k * d;
            memcpy(dst, obj->x + i * d, d * sizeof *dst);
            cblas_dscal(di, sqrt(d2), dst, 1);
        }
        /* H += BᵀB, B = diag(√ℓ'') X_block: upper triangle, row-major. */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, lethe__blas_int(rows), 1.0,
                    ws->blk, di, 1.0, H, di);
    }
}

/* The Hessian as lethe__hessian, but summed in single precision: rows
 * scaled by √ℓ'' are rounded to float in blocks of up to 2·LETHE__HESS_BLOCK
 * (in ws->blk's memory) and accumulated by ssyrk into a float matrix in the
 * first half of H's memory, which is then widened in place from its end
 * (double k covers floats 2k and 2k + 1, never one still to be read) and
 * given λ·n_reg on the diagonal in double. About twice as fast as dsyrk;
 * Newton's intermediate iterations use it, where the Hessian shapes only
 * the step's direction and the line search judges every step on the
 * objective itself. */
void lethe__hessian_f32(const lethe_objective *obj, const double *w, double *H,
                        lethe_optim_ws *ws)
{
    const size_t n = obj->n, d = obj->d;
    const int di = lethe__blas_int(d);
    const double reg = obj->lambda * (double)obj->n_reg;
    curvatures(obj, w, ws);
    float *Hf = (float *)(void *)H, *blk = (float *)(void *)ws->blk;
    memset(Hf, 0, d * d * sizeof *Hf);
    const size_t B = 2 * (n < LETHE__HESS_BLOCK ? n : LETHE__HESS_BLOCK);
    for (size_t r0 = 0; r0 < n; r0 += B) {
        size_t rows = n - r0 < B ? n - r0 : B;
        for (size_t k = 0; k < rows; k++) {
            size_t i = r0 + k;
            const double sq = sqrt(ws->z[i]), *xi = obj->x + i * d;
            float *dst = blk + k * d;
            for (size_t j = 0; j < d; j++)
                dst[j] = (float)(sq * xi[j]);
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, di, lethe__blas_int(rows), 1.0f, blk,
                    di, 1.0f, Hf, di);
    }
    unsigned char *bytes = (unsigned char *)H;
    for (size_t k = d * d; k-- > 0;) {
        float f;
        memcpy(&f, bytes + k * sizeof f, sizeof f);
        double v = (double)f;
        memcpy(bytes + k * sizeof v, &v, sizeof v);
    }
    for (size_t i = 0; i < d; i++)
        H[i * d + i] += reg;
}

lethe_status lethe__newton(lethe_ctx *ctx, const lethe_objective *obj, double *w, double tol,
                           unsigned max_iter, double *U, double *s, lethe_optim_ws *ws,
                           double *gnorm, unsigned *iters)
{
    return lethe__newton_from(ctx, obj, w, tol, max_iter, U, s, ws, gnorm, iters, NULL);
}

lethe_status lethe__newton_from(lethe_ctx *ctx, const lethe_objective *obj, double *w,
                                double tol, unsigned max_iter, double *U, double *s,
                                lethe_optim_ws *ws, double *gnorm, unsigned *iters,
                                const double *U_first)
{
    const size_t d = obj->d;
    const int di = lethe__blas_int(d);
    double *g = ws->g, *p = ws->p, *wt = ws->wt;
    double f = lethe__objective_eval(obj, w, g, ws);
    double fmag = ws->fmag;
    double gn = cblas_dnrm2(di, g, 1);
    unsigned it = 0;
    while (!(gn <= tol)) {
        lethe__progress(ctx, "newton", (double)it, 0.0);
        if (it == max_iter || !isfinite(gn)) {
            *gnorm = gn;
            *iters = it;
            return lethe__fail(ctx, LETHE_ENOCONV,
                               "newton: ‖∇L‖ = %.3e > tol %.3e after %u iterations", gn, tol, it);
        }
        /* Far from the optimum a single-precision Hessian steers as well
         * (its relative error, ~1e-6, is far below the step's own); within
         * 10⁶·tol, where Newton's quadratic convergence is wanted, and for
         * the factor kept at the end, the Hessian is summed in double. */
        int f32 = gn > 1e6 * tol && d >= F32_MIN_DIM;
        if (it == 0 && U_first != NULL) {
            memcpy(U, U_first, d * d * sizeof *U);
        } else {
            if (f32)
                lethe__hessian_f32(obj, w, U, ws);
            if (f32 && lethe__chol_factor(U, d) == LETHE_OK) {
                /* factored */
            } else {
                lethe__hessian(obj, w, U, NULL, ws);
                if (lethe__chol_factor(U, d) != LETHE_OK)
                    return lethe__fail(ctx, LETHE_ENOTPD,
                                       "newton: Hessian not positive definite");
            }
        }
        for (size_t j = 0; j < d; j++)
            p[j] = -g[j];
        lethe__chol_solve(U, d, p);
        double slope = cblas_ddot(di, g, 1, p, 1); /* < 0 for an SPD Hessian */
        /* When the predicted decrease is below what f's rounding can resolve
         * (f sums n terms: a relative error of a few dozen u of the terms'
         * magnitudes is ordinary, and with a large b they cancel to a far
         * smaller |f|), the Armijo test compares noise; there the full
         * Newton step is taken (it converges quadratically) and progress is
         * judged on ‖∇L‖. */
        int in_noise = -slope <= 64.0 * 0x1p-53 * (1.0 + fmag);
        int accepted = in_noise;
        /* Backtracking halves t; 2^-60 ≈ 1e-18 of a Newton step is no step.
         * A step that leaves f where it was was decided by rounding, not by
         * a decrease (it may not even move w): the noise regime again. */
        for (double t = 1.0; !accepted && t > 0x1p-60; t *= 0.5) {
            for (size_t j = 0; j < d; j++)
                wt[j] = w[j] + t * p[j];
            double ft = lethe__objective_eval(obj, wt, NULL, ws);
            accepted = ft <= f + 1e-4 * t * slope;
            if (accepted && !(ft < f))
                in_noise = 1;
        }
        if (!accepted) {
            *gnorm = gn;
            *iters = it;
            return lethe__fail(ctx, LETHE_ENOCONV,
                               "newton: the line search found no decrease at ‖∇L‖ = %.3e", gn);
        }
        if (in_noise)
            for (size_t j = 0; j < d; j++)
                wt[j] = w[j] + p[j];
        memcpy(w, wt, d * sizeof *w);
        f = lethe__objective_eval(obj, w, g, ws);
        fmag = ws->fmag;
        double gprev = gn;
        gn = cblas_dnrm2(di, g, 1);
        it++;
        if (in_noise && !(gn < gprev)) {
            *gnorm = gn;
            *iters = it;
            return lethe__fail(ctx, LETHE_ENOCONV,
                               "newton: stalled at ‖∇L‖ = %.3e > tol %.3e", gn, tol);
        }
    }
    lethe__hessian(obj, w, U, s, ws);
    if (lethe__chol_factor(U, d) != LETHE_OK)
        return lethe__fail(ctx, LETHE_ENOTPD, "newton: Hessian not positive definite");
    *gnorm = gn;
    *iters = it;
    return LETHE_OK;
}
