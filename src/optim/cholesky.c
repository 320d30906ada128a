/*
 * Cholesky factors A = UᵀU (U upper, row-major, so that each row of U is
 * contiguous) with rank-1 update and down-date.
 *
 * Row-major upper U is the same memory as column-major lower L = Uᵀ, so the
 * factorisation calls LAPACK's column-major dpotrf with 'L' directly (the
 * row-major LAPACKE entry points would copy and transpose).
 *
 * Update/down-date (Golub & Van Loan, Matrix Computations, 4th ed., §6.5.4;
 * Stewart's hyperbolic rotations for the down-date): for k = 1…d,
 *   r = √(U_kk² ± v_k²),  c = r/U_kk,  s = v_k/U_kk,  U_kk = r,
 *   U_kj = (U_kj ± s·v_j)/c,  v_j = c·v_j − s·U_kj   (j > k).
 * The new v_j is formed from the *new* U_kj (Chambers' mixed form), the
 * variant Bojańczyk, Brent, Van Dooren and de Hoog (1987) show to be
 * mixed-stable; the direct form from the old U_kj is not. Keep it so:
 * proofs/m2-newton-rounding.md (LTH-C-0011) relies on it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "optim/optim.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

lethe_status lethe__chol_factor(double *A, size_t d)
{
    int di = lethe__blas_int(d);
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', di, A, di);
    return info == 0 ? LETHE_OK : LETHE_ENOTPD;
}

void lethe__chol_solve(const double *U, size_t d, double *v)
{
    int di = lethe__blas_int(d);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, di, U, di, v, 1);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, di, U, di, v, 1);
}

/* One row of the rotation, j in [j0, d): the same operations, in the same
 * order, as the checked loop below (ss = sign·s), without its reduction, so
 * that the compiler may vectorise it; each element's rounding is unchanged
 * (no contraction into fused multiply-adds in ISO C mode). */
__attribute__((optimize("tree-vectorize"), target_clones("avx2", "default"))) static void rank1_row(double *restrict row,
                                                                  double *restrict v,
                                                                  size_t j0, size_t d,
                                                                  double ss, double c, double s)
{
    for (size_t j = j0; j < d; j++) {
        double u = (row[j] + ss * v[j]) / c;
        v[j] = c * v[j] - s * u;
        row[j] = u;
    }
}

/* dst := the updated factor of src (dst may equal src: in place). Reading
 * each row of src once and writing it to dst saves a separate copy when the
 * caller must keep src. */
static lethe_status chol_rank1(const double *src, double *U, size_t d, double *v, double sign,
                               double floor, double vmax2)
{
    for (size_t k = 0; k < d; k++) {
        double *row = U + k * d;
        if (src != U)
            memcpy(row + k, src + k * d + k, (d - k) * sizeof *row);
        double ukk = row[k], vk = v[k];
        double r2 = ukk * ukk + sign * vk * vk;
        if (!(r2 > floor) || !isfinite(r2))
            return LETHE_ENOTPD;
        double r = sqrt(r2);
        double c = r / ukk, s = vk / ukk;
        row[k] = r;
        if (isinf(vmax2)) { /* no check of the tail: the loop vectorises */
            rank1_row(row, v, k + 1, d, sign * s, c, s);
            continue;
        }
        double vv = 0.0; /* ‖v^(k)‖², the transformed vector's tail */
        for (size_t j = k + 1; j < d; j++) {
            double u = (row[j] + sign * s * v[j]) / c;
            v[j] = c * v[j] - s * u;
            row[j] = u;
            vv += v[j] * v[j];
        }
        if (!(vv <= vmax2))
            return LETHE_ENOTPD;
    }
    return LETHE_OK;
}

void lethe__chol_update(double *U, size_t d, double *v)
{
    (void)chol_rank1(U, U, d, v, 1.0, 0.0, INFINITY);
}

lethe_status lethe__chol_downdate(double *U, size_t d, double *v, double floor)
{
    return chol_rank1(U, U, d, v, -1.0, floor, INFINITY);
}

lethe_status lethe__chol_downdate_from(const double *src, double *dst, size_t d, double *v,
                                       double floor, double vmax2)
{
    return chol_rank1(src, dst, d, v, -1.0, floor, vmax2);
}
