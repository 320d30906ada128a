/*
 * Certified training for mechanisms M3 and M1, which share the model:
 *
 *   M3 (m3.c):  θ = argmin_w Σᵢ ℓ(wᵀxᵢ, yᵢ) + (λn/2)‖w‖²        (b = 0), then a release
 *   M1 (Guo et al., ICML 2020, Alg. 1):
 *               b ~ N(0, σ²I_d),   w* = argmin_w Σᵢ ℓ(wᵀxᵢ, yᵢ) + (λn/2)‖w‖² + bᵀw
 *
 * with σ given, or σ = c(δ)·ε'/ε for a residual budget ε' (LTH-C-0001).
 * The model keeps its own copy of the data, the exact gradient at w, the
 * Cholesky factor of the Hessian at w* and an upper bound on ‖X‖₂.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"
#include "optim/dataset.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

void lethe_train_options_init(lethe_train_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, sizeof *opt);
    opt->mechanism = LETHE_MECH_M3;
    opt->loss = LETHE_LOSS_LOGISTIC;
    opt->lambda = 1e-4;
    opt->epsilon = 1.0;
    opt->delta = 1e-5;
    opt->sigma = 0.0;
    opt->budget = 2.0;
    opt->tol = 1e-10;
    opt->max_iter = 100;
    opt->seed = NULL;
    opt->delta_max = 0.03;
    opt->dp_releases = 0;
    opt->dp_min_records = 0;
    opt->epsilon_cap = 0.0;
    opt->newton_extra = 3;
    opt->features.gamma = 1.0; /* RFF's γ, for rows of norm about 1 */
}

static void model_free_buffers(lethe_model *m)
{
    lethe_ctx *ctx = m->ctx;
    if (m->shared) { /* the parent's: not this head's to free */
        m->x = m->w = NULL;
        m->ids = NULL;
        m->alive = NULL;
        memset(&m->index, 0, sizeof m->index);
    }
    for (size_t k = 0; m->heads != NULL && k < m->K; k++)
        lethe__model_destroy(m->heads[k]);
    lethe__free(ctx, m->heads);
    lethe__free(ctx, m->classes);
    m->heads = NULL;
    m->classes = NULL;
    double **bufs[] = { &m->x, &m->y, &m->w, &m->g, &m->U, &m->s_f, &m->U2, &m->s2,
                        &m->w2, &m->g2, &m->p, &m->hp, &m->v, &m->W2, &m->Z, &m->V, &m->acc,
                        &m->pub };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        lethe__free(ctx, *bufs[i]);
        *bufs[i] = NULL;
    }
    lethe__free(ctx, m->ids);
    lethe__free(ctx, m->alive);
    lethe__free(ctx, m->unpub);
    lethe__free(ctx, m->noise);
    m->unpub = NULL;
    m->noise = NULL;
    lethe__idindex_free(ctx, &m->index);
    lethe__optim_ws_free(ctx, &m->ws);
    if (m->b != NULL)
        sodium_free(m->b);
    lethe__rng_free(m->rng);
    m->b = NULL;
    m->rng = NULL;
}

void lethe__model_destroy(lethe_model *m)
{
    if (m == NULL)
        return;
    lethe_ctx *ctx = m->ctx;
    model_free_buffers(m);
    lethe__fmap_free(ctx, &m->fmap);
    lethe__free(ctx, m);
}

void lethe_model_free(lethe_model *m)
{
    lethe__model_destroy(m);
}

/* A model of n rows and d weights; with a parent P, a head that shares P's
 * records, ids, alive flags, index and the k-th d-block of P's w. */
static lethe_status model_alloc(lethe_ctx *ctx, size_t n, size_t d, lethe_model *P, size_t k,
                                lethe_model **out)
{
    size_t nd, dd;
    if (!lethe__mul_size(n, d, &nd) || !lethe__mul_size(d, d, &dd) || n > SIZE_MAX / 4)
        return lethe__fail(ctx, LETHE_ESIZE, "model: %zu×%zu overflows", n, d);
    lethe_model *m = lethe__calloc(ctx, 1, sizeof *m);
    if (m == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "model: no memory");
    m->ctx = ctx;
    m->n_rows = n;
    m->d = d;
    size_t blk = n < LETHE__ROW_BLOCK ? n : LETHE__ROW_BLOCK;
    int index_ok = 1;
    if (P != NULL) {
        m->shared = 1;
        m->x = P->x;
        m->ids = P->ids;
        m->alive = P->alive;
        m->index = P->index;
        m->w = P->w + k * d;
    } else {
        m->x = lethe__calloc(ctx, nd, sizeof(double));
        m->ids = lethe__calloc(ctx, n, sizeof(uint64_t));
        m->alive = lethe__calloc(ctx, n, 1);
        m->w = lethe__calloc(ctx, d, sizeof(double));
        index_ok = lethe__idindex_alloc(ctx, &m->index, n) == LETHE_OK;
    }
    m->y = lethe__calloc(ctx, n, sizeof(double));
    m->g = lethe__calloc(ctx, d, sizeof(double));
    m->U = lethe__calloc(ctx, dd, sizeof(double));
    m->s_f = lethe__calloc(ctx, n, sizeof(double));
    m->U2 = lethe__calloc(ctx, dd, sizeof(double));
    m->s2 = lethe__calloc(ctx, n, sizeof(double));
    m->w2 = lethe__calloc(ctx, d, sizeof(double));
    m->g2 = lethe__calloc(ctx, d, sizeof(double));
    m->p = lethe__calloc(ctx, d, sizeof(double));
    m->hp = lethe__calloc(ctx, d, sizeof(double));
    m->v = lethe__calloc(ctx, d, sizeof(double));
    m->W2 = lethe__calloc(ctx, 2 * d, sizeof(double));
    m->Z = lethe__calloc(ctx, LETHE__PASS_THREADS * 2 * blk, sizeof(double));
    m->V = lethe__calloc(ctx, LETHE__PASS_THREADS * 2 * blk, sizeof(double));
    m->acc = lethe__calloc(ctx, LETHE__PASS_THREADS * 2 * d, sizeof(double));
    m->pub = lethe__calloc(ctx, d, sizeof(double));
    m->noise = lethe__calloc(ctx, d, sizeof(int64_t));
    m->unpub = lethe__calloc(ctx, n, sizeof(uint64_t));
    m->unpub_cap = n;
    m->b = sodium_malloc(d * sizeof(double));
    if (m->b != NULL)
        memset(m->b, 0, d * sizeof(double)); /* M3's b stays 0 */
    if (m->pub == NULL || m->noise == NULL || m->unpub == NULL || m->x == NULL || m->y == NULL || m->ids == NULL || m->alive == NULL ||
        !index_ok || m->w == NULL || m->g == NULL || m->U == NULL ||
        m->s_f == NULL || m->U2 == NULL || m->s2 == NULL || m->w2 == NULL || m->g2 == NULL ||
        m->p == NULL || m->hp == NULL || m->v == NULL || m->W2 == NULL || m->Z == NULL ||
        m->V == NULL || m->acc == NULL || m->b == NULL ||
        lethe__optim_ws_init(ctx, &m->ws, n, d) != LETHE_OK) {
        lethe_model_free(m);
        return lethe__fail(ctx, LETHE_ENOMEM, "model: no memory for %zu×%zu", n, d);
    }
    *out = m;
    return LETHE_OK;
}

lethe_status lethe__model_alloc(lethe_ctx *ctx, size_t n, size_t d, lethe_model **out)
{
    return model_alloc(ctx, n, d, NULL, 0, out);
}

lethe_status lethe__model_alloc_head(lethe_model *P, size_t k, lethe_model **out)
{
    return model_alloc(P->ctx, P->n_rows, P->d_row, P, k, out);
}

void lethe__model_index(lethe_model *m)
{
    lethe__idindex_build(&m->index, m->ids, m->n_rows);
}

size_t lethe__model_find(const lethe_model *m, uint64_t id)
{
    return lethe__idindex_find(&m->index, id);
}

lethe_objective lethe__model_objective(const lethe_model *m, const double *b)
{
    lethe_objective o = { .loss = m->loss, .n = m->n_rows, .d = m->d, .x = m->x, .y = m->y,
                          .alive = m->alive, .n_reg = m->n_live, .lambda = m->lambda, .b = b };
    return o;
}

static lethe_status check_options(lethe_ctx *ctx, const lethe_train_options *o)
{
    if ((unsigned)o->loss >= LETHE_LOSS_COUNT)
        return lethe__fail(ctx, LETHE_EINVAL, "unknown loss %d", (int)o->loss);
    if ((unsigned)o->loss > LETHE_LOSS_SQUARED)
        return lethe__fail(ctx, LETHE_EINVAL,
                           "guo supports the logistic and squared losses only: its bounds "
                           "need a Lipschitz ℓ'', and the %s loss's jumps (use M3)",
                           lethe_loss_name(o->loss));
    if (!(o->lambda > 0.0) || !isfinite(o->lambda))
        return lethe__fail(ctx, LETHE_EINVAL, "λ = %g must be finite and > 0", o->lambda);
    /* c(δ) = √(2 ln(1.5/δ)) is proven for ε ≤ 1 only (proofs/certificate.md, C1). */
    if (!(o->epsilon > 0.0 && o->epsilon <= 1.0))
        return lethe__fail(ctx, LETHE_EINVAL,
                           "ε = %g must lie in (0, 1]: the calibration c(δ) is proven "
                           "for ε ≤ 1 only", o->epsilon);
    if (!(o->delta > 0.0 && o->delta < 1.0))
        return lethe__fail(ctx, LETHE_EINVAL, "δ = %g must lie in (0, 1)", o->delta);
    if (!(o->sigma >= 0.0) || !isfinite(o->sigma))
        return lethe__fail(ctx, LETHE_EINVAL, "σ = %g must be finite and ≥ 0", o->sigma);
    if (lethe__is_zero(o->sigma) && (!(o->budget > 0.0) || !isfinite(o->budget)))
        return lethe__fail(ctx, LETHE_EINVAL, "budget ε' = %g must be finite and > 0",
                           o->budget);
    if (!(o->tol > 0.0) || !isfinite(o->tol))
        return lethe__fail(ctx, LETHE_EINVAL, "tol = %g must be finite and > 0", o->tol);
    if (o->max_iter == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "max_iter must be ≥ 1");
    return LETHE_OK;
}

/* Validate the options for n records of d features and derive σ (given, or
 * c(δ)·ε'/ε rounded up) and the budget ε' = σε/c(δ) rounded down. The
 * solver's stopping threshold tol·max(1, λn, ‖b‖), with ‖b‖ ≤ σ(√d + 6) but
 * with probability e^{-18}, must sit well inside the budget: a training
 * residual over it would be a b-dependent failure (proofs/certificate.md, L2). */
lethe_status lethe__model_params(lethe_ctx *ctx, const lethe_train_options *o, size_t n,
                                 size_t d, double *sigma, double *budget)
{
    lethe_status st = check_options(ctx, o);
    if (st != LETHE_OK)
        return st;
    double c = lethe__m1_c(o->delta, d);
    double s = lethe__is_zero(o->sigma) ? nextafter(c * o->budget / o->epsilon, INFINITY)
                                        : o->sigma;
    double b = lethe__budget_from_sigma(s, o->epsilon, o->delta, d);
    double threshold = o->tol * fmax(fmax(1.0, o->lambda * (double)n),
                                     s * (sqrt((double)d) + 6.0));
    if (!(b > 0.0) || !(threshold <= b / 10.0))
        return lethe__fail(ctx, LETHE_EINVAL,
                           "tol = %g stops at ‖∇L‖ ≈ %.3g, above a tenth of the budget %.3g; "
                           "lower tol", o->tol, threshold, b);
    *sigma = s;
    *budget = b;
    return LETHE_OK;
}

/* Solve from the current m->w with the noise in bnew; on success the factor,
 * s, w (in w2) and the exact gradient are in scratch. Nothing is committed. */
static lethe_status solve_from(lethe_model *m, const double *bnew, const double *w0,
                               double *gnorm, const double *U_first)
{
    lethe_objective obj = lethe__model_objective(m, bnew);
    /* The gradient sums terms as large as ‖b‖ and λn‖w‖ that cancel at the
     * optimum: its rounding floor grows with them, so the tolerance does. */
    double scale = fmax(fmax(1.0, m->lambda * (double)m->n_live),
                        cblas_dnrm2(lethe__blas_int(m->d), bnew, 1));
    double tol = m->tol * scale;
    unsigned iters = 0;
    if (w0 != m->w2)
        memcpy(m->w2, w0, m->d * sizeof *m->w2);
    return lethe__newton_from(m->ctx, &obj, m->w2, tol, m->max_iter, m->U2, m->s2, &m->ws,
                              gnorm, &iters, U_first);
}

static lethe_status solve(lethe_model *m, const double *bnew, const double *w0, double *gnorm)
{
    return solve_from(m, bnew, w0, gnorm, NULL);
}

/* After a solve: exact residual at w2 with the given b, by the same pass the
 * removals use (p = 0), so every residual the accountant sees is computed one
 * way. Leaves ∇L_b(w2; D) in g2. */
static lethe_pass exact_residual(lethe_model *m, const double *bnew)
{
    memset(m->p, 0, m->d * sizeof *m->p);
    memset(m->v, 0, m->d * sizeof *m->v);
    lethe_pass pass;
    lethe__residual_pass(m, bnew, m->w2, m->p, m->v, &pass);
    return pass;
}

/* Estimate ρ, the residual one removal adds, by a dry run removing the live
 * row whose loss gradient is largest (used until real removals are seen). */
static void estimate_rho(lethe_model *m)
{
    size_t best = SIZE_MAX;
    double bestv = -1.0;
    const int di = lethe__blas_int(m->d);
    for (size_t i = 0; i < m->n_rows; i++) {
        if (m->alive[i] != ROW_LIVE)
            continue;
        double z = cblas_ddot(di, m->x + i * m->d, 1, m->w, 1), d1 = 0.0;
        lethe__loss_eval(m->loss, z, m->y[i], NULL, &d1, NULL);
        double v = fabs(d1) * cblas_dnrm2(di, m->x + i * m->d, 1);
        if (v > bestv) {
            bestv = v;
            best = i;
        }
    }
    m->rho = NAN;
    if (best == SIZE_MAX || m->n_live < 2)
        return;
    lethe_removal_report rep;
    m->alive[best] = ROW_PENDING;
    m->n_live--;
    lethe_status st = lethe__removal_step(m, &best, 1, LETHE_PATH_FAST, &rep);
    m->n_live++;
    m->alive[best] = ROW_LIVE;
    if (st == LETHE_OK)
        m->rho = fmax(rep.residual - m->residual, 0.0); /* the jump one removal causes */
    lethe__clear(m->ctx); /* a failed estimate is not the caller's error */
}

/* b := m·g, the lattice noise of σ (LTH-C-0010), every coordinate drawn
 * before b is touched. LETHE_ENOMEM or LETHE_EINVAL (σ out of range). */
static lethe_status draw_b(lethe_model *m, double *b)
{
    lethe_lattice lat;
    if (lethe__lattice_params(m->sigma, &lat) != LETHE_OK)
        return LETHE_EINVAL;
    int64_t *z = lethe__calloc(m->ctx, m->d, sizeof *z);
    if (z == NULL)
        return LETHE_ENOMEM;
    lethe__lattice_draw(&lat, m->rng, z, m->d);
    memset(b, 0, m->d * sizeof *b);
    lethe_status st = lethe__lattice_release(&lat, b, z, b, m->d); /* 0 + m·g */
    sodium_memzero(z, m->d * sizeof *z);
    lethe__free(m->ctx, z);
    return st;
}

/* Commit a solve: w2, g2, U2 and s2 (the Hessian at w2) become the model's,
 * with the charged residual r + fp; counts since training or refresh reset. */
static void adopt_solution(lethe_model *m, double r, double fp)
{
    memcpy(m->w, m->w2, m->d * sizeof *m->w);
    memcpy(m->g, m->g2, m->d * sizeof *m->g);
    double *t = m->U;
    m->U = m->U2;
    m->U2 = t;
    t = m->s_f;
    m->s_f = m->s2;
    m->s2 = t;
    m->n_f = m->n_live;
    m->residual = m->train_residual = m->res_max = r;
    m->residual_fp = fp;
    m->residual_bound = r + fp;
    m->removals = 0;
    m->drift = 0.0; /* the factor is the Hessian at w */
    estimate_rho(m);
}

lethe_status lethe__model_solve(lethe_model *m, const double *w0)
{
    return lethe__model_solve_from(m, w0, NULL);
}

lethe_status lethe__model_solve_from(lethe_model *m, const double *w0, const double *U_first)
{
    double gnorm = 0.0;
    lethe_status st = solve_from(m, m->b, w0, &gnorm, U_first);
    if (st != LETHE_OK)
        return st;
    lethe_pass pass = exact_residual(m, m->b);
    double r = pass.residual;
    if (!(r + pass.fp_error <= lethe__budget_at(m, m->n_live)))
        return lethe__fail(m->ctx, LETHE_ENOCONV,
                           "train: training residual %.3e exceeds the budget %.3e; lower tol", r,
                           lethe__budget_at(m, m->n_live));
    adopt_solution(m, r, pass.fp_error); /* commit: cannot fail */
    return LETHE_OK;
}

/* Train the head on data (the records as the model keeps them). */
static lethe_status train_head(lethe_ctx *ctx, const lethe_dataset *data,
                               const lethe_train_options *opt, lethe_model **out)
{
    if (opt->mechanism != LETHE_MECH_M3 && opt->mechanism != LETHE_MECH_M1)
        return lethe__fail(ctx, LETHE_EINVAL,
                           "train: mechanism %d is not M3 (3) or M1 (1); M2 has lethe_m2_train",
                           (int)opt->mechanism);
    const int m3 = opt->mechanism == LETHE_MECH_M3;
    if (m3 && ((unsigned)opt->loss >= LETHE_LOSS_COUNT || !(opt->lambda > 0.0) ||
               !isfinite(opt->lambda)))
        return lethe__fail(ctx, LETHE_EINVAL, "train: unknown loss %d or λ = %g not finite and > 0",
                           (int)opt->loss, opt->lambda);
    double sigma = 0.0, budget = 0.0;
    lethe_status st = m3 ? LETHE_OK
                         : lethe__model_params(ctx, opt, data->n, data->d, &sigma, &budget);
    if (st != LETHE_OK)
        return st;
    if (data->n < 2)
        return lethe__fail(ctx, LETHE_EEMPTY,
                           "train: one record is not enough to certify a removal (a removal "
                           "must leave at least one)");
    for (size_t i = 0; i < data->n; i++)
        if (!lethe__loss_label_ok(opt->loss, data->y[i]))
            return lethe__fail(ctx, LETHE_ELABEL, "train: label %g of row %zu is not ±1",
                               data->y[i], i);
    lethe_model *m = NULL;
    st = lethe__model_alloc(ctx, data->n, data->d, &m);
    if (st != LETHE_OK)
        return st;
    m->mech = opt->mechanism;
    m->loss = opt->loss;
    m->lambda = opt->lambda;
    m->epsilon = opt->epsilon;
    m->delta = opt->delta;
    m->c = lethe__m1_c(opt->delta, data->d);
    m->tol = opt->tol;
    m->max_iter = opt->max_iter;
    m->sigma = sigma;
    m->budget = budget;
    m->R = data->R;
    if (lethe_loss_get_constants(m->loss, m->R, &m->k) != LETHE_OK) {
        lethe_model_free(m);
        return lethe__fail(ctx, LETHE_ENONFINITE, "train: the norm bound R = %g is not finite",
                           data->R);
    }
    m->n_live = data->n;
    if (m3) {
        st = lethe__m3_setup(m, opt, data->n, data->r_measured);
        if (st != LETHE_OK) {
            lethe_model_free(m);
            return st;
        }
    }
    /* M1: the noise first, before any pass over the data (LTH-C-0010,
     * timing). M3 draws its noise only for a release, after θ is fixed. */
    st = lethe__rng_create(opt->seed, &m->rng);
    if (st == LETHE_OK && !m3)
        st = draw_b(m, m->b);
    if (st != LETHE_OK) {
        lethe_model_free(m);
        return lethe__fail(ctx, st, "train: no memory for the noise");
    }
    memcpy(m->x, data->x, data->n * data->d * sizeof *m->x);
    memcpy(m->y, data->y, data->n * sizeof *m->y);
    memcpy(m->ids, data->ids, data->n * sizeof *m->ids);
    memset(m->alive, ROW_LIVE, data->n);
    lethe__model_index(m);
    lethe__progress(ctx, "spectral bound", 0.0, 2.0);
    st = lethe__spectral_bound(m, &m->xnorm);
    if (st == LETHE_OK) {
        lethe__progress(ctx, "training", 1.0, 2.0);
        memset(m->w2, 0, m->d * sizeof *m->w2);
        st = lethe__model_solve(m, m->w2);
    }
    if (st == LETHE_OK && m3)
        st = lethe__m3_publish(m, NULL); /* the first release */
    if (st != LETHE_OK) {
        lethe_model_free(m);
        return st;
    }
    *out = m;
    return LETHE_OK;
}

lethe_status lethe_model_train(lethe_ctx *ctx, const lethe_dataset *data,
                               const lethe_train_options *opt, lethe_model **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (data == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "train: data, opt and out must not be NULL");
    *out = NULL;
    lethe_status (*const fit)(lethe_ctx *, const lethe_dataset *, const lethe_train_options *,
                              lethe_model **) = opt->multiclass ? lethe__multi_train : train_head;
    if (opt->multiclass != 0 && opt->multiclass != 1)
        return lethe__fail(ctx, LETHE_EINVAL, "train: multiclass must be 0 or 1");
    if (!lethe__features_active(&opt->features))
        return fit(ctx, data, opt, out);
    /* the map's public seed: given, or derived from a test run's seed, or
     * fresh from the CSPRNG; it is recorded with the model either way */
    lethe_feature_map p = opt->features;
    static const unsigned char zero[32];
    if (sodium_memcmp(p.seed, zero, sizeof zero) == 0) {
        if (opt->seed != NULL)
            crypto_generichash(p.seed, sizeof p.seed, (const unsigned char *)"lethe features",
                               14, opt->seed, 32);
        else
            randombytes_buf(p.seed, sizeof p.seed);
    }
    lethe_fmap f;
    lethe_status st = lethe__fmap_init(ctx, &p, data->d, &f);
    if (st != LETHE_OK)
        return st;
    lethe__progress(ctx, "feature map", 0.0, 1.0);
    lethe_dataset *mapped = NULL;
    st = lethe__fmap_dataset(ctx, &f, data, &mapped);
    if (st == LETHE_OK)
        st = fit(ctx, mapped, opt, out);
    lethe_dataset_free(mapped);
    if (st != LETHE_OK) {
        lethe__fmap_free(ctx, &f);
        return st;
    }
    (*out)->mapped = 1;
    (*out)->fmap = f;
    return LETHE_OK;
}

/* φ(x) of n rows for a mapped model, in a new array (n × d); NULL after a
 * failure (reported). */
static double *map_rows(lethe_model *m, size_t n, const double *x, size_t ldx)
{
    if (ldx < m->fmap.d_in) {
        lethe__fail(m->ctx, LETHE_ESIZE, "predict: leading dimension %zu < %zu features", ldx,
                    m->fmap.d_in);
        return NULL;
    }
    size_t cells;
    double *out = NULL;
    if (lethe__mul_size(n, m->fmap.d_out, &cells))
        out = lethe__calloc(m->ctx, cells, sizeof *out);
    if (out == NULL) {
        lethe__fail(m->ctx, LETHE_ENOMEM, "predict: no memory for φ of %zu rows", n);
        return NULL;
    }
    if (lethe__fmap_apply(m->ctx, &m->fmap, n, x, ldx, out) != LETHE_OK) {
        lethe__free(m->ctx, out);
        return NULL;
    }
    return out;
}

/* Move the live rows to the front, erase the rest, rebuild the index. */
void lethe__model_compact(lethe_model *m)
{
    size_t j = 0;
    const size_t d = m->d;
    for (size_t i = 0; i < m->n_rows; i++) {
        if (m->alive[i] != ROW_LIVE)
            continue;
        if (i != j) {
            memcpy(m->x + j * d, m->x + i * d, d * sizeof *m->x);
            m->y[j] = m->y[i];
            m->ids[j] = m->ids[i];
            m->s_f[j] = m->s_f[i];
            m->alive[j] = ROW_LIVE;
        }
        j++;
    }
    for (size_t i = j; i < m->n_rows; i++) {
        memset(m->x + i * d, 0, d * sizeof *m->x);
        m->y[i] = 0.0;
        m->ids[i] = 0;
        m->s_f[i] = 0.0;
        m->alive[i] = ROW_DEAD;
    }
    m->n_rows = j;
    lethe__model_index(m);
}

/* M3's refresh of a one-vs-rest model: every head solved again on the
 * records left into its scratch, then, only if all succeeded, committed;
 * the shared records compacted once. */
static lethe_status refresh_heads(lethe_model *P)
{
    lethe_status st = LETHE_OK;
    double *res = lethe__calloc(P->ctx, 2 * P->K, sizeof *res); /* ρ_k, E_k */
    if (res == NULL)
        return lethe__fail(P->ctx, LETHE_ENOMEM, "refresh: no memory");
    for (size_t k = 0; k < P->K && st == LETHE_OK; k++) {
        lethe_model *h = P->heads[k];
        double gnorm = 0.0;
        st = solve(h, h->b, h->w, &gnorm);
        lethe_pass pass = { NAN, NAN, NAN, NAN, NAN };
        if (st == LETHE_OK)
            pass = exact_residual(h, h->b);
        if (st == LETHE_OK && !(pass.residual + pass.fp_error <= lethe__budget_at(h, h->n_live)))
            st = lethe__fail(P->ctx, LETHE_ENOCONV, "refresh: head %zu's residual %.3e exceeds "
                                                    "its budget", k, pass.residual);
        res[2 * k] = pass.residual;
        res[2 * k + 1] = pass.fp_error;
    }
    if (st != LETHE_OK) {
        lethe__free(P->ctx, res);
        return st; /* only the heads' scratch was written */
    }
    for (size_t k = 0; k < P->K; k++)
        adopt_solution(P->heads[k], res[2 * k], res[2 * k + 1]);
    lethe__free(P->ctx, res);
    lethe__multi_compact(P);
    P->train_residual = P->residual;
    P->removals = 0;
    P->refreshes++;
    P->fresh = 0; /* Θ moved: the last release is of an older Θ */
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0006 */
lethe_status lethe_model_refresh(lethe_model *m)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (m->K > 0)
        return refresh_heads(m);
    /* A fresh b from the model's own source; the old one is kept until commit. */
    double *bnew = sodium_malloc(m->d * sizeof *bnew);
    if (bnew == NULL)
        return lethe__fail(m->ctx, LETHE_ENOMEM, "refresh: no memory for b");
    uint64_t pos = lethe__rng_position(m->rng);
    lethe_status st = LETHE_OK;
    if (m->mech == LETHE_MECH_M3)
        memset(bnew, 0, m->d * sizeof *bnew); /* M3: no noise in the objective */
    else
        st = draw_b(m, bnew);
    if (st != LETHE_OK) {
        sodium_free(bnew);
        lethe__rng_seek(m->rng, pos);
        return lethe__fail(m->ctx, st, "refresh: no memory for b");
    }
    double gnorm = 0.0;
    st = solve(m, bnew, m->w, &gnorm);
    lethe_pass pass = { NAN, NAN, NAN, NAN, NAN };
    if (st == LETHE_OK)
        pass = exact_residual(m, bnew);
    double r = pass.residual;
    if (st == LETHE_OK && !(r + pass.fp_error <= lethe__budget_at(m, m->n_live)))
        st = lethe__fail(m->ctx, LETHE_ENOCONV, "refresh: residual %.3e exceeds the budget", r);
    if (st != LETHE_OK) {
        sodium_free(bnew);
        lethe__rng_seek(m->rng, pos); /* a failed call changes nothing */
        return st;
    }
    sodium_free(m->b);
    m->b = bnew;
    adopt_solution(m, r, pass.fp_error);
    lethe__model_compact(m);
    m->refreshes++;
    if (m->mech == LETHE_MECH_M3)
        m->fresh = 0; /* θ moved: the last release is of an older θ */
    return LETHE_OK;
}

size_t lethe_model_dim(const lethe_model *m) { return m == NULL ? 0 : m->d; }

size_t lethe_model_input_dim(const lethe_model *m)
{
    return m == NULL ? 0 : m->mapped ? m->fmap.d_in : m->K > 0 ? m->d_row : m->d;
}

size_t lethe_model_classes(const lethe_model *m, const double **classes)
{
    if (classes != NULL)
        *classes = m == NULL || m->K == 0 ? NULL : m->classes;
    return m == NULL ? 0 : m->K > 0 ? m->K : 1;
}

const lethe_feature_map *lethe_model_features(const lethe_model *m)
{
    return m == NULL ? NULL : &m->fmap.p;
}
lethe_loss lethe_model_loss(const lethe_model *m) { return m == NULL ? LETHE_LOSS_LOGISTIC : m->loss; }
/* The public weights: M3's last release, never θ. */
static const double *public_weights(const lethe_model *m)
{
    return m->mech == LETHE_MECH_M3 ? m->pub : m->w;
}

const double *lethe_model_weights(const lethe_model *m)
{
    return m == NULL ? NULL : public_weights(m);
}
size_t lethe_model_rows(const lethe_model *m) { return m == NULL ? 0 : m->n_live; }

int lethe_model_has_id(const lethe_model *m, uint64_t id)
{
    if (m == NULL)
        return 0;
    size_t i = lethe__model_find(m, id);
    return i != SIZE_MAX && m->alive[i] == ROW_LIVE;
}

lethe_status lethe__predict(lethe_ctx *ctx, lethe_loss loss, const double *w, size_t d,
                            size_t n, const double *x, size_t ldx, double *label, double *prob)
{
    if (x == NULL || n == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "predict: no rows");
    if (ldx < d)
        return lethe__fail(ctx, LETHE_ESIZE, "predict: leading dimension %zu < d = %zu", ldx, d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[i * ldx + j]))
                return lethe__fail(ctx, LETHE_ENONFINITE, "predict: x[%zu][%zu] is %g", i, j,
                                   x[i * ldx + j]);
    const int di = lethe__blas_int(d);
    for (size_t i = 0; i < n; i++) {
        double z = cblas_ddot(di, x + i * ldx, 1, w, 1);
        if (lethe_loss_is_classifier(loss)) {
            if (label != NULL)
                label[i] = z >= 0.0 ? 1.0 : -1.0;
            if (prob != NULL && loss == LETHE_LOSS_LOGISTIC)
                prob[i] = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
            else if (prob != NULL) /* a margin loss gives no probability */
                prob[i] = NAN;
        } else {
            if (label != NULL)
                label[i] = z;
            if (prob != NULL)
                prob[i] = NAN;
        }
    }
    return LETHE_OK;
}

lethe_status lethe_model_predict(lethe_model *m, size_t n, const double *x, size_t ldx,
                                 double *label, double *prob)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if ((!m->mapped && m->K == 0) || x == NULL || n == 0)
        return lethe__predict(m->ctx, m->loss, public_weights(m), m->d, n, x, ldx, label, prob);
    const size_t din = lethe_model_input_dim(m);
    if (ldx < din)
        return lethe__fail(m->ctx, LETHE_ESIZE, "predict: leading dimension %zu < %zu features",
                           ldx, din);
    for (size_t i = 0; i < n; i++) /* φ of a non-finite input is not defined */
        for (size_t j = 0; j < din; j++)
            if (!isfinite(x[i * ldx + j]))
                return lethe__fail(m->ctx, LETHE_ENONFINITE, "predict: x[%zu][%zu] is %g", i, j,
                                   x[i * ldx + j]);
    double *phi = m->mapped ? map_rows(m, n, x, ldx) : NULL;
    if (m->mapped && phi == NULL)
        return lethe_ctx_errcode(m->ctx);
    const double *rows = phi != NULL ? phi : x;
    const size_t ld = phi != NULL ? m->fmap.d_out : ldx;
    lethe_status st = m->K > 0
                          ? lethe__multi_predict(m, n, rows, ld, label, prob)
                          : lethe__predict(m->ctx, m->loss, public_weights(m), m->d, n, rows, ld,
                                           label, prob);
    lethe__free(m->ctx, phi);
    return st;
}

lethe_status lethe__evaluate(lethe_ctx *ctx, lethe_loss loss, const double *w, size_t d,
                             const lethe_dataset *data, double *score)
{
    if (data == NULL || score == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "evaluate: data and score must not be NULL");
    if (data->d != d)
        return lethe__fail(ctx, LETHE_ESIZE, "evaluate: data has %zu features, model %zu",
                           data->d, d);
    for (size_t i = 0; i < data->n; i++)
        if (!lethe__loss_label_ok(loss, data->y[i]))
            return lethe__fail(ctx, LETHE_ELABEL, "evaluate: label %g of row %zu is not ±1",
                               data->y[i], i);
    const int di = lethe__blas_int(d);
    double acc = 0.0;
    for (size_t i = 0; i < data->n; i++) {
        double z = cblas_ddot(di, data->x + i * data->d, 1, w, 1);
        if (lethe_loss_is_classifier(loss))
            acc += (z >= 0.0 ? 1.0 : -1.0) * data->y[i] > 0.0 ? 1.0 : 0.0;
        else
            acc += (z - data->y[i]) * (z - data->y[i]);
    }
    acc /= (double)data->n;
    *score = lethe_loss_is_classifier(loss) ? acc : sqrt(acc);
    return LETHE_OK;
}

lethe_status lethe_model_evaluate(lethe_model *m, const lethe_dataset *data, double *score)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (!m->mapped && m->K == 0)
        return lethe__evaluate(m->ctx, m->loss, public_weights(m), m->d, data, score);
    if (data == NULL || score == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "evaluate: data and score must not be NULL");
    lethe_dataset *phi = NULL;
    lethe_status st = m->mapped ? lethe__fmap_dataset(m->ctx, &m->fmap, data, &phi) : LETHE_OK;
    const lethe_dataset *use = phi != NULL ? phi : data;
    if (st == LETHE_OK)
        st = m->K > 0 ? lethe__multi_evaluate(m, use, score)
                      : lethe__evaluate(m->ctx, m->loss, public_weights(m), m->d, use, score);
    lethe_dataset_free(phi);
    return st;
}
