/*
 * The exact residual after a Newton step, and Guo's data-dependent bound on
 * it, in one pass over the remaining data D' (proofs/exact-residual.md,
 * LTH-C-0002; proofs/data-dependent-bound.md, LTH-C-0003).
 *
 *   w⁺ = w + p,  zᵢ⁺ = xᵢᵀw⁺,  aᵢ = xᵢᵀp,  zᵢ = zᵢ⁺ − aᵢ
 *   r   = ∇L_b(w⁺; D') = Σ ℓ'(zᵢ⁺)xᵢ + λn'w⁺ + b
 *   Hp  = Σ ℓ''(zᵢ)aᵢxᵢ + λn'p                     (exact Hessian at w on D')
 *   β   = ‖g + Hp‖ + γ·R·‖X'‖₂·‖p‖·‖X'p‖            (Guo et al. 2020, Thm 2)
 *
 * Each block of LETHE__ROW_BLOCK rows is read from memory once: one dgemm
 * gives [z⁺ a] = X_blk [w⁺ p], and a second, on the block still in cache,
 * accumulates X_blkᵀ [ℓ'(z⁺)  ℓ''(z)a].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

/* IMPLEMENTS: LTH-C-0002 */
/* IMPLEMENTS: LTH-C-0003 */
void lethe__residual_pass(lethe_model *m, const double *b, const double *wnew, const double *p,
                          const double *g, lethe_pass *out)
{
    const size_t d = m->d, n = m->n_rows;
    const int di = lethe__blas_int(d);
    const double reg = m->lambda * (double)m->n_live;
    double *W2 = m->W2, *Z = m->Z, *V = m->V, *acc = m->acc;
    for (size_t j = 0; j < d; j++) {
        W2[2 * j] = wnew[j];
        W2[2 * j + 1] = p[j];
    }
    memset(acc, 0, 2 * d * sizeof *acc);
    double xp2 = 0.0;
    for (size_t r0 = 0; r0 < n; r0 += LETHE__ROW_BLOCK) {
        size_t rows = n - r0 < LETHE__ROW_BLOCK ? n - r0 : LETHE__ROW_BLOCK;
        const int ri = lethe__blas_int(rows);
        const double *xb = m->x + r0 * d;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ri, 2, di, 1.0, xb, di, W2, 2,
                    0.0, Z, 2);
        for (size_t k = 0; k < rows; k++) {
            double d1 = 0.0, d2 = 0.0, a = 0.0;
            if (m->alive[r0 + k] == ROW_LIVE) {
                double zn = Z[2 * k];
                a = Z[2 * k + 1];
                lethe__loss_eval(m->loss, zn, m->y[r0 + k], NULL, &d1, NULL);
                lethe__loss_eval(m->loss, zn - a, m->y[r0 + k], NULL, NULL, &d2);
                xp2 += a * a;
            }
            V[2 * k] = d1;
            V[2 * k + 1] = d2 * a;
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, di, 2, ri, 1.0, xb, di, V, 2, 1.0,
                    acc, 2);
    }
    double *r = m->g2, *hp = m->hp;
    for (size_t j = 0; j < d; j++) {
        r[j] = acc[2 * j] + reg * wnew[j] + b[j];
        hp[j] = g[j] + acc[2 * j + 1] + reg * p[j]; /* g + Hp */
    }
    out->residual = cblas_dnrm2(di, r, 1);
    out->first_order = cblas_dnrm2(di, hp, 1);
    out->xp_norm = sqrt(xp2);
    out->bound = out->first_order +
                 m->k.d2_lip * m->R * m->xnorm * cblas_dnrm2(di, p, 1) * out->xp_norm;
}
