/*
 * lethe publish: one fresh release of an M3 model (lethe_model_publish),
 * and the publication step that forget and refresh share with it.
 *
 * M3 keeps its state θ secret and noise-free; the public model is the last
 * release Q_g(θ) + fresh lattice noise. A removal changes θ only, so the
 * removed records stay in the public model until the next release, whose
 * certificate names every id removed since the one before.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Publish one fresh release of the M3 model m. The ids removed since the
 * last release, which belong in its certificate, are read before the
 * publication clears them: *ids (a copy, the caller frees it; NULL when
 * *k = 0) and *k. A refused publication (the ε cap or the DP floor: exit
 * 4) changes nothing and is reported. 0 or an exit status. */
static int publish_release(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m,
                           lethe_release_report *rel, uint64_t **ids, size_t *k)
{
    /* borrowed from the model until the publication clears it: copy */
    const uint64_t *unpub = lethe_model_unpublished(m, k);
    *ids = NULL;
    if (*k > 0) {
        *ids = malloc(*k * sizeof **ids);
        if (*ids == NULL)
            return lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "no memory for %zu ids", *k);
        memcpy(*ids, unpub, *k * sizeof **ids);
    }
    lethe_status st = lethe_model_publish(m, rel);
    if (st == LETHE_OK)
        return 0;
    free(*ids);
    *ids = NULL;
    if (st == LETHE_EBUDGET || st == LETHE_ECAPACITY) /* the ε cap, the DP floor */
        return lethe__cli_error(a->cmd, LETHE__EXIT_BUDGET, "publication refused: %s",
                                lethe_ctx_errmsg(ctx));
    return lethe__cli_status(a, ctx, st, LETHE__PHASE_REMOVE);
}

int lethe__cli_m3_commit(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m,
                         const lethe__cli_m3_change *c, lethe_release_report *rel,
                         size_t *k_rel)
{
    uint64_t *ids = NULL;
    *k_rel = 0;
    int rc = 0;
    if (c->publish) {
        rc = publish_release(a, ctx, m, rel, &ids, k_rel);
        if (rc != 0)
            return lethe__cli_error(a->cmd, rc, "nothing was %s: %s is unchanged; %s", c->done,
                                    lethe__cli_where(a), c->refused);
    }
    rc = c->publish ? lethe__cli_save_model(a, ctx, m, ids, *k_rel, c->before)
                    : lethe__cli_save_model(a, ctx, m, c->ids, c->k, c->before);
    free(ids);
    if (rc != 0)
        return lethe__cli_error(a->cmd, rc, "the %s was not saved: %s is unchanged", c->what,
                                lethe__cli_where(a));
    return 0;
}

void lethe__cli_out_release(lethe__cli_out *o, const lethe_release_report *rel, size_t k,
                            double delta)
{
    char unit[96];
    lethe__cli_out_bool(o, "published", "published", 1);
    lethe__cli_out_size(o, "release", "release", rel->release,
                        "(a fresh lattice release; the first was made at training)");
    lethe__cli_out_size(o, "certified_ids", "ids it certifies", k,
                        "records removed since the release before");
    lethe__cli_out_num(o, "sigma", "noise σ", rel->sigma, "per weight, fresh for this release");
    lethe__cli_out_num(o, "mu", "μ of this release", rel->mu, "= Δ/σ (Gaussian DP)");
    lethe__cli_out_num(o, "mu_total", "μ of the history", rel->mu_total,
                       "= √(Σ μᵢ²) over every release (Gaussian DP)");
    snprintf(unit, sizeof unit, "at δ = %g, every release so far composed", delta);
    lethe__cli_out_num(o, "epsilon_total", "ε of the history", rel->epsilon_total, unit);
}

void lethe__cli_unpublished_note(const lethe__cli_args *a, const lethe_model *m)
{
    size_t k = 0;
    lethe_model_unpublished(m, &k);
    if (a->json || k == 0)
        return;
    printf("\nNot published: the %zu record%s removed since the last release %s still in the\n"
           "public model until 'lethe publish %s %s'.\n",
           k, k == 1 ? "" : "s", k == 1 ? "is" : "are",
           a->ws != NULL ? "--workspace" : "--model", lethe__cli_where(a));
}

void lethe__cli_out_public(lethe__cli_out *o, const lethe__cli_args *a)
{
    if (a->ws != NULL)
        lethe__cli_out_str(o, "public", "public model",
                           lethe_workspace_path(a->ws, LETHE_WS_PUBLIC));
    else if (a->public_path != NULL)
        lethe__cli_out_str(o, "public", "public model", a->public_path);
    else
        lethe__cli_out_none(o, "public", "public model",
                            "not written (the release is in the state; give --public FILE)");
}

static int run(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc == 0 && lethe__cli_state_kind(a, ctx, &rc) == LETHE_MECH_M2)
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_USAGE,
                              "%s holds an M2 model: it publishes a fresh release with every "
                              "removal, and there is nothing else to publish",
                              lethe__cli_where(a));
    if (rc == 0)
        rc = lethe__cli_load_model(a, ctx, &m);
    if (rc == 0 && lethe_model_mechanism(m) != LETHE_MECH_M3)
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_USAGE,
                              "%s holds a guo model: its weights are published as they are "
                              "after each removal, and it has no releases; 'publish' is for "
                              "M3 models (train --mechanism m3, the default)",
                              lethe__cli_where(a));
    if (rc != 0)
        goto done;
    lethe_budget before;
    lethe_model_budget(m, &before);
    const lethe__cli_m3_change change = {
        .what = "release", .done = "published", .publish = 1, .before = &before,
        .refused = "train a new model (the ε cap bounds the whole published history, the DP "
                   "floor the records left)",
    };
    lethe_release_report rel;
    size_t k = 0;
    rc = lethe__cli_m3_commit(a, ctx, m, &change, &rel, &k);
    if (rc != 0)
        goto done;
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_mech(&o, m);
    lethe__cli_out_release(&o, &rel, k, before.delta);
    lethe__cli_out_public(&o, a);
    lethe__cli_out_end(&o);

done:
    lethe_model_free(m);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_publish = {
    .name = "publish",
    .summary = "publish a fresh release of an M3 model (after forget --no-publish)",
    .usage =
        "usage: lethe publish (--workspace DIR | --model STATE [--public FILE])\n"
        "                     [--key-file KEY] [--json]\n"
        "\n"
        "M3 keeps its state secret and noise-free; the public model is its last\n"
        "release, Q_g(θ) plus fresh lattice noise. 'lethe forget' publishes by\n"
        "default; after 'forget --no-publish' (or 'refresh --no-publish') the\n"
        "removed records are still in the public model until this command makes a\n"
        "new release. In a workspace the release is committed with a signed\n"
        "certificate naming every record removed since the release before.\n"
        "\n"
        "Every release costs privacy: the releases of one model compose (their μ\n"
        "add in squares), and with 'train --epsilon-cap E' a release that would\n"
        "take the history's ε above E is refused (exit 4), as is one with fewer\n"
        "records than the DP floor of 'train --dp-releases'. Nothing changes then.\n"
        "For guo and M2 models there is nothing to publish (exit 1).\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (lethe init), updated atomically\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state, updated in place\n"
        "  --public FILE         with --model: write the new public model here\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n"
        "\n"
        "The report gives the release number, the ids it certifies, σ, μ of the\n"
        "release and of the history, and ε of the whole published history at δ.\n",
    .options = LETHE__OPT_MODEL | LETHE__OPT_PUBLIC | LETHE__OPT_JSON | LETHE__OPT_WORKSPACE |
               LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL,
    .operands = 0,
    .run = run,
};
