/*
 * lethe refresh: retrain the model of a state on its remaining records
 * (lethe_model_refresh) and write the state back. guo draws a fresh noise
 * vector b, which restores the removal budget. M3 solves the noise-free
 * objective again (a re-anchor to the exact minimiser) and then, unless
 * --no-publish, publishes a fresh release: only a release changes M3's
 * public model.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "cli/cli.h"

/* The report: for guo the residual and the budget, for M3 the distance
 * bound, the capacity and the release made (rel NULL: none). */
static void report(const lethe__cli_args *a, const lethe_model *m, const lethe_budget *before,
                   double seconds, const lethe_release_report *rel, size_t k)
{
    lethe_budget after;
    lethe_model_budget(m, &after);
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_mech(&o, m);
    lethe__cli_out_size(&o, "n", "records n", after.n, NULL);
    if (after.mechanism == LETHE_MECH_M3) {
        lethe__cli_out_num(&o, "distance_before", "distance before", before->distance,
                           "(weights, L2; owner's): bound on |θ − w*(D)|");
        lethe__cli_out_num(&o, "distance", "distance now", after.distance,
                           "(weights, L2; owner's)");
        lethe__cli_out_size(&o, "capacity_guaranteed", "guaranteed capacity",
                            after.capacity_guaranteed,
                            "guaranteed: removals of any records without a re-anchor");
    } else {
        lethe__cli_out_num(&o, "residual_before", "residual before", before->residual,
                           "(gradient norm)");
        lethe__cli_out_num(&o, "residual", "residual now", after.residual, "(gradient norm)");
        lethe__cli_out_num(&o, "budget", "budget ε'", after.budget, "(gradient norm)");
    }
    lethe__cli_out_size(&o, "capacity_estimate", "capacity estimate", after.capacity_estimate,
                        "further single removals (estimate)");
    lethe__cli_out_size(&o, "refreshes", "refreshes", after.refreshes, NULL);
    lethe__cli_out_num(&o, "seconds", "time", seconds, "s");
    if (rel != NULL) {
        lethe__cli_out_release(&o, rel, k, after.delta);
        lethe__cli_out_public(&o, a);
    } else if (after.mechanism == LETHE_MECH_M3) {
        lethe__cli_out_bool(&o, "published", "published", 0);
    }
    lethe__cli_out_end(&o);
    if (after.mechanism == LETHE_MECH_M3 && rel == NULL && !a->json)
        printf("\nNot published: the public model is still the last release, of the state "
               "before\nthe refresh; 'lethe publish' makes a new one.\n");
    lethe__cli_unpublished_note(a, m);
}

static int run(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    lethe_budget before;
    int rc = lethe__cli_context(a, &ctx);
    if (rc == 0 && lethe__cli_state_kind(a, ctx, &rc) == LETHE_MECH_M2)
        rc = lethe__cli_usage(a, "an M2 model cannot be refreshed: its capacity is fixed at "
                                 "training and it keeps no data; train a new model");
    if (rc == 0)
        rc = lethe__cli_load_model(a, ctx, &m);
    const int m3 = lethe_model_mechanism(m) == LETHE_MECH_M3;
    if (rc == 0 && a->no_publish && !m3)
        rc = lethe__cli_usage(a, "--no-publish is for M3 models: a refreshed guo model is "
                                 "published as it is");
    if (rc != 0)
        goto done;
    lethe_model_budget(m, &before);
    double t0 = lethe__cli_now();
    lethe_status st = lethe_model_refresh(m);
    double seconds = lethe__cli_now() - t0;
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        goto done;
    }
    /* M3: the refresh changes only θ; a release publishes it */
    const lethe__cli_m3_change change = {
        .what = "refresh", .done = "refreshed", .publish = m3 && !a->no_publish,
        .before = &before,
        .refused = "use --no-publish to refresh the secret state only, or train a new model",
    };
    lethe_release_report rel;
    size_t k = 0;
    rc = m3 ? lethe__cli_m3_commit(a, ctx, m, &change, &rel, &k)
            : lethe__cli_save_model(a, ctx, m, NULL, 0, &before);
    if (rc != 0) {
        if (!m3)
            lethe__cli_error(a->cmd, rc, "the refresh was not saved: %s is unchanged",
                             lethe__cli_where(a));
        goto done;
    }
    report(a, m, &before, seconds, change.publish ? &rel : NULL, k);

done:
    lethe_model_free(m);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_refresh = {
    .name = "refresh",
    .summary = "retrain on the remaining records (guo: fresh noise, restores the budget)",
    .usage =
        "usage: lethe refresh (--workspace DIR | --model STATE [--public FILE])\n"
        "                     [--no-publish] [--key-file KEY] [--json]\n"
        "\n"
        "Retrain the model in STATE on the records it still holds, warm-started.\n"
        "Removed records are dropped from the state for good. STATE is written\n"
        "back atomically, and only if the refresh succeeded.\n"
        "\n"
        "M3: solve the noise-free objective again to the tolerance and refactor\n"
        "the Hessian (a re-anchor to the exact minimiser: the distance bound and\n"
        "the guaranteed capacity recover). No noise is drawn by the refresh\n"
        "itself; the public model changes only with a release, so a fresh one is\n"
        "published (and certified in a workspace) unless --no-publish is given.\n"
        "A refused publication (the ε cap, the DP floor: exit 4) changes nothing.\n"
        "\n"
        "guo: retrain with a FRESH noise vector b, so that the published model\n"
        "is distributed as one trained from scratch on those records; the\n"
        "residual returns to the solver's tolerance and the removal budget is\n"
        "restored. In a workspace the ledger records the refresh (a certificate\n"
        "with no ids), so that its chain of model hashes stays unbroken.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (lethe init)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state, updated in place\n"
        "  --public FILE         with --model: write the public model here too\n"
        "  --no-publish          M3: refresh the secret state only\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n"
        "\n"
        "The report gives n, the refresh count and the time taken (s); for guo\n"
        "the residual before and after, the budget and the new capacity estimate;\n"
        "for M3 the distance bound before and after, the guaranteed and estimated\n"
        "capacity, and the release made.\n",
    .options = LETHE__OPT_MODEL | LETHE__OPT_PUBLIC | LETHE__OPT_NO_PUBLISH | LETHE__OPT_JSON |
               LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL,
    .operands = 0,
    .run = run,
};
