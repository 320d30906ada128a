/*
 * Mechanism M3: every removal against the exact retrain, the distance bound
 * against the true distance, the release against its lattice and its
 * distribution, the accountant against an independent computation, the cap,
 * DP releases, the guaranteed capacity against adversarial removal orders,
 * refusals that change nothing, and the state file.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "modelutil.h"

#include <unistd.h>

#include <cblas.h>

#include "dp/dp.h"

static const unsigned char SEED[32] = { 0x3e, 0xed, 7, 1, 8 };

static lethe_ctx *ctx_new(void)
{
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    return ctx;
}

static lethe_dataset *random_data(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d,
                                  lethe_loss loss, lethe_norm_policy policy, double R)
{
    return tu_dataset(ctx, seed, n, d, loss, policy, R);
}

static void m3_options(lethe_train_options *o, double lambda, double delta_max)
{
    lethe_train_options_init(o);
    assert_int_equal(o->mechanism, LETHE_MECH_M3); /* the default */
    o->lambda = lambda;
    o->delta_max = delta_max;
    o->seed = SEED;
}

static lethe_model *m3_model(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d,
                             lethe_loss loss, double lambda, double delta_max)
{
    lethe_dataset *ds = random_data(ctx, seed, n, d, loss, LETHE_NORM_NORMALIZE, 1.0);
    lethe_train_options o;
    m3_options(&o, lambda, delta_max);
    o.loss = loss;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_dataset_free(ds);
    return m;
}

/* ‖θ − w*(D)‖ against the exact retrain on the live rows: the certified
 * distance must cover it (the retrain's own error, gnorm/(λn), added). */
static double check_distance(lethe_model *m, double certified)
{
    double *wr = malloc(m->d * sizeof *wr), gr = 0.0;
    tu_retrain_same_b(m, wr, &gr);
    double truth = tu_dist(m->w, wr, m->d);
    assert_le(truth, certified + gr / (m->lambda * (double)m->n_live) * (1.0 + 1e-9));
    free(wr);
    return truth;
}

/* Batches of ks[0..nk−1] ids (from `first`, every `stride`) removed on
 * path, each certified within delta_max and within its distance of the
 * exact retrain; the Newton steps taken, in all. */
static unsigned remove_batches(lethe_model *m, const size_t *ks, size_t nk, uint64_t first,
                               uint64_t stride, lethe_removal_path path, double delta_max)
{
    unsigned steps = 0;
    uint64_t next = first, ids[64];
    for (size_t i = 0; i < nk; i++) {
        assert_true(ks[i] <= 64);
        for (size_t t = 0; t < ks[i]; t++, next += stride)
            ids[t] = next;
        lethe_removal_report rep;
        assert_status(lethe_model_remove(m, ids, ks[i], path, &rep), LETHE_OK);
        assert_int_equal(rep.removed, ks[i]);
        assert_true(rep.certified);
        assert_le(rep.distance, delta_max);
        assert_close(rep.distance,
                     (rep.residual + rep.residual_fp) / (m->lambda * (double)m->n_live), 1e-12,
                     0.0);
        check_distance(m, rep.distance);
        steps += rep.steps;
    }
    return steps;
}

/* EVIDENCE: LTH-C-0012 */
static void test_m3_remove_matches_retrain(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    for (int path = 0; path < 2; path++) {
        lethe_model *m = m3_model(ctx, 31 + (uint64_t)path, 700, 12, LETHE_LOSS_LOGISTIC, 2.385e-3,
                                  0.05);
        lethe_budget b;
        assert_status(lethe_model_budget(m, &b), LETHE_OK);
        assert_int_equal(b.mechanism, LETHE_MECH_M3);
        assert_int_equal(b.releases, 1); /* training publishes the first release */
        check_distance(m, b.distance);
        const size_t ks[] = { 1, 1, 7, 1, 40 };
        remove_batches(m, ks, 5, 3, 5, (lethe_removal_path)path, 0.05);
        lethe_model_free(m);
    }
    /* ridge: the exact path's Newton step lands on w*(D') */
    lethe_model *m = m3_model(ctx, 38, 500, 9, LETHE_LOSS_SQUARED, 2e-3, 0.01);
    uint64_t ids[30];
    for (size_t t = 0; t < 30; t++)
        ids[t] = 13 * t + 1;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 30, LETHE_PATH_EXACT, &rep), LETHE_OK);
    assert_int_equal(rep.steps, 1);
    assert_le(check_distance(m, rep.distance), 1e-9);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* Record order by loss, highest first: the adversarial order. */
static size_t *by_loss(const lethe_model *m)
{
    size_t n = m->n_rows, *order = malloc(n * sizeof *order);
    double *loss = malloc(n * sizeof *loss);
    for (size_t i = 0; i < n; i++) {
        double z = cblas_ddot((int)m->d, m->x + i * m->d, 1, m->w, 1);
        lethe_loss_eval(m->loss, z, m->y[i], &loss[i], NULL, NULL);
        order[i] = i;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: n is small here */
        for (size_t j = i; j > 0 && loss[order[j]] > loss[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    free(loss);
    return order;
}

/* The distance bound against the truth when extra steps and re-anchors are
 * needed: a Δ_max too tight for one step, records removed hardest first.
 * EVIDENCE: LTH-C-0012 */
static void test_m3_distance_bounds_truth(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 41, 800, 10, LETHE_LOSS_LOGISTIC, 1e-3, 2e-4);
    size_t *order = by_loss(m);
    uint64_t *ids = malloc(m->n_rows * sizeof *ids);
    for (size_t i = 0; i < m->n_rows; i++)
        ids[i] = m->ids[order[i]];
    unsigned extra = 0, reanchors = 0;
    double worst_ratio = 0.0;
    for (size_t t = 0; t < 40; t++) {
        lethe_removal_report rep;
        assert_status(lethe_model_remove(m, &ids[t], 1, LETHE_PATH_FAST, &rep), LETHE_OK);
        assert_true(rep.certified);
        assert_le(rep.distance, 2e-4);
        extra += rep.steps - 1;
        reanchors += rep.reanchors;
        double truth = check_distance(m, rep.distance);
        worst_ratio = fmax(worst_ratio, truth / rep.distance);
    }
    /* the tight Δ_max made the further steps and re-anchors run */
    assert_true(extra > 0);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_int_equal(b.reanchors, reanchors);
    assert_int_equal(b.newton_steps, extra);
    print_message("m3: 40 hardest removals at Δ_max = 2e-4: %u extra steps, %u re-anchors, "
                  "true/certified distance ≤ %.3f\n", extra, reanchors, worst_ratio);
    /* with no further steps allowed, a re-anchor must follow a missed step */
    m->newton_extra = 0;
    lethe_removal_report rep;
    size_t t = 40;
    for (; t < 80 && reanchors == b.reanchors; t++) {
        assert_status(lethe_model_remove(m, &ids[t], 1, LETHE_PATH_FAST, &rep), LETHE_OK);
        reanchors += rep.reanchors;
        check_distance(m, rep.distance);
    }
    assert_true(reanchors > b.reanchors);
    free(ids);
    free(order);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0012 */
static void test_m3_release(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 51, 300, 8, LETHE_LOSS_LOGISTIC, 4.7e-3, 0.02);
    const size_t d = m->d, k = 600;
    const double g = m->lat.g, sigma = m->sigma;
    assert_true(sigma > 0.0);
    double sum = 0.0, sum2 = 0.0, prev0 = 0.0;
    double *w = malloc(d * sizeof *w);
    for (size_t r = 0; r < k; r++) {
        lethe_release_report rel;
        m->releases = 1; /* the accountant is test_m3_accountant's: here, the draws */
        assert_status(lethe_model_publish(m, &rel), LETHE_OK);
        assert_int_equal(rel.release, 2);
        memcpy(w, lethe_model_weights(m), d * sizeof *w);
        assert_true(w != m->w);
        for (size_t j = 0; j < d; j++) {
            double q = w[j] / g; /* on the lattice: an integer */
            assert_close(q, nearbyint(q), 0.0, 0.0);
            double z = (w[j] - nearbyint(m->w[j] / g) * g) / sigma;
            sum += z;
            sum2 += z * z;
        }
        /* fresh noise each release */
        assert_true(r == 0 || memcmp(&w[0], &prev0, sizeof prev0) != 0);
        prev0 = w[0];
    }
    /* the noise is N(0, σ²) per weight: mean and variance of k·d draws */
    double N = (double)(k * d), mean = sum / N, var = sum2 / N - mean * mean;
    assert_le(fabs(mean), 5.0 / sqrt(N));
    assert_le(fabs(var - 1.0), 6.0 * sqrt(2.0 / N));
    /* predictions use the release, never θ */
    double label = 0.0, prob = 0.0;
    assert_status(lethe_model_predict(m, 1, m->x, d, &label, &prob), LETHE_OK);
    double z = cblas_ddot((int)d, m->x, 1, lethe_model_weights(m), 1);
    assert_close(prob, 1.0 / (1.0 + exp(-z)), 1e-12, 0.0);
    /* the same seed gives the same first release; another gives another */
    lethe_model *a = m3_model(ctx, 51, 300, 8, LETHE_LOSS_LOGISTIC, 4.7e-3, 0.02);
    lethe_model *b = m3_model(ctx, 51, 300, 8, LETHE_LOSS_LOGISTIC, 4.7e-3, 0.02);
    assert_memory_equal(a->pub, b->pub, d * sizeof *a->pub);
    lethe_budget ba;
    assert_status(lethe_model_budget(a, &ba), LETHE_OK);
    assert_true(ba.seeded);
    free(w);
    lethe_model_free(a);
    lethe_model_free(b);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0013 */
static void test_m3_accountant(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 61, 250, 6, LETHE_LOSS_LOGISTIC, 3.1e-3, 0.04);
    const double tau = LETHE__LATTICE_TV;
    for (size_t r = 1; r <= 64; r++) {
        lethe_budget b;
        assert_status(lethe_model_budget(m, &b), LETHE_OK);
        assert_int_equal(b.releases, r);
        /* σ calibrates one release: δ_GDP(μ, ε) + (1 + e^ε)·d·τ ≤ δ */
        assert_le(lethe_gdp_delta(b.sensitivity / b.sigma, 1.0) +
                      (1.0 + exp(1.0)) * (double)m->d * tau, 1e-5);
        assert_close(b.mu_total, b.mu * sqrt((double)r), 1e-12, 0.0);
        /* ε_total is the smallest ε whose δ fits, for the r releases */
        double e = b.epsilon_total, units = (double)(r * m->d);
        assert_true(isfinite(e) && e > 0.0);
        assert_le(lethe_gdp_delta(b.mu_total, e) + (1.0 + exp(e)) * units * tau, 1e-5 * (1 + 1e-9));
        double e2 = e * (1.0 - 1e-6);
        assert_true(lethe_gdp_delta(b.mu_total, e2) + (1.0 + exp(e2)) * units * tau > 1e-5);
        /* never below the GDP profile alone */
        double eg = 0.0;
        assert_status(lethe_gdp_epsilon(b.mu_total, 1e-5, &eg), LETHE_OK);
        assert_le(eg, e);
        double qe = 0.0, qd = 0.0;
        assert_status(lethe_model_epsilon(m, 1e-5, &qe), LETHE_OK);
        assert_close(qe, e, 0.0, 0.0);
        assert_status(lethe_model_delta(m, e, &qd), LETHE_OK);
        assert_le(qd, 1e-5 * (1.0 + 1e-9));
        assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    }
    /* past the history the accountant can certify (no ε reaches δ: the
     * sampler's (1 + e^ε)·k·d·τ, M3-F1), a release is refused, changing nothing */
    size_t k = 65;
    for (; !isnan(lethe__m3_epsilon(m, k + 1, 1e-5)); k++)
        assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_true(k < 2000);
    uint64_t pos = lethe__rng_position(m->rng);
    assert_status(lethe_model_publish(m, NULL), LETHE_EBUDGET);
    assert_msg_has(ctx, "no ε reaches δ");
    assert_int_equal(lethe__rng_position(m->rng), pos);
    assert_int_equal(m->releases, k);
    print_message("m3: the accountant covers %zu releases at d = %zu, (1, 1e-5)\n", k, m->d);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* A release over the owner's cap is refused before any noise is drawn.
 * EVIDENCE: LTH-C-0013 */
static void test_m3_cap_refuses(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 71, 260, 7, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1);
    lethe_train_options o;
    m3_options(&o, 2.9e-3, 0.03);
    lethe_model *probe = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &probe), LETHE_OK);
    o.epsilon_cap = lethe__m3_epsilon(probe, 3, 1e-5) * (1.0 + 1e-9);
    lethe_model_free(probe);
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_int_equal(b.releases_left, 2);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    uint64_t id = 17;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    double *pub = malloc(m->d * sizeof *pub);
    memcpy(pub, m->pub, m->d * sizeof *pub);
    uint64_t pos = lethe__rng_position(m->rng);
    assert_status(lethe_model_publish(m, NULL), LETHE_EBUDGET);
    assert_msg_has(ctx, "cap");
    assert_memory_equal(pub, m->pub, m->d * sizeof *pub);
    assert_int_equal(lethe__rng_position(m->rng), pos);
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_int_equal(b.releases, 3);
    assert_int_equal(b.releases_left, 0);
    assert_false(b.fresh);
    size_t k = 0;
    const uint64_t *un = lethe_model_unpublished(m, &k);
    assert_int_equal(k, 1);
    assert_int_equal(un[0], 17);
    /* a guo model has nothing to publish */
    o.mechanism = LETHE_MECH_M1;
    o.lambda = 1e-3;
    o.epsilon_cap = 0.0;
    lethe_model *g = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &g), LETHE_OK);
    assert_status(lethe_model_publish(g, NULL), LETHE_EINVAL);
    assert_ptr_equal(lethe_model_weights(g), g->w);
    free(pub);
    lethe_model_free(g);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* ‖w*(A) − w*(B)‖ for A = B ∪ {z}, exact retrains. */
static double neighbour_distance(lethe_model *a, uint64_t z)
{
    double *wa = malloc(a->d * sizeof *wa), *wb = malloc(a->d * sizeof *wb), g = 0.0;
    tu_retrain_same_b(a, wa, &g);
    lethe_removal_report rep;
    assert_status(lethe_model_remove(a, &z, 1, LETHE_PATH_EXACT, &rep), LETHE_OK);
    tu_retrain_same_b(a, wb, &g);
    double dd = tu_dist(wa, wb, a->d);
    free(wa);
    free(wb);
    return dd;
}

/* EVIDENCE: LTH-C-0013 */
static void test_m3_dp_sensitivity(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t n = 240, d = 6;
    lethe_dataset *ds = random_data(ctx, 81, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_CLIP, 0.75);
    lethe_train_options o;
    m3_options(&o, 0.021, 0.01);
    o.dp_releases = 1;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_true(b.dp_releases);
    assert_int_equal(b.dp_min_records, n / 2);
    double S = 2.0 * 0.75 * 1.0 / (0.021 * (double)(n / 2));
    assert_close(b.dp_sensitivity, S, 1e-12, 0.0);
    double want = 2.0 * 0.01 + S + b.lattice * sqrt((double)d);
    assert_le(want, b.sensitivity);
    assert_close(b.sensitivity, want, 1e-12, 0.0);
    /* the ERM sensitivity bound against real neighbours, in both directions */
    for (uint64_t z = 0; z < 12; z++) {
        lethe_model *a = NULL;
        assert_status(lethe_model_train(ctx, ds, &o, &a), LETHE_OK);
        double dd = neighbour_distance(a, 7 * z + 2);
        assert_le(dd, 2.0 * 0.75 / (0.021 * (double)n));
        lethe_model_free(a);
    }
    /* removals down to the floor, then a release is refused, changing nothing */
    uint64_t ids[200];
    for (size_t t = 0; t < 200; t++)
        ids[t] = t;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, n - n / 2 - 1, LETHE_PATH_EXACT, &rep), LETHE_OK);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK); /* n/2 + 1 records: allowed */
    assert_status(lethe_model_remove(m, &ids[n - n / 2 - 1], 2, LETHE_PATH_EXACT, &rep),
                  LETHE_OK);
    uint64_t pos = lethe__rng_position(m->rng);
    assert_status(lethe_model_publish(m, NULL), LETHE_ECAPACITY);
    assert_int_equal(lethe__rng_position(m->rng), pos);
    lethe_model_free(m);
    /* refused: R measured from the data, the squared loss, a floor above n */
    lethe_dataset *meas = random_data(ctx, 82, 50, 3, LETHE_LOSS_LOGISTIC, LETHE_NORM_MEASURE, 1);
    m = NULL;
    assert_status(lethe_model_train(ctx, meas, &o, &m), LETHE_EINVAL);
    assert_msg_has(ctx, "norm bound");
    assert_null(m);
    lethe_dataset_free(meas);
    o.loss = LETHE_LOSS_SQUARED;
    lethe_dataset *sq = random_data(ctx, 83, 50, 3, LETHE_LOSS_SQUARED, LETHE_NORM_CLIP, 1);
    assert_status(lethe_model_train(ctx, sq, &o, &m), LETHE_EINVAL);
    lethe_dataset_free(sq);
    o.loss = LETHE_LOSS_LOGISTIC;
    o.dp_min_records = n + 1;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_null(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* The guaranteed count holds for the worst records first, and stays
 * consistent: after t removals, the count from the new state is at least
 * what was left of the old one. EVIDENCE: LTH-C-0014 */
static void test_m3_capacity_guaranteed_adversarial(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 91, 900, 10, LETHE_LOSS_LOGISTIC, 0.3, 0.05);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    size_t K = b.capacity_guaranteed;
    print_message("m3: guaranteed capacity at λ = 0.3, Δ_max = 0.05, n = 900: %zu\n", K);
    assert_true(K >= 5);
    size_t *order = by_loss(m);
    uint64_t *ids = malloc(m->n_rows * sizeof *ids);
    for (size_t i = 0; i < m->n_rows; i++)
        ids[i] = m->ids[order[i]];
    size_t runs = K < 60 ? K : 60;
    for (size_t t = 0; t < runs; t++) {
        lethe_removal_report rep;
        assert_status(lethe_model_remove(m, &ids[t], 1, LETHE_PATH_FAST, &rep), LETHE_OK);
        assert_int_equal(rep.steps, 1);
        assert_int_equal(rep.reanchors, 0);
        assert_int_equal(rep.path, LETHE_PATH_FAST);
        assert_true(rep.certified);
        assert_status(lethe_model_budget(m, &b), LETHE_OK);
        assert_true(b.capacity_guaranteed + t + 1 >= K);
    }
    /* a small λ gives nothing guaranteed: the bound says so */
    lethe_model *s = m3_model(ctx, 92, 900, 10, LETHE_LOSS_LOGISTIC, 1e-4, 0.03);
    assert_status(lethe_model_budget(s, &b), LETHE_OK);
    assert_int_equal(b.capacity_guaranteed, 0);
    free(ids);
    free(order);
    lethe_model_free(s);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

static void test_m3_refresh(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 95, 400, 8, LETHE_LOSS_LOGISTIC, 1.7e-3, 0.03);
    uint64_t ids[] = { 3, 9, 27 };
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 3, LETHE_PATH_FAST, &rep), LETHE_OK);
    uint64_t pos = lethe__rng_position(m->rng);
    assert_status(lethe_model_refresh(m), LETHE_OK);
    assert_int_equal(lethe__rng_position(m->rng), pos); /* M3 draws no noise to refresh */
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_false(b.fresh);
    assert_le(b.distance, 1e-6);
    check_distance(m, b.distance);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_true(b.fresh);
    assert_int_equal(b.releases, 2);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

static void test_m3_errors(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 97, 60, 4, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1);
    lethe_train_options o;
    lethe_model *m = NULL;
    struct { double *field; double bad; } cases[] = {
        { &o.delta_max, 0.0 }, { &o.delta_max, -0.5 }, { &o.delta_max, INFINITY },
        { &o.sigma, 2.5 }, { &o.epsilon_cap, -1.0 }, { &o.epsilon, 0.0 }, { &o.delta, 1.0 },
        { &o.tol, 0.05 }, { &o.lambda, 0.0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        m3_options(&o, 1e-2, 0.03);
        *cases[i].field = cases[i].bad;
        assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
        assert_true(lethe_ctx_errmsg(ctx)[0] != '\0');
        assert_null(m);
    }
    m3_options(&o, 1e-2, 0.03);
    o.dp_releases = 2;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    o.dp_releases = 0;
    o.mechanism = LETHE_MECH_M2;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_msg_has(ctx, "lethe_m2_train");
    o.mechanism = (lethe_mechanism)7;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_null(m);
    /* a failed removal changes nothing: an unknown id after a good one */
    o.mechanism = LETHE_MECH_M3;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    double *w = malloc(m->d * sizeof *w);
    memcpy(w, m->w, m->d * sizeof *w);
    uint64_t bad[] = { 5, 999 };
    assert_status(lethe_model_remove(m, bad, 2, LETHE_PATH_FAST, NULL), LETHE_ENOTFOUND);
    assert_memory_equal(w, m->w, m->d * sizeof *w);
    assert_int_equal(m->n_live, 60);
    size_t k = 1;
    assert_null(lethe_model_unpublished(m, &k));
    assert_int_equal(k, 0);
    assert_status(lethe_model_publish(NULL, NULL), LETHE_EINVAL);
    assert_int_equal(lethe_model_mechanism(m), LETHE_MECH_M3);
    assert_int_equal(lethe_model_mechanism(NULL), 0);
    /* one record is refused before anything is made */
    lethe_dataset *one = random_data(ctx, 98, 1, 4, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1);
    lethe_model *m1 = NULL;
    assert_status(lethe_model_train(ctx, one, &o, &m1), LETHE_EEMPTY);
    assert_null(m1);
    lethe_dataset_free(one);
    free(w);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* M3's one-column pass against the two-column pass guo uses (the same sums
 * in another order): the residual and the gradient agree within the
 * rounding bound each one charges. EVIDENCE: LTH-C-0012 */
static void test_m3_pass_matches_full(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 93, 1500, 40, LETHE_LOSS_LOGISTIC, 1.3e-3, 0.03);
    uint64_t ids[] = { 2, 3, 5, 8, 13, 21, 34 };
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 7, LETHE_PATH_FAST, &rep), LETHE_OK);
    const size_t d = m->d;
    double *p = malloc(d * sizeof *p), *g = calloc(d, sizeof *g), *w = malloc(d * sizeof *w);
    double *r1 = malloc(d * sizeof *r1);
    uint64_t s = 7;
    for (size_t j = 0; j < d; j++) {
        p[j] = 1e-3 * tu_uniform(&s);
        w[j] = m->w[j] + p[j];
    }
    lethe_pass a, b;
    lethe__residual_pass(m, m->b, w, p, g, &a);
    memcpy(r1, m->g2, d * sizeof *r1);
    assert_true(isnan(a.bound));
    m->mech = LETHE_MECH_M1; /* the full pass, on the same rows, b = 0 */
    lethe__residual_pass(m, m->b, w, p, g, &b);
    m->mech = LETHE_MECH_M3;
    assert_true(isfinite(b.bound));
    assert_le(fabs(a.residual - b.residual), a.fp_error + b.fp_error);
    assert_le(tu_dist(r1, m->g2, d), a.fp_error + b.fp_error);
    assert_close(a.fp_error, b.fp_error, 1e-9, 0.0);
    free(p);
    free(g);
    free(w);
    free(r1);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

static char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int at = 0;
    char *p = buf[at++ % 4];
    snprintf(p, 256, "/tmp/lethe-m3-%ld-%s", (long)getpid(), name);
    return p;
}

static void test_m3_save_load(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = m3_model(ctx, 99, 300, 7, LETHE_LOSS_LOGISTIC, 2.2e-3, 0.03);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    uint64_t ids[] = { 4, 8, 15, 16, 23, 42 };
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 2, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_status(lethe_model_remove(m, ids + 2, 4, LETHE_PATH_EXACT, &rep), LETHE_OK);
    const char *path = tmp_path("state");
    assert_status(lethe_model_save(m, path), LETHE_OK);
    lethe_mechanism mech = LETHE_MECH_M1;
    assert_status(lethe_state_mechanism(ctx, path, &mech), LETHE_OK);
    assert_int_equal(mech, LETHE_MECH_M3);
    lethe_model *l = NULL;
    assert_status(lethe_model_load(ctx, path, &l), LETHE_OK);
    assert_int_equal(lethe_model_mechanism(l), LETHE_MECH_M3);
    assert_memory_equal(l->w, m->w, m->d * sizeof *m->w);
    assert_memory_equal(l->pub, m->pub, m->d * sizeof *m->pub);
    lethe_budget a, b;
    assert_status(lethe_model_budget(m, &a), LETHE_OK);
    assert_status(lethe_model_budget(l, &b), LETHE_OK);
    assert_int_equal(b.releases, 2);
    assert_false(b.fresh);
    assert_close(b.sigma, a.sigma, 0.0, 0.0);
    assert_close(b.delta_max, 0.03, 0.0, 0.0);
    size_t k = 0;
    const uint64_t *un = lethe_model_unpublished(l, &k);
    assert_int_equal(k, 6);
    assert_memory_equal(un, ids, sizeof ids);
    /* the loaded model goes on: publish, then the same release as the original */
    assert_status(lethe_model_publish(l, NULL), LETHE_OK);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_memory_equal(l->pub, m->pub, m->d * sizeof *m->pub);
    assert_null(lethe_model_unpublished(l, &k));
    /* the public file names M3 and holds the release, not θ */
    const char *pub = tmp_path("public");
    assert_status(lethe_model_save_public(l, pub), LETHE_OK);
    FILE *f = fopen(pub, "r");
    char line[256];
    int named = 0;
    while (fgets(line, sizeof line, f) != NULL)
        named |= strncmp(line, "mechanism M3", 12) == 0;
    fclose(f);
    assert_true(named);
    remove(path);
    remove(pub);
    lethe_model_free(l);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* The smooth hinge and Huber losses under M3: every removal against the
 * exact retrain (both paths, singles and batches), the state file, DP
 * releases (|ℓ'| ≤ 1), and no guaranteed capacity (ℓ'' jumps: no γ_z);
 * guo refuses them. EVIDENCE: LTH-C-0004 LTH-C-0012 */
static void test_m3_piecewise_losses(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const lethe_loss losses[] = { LETHE_LOSS_SMOOTH_HINGE, LETHE_LOSS_HUBER };
    for (size_t li = 0; li < 2; li++) {
        for (int path = 0; path < 2; path++) {
            lethe_model *m = m3_model(ctx, 131 + li * 2 + (uint64_t)path, 600, 11, losses[li],
                                      1.9e-3, 0.02);
            lethe_budget b;
            assert_status(lethe_model_budget(m, &b), LETHE_OK);
            assert_int_equal(b.capacity_guaranteed, 0);
            check_distance(m, b.distance);
            const size_t ks[] = { 1, 6, 1, 25 };
            unsigned steps = remove_batches(m, ks, 4, 2, 7, (lethe_removal_path)path, 0.02);
            print_message("m3 %s, %s path: 4 removals (33 records), %u Newton steps\n",
                          lethe_loss_name(losses[li]), path ? "exact" : "fast", steps);
            /* the state file keeps the loss */
            const char *p = tmp_path("state");
            assert_status(lethe_model_save(m, p), LETHE_OK);
            lethe_model *l = NULL;
            assert_status(lethe_model_load(ctx, p, &l), LETHE_OK);
            assert_int_equal(lethe_model_loss(l), losses[li]);
            assert_memory_equal(l->w, m->w, m->d * sizeof *m->w);
            remove(p);
            lethe_model_free(l);
            lethe_model_free(m);
        }
        /* bounded ℓ': DP releases are available; guo is not */
        lethe_dataset *ds = random_data(ctx, 141 + li, 300, 6, losses[li], LETHE_NORM_CLIP, 1.0);
        lethe_train_options o;
        m3_options(&o, 3e-3, 0.03);
        o.loss = losses[li];
        o.dp_releases = 1;
        lethe_model *m = NULL;
        assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
        lethe_model_free(m);
        m = NULL;
        o.mechanism = LETHE_MECH_M1;
        o.dp_releases = 0;
        o.lambda = 1e-3;
        assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
        assert_null(m);
        assert_non_null(strstr(lethe_ctx_errmsg(ctx), "guo supports"));
        lethe_dataset_free(ds);
    }
    lethe_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m3_remove_matches_retrain),
        cmocka_unit_test(test_m3_distance_bounds_truth),
        cmocka_unit_test(test_m3_release),
        cmocka_unit_test(test_m3_accountant),
        cmocka_unit_test(test_m3_cap_refuses),
        cmocka_unit_test(test_m3_dp_sensitivity),
        cmocka_unit_test(test_m3_capacity_guaranteed_adversarial),
        cmocka_unit_test(test_m3_refresh),
        cmocka_unit_test(test_m3_errors),
        cmocka_unit_test(test_m3_save_load),
        cmocka_unit_test(test_m3_pass_matches_full),
        cmocka_unit_test(test_m3_piecewise_losses),
    };
    return cmocka_run_group_tests_name("m3", tests, NULL, NULL);
}
