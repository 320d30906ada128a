/*
 * lethe train: read a data set, train a model of the chosen mechanism (M3 by
 * default, guo, or M2), write the owner's state and, if asked, the
 * publishable model.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "cli/cli.h"

const char lethe__cli_data_help[] =
    "data options:\n"
    "  --data FILE           a CSV file, a LIBSVM file (named *.libsvm, *.svm or\n"
    "                        *.svmlight, raw or .gz), IDX images (named\n"
    "                        *idx*-ubyte[.gz]), or a NumPy array (n, d) named\n"
    "                        *.npy[.gz] (float64, float32 or uint8, C order)\n"
    "  --labels FILE         the labels of IDX images or of a .npy array (required\n"
    "                        with those)\n"
    "  --format idx|csv|libsvm|npy  override the guess from the file name\n"
    "  --classes POS,NEG     keep the records of class POS (label +1) and NEG\n"
    "                        (label -1) only; ids stay the record numbers\n"
    "  --classes all | A,B,C,…  every class, or three or more: a one-vs-rest\n"
    "                        model (m3, logistic or smooth-hinge), one head per\n"
    "                        class, certified and released as one model; the\n"
    "                        class list is public (certificates carry it): a\n"
    "                        list fixes it in advance, all takes it from the data\n"
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

/* Options given to another mechanism than the one chosen: a usage error
 * naming the first of them. 0 if there is none. */
static int foreign_options(const lethe__cli_args *a)
{
    static const struct {
        int mech;
        uint64_t opts;
        const char *name;
    } own[] = {
        { LETHE_MECH_M1, LETHE__OPTS_GUO, "guo" },
        { LETHE_MECH_M2, LETHE__OPTS_M2, "m2" },
        { LETHE_MECH_M3, LETHE__OPTS_M3, "m3" },
    };
    const char *chosen = "m3";
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i].mech == a->mechanism)
            chosen = own[i].name;
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        uint64_t wrong = own[i].mech == a->mechanism ? 0 : a->given & own[i].opts;
        if (wrong != 0)
            return lethe__cli_usage(a, "--%s is an option of --mechanism %s, not of %s%s",
                                    lethe__cli_option_name(wrong & -wrong), own[i].name,
                                    chosen,
                                    a->given & LETHE__OPT_MECHANISM ? "" : " (the default)");
    }
    return 0;
}

/* Mechanism M2: exact training, data-free removal, output noise calibrated
 * for a capacity of --capacity removals. */
static int run_m2(lethe__cli_args *a)
{
    if (a->train.loss != LETHE_LOSS_LOGISTIC)
        return lethe__cli_usage(a, "M2 supports the logistic loss only");
    if (a->given & LETHE__OPTS_FEATURES)
        return lethe__cli_usage(a, "M2 has no feature map or intercept (--%s): use m3",
                                lethe__cli_option_name((a->given & LETHE__OPTS_FEATURES) &
                                                       -(a->given & LETHE__OPTS_FEATURES)));
    if (a->multiclass)
        return lethe__cli_usage(a, "M2 has no one-vs-rest model: --classes POS,NEG, or use m3");
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
    lethe__cli_out_str(&out, "mechanism", "mechanism", lethe__cli_mech_label(LETHE_MECH_M2));
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

/* The checks and defaults of guo and M3 before any file is read. 0 or an
 * exit status (reported). */
static int model_options(lethe__cli_args *a)
{
    lethe_train_options *t = &a->train;
    if (a->mechanism == LETHE_MECH_M1) {
        t->mechanism = LETHE_MECH_M1;
        if (!(a->given & LETHE__OPT_LAMBDA))
            t->lambda = 1e-3; /* guo's default: M3's 1e-4 is too small for its budget */
        if (t->epsilon > 1.0)
            return lethe__cli_usage(a, "--epsilon: ε must be ≤ 1 for guo: the calibration "
                                       "c(δ) is proven for ε ≤ 1 only");
        if (!(a->given & LETHE__OPTS_GUO))
            return lethe__cli_usage(a, "give guo's noise: --sigma V, or the residual budget: "
                                       "--budget V");
        if (t->loss != LETHE_LOSS_LOGISTIC && t->loss != LETHE_LOSS_SQUARED)
            return lethe__cli_usage(a, "guo supports the logistic and squared losses only: its "
                                       "bounds need a Lipschitz ℓ'' (use --mechanism m3 for %s)",
                                    lethe_loss_name(t->loss));
        if (a->multiclass)
            return lethe__cli_usage(a, "guo has no one-vs-rest model: --classes POS,NEG, or "
                                       "use m3");
        return 0;
    }
    t->mechanism = LETHE_MECH_M3;
    if (a->multiclass && !lethe_loss_is_classifier(t->loss))
        return lethe__cli_usage(a, "--classes with three or more classes trains one-vs-rest "
                                   "classifiers: the %s loss is a regression",
                                lethe_loss_name(t->loss));
    if ((a->given & LETHE__OPT_DP_MIN) && !t->dp_releases)
        return lethe__cli_usage(a, "--dp-min-records is the floor of --dp-releases: give both");
    if (t->dp_releases && t->loss == LETHE_LOSS_SQUARED)
        return lethe__cli_usage(a, "--dp-releases needs a loss with bounded ℓ' (logistic, "
                                   "smooth-hinge, huber); the squared loss has none");
    if (t->dp_releases && a->read.policy == LETHE_NORM_MEASURE)
        return lethe__cli_usage(a, "--dp-releases needs a norm bound fixed in advance: --norm "
                                   "require, clip or normalize (with --R)");
    return 0;
}

/* The report of a trained guo model. */
static void report_guo(lethe__cli_out *o, const lethe_budget *b)
{
    lethe__cli_out_num(o, "epsilon", "ε", b->epsilon, NULL);
    lethe__cli_out_num(o, "delta", "δ", b->delta, NULL);
    lethe__cli_out_num(o, "sigma", "noise σ", b->sigma, NULL);
    lethe__cli_out_num(o, "budget", "budget ε'", b->budget, "(gradient norm)");
    lethe__cli_out_num(o, "train_residual", "training residual", b->train_residual,
                       "(gradient norm)");
}

static int run(lethe__cli_args *a)
{
    int rc = foreign_options(a);
    if (rc != 0)
        return rc;
    if (a->mechanism == LETHE_MECH_M2)
        return run_m2(a);
    rc = model_options(a);
    if (rc != 0)
        return rc;
    lethe_ctx *ctx = NULL;
    lethe_dataset *ds = NULL;
    lethe_model *m = NULL;
    rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    rc = empty_workspace(a);
    if (rc == 0 && a->features_file != NULL) {
        a->train.features.kind = LETHE_FEATURES_DECLARED;
        rc = lethe__cli_features_file(a, ctx, a->train.features.identity);
    }
    if (rc == 0)
        rc = lethe__cli_read_data(a, ctx, 0, &ds);
    if (rc != 0)
        goto done;

    double t0 = lethe__cli_now();
    lethe_status st = lethe_model_train(ctx, ds, &a->train, &m);
    double seconds = lethe__cli_now() - t0;
    if (st == LETHE_EBUDGET) { /* M3: the cap refuses even the first release */
        rc = lethe__cli_usage(a, "--epsilon-cap %g is below ε of the first release, made at "
                                 "training (%s)", a->train.epsilon_cap, lethe_ctx_errmsg(ctx));
        goto done;
    }
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        if (st == LETHE_ELABEL && lethe_loss_is_classifier(a->train.loss))
            lethe__cli_error(a->cmd, rc, "the %s loss needs labels -1/+1: choose two "
                                         "classes with --classes POS,NEG",
                             lethe_loss_name(a->train.loss));
        goto done;
    }
    double score = NAN;
    lethe_budget b;
    st = lethe_model_evaluate(m, ds, &score); /* M3: the published release */
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
    const int m3 = a->mechanism == LETHE_MECH_M3;
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_mech(&o, m);
    lethe__cli_out_str(&o, "loss", "loss", lethe_loss_name(a->train.loss));
    lethe__cli_out_size(&o, "n", "records n", lethe_dataset_rows(ds), NULL);
    lethe__cli_out_size(&o, "d", "features d", lethe_dataset_cols(ds), NULL);
    lethe__cli_out_num(&o, "R", "row norm bound R", lethe_dataset_norm_bound(ds), NULL);
    lethe__cli_out_str(&o, "norm", "norm policy", norms[a->read.policy]);
    lethe__cli_out_features(&o, m);
    lethe__cli_out_classes(&o, m);
    lethe__cli_out_num(&o, "lambda", "λ", a->train.lambda, "per record");
    if (m3) {
        lethe__cli_out_num(&o, "epsilon", "ε", b.epsilon, "per release");
        lethe__cli_out_num(&o, "delta", "δ", b.delta, "per release");
        lethe__cli_out_m3(&o, m, &b);
    } else {
        report_guo(&o, &b);
    }
    lethe__cli_out_num(&o, "train_seconds", "training time", seconds, "s");
    const char *what = m3 ? "train acc. (release)" : "training accuracy";
    if (lethe_loss_is_classifier(a->train.loss))
        lethe__cli_out_pct(&o, "train_accuracy", what, score);
    else
        lethe__cli_out_num(&o, "train_rmse", m3 ? "train RMSE (release)" : "training RMSE", score,
                           "(label units)");
    lethe__cli_out_bool(&o, "seeded", "seeded noise (tests)", b.seeded);
    if (!m3)
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
        "usage: lethe train --data FILE [data options] [--mechanism m3]\n"
        "                   [--delta-max D] [--dp-releases [--dp-min-records N]]\n"
        "                   [--epsilon-cap E] [--newton-extra N]\n"
        "                   [--loss L] [--lambda V] [--epsilon V]\n"
        "                   [--features rff:D[:G] | relu:D | --features-file F]\n"
        "                   [--features-input raw|sqrt] [--bias C]\n"
        "                   [--delta V] [--tol V] [--seed HEX64]\n"
        "                   (--workspace DIR | --model STATE [--public FILE]) [--json]\n"
        "       lethe train --mechanism guo --data FILE [data options]\n"
        "                   (--sigma V | --budget V) [--loss L] [--lambda V]\n"
        "                   [--epsilon V] [--delta V] [--tol V] [--seed HEX64]\n"
        "                   (--workspace DIR | --model STATE [--public FILE]) [--json]\n"
        "       lethe train --mechanism m2 --data FILE [data options] --norm POLICY\n"
        "                   [--capacity M | --alpha A] [--lambda V] [--epsilon V]\n"
        "                   [--delta V] [--seed HEX64] (--workspace DIR | --model STATE)\n"
        "                   [--json]\n"
        "\n"
        "M3 (default): train the noise-free objective\n"
        "  F_D(w) = sum_i loss(w'x_i, y_i) + (λn/2)|w|^2\n"
        "to a secret state θ and publish a release Q_g(θ) + fresh lattice noise,\n"
        "σ calibrated for Δ_max. Each removal moves θ to within Δ_max of the exact\n"
        "retrain (more Newton steps or a fresh Hessian if needed: never refused),\n"
        "and each publication is a fresh release, (ε, δ)-close to the same release\n"
        "of the retrained model; the releases of one model compose, and the\n"
        "accountant reports ε of the whole published history (proofs/m3-*.md).\n"
        "The state keeps the training data.\n"
        "\n"
        "guo (--mechanism guo, alias m1; Guo et al. 2020), kept for comparison:\n"
        "train on the perturbed objective F_D(w) + b'w, b ~ N(0, σ^2 I) secret;\n"
        "a removal is refused when the gradient residual exceeds ε' = σε/c(δ).\n"
        "Its certificate is Guo et al.'s idealised statement, NOT a proven\n"
        "guarantee (proofs/: gaps G1, G2, G4), and two consecutive guo models\n"
        "reveal the removed record.\n"
        "\n"
        "M2 (--mechanism m2, Sekhari et al. 2021): train exactly and keep no data;\n"
        "every published model carries fresh Gaussian noise calibrated for up to\n"
        "M removals in all (--capacity, default 100, at most n/2). Logistic loss,\n"
        "and a norm bound fixed in advance (--norm require|clip|normalize); λ\n"
        "defaults to 0.1 (M2's worst-case noise needs strong regularisation).\n"
        "\n"
        "options:\n"
        "  --mechanism M         m3 (default), guo (alias m1) or m2\n"
        "  --workspace DIR       train into the workspace DIR (made by 'lethe init'; it\n"
        "                        must not hold a model yet)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead of a workspace: write the owner's state here\n"
        "                        (SECRET: it holds the training data, and guo's b)\n"
        "  --public FILE         with --model: also write the publishable model\n"
        "  --loss L              logistic (default; labels -1/+1), smooth-hinge (a\n"
        "                        smooth SVM; labels -1/+1), squared (ridge) or huber\n"
        "                        (robust regression, threshold 1 in label units);\n"
        "                        guo: logistic or squared; m2: logistic\n"
        "  --lambda V            λ > 0, regulariser weight per record (default: m3\n"
        "                        0.0001, guo 0.001, m2 0.1)\n"
        "  --epsilon V           ε in [1e-6, 100] of the certificate (default 1; m3\n"
        "                        and m2: of each release; guo: at most 1)\n"
        "  --delta V             δ in [1e-12, 0.5] of the certificate (default 1e-05)\n"
        "  --tol V               stop Newton when |gradient| <= V·max(1, λn, |b|)\n"
        "                        (default 1e-10)\n"
        "  --seed HEX64          64 hexadecimal digits: draw the noise from a seeded\n"
        "                        stream, for tests and reproducible runs only (recorded)\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n"
"feature map and intercept (m3 and guo; proofs/feature-maps.md):\n"
        "  --features rff:D[:G]  random Fourier features of the RBF kernel\n"
        "                        exp(-G|x - x'|^2) (G default 1, for rows of norm\n"
        "                        about 1: --norm normalize), D of them\n"
        "  --features relu:D     D random ReLU features max(0, Wx)/sqrt(D)\n"
        "  --features-seed HEX64 the maps' PUBLIC seed (default: drawn and recorded);\n"
        "                        every certificate names it\n"
        "  --features-file FILE  the records are already phi(x), computed outside\n"
        "                        lethe (e.g. embeddings from a network trained on\n"
        "                        PUBLIC data); FILE defines the map (e.g. its\n"
        "                        weights) and its hash goes into every certificate\n"
        "  --features-input T    a public transform of each record before the map: raw\n"
        "                        (default) or sqrt, the signed square root of every\n"
        "                        input with the row scaled to norm 1 (the Hellinger\n"
        "                        map of pixels and counts; with --features rff it gains\n"
        "                        about a point on Fashion-MNIST, bench/README.md)\n"
        "  --bias C              an intercept: append the constant feature C to every\n"
        "                        record (after a map's rows are scaled to norm 1);\n"
        "                        it is regularised as λ/C²; C in [1e-6, 1e6]\n"
        "  The map never depends on the records; what is certified is the convex\n"
        "  head on it, given the map. Fine-tuning a network on the records is not.\n"
        "m3 only:\n"
        "  --delta-max D         Δ_max > 0, the bound on |θ - w*(D)| every removal\n"
        "                        certifies, in weight units (L2); default 0.03\n"
        "  --dp-releases         every release is also (ε, δ)-DP (against adding or\n"
        "                        removing one record), which protects a removed person\n"
        "                        even from someone who kept an older model; needs the\n"
        "                        a loss other than squared and --norm\n"
        "                        require|clip|normalize\n"
        "  --dp-min-records N    with --dp-releases: a release needs at least N records\n"
        "                        (default: half the training records, rounded up)\n"
        "  --epsilon-cap E       refuse a publication that would take ε of the whole\n"
        "                        published history above E (default: no cap)\n"
        "  --newton-extra N      further Newton steps on the same factor before a\n"
        "                        re-anchor (a fresh Hessian); default 3\n"
        "guo only:\n"
        "  --sigma V             σ in [1e-100, 1e100], the standard deviation of b; or\n"
        "  --budget V            ε' in [1e-100, 1e100], the residual budget; then\n"
        "                        σ = c(δ)ε'/ε\n"
        "m2 only:\n"
        "  --capacity M          removals in all (default 100)\n"
        "  --alpha A             instead of --capacity, the largest capacity whose\n"
        "                        excess-risk bound stays within A (lethe_deletion_capacity)\n"
        "\n"
        "An option of another mechanism than the one chosen is a usage error.\n"
        "The report gives n, d, R, λ, (ε, δ) and σ; for m3 Δ_max, the release\n"
        "sensitivity, the releases so far and ε of the published history, the\n"
        "guaranteed and estimated capacity, and the accuracy of the PUBLISHED\n"
        "model; for guo ε', the training residual and the training accuracy (RMSE\n"
        "for squared); and the training time (s).\n",
    .options = LETHE__OPTS_DATA | LETHE__OPT_LOSS | LETHE__OPT_LAMBDA | LETHE__OPT_EPSILON |
               LETHE__OPT_DELTA | LETHE__OPT_SIGMA | LETHE__OPT_BUDGET | LETHE__OPT_TOL |
               LETHE__OPT_SEED | LETHE__OPT_MODEL | LETHE__OPT_PUBLIC | LETHE__OPT_JSON |
               LETHE__OPT_MECHANISM | LETHE__OPT_CAPACITY | LETHE__OPT_ALPHA |
               LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE | LETHE__OPTS_M3 |
               LETHE__OPTS_FEATURES,
    .required = LETHE__OPT_DATA | LETHE__OPT_MODEL,
    .operands = 0,
    .run = run,
};
