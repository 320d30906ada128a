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

/* fn on each of n ≤ LETHE__PASS_THREADS jobs (size bytes apart), the first on
 * this thread and the others on threads of their own, joined before it
 * returns; a job whose thread cannot be had runs here. */
void lethe__parallel(void *(*fn)(void *), void *jobs, size_t size, size_t n)
{
    pthread_t tid[LETHE__PASS_THREADS];
    int started[LETHE__PASS_THREADS] = { 0 };
    unsigned char *job = jobs;
    for (size_t t = 1; t < n; t++)
        started[t] = pthread_create(&tid[t], NULL, fn, job + t * size) == 0;
    fn(job);
    for (size_t t = 1; t < n; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn(job + t * size);
    }
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
    lethe__parallel(pass_rows, jobs, sizeof jobs[0], nj);
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

/* ─── One pass for the K heads of a one-vs-rest model ───────────────────────
 *
 * Per group of 4 rows: z_rh = x_rᵀw_h for every head (W stored feature-major,
 * d × KP with KP = K rounded up to 4, zero columns beyond K), v_rh = ℓ'(z_rh)
 * (0 for rows not live and for the padding), then S += Σ_r x_r v_rᵀ (S also
 * d × KP). Each row is read from memory once; W and S stay in cache. The
 * kernels do the arithmetic of two dgemms in another order, with fused
 * multiply-adds where the CPU has them: the bounds of
 * proofs/exact-residual.md (e) hold in any summation order. (A K-column dgemm
 * was measured slower: OpenBLAS packs the records for so narrow a product.) */

#define HEADS_ROWS 4

/* z[r·KP + h] = Σ_j x_r[j]·W[j·KP + h], and S[j·KP + h] += Σ_r x_r[j]·v[r·KP + h]:
 * the portable versions. */
static void heads_z_plain(const double *const x[HEADS_ROWS], const double *W, size_t d,
                          size_t KP, double *z)
{
    memset(z, 0, HEADS_ROWS * KP * sizeof *z);
    for (size_t j = 0; j < d; j++)
        for (size_t r = 0; r < HEADS_ROWS; r++) {
            const double xr = x[r][j];
            for (size_t h = 0; h < KP; h++)
                z[r * KP + h] += xr * W[j * KP + h];
        }
}

static void heads_s_plain(const double *const x[HEADS_ROWS], const double *v, size_t d,
                          size_t KP, double *S)
{
    for (size_t j = 0; j < d; j++)
        for (size_t r = 0; r < HEADS_ROWS; r++) {
            const double xr = x[r][j];
            for (size_t h = 0; h < KP; h++)
                S[j * KP + h] += xr * v[r * KP + h];
        }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HEADS_AVX2 1

#define BC(r, j) _mm256_broadcast_sd(x[r] + (j))
#define FMA3(acc0, acc1, acc2, xb) \
    do { \
        __m256d xb_ = (xb); \
        acc0 = _mm256_fmadd_pd(xb_, v0, acc0); \
        acc1 = _mm256_fmadd_pd(xb_, v1, acc1); \
        acc2 = _mm256_fmadd_pd(xb_, v2, acc2); \
    } while (0)

/* AVX2 + FMA. Z: tiles of 4 rows × 12 heads in 12 named accumulators (W's
 * row in v0..v2); the heads beyond a multiple of 12, 4 at a time. */
__attribute__((target("avx2,fma"))) static void heads_z_avx2(const double *const x[HEADS_ROWS],
                                                             const double *W, size_t d,
                                                             size_t KP, double *z)
{
    size_t h0 = 0;
    for (; h0 + 12 <= KP; h0 += 12) {
        __m256d a00 = _mm256_setzero_pd(), a01 = a00, a02 = a00, a10 = a00, a11 = a00,
                a12 = a00, a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        for (size_t j = 0; j < d; j++) {
            const double *wj = W + j * KP + h0;
            const __m256d v0 = _mm256_loadu_pd(wj), v1 = _mm256_loadu_pd(wj + 4),
                          v2 = _mm256_loadu_pd(wj + 8);
            FMA3(a00, a01, a02, BC(0, j));
            FMA3(a10, a11, a12, BC(1, j));
            FMA3(a20, a21, a22, BC(2, j));
            FMA3(a30, a31, a32, BC(3, j));
        }
        double *zt = z + h0;
        _mm256_storeu_pd(zt, a00), _mm256_storeu_pd(zt + 4, a01), _mm256_storeu_pd(zt + 8, a02);
        zt += KP;
        _mm256_storeu_pd(zt, a10), _mm256_storeu_pd(zt + 4, a11), _mm256_storeu_pd(zt + 8, a12);
        zt += KP;
        _mm256_storeu_pd(zt, a20), _mm256_storeu_pd(zt + 4, a21), _mm256_storeu_pd(zt + 8, a22);
        zt += KP;
        _mm256_storeu_pd(zt, a30), _mm256_storeu_pd(zt + 4, a31), _mm256_storeu_pd(zt + 8, a32);
    }
    for (; h0 < KP; h0 += 4) {
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < d; j++) {
            const __m256d v0 = _mm256_loadu_pd(W + j * KP + h0);
            a0 = _mm256_fmadd_pd(BC(0, j), v0, a0);
            a1 = _mm256_fmadd_pd(BC(1, j), v0, a1);
            a2 = _mm256_fmadd_pd(BC(2, j), v0, a2);
            a3 = _mm256_fmadd_pd(BC(3, j), v0, a3);
        }
        _mm256_storeu_pd(z + h0, a0), _mm256_storeu_pd(z + KP + h0, a1);
        _mm256_storeu_pd(z + 2 * KP + h0, a2), _mm256_storeu_pd(z + 3 * KP + h0, a3);
    }
}

/* S: tiles of 4 features × 12 heads, loaded once and updated by all 4 rows
 * (their ℓ' in v0..v2); the heads beyond a multiple of 12, 4 at a time; the
 * features beyond a multiple of 4 by the portable loop. */
__attribute__((target("avx2,fma"))) static void heads_s_avx2(const double *const x[HEADS_ROWS],
                                                             const double *v, size_t d,
                                                             size_t KP, double *S)
{
    const size_t d4 = d / 4 * 4;
    size_t h0 = 0;
    for (; h0 + 12 <= KP; h0 += 12) {
        for (size_t j = 0; j < d4; j += 4) {
            double *s0 = S + j * KP + h0, *s1 = s0 + KP, *s2 = s1 + KP, *s3 = s2 + KP;
            __m256d a00 = _mm256_loadu_pd(s0), a01 = _mm256_loadu_pd(s0 + 4),
                    a02 = _mm256_loadu_pd(s0 + 8), a10 = _mm256_loadu_pd(s1),
                    a11 = _mm256_loadu_pd(s1 + 4), a12 = _mm256_loadu_pd(s1 + 8),
                    a20 = _mm256_loadu_pd(s2), a21 = _mm256_loadu_pd(s2 + 4),
                    a22 = _mm256_loadu_pd(s2 + 8), a30 = _mm256_loadu_pd(s3),
                    a31 = _mm256_loadu_pd(s3 + 4), a32 = _mm256_loadu_pd(s3 + 8);
            for (size_t r = 0; r < HEADS_ROWS; r++) {
                const double *vr = v + r * KP + h0;
                const __m256d v0 = _mm256_loadu_pd(vr), v1 = _mm256_loadu_pd(vr + 4),
                              v2 = _mm256_loadu_pd(vr + 8);
                FMA3(a00, a01, a02, BC(r, j));
                FMA3(a10, a11, a12, BC(r, j + 1));
                FMA3(a20, a21, a22, BC(r, j + 2));
                FMA3(a30, a31, a32, BC(r, j + 3));
            }
            _mm256_storeu_pd(s0, a00), _mm256_storeu_pd(s0 + 4, a01);
            _mm256_storeu_pd(s0 + 8, a02), _mm256_storeu_pd(s1, a10);
            _mm256_storeu_pd(s1 + 4, a11), _mm256_storeu_pd(s1 + 8, a12);
            _mm256_storeu_pd(s2, a20), _mm256_storeu_pd(s2 + 4, a21);
            _mm256_storeu_pd(s2 + 8, a22), _mm256_storeu_pd(s3, a30);
            _mm256_storeu_pd(s3 + 4, a31), _mm256_storeu_pd(s3 + 8, a32);
        }
    }
    for (; h0 < KP; h0 += 4) {
        for (size_t j = 0; j < d4; j += 4) {
            double *s0 = S + j * KP + h0;
            __m256d a0 = _mm256_loadu_pd(s0), a1 = _mm256_loadu_pd(s0 + KP),
                    a2 = _mm256_loadu_pd(s0 + 2 * KP), a3 = _mm256_loadu_pd(s0 + 3 * KP);
            for (size_t r = 0; r < HEADS_ROWS; r++) {
                const __m256d v0 = _mm256_loadu_pd(v + r * KP + h0);
                a0 = _mm256_fmadd_pd(BC(r, j), v0, a0);
                a1 = _mm256_fmadd_pd(BC(r, j + 1), v0, a1);
                a2 = _mm256_fmadd_pd(BC(r, j + 2), v0, a2);
                a3 = _mm256_fmadd_pd(BC(r, j + 3), v0, a3);
            }
            _mm256_storeu_pd(s0, a0), _mm256_storeu_pd(s0 + KP, a1);
            _mm256_storeu_pd(s0 + 2 * KP, a2), _mm256_storeu_pd(s0 + 3 * KP, a3);
        }
    }
    for (size_t j = d4; j < d; j++) /* the last d mod 4 features */
        for (size_t r = 0; r < HEADS_ROWS; r++)
            for (size_t h = 0; h < KP; h++)
                S[j * KP + h] += x[r][j] * v[r * KP + h];
}
#undef FMA3
#undef BC
#endif

typedef struct heads_job {
    const lethe_model *P;
    const double *W, *zero; /* W: d × KP; zero: a row of d zeros for a short group */
    size_t r0, r1, KP;
    int avx2;
    double *S, *s1; /* d × KP and KP: this worker's sums */
} heads_job;

static void *heads_rows(void *arg)
{
    heads_job *job = arg;
    const lethe_model *P = job->P;
    const size_t d = P->d_row, K = P->K, KP = job->KP;
    double z[HEADS_ROWS * 1024];
    memset(job->S, 0, d * KP * sizeof *job->S);
    memset(job->s1, 0, KP * sizeof *job->s1);
    for (size_t r0 = job->r0; r0 < job->r1; r0 += HEADS_ROWS) {
        const double *x[HEADS_ROWS];
        int any = 0;
        for (size_t r = 0; r < HEADS_ROWS; r++) {
            size_t i = r0 + r;
            int live = i < job->r1 && P->alive[i] == ROW_LIVE;
            x[r] = live ? P->x + i * d : job->zero;
            any |= live;
        }
        if (!any)
            continue;
#ifdef HEADS_AVX2
        if (job->avx2)
            heads_z_avx2(x, job->W, d, KP, z);
        else
#endif
            heads_z_plain(x, job->W, d, KP, z);
        /* ℓ' in place; rows not live and the padding get exact zeros, so
         * the sum gets the live rows' terms and no rounding more */
        for (size_t r = 0; r < HEADS_ROWS; r++) {
            size_t i = r0 + r;
            int live = x[r] != job->zero;
            for (size_t h = 0; h < KP; h++) {
                double d1 = 0.0;
                if (live && h < K)
                    lethe__loss_eval(P->loss, z[r * KP + h], P->heads[h]->y[i], NULL, &d1,
                                     NULL);
                job->s1[h] += fabs(d1);
                z[r * KP + h] = d1;
            }
        }
#ifdef HEADS_AVX2
        if (job->avx2)
            heads_s_avx2(x, z, d, KP, job->S);
        else
#endif
            heads_s_plain(x, z, d, KP, job->S);
    }
    return NULL;
}

int lethe__heads_plain = 0;

static int have_avx2(void)
{
#ifdef HEADS_AVX2
    if (lethe__heads_plain)
        return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* IMPLEMENTS: LTH-C-0002 */
/* IMPLEMENTS: LTH-C-0016 */
void lethe__residual_pass_heads(lethe_model *P, lethe_pass *out)
{
    const size_t K = P->K, d = P->d_row, n = P->n_rows, KP = (K + 3) / 4 * 4;
    lethe_ctx *ctx = P->ctx;
    const size_t T = LETHE__PASS_THREADS;
    double *W = K <= 1024 ? lethe__calloc(ctx, d * KP, sizeof *W) : NULL;
    double *S = lethe__calloc(ctx, T * d * KP, sizeof *S);
    double *s1 = lethe__calloc(ctx, T * KP, sizeof *s1);
    double *zero = lethe__calloc(ctx, d, sizeof *zero);
    if (W == NULL || S == NULL || s1 == NULL || zero == NULL) { /* the K passes need no more */
        for (size_t h = 0; h < K; h++) {
            lethe_model *m = P->heads[h];
            lethe__residual_pass(m, m->b, m->w2, m->p, m->v, &out[h]);
        }
    } else {
        for (size_t h = 0; h < K; h++)
            for (size_t j = 0; j < d; j++)
                W[j * KP + h] = P->heads[h]->w2[j];
        /* the rows in T shares of whole groups; sums reduced in a fixed order */
        heads_job jobs[LETHE__PASS_THREADS];
        const size_t groups = (n + HEADS_ROWS - 1) / HEADS_ROWS;
        const int avx2 = have_avx2();
        size_t at = 0;
        for (size_t t = 0; t < T; t++) {
            size_t end = groups * (t + 1) / T * HEADS_ROWS;
            jobs[t] = (heads_job){ P, W, zero, at, end < n ? end : n, KP, avx2,
                                   S + t * d * KP, s1 + t * KP };
            at = jobs[t].r1;
        }
        lethe__parallel(heads_rows, jobs, sizeof jobs[0], T);
        /* plain loops: a daxpy this long would wake OpenBLAS's threads, whose
         * spinning then takes the cores from the next pass */
        for (size_t t = 1; t < T; t++) {
            for (size_t q = 0; q < d * KP; q++)
                S[q] += S[t * d * KP + q];
            for (size_t h = 0; h < KP; h++)
                s1[h] += s1[t * KP + h];
        }
        const int di = lethe__blas_int(d);
        for (size_t h = 0; h < K; h++) {
            lethe_model *m = P->heads[h];
            const double reg = m->lambda * (double)m->n_live;
            for (size_t j = 0; j < d; j++)
                m->g2[j] = S[j * KP + h] + reg * m->w2[j] + m->b[j];
            out[h].residual = cblas_dnrm2(di, m->g2, 1);
            out[h].fp_error = rounding_bound(m, out[h].residual, s1[h],
                                             cblas_dnrm2(di, m->w2, 1), cblas_dnrm2(di, m->b, 1));
            out[h].first_order = out[h].xp_norm = out[h].bound = NAN;
        }
    }
    lethe__free(ctx, zero);
    lethe__free(ctx, s1);
    lethe__free(ctx, S);
    lethe__free(ctx, W);
}
