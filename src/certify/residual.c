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
 * accumulates X_blkᵀ [ℓ'(z⁺)  ℓ''(z)a]. M3 certifies on r alone and skips
 * the second column (a dot and an axpy per row; β, Hp and ‖X'p‖ are then NaN). The blocks are shared between
 * LETHE__PASS_THREADS threads, each with its own buffers; the partial sums
 * are added in a fixed order, so results are reproducible.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include <cblas.h>

/* One worker's share: the rows [r0, r1), its own buffers. */
typedef struct pass_job {
    const lethe_model *m;
    const double *wnew;  /* contiguous w⁺ (M3's one-column pass) */
    size_t r0, r1;
    double *Z, *V, *acc; /* 2·blk, 2·blk, 2·d */
    double xp2;          /* Σ aᵢ² over the share */
    double s1;           /* Σ |ℓ'(zᵢ⁺)| over the share, for the rounding bound */
} pass_job;

static void *pass_rows(void *arg)
{
    pass_job *job = arg;
    const lethe_model *m = job->m;
    const size_t d = m->d;
    const int di = lethe__blas_int(d);
    double *Z = job->Z, *V = job->V;
    memset(job->acc, 0, 2 * d * sizeof *job->acc);
    double xp2 = 0.0, s1 = 0.0;
    for (size_t r0 = job->r0; r0 < job->r1; r0 += LETHE__ROW_BLOCK) {
        size_t rows = job->r1 - r0 < LETHE__ROW_BLOCK ? job->r1 - r0 : LETHE__ROW_BLOCK;
        const int ri = lethe__blas_int(rows);
        const double *xb = m->x + r0 * d;
        if (m->mech == LETHE_MECH_M3) {
            /* M3 needs r alone, not Guo's bound: one column, fused per row
             * (dot, then axpy on the row still in L1). BLAS-1 calls of
             * length d: unlike a dgemv on the block, OpenBLAS does not
             * thread them, and threaded BLAS inside these workers was
             * measured 20× slower. */
            for (size_t k = 0; k < rows; k++) {
                if (m->alive[r0 + k] != ROW_LIVE)
                    continue;
                const double *xk = xb + k * d;
                double d1 = 0.0;
                lethe__loss_eval(m->loss, cblas_ddot(di, xk, 1, job->wnew, 1), m->y[r0 + k],
                                 NULL, &d1, NULL);
                s1 += fabs(d1);
                cblas_daxpy(di, d1, xk, 1, job->acc, 1); /* M3: acc[0..d) is r's sum */
            }
            continue;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ri, 2, di, 1.0, xb, di, m->W2, 2,
                    0.0, Z, 2);
        for (size_t k = 0; k < rows; k++) {
            double d1 = 0.0, d2 = 0.0, a = 0.0;
            if (m->alive[r0 + k] == ROW_LIVE) {
                double zn = Z[2 * k];
                a = Z[2 * k + 1];
                lethe__loss_eval(m->loss, zn, m->y[r0 + k], NULL, &d1, NULL);
                lethe__loss_eval(m->loss, zn - a, m->y[r0 + k], NULL, NULL, &d2);
                xp2 += a * a;
                s1 += fabs(d1);
            }
            V[2 * k] = d1;
            V[2 * k + 1] = d2 * a;
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, di, 2, ri, 1.0, xb, di, V, 2, 1.0,
                    job->acc, 2);
    }
    job->xp2 = xp2;
    job->s1 = s1;
    return NULL;
}

/* γ_k = k·u/(1 − k·u), Higham's constant for k roundings. */
static double gamma_k(double k)
{
    const double ku = k * 0x1p-53;
    return ku / (1.0 - ku);
}

/* A bound on |r̂ − ‖∇L_b(w⁺; D')‖| for the computed r̂ (proofs/exact-residual.md,
 * (e)): the rounding of zᵢ⁺ through ℓ' (Lipschitz constant d2_max), the sum
 * of n' + 2 terms and the evaluation of ℓ', and the norm; doubled so that
 * the bound's own arithmetic and second-order terms stay covered. */
static double rounding_bound(const lethe_model *m, double r, double s1, double wnorm,
                             double bnorm)
{
    const double n = (double)m->n_live, d = (double)m->d, R = m->R;
    const double reg = m->lambda * n;
    double e = gamma_k(d + 1.0) * r + gamma_k(n + 6.0) * (R * s1 + reg * wnorm + bnorm) +
               n * m->k.d2_max * gamma_k(d) * R * R * wnorm;
    return 2.0 * e;
}

/* IMPLEMENTS: LTH-C-0002 */
/* IMPLEMENTS: LTH-C-0003 */
void lethe__residual_pass(lethe_model *m, const double *b, const double *wnew, const double *p,
                          const double *g, lethe_pass *out)
{
    const size_t d = m->d, n = m->n_rows;
    const int di = lethe__blas_int(d);
    const double reg = m->lambda * (double)m->n_live;
    const size_t blk = n < LETHE__ROW_BLOCK ? n : LETHE__ROW_BLOCK;
    for (size_t j = 0; j < d; j++) {
        m->W2[2 * j] = wnew[j];
        m->W2[2 * j + 1] = p[j];
    }
    /* The pass is bound by memory bandwidth, which one core does not
     * saturate: split the blocks between LETHE__PASS_THREADS workers. */
    pass_job jobs[LETHE__PASS_THREADS];
    size_t blocks = (n + LETHE__ROW_BLOCK - 1) / LETHE__ROW_BLOCK, at = 0;
    size_t nj = blocks < LETHE__PASS_THREADS ? blocks : LETHE__PASS_THREADS;
    for (size_t t = 0; t < nj; t++) {
        size_t share = (blocks * (t + 1) / nj) * LETHE__ROW_BLOCK;
        jobs[t] = (pass_job){ m, wnew, at, share < n ? share : n, m->Z + t * 2 * blk,
                              m->V + t * 2 * blk, m->acc + t * 2 * d, 0.0, 0.0 };
        at = jobs[t].r1;
    }
    pthread_t tid[LETHE__PASS_THREADS];
    int started[LETHE__PASS_THREADS] = { 0 };
    for (size_t t = 1; t < nj; t++)
        started[t] = pthread_create(&tid[t], NULL, pass_rows, &jobs[t]) == 0;
    pass_rows(&jobs[0]);
    for (size_t t = 1; t < nj; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            pass_rows(&jobs[t]); /* no thread to be had: do the share here */
    }
    /* reduce in a fixed order, so the result does not depend on timing */
    double xp2 = 0.0, s1 = 0.0, *acc = m->acc;
    for (size_t t = 0; t < nj; t++) {
        xp2 += jobs[t].xp2;
        s1 += jobs[t].s1;
        if (t > 0)
            cblas_daxpy(lethe__blas_int(2 * d), 1.0, jobs[t].acc, 1, acc, 1);
    }
    double *r = m->g2, *hp = m->hp;
    const int m3 = m->mech == LETHE_MECH_M3;
    for (size_t j = 0; j < d; j++) {
        r[j] = (m3 ? acc[j] : acc[2 * j]) + reg * wnew[j] + b[j];
        hp[j] = m3 ? NAN : g[j] + acc[2 * j + 1] + reg * p[j]; /* g + Hp */
    }
    out->residual = cblas_dnrm2(di, r, 1);
    out->fp_error = rounding_bound(m, out->residual, s1, cblas_dnrm2(di, wnew, 1),
                                   cblas_dnrm2(di, b, 1));
    if (m3) { /* not computed: M3 certifies on r alone */
        out->first_order = out->xp_norm = out->bound = NAN;
        return;
    }
    out->first_order = cblas_dnrm2(di, hp, 1);
    out->xp_norm = sqrt(xp2);
    out->bound = out->first_order +
                 m->k.d2_lip * m->R * m->xnorm * cblas_dnrm2(di, p, 1) * out->xp_norm;
}
