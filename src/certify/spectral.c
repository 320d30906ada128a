/*
 * An upper bound on ‖X‖₂, the largest singular value of the data matrix,
 * which Guo's data-dependent bound needs (proofs/data-dependent-bound.md,
 * LTH-C-0003). Power iteration only bounds it from below; instead:
 *
 *   Ĝ = XᵀX by dsyrk,  λ̂ = λ_max(Ĝ) by dsyev,
 *   ‖X‖₂ ≤ min( √(λ̂ + η)·(1 + 4u),  ‖X‖_F·(1 + (n + d + 4)·u) ),
 *   η = 2(n + 4d)·u·‖X‖_F²,
 *
 * with u = 2⁻⁵³: η covers the rounding of Ĝ (γ_n‖X‖_F², with second-order
 * terms) and the eigensolver's backward error (taken as 4d·u·‖Ĝ‖₂, an assumed
 * constant — see the proof). Valid while (n + 4d)·u ≤ 0.01.
 * Removing rows never increases ‖X‖₂, so the value stays valid for D' ⊂ D.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

/* IMPLEMENTS: LTH-C-0003 */
lethe_status lethe__spectral_bound(lethe_model *m, double *out)
{
    const size_t d = m->d, n = m->n_rows;
    const int di = lethe__blas_int(d);
    double *G = m->U2;
    memset(G, 0, d * d * sizeof *G);
    double fro2 = 0.0;
    for (size_t r0 = 0; r0 < n; r0 += LETHE__HESS_BLOCK) {
        size_t rows = n - r0 < LETHE__HESS_BLOCK ? n - r0 : LETHE__HESS_BLOCK;
        double *blk = m->ws.blk;
        for (size_t k = 0; k < rows; k++) {
            if (m->alive[r0 + k] == ROW_LIVE)
                memcpy(blk + k * d, m->x + (r0 + k) * d, d * sizeof *blk);
            else
                memset(blk + k * d, 0, d * sizeof *blk);
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, di, lethe__blas_int(rows), 1.0, blk,
                    di, 1.0, G, di);
    }
    for (size_t j = 0; j < d; j++)
        fro2 += G[j * d + j]; /* trace(XᵀX) = ‖X‖_F² */
    if (!isfinite(fro2)) /* e.g. one value near 1e308: its square overflows */
        return lethe__fail(m->ctx, LETHE_ENONFINITE,
                           "the data's scale overflows: ‖X‖² is not finite in double precision; "
                           "scale the features down, or bound the rows with a norm policy "
                           "(--norm clip, normalize or require)");
    const double u = 0x1p-53;
    double fro = sqrt(fro2) * (1.0 + ((double)n + (double)d + 4.0) * u);
    /* eigenvalues only */
    double wkopt = 0.0;
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'L', di, G, di, m->v, &wkopt, -1);
    if (info != 0)
        return lethe__fail(m->ctx, LETHE_EBACKEND, "spectral bound: dsyev query failed (%d)",
                           (int)info);
    size_t lwork = (size_t)wkopt;
    double *work = lethe__calloc(m->ctx, lwork, sizeof *work);
    if (!lethe__fits_blas(lwork)) {
        lethe__free(m->ctx, work);
        return lethe__fail(m->ctx, LETHE_ESIZE, "spectral bound: workspace of %zu doubles",
                           lwork);
    }
    if (work == NULL)
        return lethe__fail(m->ctx, LETHE_ENOMEM, "spectral bound: no memory for %zu doubles",
                           lwork);
    info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'N', 'L', di, G, di, m->v, work,
                              lethe__blas_int(lwork));
    lethe__free(m->ctx, work);
    if (info != 0)
        return lethe__fail(m->ctx, LETHE_EBACKEND, "spectral bound: dsyev failed (%d)",
                           (int)info);
    double lmax = m->v[d - 1]; /* ascending order */
    double eta = 2.0 * ((double)n + 4.0 * (double)d) * u * fro2;
    double bound = sqrt(fmax(lmax, 0.0) + eta) * (1.0 + 4.0 * u);
    *out = fmin(bound, fro);
    return LETHE_OK;
}
