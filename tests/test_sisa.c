/*
 * SISA (proofs/sisa.md): a removal leaves, bit for bit, the model that
 * training on the records left gives (the same seed and options), for
 * batches touching first and last slices, in sequence, for logistic and
 * squared losses; each shard near its optimum; refusals change nothing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "modelutil.h"

static lethe_sisa_options options(lethe_loss loss, size_t S, size_t R)
{
    lethe_sisa_options o;
    lethe_sisa_options_init(&o);
    o.loss = loss;
    o.shards = S;
    o.slices = R;
    o.lambda = 1e-3;
    memset(o.seed, 0x5a, sizeof o.seed);
    return o;
}

/* a and b hold the same records and the same weights, bit for bit, and
 * predict the same on probe. */
static void assert_same(const lethe_sisa *a, const lethe_sisa *b, size_t S, size_t d,
                        const lethe_dataset *probe)
{
    assert_int_equal(lethe_sisa_rows(a), lethe_sisa_rows(b));
    for (size_t s = 0; s < S; s++)
        assert_memory_equal(lethe_sisa_shard_weights(a, s), lethe_sisa_shard_weights(b, s),
                            d * sizeof(double));
    assert_null(lethe_sisa_shard_weights(a, S));
    const size_t n = lethe_dataset_rows(probe);
    double *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    assert_status(lethe_sisa_predict(a, n, lethe_dataset_x(probe), d, NULL, pa), LETHE_OK);
    assert_status(lethe_sisa_predict(b, n, lethe_dataset_x(probe), d, NULL, pb), LETHE_OK);
    assert_memory_equal(pa, pb, n * sizeof *pa);
    free(pa);
    free(pb);
}

/* EVIDENCE: LTH-C-0018 */
static void test_sisa_exact(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 600, d = 6, S = 3, R = 4;
    const lethe_loss losses[2] = { LETHE_LOSS_LOGISTIC, LETHE_LOSS_SQUARED };
    for (size_t l = 0; l < 2; l++) {
        lethe_dataset *ds = tu_dataset(ctx, 51 + l, n, d, losses[l], LETHE_NORM_NORMALIZE, 1.0);
        const lethe_sisa_options o = options(losses[l], S, R);
        lethe_sisa *m = NULL;
        assert_status(lethe_sisa_train(ctx, ds, &o, &m), LETHE_OK);
        assert_int_equal(lethe_sisa_rows(m), n);
        double score = 0.0;
        assert_status(lethe_sisa_evaluate(m, ds, &score), LETHE_OK);
        print_message("sisa %s: training %s %.3f\n", lethe_loss_name(losses[l]),
                      l == 0 ? "accuracy" : "RMSE", score);
        assert_true(l == 0 ? score > 0.75 : score < 0.5);
        /* two batches in sequence, against training on what is left */
        const uint64_t *ids = lethe_dataset_ids(ds);
        uint64_t gone[12];
        for (size_t t = 0; t < 12; t++)
            gone[t] = ids[(37 * t + 5) % n];
        lethe_sisa_report rep;
        for (size_t batch = 0; batch < 2; batch++) {
            const size_t k = batch == 0 ? 1 : 11;
            assert_status(lethe_sisa_remove(m, gone + (batch == 0 ? 0 : 1), k, &rep), LETHE_OK);
            assert_int_equal(rep.removed, k);
            assert_true(rep.shards_retrained >= 1 && rep.shards_retrained <= S);
            assert_true(rep.slices_retrained >= rep.shards_retrained &&
                        rep.slices_retrained <= S * R);
            assert_true(rep.distance < 1e-8);
            lethe_dataset *rest = tu_without(ctx, ds, gone, batch == 0 ? 1 : 12, LETHE_NORM_REQUIRE,
                                              1.0 + 1e-9);
            lethe_sisa *fresh = NULL;
            assert_status(lethe_sisa_train(ctx, rest, &o, &fresh), LETHE_OK);
            assert_same(m, fresh, S, d, ds);
            lethe_sisa_free(fresh);
            lethe_dataset_free(rest);
        }
        print_message("last batch: %zu shards, %zu slices retrained, %u Newton steps\n",
                      rep.shards_retrained, rep.slices_retrained, rep.newton_steps);
        for (size_t t = 0; t < 12; t++)
            assert_false(lethe_sisa_has_id(m, gone[t]));
        assert_true(lethe_sisa_has_id(m, ids[1]));
        assert_status(lethe_sisa_remove(m, gone, 1, NULL), LETHE_ENOTFOUND);
        lethe_sisa_free(m);
        lethe_dataset_free(ds);
    }
}

/* A single slice and a single shard are plain retraining; the shard count
 * changes the model. EVIDENCE: LTH-C-0018 */
static void test_sisa_shapes(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 300, d = 5;
    lethe_dataset *ds = tu_dataset(ctx, 57, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1.0);
    lethe_sisa_options o = options(LETHE_LOSS_LOGISTIC, 1, 1);
    lethe_sisa *one = NULL, *five = NULL;
    assert_status(lethe_sisa_train(ctx, ds, &o, &one), LETHE_OK);
    /* S = R = 1 is the exact ERM: M3's θ, trained on the same records */
    lethe_train_options t;
    lethe_train_options_init(&t);
    t.lambda = o.lambda;
    t.tol = 1e-12;
    lethe_model *ref = NULL;
    assert_status(lethe_model_train(ctx, ds, &t, &ref), LETHE_OK);
    assert_true(tu_dist(lethe_sisa_shard_weights(one, 0), ref->w, d) < 1e-9);
    o = options(LETHE_LOSS_LOGISTIC, 5, 3);
    assert_status(lethe_sisa_train(ctx, ds, &o, &five), LETHE_OK);
    assert_true(tu_dist(lethe_sisa_shard_weights(five, 0), ref->w, d) > 1e-6);
    lethe_sisa_report rep;
    assert_status(lethe_sisa_remove(one, &lethe_dataset_ids(ds)[4], 1, &rep), LETHE_OK);
    assert_int_equal(rep.slices_retrained, 1);
    lethe_model_free(ref);
    lethe_sisa_free(one);
    lethe_sisa_free(five);
    lethe_dataset_free(ds);
}

/* Bad input is refused and changes nothing. EVIDENCE: LTH-C-0018 */
static void test_sisa_refusals(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 200, d = 4, S = 4, R = 2;
    lethe_dataset *ds = tu_dataset(ctx, 59, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1.0);
    lethe_sisa_options o = options(LETHE_LOSS_LOGISTIC, S, R);
    lethe_sisa *m = NULL, *x = NULL;
    assert_status(lethe_sisa_train(ctx, NULL, &o, &m), LETHE_EINVAL);
    o.shards = 0;
    assert_status(lethe_sisa_train(ctx, ds, &o, &x), LETHE_EINVAL);
    o.shards = n + 1;
    assert_status(lethe_sisa_train(ctx, ds, &o, &x), LETHE_EINVAL);
    o.shards = n; /* 200 shards by a hash of 200 ids: some receive none */
    assert_status(lethe_sisa_train(ctx, ds, &o, &x), LETHE_EEMPTY);
    assert_msg_has(ctx, "use fewer shards");
    o = options(LETHE_LOSS_LOGISTIC, S, R);
    o.lambda = 0.0;
    assert_status(lethe_sisa_train(ctx, ds, &o, &x), LETHE_EINVAL);
    lethe_dataset *reg = tu_dataset(ctx, 61, n, d, LETHE_LOSS_SQUARED, LETHE_NORM_NORMALIZE, 1.0);
    o = options(LETHE_LOSS_LOGISTIC, S, R);
    assert_status(lethe_sisa_train(ctx, reg, &o, &x), LETHE_ELABEL);
    assert_null(x);
    assert_status(lethe_sisa_train(ctx, ds, &o, &m), LETHE_OK);
    double before[4 * 4];
    for (size_t s = 0; s < S; s++)
        memcpy(before + s * d, lethe_sisa_shard_weights(m, s), d * sizeof *before);
    const uint64_t *ids = lethe_dataset_ids(ds);
    const uint64_t unknown[2] = { ids[0], 777777 }, twice[2] = { ids[3], ids[3] };
    assert_status(lethe_sisa_remove(m, unknown, 2, NULL), LETHE_ENOTFOUND);
    assert_msg_has(ctx, "777777");
    assert_status(lethe_sisa_remove(m, twice, 2, NULL), LETHE_EDUPLICATE);
    assert_status(lethe_sisa_remove(m, ids, 0, NULL), LETHE_EINVAL);
    assert_status(lethe_sisa_remove(m, ids, n, NULL), LETHE_ELAST);
    assert_int_equal(lethe_sisa_rows(m), n);
    for (size_t s = 0; s < S; s++)
        assert_memory_equal(before + s * d, lethe_sisa_shard_weights(m, s), d * sizeof *before);
    assert_true(lethe_sisa_has_id(m, ids[0]) && lethe_sisa_has_id(m, ids[3]));
    double lab[2];
    assert_status(lethe_sisa_predict(m, 2, lethe_dataset_x(ds), d - 1, lab, NULL), LETHE_ESIZE);
    lethe_sisa_free(m);
    lethe_dataset_free(reg);
    lethe_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sisa_exact, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_sisa_shapes, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_sisa_refusals, tu_ctx_setup, tu_ctx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
