/*
 * lethe train: read a data set, train a certified model (lethe_model_train),
 * write the owner's state and, if asked, the publishable model.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "cli/cli.h"

const char lethe__cli_data_help[] =
    "data options:\n"
    "  --data FILE           a CSV file, a LIBSVM file (named *.libsvm, *.svm or\n"
    "                        *.svmlight, raw or .gz), or IDX images (named\n"
    "                        *idx*-ubyte[.gz])\n"
    "  --labels FILE         the IDX labels (required with IDX images)\n"
    "  --format idx|csv|libsvm  override the guess from the file name\n"
    "  --classes POS,NEG     keep the records of class POS (label +1) and NEG\n"
    "                        (label -1) only; ids stay the record numbers\n"
    "  --header yes|no|auto  CSV: the first line is a header (default auto: it is\n"
    "                        if some field is not a number)\n"
    "  --label-col N         CSV: the label column, from 0; negative counts from\n"
    "                        the end (default -1, the last)\n"
    "  --id-col N            CSV: the id column (integers >= 0, distinct); default:\n"
    "                        ids are the record numbers in the file, from 0\n"
"  --dim N               LIBSVM: the number of features d (default: the\n"
    "                        largest index in the file; predict and forget: the\n"
    "                        model's d)\n"
    "  --norm POLICY         measure (default): R := the largest row norm;\n"
    "                        require: fail if a row is longer than R;\n"
    "                        clip: shorten longer rows to R;\n"
    "                        normalize: scale every non-zero row to norm R\n"
    "  --R VALUE             the norm bound of require, clip, normalize (default 1)\n";

/* A workspace takes one trained model: retraining means a new workspace (the
 * ledger certifies removals from one model). 0 or an exit status. */
static int empty_workspace(const lethe__cli_args *a)
{
    lethe_workspace_info info;
    if (a->ws == NULL || lethe_workspace_status(a->ws, &info) != LETHE_OK ||
        info.mechanism == 0)
        return 0;
    return lethe__cli_error(a->cmd, LETHE__EXIT_USAGE,
                            "%s already holds a trained model; to start over, make a new "
                            "workspace with 'lethe init'", a->workspace);
}

/* Mechanism M2: exact training, data-free removal, output noise calibrated
 * for a capacity of --capacity removals. */
static int run_m2(lethe__cli_args *a)
{
    if (a->given & (LETHE__OPT_SIGMA | LETHE__OPT_BUDGET))
        return lethe__cli_usage(a, "--sigma and --budget are for M1; M2 derives σ from "
                                   "--capacity, ε and δ");
    if (a->train.loss != LETHE_LOSS_LOGISTIC)
        return lethe__cli_usage(a, "M2 supports the logistic loss only");
    if (a->read.policy == LETHE_NORM_MEASURE)
        return lethe__cli_usage(a, "M2 needs a norm bound fixed in advance: --norm require, "
                                   "clip or normalize (with --R)");
    lethe_m2_options o;
    lethe_m2_options_init(&o);
    if (a->given & LETHE__OPT_LAMBDA)
        o.lambda = a->train.lambda;
    o.epsilon = a->train.epsilon;
    if (a->given & LETHE__OPT_TOL)
        o.tol = a->train.tol;
    o.delta = a->train.delta;
    o.capacity = a->capacity;
    if (a->given & LETHE__OPT_ALPHA) {
        if (a->given & LETHE__OPT_CAPACITY)
            return lethe__cli_usage(a, "give --capacity or --alpha, not both");
        o.capacity = 0; /* derived from α (lethe_deletion_capacity) */
        o.alpha = a->alpha;
    }
    o.seed = a->train.seed;
    lethe_ctx *ctx = NULL;
    lethe_dataset *ds = NULL;
    lethe_m2 *m = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    rc = empty_workspace(a);
    if (rc == 0)
        rc = lethe__cli_read_data(a, ctx, 0, &ds);
    if (rc != 0)
        goto done;
    double t0 = lethe__cli_now();
    lethe_status st = lethe_m2_train(ctx, ds, &o, &m);
    double seconds = lethe__cli_now() - t0, score = NAN;
    lethe_m2_report r;
    if (st == LETHE_OK)
        st = lethe_m2_evaluate(m, ds, &score);
    if (st == LETHE_OK)
        st = lethe_m2_status(m, &r);
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        goto done;
    }
    rc = lethe__cli_save_m2(a, ctx, m, NULL, 0, NULL);
    if (rc != 0)
        goto done;
    lethe__cli_out out;
    lethe__cli_out_begin(&out, stdout, a->json);
    lethe__cli_out_str(&out, "mechanism", "mechanism", "M2 (data-free, Sekhari et al. 2021)");
    lethe__cli_out_size(&out, "n", "records n", lethe_dataset_rows(ds), NULL);
    lethe__cli_out_size(&out, "d", "features d", lethe_dataset_cols(ds), NULL);
    lethe__cli_out_num(&out, "R", "row norm bound R", lethe_dataset_norm_bound(ds), NULL);
    lethe__cli_out_num(&out, "lambda", "λ", o.lambda, "per record");
    lethe__cli_out_num(&out, "epsilon", "ε", r.epsilon, "per release");
    lethe__cli_out_num(&out, "delta", "δ", r.delta, "per release");
    lethe__cli_out_size(&out, "capacity", "capacity m", r.capacity, "removals in all");
    lethe__cli_out_num(&out, "sensitivity", "sensitivity Δ", r.sensitivity, "(weights, L2)");
    lethe__cli_out_num(&out, "gamma", "Sekhari's γ(m)", r.gamma, "(for comparison)");
    lethe__cli_out_num(&out, "sigma", "noise σ", r.sigma, "per weight, fresh each release");
    lethe__cli_out_sampler(&out, r.sampler, r.lattice, r.lattice_rounding, r.delta_sampler);
    lethe__cli_out_num(&out, "train_seconds", "training time", seconds, "s");
    lethe__cli_out_pct(&out, "train_accuracy", "training accuracy", score);
    lethe__cli_out_str(&out, "state", a->ws != NULL ? "workspace" : "state (secret)",
                       lethe__cli_where(a));
    if (a->public_path != NULL)
        lethe__cli_out_str(&out, "public", "public model", a->public_path);
    lethe__cli_out_end(&out);
done:
    lethe_m2_free(m);
    lethe_dataset_free(ds);
    lethe__cli_finish(a, ctx);
    return rc;
}

static int run(lethe__cli_args *a)
{
    if (a->mechanism == 2)
        return run_m2(a);
    if (a->given & (LETHE__OPT_CAPACITY | LETHE__OPT_ALPHA))
        return lethe__cli_usage(a, "--capacity and --alpha are for --mechanism m2");
    if (a->train.epsilon > 1.0)
        return lethe__cli_usage(a, "--epsilon: ε must be ≤ 1 for M1: the calibration c(δ) is "
                                   "proven for ε ≤ 1 only");
    if (!(a->given & (LETHE__OPT_SIGMA | LETHE__OPT_BUDGET)))
        return lethe__cli_usage(a, "give the noise: --sigma V, or the residual budget: --budget V");
    lethe_ctx *ctx = NULL;
    lethe_dataset *ds = NULL;
    lethe_model *m = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    rc = empty_workspace(a);
    if (rc == 0)
        rc = lethe__cli_read_data(a, ctx, 0, &ds);
    if (rc != 0)
        goto done;

    double t0 = lethe__cli_now();
    lethe_status st = lethe_model_train(ctx, ds, &a->train, &m);
    double seconds = lethe__cli_now() - t0;
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        if (st == LETHE_ELABEL && a->train.loss == LETHE_LOSS_LOGISTIC)
            lethe__cli_error(a->cmd, rc, "the logistic loss needs labels -1/+1: choose two "
                                         "classes with --classes POS,NEG");
        goto done;
    }
    double score = NAN;
    lethe_budget b;
    st = lethe_model_evaluate(m, ds, &score);
    if (st == LETHE_OK)
        st = lethe_model_budget(m, &b);
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        goto done;
    }
    rc = lethe__cli_save_model(a, ctx, m, NULL, 0, NULL);
    if (rc != 0)
        goto done;

    static const char *const norms[] = { "measure", "require", "clip", "normalize" };
    const int logistic = a->train.loss == LETHE_LOSS_LOGISTIC;
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_str(&o, "loss", "loss", logistic ? "logistic" : "squared");
    lethe__cli_out_size(&o, "n", "records n", lethe_dataset_rows(ds), NULL);
    lethe__cli_out_size(&o, "d", "features d", lethe_dataset_cols(ds), NULL);
    lethe__cli_out_num(&o, "R", "row norm bound R", lethe_dataset_norm_bound(ds), NULL);
    lethe__cli_out_str(&o, "norm", "norm policy", norms[a->read.policy]);
    lethe__cli_out_num(&o, "lambda", "λ", a->train.lambda, "per record");
    lethe__cli_out_num(&o, "epsilon", "ε", b.epsilon, NULL);
    lethe__cli_out_num(&o, "delta", "δ", b.delta, NULL);
    lethe__cli_out_num(&o, "sigma", "noise σ", b.sigma, NULL);
    lethe__cli_out_num(&o, "budget", "budget ε'", b.budget, "(gradient norm)");
    lethe__cli_out_num(&o, "train_residual", "training residual", b.train_residual,
                       "(gradient norm)");
    lethe__cli_out_num(&o, "train_seconds", "training time", seconds, "s");
    if (logistic)
        lethe__cli_out_pct(&o, "train_accuracy", "training accuracy", score);
    else
        lethe__cli_out_num(&o, "train_rmse", "training RMSE", score, "(label units)");
    lethe__cli_out_bool(&o, "seeded", "seeded noise (tests)", b.seeded);
    lethe__cli_out_sampler(&o, b.sampler, b.lattice, b.lattice_rounding, b.delta_sampler);
    lethe__cli_out_str(&o, "state", a->ws != NULL ? "workspace" : "state (secret)",
                       lethe__cli_where(a));
    if (a->public_path != NULL)
        lethe__cli_out_str(&o, "public", "public model", a->public_path);
    lethe__cli_out_end(&o);

done:
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_train = {
    .name = "train",
    .summary = "train a certified model and write the owner's state",
    .usage =
        "usage: lethe train --data FILE [data options] (--sigma V | --budget V)\n"
        "                   [--loss logistic|squared] [--lambda V] [--epsilon V]\n"
        "                   [--delta V] [--tol V] [--seed HEX64]\n"
        "                   (--workspace DIR | --model STATE [--public FILE]) [--json]\n"
        "       lethe train --mechanism m2 --data FILE [data options] --norm POLICY\n"
        "                   [--capacity M] [--lambda V] [--epsilon V] [--delta V]\n"
        "                   [--seed HEX64] (--workspace DIR | --model STATE) [--json]\n"
        "\n"
        "M1 (default, Guo et al. 2020): train on the perturbed objective\n"
        "  sum_i loss(w'x_i, y_i) + (λn/2)|w|^2 + b'w,   b ~ N(0, σ^2 I) secret,\n"
        "so that records can later be removed with an (ε, δ) certificate as long\n"
        "as the gradient residual stays within the budget ε' = σε/c(δ). The state\n"
        "keeps the training data.\n"
        "\n"
        "M2 (--mechanism m2, Sekhari et al. 2021): train exactly and keep no data;\n"
        "every published model carries fresh Gaussian noise calibrated for up to\n"
        "M removals in all (--capacity, default 100, at most n/2). Logistic loss,\n"
        "and a norm bound fixed in advance (--norm require|clip|normalize); λ\n"
        "defaults to 0.1 (M2's worst-case noise needs strong regularisation).\n"
        "\n"
        "options:\n"
        "  --mechanism m1|m2     the removal mechanism (default m1)\n"
        "  --capacity M          M2: removals in all (default 100)\n"
        "  --alpha A             M2: instead of --capacity, the largest capacity whose\n"
        "                        excess-risk bound stays within A (lethe_deletion_capacity)\n"
        "  --workspace DIR       train into the workspace DIR (made by 'lethe init'; it\n"
        "                        must not hold a model yet)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead of a workspace: write the owner's state here\n"
        "                        (SECRET: it holds the noise b and the training data)\n"
        "  --public FILE         with --model: also write the publishable model\n"
        "  --loss L              logistic (default; labels -1/+1) or squared (ridge)\n"
        "  --lambda V            λ > 0, regulariser weight per record (default 0.001)\n"
        "  --epsilon V           ε of the certificate (default 1; M1: at most 1)\n"
        "  --delta V             δ in (0, 1) of the certificate (default 1e-05)\n"
        "  --sigma V             σ > 0, the standard deviation of b; or\n"
        "  --budget V            ε' > 0, the residual budget; then σ = c(δ)ε'/ε\n"
        "  --tol V               stop Newton when |gradient| <= V·max(1, λn, |b|)\n"
        "                        (default 1e-10)\n"
        "  --seed HEX64          64 hexadecimal digits: draw b from a seeded stream,\n"
        "                        for tests and reproducible runs only (recorded)\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n"
        "\n"
        "The report gives n, d, R, λ, (ε, δ), σ, ε', the training residual, the\n"
        "training time (s) and the training accuracy (RMSE for squared).\n",
    .options = LETHE__OPTS_DATA | LETHE__OPT_LOSS | LETHE__OPT_LAMBDA | LETHE__OPT_EPSILON |
               LETHE__OPT_DELTA | LETHE__OPT_SIGMA | LETHE__OPT_BUDGET | LETHE__OPT_TOL |
               LETHE__OPT_SEED | LETHE__OPT_MODEL | LETHE__OPT_PUBLIC | LETHE__OPT_JSON |
               LETHE__OPT_MECHANISM | LETHE__OPT_CAPACITY | LETHE__OPT_ALPHA |
               LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_DATA | LETHE__OPT_MODEL,
    .operands = 0,
    .run = run,
};
