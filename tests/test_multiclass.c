/*
 * One-vs-rest under M3 as one model: removals against a retrain of all K
 * heads from scratch, the concatenated distance bound, the release of K·d
 * weights and its accountant, predictions of class labels, refusals that
 * change nothing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "modelutil.h"

#include <unistd.h>

#include <cblas.h>

static const unsigned char SEED[32] = { 0x6d, 0x75, 0x6c, 0x74, 1 };

/* n records of d features in K classes (labels 10k + 3): the class of the
 * largest of K random linear scores, with some noise; rows of norm 1. */
static lethe_dataset *classes_data(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d, size_t K,
                                   const uint64_t *skip, size_t n_skip)
{
    uint64_t s = seed;
    double *W = malloc(K * d * sizeof *W), *x = malloc(n * d * sizeof *x);
    double *y = malloc(n * sizeof *y);
    uint64_t *ids = malloc(n * sizeof *ids);
    for (size_t j = 0; j < K * d; j++)
        W[j] = 2.0 * tu_uniform(&s);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double *xi = x + m * d, best = -INFINITY;
        size_t c = 0;
        for (size_t j = 0; j < d; j++)
            xi[j] = tu_uniform(&s);
        for (size_t k = 0; k < K; k++) {
            double z = 0.4 * tu_uniform(&s);
            for (size_t j = 0; j < d; j++)
                z += W[k * d + j] * xi[j];
            if (z > best) {
                best = z;
                c = k;
            }
        }
        int dropped = 0;
        for (size_t t = 0; t < n_skip; t++)
            dropped |= skip[t] == i;
        if (dropped)
            continue;
        y[m] = 10.0 * (double)c + 3.0;
        ids[m++] = i;
    }
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, m, d, x, d, y, ids, LETHE_NORM_NORMALIZE, 1.0, &ds),
                  LETHE_OK);
    free(W);
    free(x);
    free(y);
    free(ids);
    return ds;
}

static lethe_model *train_multi(lethe_ctx *ctx, const lethe_dataset *ds, double lambda,
                                double delta_max, double tol)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.multiclass = 1;
    o.lambda = lambda;
    o.delta_max = delta_max;
    o.tol = tol;
    o.seed = SEED;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    return m;
}

/* EVIDENCE: LTH-C-0016 */
static void test_multiclass_matches_retrain(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 700, d = 9, K = 4;
    lethe_dataset *ds = classes_data(ctx, 301, n, d, K, NULL, 0);
    for (int path = 0; path < 2; path++) {
        lethe_model *m = train_multi(ctx, ds, 2e-3, 0.05, 1e-10);
        const double *cls = NULL;
        assert_int_equal(lethe_model_classes(m, &cls), K);
        for (size_t k = 0; k < K; k++)
            assert_close(cls[k], 10.0 * (double)k + 3.0, 0.0, 0.0);
        assert_int_equal(lethe_model_dim(m), K * d);
        assert_int_equal(lethe_model_input_dim(m), d);
        /* the premise of training's shared first Hessian: at w = 0 every
         * head's Hessian is the same matrix, bit for bit */
        double *zero = calloc(d, sizeof *zero), *H0 = malloc(d * d * sizeof *H0);
        double *Hk = malloc(d * d * sizeof *Hk);
        for (size_t k = 0; k < K; k++) {
            lethe_model *h = m->heads[k];
            lethe_objective obj = lethe__model_objective(h, h->b);
            lethe__hessian(&obj, zero, k == 0 ? H0 : Hk, NULL, &h->ws);
            for (size_t i = 0; k > 0 && i < d; i++) /* the upper triangles */
                assert_memory_equal(H0 + i * d + i, Hk + i * d + i, (d - i) * sizeof *H0);
        }
        free(zero);
        free(H0);
        free(Hk);
        /* removals, single and batched */
        uint64_t gone[64];
        size_t n_gone = 0;
        const size_t ks[] = { 1, 5, 1, 20 };
        unsigned steps = 0;
        for (size_t i = 0; i < 4; i++) {
            uint64_t ids[20];
            for (size_t t = 0; t < ks[i]; t++) {
                ids[t] = 11 + 17 * n_gone;
                gone[n_gone++] = ids[t];
            }
            lethe_removal_report rep;
            assert_status(lethe_model_remove(m, ids, ks[i], (lethe_removal_path)path, &rep),
                          LETHE_OK);
            assert_int_equal(rep.removed, ks[i]);
            assert_true(rep.certified);
            assert_le(rep.distance, 0.05);
            steps += rep.steps;
        }
        /* against a retrain of all K heads from scratch without them */
        lethe_dataset *rest = classes_data(ctx, 301, n, d, K, gone, n_gone);
        assert_int_equal(lethe_dataset_rows(rest), lethe_model_rows(m));
        lethe_model *r = train_multi(ctx, rest, 2e-3, 0.05, 1e-13);
        lethe_budget bm, br;
        assert_status(lethe_model_budget(m, &bm), LETHE_OK);
        assert_status(lethe_model_budget(r, &br), LETHE_OK);
        double gap = tu_dist(m->w, r->w, K * d);
        print_message("one-vs-rest, %s path: 27 records removed in 4 calls (%u Newton "
                      "steps: per call the most any head took) over %zu heads; ‖Θ − Θ_retrain‖ = %.3g ≤ %.3g + "
                      "%.3g\n", path ? "exact" : "fast", steps, K, gap, bm.distance,
                      br.distance);
        assert_le(gap, bm.distance + br.distance);
        assert_true(gap > 0.0); /* the removal is not trivially exact */
        lethe_model_free(r);
        lethe_dataset_free(rest);
        lethe_model_free(m);
    }
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* The one pass for all heads (two K-column dgemms) against each head's own
 * pass and against the residual in long double, with plain loops: with a
 * record removed and one pending (neither may count), at points off the
 * optimum. Each must lie within the charged rounding bound E of the long
 * double value. EVIDENCE: LTH-C-0002, LTH-C-0016 */
static void pass_heads_case(size_t d, size_t K)
{
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 900;
    lethe_dataset *ds = classes_data(ctx, 307, n, d, K, NULL, 0);
    lethe_model *m = train_multi(ctx, ds, 1e-3, 0.05, 1e-10);
    uint64_t id = 40;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    const size_t pending = lethe__model_find(m, 41);
    m->alive[pending] = ROW_PENDING; /* as during a removal of 41 */
    uint64_t s = 17;
    for (size_t h = 0; h < K; h++)
        for (size_t j = 0; j < d; j++)
            m->heads[h]->w2[j] = m->heads[h]->w[j] + 0.01 * tu_uniform(&s);
    lethe_pass fused[16], own;
    for (int plain = 0; plain < 2; plain++) { /* the SIMD kernels (if any), the portable ones */
    lethe__heads_plain = plain;
    lethe__residual_pass_heads(m, fused);
    lethe__heads_plain = 0;
    for (size_t h = 0; h < K; h++) {
        lethe_model *hd = m->heads[h];
        double g_fused[32];
        memcpy(g_fused, hd->g2, d * sizeof *g_fused);
        lethe__residual_pass(hd, hd->b, hd->w2, hd->p, hd->v, &own);
        /* the same gradient vector as the head's own pass leaves in g2 */
        for (size_t j = 0; j < d; j++)
            assert_close(g_fused[j], hd->g2[j], 1e-12, 1e-13);
        long double g[32] = { 0 };
        size_t live = 0;
        for (size_t i = 0; i < hd->n_rows; i++) {
            if (m->alive[i] != ROW_LIVE)
                continue;
            live++;
            long double z = 0.0L;
            for (size_t j = 0; j < d; j++)
                z += (long double)m->x[i * d + j] * hd->w2[j];
            long double d1 = -hd->y[i] / (1.0L + expl(hd->y[i] * z)); /* logistic ℓ' */
            for (size_t j = 0; j < d; j++)
                g[j] += d1 * m->x[i * d + j];
        }
        assert_int_equal(live, hd->n_live - 1); /* the pending record is not counted */
        long double r2 = 0.0L;
        for (size_t j = 0; j < d; j++) {
            long double gj = g[j] + (long double)hd->lambda * (long double)hd->n_live * hd->w2[j];
            r2 += gj * gj;
        }
        const double r = (double)sqrtl(r2);
        assert_le(fabs(fused[h].residual - r), fused[h].fp_error);
        assert_le(fabs(own.residual - r), own.fp_error);
        assert_true(fused[h].residual > 1e3 * fused[h].fp_error); /* off the optimum */
        assert_close(fused[h].fp_error, own.fp_error, 1e-9, 0.0);
    }
    }
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* K = 5 (one 4-head tile and padding), d = 13 (a tail of features); K = 14
 * (a 12-head tile, then 4) and d = 32 */
static void test_multiclass_pass_heads(void **state)
{
    (void)state;
    pass_heads_case(13, 5);
    pass_heads_case(32, 14);
}

/* The logistic heads' warm start: every step decreases every head's
 * objective (H0 = XᵀX/4 + λnI majorises its Hessian), it stops with every
 * gradient at 10⁻³ of its start (or after its 300 steps), and Newton from
 * there reaches the trained Θ within the solver's tolerance. */
static void test_multiclass_warm_start(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 800, d = 11, K = 4;
    lethe_dataset *ds = classes_data(ctx, 311, n, d, K, NULL, 0);
    lethe_model *m = train_multi(ctx, ds, 1e-3, 0.05, 1e-10);
    double *zero = calloc(d, sizeof *zero), *U0 = malloc(d * d * sizeof *U0);
    double *g = malloc(d * sizeof *g);
    lethe_objective obj0 = lethe__model_objective(m->heads[0], m->heads[0]->b);
    lethe__hessian(&obj0, zero, U0, NULL, &m->heads[0]->ws);
    assert_status(lethe__chol_factor(U0, d), LETHE_OK);
    double f0[4], g0[4];
    for (size_t h = 0; h < K; h++) {
        lethe_model *hd = m->heads[h];
        lethe_objective obj = lethe__model_objective(hd, hd->b);
        f0[h] = lethe__objective_eval(&obj, zero, g, &hd->ws);
        g0[h] = cblas_dnrm2((int)d, g, 1);
    }
    lethe_pass pass[4];
    lethe__multi_warm_start(m, U0, pass);
    double top0 = 0.0, top = 0.0;
    for (size_t h = 0; h < K; h++) {
        lethe_model *hd = m->heads[h];
        lethe_objective obj = lethe__model_objective(hd, hd->b);
        double f = lethe__objective_eval(&obj, hd->w2, g, &hd->ws);
        assert_true(f < f0[h]);
        top0 = fmax(top0, g0[h]);
        top = fmax(top, cblas_dnrm2((int)d, g, 1));
        /* Newton from the warm start lands on the trained θ_k */
        double gn;
        unsigned iters;
        const double tol = 1e-10 * fmax(1.0, 1e-3 * (double)hd->n_live);
        assert_status(lethe__newton(ctx, &obj, hd->w2, tol, 100, hd->U2, NULL, &hd->ws, &gn,
                                    &iters), LETHE_OK);
        assert_le(tu_dist(hd->w2, hd->w, d), 2.0 * tol / (1e-3 * (double)hd->n_live));
        assert_true(iters <= 5);
    }
    print_message("warm start: the largest gradient from %.3g to %.3g\n", top0, top);
    assert_le(top, 1e-3 * top0 * (1.0 + 1e-12));
    free(zero);
    free(U0);
    free(g);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* One release of all K·d weights; the accountant counts it once, σ for
 * Δ_max + g√(Kd); DP releases carry √K in the ERM term; predictions are
 * class labels. EVIDENCE: LTH-C-0016 */
static void test_multiclass_release(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 500, d = 6, K = 3;
    lethe_dataset *ds = classes_data(ctx, 311, n, d, K, NULL, 0);
    lethe_model *m = train_multi(ctx, ds, 3e-3, 0.04, 1e-10);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_int_equal(b.releases, 1);
    assert_true(b.sensitivity >= 0.04 + b.lattice * sqrt((double)(K * d)));
    const double *pub = lethe_model_weights(m);
    assert_true(memcmp(pub, m->w, K * d * sizeof *pub) != 0); /* never Θ itself */
    lethe_release_report rel;
    assert_status(lethe_model_publish(m, &rel), LETHE_OK);
    assert_int_equal(rel.release, 2);
    assert_close(rel.mu, b.sensitivity / b.sigma, 1e-12, 0.0);
    /* the release's noise has sd σ per weight: over K·d = 18 weights, loosely */
    double s2 = 0.0;
    for (size_t j = 0; j < K * d; j++)
        s2 += (pub[j] - m->w[j]) * (pub[j] - m->w[j]);
    assert_true(s2 / (double)(K * d) < 9.0 * b.sigma * b.sigma);
    /* predictions: class labels, better than chance */
    double label[50], prob[50], acc = 0.0;
    assert_status(lethe_model_predict(m, 50, lethe_dataset_x(ds), d, label, prob), LETHE_OK);
    for (size_t i = 0; i < 50; i++) {
        assert_true(label[i] >= 3.0 && label[i] <= 23.0);
        assert_true(prob[i] > 0.0 && prob[i] <= 1.0);
    }
    assert_status(lethe_model_evaluate(m, ds, &acc), LETHE_OK);
    print_message("one-vs-rest, 3 classes: training accuracy of a release %.1f %%\n", 100 * acc);
    assert_true(acc > 0.6);
    lethe_model_free(m);
    /* DP releases: the ERM term of all K heads, √K·2R/(λ·n_min) */
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.multiclass = 1;
    o.lambda = 3e-3;
    o.dp_releases = 1;
    o.seed = SEED;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    const double want = 2.0 * sqrt((double)K) / (3e-3 * (double)((n + 1) / 2));
    assert_close(b.dp_sensitivity, want, 1e-12, 0.0);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* Refusals change nothing. EVIDENCE: LTH-C-0016 */
static void test_multiclass_refusals(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 300, d = 5, K = 3;
    lethe_dataset *ds = classes_data(ctx, 321, n, d, K, NULL, 0);
    lethe_model *m = train_multi(ctx, ds, 4e-3, 0.05, 1e-10);
    double *w0 = malloc(K * d * sizeof *w0);
    memcpy(w0, m->w, K * d * sizeof *w0);
    const size_t n0 = lethe_model_rows(m);
    uint64_t ids[2] = { 4, 99999 };
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 2, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    assert_status(lethe_model_check_removal(m, ids, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_true(rep.certified);
    assert_int_equal(rep.removed, 0);
    assert_memory_equal(m->w, w0, K * d * sizeof *w0);
    assert_int_equal(lethe_model_rows(m), n0);
    assert_true(lethe_model_has_id(m, 4));
    for (size_t k = 0; k < K; k++)
        assert_int_equal(m->heads[k]->n_live, n0);
    /* a refresh re-anchors every head on the records left: Θ within the
     * training tolerance of the optimum, the release stale until published */
    assert_status(lethe_model_remove(m, ids, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_status(lethe_model_refresh(m), LETHE_OK);
    lethe_budget rb;
    assert_status(lethe_model_budget(m, &rb), LETHE_OK);
    assert_false(rb.fresh);
    assert_int_equal(rb.refreshes, 1);
    assert_int_equal(rb.removals, 0);
    assert_le(rb.distance, 1e-6);
    assert_int_equal(lethe_model_rows(m), n0 - 1);
    for (size_t k = 0; k < K; k++)
        assert_int_equal(m->heads[k]->n_rows, n0 - 1);
    /* the refresh dropped the removed ids, as for one head */
    assert_status(lethe_model_remove(m, ids, 1, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    lethe_model_free(m);
    /* what one-vs-rest needs: M3, a classifier, 3 or more classes */
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.multiclass = 1;
    o.mechanism = LETHE_MECH_M1;
    m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    o.mechanism = LETHE_MECH_M3;
    o.loss = LETHE_LOSS_SQUARED;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    o.loss = LETHE_LOSS_LOGISTIC;
    o.multiclass = 2;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_null(m);
    lethe_dataset *two = classes_data(ctx, 322, 60, d, 2, NULL, 0);
    o.multiclass = 1;
    assert_status(lethe_model_train(ctx, two, &o, &m), LETHE_ELABEL);
    assert_null(m);
    /* a class list fixed in advance: a class with no record keeps its head
     * (all −1), and stays in the model as records come and go */
    const double fixed[] = { 23.0, 3.0, 13.0, 99.0 };
    o.classes = fixed;
    o.n_classes = 4;
    assert_status(lethe_model_train(ctx, two, &o, &m), LETHE_OK);
    const double *cls = NULL;
    assert_int_equal(lethe_model_classes(m, &cls), 4);
    assert_close(cls[0], 3.0, 0.0, 0.0);
    assert_close(cls[3], 99.0, 0.0, 0.0);
    double lab[20];
    assert_status(lethe_model_predict(m, 20, lethe_dataset_x(two), d, lab, NULL), LETHE_OK);
    for (size_t i = 0; i < 20; i++) /* a class without records is never the best */
        assert_true(lab[i] >= 3.0 && lab[i] <= 13.0);
    lethe_model_free(m);
    m = NULL;
    const double few[] = { 3.0, 13.0 }, dup[] = { 3.0, 13.0, 13.0 }, miss[] = { 3.0, 23.0, 33.0 };
    o.classes = few;
    o.n_classes = 2;
    assert_status(lethe_model_train(ctx, two, &o, &m), LETHE_EINVAL);
    o.classes = dup;
    o.n_classes = 3;
    assert_status(lethe_model_train(ctx, two, &o, &m), LETHE_EINVAL);
    o.classes = miss; /* label 13 is none of them */
    assert_status(lethe_model_train(ctx, two, &o, &m), LETHE_ELABEL);
    assert_null(m);
    o.classes = NULL;
    o.n_classes = 0;
    lethe_dataset_free(two);
    free(w0);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* The state file: Θ, the release, the classes, the accountant and the
 * records come back; both models then go on identically; a damaged file is
 * refused. EVIDENCE: LTH-C-0016 */
static void test_multiclass_save_load(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 400, d = 7, K = 5;
    lethe_dataset *ds = classes_data(ctx, 331, n, d, K, NULL, 0);
    lethe_model *m = train_multi(ctx, ds, 3e-3, 0.05, 1e-10);
    uint64_t ids[] = { 5, 9, 77, 120, 301 };
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 2, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_model_remove(m, ids + 2, 1, LETHE_PATH_EXACT, &rep), LETHE_OK);
    char path[256];
    snprintf(path, sizeof path, "/tmp/lethe-ovr-%ld", (long)getpid());
    assert_status(lethe_model_save(m, path), LETHE_OK);
    lethe_mechanism mech = LETHE_MECH_M1;
    assert_status(lethe_state_mechanism(ctx, path, &mech), LETHE_OK);
    assert_int_equal(mech, LETHE_MECH_M3);
    lethe_model *l = NULL;
    lethe_status lst = lethe_model_load(ctx, path, &l);
    if (lst != LETHE_OK)
        print_error("load: %s\n", lethe_ctx_errmsg(ctx));
    assert_status(lst, LETHE_OK);
    const double *c1 = NULL, *c2 = NULL;
    assert_int_equal(lethe_model_classes(l, &c2), lethe_model_classes(m, &c1));
    assert_memory_equal(c1, c2, K * sizeof *c1);
    assert_memory_equal(l->w, m->w, K * d * sizeof *m->w);
    assert_memory_equal(lethe_model_weights(l), lethe_model_weights(m), K * d * sizeof *m->w);
    lethe_budget a, b;
    assert_status(lethe_model_budget(m, &a), LETHE_OK);
    assert_status(lethe_model_budget(l, &b), LETHE_OK);
    assert_int_equal(b.releases, 2);
    assert_int_equal(b.n, n - 3);
    assert_false(b.fresh);
    assert_close(b.sigma, a.sigma, 0.0, 0.0);
    size_t k = 0;
    lethe_model_unpublished(l, &k);
    assert_int_equal(k, 1);
    assert_false(lethe_model_has_id(l, 77));
    /* both go on the same way: a removal, a release */
    assert_status(lethe_model_remove(m, ids + 3, 2, LETHE_PATH_FAST, &rep), LETHE_OK);
    lethe_removal_report rep2;
    assert_status(lethe_model_remove(l, ids + 3, 2, LETHE_PATH_FAST, &rep2), LETHE_OK);
    assert_memory_equal(l->w, m->w, K * d * sizeof *m->w);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_model_publish(l, NULL), LETHE_OK);
    assert_memory_equal(lethe_model_weights(l), lethe_model_weights(m), K * d * sizeof *m->w);
    double la[10], lb[10];
    assert_status(lethe_model_predict(m, 10, lethe_dataset_x(ds), d, la, NULL), LETHE_OK);
    assert_status(lethe_model_predict(l, 10, lethe_dataset_x(ds), d, lb, NULL), LETHE_OK);
    assert_memory_equal(la, lb, sizeof la);
    /* a cut or flipped file is refused */
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(1 << 22);
    size_t len = fread(buf, 1, 1 << 22, f);
    fclose(f);
    const size_t cuts[] = { 20, len / 2, len - 1 };
    for (size_t i = 0; i < 3; i++) {
        f = fopen(path, "wb");
        fwrite(buf, 1, cuts[i], f);
        fclose(f);
        lethe_model *x = NULL;
        assert_status(lethe_model_load(ctx, path, &x), LETHE_EFORMAT);
        assert_null(x);
    }
    buf[len / 3] ^= 0x10;
    f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    lethe_model *x = NULL;
    assert_status(lethe_model_load(ctx, path, &x), LETHE_EFORMAT);
    remove(path);
    free(buf);
    lethe_model_free(l);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* The litmus figures of a one-vs-rest model (proofs/difficulty.md): the
 * ranking equals each record asked alone, the dry runs equal the dry run
 * of the removal, and a real one-step removal moves Θ (all heads) by the
 * influence within Proposition 2's bound. EVIDENCE: LTH-C-0017 */
static void test_multiclass_difficulty(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const size_t n = 400, d = 5, K = 3;
    lethe_dataset *ds = classes_data(ctx, 331, n, d, K, NULL, 0);
    lethe_model *m = train_multi(ctx, ds, 3e-3, 0.03, 1e-10);
    lethe_difficulty top[6], one;
    size_t count = 0;
    assert_status(lethe_model_hardest(m, 6, 1, top, &count), LETHE_OK);
    assert_int_equal(count, 6);
    size_t h = 6;
    for (size_t t = 0; t < 6; t++) {
        assert_true(t == 0 || top[t - 1].influence >= top[t].influence);
        assert_status(lethe_record_difficulty(m, &top[t].id, 1, 0, &one), LETHE_OK);
        assert_close(one.influence, top[t].influence, 1e-12, 0.0);
        lethe_removal_report rep;
        assert_status(lethe_model_check_removal(m, &top[t].id, 1, LETHE_PATH_FAST, &rep),
                      LETHE_OK);
        assert_memory_equal(&rep.distance, &top[t].distance, sizeof(double));
        assert_int_equal(rep.steps, top[t].steps);
        if (h == 6 && top[t].steps == 1)
            h = t;
    }
    assert_true(h < 6);
    /* Proposition 2 with the largest curvature over the heads (≤ ¼, logistic) */
    double s_max = 0.0;
    const size_t row = lethe__model_find(m, top[h].id);
    for (size_t k = 0; k < K; k++)
        s_max = fmax(s_max, m->heads[k]->s_f[row]);
    const double slack = (s_max * m->R * m->R + m->lambda) /
                         (m->lambda * (double)(m->heads[0]->n_f - 1));
    double *before = malloc(K * d * sizeof *before);
    memcpy(before, m->w, K * d * sizeof *before);
    assert_status(lethe_model_remove(m, &top[h].id, 1, LETHE_PATH_FAST, NULL), LETHE_OK);
    double moved = tu_dist(before, m->w, K * d);
    print_message("one-vs-rest: influence %.5g, the removal moved Θ by %.5g (bound ±%.3g)\n",
                  top[h].influence, moved, slack * top[h].influence);
    assert_le(fabs(moved - top[h].influence), slack * top[h].influence);
    free(before);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiclass_matches_retrain),
        cmocka_unit_test(test_multiclass_pass_heads),
        cmocka_unit_test(test_multiclass_warm_start),
        cmocka_unit_test(test_multiclass_release),
        cmocka_unit_test(test_multiclass_refusals),
        cmocka_unit_test(test_multiclass_save_load),
        cmocka_unit_test(test_multiclass_difficulty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
