/*
 * lethe refresh: retrain the model of a state on its remaining records with
 * a fresh noise vector b (lethe_model_refresh), which restores the removal
 * budget, and write the state back.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "cli/cli.h"

static int run(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    lethe_budget before, after;
    int rc = lethe__cli_context(a, &ctx);
    if (rc == 0 && lethe__cli_state_kind(a, ctx, &rc) == 2)
        rc = lethe__cli_usage(a, "an M2 model cannot be refreshed: its capacity is fixed at "
                                 "training and it keeps no data; train a new model");
    if (rc == 0)
        rc = lethe__cli_load_model(a, ctx, &m);
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
    rc = lethe__cli_save_model(a, ctx, m, NULL, 0, &before);
    if (rc != 0) {
        lethe__cli_error(a->cmd, rc, "the refresh was not saved: %s is unchanged",
                         lethe__cli_where(a));
        goto done;
    }
    lethe_model_budget(m, &after);
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_size(&o, "n", "records n", after.n, NULL);
    lethe__cli_out_num(&o, "residual_before", "residual before", before.residual,
                       "(gradient norm)");
    lethe__cli_out_num(&o, "residual", "residual now", after.residual, "(gradient norm)");
    lethe__cli_out_num(&o, "budget", "budget ε'", after.budget, "(gradient norm)");
    lethe__cli_out_size(&o, "capacity_estimate", "capacity estimate", after.capacity_estimate,
                        "further single removals (estimate)");
    lethe__cli_out_size(&o, "refreshes", "refreshes", after.refreshes, NULL);
    lethe__cli_out_num(&o, "seconds", "time", seconds, "s");
    lethe__cli_out_end(&o);

done:
    lethe_model_free(m);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_refresh = {
    .name = "refresh",
    .summary = "retrain on the remaining records with fresh noise; restores the budget",
    .usage =
        "usage: lethe refresh (--workspace DIR | --model STATE) [--json]\n"
        "\n"
        "Retrain the model in STATE on the records it still holds, warm-started,\n"
        "with a FRESH noise vector b, so that the published model is distributed\n"
        "exactly as a model trained from scratch on those records. The residual\n"
        "returns to the solver's tolerance and the removal budget is restored.\n"
        "Removed records are dropped from the state for good. STATE is written\n"
        "back atomically, and only if the refresh succeeded. In a workspace the\n"
        "ledger records the refresh (a certificate with no ids), so that its\n"
        "chain of model hashes stays unbroken.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (lethe init)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state, updated in place\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n"
        "\n"
        "The report gives n, the residual before and after, the budget, the new\n"
        "capacity estimate, the refresh count and the time taken (s).\n",
    .options = LETHE__OPT_MODEL | LETHE__OPT_JSON | LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL,
    .operands = 0,
    .run = run,
};
