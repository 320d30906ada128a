/*
 * lethe predict: predictions of a state's model for a data set, or, with
 * --evaluate, its accuracy (classification losses) or RMSE (regression) on
 * that set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdlib.h>

#include <sodium.h>

#include "cli/cli.h"

/* One line (or JSON element) per record: id, label and P(y = +1) for the
 * logistic loss, id and label for the smooth hinge; id and value for the
 * regression losses. */
static void print_predictions(const lethe__cli_args *a, const lethe_dataset *ds, int classifier,
                              const double *label, const double *prob)
{
    const uint64_t *ids = lethe_dataset_ids(ds);
    const size_t n = lethe_dataset_rows(ds);
    if (a->json)
        fputs("{\"predictions\": [\n", stdout);
    for (size_t i = 0; i < n; i++) {
        unsigned long long id = ids[i];
        const char *sep = i + 1 < n ? ",\n" : "\n";
        if (a->json && classifier && !isnan(prob[i]))
            printf("  {\"id\": %llu, \"label\": %.17g, \"probability\": %.17g}%s", id,
                   label[i], prob[i], sep);
        else if (a->json && classifier)
            printf("  {\"id\": %llu, \"label\": %.17g}%s", id, label[i], sep);
        else if (classifier == 2 && !isnan(prob[i])) /* a class label */
            printf("%llu %.17g %.6f\n", id, label[i], prob[i]);
        else if (classifier == 2)
            printf("%llu %.17g\n", id, label[i]);
        else if (a->json)
            printf("  {\"id\": %llu, \"value\": %.17g}%s", id, label[i], sep);
        else if (classifier && !isnan(prob[i]))
            printf("%llu %+.0f %.6f\n", id, label[i], prob[i]);
        else if (classifier)
            printf("%llu %+.0f\n", id, label[i]);
        else
            printf("%llu %.6g\n", id, label[i]);
    }
    if (a->json)
        fputs("]}\n", stdout);
}

/* v is exactly −1 or +1 (written without == for -Wfloat-equal). */
static int is_sign(double v)
{
    return (v >= 1.0 && v <= 1.0) || (v >= -1.0 && v <= -1.0);
}

static int evaluate(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m,
                    const lethe_dataset *ds, int classifier)
{
    if (classifier == 1) {
        /* evaluate() compares signs: labels other than ±1 would be counted wrongly */
        const double *y = lethe_dataset_y(ds);
        for (size_t i = 0; i < lethe_dataset_rows(ds); i++)
            if (!is_sign(y[i]))
                return lethe__cli_error(a->cmd, LETHE__EXIT_DATA,
                                        "%s: label %g of record %zu is not -1/+1: choose two "
                                        "classes with --classes POS,NEG",
                                        a->data, y[i], i);
    }
    double score = NAN;
    lethe_status st = lethe_model_evaluate(m, ds, &score);
    if (st != LETHE_OK)
        return lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    if (classifier)
        lethe__cli_out_pct(&o, "accuracy", "accuracy", score);
    else
        lethe__cli_out_num(&o, "rmse", "RMSE", score, "(label units)");
    lethe__cli_out_end(&o);
    return 0;
}

/* --features-file: the model's map was declared with this very file. */
static int check_map_file(lethe__cli_args *a, lethe_ctx *ctx, const lethe_model *m)
{
    const lethe_feature_map *map = lethe_model_features(m);
    if (map == NULL || map->kind != LETHE_FEATURES_DECLARED)
        return lethe__cli_error(a->cmd, LETHE__EXIT_DATA,
                                "--features-file %s: the model has no declared feature map "
                                "(it was trained without --features-file)", a->features_file);
    unsigned char id[32];
    int rc = lethe__cli_features_file(a, ctx, id);
    if (rc == 0 && sodium_memcmp(id, map->identity, sizeof id) != 0)
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_DATA,
                              "--features-file %s: its hash does not match the model's declared "
                              "map: the records would not be the features the model was "
                              "trained on", a->features_file);
    return rc;
}

static int run(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    lethe_m2 *m2 = NULL;
    lethe_dataset *ds = NULL;
    double *label = NULL, *prob = NULL;
    int rc = lethe__cli_context(a, &ctx);
    int kind = rc == 0 ? lethe__cli_state_kind(a, ctx, &rc) : 0;
    if (rc == 0)
        rc = kind == 2 ? lethe__cli_load_m2(a, ctx, &m2) : lethe__cli_load_model(a, ctx, &m);
    if (rc == 0 && a->features_file != NULL)
        rc = check_map_file(a, ctx, m);
    if (rc == 0)
        rc = lethe__cli_read_data(a, ctx, m2 != NULL ? lethe_m2_dim(m2) : lethe_model_input_dim(m),
                                  &ds);
    if (rc != 0)
        goto done;
    const size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    const size_t md = m2 != NULL ? lethe_m2_dim(m2) : lethe_model_input_dim(m);
    if (d != md) {
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_DATA, "%s has %zu features, the model %zu",
                              a->data, d, md);
        goto done;
    }
    /* 2: a one-vs-rest model, whose labels are the classes themselves */
    const int classifier = m2 == NULL && lethe_model_classes(m, NULL) > 1 ? 2
                           : m2 != NULL || lethe_loss_is_classifier(lethe_model_loss(m));
    if (a->evaluate && m2 != NULL) {
        double acc = NAN;
        lethe_status st2 = lethe_m2_evaluate(m2, ds, &acc);
        if (st2 != LETHE_OK) {
            rc = lethe__cli_status(a, ctx, st2, LETHE__PHASE_MODEL);
            goto done;
        }
        lethe__cli_out o;
        lethe__cli_out_begin(&o, stdout, a->json);
        lethe__cli_out_pct(&o, "accuracy", "accuracy", acc);
        lethe__cli_out_end(&o);
        goto done;
    }
    if (a->evaluate) {
        rc = evaluate(a, ctx, m, ds, classifier);
        goto done;
    }
    label = calloc(n, sizeof *label);
    prob = calloc(n, sizeof *prob);
    if (label == NULL || prob == NULL) {
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "no memory for %zu predictions", n);
        goto done;
    }
    lethe_status st = m2 != NULL ? lethe_m2_predict(m2, n, lethe_dataset_x(ds), d, label, prob)
                                 : lethe_model_predict(m, n, lethe_dataset_x(ds), d, label, prob);
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        goto done;
    }
    print_predictions(a, ds, classifier, label, prob);

done:
    free(prob);
    free(label);
    lethe_dataset_free(ds);
    lethe_model_free(m);
    lethe_m2_free(m2);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_predict = {
    .name = "predict",
    .summary = "predict with a state's model, or evaluate it on labelled data",
    .usage =
        "usage: lethe predict (--workspace DIR | --model STATE) --data FILE\n"
        "                     [data options] [--evaluate]\n"
        "                     [--json]\n"
        "\n"
        "Print one prediction per record of FILE: 'ID LABEL PROBABILITY' for the\n"
        "logistic loss (LABEL -1 or +1, PROBABILITY = P(y = +1); for a one-vs-rest\n"
        "model LABEL is the class and PROBABILITY its heads' normalised score),\n"
        "'ID LABEL' for the smooth hinge, 'ID VALUE' for the squared and Huber\n"
        "losses. With\n"
        "--evaluate print only the accuracy (logistic, smooth hinge) or\n"
        "the RMSE (squared, Huber). The data is read as for train (it must have a\n"
        "label column; --norm should match the one used for training); a model's\n"
        "feature map and intercept are applied to it.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (lethe init; read only)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state (read only)\n"
        "  --evaluate            print the accuracy or RMSE only\n"
        "  --features-file FILE  check that FILE is the map the model declared (its\n"
        "                        hash): the records are phi(x) computed with it\n"
        "  --json                print JSON\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPTS_DATA | LETHE__OPT_MODEL | LETHE__OPT_EVALUATE | LETHE__OPT_JSON |
               LETHE__OPT_FEATURES_FILE |
               LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL | LETHE__OPT_DATA,
    .operands = 0,
    .run = run,
};

/* lethe evaluate: predict --evaluate, as a command of its own. */
static int run_evaluate(lethe__cli_args *a)
{
    a->evaluate = 1;
    return run(a);
}

const lethe__cli_command lethe__cli_evaluate = {
    .name = "evaluate",
    .summary = "accuracy (classifiers) or RMSE (regression) of the model on labelled data",
    .usage =
        "usage: lethe evaluate (--workspace DIR | --model STATE) --data FILE\n"
        "                      [data options] [--json]\n"
        "\n"
        "The same as 'lethe predict --evaluate': read a labelled data set as for\n"
        "train (--norm should match training) and print the accuracy of the\n"
        "published model (logistic, smooth hinge) or its RMSE (squared, Huber).\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (read only)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state (read only)\n"
        "  --features-file FILE  check that FILE is the map the model declared\n"
        "  --json                print JSON\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPTS_DATA | LETHE__OPT_MODEL | LETHE__OPT_JSON | LETHE__OPT_WORKSPACE |
               LETHE__OPT_FEATURES_FILE |
               LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL | LETHE__OPT_DATA,
    .operands = 0,
    .run = run_evaluate,
};
