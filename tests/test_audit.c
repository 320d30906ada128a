/*
 * The privacy audits of bench/audit.c in miniature (`make audit` runs them
 * at full size on the demo data; bench/audit.md): MATH.md §6's
 * Clopper–Pearson vector, the distinguishing audit of M3's releases with
 * its control, and the two-model reconstruction with M1 as its control.
 * The audit code itself is bench/audit.c, included here without its main.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#define AUDIT_NO_MAIN
#include "../bench/audit.c"

static const unsigned char SEED[32] = { 0x3c, 0x91, 0x0e, 0x55, 0x23, 0x85 };

/* A random problem of n records, d features (rows of norm 1) from SEED. */
static lethe_dataset *problem(lethe_ctx *ctx, size_t n, size_t d)
{
    lethe_dataset *ds = audit_problem(ctx, SEED, n, d);
    assert_non_null(ds);
    return ds;
}

/* MATH.md §6's example, and the bound's closed forms at its ends. The
 * bounds were recomputed independently (the binomial CDF summed term by
 * term in Python, bisected in double precision): 0.01831324305511137 and
 * 0.5314508270282047. */
static void test_clopper_pearson(void **state)
{
    (void)state;
    double fu, nu, e = audit_eps_lb(10, 1000, 500, 1000, 1e-5, &fu, &nu);
    assert_close(e, 3.241995, 0.0, 1e-5);
    assert_close(e, 3.2419952494410507, 1e-11, 0.0);
    assert_close(fu, 0.01831324305511137, 1e-11, 0.0);
    assert_close(nu, 0.5314508270282047, 1e-11, 0.0);
    /* k = 0: (1 − p)^N = a; k = N: 1 */
    assert_close(audit_cp_upper(0, 512, 0.025), 1.0 - pow(0.025, 1.0 / 512.0), 1e-12, 0.0);
    assert_close(audit_cp_upper(512, 512, 0.025), 1.0, 0.0, 0.0);
    /* MATH.md §6: zero errors in 512 trials per side certify at most 4.93 */
    assert_close(audit_eps_lb(0, 512, 0, 512, 1e-5, &fu, &nu), 4.93, 0.0, 5e-3);
    /* symmetric in the two error kinds; 0 when the test does no better than chance */
    assert_close(audit_eps_lb(500, 1000, 10, 1000, 1e-5, &fu, &nu), e, 1e-14, 0.0);
    assert_close(audit_eps_lb(500, 1000, 500, 1000, 1e-5, &fu, &nu), 0.0, 0.0, 0.0);
}

/* EVIDENCE: LTH-C-0012 */
/* Releases of the unlearned θ against releases of the exact retrain, σ
 * calibrated for their true distance: no threshold on the projection may
 * show more than ε = 1. With σ for a tenth of it, the same audit must. */
static void test_distinguishing(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_dataset *ds = problem(ctx, 200, 5);
    lethe_train_options opt;
    lethe_train_options_init(&opt);
    audit_dist r;
    assert_int_equal(audit_distinguish(ctx, ds, &opt, 61, 2000, 400, SEED, &r), 0);
    print_message("distinguishing: ‖θ − w*‖ = %.3e (bound %.3e); ε_LB tight %.3f, control %.3f, "
                  "end to end %.3f\n", r.distance, r.bound, r.t[0].eps_lb,
                  r.t[AUDIT_UNDER - 1].eps_lb, r.e2e.eps_lb);
    assert_le(r.distance, r.bound + r.retrain_err);
    assert_le(r.bound, r.delta_max);
    assert_le(r.retrain_err, 1e-3 * r.distance); /* Δ is known to 0.1 % */
    assert_le(r.t[0].eps_lb, opt.epsilon);
    assert_true(r.t[AUDIT_UNDER - 1].eps_lb > opt.epsilon);
    assert_le(r.e2e.eps_lb, opt.epsilon);
    assert_le(r.e2e_distance, r.e2e_delta_max);
    assert_true(r.e2e_models > 1); /* a model's history runs out after about 90 releases */
    assert_true(r.e2e_same);
    assert_true(r.e2e_replayed);
    lethe_dataset_free(ds);
}

/* EVIDENCE: LTH-C-0012 */
/* Two consecutive M1 models give back the removed record and its label;
 * two consecutive M3 releases do not. Every M3 release is (round(θ/g) + m)·g
 * with m replayed from the seed, and every θ is within its certified bound
 * of the exact retrain. n = 2000: the attack on M1 needs |ℓ'(z_r)| above
 * the residuals of its Newton steps, and at n = 300 (λn = 0.3) the model
 * fits many records with |ℓ'| below 1e-4, which it then does not see. */
static void test_reconstruction(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_dataset *ds = problem(ctx, 2000, 20);
    audit_recon r;
    const size_t k = 5;
    assert_int_equal(audit_reconstruct(ctx, ds, k, 2385, SEED, &r), 0);
    audit_stat st[ARMS];
    for (int a = 0; a < ARMS; a++) {
        st[a] = audit_stats(r.cos[a], NULL, k);
        print_message("reconstruction: %-28s |cos| %.3f (%.3f … %.3f)\n", audit_arm_name[a],
                      st[a].mean, st[a].min, st[a].max);
    }
    assert_true(st[ARM_M1].mean >= 0.99);
    for (size_t t = 0; t < k; t++) {
        assert_int_equal(r.label[ARM_M1][t], 1);
        assert_true(r.rank[ARM_M1][t] <= 0.0);
    }
    assert_le(st[ARM_M3].mean, 0.7);
    assert_le(st[ARM_DP].mean, 0.7);
    /* the control of that bound: M3's θ attacked as if released without its
     * noise gives the record back, so 0.7 separates a leak from M3 */
    audit_stat bare = audit_stats(r.cos_bare, NULL, k);
    print_message("reconstruction: %-28s |cos| %.3f (%.3f … %.3f)\n", "control: θ, no noise",
                  bare.mean, bare.min, bare.max);
    assert_true(bare.mean > 0.7);
    assert_int_equal(r.replayed, r.releases);
    assert_int_equal(r.releases, 2 * (k + 1));
    assert_int_equal(r.bound_ok, 2 * k);
    audit_recon_free(&r);
    lethe_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clopper_pearson),
        cmocka_unit_test_setup_teardown(test_distinguishing, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_reconstruction, tu_ctx_setup, tu_ctx_teardown),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
