/*
 * The main job: certified removal on real data.
 *
 * Fashion-MNIST, pullover (2) vs coat (4), rows scaled to unit norm. Train an
 * L2-regularised logistic regression certified at ε = 1, δ = 1e-5 (mechanism
 * M1, residual budget ε' = 2), remove 200 random records one at a time, and
 * report accuracy, the residual against the budget, the remaining capacity,
 * and the time per removal against the time to retrain from scratch.
 *
 *   usage: fashion_demo [DATA_DIR]   (default: Debian's dataset-fashion-mnist)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, mkstemp */

#include <math.h>
#include <unistd.h>

#include "fmnist.h"

#define REMOVALS 200
/* M2's worst-case calibration needs strong regularisation for a capacity of
 * 200 at n = 12 000 (proofs/m2-removal.md): λ = 1 keeps σ small. */
#define M2_LAMBDA 1.0

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    lethe_ctx *ctx = NULL;
    lethe_status st = lethe_ctx_create(NULL, &ctx);
    if (st != LETHE_OK)
        fm_die(ctx, "lethe", st);
    lethe_dataset *train = fm_load(ctx, dir, "train"), *test = fm_load(ctx, dir, "t10k");
    size_t n = lethe_dataset_rows(train), d = lethe_dataset_cols(train);
    printf("lethe %s — certified removal on Fashion-MNIST (coat vs pullover)\n",
           LETHE_VERSION_STRING);
    printf("data      %zu training records, %zu test records, d = %zu, rows scaled to ‖x‖ = 1\n",
           n, lethe_dataset_rows(test), d);

    lethe_train_options opt;
    lethe_train_options_init(&opt);
    opt.epsilon = 1.0;
    opt.delta = 1e-5;
    opt.budget = 2.0; /* σ = c(δ)·ε'/ε */
    lethe_model *model = NULL;
    double t0 = fm_now();
    if ((st = lethe_model_train(ctx, train, &opt, &model)) != LETHE_OK)
        fm_die(ctx, "train", st);
    double t_train = fm_now() - t0;
    lethe_budget b;
    lethe_model_budget(model, &b);
    double acc0;
    lethe_model_evaluate(model, test, &acc0);
    printf("model     logistic, λ = %g, certified (ε, δ) = (%g, %g), σ = %.4f, budget ε' = %.4f\n",
           opt.lambda, b.epsilon, b.delta, b.sigma, b.budget);
    printf("training  %.3f s, residual %.3e (charged to the budget)\n", t_train,
           b.train_residual);
    printf("noise     %s\n          lattice g = %a; charged: %.2e to the residual, %.2e to δ\n",
           b.sampler, b.lattice, b.lattice_rounding, b.delta_sampler);
    printf("accuracy  %.2f %% on the test set before removal\n", 100.0 * acc0);

    /* 200 random records, removed one at a time on the fast path */
    const uint64_t *ids = lethe_dataset_ids(train);
    size_t *pick = fm_pick(n, REMOVALS, (uint64_t)time(NULL));
    double times[REMOVALS], max_ratio = 0.0;
    int tty = isatty(STDERR_FILENO);
    lethe_removal_report rep = { 0 };
    for (size_t k = 0; k < REMOVALS; k++) {
        t0 = fm_now();
        st = lethe_model_remove(model, &ids[pick[k]], 1, LETHE_PATH_FAST, &rep);
        times[k] = fm_now() - t0;
        if (st != LETHE_OK)
            fm_die(ctx, "remove", st);
        max_ratio = fmax(max_ratio, rep.residual / rep.residual_bound);
        if (tty)
            fprintf(stderr, "\rremoving  %zu/%d", k + 1, REMOVALS);
    }
    if (tty)
        fprintf(stderr, "\r                    \r");
    free(pick);
    double acc1;
    lethe_model_evaluate(model, test, &acc1);
    lethe_model_budget(model, &b);
    printf("removed   %d records, one at a time, every one certified\n", REMOVALS);
    printf("accuracy  %.2f %% on the test set after removal\n", 100.0 * acc1);
    printf("residual  %.3e exact, Guo's data-dependent bound %.3e, budget %.4f (%.4f %% used)\n",
           b.residual, b.residual_bound, b.budget, 100.0 * b.residual / b.budget);
    printf("          Guo's worst-case bound for one more removal: %.3g (%s)\n",
           b.worst_case_bound, b.worst_case_bound <= b.remaining ? "fits" : "certifies nothing");
    printf("capacity  about %zu more single removals (estimate: the residual grows at most\n"
           "          quadratically in the removals, from its largest value so far); each\n"
           "          removal is still checked on its exact residual\n",
           b.capacity_estimate);

    /* retrain from scratch on the remaining records, for comparison */
    lethe_dataset *rest = fm_remaining(ctx, train, model);
    lethe_model *fresh = NULL;
    t0 = fm_now();
    if ((st = lethe_model_train(ctx, rest, &opt, &fresh)) != LETHE_OK)
        fm_die(ctx, "retrain", st);
    double t_retrain = fm_now() - t0;
    double med = fm_median(times, REMOVALS);
    printf("time      %.2f ms median per removal; retraining from scratch %.3f s (%.0f× slower)\n",
           1e3 * med, t_retrain, t_retrain / med);
    printf("caveat    (ε, δ) is as Guo et al.'s theorem states it, for the idealised mechanism:\n"
           "          its proof needs a regularity condition lethe does not yet bound (gap G1)\n"
           "          and a continuous b, where lethe's is on a fine lattice (gap G4; proofs/)\n");

    /* Mechanism M2: the same removals without keeping the training data. Its
     * noise is calibrated for the worst case over a capacity fixed in advance,
     * which on this data needs a strongly regularised model. */
    lethe_m2_options m2opt;
    lethe_m2_options_init(&m2opt);
    m2opt.lambda = M2_LAMBDA;
    m2opt.capacity = REMOVALS;
    lethe_m2 *m2 = NULL;
    if ((st = lethe_m2_train(ctx, train, &m2opt, &m2)) != LETHE_OK)
        fm_die(ctx, "train (M2)", st);
    lethe_m2_report m2rep;
    lethe_m2_status(m2, &m2rep);
    double acc2a, acc2b;
    lethe_m2_evaluate(m2, test, &acc2a);
    const double *tx = lethe_dataset_x(train), *ty = lethe_dataset_y(train);
    size_t *pick2 = fm_pick(n, REMOVALS, (uint64_t)time(NULL) + 1);
    double times2[REMOVALS];
    for (size_t k = 0; k < REMOVALS; k++) {
        size_t i = pick2[k];
        t0 = fm_now();
        st = lethe_m2_remove(m2, 1, tx + i * d, d, &ty[i], &ids[i], &m2rep);
        times2[k] = fm_now() - t0;
        if (st != LETHE_OK)
            fm_die(ctx, "remove (M2)", st);
    }
    free(pick2);
    lethe_m2_evaluate(m2, test, &acc2b);
    printf("\nM2        data-free (Sekhari et al. 2021): λ = %g, capacity m = %d, "
           "γ(m) = %.3g, σ = %.3g\n", m2opt.lambda, REMOVALS, m2rep.gamma, m2rep.sigma);
    printf("          accuracy %.2f %% before, %.2f %% after %d removals (capacity used: %zu/%zu)\n",
           100.0 * acc2a, 100.0 * acc2b, REMOVALS, m2rep.used, m2rep.capacity);
    printf("          %.3f ms median per removed record, without the training data\n",
           1e3 * fm_median(times2, REMOVALS));
    printf("          lattice g = %a; charged in Δ = %.3g: %.2e (lattice) + %.2e (Newton-step\n"
           "          rounding); %.2e of δ for the sampler\n", m2rep.lattice, m2rep.sensitivity,
           m2rep.lattice_rounding, m2rep.newton_fp, m2rep.delta_sampler);
    lethe_m2_free(m2);
    lethe_model_free(fresh);
    lethe_dataset_free(rest);
    lethe_model_free(model);
    lethe_dataset_free(train);
    lethe_dataset_free(test);
    lethe_ctx_free(ctx);
    return 0;
}
