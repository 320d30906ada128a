/*
 * Output of the lethe tool: key/value reports as aligned lines for people
 * or as one JSON object for programs, from the same calls.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "cli/cli.h"

/* Width of the label column in reports for people. */
#define LABEL_WIDTH 22

void lethe__cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void lethe__cli_out_begin(lethe__cli_out *o, FILE *f, int json)
{
    lethe__cli_progress_clear();
    o->f = f;
    o->json = json;
    o->fields = 0;
    if (json)
        fputc('{', f);
}

/* Start a field: the JSON key, or the padded label. */
static void field(lethe__cli_out *o, const char *key, const char *label)
{
    if (o->json) {
        fputs(o->fields > 0 ? ", " : "", o->f);
        lethe__cli_json_string(o->f, key);
        fputs(": ", o->f);
    } else {
        /* pad by characters, not bytes: labels hold Greek letters (UTF-8) */
        size_t w = 0;
        for (const char *p = label; *p != '\0'; p++)
            w += ((unsigned char)*p & 0xC0) != 0x80;
        fputs(label, o->f);
        for (; w <= LABEL_WIDTH; w++)
            fputc(' ', o->f);
    }
    o->fields++;
}

static void unit_end(lethe__cli_out *o, const char *unit)
{
    if (o->json)
        return;
    if (unit != NULL)
        fprintf(o->f, " %s", unit);
    fputc('\n', o->f);
}

void lethe__cli_out_num(lethe__cli_out *o, const char *key, const char *label, double v,
                        const char *unit)
{
    field(o, key, label);
    if (o->json) {
        if (isfinite(v))
            fprintf(o->f, "%.17g", v);
        else
            fputs("null", o->f);
    } else {
        fprintf(o->f, "%.6g", v);
    }
    unit_end(o, unit);
}

void lethe__cli_out_pct(lethe__cli_out *o, const char *key, const char *label, double v)
{
    if (o->json) {
        lethe__cli_out_num(o, key, label, v, NULL);
        return;
    }
    field(o, key, label);
    fprintf(o->f, "%.2f", 100.0 * v);
    unit_end(o, "%");
}

void lethe__cli_out_size(lethe__cli_out *o, const char *key, const char *label, size_t v,
                         const char *unit)
{
    field(o, key, label);
    fprintf(o->f, "%zu", v);
    unit_end(o, unit);
}

void lethe__cli_out_str(lethe__cli_out *o, const char *key, const char *label, const char *v)
{
    field(o, key, label);
    if (o->json)
        lethe__cli_json_string(o->f, v);
    else
        fputs(v, o->f);
    unit_end(o, NULL);
}

void lethe__cli_out_bool(lethe__cli_out *o, const char *key, const char *label, int v)
{
    field(o, key, label);
    if (o->json)
        fputs(v ? "true" : "false", o->f);
    else
        fputs(v ? "yes" : "no", o->f);
    unit_end(o, NULL);
}

void lethe__cli_out_none(lethe__cli_out *o, const char *key, const char *label,
                         const char *text)
{
    field(o, key, label);
    fputs(o->json ? "null" : text, o->f);
    unit_end(o, NULL);
}

void lethe__cli_out_open(lethe__cli_out *o, const char *key, const char *label)
{
    field(o, key, label);
    unit_end(o, NULL);
}

void lethe__cli_out_end(lethe__cli_out *o)
{
    if (o->json)
        fputs("}\n", o->f);
}

void lethe__cli_out_sampler(lethe__cli_out *o, const char *sampler, double g, double rounding,
                            double delta_sampler)
{
    lethe__cli_out_str(o, "sampler", "noise sampler", sampler);
    lethe__cli_out_num(o, "lattice", "noise lattice g", g, "(a power of two)");
    lethe__cli_out_num(o, "lattice_rounding", "lattice rounding", rounding,
                       "(charged: g√d in M2's and M3's sensitivity, 65·g√d in guo's "
                       "residual)");
    lethe__cli_out_num(o, "delta_sampler", "δ spent on the sampler", delta_sampler,
                       "= (1 + e^ε)·d·τ, τ its total-variation distance; inside δ");
}

const char *lethe__cli_mech_label(int mech)
{
    switch (mech) {
    case LETHE_MECH_M1:
        return "guo (Guo et al. 2020 loss perturbation: their idealised statement, not a "
               "proven guarantee; two consecutive models reveal the removed record)";
    case LETHE_MECH_M2:
        return "M2 (data-free, Sekhari et al. 2021)";
    case LETHE_MECH_M3:
        return "M3 (noise-free secret state, fresh lattice release per publication)";
    default:
        return "none (no model yet)";
    }
}

void lethe__cli_out_mech(lethe__cli_out *o, const lethe_model *m)
{
    lethe__cli_out_str(o, "mechanism", "mechanism",
                       lethe__cli_mech_label((int)lethe_model_mechanism(m)));
}

void lethe__cli_out_features(lethe__cli_out *o, const lethe_model *m)
{
    char text[LETHE_FEATURES_TEXT_MAX], hash[65];
    if (lethe_features_describe(lethe_model_features(m), lethe_model_input_dim(m), text, hash) !=
        LETHE_OK)
        return;
    lethe__cli_out_str(o, "features", "feature map", text);
    lethe__cli_out_str(o, "features_hash", "feature map hash", hash);
    lethe__cli_out_size(o, "weights", "weights", lethe_model_dim(m), NULL);
}

void lethe__cli_out_classes(lethe__cli_out *o, const lethe_model *m)
{
    const double *c = NULL;
    size_t K = lethe_model_classes(m, &c);
    if (K < 2 || c == NULL)
        return;
    char text[256];
    size_t at = 0;
    for (size_t k = 0; k < K && at + 24 < sizeof text; k++)
        at += (size_t)snprintf(text + at, sizeof text - at, k ? ",%g" : "%g", c[k]);
    if (at + 24 >= sizeof text)
        snprintf(text + at, sizeof text - at, ",…");
    lethe__cli_out_size(o, "classes", "classes (one-vs-rest)", K, NULL);
    lethe__cli_out_str(o, "class_labels", "class labels", text);
}

void lethe__cli_out_m3(lethe__cli_out *o, const lethe_model *m, const lethe_budget *b)
{
    char unit[128];
    lethe__cli_out_num(o, "delta_max", "Δ_max", b->delta_max,
                       "(weights, L2): each removal certifies |θ − w*(D')| <= Δ_max");
    lethe__cli_out_num(o, "distance", "distance now", b->distance,
                       "(weights, L2; owner's): a bound on |θ − w*(D)|");
    lethe__cli_out_num(o, "sensitivity", "release sensitivity Δ", b->sensitivity,
                       b->dp_releases ? "(weights, L2) = 2Δ_max + ERM sensitivity + g√d"
                                      : "(weights, L2) = Δ_max + g√d");
    lethe__cli_out_num(o, "sigma", "noise σ", b->sigma, "per weight, fresh each release");
    lethe__cli_out_num(o, "mu", "μ per release", b->mu, "= Δ/σ (Gaussian DP)");
    lethe__cli_out_sampler(o, b->sampler, b->lattice, b->lattice_rounding, b->delta_sampler);
    lethe__cli_out_bool(o, "dp_releases", "DP releases", b->dp_releases);
    if (b->dp_releases) {
        lethe__cli_out_size(o, "dp_min_records", "DP floor", b->dp_min_records,
                            "records at least: a publication with fewer is refused");
        lethe__cli_out_num(o, "dp_sensitivity", "ERM sensitivity", b->dp_sensitivity,
                           "(weights, L2) = 2R·sup|ℓ'|/(λ·floor)");
    }
    lethe__cli_out_size(o, "releases", "releases", b->releases,
                        "published so far (the first at training)");
    lethe__cli_out_num(o, "mu_total", "μ of the history", b->mu_total,
                       "= √releases·μ (Gaussian DP)");
    snprintf(unit, sizeof unit, "at δ = %g, every release so far composed", b->delta);
    lethe__cli_out_num(o, "epsilon_total", "ε of the history", b->epsilon_total, unit);
    if (b->epsilon_cap > 0.0) {
        lethe__cli_out_num(o, "epsilon_cap", "ε cap", b->epsilon_cap,
                           "on the history's ε: a publication above it is refused");
        lethe__cli_out_size(o, "releases_left", "releases left", b->releases_left,
                            "under the cap");
    } else {
        lethe__cli_out_none(o, "epsilon_cap", "ε cap", "none (no --epsilon-cap)");
        lethe__cli_out_none(o, "releases_left", "releases left", "no limit");
    }
    size_t k = 0;
    lethe_model_unpublished(m, &k);
    lethe__cli_out_bool(o, "fresh", "public model fresh", b->fresh);
    lethe__cli_out_size(o, "unpublished", "unpublished removals", k,
                        k > 0 ? "records: still in the public model until 'lethe publish'"
                              : "records");
    lethe__cli_out_size(o, "capacity_guaranteed", "guaranteed capacity",
                        b->capacity_guaranteed,
                        "guaranteed: removals of any records without a re-anchor");
    lethe__cli_out_size(o, "capacity_estimate", "capacity estimate", b->capacity_estimate,
                        "further single removals by one Newton step (estimate; a removal is "
                        "never refused: it takes more steps or re-anchors)");
    lethe__cli_out_size(o, "reanchors", "re-anchors", b->reanchors,
                        "fresh Hessians since training (owner's)");
    lethe__cli_out_size(o, "newton_steps", "extra Newton steps", b->newton_steps,
                        "beyond one per removal (owner's)");
}
