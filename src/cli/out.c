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
                       "(charged: g√d in M2's sensitivity, 65·g√d in M1's residual)");
    lethe__cli_out_num(o, "delta_sampler", "δ spent on the sampler", delta_sampler,
                       "= (1 + e^ε)·d·τ, τ its total-variation distance; inside δ");
}
