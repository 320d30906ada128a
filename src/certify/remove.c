/*
 * Removal: one Newton step on the remaining data D' checked on the exact
 * residual (Guo et al. 2020, Alg. 2 and Thm 3; proofs/exact-residual.md,
 * LTH-C-0002). M1 certifies against its residual budget; M3 (m3.c) against
 * λ|D'|·Δ_max, with further steps and re-anchors when the first misses.
 *
 *   g' = ∇L_b(w; D') = ∇L_b(w; D) − Σ_{u∈U} (ℓ'(wᵀx_u)x_u + λw)
 *   w⁻ = w − Ĥ⁻¹g'
 *   certified  ⇔  ‖∇L_b(w⁻; D')‖ ≤ ε' = σε/c(δ)
 *
 * Ĥ is any SPD matrix: FAST keeps Ĥ = Σ_{D'} ℓ''(w_fᵀxᵢ)xᵢxᵢᵀ + λn_f·I
 * by rank-1 Cholesky down-dates from the last factorisation (O(d²) per
 * record); EXACT recomputes ∇²L(w; D') and factors it. g is exact because
 * the previous pass computed ∇L_b(w; D) exactly, so earlier residuals are
 * corrected by this step rather than summed.
 *
 * The call is a transaction: every result goes to scratch (w2, g2, U2, s2)
 * and the commit, which cannot fail, swaps it in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

/* p = −Ĥ⁻¹g' (g' in v, Ĥ's factor in U2), the Newton step, and w2 = w + p. */
static void newton_solve(lethe_model *m)
{
    const size_t d = m->d;
    for (size_t j = 0; j < d; j++)
        m->p[j] = -m->v[j];
    lethe__chol_solve(m->U2, d, m->p);
    for (size_t j = 0; j < d; j++)
        m->w2[j] = m->w[j] + m->p[j];
}

/* The step's first half, safe to run for several heads at once (it touches
 * only m's scratch and reads the shared records; no allocation, no message
 * on the context): g', and on the fast path the down-dates, the solve and
 * w2. Says EXACT when the step needs the exact Hessian (asked for, or a
 * down-date lost definiteness): lethe__removal_prepare_exact finishes it. */
lethe_removal_path lethe__removal_prepare_fast(lethe_model *m, const size_t *rows, size_t k,
                                               lethe_removal_path path)
{
    const size_t d = m->d;
    const int di = lethe__blas_int(d);
    double *gp = m->v, *p = m->p;
    /* g' = g − Σ ℓ'(wᵀx_u)x_u − λk·w   (the regulariser falls from λn to λn') */
    memcpy(gp, m->g, d * sizeof *gp);
    cblas_daxpy(di, -m->lambda * (double)k, m->w, 1, gp, 1);
    for (size_t t = 0; t < k; t++) {
        const double *xu = m->x + rows[t] * d;
        double d1 = 0.0;
        lethe__loss_eval(m->loss, cblas_ddot(di, xu, 1, m->w, 1), m->y[rows[t]], NULL, &d1,
                         NULL);
        cblas_daxpy(di, -d1, xu, 1, gp, 1);
    }
    if (path != LETHE_PATH_FAST)
        return LETHE_PATH_EXACT;
    for (size_t t = 0; t < k; t++) {
        /* Ĥ −= ℓ''(w_fᵀx_u)·x_u x_uᵀ: the record's own term at the factor's point */
        cblas_dcopy(di, m->x + rows[t] * d, 1, p, 1);
        cblas_dscal(di, sqrt(m->s_f[rows[t]]), p, 1);
        /* Ĥ ⪰ λn_f·I always, so each pivot² ≥ λn_f: one below half of
         * that means rounding has broken the factor; refactor instead.
         * The first down-date reads U and writes U2 (U stays committed). */
        if (lethe__chol_downdate_from(t == 0 ? m->U : m->U2, m->U2, d, p,
                                      0.5 * m->lambda * (double)m->n_f, INFINITY) != LETHE_OK)
            return LETHE_PATH_EXACT;
    }
    newton_solve(m);
    return LETHE_PATH_FAST;
}

lethe_status lethe__removal_prepare_exact(lethe_model *m)
{
    lethe_objective obj = lethe__model_objective(m, m->b);
    lethe__hessian(&obj, m->w, m->U2, m->s2, &m->ws);
    if (lethe__chol_factor(m->U2, m->d) != LETHE_OK)
        return lethe__fail(m->ctx, LETHE_ENOTPD, "remove: Hessian on D' not positive definite");
    newton_solve(m);
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0002 */
lethe_status lethe__removal_prepare(lethe_model *m, const size_t *rows, size_t k,
                                    lethe_removal_path path, lethe_removal_path *used_path)
{
    *used_path = lethe__removal_prepare_fast(m, rows, k, path);
    return *used_path == LETHE_PATH_EXACT ? lethe__removal_prepare_exact(m) : LETHE_OK;
}

lethe_status lethe__removal_finish(lethe_model *m, const lethe_pass *pass_in,
                                   lethe_removal_path used, lethe_removal_report *rep)
{
    const lethe_pass pass = *pass_in;
    if (!isfinite(pass.residual))
        return lethe__fail(m->ctx, LETHE_EBACKEND, "remove: residual is not finite");
    rep->removed = 0;
    rep->path = used;
    rep->residual = pass.residual;
    rep->residual_fp = pass.fp_error;
    rep->residual_bound = pass.bound + pass.fp_error;
    rep->budget = lethe__budget_at(m, m->n_live); /* n_live is |D'| already */
    /* the true residual is at most residual + fp_error (G3 closed) */
    rep->certified = pass.residual + pass.fp_error <= rep->budget;
    rep->distance = 0.0;
    rep->steps = 1;
    rep->reanchors = 0;
    return LETHE_OK;
}

lethe_status lethe__removal_step(lethe_model *m, const size_t *rows, size_t k,
                                 lethe_removal_path path, lethe_removal_report *rep)
{
    lethe_removal_path used = path;
    lethe_status st = lethe__removal_prepare(m, rows, k, path, &used);
    if (st != LETHE_OK)
        return st;
    lethe_pass pass;
    lethe__residual_pass(m, m->b, m->w2, m->p, m->v, &pass);
    return lethe__removal_finish(m, &pass, used, rep);
}

/* Resolve ids to rows and mark them ROW_PENDING; on failure nothing is marked. */
lethe_status lethe__removal_mark(lethe_model *m, const uint64_t *ids, size_t k, size_t *rows)
{
    lethe_status st = LETHE_OK;
    size_t t = 0;
    for (; t < k; t++) {
        size_t i = lethe__model_find(m, ids[t]);
        if (i == SIZE_MAX) {
            st = lethe__fail(m->ctx, LETHE_ENOTFOUND, "remove: no record has id %llu",
                             (unsigned long long)ids[t]);
            break;
        }
        if (m->alive[i] == ROW_DEAD) {
            st = lethe__fail(m->ctx, LETHE_EREMOVED, "remove: record %llu was already removed",
                             (unsigned long long)ids[t]);
            break;
        }
        if (m->alive[i] == ROW_PENDING) {
            st = lethe__fail(m->ctx, LETHE_EDUPLICATE, "remove: id %llu appears twice",
                             (unsigned long long)ids[t]);
            break;
        }
        m->alive[i] = ROW_PENDING;
        rows[t] = i;
    }
    if (st != LETHE_OK)
        for (size_t u = 0; u < t; u++)
            m->alive[rows[u]] = ROW_LIVE;
    return st;
}

static lethe_status remove_or_check(lethe_model *m, const uint64_t *ids, size_t k,
                                    lethe_removal_path path, lethe_removal_report *rep,
                                    int commit)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (ids == NULL || k == 0)
        return lethe__fail(m->ctx, LETHE_EINVAL, "remove: no ids given");
    if (path != LETHE_PATH_FAST && path != LETHE_PATH_EXACT)
        return lethe__fail(m->ctx, LETHE_EINVAL, "remove: unknown path %d", (int)path);
    if (m->K > 0)
        return lethe__multi_remove(m, ids, k, path, rep, commit);
    size_t *rows = lethe__calloc(m->ctx, k, sizeof *rows);
    if (rows == NULL)
        return lethe__fail(m->ctx, LETHE_ENOMEM, "remove: no memory for %zu ids", k);
    lethe_status st = lethe__removal_mark(m, ids, k, rows);
    if (st == LETHE_OK && k >= m->n_live) {
        for (size_t t = 0; t < k; t++)
            m->alive[rows[t]] = ROW_LIVE;
        st = lethe__fail(m->ctx, LETHE_ELAST,
                         "remove: %zu ids would leave none of the %zu records", k, m->n_live);
    }
    if (st != LETHE_OK) {
        lethe__free(m->ctx, rows);
        return st;
    }
    lethe_removal_report r;
    double drift = 0.0;
    m->n_live -= k;
    if (m->mech == LETHE_MECH_M3 && commit && m->n_unpub + k > m->unpub_cap)
        st = lethe__fail(m->ctx, LETHE_ENOMEM, "remove: the unpublished ids exceed their room");
    else if (m->mech == LETHE_MECH_M3)
        st = lethe__m3_step(m, rows, k, path, &r, &drift);
    else
        st = lethe__removal_step(m, rows, k, path, &r);
    if (st == LETHE_OK && commit && !r.certified)
        st = lethe__fail(m->ctx, LETHE_EBUDGET,
                         "remove: residual %.6g would exceed the budget %.6g; refresh the model",
                         r.residual, r.budget);
    if (st != LETHE_OK || !commit) {
        m->n_live += k;
        for (size_t t = 0; t < k; t++)
            m->alive[rows[t]] = ROW_LIVE;
        lethe__free(m->ctx, rows);
        if (rep != NULL && (st == LETHE_OK || st == LETHE_EBUDGET))
            *rep = r;
        return st;
    }
    lethe__removal_commit(m, ids, rows, k, &r, drift, 1);
    lethe__free(m->ctx, rows);
    r.removed = k;
    if (rep != NULL)
        *rep = r;
    return LETHE_OK;
}

void lethe__removal_commit(lethe_model *m, const uint64_t *ids, const size_t *rows, size_t k,
                           const lethe_removal_report *rr, double drift, int own_rows)
{
    const lethe_removal_report r = *rr;
    const size_t d = m->d;
    double *t = m->U;
    m->U = m->U2;
    m->U2 = t;
    if (r.path == LETHE_PATH_EXACT || r.reanchors > 0) {
        t = m->s_f;
        m->s_f = m->s2;
        m->s2 = t;
        m->n_f = m->n_live;
    }
    memcpy(m->w, m->w2, d * sizeof *m->w);
    memcpy(m->g, m->g2, d * sizeof *m->g);
    if (m->mech == LETHE_MECH_M3) {
        if (own_rows) {
            memcpy(m->unpub + m->n_unpub, ids, k * sizeof *ids);
            m->n_unpub += k;
        }
        m->fresh = 0;
        m->drift = drift;
        m->reanchors += r.reanchors;
        m->extra_steps += r.steps - 1;
    }
    for (size_t u = 0; u < k; u++) {
        size_t i = rows[u];
        if (own_rows) {
            memset(m->x + i * d, 0, d * sizeof *m->x); /* the record's bytes leave the model */
            m->alive[i] = ROW_DEAD;
        }
        m->y[i] = 0.0;
        m->s_f[i] = 0.0;
    }
    double prev = m->residual;
    m->residual = r.residual;
    m->residual_fp = r.residual_fp;
    m->res_max = fmax(m->res_max, r.residual);
    m->residual_bound = r.residual_bound;
    m->removals += k;
    m->removals_total += k;
    if (k == 1) {
        double inc = fmax(r.residual - prev, 0.0);
        m->rho = isnan(m->rho) ? inc : fmax(m->rho, inc);
    }
}

/* IMPLEMENTS: LTH-C-0001 */
lethe_status lethe_model_remove(lethe_model *m, const uint64_t *ids, size_t k,
                                lethe_removal_path path, lethe_removal_report *rep)
{
    return remove_or_check(m, ids, k, path, rep, 1);
}

lethe_status lethe_model_check_removal(lethe_model *m, const uint64_t *ids, size_t k,
                                       lethe_removal_path path, lethe_removal_report *rep)
{
    return remove_or_check(m, ids, k, path, rep, 0);
}
