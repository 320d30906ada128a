/*
 * One-vs-rest over K ≥ 3 classes under M3, certified as ONE model
 * (proofs/multiclass.md, LTH-C-0016).
 *
 *   head k: F_k(w) = Σ_{i∈D} ℓ(wᵀxᵢ, y_ik) + (λ|D|/2)‖w‖²,  y_ik = +1 if class(i) = c_k, else −1
 *   model:  F(W) = Σ_k F_k(w_k), W = [w_1 … w_K] ∈ ℝ^{Kd}: λ|D|-strongly convex, its
 *           gradient the concatenation of the heads' and its minimiser theirs
 *   accept  every head's (ρ̂_k + E_k)/(λ|D'|) ≤ Δ_max/√K, so ‖Θ − W*(D')‖ ≤ Δ_max
 *   release (round(Θ/g) + m)·g over all K·d weights at once, σ calibrated for
 *           Δ_max + g√(Kd); with dp_releases the ERM term is 2R√K·sup|ℓ'|/(λ·n_min)
 *
 * The parent holds the records (once), their class labels, Θ and the release
 * and its accountant; each head is an M3 model of d weights that shares the
 * parent's records, ids, alive flags and index, and whose w is a block of
 * Θ. A removal takes every head's steps into scratch first and commits
 * only when all succeeded, so a failed call changes nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"
#include "optim/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

/* Most classes a model may have. */
#define MAX_CLASSES 1024

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The distinct labels of data, sorted, into *classes (allocated); their
 * number in *K. */
static lethe_status distinct_labels(lethe_ctx *ctx, const lethe_dataset *data, double **classes,
                                    size_t *K)
{
    double *c = lethe__calloc(ctx, data->n, sizeof *c);
    if (c == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "multiclass: no memory for %zu labels", data->n);
    memcpy(c, data->y, data->n * sizeof *c);
    qsort(c, data->n, sizeof *c, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < data->n; i++)
        if (k == 0 || cmp_double(&c[i], &c[k - 1]) != 0)
            c[k++] = c[i];
    *classes = c;
    *K = k;
    return LETHE_OK;
}

lethe_status lethe__multi_alloc(lethe_ctx *ctx, size_t n, size_t d, size_t K, lethe_model **out)
{
    size_t nd, Kd;
    if (!lethe__mul_size(n, d, &nd) || !lethe__mul_size(K, d, &Kd) || !lethe__fits_blas(Kd))
        return lethe__fail(ctx, LETHE_ESIZE, "multiclass: %zu classes of %zu×%zu overflow", K,
                           n, d);
    lethe_model *P = lethe__calloc(ctx, 1, sizeof *P);
    if (P == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "multiclass: no memory");
    P->ctx = ctx;
    P->n_rows = n;
    P->d_row = d;
    P->K = K;
    P->d = Kd;
    P->x = lethe__calloc(ctx, nd, sizeof *P->x);
    P->y = lethe__calloc(ctx, n, sizeof *P->y);
    P->ids = lethe__calloc(ctx, n, sizeof *P->ids);
    P->alive = lethe__calloc(ctx, n, 1);
    P->w = lethe__calloc(ctx, Kd, sizeof *P->w);
    P->pub = lethe__calloc(ctx, Kd, sizeof *P->pub);
    P->noise = lethe__calloc(ctx, Kd, sizeof *P->noise);
    P->unpub = lethe__calloc(ctx, n, sizeof *P->unpub);
    P->unpub_cap = n;
    P->heads = lethe__calloc(ctx, K, sizeof *P->heads);
    P->classes = lethe__calloc(ctx, K, sizeof *P->classes);
    if (P->x == NULL || P->y == NULL || P->ids == NULL || P->alive == NULL || P->w == NULL ||
        P->pub == NULL || P->noise == NULL || P->unpub == NULL || P->heads == NULL ||
        P->classes == NULL || lethe__idindex_alloc(ctx, &P->index, n) != LETHE_OK) {
        lethe__model_destroy(P);
        return lethe__fail(ctx, LETHE_ENOMEM, "multiclass: no memory for %zu×%zu", n, d);
    }
    lethe_status st = LETHE_OK;
    for (size_t k = 0; k < K && st == LETHE_OK; k++)
        st = lethe__model_alloc_head(P, k, &P->heads[k]);
    if (st != LETHE_OK) {
        lethe__model_destroy(P);
        return st;
    }
    *out = P;
    return LETHE_OK;
}

void lethe__multi_heads_setup(lethe_model *P)
{
    const double head_max = P->delta_max / sqrt((double)P->K) * (1.0 - 0x1p-50);
    for (size_t k = 0; k < P->K; k++) {
        lethe_model *h = P->heads[k];
        h->mech = LETHE_MECH_M3;
        h->loss = P->loss;
        h->lambda = P->lambda;
        h->epsilon = P->epsilon;
        h->delta = P->delta;
        h->tol = P->tol;
        h->max_iter = P->max_iter;
        h->R = P->R;
        h->xnorm = P->xnorm;
        lethe_loss_get_constants(h->loss, h->R, &h->k);
        h->n_rows = P->n_rows;
        h->n_live = P->n_live;
        h->newton_extra = P->newton_extra;
        h->delta_max = head_max;
        h->index = P->index;
        for (size_t i = 0; i < P->n_rows; i++)
            h->y[i] = P->alive[i] != ROW_LIVE ? 0.0
                      : cmp_double(&P->y[i], &P->classes[k]) == 0 ? 1.0
                                                                   : -1.0;
    }
}

void lethe__multi_compact(lethe_model *P)
{
    const size_t d = P->d_row;
    size_t j = 0;
    for (size_t i = 0; i < P->n_rows; i++) {
        if (P->alive[i] != ROW_LIVE)
            continue;
        if (i != j) {
            memcpy(P->x + j * d, P->x + i * d, d * sizeof *P->x);
            P->y[j] = P->y[i];
            P->ids[j] = P->ids[i];
            P->alive[j] = ROW_LIVE;
            for (size_t k = 0; k < P->K; k++) {
                P->heads[k]->y[j] = P->heads[k]->y[i];
                P->heads[k]->s_f[j] = P->heads[k]->s_f[i];
            }
        }
        j++;
    }
    for (size_t i = j; i < P->n_rows; i++) {
        memset(P->x + i * d, 0, d * sizeof *P->x);
        P->y[i] = 0.0;
        P->ids[i] = 0;
        P->alive[i] = ROW_DEAD;
        for (size_t k = 0; k < P->K; k++)
            P->heads[k]->y[i] = P->heads[k]->s_f[i] = 0.0;
    }
    P->n_rows = j;
    lethe__idindex_build(&P->index, P->ids, j);
    /* the sums over the new row order, as a load will compute them */
    for (size_t k = 0; k < P->K; k++) {
        lethe_model *h = P->heads[k];
        h->n_rows = j;
        h->index = P->index;
        memcpy(h->w2, h->w, d * sizeof *h->w2);
        memset(h->p, 0, d * sizeof *h->p);
        memset(h->v, 0, d * sizeof *h->v);
        lethe_pass pass;
        lethe__residual_pass(h, h->b, h->w2, h->p, h->v, &pass);
        memcpy(h->g, h->g2, d * sizeof *h->g);
        h->residual = pass.residual;
        h->residual_fp = pass.fp_error;
    }
    lethe__multi_combine(P);
}

/* The residual of the concatenated gradient from the heads' ρ_k and E_k,
 * accumulated head by head into sum[2]: ρ = √Σρ_k², and E with
 * ρ + E ≥ √Σ(ρ_k + E_k)² (1 + 2⁻⁴⁰ covers the rounding of the sums for
 * K ≤ 1024, proofs/multiclass.md §2). */
static void combine_add(double sum[2], double rho, double fp)
{
    sum[0] += rho * rho;
    sum[1] += (rho + fp) * (rho + fp);
}

static void combine_end(const double sum[2], double *r, double *e)
{
    *r = sqrt(sum[0]);
    *e = fmax(sqrt(sum[1]) * (1.0 + 0x1p-40) - *r, 0.0);
}

void lethe__multi_combine(lethe_model *P)
{
    double sum[2] = { 0.0, 0.0 };
    for (size_t k = 0; k < P->K; k++)
        combine_add(sum, P->heads[k]->residual, P->heads[k]->residual_fp);
    combine_end(sum, &P->residual, &P->residual_fp);
    P->residual_bound = P->residual + P->residual_fp;
    P->res_max = fmax(P->res_max, P->residual);
}

/* Warm start for the logistic heads (Böhning's bound, 1992): ℓ''(z) ≤ ¼ =
 * ℓ''(0), so H0 = XᵀX/4 + λnI, the Hessian every head has at w = 0 (U0 its
 * factor), is at least every head's Hessian anywhere. The step
 * w ← w − H0⁻¹∇F_k(w) therefore never increases F_k (it minimises a quadratic
 * majorant), and it costs one pass over the records for all K heads (two
 * K-column dgemms) and K solves with U0, against a Hessian (O(nd²)) per head
 * for a Newton step. Run until every head's gradient is below MM_DROP of
 * where it started, or MM_MAX steps: Newton then starts near enough to take
 * full steps (about 4 per head on Fashion-MNIST's features, against 9 to 20
 * from 0). The solver's tolerance and the exact residual pass decide the
 * result, as from any start. Leaves each head's start in its w2; a step
 * whose gradient is not finite sends every head back to 0. */
#define MM_MAX 300
#define MM_DROP 1e-3
void lethe__multi_warm_start(lethe_model *P, const double *U0, lethe_pass *pass)
{
    const size_t K = P->K, d = P->d_row;
    double top0 = 0.0;
    for (size_t h = 0; h < K; h++)
        memset(P->heads[h]->w2, 0, d * sizeof(double));
    for (unsigned it = 0; it < MM_MAX; it++) {
        lethe__progress(P->ctx, "warm start", (double)it, (double)MM_MAX);
        lethe__residual_pass_heads(P, pass); /* ∇F_k(w2_k) in each g2 */
        double top = 0.0;
        int finite = 1;
        for (size_t h = 0; h < K; h++) {
            top = fmax(top, pass[h].residual);
            finite &= isfinite(pass[h].residual);
        }
        if (!finite) {
            for (size_t h = 0; h < K; h++)
                memset(P->heads[h]->w2, 0, d * sizeof(double));
            return;
        }
        if (it == 0)
            top0 = top;
        else if (top <= MM_DROP * top0)
            return;
        for (size_t h = 0; h < K; h++) {
            lethe_model *m = P->heads[h];
            for (size_t j = 0; j < d; j++)
                m->p[j] = -m->g2[j];
            lethe__chol_solve(U0, d, m->p);
            cblas_daxpy(lethe__blas_int(d), 1.0, m->p, 1, m->w2, 1);
        }
    }
}

/* IMPLEMENTS: LTH-C-0016 */
lethe_status lethe__multi_train(lethe_ctx *ctx, const lethe_dataset *data,
                                const lethe_train_options *o, lethe_model **out)
{
    if (o->mechanism != LETHE_MECH_M3)
        return lethe__fail(ctx, LETHE_EINVAL, "multiclass: one-vs-rest needs M3");
    if (!lethe_loss_is_classifier(o->loss))
        return lethe__fail(ctx, LETHE_EINVAL,
                           "multiclass: the %s loss is not a classifier (logistic, "
                           "smooth-hinge)", lethe_loss_name(o->loss));
    if (!(o->lambda > 0.0) || !isfinite(o->lambda))
        return lethe__fail(ctx, LETHE_EINVAL, "λ = %g must be finite and > 0", o->lambda);
    if (data->n < 2)
        return lethe__fail(ctx, LETHE_EEMPTY,
                           "train: one record is not enough to certify a removal");
    double *classes = NULL;
    size_t K = 0;
    lethe_status st = LETHE_OK;
    if (o->classes != NULL || o->n_classes > 0) { /* fixed in advance */
        if (o->classes == NULL || o->n_classes < 3 || o->n_classes > MAX_CLASSES)
            return lethe__fail(ctx, LETHE_EINVAL, "multiclass: %zu classes given; 3 to %d",
                               o->n_classes, MAX_CLASSES);
        classes = lethe__calloc(ctx, o->n_classes, sizeof *classes);
        if (classes == NULL)
            return lethe__fail(ctx, LETHE_ENOMEM, "multiclass: no memory");
        memcpy(classes, o->classes, o->n_classes * sizeof *classes);
        qsort(classes, o->n_classes, sizeof *classes, cmp_double);
        K = o->n_classes;
        for (size_t k = 0; k < K && st == LETHE_OK; k++)
            if (!isfinite(classes[k]) || (k > 0 && cmp_double(&classes[k], &classes[k - 1]) == 0))
                st = lethe__fail(ctx, LETHE_EINVAL, "multiclass: class %g is %s", classes[k],
                                 isfinite(classes[k]) ? "given twice" : "not finite");
        for (size_t i = 0; i < data->n && st == LETHE_OK; i++)
            if (bsearch(&data->y[i], classes, K, sizeof *classes, cmp_double) == NULL)
                st = lethe__fail(ctx, LETHE_ELABEL, "multiclass: label %g of row %zu is none of "
                                                    "the classes", data->y[i], i);
    } else {
        st = distinct_labels(ctx, data, &classes, &K);
    }
    if (st != LETHE_OK) {
        lethe__free(ctx, classes);
        return st;
    }
    /* the solver's stop must sit well inside each head's share of Δ_max */
    const double stop = o->tol * fmax(1.0, o->lambda * (double)data->n);
    if (!(stop <= o->lambda * (double)data->n * o->delta_max / (10.0 * sqrt((double)K)))) {
        lethe__free(ctx, classes);
        return lethe__fail(ctx, LETHE_EINVAL,
                           "tol = %g stops at ‖∇F‖ ≈ %.3g, above a tenth of each head's "
                           "λn·Δ_max/√K = %.3g; lower tol or raise Δ_max", o->tol, stop,
                           o->lambda * (double)data->n * o->delta_max / sqrt((double)K));
    }
    if (K < 3 || K > MAX_CLASSES) {
        lethe__free(ctx, classes);
        return lethe__fail(ctx, LETHE_ELABEL,
                           "multiclass: %zu distinct labels; one-vs-rest needs 3 to %d (two "
                           "classes: a binary model, labels -1/+1)", K, MAX_CLASSES);
    }
    lethe_model *P = NULL;
    st = lethe__multi_alloc(ctx, data->n, data->d, K, &P);
    if (st != LETHE_OK) {
        lethe__free(ctx, classes);
        return st;
    }
    memcpy(P->classes, classes, K * sizeof *classes);
    lethe__free(ctx, classes);
    memcpy(P->x, data->x, data->n * data->d * sizeof *P->x);
    memcpy(P->y, data->y, data->n * sizeof *P->y);
    memcpy(P->ids, data->ids, data->n * sizeof *P->ids);
    memset(P->alive, ROW_LIVE, data->n);
    lethe__idindex_build(&P->index, P->ids, data->n);
    P->mech = LETHE_MECH_M3;
    P->loss = o->loss;
    P->lambda = o->lambda;
    P->epsilon = o->epsilon;
    P->delta = o->delta;
    P->tol = o->tol;
    P->max_iter = o->max_iter;
    P->R = data->R;
    P->n_live = data->n;
    P->rho = NAN;
    P->c = NAN;
    if (lethe_loss_get_constants(P->loss, P->R, &P->k) != LETHE_OK) {
        lethe__model_destroy(P);
        return lethe__fail(ctx, LETHE_ENONFINITE, "train: R = %g is not finite", data->R);
    }
    /* a record's gradient has one term in every head: √K·R·sup|ℓ'| in all */
    P->k.grad_bound = P->k.grad_bound * sqrt((double)K) * (1.0 + 0x1p-50);
    st = lethe__m3_setup(P, o, data->n, data->r_measured); /* σ for K·d weights */
    if (st == LETHE_OK)
        st = lethe__rng_create(o->seed, &P->rng);
    if (st == LETHE_OK) {
        lethe__multi_heads_setup(P);
        st = lethe__spectral_bound(P->heads[0], &P->xnorm);
    }
    /* At w = 0 every head's Hessian Σ ℓ''(0, y_ik)xᵢxᵢᵀ + λnI does not depend
     * on its labels (ℓ''(0, ±1) is ¼ for the logistic loss, 0 for the smooth
     * hinge): one Hessian and factor serve every head, as the logistic
     * heads' majorant in the warm start (lethe__multi_warm_start) or as the smooth
     * hinge heads' first Newton iteration. */
    double *U0 = st == LETHE_OK ? lethe__calloc(ctx, P->d_row * P->d_row, sizeof *U0) : NULL;
    if (st == LETHE_OK && U0 != NULL) {
        lethe_model *h = P->heads[0];
        lethe_objective obj = lethe__model_objective(h, h->b);
        memset(h->w2, 0, h->d * sizeof *h->w2);
        lethe__hessian(&obj, h->w2, U0, NULL, &h->ws);
        if (lethe__chol_factor(U0, h->d) != LETHE_OK) {
            lethe__free(ctx, U0);
            U0 = NULL; /* each head then builds its own */
        }
    }
    /* logistic heads start where the shared majorant's steps take them */
    const int warm = st == LETHE_OK && U0 != NULL && P->loss == LETHE_LOSS_LOGISTIC;
    lethe_pass *pass = warm ? lethe__calloc(ctx, K, sizeof *pass) : NULL;
    if (pass != NULL)
        lethe__multi_warm_start(P, U0, pass);
    for (size_t k = 0; st == LETHE_OK && k < K; k++) {
        lethe_model *h = P->heads[k];
        h->xnorm = P->xnorm;
        lethe__progress(ctx, "training heads", (double)k, (double)K);
        if (pass == NULL)
            memset(h->w2, 0, h->d * sizeof *h->w2);
        /* θ_k into its block of Θ; from 0 the shared factor is the Hessian */
        st = lethe__model_solve_from(h, h->w2, pass == NULL ? U0 : NULL);
    }
    lethe__free(ctx, pass);
    lethe__free(ctx, U0);
    if (st == LETHE_OK) {
        lethe__multi_combine(P);
        P->train_residual = P->residual;
        st = lethe__m3_publish(P, NULL); /* the first release, of all K heads */
    }
    if (st != LETHE_OK) {
        lethe__model_destroy(P);
        return st;
    }
    *out = P;
    return LETHE_OK;
}

/* Every head's first-step preparation (lethe__removal_prepare_fast: g', the
 * down-dates of its factor, the solve), the heads shared between
 * LETHE__PASS_THREADS threads: each head's work is its own, O(d²) and bound
 * by memory, and it is about half of a removal's time on one core. */
typedef struct prep_job {
    lethe_model *P;
    const size_t *rows;
    size_t k, first;
    lethe_removal_path path, *used;
} prep_job;

static void *prepare_some(void *arg)
{
    prep_job *job = arg;
    for (size_t h = job->first; h < job->P->K; h += LETHE__PASS_THREADS)
        job->used[h] = lethe__removal_prepare_fast(job->P->heads[h], job->rows, job->k,
                                                   job->path);
    return NULL;
}

static void prepare_heads(lethe_model *P, const size_t *rows, size_t k,
                          lethe_removal_path path, lethe_removal_path *used)
{
    prep_job jobs[LETHE__PASS_THREADS];
    for (size_t t = 0; t < LETHE__PASS_THREADS; t++)
        jobs[t] = (prep_job){ P, rows, k, t, path, used };
    lethe__parallel(prepare_some, jobs, sizeof jobs[0], LETHE__PASS_THREADS);
}

/* IMPLEMENTS: LTH-C-0016 */
lethe_status lethe__multi_remove(lethe_model *P, const uint64_t *ids, size_t k,
                                 lethe_removal_path path, lethe_removal_report *rep, int commit)
{
    lethe_ctx *ctx = P->ctx;
    size_t *rows = lethe__calloc(ctx, k, sizeof *rows);
    lethe_removal_report *r = lethe__calloc(ctx, P->K, sizeof *r);
    double *drift = lethe__calloc(ctx, P->K, sizeof *drift);
    lethe_pass *pass = lethe__calloc(ctx, P->K, sizeof *pass);
    lethe_removal_path *used = lethe__calloc(ctx, P->K, sizeof *used);
    lethe_status st = rows == NULL || r == NULL || drift == NULL || pass == NULL || used == NULL
                          ? lethe__fail(ctx, LETHE_ENOMEM, "remove: no memory for %zu ids", k)
                          : lethe__removal_mark(P, ids, k, rows);
    const int marked = st == LETHE_OK;
    if (st == LETHE_OK && k >= P->n_live)
        st = lethe__fail(ctx, LETHE_ELAST, "remove: %zu ids would leave none of the %zu records",
                         k, P->n_live);
    if (st == LETHE_OK && commit && P->n_unpub + k > P->unpub_cap)
        st = lethe__fail(ctx, LETHE_ENOMEM, "remove: the unpublished ids exceed their room");
    if (st == LETHE_OK) {
        P->n_live -= k;
        for (size_t h = 0; h < P->K; h++)
            P->heads[h]->n_live -= k;
        /* every head's steps into its scratch; nothing is committed yet:
         * the first steps' Newton solves, one pass for all their residuals,
         * then each head's further steps where its first one missed */
        prepare_heads(P, rows, k, path, used);
        for (size_t h = 0; h < P->K && st == LETHE_OK; h++)
            if (used[h] == LETHE_PATH_EXACT)
                st = lethe__removal_prepare_exact(P->heads[h]);
        if (st == LETHE_OK)
            lethe__residual_pass_heads(P, pass);
        for (size_t h = 0; h < P->K && st == LETHE_OK; h++) {
            st = lethe__removal_finish(P->heads[h], &pass[h], used[h], &r[h]);
            if (st == LETHE_OK)
                st = lethe__m3_continue(P->heads[h], &r[h], &drift[h]);
        }
        if (st != LETHE_OK || !commit) {
            P->n_live += k;
            for (size_t h = 0; h < P->K; h++)
                P->heads[h]->n_live += k;
        }
    }
    lethe_removal_report all;
    memset(&all, 0, sizeof all);
    size_t extra = 0; /* steps beyond one per head */
    if (st == LETHE_OK) {
        int certified = 1;
        double sum[2] = { 0.0, 0.0 };
        all.path = path;
        for (size_t h = 0; h < P->K; h++) {
            combine_add(sum, r[h].residual, r[h].residual_fp);
            certified &= r[h].certified;
            all.steps = r[h].steps > all.steps ? r[h].steps : all.steps; /* the most any took */
            extra += r[h].steps - 1;
            all.reanchors += r[h].reanchors;
            if (r[h].path == LETHE_PATH_EXACT)
                all.path = LETHE_PATH_EXACT;
        }
        const size_t left = commit ? P->n_live : P->n_live - k;
        combine_end(sum, &all.residual, &all.residual_fp);
        all.residual_bound = all.residual + all.residual_fp;
        all.budget = lethe__m3_budget(P, left);
        all.distance = lethe__m3_distance(P, all.residual, all.residual_fp, left);
        /* each head's own test is the one proven (the combined distance's
         * roundings could only make it look closer to Δ_max) */
        all.certified = certified;
    }
    if (st != LETHE_OK || !commit) {
        if (marked)
            for (size_t t = 0; t < k; t++)
                P->alive[rows[t]] = ROW_LIVE;
    } else { /* commit: nothing below can fail */
        for (size_t h = 0; h < P->K; h++)
            lethe__removal_commit(P->heads[h], ids, rows, k, &r[h], drift[h], 0);
        for (size_t t = 0; t < k; t++) {
            size_t i = rows[t];
            memset(P->x + i * P->d_row, 0, P->d_row * sizeof *P->x); /* the bytes leave */
            P->y[i] = 0.0;
            P->alive[i] = ROW_DEAD;
        }
        memcpy(P->unpub + P->n_unpub, ids, k * sizeof *ids);
        P->n_unpub += k;
        P->fresh = 0;
        P->removals += k;
        P->removals_total += k;
        P->reanchors += all.reanchors;
        P->extra_steps += extra;
        lethe__multi_combine(P);
        all.removed = k;
    }
    if (rep != NULL && st == LETHE_OK)
        *rep = all;
    lethe__free(ctx, used);
    lethe__free(ctx, pass);
    lethe__free(ctx, drift);
    lethe__free(ctx, r);
    lethe__free(ctx, rows);
    return st;
}

/* The heads' scores of one row φ (d_row features) under the public Θ. */
static size_t best_class(const lethe_model *P, const double *phi, double *prob)
{
    const int d = lethe__blas_int(P->d_row);
    size_t best = 0;
    double zbest = -INFINITY, sum = 0.0, pbest = 0.0;
    for (size_t k = 0; k < P->K; k++) {
        double z = cblas_ddot(d, phi, 1, P->pub + k * P->d_row, 1);
        double p = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        sum += p;
        if (z > zbest) {
            zbest = z;
            best = k;
            pbest = p;
        }
    }
    /* one-vs-rest: each head's P(class k) normalised over the heads */
    if (prob != NULL)
        *prob = P->loss == LETHE_LOSS_LOGISTIC && sum > 0.0 ? pbest / sum : NAN;
    return best;
}

lethe_status lethe__multi_predict(lethe_model *P, size_t n, const double *phi, size_t ld,
                                  double *label, double *prob)
{
    for (size_t i = 0; i < n; i++) {
        double p = NAN;
        size_t c = best_class(P, phi + i * ld, &p);
        if (label != NULL)
            label[i] = P->classes[c];
        if (prob != NULL)
            prob[i] = p;
    }
    return LETHE_OK;
}

lethe_status lethe__multi_evaluate(lethe_model *P, const lethe_dataset *phi, double *score)
{
    if (phi->d != P->d_row)
        return lethe__fail(P->ctx, LETHE_ESIZE, "evaluate: data has %zu features, model %zu",
                           phi->d, P->d_row);
    double hits = 0.0;
    for (size_t i = 0; i < phi->n; i++) {
        size_t c = best_class(P, phi->x + i * phi->d, NULL);
        hits += cmp_double(&P->classes[c], &phi->y[i]) == 0 ? 1.0 : 0.0;
    }
    *score = hits / (double)phi->n;
    return LETHE_OK;
}

void lethe__multi_budget(const lethe_model *P, lethe_budget *out)
{
    /* a removal passes when every head's does: the fewest of the heads' */
    size_t g = SIZE_MAX, e = SIZE_MAX;
    for (size_t k = 0; k < P->K; k++) {
        size_t gk = lethe__m3_guaranteed(P->heads[k]), ek = lethe__capacity_estimate(P->heads[k]);
        g = gk < g ? gk : g;
        e = ek < e ? ek : e;
    }
    out->capacity_guaranteed = g == SIZE_MAX ? 0 : g;
    out->capacity_estimate = e == SIZE_MAX ? 0 : e;
}
