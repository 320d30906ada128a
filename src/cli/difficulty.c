/*
 * lethe difficulty: how hard records are to forget, before forgetting them
 * (lethe_record_difficulty, lethe_model_hardest; proofs/difficulty.md).
 * Reads the state only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdlib.h>

#include "cli/cli.h"

/* The records' figures: a JSON array, or a table for people. */
static void records(const lethe__cli_args *a, lethe__cli_out *o, const lethe_difficulty *r,
                    size_t n)
{
    lethe__cli_out_open(o, "records", a->top > 0 ? "hardest records" : "records");
    if (o->json) {
        fputc('[', o->f);
        for (size_t t = 0; t < n; t++) {
            fprintf(o->f, "%s{\"id\": %llu, \"influence\": %.17g", t > 0 ? ", " : "",
                    (unsigned long long)r[t].id, r[t].influence);
            if (r[t].dry_run)
                fprintf(o->f, ", \"distance\": %.17g, \"share\": %.17g, \"steps\": %u, "
                              "\"reanchors\": %u, \"milliseconds\": %.6g",
                        r[t].distance, r[t].share, r[t].steps, r[t].reanchors,
                        1e3 * r[t].seconds);
            fputc('}', o->f);
        }
        fputc(']', o->f);
        return;
    }
    const int dry = n > 0 && r[0].dry_run;
    fprintf(o->f, "  %5s  %20s  %12s%s\n", "rank", "id", "influence",
            dry ? "  distance     share   steps  re-anchors  dry run (ms)" : "");
    for (size_t t = 0; t < n; t++) {
        fprintf(o->f, "  %5zu  %20llu  %12.5g", t + 1, (unsigned long long)r[t].id,
                r[t].influence);
        if (dry)
            fprintf(o->f, "  %-11.4g  %5.1f %%  %5u  %10u  %12.3f", r[t].distance,
                    100.0 * r[t].share, r[t].steps, r[t].reanchors, 1e3 * r[t].seconds);
        fputc('\n', o->f);
    }
}

static int run(lethe__cli_args *a)
{
    lethe__cli_ids ids = { NULL, 0, 0 };
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    lethe_difficulty *r = NULL;
    int rc = lethe__cli_gather_ids(a, &ids);
    if (rc == 0 && (ids.n == 0) == (a->top == 0))
        rc = lethe__cli_usage(a, "give record ids (or --ids-file FILE, or '-') or --top K, one "
                                 "of the two");
    if (rc == 0)
        rc = lethe__cli_context(a, &ctx);
    if (rc == 0 && lethe__cli_state_kind(a, ctx, &rc) == LETHE_MECH_M2)
        rc = lethe__cli_usage(a, "an M2 state keeps no records, and the difficulty of a "
                                 "removal needs them (M3 or guo)");
    if (rc == 0)
        rc = lethe__cli_load_model(a, ctx, &m);
    const size_t want = ids.n > 0 ? ids.n : a->top;
    if (rc == 0 && (r = calloc(want, sizeof *r)) == NULL)
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "no memory for %zu records", want);
    if (rc != 0)
        goto done;
    size_t count = ids.n;
    const int dry = !a->rank_only;
    const double t0 = lethe__cli_now();
    lethe_status st = ids.n > 0 ? lethe_record_difficulty(m, ids.v, ids.n, dry, r)
                                : lethe_model_hardest(m, a->top, dry, r, &count);
    const double seconds = lethe__cli_now() - t0;
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        goto done;
    }
    lethe_budget b;
    lethe_model_budget(m, &b);
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_mech(&o, m);
    lethe__cli_out_size(&o, "n", "records n", b.n, NULL);
    if (b.mechanism == LETHE_MECH_M3)
        lethe__cli_out_num(&o, "delta_max", "Δ_max", b.delta_max,
                           "(weights, L2): a removal's distance must stay within it");
    else
        lethe__cli_out_num(&o, "budget", "budget ε'", b.budget, "(gradient norm)");
    lethe__cli_out_str(&o, "influence_is", "influence",
                       "|H^-1 g_-i|, the first Newton step its removal alone takes (weights, "
                       "L2); a ranking, not a bound");
    if (dry)
        lethe__cli_out_str(&o, "dry_run_is", "dry run",
                           "the removal of each record alone, computed and not made: its "
                           "certified distance, its share of the budget (M3: of Δ_max; "
                           "over 100 %: more steps or a re-anchor; guo: refused), its Newton "
                           "steps, re-anchors and time");
    records(a, &o, r, count);
    lethe__cli_out_num(&o, "seconds", "time", seconds, "s");
    lethe__cli_out_end(&o);

done:
    free(r);
    free(ids.v);
    lethe_model_free(m);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_difficulty = {
    .name = "difficulty",
    .summary = "how hard records are to forget, before forgetting them",
    .usage =
        "usage: lethe difficulty (--workspace DIR | --model STATE) [ID ... | --ids-file F | -]\n"
        "                        [--top K] [--rank-only] [--json]\n"
        "\n"
        "Before a removal, how hard it would be (proofs/difficulty.md). For each\n"
        "record named, or for the K hardest (--top K):\n"
        "  influence   |H^-1 g_-i|: the length of the Newton step its removal alone\n"
        "              takes from the current state (weights, L2; one-vs-rest: all\n"
        "              heads). Cheap for every record; the ranking of --top\n"
        "  dry run     the removal of that record alone, computed and not made, as\n"
        "              'forget --dry-run' would: the certified distance it leaves,\n"
        "              its share of the budget (M3: of Δ_max, over 100 % meaning\n"
        "              more Newton steps or a re-anchor; guo: of ε', over 100 %\n"
        "              refused), the steps and re-anchors it takes, and its time\n"
        "Nothing changes: the state is only read. M2 keeps no records and has no\n"
        "difficulty to report. The figures are the owner's: they depend on the\n"
        "records and go into no certificate.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (read only)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state (read only)\n"
        "  --ids-file FILE       the records, one id per line ('-' operand: stdin)\n"
        "  --top K               instead of ids: the K records of largest influence,\n"
        "                        hardest first (costs two triangular solves per\n"
        "                        record, then K dry runs)\n"
        "  --rank-only           the influence only, no dry runs\n"
        "  --json                print one JSON object (records as an array)\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_MODEL | LETHE__OPT_JSON | LETHE__OPT_WORKSPACE |
               LETHE__OPT_KEY_FILE | LETHE__OPT_IDS_FILE | LETHE__OPT_TOP |
               LETHE__OPT_RANK_ONLY,
    .required = LETHE__OPT_MODEL,
    .operands = 1,
    .run = run,
};
