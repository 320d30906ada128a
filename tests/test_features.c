/*
 * Frozen feature maps and the intercept: the canonical description and its
 * hash, the maps' definitions (unit rows, the RBF kernel they approximate,
 * the same Ω from the same seed), and models on them — removals against a
 * retrain from the raw records through the same map, the state file, and
 * prediction through the map.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "modelutil.h"

#include <unistd.h>

#include <cblas.h>
#include <sodium.h>

static const unsigned char SEED[32] = { 0x1f, 0xea, 7, 2, 9 };

static lethe_ctx *ctx_new(void)
{
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    return ctx;
}

static lethe_dataset *random_data(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d,
                                  lethe_loss loss)
{
    return tu_dataset(ctx, seed, n, d, loss, LETHE_NORM_NORMALIZE, 1.0);
}

static lethe_feature_map rff(size_t D, double gamma)
{
    lethe_feature_map p;
    memset(&p, 0, sizeof p);
    p.kind = LETHE_FEATURES_RFF;
    p.dim = D;
    p.gamma = gamma;
    memcpy(p.seed, SEED, sizeof p.seed);
    return p;
}

/* EVIDENCE: LTH-C-0015 */
static void test_features_describe(void **state)
{
    (void)state;
    char text[LETHE_FEATURES_TEXT_MAX], hash[65], hash2[65];
    lethe_feature_map p = rff(300, 0.5);
    assert_status(lethe_features_describe(&p, 784, text, hash), LETHE_OK);
    assert_string_equal(text, "rff in=784 dim=300 gamma=0.5 seed=1fea070209000000000000000000000"
                              "000000000000000000000000000000000 norm=1");
    assert_int_equal(strlen(hash), 64);
    /* any parameter changes the hash */
    p.bias = 1.0;
    assert_status(lethe_features_describe(&p, 784, text, hash2), LETHE_OK);
    assert_non_null(strstr(text, " bias=1"));
    assert_string_not_equal(hash, hash2);
    p.seed[31] ^= 1;
    assert_status(lethe_features_describe(&p, 784, text, hash), LETHE_OK);
    assert_string_not_equal(hash, hash2);
    lethe_feature_map none;
    memset(&none, 0, sizeof none);
    assert_status(lethe_features_describe(&none, 5, text, hash), LETHE_OK);
    assert_string_equal(text, "none in=5");
    /* out of range: D = 0, γ ≤ 0, a negative intercept, an unknown kind, no input */
    p = rff(0, 1.0);
    assert_status(lethe_features_describe(&p, 10, text, hash), LETHE_EINVAL);
    p = rff(10, 0.0);
    assert_status(lethe_features_describe(&p, 10, text, hash), LETHE_EINVAL);
    p = rff(10, 1.0);
    p.bias = -1.0;
    assert_status(lethe_features_describe(&p, 10, text, hash), LETHE_EINVAL);
    p.bias = 0.0;
    p.kind = (lethe_feature_kind)9;
    assert_status(lethe_features_describe(&p, 10, text, hash), LETHE_EINVAL);
    p = rff(10, 1.0);
    assert_status(lethe_features_describe(&p, 0, text, hash), LETHE_EINVAL);
    p.input = (lethe_feature_input)2;
    assert_status(lethe_features_describe(&p, 10, text, hash), LETHE_EINVAL);
    /* the input transform: after in=, in the hash, read back by the parser */
    p = rff(300, 0.5);
    assert_status(lethe_features_describe(&p, 784, text, hash), LETHE_OK);
    p.input = LETHE_INPUT_SQRT;
    assert_status(lethe_features_describe(&p, 784, text, hash2), LETHE_OK);
    assert_true(strncmp(text, "rff in=784 input=sqrt dim=300 gamma=0.5 seed=1fea", 49) == 0);
    assert_string_not_equal(hash, hash2);
    lethe_feature_map q;
    size_t in = 0;
    assert_true(lethe__features_parse(text, &q, &in));
    assert_int_equal(in, 784);
    assert_int_equal(q.input, LETHE_INPUT_SQRT);
    assert_int_equal(q.dim, 300);
    none.input = LETHE_INPUT_SQRT;
    assert_status(lethe_features_describe(&none, 5, text, hash), LETHE_OK);
    assert_string_equal(text, "none in=5 input=sqrt");
    assert_true(lethe__features_active(&none));
    assert_false(lethe__features_parse("none in=5 input=cbrt", &q, &in));
}

/* The maps as defined: unit rows; E φ(x)ᵀφ(x') = exp(−γ‖x − x'‖²) for RFF
 * within its O(1/√D) sampling error; Ω the same bits from the same seed.
 * EVIDENCE: LTH-C-0015 */
static void test_features_maps(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t d = 6, D = 6000;
    lethe_feature_map p = rff(D, 0.7);
    lethe_fmap f, g;
    assert_status(lethe__fmap_init(ctx, &p, d, &f), LETHE_OK);
    assert_status(lethe__fmap_init(ctx, &p, d, &g), LETHE_OK);
    assert_memory_equal(f.omega, g.omega, D * d * sizeof *f.omega);
    assert_memory_equal(f.beta, g.beta, D * sizeof *f.beta);
    /* Ω's entries have variance 2γ */
    double s2 = 0.0;
    for (size_t i = 0; i < D * d; i++)
        s2 += f.omega[i] * f.omega[i];
    assert_close(s2 / (double)(D * d), 1.4, 0.03, 0.0);
    lethe__fmap_free(ctx, &g);
    p.seed[0] ^= 1;
    assert_status(lethe__fmap_init(ctx, &p, d, &g), LETHE_OK);
    assert_true(memcmp(f.omega, g.omega, D * d * sizeof *f.omega) != 0);
    lethe__fmap_free(ctx, &g);
    /* the kernel: pairs at several distances */
    double x[3 * 6] = { 0.1, -0.3, 0.2, 0.5, 0.0, -0.4, 0.2, -0.1, 0.1, 0.4, 0.3, -0.5,
                        -0.6, 0.2, 0.0, -0.1, 0.5, 0.3 };
    double *phi = malloc(3 * D * sizeof *phi);
    assert_status(lethe__fmap_apply(ctx, &f, 3, x, d, phi), LETHE_OK);
    for (size_t i = 0; i < 3; i++)
        assert_close(cblas_dnrm2((int)D, phi + i * D, 1), 1.0, 1e-14, 0.0);
    for (size_t i = 1; i < 3; i++) {
        double dist2 = 0.0;
        for (size_t j = 0; j < d; j++)
            dist2 += (x[j] - x[i * d + j]) * (x[j] - x[i * d + j]);
        double k = cblas_ddot((int)D, phi, 1, phi + i * D, 1);
        print_message("rff D = %zu: k(x0, x%zu) = %.4f, exp(−γ‖x − x'‖²) = %.4f\n", D, i, k,
                      exp(-0.7 * dist2));
        assert_close(k, exp(-0.7 * dist2), 0.0, 0.04);
    }
    /* ReLU: non-negative unit rows; the intercept's constant at the end */
    lethe_feature_map r;
    memset(&r, 0, sizeof r);
    r.kind = LETHE_FEATURES_RELU;
    r.dim = 50;
    r.bias = 2.0;
    memcpy(r.seed, SEED, 32);
    lethe_fmap h;
    assert_status(lethe__fmap_init(ctx, &r, d, &h), LETHE_OK);
    assert_int_equal(h.d_out, 51);
    assert_status(lethe__fmap_apply(ctx, &h, 3, x, d, phi), LETHE_OK);
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 50; j++)
            assert_true(phi[i * 51 + j] >= 0.0);
        assert_close(cblas_dnrm2(50, phi + i * 51, 1), 1.0, 1e-14, 0.0);
        assert_close(phi[i * 51 + 50], 2.0, 0.0, 0.0);
    }
    lethe__fmap_free(ctx, &h);
    /* the square-root input: φ of x is the raw map's φ of z = s(x)/√‖x‖₁,
     * over more rows than one block (600, a zero row among them) */
    const size_t nr = 600, Dr = 40;
    double *xr = malloc(nr * d * sizeof *xr), *zr = malloc(nr * d * sizeof *zr);
    double *pr = malloc(nr * Dr * sizeof *pr), *pz = malloc(nr * Dr * sizeof *pz);
    for (size_t i = 0; i < nr * d; i++)
        xr[i] = i / d == 17 ? 0.0 : sin(1.7 * (double)i + 0.3) * (double)(i % 5);
    for (size_t i = 0; i < nr; i++) {
        double l1 = 0.0;
        for (size_t j = 0; j < d; j++)
            l1 += fabs(xr[i * d + j]);
        for (size_t j = 0; j < d; j++) {
            double v = xr[i * d + j];
            zr[i * d + j] = l1 > 0.0 ? (v < 0.0 ? -1.0 : 1.0) * sqrt(fabs(v) / l1) : 0.0;
        }
    }
    lethe_feature_map ps = rff(Dr, 0.7), pn;
    ps.input = LETHE_INPUT_SQRT;
    lethe_fmap fs, fr, fn;
    assert_status(lethe__fmap_init(ctx, &ps, d, &fs), LETHE_OK);
    ps.input = LETHE_INPUT_RAW;
    assert_status(lethe__fmap_init(ctx, &ps, d, &fr), LETHE_OK);
    assert_status(lethe__fmap_apply(ctx, &fs, nr, xr, d, pr), LETHE_OK);
    assert_status(lethe__fmap_apply(ctx, &fr, nr, zr, d, pz), LETHE_OK);
    double worst = 0.0;
    for (size_t i = 0; i < nr * Dr; i++)
        worst = fmax(worst, fabs(pr[i] - pz[i]));
    assert_true(worst < 1e-12);
    /* without a random map the transformed rows are the features, norm 1 */
    memset(&pn, 0, sizeof pn);
    pn.input = LETHE_INPUT_SQRT;
    assert_status(lethe__fmap_init(ctx, &pn, d, &fn), LETHE_OK);
    assert_int_equal(fn.d_out, d);
    assert_status(lethe__fmap_apply(ctx, &fn, nr, xr, d, pr), LETHE_OK);
    for (size_t i = 0; i < nr; i++) {
        assert_close(cblas_dnrm2((int)d, pr + i * d, 1), i == 17 ? 0.0 : 1.0, 1e-14, 0.0);
        for (size_t j = 0; j < d; j++)
            assert_close(pr[i * d + j], zr[i * d + j], 1e-14, 1e-15);
    }
    lethe__fmap_free(ctx, &fs);
    lethe__fmap_free(ctx, &fr);
    lethe__fmap_free(ctx, &fn);
    free(xr);
    free(zr);
    free(pr);
    free(pz);
    lethe__fmap_free(ctx, &f);
    free(phi);
    lethe_ctx_free(ctx);
}

/* Train on raw records through the map; remove; retrain from the raw records
 * left, through the same map: the removed model is within its certified
 * distance of the retrain's optimum. The state file brings the map back.
 * EVIDENCE: LTH-C-0015 LTH-C-0012 */
static void test_features_model(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    const size_t n = 500, d = 5;
    lethe_feature_map maps[4];
    maps[0] = rff(60, 1.5);
    maps[3] = rff(60, 1.5); /* on the records' signed square roots */
    maps[3].input = LETHE_INPUT_SQRT;
    memset(&maps[1], 0, sizeof maps[1]);
    maps[1].kind = LETHE_FEATURES_RELU;
    maps[1].dim = 40;
    maps[1].bias = 1.0;
    memcpy(maps[1].seed, SEED, 32);
    memset(&maps[2], 0, sizeof maps[2]); /* the intercept alone */
    maps[2].bias = 0.5;
    for (size_t k = 0; k < 4; k++) {
        lethe_dataset *ds = random_data(ctx, 201 + k, n, d, LETHE_LOSS_LOGISTIC);
        lethe_train_options o;
        lethe_train_options_init(&o);
        o.lambda = 3e-3;
        o.delta_max = 0.02;
        o.seed = SEED;
        o.features = maps[k];
        lethe_model *m = NULL;
        assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
        assert_int_equal(lethe_model_input_dim(m), d);
        const size_t width = k == 0 || k == 3 ? 60 : k == 1 ? 41 : d + 1;
        assert_int_equal(m->d, width);
        if (k == 2) /* R = √(1 + ½²) for unit rows and an intercept of ½ */
            assert_close(m->R, sqrt(1.25), 1e-12, 0.0);
        uint64_t ids[12];
        for (size_t t = 0; t < 12; t++)
            ids[t] = 7 + 31 * t;
        lethe_removal_report rep;
        assert_status(lethe_model_remove(m, ids, 12, LETHE_PATH_FAST, &rep), LETHE_OK);
        assert_true(rep.certified);
        /* the retrain: the raw records left, the same map */
        double *x = malloc(n * d * sizeof *x), *y = malloc(n * sizeof *y);
        uint64_t *keep = malloc(n * sizeof *keep);
        size_t left = 0;
        for (size_t i = 0; i < n; i++) {
            int gone = 0;
            for (size_t t = 0; t < 12; t++)
                gone |= lethe_dataset_ids(ds)[i] == ids[t];
            if (gone)
                continue;
            memcpy(x + left * d, lethe_dataset_x(ds) + i * d, d * sizeof *x);
            y[left] = lethe_dataset_y(ds)[i];
            keep[left++] = lethe_dataset_ids(ds)[i];
        }
        lethe_dataset *rest = NULL;
        assert_status(lethe_dataset_create(ctx, left, d, x, d, y, keep, LETHE_NORM_REQUIRE,
                                           1.0 + 1e-9, &rest),
                      LETHE_OK);
        o.tol = 1e-13;
        lethe_model *r = NULL;
        assert_status(lethe_model_train(ctx, rest, &o, &r), LETHE_OK);
        lethe_budget br;
        assert_status(lethe_model_budget(r, &br), LETHE_OK);
        double gap = tu_dist(m->w, r->w, width);
        print_message("features %zu: ‖θ − θ_retrain‖ = %.3g ≤ %.3g + %.3g\n", k, gap,
                      rep.distance, br.distance);
        assert_le(gap, rep.distance + br.distance);
        /* the state file keeps the map: same predictions from raw records */
        char path[256];
        snprintf(path, sizeof path, "/tmp/lethe-features-%ld-%zu", (long)getpid(), k);
        assert_status(lethe_model_save(m, path), LETHE_OK);
        lethe_model *l = NULL;
        assert_status(lethe_model_load(ctx, path, &l), LETHE_OK);
        remove(path);
        assert_int_equal(lethe_model_features(l)->input, maps[k].input);
        double la[20], pa[20], lb[20], pb[20];
        assert_status(lethe_model_predict(m, 20, lethe_dataset_x(ds), d, la, pa), LETHE_OK);
        assert_status(lethe_model_predict(l, 20, lethe_dataset_x(ds), d, lb, pb), LETHE_OK);
        assert_memory_equal(pa, pb, sizeof pa);
        double acc = 0.0;
        assert_status(lethe_model_evaluate(l, ds, &acc), LETHE_OK);
        assert_true(acc > 0.6);
        /* a prediction with the wrong width is refused */
        assert_status(lethe_model_predict(l, 2, lethe_dataset_x(ds), d - 1, lb, pb), LETHE_ESIZE);
        lethe_model_free(l);
        lethe_model_free(r);
        lethe_model_free(m);
        lethe_dataset_free(rest);
        lethe_dataset_free(ds);
        free(x);
        free(y);
        free(keep);
    }
    lethe_ctx_free(ctx);
}

/* guo takes a map too, and after a random map R is fixed in advance (1),
 * so DP releases need no norm policy on the raw records; the locale does
 * not change a description. EVIDENCE: LTH-C-0015 */
static void test_features_mechanisms(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    double *x, *y;
    tu_problem(221, 400, 6, LETHE_LOSS_LOGISTIC, &x, &y);
    lethe_dataset *ds = NULL; /* R measured from the data */
    assert_status(lethe_dataset_create(ctx, 400, 6, x, 6, y, NULL, LETHE_NORM_MEASURE, 0.0, &ds),
                  LETHE_OK);
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.seed = SEED;
    o.features = rff(50, 0.8);
    o.dp_releases = 1;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    lethe_budget b;
    assert_status(lethe_model_budget(m, &b), LETHE_OK);
    assert_true(b.dp_releases);
    lethe_model_free(m);
    o.features.kind = LETHE_FEATURES_NONE; /* without a map the measured R is refused */
    m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_EINVAL);
    assert_null(m);
    /* a declared map keeps the records as they are: R measured from them is
     * kept (with room for the re-check), the longest row included */
    lethe_train_options od;
    lethe_train_options_init(&od);
    od.seed = SEED;
    od.features.kind = LETHE_FEATURES_DECLARED;
    memset(od.features.identity, 0xd1, 32);
    assert_status(lethe_model_train(ctx, ds, &od, &m), LETHE_OK);
    assert_true(m->R >= lethe_dataset_norm_bound(ds));
    assert_true(m->R <= lethe_dataset_norm_bound(ds) * (1.0 + 1e-12));
    lethe_model_free(m);
    m = NULL;
    /* guo on random features: a removal certified against its budget */
    o.features = rff(50, 0.8);
    o.dp_releases = 0;
    o.mechanism = LETHE_MECH_M1;
    o.lambda = 1e-2;
    o.budget = 5.0;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    uint64_t id = 17;
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_true(rep.certified);
    double label[3], prob[3];
    assert_status(lethe_model_predict(m, 3, x, 6, label, prob), LETHE_OK);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    free(x);
    free(y);
    lethe_ctx_free(ctx);
}

/* Write the n bytes of a state file to path, its checksum (the BLAKE2b-256
 * of all bytes before it) made again. */
static void rewrite(const char *path, unsigned char *b, size_t n)
{
    crypto_generichash(b + n - 32, 32, b, n - 32, NULL, 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* A state file of version 1 (written before feature maps: no map block)
 * still loads, as a model without a map: the file is rebuilt from a
 * version 2 one by cutting the block out and re-checksumming. */
static void test_features_state_v1(void **state)
{
    (void)state;
    lethe_ctx *ctx = ctx_new();
    lethe_dataset *ds = random_data(ctx, 231, 120, 4, LETHE_LOSS_LOGISTIC);
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.seed = SEED;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    char p2[256], p1[256];
    snprintf(p2, sizeof p2, "/tmp/lethe-features-v2-%ld", (long)getpid());
    snprintf(p1, sizeof p1, "/tmp/lethe-features-v1-%ld", (long)getpid());
    assert_status(lethe_model_save(m, p2), LETHE_OK);
    FILE *f = fopen(p2, "rb");
    assert_non_null(f);
    unsigned char *b = malloc(1 << 20);
    size_t n = fread(b, 1, 1 << 20, f);
    fclose(f);
    const size_t at = 8 + 8 * 8 + 88, block = 6 * 8 + 64; /* after the M3 header block */
    assert_true(n > at + block + 32);
    assert_int_equal(b[8], 2);
    b[8] = 1;
    memmove(b + at, b + at + block, n - at - block);
    n -= block;
    rewrite(p1, b, n);
    lethe_model *l = NULL;
    assert_status(lethe_model_load(ctx, p1, &l), LETHE_OK);
    assert_int_equal(lethe_model_features(l)->kind, LETHE_FEATURES_NONE);
    assert_memory_equal(l->w, m->w, m->d * sizeof *m->w);
    /* and a cut that is not a whole block is refused */
    b[8] = 2;
    rewrite(p1, b, n);
    lethe_model *bad = NULL;
    assert_status(lethe_model_load(ctx, p1, &bad), LETHE_EFORMAT);
    assert_null(bad);
    remove(p1);
    remove(p2);
    free(b);
    lethe_model_free(l);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_describe),
        cmocka_unit_test(test_features_maps),
        cmocka_unit_test(test_features_model),
        cmocka_unit_test(test_features_mechanisms),
        cmocka_unit_test(test_features_state_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
