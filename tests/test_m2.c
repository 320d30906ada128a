/*
 * Mechanism M2 (data-free removal): the Newton step against retraining
 * within γ(m), γ(m) against the actual distance in every trial, the
 * published noise against its calibrated σ, and the errors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <float.h>

#include <unistd.h>

#include <cblas.h>

#include "certify/m2.h"
#include "optim/dataset.h"

static const unsigned char SEED[32] = { 0x32, 0x6d };

static lethe_ctx *ctx_new(void)
{
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    return ctx;
}

static lethe_dataset *random_data(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d)
{
    return tu_dataset(ctx, seed, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1.0);
}

static lethe_m2 *train(lethe_ctx *ctx, const lethe_dataset *ds, double lambda, size_t cap)
{
    lethe_m2_options o;
    lethe_m2_options_init(&o);
    o.lambda = lambda;
    o.capacity = cap;
    o.seed = SEED;
    lethe_m2 *m = NULL;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_OK);
    return m;
}

/* w*_{S∖U}: retrain on the rows not removed, to a tight tolerance. */
static void retrain(lethe_ctx *ctx, const lethe_dataset *ds, const lethe_m2 *m, double *w)
{
    size_t n = ds->n, d = ds->d;
    unsigned char *alive = malloc(n);
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += (alive[i] = m->removed[lethe__idindex_find(&m->index, ds->ids[i])] == 0);
    lethe_objective obj = { LETHE_LOSS_LOGISTIC, n, d, ds->x, ds->y, alive, live, m->lambda,
                            NULL };
    lethe_optim_ws ws;
    double *U = malloc(d * d * sizeof *U), gn;
    unsigned it;
    assert_status(lethe__optim_ws_init(ctx, &ws, n, d), LETHE_OK);
    memset(w, 0, d * sizeof *w);
    assert_status(lethe__newton(ctx, &obj, w, 1e-12, 100, U, NULL, &ws, &gn, &it), LETHE_OK);
    lethe__optim_ws_free(ctx, &ws);
    free(U);
    free(alive);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double dist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

/* Remove one record at a time up to the capacity; after each, the Newton
 * step is within γ(m) of retraining (m = records removed so far). */
static void check_path(lethe_ctx *ctx, const lethe_dataset *ds, double lambda, size_t cap,
                       size_t stride, double *tightest)
{
    lethe_m2 *m = train(ctx, ds, lambda, cap);
    double *wr = malloc(ds->d * sizeof *wr);
    lethe_m2_report rep;
    for (size_t k = 0; k < cap; k++) {
        size_t i = (stride * k + 1) % ds->n;
        assert_status(lethe_m2_remove(m, 1, ds->x + i * ds->d, ds->d, &ds->y[i], &ds->ids[i],
                                      &rep), LETHE_OK);
        assert_int_equal(rep.used, k + 1);
        retrain(ctx, ds, m, wr);
        double actual = dist(m->w_bar, wr, ds->d);
        /* the bound of proofs/m2-removal.md (4.1) for the m removed so far
         * (the noise is calibrated for m = cap, which is larger) */
        double lam = m->lambda, n = (double)m->n, mm = (double)(k + 1);
        double t = m->tol * fmax(1.0, lam * n), a = mm * m->L + t;
        double bound = m->M * a * a / (2.0 * lam * lam * lam * n * n) +
                       (2.0 * t + 1e-10 * mm * (m->L + t / n)) / (lam * (n - mm));
        assert_le(actual, bound);
        assert_le(bound, m->sensitivity); /* Δ(m) grows with m up to the capacity */
        *tightest = fmin(*tightest, bound / fmax(actual, 1e-300));
    }
    assert_status(lethe_m2_status(m, &rep), LETHE_OK);
    assert_int_equal(rep.used, cap);
    free(wr);
    lethe_m2_free(m);
}

/* EVIDENCE: LTH-C-0009 */
static void test_newton_within_gamma(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    double tightest = INFINITY;
    for (uint64_t s = 0; s < 6; s++) {
        lethe_dataset *ds = random_data(ctx, 500 + s, 300 + 100 * s, 5 + s);
        check_path(ctx, ds, 0.05 + 0.05 * (double)(s % 3), 12, 7, &tightest);
        lethe_dataset_free(ds);
    }
    print_message("Δ(m) / ‖w̄ − w*_{S∖U}‖ ≥ %.3g over 72 trials\n", tightest);
    lethe_ctx_free(ctx);
}

/* Real data: Fashion-MNIST test split, pullover vs coat, d = 784. */
/* EVIDENCE: LTH-C-0009 */
static void test_newton_within_gamma_real(void **state)
{
    (void)state;
    const char *dir = tu_fmnist();
    if (dir == NULL)
        skip();
    lethe_ctx *ctx = ctx_new();
    char img[512], lab[512];
    snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", dir);
    lethe_read_options ro;
    lethe_read_options_init(&ro);
    ro.pos_class = 4;
    ro.neg_class = 2;
    ro.policy = LETHE_NORM_NORMALIZE;
    ro.R = 1.0;
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &ro, &ds), LETHE_OK);
    double tightest = INFINITY;
    check_path(ctx, ds, 0.1, 5, 131, &tightest);
    print_message("real data: Δ(m) / actual ≥ %.3g\n", tightest);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* The published weights are w̄ + ν with ν ~ N(0, σ²I), fresh at each
 * release: the standardised noise over many releases has mean 0 and
 * variance 1 (z-tests at 4.41717) and passes KS at 0.03805 (n = 5000). */
/* EVIDENCE: LTH-C-0009 */
static void test_noise_calibrated(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 600, 2000, 20); /* 250 releases of 20 */
    lethe_m2 *m = train(ctx, ds, 1.0, 250); /* ‖w̄ + ν‖ stays inside R/λ: no projection */
    const size_t N = 5000;
    double *z = malloc(N * sizeof *z);
    size_t got = 0;
    for (size_t k = 0; got < N; k++) {
        assert_true(cblas_dnrm2((int)m->d, m->w_pub, 1) < m->R / m->lambda * (1.0 - 1e-9));
        for (size_t j = 0; j < m->d && got < N; j++) {
            /* every published weight is a lattice point (LTH-C-0010) */
            double q = m->w_pub[j] / m->lat.g;
            assert_true(!(q < nearbyint(q)) && !(q > nearbyint(q)));
            z[got++] = (m->w_pub[j] - m->w_bar[j]) / m->sigma;
        }
        lethe_m2_report rep;
        assert_status(lethe_m2_remove(m, 1, ds->x + k * ds->d, ds->d, &ds->y[k], &ds->ids[k],
                                      &rep), LETHE_OK);
    }
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < N; i++)
        mean += z[i];
    mean /= (double)N;
    for (size_t i = 0; i < N; i++)
        var += (z[i] - mean) * (z[i] - mean);
    var /= (double)(N - 1);
    assert_le(fabs(mean), 4.41717 / sqrt((double)N));
    assert_le(fabs(var - 1.0), 4.41717 * sqrt(2.0 / (double)(N - 1)));
    /* KS against Φ */
    qsort(z, N, sizeof *z, cmp_double);
    double D = 0.0;
    for (size_t i = 0; i < N; i++) {
        double F = 0.5 * erfc(-z[i] / sqrt(2.0));
        D = fmax(D, fmax((double)(i + 1) / (double)N - F, F - (double)i / (double)N));
    }
    assert_le(D, 0.03805);
    /* the charges are in Δ and δ (LTH-C-0010, LTH-C-0011) */
    lethe_m2_report r;
    assert_status(lethe_m2_status(m, &r), LETHE_OK);
    double base = lethe__m2_sensitivity(m->M, m->L, m->lambda, m->n, m->capacity, m->tol);
    assert_true(r.lattice_rounding >= m->lat.g * sqrt((double)m->d));
    assert_true(r.sensitivity >= base + r.newton_fp + r.lattice_rounding);
    assert_true(r.newton_fp > 0.0 && r.newton_fp < 1e-6 * base);
    assert_true(r.delta_sampler >= (1.0 + exp(m->epsilon)) * (double)m->d * 8.6e-15);
    double eps = NAN, dl = NAN;
    assert_status(lethe_m2_epsilon(m, m->delta, &eps), LETHE_OK);
    assert_le(eps, m->epsilon * (1.0 + 1e-9)); /* (ε, δ) holds with the charges inside */
    assert_status(lethe_m2_delta(m, m->epsilon, &dl), LETHE_OK);
    assert_le(dl, m->delta * (1.0 + 1e-9));
    assert_true(dl >= r.delta_sampler);
    assert_non_null(strstr(r.sampler, "lattice"));
    free(z);
    lethe_m2_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* The published weights never leave the ball ‖w‖ ≤ R/λ (the projection). */
static void test_release_projected(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 610, 200, 8);
    lethe_m2 *m = train(ctx, ds, 0.05, 100); /* σ far above R/λ: projection binds */
    lethe_m2_report rep;
    for (size_t k = 0; k < 20; k++) {
        double norm = cblas_dnrm2((int)m->d, m->w_pub, 1);
        assert_le(norm, m->R / m->lambda);
        assert_true(norm > 0.99 * m->R / m->lambda);
        assert_status(lethe_m2_remove(m, 1, ds->x + k * ds->d, ds->d, &ds->y[k], &ds->ids[k],
                                      &rep), LETHE_OK);
    }
    lethe_m2_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

static void test_m2_errors(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 700, 120, 6);
    lethe_m2 *m = train(ctx, ds, 0.1, 3);
    const double *x = ds->x;
    const double *y = ds->y;
    const uint64_t *ids = ds->ids;
    double before[6];
    memcpy(before, lethe_m2_weights(m), sizeof before);
    lethe_m2_report rep;
    assert_status(lethe_m2_remove(m, 0, x, 6, y, ids, &rep), LETHE_EINVAL);
    assert_status(lethe_m2_remove(m, 1, x, 5, y, ids, &rep), LETHE_EINVAL);
    assert_status(lethe_m2_remove(m, 4, x, 6, y, ids, &rep), LETHE_ECAPACITY);
    uint64_t unknown = 9999;
    assert_status(lethe_m2_remove(m, 1, x, 6, y, &unknown, &rep), LETHE_ENOTFOUND);
    uint64_t dup[2] = { 0, 0 };
    double x2[12];
    memcpy(x2, x, 6 * sizeof(double));
    memcpy(x2 + 6, x, 6 * sizeof(double));
    double y2[2] = { y[0], y[0] };
    assert_status(lethe_m2_remove(m, 2, x2, 6, y2, dup, &rep), LETHE_EDUPLICATE);
    /* features or label not those trained on */
    double wrong[6];
    memcpy(wrong, x, sizeof wrong);
    wrong[2] = nextafter(wrong[2], 1.0);
    assert_status(lethe_m2_remove(m, 1, wrong, 6, y, ids, &rep), LETHE_EMISMATCH);
    double flipped = -y[0];
    assert_status(lethe_m2_remove(m, 1, x, 6, &flipped, ids, &rep), LETHE_EMISMATCH);
    double half = 0.5;
    assert_status(lethe_m2_remove(m, 1, x, 6, &half, ids, &rep), LETHE_ELABEL);
    wrong[0] = NAN;
    assert_status(lethe_m2_remove(m, 1, wrong, 6, y, ids, &rep), LETHE_ENONFINITE);
    /* the published model is μ-GDP, μ = Δ/σ: at its own δ, ε is at most its ε */
    double e = 0.0, dl = 0.0;
    assert_status(lethe_m2_epsilon(m, 1e-5, &e), LETHE_OK);
    assert_le(e, 1.0);
    assert_close(e, 1.0, 1e-9, 0.0);
    assert_status(lethe_m2_delta(m, 1.0, &dl), LETHE_OK);
    assert_le(dl, 1e-5);
    assert_status(lethe_m2_delta(m, -1.0, &dl), LETHE_EINVAL);
    /* nothing changed by any of these */
    assert_memory_equal(before, lethe_m2_weights(m), sizeof before);
    assert_status(lethe_m2_status(m, &rep), LETHE_OK);
    assert_int_equal(rep.used, 0);
    /* dry runs answer as the removal would, and change nothing */
    assert_status(lethe_m2_check_removal(m, 1, x, 6, y, ids), LETHE_OK);
    assert_status(lethe_m2_check_removal(m, 1, wrong, 6, y, ids), LETHE_ENONFINITE);
    assert_status(lethe_m2_check_removal(m, 1, x, 6, &flipped, ids), LETHE_EMISMATCH);
    assert_status(lethe_m2_check_removal(m, 4, x, 6, y, ids), LETHE_ECAPACITY);
    assert_status(lethe_m2_check_removal(m, 2, x2, 6, y2, dup), LETHE_EDUPLICATE);
    assert_memory_equal(before, lethe_m2_weights(m), sizeof before);
    for (size_t i = 0; i < m->n; i++)
        assert_int_equal(m->removed[i], 0);
    /* the capacity is honoured exactly: 3 fit, the 4th is refused */
    for (size_t i = 0; i < 3; i++)
        assert_status(lethe_m2_remove(m, 1, x + i * 6, 6, &y[i], &ids[i], &rep), LETHE_OK);
    assert_status(lethe_m2_remove(m, 1, x, 6, y, ids, &rep), LETHE_ECAPACITY);
    assert_status(lethe_m2_remove(m, 1, x + 3 * 6, 6, &y[3], &ids[3], &rep), LETHE_ECAPACITY);
    assert_int_equal(rep.used, 3);
    lethe_m2_free(m);
    lethe_m2_free(NULL);
    /* training options */
    lethe_m2_options o;
    lethe_m2_options_init(&o);
    o.capacity = 0;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_EINVAL);
    o.capacity = 120;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_EINVAL);
    lethe_m2_options_init(&o);
    o.lambda = 0.0;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_EINVAL);
    lethe_m2_options_init(&o);
    o.delta = 1.0;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_status(lethe_m2_train(ctx, NULL, &o, &m), LETHE_EINVAL);
    /* a measured R would let σ depend on the data */
    lethe_dataset *measured = NULL;
    assert_status(lethe_dataset_create(ctx, 120, 6, ds->x, 6, ds->y, NULL, LETHE_NORM_MEASURE, 0,
                                       &measured), LETHE_OK);
    lethe_m2_options_init(&o);
    o.capacity = 10;
    assert_status(lethe_m2_train(ctx, measured, &o, &m), LETHE_EINVAL);
    assert_true(strstr(lethe_ctx_errmsg(ctx), "fixed in advance") != NULL);
    lethe_dataset_free(measured);
    /* the capacity derived from a target excess risk α (LTH-C-0008) */
    lethe_dataset *big = random_data(ctx, 701, 3000, 6);
    lethe_m2_options_init(&o);
    o.lambda = 1.0;
    o.capacity = 0;
    o.alpha = 0.05;
    assert_status(lethe_m2_train(ctx, big, &o, &m), LETHE_OK);
    lethe_m2_report st2;
    assert_status(lethe_m2_status(m, &st2), LETHE_OK);
    lethe_capacity_query q = { 3000, 6, 1.0, 1e-5, 1.0, 0.0, 0.0, 0.05, 0, 0, o.tol };
    lethe_capacity c;
    assert_status(lethe_loss_capacity_constants(LETHE_LOSS_LOGISTIC, 1.0, 1.0, &q.L, &q.M),
                  LETHE_OK);
    assert_status(lethe_deletion_capacity(&q, &c), LETHE_OK);
    assert_true(c.newton > 0);
    assert_int_equal(st2.capacity, c.newton < 1500 ? c.newton : 1500);
    lethe_m2_free(m);
    o.alpha = 1e-4; /* not even one removal fits */
    assert_status(lethe_m2_train(ctx, big, &o, &m), LETHE_EINVAL);
    lethe_dataset_free(big);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* A saved and reloaded M2 model is the same model: σ, Δ, the published
 * weights, the factor, the digests and the seeded stream; damaged or edited
 * files are refused. */
static void test_m2_save_load(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 720, 300, 7);
    lethe_m2_options o;
    lethe_m2_options_init(&o);
    o.capacity = 10;
    o.seed = SEED;
    o.tol = 1e-6; /* a loose tolerance makes Δ depend visibly on tol */
    lethe_m2 *m = NULL, *l = NULL;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_m2_report r1, r2;
    assert_status(lethe_m2_remove(m, 2, ds->x, ds->d, ds->y, ds->ids, &r1), LETHE_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/lethe-m2-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    assert_status(lethe_m2_save(m, path), LETHE_OK);
    assert_status(lethe_m2_load(ctx, path, &l), LETHE_OK);
    assert_true(!(l->sigma < m->sigma || l->sigma > m->sigma));
    assert_true(!(l->sensitivity < m->sensitivity || l->sensitivity > m->sensitivity));
    assert_memory_equal(l->w_pub, m->w_pub, m->d * sizeof(double));
    assert_memory_equal(l->U, m->U, m->d * m->d * sizeof(double));
    lethe_mechanism mech;
    assert_status(lethe_state_mechanism(ctx, path, &mech), LETHE_OK);
    assert_int_equal(mech, LETHE_MECH_M2);
    /* both go on identically, the seeded noise included */
    assert_status(lethe_m2_remove(m, 1, ds->x + 5 * ds->d, ds->d, &ds->y[5], &ds->ids[5], &r1),
                  LETHE_OK);
    assert_status(lethe_m2_remove(l, 1, ds->x + 5 * ds->d, ds->d, &ds->y[5], &ds->ids[5], &r2),
                  LETHE_OK);
    assert_memory_equal(l->w_pub, m->w_pub, m->d * sizeof(double));
    /* the digests survive: a record already removed, or altered, is refused */
    assert_status(lethe_m2_remove(l, 1, ds->x, ds->d, ds->y, ds->ids, &r2), LETHE_EREMOVED);
    lethe_m2_free(l);
    l = NULL;
    /* edited fields are refused even with a fresh checksum */
    size_t cap = m->capacity;
    m->capacity = m->n; /* beyond n/2 */
    assert_status(lethe_m2_save(m, path), LETHE_OK);
    assert_status(lethe_m2_load(ctx, path, &l), LETHE_EFORMAT);
    m->capacity = cap;
    double tr = m->train_residual;
    m->train_residual = 1.0; /* above the solver's stopping bound */
    assert_status(lethe_m2_save(m, path), LETHE_OK);
    assert_status(lethe_m2_load(ctx, path, &l), LETHE_EFORMAT);
    m->train_residual = tr;
    /* a flipped byte is caught by the checksum; an M1 loader refuses the kind */
    assert_status(lethe_m2_save(m, path), LETHE_OK);
    FILE *f = fopen(path, "r+b");
    fseek(f, 200, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(c ^ 1, f);
    fclose(f);
    assert_status(lethe_m2_load(ctx, path, &l), LETHE_EFORMAT);
    lethe_model *m1 = NULL;
    assert_status(lethe_model_load(ctx, path, &m1), LETHE_EFORMAT);
    assert_null(l);
    remove(path);
    lethe_m2_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

static void test_m2_alloc_failure(void **state)
{
    (void)state;
    double *x, *y;
    tu_problem(9, 80, 4, LETHE_LOSS_LOGISTIC, &x, &y);
    long failures = 0;
    for (int op = 0; op < 2; op++) {
        for (long k = 1;; k++) {
            tu_alloc a = { 0, 0, 0 };
            lethe_allocator al = tu_allocator(&a);
            lethe_ctx *ctx = NULL;
            assert_status(lethe_ctx_create(&al, &ctx), LETHE_OK);
            lethe_dataset *ds = NULL;
            assert_status(lethe_dataset_create(ctx, 80, 4, x, 4, y, NULL, LETHE_NORM_NORMALIZE,
                                               1, &ds), LETHE_OK);
            lethe_m2_options o;
            lethe_m2_options_init(&o);
            o.seed = SEED;
            o.capacity = 5;
            lethe_m2 *m = NULL;
            if (op == 1)
                assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_OK);
            double before[4] = { 0 };
            if (m != NULL)
                memcpy(before, m->w_pub, sizeof before);
            lethe_m2_report rep;
            a.fail_at = a.count + k;
            lethe_status st = op == 0 ? lethe_m2_train(ctx, ds, &o, &m)
                                      : lethe_m2_remove(m, 1, ds->x, 4, ds->y, ds->ids, &rep);
            int failed = a.count >= a.fail_at;
            a.fail_at = 0;
            if (st != LETHE_OK) {
                assert_status(st, LETHE_ENOMEM);
                failures++;
                if (op == 1) {
                    assert_memory_equal(before, m->w_pub, sizeof before);
                    assert_int_equal(m->used, 0);
                } else {
                    assert_null(m);
                }
            }
            lethe_m2_free(m);
            lethe_dataset_free(ds);
            lethe_ctx_free(ctx);
            assert_int_equal(a.live, 0);
            if (!failed)
                break;
        }
    }
    assert_true(failures >= 5);
    free(x);
    free(y);
}

/* w̄ in long double from the data: w* + H_U⁻¹G with H_U = Σ_{S∖U} ℓ''xxᵀ +
 * λ(n − m)I and G = Σ_U (ℓ'x + λw*), by a long-double Cholesky solve.
 * skip_last leaves the last removed record out of U (a negative control). */
static void exact_newton(const lethe_dataset *ds, const lethe_m2 *m, int skip_last,
                         long double *wbar)
{
    const size_t n = ds->n, d = ds->d;
    long double *H = calloc(d * d, sizeof *H), *G = calloc(d, sizeof *G);
    size_t last = SIZE_MAX, used = 0;
    for (size_t i = 0; i < n; i++)
        if (m->removed[lethe__idindex_find(&m->index, ds->ids[i])])
            last = i;
    for (size_t i = 0; i < n; i++) {
        const double *x = ds->x + i * d;
        long double z = 0.0L, y = ds->y[i];
        for (size_t j = 0; j < d; j++)
            z += (long double)m->w_star[j] * x[j];
        long double sp = 1.0L / (1.0L + expl(-y * z)), sm = 1.0L - sp; /* σ(yz), σ(−yz) */
        int gone = m->removed[lethe__idindex_find(&m->index, ds->ids[i])] &&
                   !(skip_last && i == last);
        if (gone) {
            used++;
            for (size_t j = 0; j < d; j++)
                G[j] += -y * sm * x[j] + (long double)m->lambda * m->w_star[j];
        } else {
            for (size_t j = 0; j < d; j++)
                for (size_t k = 0; k < d; k++)
                    H[j * d + k] += sp * sm * x[j] * x[k];
        }
    }
    for (size_t j = 0; j < d; j++)
        H[j * d + j] += (long double)m->lambda * (long double)(n - used);
    for (size_t j = 0; j < d; j++) { /* H = LLᵀ in place (lower) */
        for (size_t k = 0; k < j; k++)
            H[j * d + j] -= H[j * d + k] * H[j * d + k];
        H[j * d + j] = sqrtl(H[j * d + j]);
        for (size_t i = j + 1; i < d; i++) {
            for (size_t k = 0; k < j; k++)
                H[i * d + j] -= H[i * d + k] * H[j * d + k];
            H[i * d + j] /= H[j * d + j];
        }
    }
    for (size_t i = 0; i < d; i++) { /* L z = G */
        for (size_t k = 0; k < i; k++)
            G[i] -= H[i * d + k] * G[k];
        G[i] /= H[i * d + i];
    }
    for (size_t i = d; i-- > 0;) { /* Lᵀ p = z */
        for (size_t k = i + 1; k < d; k++)
            G[i] -= H[k * d + i] * G[k];
        G[i] /= H[i * d + i];
    }
    for (size_t j = 0; j < d; j++)
        wbar[j] = (long double)m->w_star[j] + G[j];
    free(H);
    free(G);
}

/* EVIDENCE: LTH-C-0011 */
/* The library's w̄ against the Newton step in long double from the data:
 * within the rounding bound plus the Neumann allowance Δ already holds, after
 * each of several batches. A w̄ that misses one removed record is far
 * outside, so the test can fail. */
static void test_newton_rounding_bound(void **state)
{
    (void)state;
    if (LDBL_MANT_DIG < 64) {
        print_message("long double has %d bits: skipped\n", LDBL_MANT_DIG);
        return;
    }
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 630, 1500, 14);
    lethe_m2 *m = train(ctx, ds, 0.07, 120);
    const size_t d = ds->d;
    long double *ex = malloc(d * sizeof *ex);
    double worst = 0.0;
    for (size_t batch = 0; batch < 4; batch++) {
        size_t k = 10 + 7 * batch, first = m->used;
        lethe_m2_report rep;
        assert_status(lethe_m2_remove(m, k, ds->x + first * d, d, ds->y + first, ds->ids + first,
                                      &rep), LETHE_OK);
        exact_newton(ds, m, 0, ex);
        long double e2 = 0.0L;
        for (size_t j = 0; j < d; j++)
            e2 += ((long double)m->w_bar[j] - ex[j]) * ((long double)m->w_bar[j] - ex[j]);
        double err = (double)sqrtl(e2), nn = (double)m->n, mm = (double)m->used;
        double t = m->tol * fmax(1.0, m->lambda * nn);
        double fp = lethe__m2_rounding_bound(m->n, m->used, d, m->R, m->lambda, m->tol);
        double neumann = 1e-10 * mm * (m->L + t / nn) / (m->lambda * (nn - mm)); /* NEUMANN_TOL */
        assert_le(err, fp + neumann);
        assert_true(fp <= m->newton_fp); /* the charge, at the capacity, covers it */
        worst = fmax(worst, err / (fp + neumann));
        /* negative control: one removed record left out of the step */
        exact_newton(ds, m, 1, ex);
        e2 = 0.0L;
        for (size_t j = 0; j < d; j++)
            e2 += ((long double)m->w_bar[j] - ex[j]) * ((long double)m->w_bar[j] - ex[j]);
        assert_true((double)sqrtl(e2) > 100.0 * (fp + neumann));
    }
    print_message("Newton step: error/(bound) at most %.2e\n", worst);
    free(ex);
    lethe_m2_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0010 */
/* ε at the calibrated δ gives back at most the calibrated ε (and not much
 * less), also where the sampler's share of δ is large: at large ε, and at a
 * δ barely above the share. */
static void test_epsilon_at_delta(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 650, 400, 20);
    const struct { double eps, delta; } c[] = { { 1.0, 1e-5 }, { 13.0, 1e-5 }, { 0.3, 1e-9 },
                                                { 1.0, 7e-13 }, { 4.0, 2e-10 } };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        lethe_m2_options o;
        lethe_m2_options_init(&o);
        o.lambda = 1.0;
        o.capacity = 5;
        o.epsilon = c[i].eps;
        o.delta = c[i].delta;
        o.seed = SEED;
        lethe_m2 *m = NULL;
        assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_OK);
        double e = NAN, d = NAN;
        assert_status(lethe_m2_epsilon(m, c[i].delta, &e), LETHE_OK);
        assert_le(e, c[i].eps * (1.0 + 1e-9));
        assert_true(e >= 0.99 * c[i].eps);
        assert_status(lethe_m2_delta(m, e, &d), LETHE_OK);
        assert_le(d, c[i].delta * (1.0 + 1e-9));
        lethe_m2_free(m);
    }
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newton_within_gamma),
        cmocka_unit_test(test_newton_within_gamma_real),
        cmocka_unit_test(test_noise_calibrated),
        cmocka_unit_test(test_release_projected),
        cmocka_unit_test(test_m2_errors),
        cmocka_unit_test(test_m2_save_load),
        cmocka_unit_test(test_m2_alloc_failure),
        cmocka_unit_test(test_newton_rounding_bound),
        cmocka_unit_test(test_epsilon_at_delta),
    };
    return cmocka_run_group_tests_name("m2", tests, NULL, NULL);
}
