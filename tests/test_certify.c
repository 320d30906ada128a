/*
 * certify (mechanism M1): removal against retraining, the exact residual
 * against a naive recomputation, every bound against what it bounds, the
 * accountant's refusals, every error status, allocation failure at every
 * allocation, and the state file.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>
#include <lapacke.h>

#include "modelutil.h"

static const unsigned char SEED[32] = { 0x5e, 0xed, 1, 2, 3 };

static lethe_ctx *ctx_new(void)
{
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    return ctx;
}

/* A trained model on a random problem; rows normalised to ‖x‖ = R. */
static lethe_model *random_model_R(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d,
                                   lethe_loss loss, double lambda, double budget, double R)
{
    double *x, *y;
    tu_problem(seed, n, d, loss, &x, &y);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, n, d, x, d, y, NULL, LETHE_NORM_NORMALIZE, R, &ds),
                  LETHE_OK);
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    o.loss = loss;
    o.lambda = lambda;
    o.budget = budget;
    o.seed = SEED;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_dataset_free(ds);
    free(x);
    free(y);
    return m;
}

static lethe_model *random_model(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d,
                                 lethe_loss loss, double lambda, double budget)
{
    return random_model_R(ctx, seed, n, d, loss, lambda, budget, 1.0);
}

/* ∇L_b(w; D) with plain loops in long double (64-bit mantissa, 2¹¹ times
 * finer than double), independent of the library's passes. */
static long double naive_residual_ld(const lethe_model *m, const double *w)
{
    const size_t d = m->d;
    long double *g = calloc(d, sizeof *g);
    for (size_t i = 0; i < m->n_rows; i++) {
        if (m->alive[i] != ROW_LIVE)
            continue;
        long double z = 0.0L, d1;
        for (size_t j = 0; j < d; j++)
            z += (long double)m->x[i * d + j] * w[j];
        if (m->loss == LETHE_LOSS_LOGISTIC)
            d1 = -m->y[i] / (1.0L + expl(m->y[i] * z));
        else
            d1 = z - m->y[i];
        for (size_t j = 0; j < d; j++)
            g[j] += d1 * m->x[i * d + j];
    }
    long double r = 0.0L;
    for (size_t j = 0; j < d; j++) {
        long double gj = g[j] + (long double)m->lambda * (long double)m->n_live * w[j] + m->b[j];
        r += gj * gj;
    }
    free(g);
    return sqrtl(r);
}

static double naive_residual(const lethe_model *m, const double *w)
{
    return (double)naive_residual_ld(m, w);
}


/* EVIDENCE: LTH-C-0001 */
static void test_guo_c_values(void **state)
{
    (void)state;
    /* MATH.md §2 (4 decimals) and the closed form to 1e-14 */
    assert_close(lethe_guo_c(1e-4), 4.3854, 0.0, 5e-5);
    assert_close(lethe_guo_c(1e-5), 4.8823, 0.0, 5e-5);
    assert_close(lethe_guo_c(1e-6), 5.3331, 0.0, 5e-5);
    const double deltas[] = { 1e-12, 1e-6, 1e-5, 1e-4, 0.01, 0.5, 0.999 };
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
        long double exact = sqrtl(2.0L * logl(1.5L / (long double)deltas[i]));
        double c = lethe_guo_c(deltas[i]);
        assert_true((long double)c >= exact);             /* rounded up */
        assert_close(c, (double)exact, 1e-14, 0.0);
        /* the budget spends d·τ of δ and g√d of the residual (LTH-C-0010) */
        const size_t d = 784;
        long double dl = (long double)deltas[i] - (1.0L + expl(1.0L)) * 784.0L * 8.6e-15L;
        long double exact_d = sqrtl(2.0L * logl(1.5L / dl));
        long double g = 0x1p-52L; /* the lattice step of σ = 10 */
        double b = lethe__budget_from_sigma(10.0, 0.7, deltas[i], d);
        if (dl <= 0.0L) { /* the sampler alone needs more δ: refused */
            assert_true(isnan(b));
            continue;
        }
        assert_true((long double)b <= 7.0L / exact_d - 65.0L * g * 28.0L); /* rounded down */
        assert_true((long double)b < 7.0L / exact);                /* strictly charged */
        assert_close(b, (double)(7.0L / exact_d - 65.0L * g * 28.0L), 1e-14, 0.0);
    }
    assert_true(isnan(lethe_guo_c(0.0)) && isnan(lethe_guo_c(1.0)) && isnan(lethe_guo_c(NAN)));
    assert_true(isnan(lethe__budget_from_sigma(10.0, 1.0, 2.0, 5)));
        /* MATH.md §2 anchor: σ = 10, ε = 1, δ = 1e-4 → budget 2.280 */
    assert_close(lethe__budget_from_sigma(10.0, 1.0, 1e-4, 1), 2.280, 0.0, 5e-4);
}

/* After k sequential removals the model is within residual/(λn') of the
 * model retrained on the remaining data with the same b: L_b(·; D') is
 * λn'-strongly convex, so ‖w − w_r‖ ≤ ‖∇L_b(w; D')‖/(λn'). The residual
 * reported must be the true one. */
static void check_against_retrain(lethe_model *m, double reported)
{
    double *wr = malloc(m->d * sizeof *wr), gr;
    tu_retrain_same_b(m, wr, &gr);
    double true_res = naive_residual(m, m->w);
    assert_close(reported, true_res, 1e-6, 1e-12);
    double tol = (true_res + gr) / (m->lambda * (double)m->n_live) * (1.0 + 1e-9) + 1e-13;
    assert_le(tu_dist(m->w, wr, m->d), tol);
    free(wr);
}

static void remove_and_compare(lethe_model *m, uint64_t first, size_t k, lethe_removal_path path)
{
    lethe_removal_report rep = { 0 };
    for (size_t t = 0; t < k; t++) {
        uint64_t id = first + 3 * t;
        assert_status(lethe_model_remove(m, &id, 1, path, &rep), LETHE_OK);
        assert_int_equal(rep.removed, 1);
        assert_false(lethe_model_has_id(m, id));
    }
    check_against_retrain(m, rep.residual);
}

/* EVIDENCE: LTH-C-0002 */
static void test_remove_matches_retrain(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t ks[] = { 1, 10, 100 };
    for (size_t i = 0; i < 3; i++) {
        for (int path = 0; path < 2; path++) {
            lethe_model *m = random_model(ctx, 70 + i, 900, 15, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
            remove_and_compare(m, 5, ks[i], (lethe_removal_path)path);
            lethe_model_free(m);
        }
    }
    /* ridge: the Newton step is exact, a batch lands on the retrained model */
    lethe_model *m = random_model(ctx, 77, 500, 9, LETHE_LOSS_SQUARED, 2e-3, 2.0);
    uint64_t ids[40];
    for (size_t t = 0; t < 40; t++)
        ids[t] = 11 * t + 2;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, ids, 40, LETHE_PATH_EXACT, &rep), LETHE_OK);
    assert_le(rep.residual, 1e-9);
    check_against_retrain(m, rep.residual);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* Real data: Fashion-MNIST pullover (2) vs coat (4), test split, d = 784. */
static void test_remove_matches_retrain_real(void **state)
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
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    o.seed = SEED;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    /* ids are record numbers in the file: take live ones */
    const uint64_t *ids = lethe_dataset_ids(ds);
    size_t done = 0;
    /* Guo's worst-case bound holds on real data too (EVIDENCE: LTH-C-0005) */
    lethe_removal_report wc;
    lethe_budget b0;
    assert_status(lethe_model_check_removal(m, ids, 1, LETHE_PATH_EXACT, &wc), LETHE_OK);
    assert_status(lethe_model_budget(m, &b0), LETHE_OK);
    assert_le(wc.residual, b0.worst_case_bound + b0.train_residual);
    const size_t ks[] = { 1, 10, 100 };
    lethe_removal_report rep;
    for (size_t i = 0; i < 3; i++) {
        for (; done < ks[i]; done++) {
            assert_status(lethe_model_remove(m, &ids[7 * done + 1], 1, LETHE_PATH_FAST, &rep),
                          LETHE_OK);
            assert_true(rep.certified);
            assert_le(rep.residual, rep.residual_bound); /* EVIDENCE: LTH-C-0003 */
        }
        check_against_retrain(m, rep.residual);
    }
    /* the spectral bound against the true ‖X‖₂ of the real data (dgesvd) */
    size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    double *a = malloc(n * d * sizeof *a), *sv = malloc(d * sizeof *sv), *sup = malloc(d * sizeof *sup);
    memcpy(a, lethe_dataset_x(ds), n * d * sizeof *a);
    assert_int_equal(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (int)n, (int)d, a, (int)d, sv, NULL,
                                    1, NULL, 1, sup), 0);
    assert_le(sv[0], m->xnorm);
    assert_le(m->xnorm, sv[0] * (1.0 + 1e-6));
    free(a);
    free(sv);
    free(sup);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0002 */
static void test_residual_is_exact(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 80, 400, 12, LETHE_LOSS_LOGISTIC, 5e-3, 2.0);
    double worst = 0.0;
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_close(b.train_residual, naive_residual(m, m->w), 1e-6, 1e-12);
    for (uint64_t id = 0; id < 30; id++) {
        lethe_removal_report rep;
        assert_status(lethe_model_remove(m, &id, 1, (lethe_removal_path)(id % 2), &rep),
                      LETHE_OK);
        assert_close(rep.residual, naive_residual(m, m->w), 1e-6, 1e-12);
        /* the rounding bound covers the error of the computed residual (G3) */
        long double err = fabsl((long double)rep.residual - naive_residual_ld(m, m->w));
        assert_true(err <= (long double)rep.residual_fp);
        assert_true(rep.residual_fp < 1e-9 * rep.budget);
        worst = fmax(worst, (double)(err / (long double)rep.residual_fp));
        assert_status(lethe_model_budget(m, &b), LETHE_OK);
        assert_close(b.residual, rep.residual, 0.0, 0.0);
        assert_int_equal(b.removals, id + 1);
        assert_int_equal(b.n, 400 - id - 1);
    }
    print_message("rounding: largest |r̂ − r| / bound = %.3g\n", worst);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0003 */
static void test_bound_dominates_residual(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    size_t trials = 0;
    double tightest = INFINITY;
    for (uint64_t s = 0; s < 12; s++) {
        size_t n = 150 + 97 * s, d = 3 + 4 * (s % 6);
        double lambda = s % 3 == 0 ? 1e-4 : (s % 3 == 1 ? 1e-3 : 3e-2);
        lethe_model *m = random_model(ctx, 1000 + s, n, d, LETHE_LOSS_LOGISTIC, lambda, 5.0);
        uint64_t gen = s;
        for (int t = 0; t < 30; t++) {
            size_t k = t % 5 == 4 ? 1 + tu_next(&gen) % 20 : 1;
            uint64_t ids[20];
            for (size_t u = 0; u < k; u++)
                do
                    ids[u] = tu_next(&gen) % n;
                while (!lethe_model_has_id(m, ids[u]));
            int dup = 0;
            for (size_t u = 0; u < k; u++)
                for (size_t v = 0; v < u; v++)
                    dup |= ids[u] == ids[v];
            if (dup)
                continue;
            lethe_removal_path path = (lethe_removal_path)(t % 2);
            lethe_removal_report dry, rep;
            assert_status(lethe_model_check_removal(m, ids, k, path, &dry), LETHE_OK);
            /* β and r share the first-order term; allow the rounding of the pass */
            assert_le(dry.residual, dry.residual_bound * (1.0 + 1e-9) + 1e-12);
            lethe_status st = lethe_model_remove(m, ids, k, path, &rep);
            assert_true(st == LETHE_OK || st == LETHE_EBUDGET);
            assert_close(rep.residual, dry.residual, 0.0, 0.0); /* the dry run is the real thing */
            assert_le(rep.residual, rep.residual_bound * (1.0 + 1e-9) + 1e-12);
            tightest = fmin(tightest, rep.residual_bound / fmax(rep.residual, 1e-300));
            trials++;
        }
        lethe_model_free(m);
    }
    assert_true(trials >= 300);
    print_message("data-dependent bound / residual ≥ %.3g over %zu trials\n", tightest, trials);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0003 */
static void test_spectral_bound(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    for (uint64_t s = 0; s < 200; s++) {
        size_t n = 5 + s % 40, d = 1 + (s * 7) % 23;
        lethe_model *m = NULL;
        assert_status(lethe__model_alloc(ctx, n, d, &m), LETHE_OK);
        uint64_t g = s + 1;
        for (size_t i = 0; i < n * d; i++)
            m->x[i] = tu_uniform(&g) + (s % 2 ? 0.8 : 0.0); /* correlated columns half the time */
        memset(m->alive, ROW_LIVE, n);
        m->n_live = n;
        double bound;
        assert_status(lethe__spectral_bound(m, &bound), LETHE_OK);
        /* the true largest singular value, by dgesvd on a copy */
        double *a = malloc(n * d * sizeof *a), *sv = malloc((n < d ? n : d) * sizeof *sv);
        double *sup = malloc((n < d ? n : d) * sizeof *sup);
        memcpy(a, m->x, n * d * sizeof *a);
        assert_int_equal(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (int)n, (int)d, a, (int)d, sv,
                                        NULL, 1, NULL, 1, sup), 0);
        assert_le(sv[0], bound);
        assert_le(bound, sv[0] * (1.0 + 1e-6)); /* and it is tight */
        free(a);
        free(sv);
        free(sup);
        lethe_model_free(m);
    }
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0005 */
static void test_worst_case_bound(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    double tightest = INFINITY;
    for (uint64_t s = 0; s < 40; s++) {
        size_t n = 100 + 31 * (s % 20);
        double R = s < 20 ? 1.0 : 2.5; /* R ≠ 1 exercises the R³ of Guo's γ */
        double lambda = (0.02 + 0.01 * (double)(s % 4)) * R * R;
        lethe_model *m = random_model_R(ctx, 300 + s, n, 6, LETHE_LOSS_LOGISTIC, lambda, 0.3, R);
        double bnorm = cblas_dnrm2(6, m->b, 1);
        for (size_t k = 1; k <= 16; k *= 4) {
            uint64_t ids[16];
            for (size_t u = 0; u < k; u++)
                ids[u] = 5 * u + s;
            lethe_removal_report rep;
            assert_status(lethe_model_check_removal(m, ids, k, LETHE_PATH_EXACT, &rep), LETHE_OK);
            double wc = lethe__guo_worst_case(m->k.d2_lip, R, R, bnorm, lambda, n, k);
            /* the bound is for a step from the exact minimiser: add the training residual */
            assert_le(rep.residual, wc + m->train_residual);
            tightest = fmin(tightest, wc / rep.residual);
        }
        lethe_budget b;
        assert_status(lethe_model_budget(m, &b), LETHE_OK);
        double c = R + bnorm / (2.0 * (double)n);
        assert_close(b.worst_case_bound,
                     2.0 * m->k.d2_lip * R * R * R * c * c / (lambda * lambda * (double)(n - 1)),
                     1e-13, 0.0);
        lethe_model_free(m);
    }
    print_message("worst case / actual residual ≥ %.3g\n", tightest);
    assert_true(isinf(lethe__guo_worst_case(0.1, 1.0, INFINITY, 0.0, 1.0, 10, 1)));
    assert_true(isinf(lethe__guo_worst_case(0.1, 1.0, 1.0, 0.0, 1.0, 10, 10)));
    lethe_ctx_free(ctx);
}

static char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/lethe-test-%ld-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid(), name);
    return p;
}

/* The model's whole state as the bytes of its state file: w, g, b, the
 * factor, the data, the accountant and the seeded stream's position. */
static unsigned char *state_bytes(lethe_model *m, long *len)
{
    char path[256]; /* its own buffer: tmp_path's ring is shared with the caller */
    snprintf(path, sizeof path, "%s", tmp_path("bytes"));
    assert_status(lethe_model_save(m, path), LETHE_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)*len);
    assert_int_equal(fread(buf, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    remove(path);
    return buf;
}

static void assert_same_state(lethe_model *m, const unsigned char *before, long len)
{
    long now_len;
    unsigned char *now = state_bytes(m, &now_len);
    assert_int_equal(now_len, len);
    assert_memory_equal(now, before, (size_t)len);
    free(now);
}

/* Snapshot of everything a caller can observe. */
typedef struct snapshot {
    double w[64];
    lethe_budget b;
    size_t rows;
} snapshot;

static void snap(const lethe_model *m, snapshot *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->w, lethe_model_weights(m), m->d * sizeof(double));
    assert_status(lethe_model_budget(m, &s->b), LETHE_OK);
    s->rows = lethe_model_rows(m);
}

static void assert_unchanged(const lethe_model *m, const snapshot *before)
{
    snapshot now;
    snap(m, &now);
    assert_memory_equal(now.w, before->w, sizeof now.w);
    assert_memory_equal(&now.b, &before->b, sizeof now.b);
    assert_int_equal(now.rows, before->rows);
}

/* EVIDENCE: LTH-C-0001 */
static void test_budget_refusal_changes_nothing(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    /* a budget far below what a 30-record batch costs */
    lethe_model *m = random_model(ctx, 90, 300, 8, LETHE_LOSS_LOGISTIC, 1e-3, 1e-6);
    uint64_t ids[30];
    for (size_t t = 0; t < 30; t++)
        ids[t] = t;
    snapshot before;
    snap(m, &before);
    long len;
    unsigned char *bytes = state_bytes(m, &len);
    assert_int_equal(before.b.capacity_estimate, 0); /* not even one record fits */
    lethe_removal_report rep;
    for (int path = 0; path < 2; path++) {
        assert_status(lethe_model_remove(m, ids, 30, (lethe_removal_path)path, &rep),
                      LETHE_EBUDGET);
        assert_false(rep.certified);
        assert_int_equal(rep.removed, 0);
        assert_true(rep.residual > rep.budget);
        assert_true(strstr(lethe_ctx_errmsg(ctx), "refresh") != NULL);
        assert_unchanged(m, &before);
        assert_same_state(m, bytes, len); /* byte for byte, factor and data included */
        for (size_t t = 0; t < 30; t++)
            assert_true(lethe_model_has_id(m, ids[t]));
    }
    /* the dry run agrees and refuses nothing */
    lethe_removal_report dry;
    assert_status(lethe_model_check_removal(m, ids, 30, LETHE_PATH_FAST, &dry), LETHE_OK);
    assert_false(dry.certified);
    assert_unchanged(m, &before);
    assert_same_state(m, bytes, len);
    free(bytes);
    /* with a realistic budget the same batch fits */
    lethe_model_free(m);
    m = random_model(ctx, 90, 300, 8, LETHE_LOSS_LOGISTIC, 1e-3, 5.0);
    lethe_budget bg;
    assert_status(lethe_model_budget(m, &bg), LETHE_OK);
    assert_true(bg.capacity_estimate > 0 && bg.capacity_estimate < 300);
    assert_status(lethe_model_remove(m, ids, 30, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_true(rep.certified);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* EVIDENCE: LTH-C-0006 */
static void test_refresh(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 95, 500, 10, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
    double bold[10];
    memcpy(bold, m->b, sizeof bold);
    lethe_removal_report rep;
    for (uint64_t id = 0; id < 25; id++)
        assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    lethe_budget before, after;
    assert_status(lethe_model_budget(m, &before), LETHE_OK);
    assert_true(before.residual > 0.0);
    assert_status(lethe_model_refresh(m), LETHE_OK);
    assert_status(lethe_model_budget(m, &after), LETHE_OK);
    /* a fresh b, the exact minimiser of the new L_b on D', counts reset */
    assert_true(memcmp(bold, m->b, sizeof bold) != 0);
    /* within the solver's stopping rule, tol·max(1, λn, ‖b‖) */
    double scale = fmax(fmax(1.0, m->lambda * (double)after.n), cblas_dnrm2(10, m->b, 1));
    assert_le(after.residual, m->tol * scale);
    assert_close(after.residual, naive_residual(m, m->w), 1e-6, 1e-12);
    assert_int_equal(after.removals, 0);
    assert_int_equal(after.removals_total, 25);
    assert_int_equal(after.refreshes, 1);
    assert_int_equal(after.n, 475);
    assert_int_equal(m->n_rows, 475); /* the removed rows are gone from memory */
    double *wr = malloc(10 * sizeof *wr), gr;
    tu_retrain_same_b(m, wr, &gr);
    assert_le(tu_dist(m->w, wr, 10), (after.residual + gr) / (1e-3 * 475.0) * (1.0 + 1e-9));
    free(wr);
    /* removal goes on after a refresh; removed ids are unknown now */
    uint64_t id = 3;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    id = 100;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* Refreshes in a row: each solves L_b for a fresh b from the previous
 * optimum. With ‖b‖ large, f ≈ 0 at the optimum while its terms (Σℓ,
 * λn‖w‖²/2, bᵀw) are of order ‖b‖²/(λn), and the line search must judge its
 * noise regime by the terms, not by |f|: judged by |f|, it accepted steps
 * that did not move w until the iterations ran out, about once in 1,400
 * refreshes of guo's crash test. Every refresh here must succeed. */
static void test_refresh_many(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const char *dir = getenv("LETHE_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/guo-refresh.csv",
             dir != NULL && *dir != '\0' ? dir : "tests/data");
    lethe_read_options ro;
    lethe_read_options_init(&ro);
    ro.id_col = 0;
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_csv(ctx, path, &ro, &ds), LETHE_OK);
    /* the streams under which a refresh failed: 7 at its 726th, 54 at its 933rd */
    const unsigned char streams[] = { 7, 54 };
    for (size_t k = 0; k < sizeof streams; k++) {
        unsigned char seed[32] = { streams[k] };
        lethe_train_options o;
        lethe_train_options_init(&o);
        o.mechanism = LETHE_MECH_M1;
        o.lambda = 1e-3;
        o.budget = 0.5;
        o.seed = seed;
        lethe_model *m = NULL;
        assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
        for (int r = 0; r < 1000; r++)
            if (lethe_model_refresh(m) != LETHE_OK)
                fail_msg("stream %d, refresh %d: %s", streams[k], r + 1, lethe_ctx_errmsg(ctx));
        lethe_model_free(m);
    }
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* A refresh that fails (here: the solver is given one iteration) changes
 * nothing: the state file is byte-identical, the seeded stream included. */
static void test_refresh_failure(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 96, 400, 9, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
    uint64_t id = 5;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    long len;
    unsigned char *bytes = state_bytes(m, &len);
    unsigned max_iter = m->max_iter;
    m->max_iter = 1;
    assert_status(lethe_model_refresh(m), LETHE_ENOCONV);
    m->max_iter = max_iter;
    assert_same_state(m, bytes, len);
    free(bytes);
    /* and the next refresh draws the noise the failed one would have drawn */
    assert_status(lethe_model_refresh(m), LETHE_OK);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* When a down-date loses definiteness the fast path falls back to the exact
 * Hessian; the residual is still the true one and later removals go on. */
static void test_fast_falls_back_to_exact(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 97, 300, 7, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
    uint64_t id = 11;
    size_t row = lethe__model_find(m, id);
    m->s_f[row] = 1e8; /* the record's recorded curvature: far more than Ĥ holds */
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_int_equal(rep.path, LETHE_PATH_EXACT);
    assert_close(rep.residual, naive_residual(m, m->w), 1e-6, 1e-12);
    assert_int_equal(m->n_f, 299); /* refactored on D' */
    for (size_t i = 0; i < m->n_rows; i++)
        if (m->alive[i] != ROW_LIVE)
            assert_true(lethe__is_zero(m->s_f[i]));
    for (uint64_t k = 20; k < 30; k++) {
        assert_status(lethe_model_remove(m, &k, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
        assert_int_equal(rep.path, LETHE_PATH_FAST);
    }
    check_against_retrain(m, rep.residual);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* ε at δ and δ at ε as the model stands, and Guo's guaranteed count. */
/* EVIDENCE: LTH-C-0001 */
static void test_model_epsilon_delta(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 140, 400, 6, LETHE_LOSS_LOGISTIC, 0.05, 2.0);
    lethe_removal_report rep;
    for (uint64_t id = 0; id < 20; id++)
        assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    double eps = 0.0, delta = 0.0;
    /* at the model's δ the current ε is the configured one scaled by the
     * charged residual over the budget, both with the lattice's rounding */
    assert_status(lethe_model_epsilon(m, b.delta, &eps), LETHE_OK);
    assert_close(eps, b.epsilon * (b.residual + b.residual_fp + b.lattice_rounding) /
                          (b.budget + b.lattice_rounding), 1e-12, 0.0);
    assert_le(eps, b.epsilon);
    /* and at the model's ε, δ is no more than the configured one */
    assert_status(lethe_model_delta(m, b.epsilon, &delta), LETHE_OK);
    assert_le(delta, b.delta);
    /* the two queries agree: δ(ε(δ₀)) ≈ δ₀ */
    assert_status(lethe_model_epsilon(m, 1e-3, &eps), LETHE_OK);
    assert_status(lethe_model_delta(m, eps, &delta), LETHE_OK);
    assert_close(delta, 1e-3, 1e-9, 0.0);
    /* beyond ε = 1, c(δ) is not proven: not covered */
    assert_status(lethe_model_delta(m, 1.5, &delta), LETHE_OK);
    assert_true(isnan(delta));
    assert_status(lethe_model_epsilon(m, 0.0, &eps), LETHE_EINVAL);
    /* Guo's Thm 1: the count is the largest batch whose bound fits */
    double room = b.budget - b.train_residual, bn = cblas_dnrm2(6, m->b, 1);
    size_t k = b.worst_case_count;
    assert_le(lethe__guo_worst_case(m->k.d2_lip, m->R, m->R, bn, m->lambda, b.n, k), room);
    assert_true(lethe__guo_worst_case(m->k.d2_lip, m->R, m->R, bn, m->lambda, b.n, k + 1) > room);
    assert_true(k > 0);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

static void test_remove_errors(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 99, 50, 4, LETHE_LOSS_LOGISTIC, 1e-2, 2.0);
    snapshot before;
    lethe_removal_report rep;
    uint64_t one = 7, dup[2] = { 3, 3 }, unknown = 12345, all[49];
    for (size_t i = 0; i < 49; i++)
        all[i] = i < 7 ? i : i + 1; /* every record but 7 */
    assert_status(lethe_model_remove(m, &one, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    snap(m, &before);
    assert_status(lethe_model_remove(NULL, &one, 1, LETHE_PATH_FAST, &rep), LETHE_EINVAL);
    assert_status(lethe_model_remove(m, NULL, 1, LETHE_PATH_FAST, &rep), LETHE_EINVAL);
    assert_status(lethe_model_remove(m, &one, 0, LETHE_PATH_FAST, &rep), LETHE_EINVAL);
    assert_status(lethe_model_remove(m, &one, 1, (lethe_removal_path)5, &rep), LETHE_EINVAL);
    assert_status(lethe_model_remove(m, &unknown, 1, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    assert_true(strstr(lethe_ctx_errmsg(ctx), "12345") != NULL);
    assert_status(lethe_model_remove(m, &one, 1, LETHE_PATH_FAST, &rep), LETHE_EREMOVED);
    assert_status(lethe_model_remove(m, dup, 2, LETHE_PATH_EXACT, &rep), LETHE_EDUPLICATE);
    assert_status(lethe_model_remove(m, all, 49, LETHE_PATH_FAST, &rep), LETHE_ELAST);
    all[48] = 777; /* an unknown id is named as such, whatever the count */
    assert_status(lethe_model_remove(m, all, 49, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    assert_unchanged(m, &before);
    /* a failing id late in a batch leaves the earlier ones untouched */
    long len;
    unsigned char *bytes = state_bytes(m, &len);
    uint64_t mixed[3] = { 0, 1, 999 };
    assert_status(lethe_model_remove(m, mixed, 3, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    assert_unchanged(m, &before);
    assert_same_state(m, bytes, len);
    free(bytes);
    assert_true(lethe_model_has_id(m, 0) && lethe_model_has_id(m, 1));
    assert_status(lethe_model_check_removal(m, mixed, 3, LETHE_PATH_FAST, &rep), LETHE_ENOTFOUND);
    assert_status(lethe_model_budget(NULL, NULL), LETHE_EINVAL);
    assert_status(lethe_model_refresh(NULL), LETHE_EINVAL);
    lethe_model_free(m);
    lethe_model_free(NULL);
    lethe_ctx_free(ctx);
}

/* The linear-algebra failures a removal can report, provoked through the
 * internals: a singular exact Hessian (λ = 0, d > n) and a residual that
 * overflows. Each leaves the model as it was. */
static void test_backend_errors(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 17, 12, 20, LETHE_LOSS_LOGISTIC, 1e-2, 2.0);
    snapshot before;
    snap(m, &before);
    lethe_removal_report rep;
    uint64_t id = 4;
    double lambda = m->lambda;
    m->lambda = 0.0; /* Σ ℓ''xxᵀ has rank ≤ 11 < d = 20 */
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_EXACT, &rep), LETHE_ENOTPD);
    m->lambda = lambda;
    assert_unchanged(m, &before);
    lethe_model_free(m);
    /* ridge: ℓ' = z − y is unbounded, so an overflowing z poisons the residual */
    m = random_model(ctx, 18, 12, 20, LETHE_LOSS_SQUARED, 1e-2, 2.0);
    snap(m, &before);
    double keep = m->x[0], w0 = m->w[0];
    m->x[0] = 1e308; /* z overflows in the residual pass */
    m->w[0] = 1e3;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_EBACKEND);
    m->w[0] = w0;
    m->x[0] = keep;
    assert_unchanged(m, &before);
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

static void test_train_errors(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    double *x, *y;
    tu_problem(5, 40, 3, LETHE_LOSS_LOGISTIC, &x, &y);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, 40, 3, x, 3, y, NULL, LETHE_NORM_NORMALIZE, 1, &ds),
                  LETHE_OK);
    lethe_train_options o;
    lethe_model *m = NULL;
    struct { double *field; double bad; } cases[] = {
        { &o.lambda, 0.0 }, { &o.lambda, -1.0 }, { &o.lambda, NAN },
        { &o.epsilon, 0.0 }, { &o.epsilon, INFINITY }, { &o.epsilon, 1.5 }, { &o.delta, 0.0 },
        { &o.delta, 1.0 }, { &o.delta, 1.5 }, { &o.sigma, -2.0 }, { &o.budget, 0.0 },
        { &o.tol, 0.0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lethe_train_options_init(&o);
        o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
        o.lambda = 1e-3;
        *cases[i].field = cases[i].bad;
        assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
        assert_true(lethe_ctx_errmsg(ctx)[0] != '\0');
    }
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    o.max_iter = 0;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    o.max_iter = 100;
    o.loss = (lethe_loss)9;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    o.loss = LETHE_LOSS_LOGISTIC;
    assert_status(lethe_model_train(ctx, NULL, &o, &m), LETHE_EINVAL);
    assert_status(lethe_model_train(NULL, ds, &o, &m), LETHE_EINVAL);
    o.max_iter = 1;
    o.tol = 1e-15;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_ENOCONV);
    /* a tolerance that could leave a training residual over the budget is refused */
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    o.tol = 1e-3;
    o.budget = 1e-3;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_true(strstr(lethe_ctx_errmsg(ctx), "budget") != NULL);
    assert_null(m);
    lethe_dataset_free(ds);
    y[4] = 0.5; /* not a ±1 label */
    assert_status(lethe_dataset_create(ctx, 40, 3, x, 3, y, NULL, LETHE_NORM_NORMALIZE, 1, &ds),
                  LETHE_OK);
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_ELABEL);
    o.loss = LETHE_LOSS_SQUARED; /* any finite label is a ridge target */
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

static void test_status_and_ctx(void **state)
{
    (void)state;
    for (int s = 0; s < LETHE_STATUS_COUNT; s++) {
        assert_non_null(lethe_strerror((lethe_status)s));
        assert_string_not_equal(lethe_strerror((lethe_status)s), "unknown status");
    }
    assert_string_equal(lethe_strerror(LETHE_STATUS_COUNT), "unknown status");
    assert_string_equal(lethe_strerror((lethe_status)-3), "unknown status");
    assert_string_equal(lethe_ctx_errmsg(NULL), "");
    assert_status(lethe_ctx_create(NULL, NULL), LETHE_EINVAL);
    lethe_allocator half = { tu_malloc, NULL, NULL };
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(&half, &ctx), LETHE_EINVAL);
    tu_alloc a = { 0, 1, 0 };
    lethe_allocator al = tu_allocator(&a);
    assert_status(lethe_ctx_create(&al, &ctx), LETHE_ENOMEM);
    assert_null(ctx);
    lethe_ctx_free(NULL);
}

static void test_predict_evaluate(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    double *x, *y;
    tu_problem(60, 800, 6, LETHE_LOSS_LOGISTIC, &x, &y);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, 800, 6, x, 6, y, NULL, LETHE_NORM_NORMALIZE, 1, &ds),
                  LETHE_OK);
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    o.seed = SEED;
    o.sigma = 0.5; /* little noise: the planted model (10 % label noise) shows through */
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    double acc;
    assert_status(lethe_model_evaluate(m, ds, &acc), LETHE_OK);
    assert_true(acc > 0.8 && acc <= 1.0);
    double label[800], prob[800];
    const double *dx = lethe_dataset_x(ds);
    assert_status(lethe_model_predict(m, 800, dx, 6, label, prob), LETHE_OK);
    size_t right = 0;
    for (size_t i = 0; i < 800; i++) {
        assert_true(prob[i] >= 0.0 && prob[i] <= 1.0);
        assert_true((label[i] > 0.0) == (prob[i] >= 0.5));
        right += label[i] * y[i] > 0.0;
    }
    assert_close((double)right / 800.0, acc, 0.0, 1e-12);
    double bad[6] = { 0, 0, NAN, 0, 0, 0 };
    assert_status(lethe_model_predict(m, 1, bad, 6, label, NULL), LETHE_ENONFINITE);
    assert_status(lethe_model_predict(m, 1, bad, 5, label, NULL), LETHE_ESIZE);
    assert_status(lethe_model_predict(m, 0, bad, 6, label, NULL), LETHE_EINVAL);
    lethe_dataset *other = NULL;
    assert_status(lethe_dataset_create(ctx, 1, 5, x, 5, y, NULL, LETHE_NORM_MEASURE, 1, &other),
                  LETHE_OK);
    assert_status(lethe_model_evaluate(m, other, &acc), LETHE_ESIZE);
    lethe_dataset_free(other);
    assert_status(lethe_model_evaluate(m, NULL, &acc), LETHE_EINVAL);
    double y3[3] = { 1.0, 0.0, -1.0 };
    assert_status(lethe_dataset_create(ctx, 3, 6, x, 6, y3, NULL, LETHE_NORM_MEASURE, 1, &other),
                  LETHE_OK);
    assert_status(lethe_model_evaluate(m, other, &acc), LETHE_ELABEL); /* 0 is not a ±1 label */
    lethe_dataset_free(other);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    free(x);
    free(y);
    /* ridge: RMSE close to the label noise (uniform ±0.3: sd 0.173) */
    tu_problem(61, 800, 6, LETHE_LOSS_SQUARED, &x, &y);
    assert_status(lethe_dataset_create(ctx, 800, 6, x, 6, y, NULL, LETHE_NORM_MEASURE, 1, &ds),
                  LETHE_OK);
    o.loss = LETHE_LOSS_SQUARED;
    o.lambda = 1e-5;
    o.sigma = 0.01;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    assert_status(lethe_model_evaluate(m, ds, &acc), LETHE_OK);
    assert_true(acc < 0.2);
    assert_status(lethe_model_predict(m, 2, lethe_dataset_x(ds), 6, label, prob), LETHE_OK);
    assert_true(isnan(prob[0]));
    lethe_model_free(m);
    lethe_dataset_free(ds);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

static void test_seeded_and_csprng(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *a = random_model(ctx, 3, 200, 5, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
    lethe_model *b = random_model(ctx, 3, 200, 5, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
    assert_memory_equal(a->w, b->w, 5 * sizeof(double));
    lethe_budget bg;
    assert_status(lethe_model_budget(a, &bg), LETHE_OK);
    assert_int_equal(bg.seeded, 1);
    double *x, *y;
    tu_problem(3, 200, 5, LETHE_LOSS_LOGISTIC, &x, &y);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_create(ctx, 200, 5, x, 5, y, NULL, LETHE_NORM_NORMALIZE, 1, &ds),
                  LETHE_OK);
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.lambda = 1e-3;
    lethe_model *c = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &c), LETHE_OK);
    assert_status(lethe_model_budget(c, &bg), LETHE_OK);
    assert_int_equal(bg.seeded, 0);
    assert_true(memcmp(a->b, c->b, 5 * sizeof(double)) != 0);
    /* σ derived from the budget: ε' = σε/c reproduces the budget asked for,
     * and never exceeds σε/c computed with the exact c */
    assert_close(bg.budget, 2.0, 1e-12, 0.0);
    assert_true(bg.budget <= 2.0); /* less the lattice's 65·g√d */
    long double c_true = sqrtl(2.0L * logl(1.5L / 1e-5L));
    assert_true((long double)bg.budget <= (long double)bg.sigma * 1.0L / c_true);
    lethe_model_free(a);
    lethe_model_free(b);
    lethe_model_free(c);
    lethe_dataset_free(ds);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void flip_byte(const char *path, long at, int set_to)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(set_to >= 0 ? set_to : (c ^ 0x40), f);
    fclose(f);
}

static void copy_file(const char *from, const char *to, long len)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    int c;
    for (long i = 0; (len < 0 || i < len) && (c = fgetc(a)) != EOF; i++)
        fputc(c, b);
    fclose(a);
    fclose(b);
}

static void test_save_load(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_model *m = random_model(ctx, 123, 300, 7, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
    lethe_removal_report r1, r2;
    uint64_t ids[3] = { 4, 9, 16 };
    assert_status(lethe_model_remove(m, ids, 3, LETHE_PATH_FAST, &r1), LETHE_OK);
    const char *path = tmp_path("state"), *other = tmp_path("other");
    assert_status(lethe_model_save(m, path), LETHE_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* the state is secret */
    lethe_model *l = NULL;
    assert_status(lethe_model_load(ctx, path, &l), LETHE_OK);
    snapshot sm, sl;
    snap(m, &sm);
    snap(l, &sl);
    assert_memory_equal(&sm, &sl, sizeof sm);
    assert_false(lethe_model_has_id(l, 9));
    /* both go on identically: the whole state, the factor and the seeded stream included */
    uint64_t next = 25;
    assert_status(lethe_model_remove(m, &next, 1, LETHE_PATH_FAST, &r1), LETHE_OK);
    assert_status(lethe_model_remove(l, &next, 1, LETHE_PATH_FAST, &r2), LETHE_OK);
    /* field by field: the struct's padding is not part of the result */
    assert_int_equal(r1.removed, r2.removed);
    assert_int_equal(r1.path, r2.path);
    assert_int_equal(r1.certified, r2.certified);
    const double f1[] = { r1.residual, r1.residual_fp, r1.residual_bound, r1.budget };
    const double f2[] = { r2.residual, r2.residual_fp, r2.residual_bound, r2.budget };
    assert_memory_equal(f1, f2, sizeof f1);
    assert_status(lethe_model_refresh(m), LETHE_OK);
    assert_status(lethe_model_refresh(l), LETHE_OK);
    assert_memory_equal(m->w, l->w, 7 * sizeof(double));
    lethe_model_free(l);
    l = NULL;
    /* the public file holds the weights and no secret */
    assert_status(lethe_model_save_public(m, other), LETHE_OK);
    FILE *f = fopen(other, "r");
    char line[256];
    int weights = 0, seen_b = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        weights += strcmp(line, "weights\n") == 0;
        seen_b |= strstr(line, "seed ") != NULL || strncmp(line, "b ", 2) == 0;
    }
    fclose(f);
    assert_int_equal(weights, 1);
    assert_false(seen_b);
    /* damaged files: every kind is refused with EFORMAT or EIO, never a crash */
    assert_status(lethe_model_save(m, path), LETHE_OK);
    long size = file_size(path);
    assert_status(lethe_model_load(ctx, tmp_path("missing"), &l), LETHE_EIO);
    const long cuts[] = { 0, 5, 40, size / 2, size - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        copy_file(path, other, cuts[i]);
        assert_status(lethe_model_load(ctx, other, &l), LETHE_EFORMAT);
    }
    copy_file(path, other, -1);
    f = fopen(other, "ab");
    fputc(0, f);
    fclose(f);
    assert_status(lethe_model_load(ctx, other, &l), LETHE_EFORMAT); /* oversized */
    const long flips[] = { 0, 9, 20, 100, size / 3, size - 40, size - 3 };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        copy_file(path, other, -1);
        flip_byte(other, flips[i], -1);
        assert_status(lethe_model_load(ctx, other, &l), LETHE_EFORMAT);
    }
    copy_file(path, other, -1);
    flip_byte(other, 8, 3); /* version 3: unknown */
    assert_status(lethe_model_load(ctx, other, &l), LETHE_EFORMAT);
    assert_true(strstr(lethe_ctx_errmsg(ctx), "version") != NULL);
    assert_null(l);
    assert_status(lethe_model_save(m, "/nonexistent-dir/x"), LETHE_EIO);
    assert_status(lethe_model_save_public(m, "/nonexistent-dir/x"), LETHE_EIO);
    assert_status(lethe_model_load(ctx, NULL, &l), LETHE_EINVAL);
    remove(path);
    remove(other);
    lethe_model_free(m);
    lethe_ctx_free(ctx);
}

/* A state whose checksum is right but whose content is not consistent is
 * refused: each field is tampered in memory, saved (with a fresh checksum)
 * and loaded again. */
static void test_load_validates(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    char path[256];
    snprintf(path, sizeof path, "%s", tmp_path("tamper"));
    enum { EPS, UNAN, XNORM, BSHIFT, TOL, ITER, SINF, RHO, LABEL, RNORM, NCASES };
    for (int c = 0; c < NCASES; c++) {
        lethe_model *m = random_model(ctx, 98, 200, 6, LETHE_LOSS_LOGISTIC, 1e-3, 2.0);
        switch (c) {
        case EPS: m->epsilon = 9.5; break;            /* c(δ) unproven there */
        case UNAN: m->U[1] = NAN; break;              /* off the diagonal */
        case XNORM: m->xnorm = 0.0; break;            /* no longer a bound */
        case BSHIFT: m->b[0] += 50.0; break;          /* the residual no longer fits */
        case TOL: m->tol = INFINITY; break;
        case ITER: m->max_iter = 0; break;
        case SINF: m->s_f[3] = INFINITY; break;
        case RHO: m->rho = NAN; break;
        case LABEL: m->y[4] = NAN; break;
        case RNORM: m->R = 0.5; break;                /* rows are longer than R */
        }
        assert_status(lethe_model_save(m, path), LETHE_OK);
        lethe_model *l = NULL;
        lethe_status st = lethe_model_load(ctx, path, &l);
        if (st != LETHE_EFORMAT)
            print_error("tampering case %d: load returned %s\n", c, lethe_strerror(st));
        assert_status(st, LETHE_EFORMAT);
        assert_null(l);
        print_message("  tampering case %d: %s\n", c, lethe_ctx_errmsg(ctx));
        lethe_model_free(m);
    }
    remove(path);
    lethe_ctx_free(ctx);
}

/* Every allocation made by train, remove, refresh, save and load fails in
 * turn: the call returns ENOMEM, leaks nothing and changes nothing. */
static void test_alloc_failure(void **state)
{
    (void)state;
    double *x, *y;
    tu_problem(8, 120, 5, LETHE_LOSS_LOGISTIC, &x, &y);
    char path[256];
    snprintf(path, sizeof path, "%s", tmp_path("alloc"));
    long failures = 0;
    for (int op = 0; op < 5; op++) {
        for (long k = 1;; k++) {
            tu_alloc a = { 0, 0, 0 };
            lethe_allocator al = tu_allocator(&a);
            lethe_ctx *ctx = NULL;
            assert_status(lethe_ctx_create(&al, &ctx), LETHE_OK);
            lethe_dataset *ds = NULL;
            assert_status(lethe_dataset_create(ctx, 120, 5, x, 5, y, NULL, LETHE_NORM_NORMALIZE,
                                               1, &ds), LETHE_OK);
            lethe_train_options o;
            lethe_train_options_init(&o);
            o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
            o.lambda = 1e-3;
            o.seed = SEED;
            lethe_model *m = NULL, *l = NULL;
            if (op > 0)
                assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
            if (op == 4)
                assert_status(lethe_model_save(m, path), LETHE_OK);
            snapshot before;
            unsigned char *bytes = NULL;
            long len = 0;
            if (m != NULL) {
                snap(m, &before);
                bytes = state_bytes(m, &len);
            }
            uint64_t ids[2] = { 3, 8 };
            lethe_removal_report rep;
            a.fail_at = a.count + k;
            lethe_status st = LETHE_OK;
            switch (op) {
            case 0: st = lethe_model_train(ctx, ds, &o, &m); break;
            case 1: st = lethe_model_remove(m, ids, 2, LETHE_PATH_FAST, &rep); break;
            case 2: st = lethe_model_refresh(m); break;
            case 3: st = lethe_model_save(m, path); break;
            case 4: st = lethe_model_load(ctx, path, &l); break;
            }
            int failed_alloc = a.count >= a.fail_at;
            a.fail_at = 0;
            if (st != LETHE_OK) {
                assert_status(st, LETHE_ENOMEM);
                failures++;
                if (op == 0) {
                    assert_null(m);
                } else {
                    assert_unchanged(m, &before);
                    assert_same_state(m, bytes, len);
                }
                assert_null(l);
            }
            free(bytes);
            lethe_model_free(l);
            lethe_model_free(m);
            lethe_dataset_free(ds);
            lethe_ctx_free(ctx);
            assert_int_equal(a.live, 0);
            if (!failed_alloc)
                break; /* no allocation left to fail */
        }
    }
    assert_true(failures > 10);
    remove(path);
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guo_c_values),
        cmocka_unit_test(test_status_and_ctx),
        cmocka_unit_test(test_remove_matches_retrain),
        cmocka_unit_test(test_remove_matches_retrain_real),
        cmocka_unit_test(test_residual_is_exact),
        cmocka_unit_test(test_bound_dominates_residual),
        cmocka_unit_test(test_spectral_bound),
        cmocka_unit_test(test_worst_case_bound),
        cmocka_unit_test(test_budget_refusal_changes_nothing),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_refresh_failure),
        cmocka_unit_test(test_refresh_many),
        cmocka_unit_test(test_fast_falls_back_to_exact),
        cmocka_unit_test(test_load_validates),
        cmocka_unit_test(test_remove_errors),
        cmocka_unit_test(test_model_epsilon_delta),
        cmocka_unit_test(test_train_errors),
        cmocka_unit_test(test_backend_errors),
        cmocka_unit_test(test_predict_evaluate),
        cmocka_unit_test(test_seeded_and_csprng),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests_name("certify", tests, NULL, NULL);
}
