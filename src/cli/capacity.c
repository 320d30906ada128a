/*
 * lethe capacity: the accountant of a state (lethe_model_budget, or
 * lethe_m2_status), every field with a short label and its unit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "cli/cli.h"

/* M2: the capacity was fixed at training; what is left is guaranteed. */
static int capacity_m2(lethe__cli_args *a, lethe_ctx *ctx)
{
    lethe_m2 *m = NULL;
    int rc = lethe__cli_load_m2(a, ctx, &m);
    if (rc != 0)
        return rc;
    lethe_m2_report r;
    lethe_m2_status(m, &r);
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_str(&o, "mechanism", "mechanism", "M2 (data-free)");
    lethe__cli_out_num(&o, "epsilon", "ε", r.epsilon, "per release, vs retraining");
    lethe__cli_out_num(&o, "delta", "δ", r.delta, NULL);
    lethe__cli_out_size(&o, "capacity", "capacity m", r.capacity, "removals in all");
    lethe__cli_out_size(&o, "used", "removals", r.used, NULL);
    lethe__cli_out_size(&o, "remaining", "removals left", r.capacity - r.used,
                        "(guaranteed: the noise covers them)");
    lethe__cli_out_num(&o, "sensitivity", "sensitivity Δ", r.sensitivity, "(weights, L2)");
    lethe__cli_out_num(&o, "gamma", "Sekhari's γ(m)", r.gamma, "(for comparison)");
    lethe__cli_out_num(&o, "sigma", "noise σ", r.sigma, "per weight");
    lethe__cli_out_num(&o, "newton_fp", "Newton-step rounding", r.newton_fp,
                       "(bound, charged in Δ)");
    lethe__cli_out_sampler(&o, r.sampler, r.lattice, r.lattice_rounding, r.delta_sampler);
    lethe__cli_out_end(&o);
    lethe_m2_free(m);
    return 0;
}

/* M3: the accountant of the releases and of the owner's distance bound. */
static void capacity_m3(lethe__cli_out *o, const lethe_model *m, const lethe_budget *b)
{
    lethe__cli_out_num(o, "epsilon", "ε", b->epsilon, "per release");
    lethe__cli_out_num(o, "delta", "δ", b->delta, "per release");
    lethe__cli_out_num(o, "lambda", "λ", b->lambda, "per record");
    lethe__cli_out_num(o, "R", "row norm bound R", b->R, NULL);
    lethe__cli_out_size(o, "n", "records n", b->n, NULL);
    lethe__cli_out_size(o, "removals_total", "removals in total", b->removals_total,
                        "records");
    lethe__cli_out_size(o, "refreshes", "refreshes", b->refreshes, NULL);
    lethe__cli_out_m3(o, m, b);
    lethe__cli_out_bool(o, "seeded", "seeded noise (tests)", b->seeded);
    lethe__cli_out_end(o);
}

static int run(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    lethe_budget b;
    int rc = lethe__cli_context(a, &ctx);
    if (rc == 0 && lethe__cli_state_kind(a, ctx, &rc) == LETHE_MECH_M2) {
        rc = capacity_m2(a, ctx);
        goto done;
    }
    if (rc == 0)
        rc = lethe__cli_load_model(a, ctx, &m);
    if (rc != 0)
        goto done;
    lethe_status st = lethe_model_budget(m, &b);
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_MODEL);
        goto done;
    }
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_mech(&o, m);
    if (b.mechanism == LETHE_MECH_M3) {
        capacity_m3(&o, m, &b);
        goto done;
    }
    lethe__cli_out_num(&o, "epsilon", "ε", b.epsilon, NULL);
    lethe__cli_out_num(&o, "delta", "δ", b.delta, NULL);
    lethe__cli_out_num(&o, "sigma", "noise σ", b.sigma, NULL);
    lethe__cli_out_num(&o, "c", "c(δ)", b.c,
                       "= sqrt(2 ln(1.5/(δ − δ_s))), δ_s the sampler's share");
    lethe__cli_out_num(&o, "budget", "budget ε'", b.budget, "= σε/c − 65·g√d (gradient norm)");

    lethe__cli_out_num(&o, "residual", "residual now", b.residual, "(gradient norm)");
    lethe__cli_out_num(&o, "residual_fp", "rounding bound", b.residual_fp,
                       "(on the residual's floating-point error; charged)");
    lethe__cli_out_num(&o, "train_residual", "residual at training", b.train_residual,
                       "(gradient norm)");
    lethe__cli_out_num(&o, "residual_bound", "Guo's bound on it", b.residual_bound,
                       "(gradient norm)");
    lethe__cli_out_num(&o, "remaining", "remaining budget", b.remaining,
                       b.remaining > 0.0 ? "(gradient norm)" : "(exhausted: refresh the model)");
    lethe__cli_out_size(&o, "removals", "removals", b.removals,
                        "records since training or refresh");
    lethe__cli_out_size(&o, "removals_total", "removals in total", b.removals_total, "records");
    lethe__cli_out_size(&o, "refreshes", "refreshes", b.refreshes, NULL);
    lethe__cli_out_size(&o, "n", "records n", b.n, NULL);
    lethe__cli_out_size(&o, "capacity_estimate", "capacity estimate", b.capacity_estimate,
                        "further single removals (estimate)");
    lethe__cli_out_str(&o, "capacity_method", "  estimated as",
                       "the residual assumed to grow at most quadratically in the removals "
                       "since training or refresh, from its largest value so far, with room "
                       "for the largest jump one removal caused (before any removal: a dry "
                       "run at training); an estimate: each removal is still checked exactly");
    lethe__cli_out_size(&o, "worst_case_count", "guaranteed (Thm 1)", b.worst_case_count,
                        "removals certified by Guo's worst-case bound alone");
    double eps_now = NAN;
    lethe_model_epsilon(m, b.delta, &eps_now);
    lethe__cli_out_num(&o, "epsilon_now", "ε now", eps_now,
                       "at δ, by the current residual (NaN: beyond ε = 1, not covered)");
    lethe__cli_out_num(&o, "worst_case_bound", "Guo worst case", b.worst_case_bound,
                       "= 2γR³(C + |b|/2n)²/(λ²(n−1)), residual of one more removal from the "
                       "exact minimiser (gradient norm)");
    lethe__cli_out_bool(&o, "seeded", "seeded noise (tests)", b.seeded);
    lethe__cli_out_sampler(&o, b.sampler, b.lattice, b.lattice_rounding, b.delta_sampler);
    lethe__cli_out_end(&o);

done:
    lethe_model_free(m);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_capacity = {
    .name = "capacity",
    .summary = "show the removal budget of a state and what is left of it",
    .usage =
        "usage: lethe capacity (--workspace DIR | --model STATE) [--json]\n"
        "\n"
        "Print the accountant of the model in STATE.\n"
        "\n"
        "M3: (ε, δ) of each release, Δ_max and the owner's distance bound (weights,\n"
        "L2), the release sensitivity, σ and μ, the sampler, the DP mode and floor,\n"
        "the releases so far, μ and ε of the whole published history at δ, the ε\n"
        "cap and the releases left under it, whether the public model is fresh\n"
        "(removals not yet published), the guaranteed capacity (removals of any\n"
        "records without a re-anchor) and the estimate, and the owner's re-anchors\n"
        "and extra Newton steps.\n"
        "\n"
        "guo: the certificate (ε, δ), σ, c(δ), the residual budget ε', the residual\n"
        "now and at training, Guo's bound on it, the budget remaining, the removals\n"
        "made, the estimated number of further single removals and how it is\n"
        "estimated, Guo's worst-case bound for one more removal, and whether the\n"
        "noise came from a seeded stream. M2: the capacity and what is left of it.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (lethe init; read only)\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state (read only)\n"
        "  --json                print one JSON object\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_MODEL | LETHE__OPT_JSON |
               LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL,
    .operands = 0,
    .run = run,
};
