/*
 * Losses, the regularised objective over a dataset, Newton's method and
 * Cholesky factors with rank-1 update and down-date. Knows nothing of privacy.
 *
 *   L_b(w; D) = Σ_{i alive} ℓ(wᵀxᵢ, yᵢ) + (λ·n_reg/2)‖w‖² + bᵀw
 *
 * n_reg is the number of live rows (sum form, Guo et al. 2020 §3); b may be
 * absent. Derivatives of ℓ are taken with respect to z = wᵀx.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_OPTIM_H
#define LETHE_OPTIM_H

#include "base/base.h"

/* ℓ(z, y), ℓ'(z, y) and ℓ''(z, y) with respect to z; any pointer may be NULL. */
void lethe__loss_eval(lethe_loss loss, double z, double y, double *l, double *d1, double *d2);
/* 1 if y is a valid label for the loss (classifiers: ±1; regression: finite). */
int lethe__loss_label_ok(lethe_loss loss, double y);

/* Rows per block of the removal's residual pass: a block of 64 rows of 784
 * doubles (0.4 MB) stays in L2 between the pass's two products, and is small
 * enough that OpenBLAS does not thread the product inside the pass's own
 * workers (measured on Fashion-MNIST: 32 → 6.0 ms, 64 → 5.2, 128 → 6.2,
 * 256 → 12 ms per pass at n = 12 000). */
#define LETHE__ROW_BLOCK 64
/* Rows per dsyrk call when building a Hessian: larger blocks make the rank-k
 * updates efficient BLAS-3. */
#define LETHE__HESS_BLOCK 512

/* A view of the problem; the optimiser never owns these arrays. */
typedef struct lethe_objective {
    lethe_loss loss;
    size_t n, d;                /* stored rows (live or not), features         */
    const double *x;            /* n×d row-major                               */
    const double *y;            /* n                                           */
    const unsigned char *alive; /* n; row i counts iff alive[i] == 1; NULL: all */
    size_t n_reg;               /* live rows: the regulariser is λ·n_reg       */
    double lambda;
    const double *b;            /* d, or NULL                                  */
} lethe_objective;

/* Workspace for the passes and the solver, allocated once. */
typedef struct lethe_optim_ws {
    size_t n, d;
    double *z;    /* n   */
    double *s;    /* n   */
    double *blk;  /* LETHE__HESS_BLOCK × d */
    double *p;    /* d   */
    double *wt;   /* d   */
    double *g;    /* d   */
    double fmag;  /* Σ|terms| of the last objective_eval: f's rounding scale */
} lethe_optim_ws;

lethe_status lethe__optim_ws_init(lethe_ctx *ctx, lethe_optim_ws *ws, size_t n, size_t d);
void lethe__optim_ws_free(lethe_ctx *ctx, lethe_optim_ws *ws);

/* f = L_b(w), g = ∇L_b(w) (g may be NULL); z := Xw in ws->z, and ws->fmag
 * := the sum of the magnitudes of f's terms (its rounding scale: the terms
 * cancel at the optimum when b is large, so |f| can be far smaller). O(nd). */
double lethe__objective_eval(const lethe_objective *obj, const double *w, double *g,
                             lethe_optim_ws *ws);
/* H := Σ_{alive} ℓ''(wᵀxᵢ)xᵢxᵢᵀ + λ·n_reg·I (upper triangle, row-major d×d),
 * built with dsyrk in row blocks; s (n, may be NULL) receives ℓ''(wᵀxᵢ)
 * (0 for dead rows). O(nd²). */
void lethe__hessian(const lethe_objective *obj, const double *w, double *H, double *s,
                    lethe_optim_ws *ws);

/* The same H summed in single precision (rows scaled and rounded to float,
 * ssyrk), returned in double with λ·n_reg added in double: the whole matrix
 * (both triangles) is overwritten; only the upper one is meaningful. Its
 * entries are within about 1e-6 of H's largest, relative. For Newton's
 * intermediate iterations (d ≥ 256, ‖∇L‖ > 10⁶·tol); never for the factor
 * a solve returns. O(nd²) at single-precision speed. */
void lethe__hessian_f32(const lethe_objective *obj, const double *w, double *H,
                        lethe_optim_ws *ws);

/* Newton's method with Cholesky and Armijo backtracking from w (updated in
 * place) until ‖∇L_b‖ ≤ tol. On LETHE_OK, U holds the Cholesky factor of the
 * Hessian at the final w (upper, row-major: H = UᵀU) and s its ℓ'' values;
 * *gnorm the final ‖∇L_b‖ and *iters the iterations taken.
 * Returns LETHE_OK, LETHE_ENOCONV, LETHE_ENOTPD. Records detail on ctx. */
lethe_status lethe__newton(lethe_ctx *ctx, const lethe_objective *obj, double *w, double tol,
                           unsigned max_iter, double *U, double *s, lethe_optim_ws *ws,
                           double *gnorm, unsigned *iters);
/* The same, with U_first (not NULL) the Cholesky factor of the Hessian at the
 * starting w, computed by the caller (one-vs-rest heads share it at w = 0):
 * the first iteration uses it instead of building its own. */
lethe_status lethe__newton_from(lethe_ctx *ctx, const lethe_objective *obj, double *w,
                                double tol, unsigned max_iter, double *U, double *s,
                                lethe_optim_ws *ws, double *gnorm, unsigned *iters,
                                const double *U_first);

/* Cholesky factor in place: upper triangle of the row-major symmetric A
 * becomes U with A = UᵀU. Returns LETHE_OK or LETHE_ENOTPD. O(d³/3). */
lethe_status lethe__chol_factor(double *A, size_t d);
/* Solve UᵀU x = v in place. O(d²). */
void lethe__chol_solve(const double *U, size_t d, double *v);
/* U := chol(UᵀU + vvᵀ); v is destroyed. O(d²). */
void lethe__chol_update(double *U, size_t d, double *v);
/* U := chol(UᵀU − vvᵀ); v is destroyed. LETHE_ENOTPD (U then undefined) if
 * a new pivot U_kk² is not above floor: 0 for mere definiteness, or μ/2 when
 * the result is known to be ⪰ μI (every pivot² of such a factor is ≥ μ, so a
 * smaller one means rounding has broken the factor). O(d²). */
lethe_status lethe__chol_downdate(double *U, size_t d, double *v, double floor);
/* The same, reading the factor from src and writing the result to dst
 * (upper triangles; src is left as it was), and checking as it goes that
 * every transformed vector stays within vmax2: ‖v^(k)‖² ≤ vmax2 for each k
 * (INFINITY: no check). M2's rounding bound assumes such a bound
 * (A-DOWNDATE, proofs/m2-newton-rounding.md); the check makes it one, at
 * one multiply-add per element. On LETHE_ENOTPD dst is undefined. */
lethe_status lethe__chol_downdate_from(const double *src, double *dst, size_t d, double *v,
                                       double floor, double vmax2);

#endif /* LETHE_OPTIM_H */
