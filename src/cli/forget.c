/*
 * lethe forget: remove records by id from a state, as ONE batch (one
 * certificate), and write the state back only if the removal was certified
 * (guo) and, for M3, published (unless --no-publish). --dry-run asks the
 * same question and changes nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int push(const lethe__cli_args *a, lethe__cli_ids *l, uint64_t id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 64 : 2 * l->cap;
        uint64_t *v = cap > SIZE_MAX / sizeof *v ? NULL : realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "no memory for %zu ids", cap);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = id;
    return 0;
}

/* One id per line; blank lines are skipped, spaces and a CR around an id
 * are allowed; a NUL byte is refused (it would end the line early, and
 * "27\0999" would remove 27), as the CSV reader refuses it. name is what
 * messages call the stream. */
static int read_ids(const lethe__cli_args *a, FILE *f, const char *name, lethe__cli_ids *l)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)len) != NULL) {
            rc = lethe__cli_error(a->cmd, LETHE__EXIT_DATA, "%s: line %zu: NUL byte", name,
                                  lineno);
            break;
        }
        char *s = line, *e = line + len;
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (*s == '\0')
            continue;
        uint64_t id = 0;
        if (!lethe__cli_parse_u64(s, &id))
            rc = lethe__cli_error(a->cmd, LETHE__EXIT_DATA,
                                  "%s: line %zu: '%.32s' is not a record id (an integer >= 0)",
                                  name, lineno, s);
        else
            rc = push(a, l, id);
    }
    if (rc == 0 && ferror(f))
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_DATA, "%s: read error", name);
    free(line);
    return rc;
}

int lethe__cli_gather_ids(const lethe__cli_args *a, lethe__cli_ids *l)
{
    int rc = 0;
    if (a->ids_file != NULL) {
        FILE *f = fopen(a->ids_file, "r");
        if (f == NULL)
            return lethe__cli_error(a->cmd, LETHE__EXIT_DATA, "%s: cannot open: %s",
                                    a->ids_file, strerror(errno));
        rc = read_ids(a, f, a->ids_file, l);
        fclose(f);
        if (rc != 0)
            return rc;
    }
    if (a->n_operands == 1 && strcmp(a->operands[0], "-") == 0)
        return read_ids(a, stdin, "standard input", l);
    for (size_t i = 0; i < a->n_operands && rc == 0; i++) {
        uint64_t id = 0;
        if (strcmp(a->operands[i], "-") == 0)
            return lethe__cli_usage(a, "'-' (ids from standard input) must be the only id");
        if (!lethe__cli_parse_u64(a->operands[i], &id))
            return lethe__cli_usage(a, "'%s' is not a record id (an integer >= 0)",
                                    a->operands[i]);
        rc = push(a, l, id);
    }
    return rc;
}

/* What every removal report of a guo or M3 model begins with. */
static void report_head(const lethe__cli_args *a, lethe__cli_out *o, const lethe_model *m,
                        size_t k, const lethe_removal_report *r)
{
    lethe__cli_out_mech(o, m);
    lethe__cli_out_size(o, "requested", "ids requested", k, NULL);
    lethe__cli_out_size(o, "removed", "records removed", r->removed,
                        a->dry_run ? "(dry run: nothing changed)" : NULL);
    lethe__cli_out_str(o, "path", "Newton step Hessian",
                       r->path == LETHE_PATH_EXACT ? "exact" : "fast");
}

static void report(const lethe__cli_args *a, const lethe_model *m, size_t k,
                   const lethe_removal_report *r, double ms)
{
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    report_head(a, &o, m, k, r);
    lethe__cli_out_num(&o, "residual", "residual", r->residual, "(gradient norm)");
    lethe__cli_out_num(&o, "residual_fp", "rounding bound", r->residual_fp,
                       "(charged: certified iff residual + this <= budget)");
    lethe__cli_out_num(&o, "residual_bound", "Guo's bound", r->residual_bound,
                       "(gradient norm)");
    lethe__cli_out_num(&o, "budget", "budget ε'", r->budget, "(gradient norm)");
    lethe__cli_out_bool(&o, "certified", a->dry_run ? "would be certified" : "certified",
                        r->certified);
    lethe__cli_out_num(&o, "milliseconds", "time", ms, "ms");
    lethe__cli_out_end(&o);
}

/* An M3 removal: the owner's numbers (none of them goes into a certificate),
 * then the release that published it, or that it is not published yet. */
static void report_m3(const lethe__cli_args *a, const lethe_model *m, size_t k,
                      const lethe_removal_report *r, double ms, const lethe_budget *b,
                      const lethe_release_report *rel, size_t k_rel)
{
    char unit[96];
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    report_head(a, &o, m, k, r);
    lethe__cli_out_size(&o, "steps", "Newton steps", r->steps,
                        "(owner's; 1: the first step was within Δ_max)");
    lethe__cli_out_size(&o, "reanchors", "re-anchors", r->reanchors,
                        "(owner's: fresh Hessians after the first steps fell short)");
    lethe__cli_out_num(&o, "residual", "residual", r->residual, "(gradient norm, owner's)");
    lethe__cli_out_num(&o, "residual_fp", "rounding bound", r->residual_fp,
                       "(charged in the distance)");
    snprintf(unit, sizeof unit, "(weights, L2; owner's) <= Δ_max = %g", b->delta_max);
    lethe__cli_out_num(&o, "distance", "distance bound", r->distance, unit);
    lethe__cli_out_bool(&o, "certified", a->dry_run ? "would be certified" : "certified",
                        r->certified);
    lethe__cli_out_num(&o, "milliseconds", "time", ms, "ms");
    if (rel != NULL) {
        lethe__cli_out_release(&o, rel, k_rel, b->delta);
        lethe__cli_out_public(&o, a);
    } else if (!a->dry_run) {
        size_t left = 0;
        lethe_model_unpublished(m, &left);
        lethe__cli_out_bool(&o, "published", "published", 0);
        lethe__cli_out_size(&o, "unpublished", "unpublished removals", left,
                            "records, still in the public model until 'lethe publish'");
    }
    lethe__cli_out_end(&o);
    if (!a->dry_run)
        lethe__cli_unpublished_note(a, m);
}

/* M2 keeps no data: the records to remove are read from --data, by id. */
static int forget_m2(lethe__cli_args *a, lethe_ctx *ctx, const lethe__cli_ids *ids)
{
    if (a->exact)
        return lethe__cli_usage(a, "--exact is for guo and M3 states");
    if (!(a->given & LETHE__OPT_DATA))
        return lethe__cli_usage(a, "an M2 state keeps no data: give the records to remove with "
                                   "--data (and the data options used for training)");
    lethe_m2 *m = NULL;
    lethe_dataset *ds = NULL;
    double *x = NULL, *y = NULL;
    int rc = lethe__cli_load_m2(a, ctx, &m);
    if (rc == 0)
        rc = lethe__cli_read_data(a, ctx, lethe_m2_dim(m), &ds);
    if (rc != 0)
        goto done;
    const size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    if (d != lethe_m2_dim(m)) {
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_DATA, "%s has %zu features, the model %zu",
                              a->data, d, lethe_m2_dim(m));
        goto done;
    }
    x = calloc(ids->n * d, sizeof *x);
    y = calloc(ids->n, sizeof *y);
    if (x == NULL || y == NULL) {
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "no memory for %zu records", ids->n);
        goto done;
    }
    const uint64_t *dids = lethe_dataset_ids(ds);
    for (size_t t = 0; t < ids->n; t++) {
        size_t i = 0;
        while (i < n && dids[i] != ids->v[t])
            i++;
        if (i == n) {
            rc = lethe__cli_error(a->cmd, LETHE__EXIT_ID, "id %llu is not in %s",
                                  (unsigned long long)ids->v[t], a->data);
            goto done;
        }
        memcpy(x + t * d, lethe_dataset_x(ds) + i * d, d * sizeof *x);
        y[t] = lethe_dataset_y(ds)[i];
    }
    if (a->dry_run) {
        lethe_status ds_st = lethe_m2_check_removal(m, ids->n, x, d, y, ids->v);
        if (ds_st != LETHE_OK) {
            rc = lethe__cli_status(a, ctx, ds_st, LETHE__PHASE_REMOVE);
            goto done;
        }
        lethe__cli_out o;
        lethe__cli_out_begin(&o, stdout, a->json);
        lethe__cli_out_size(&o, "requested", "ids requested", ids->n, NULL);
        lethe__cli_out_bool(&o, "accepted", "would be accepted", 1);
        lethe__cli_out_end(&o);
        goto done;
    }
    lethe_m2_report r, before;
    lethe_m2_status(m, &before);
    double t0 = lethe__cli_now();
    lethe_status st = lethe_m2_remove(m, ids->n, x, d, y, ids->v, &r);
    double ms = 1e3 * (lethe__cli_now() - t0);
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_REMOVE);
        if (st == LETHE_ECAPACITY)
            lethe__cli_error(a->cmd, rc, "nothing was removed: train a new model");
        goto done;
    }
    rc = lethe__cli_save_m2(a, ctx, m, ids->v, ids->n, &before);
    if (rc != 0) {
        lethe__cli_error(a->cmd, rc, "the removal was not saved: %s is unchanged",
                         lethe__cli_where(a));
        goto done;
    }
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_size(&o, "requested", "ids requested", ids->n, NULL);
    lethe__cli_out_size(&o, "removed", "records removed", r.removed, NULL);
    lethe__cli_out_size(&o, "used", "capacity used", r.used, NULL);
    lethe__cli_out_size(&o, "capacity", "capacity m", r.capacity, NULL);
    lethe__cli_out_num(&o, "epsilon", "ε", r.epsilon, "per release, vs retraining");
    lethe__cli_out_num(&o, "delta", "δ", r.delta, NULL);
    lethe__cli_out_num(&o, "sigma", "noise σ", r.sigma, "fresh for this release");
    lethe__cli_out_num(&o, "milliseconds", "time", ms, "ms");
    lethe__cli_out_end(&o);
done:
    free(x);
    free(y);
    lethe_dataset_free(ds);
    lethe_m2_free(m);
    return rc;
}

/* After a refresh a guo or M3 state keeps no trace of the records it
 * removed: if an unknown id is named in the workspace's ledger, say so
 * (exit 3) rather than "no such record". 1 if it reported. */
static int already_removed(const lethe__cli_args *a, lethe_ctx *ctx, const lethe_model *m,
                           const lethe__cli_ids *ids, int *rc)
{
    for (size_t t = 0; t < ids->n; t++) {
        uint64_t seq = 0;
        if (lethe_model_has_id(m, ids->v[t]) ||
            lethe_cert_find_id(ctx, lethe_workspace_path(a->ws, LETHE_WS_LEDGER),
                               lethe_workspace_path(a->ws, LETHE_WS_SIGNING_KEY), ids->v[t],
                               &seq) != LETHE_OK ||
            seq == 0)
            continue;
        *rc = lethe__cli_error(a->cmd, LETHE__EXIT_ID,
                               "record %llu was already removed (certificate %08llu in %s); "
                               "nothing was removed",
                               (unsigned long long)ids->v[t], (unsigned long long)seq,
                               lethe_workspace_path(a->ws, LETHE_WS_LEDGER));
        return 1;
    }
    return 0;
}

/* A dry run of an M3 forget that publishes: would the publication be
 * refused (the ε cap, the DP floor)? 0 if not, else exit 4 (reported). */
static int m3_would_refuse(const lethe__cli_args *a, const lethe_budget *b, size_t k)
{
    if (a->no_publish)
        return 0;
    if (b->releases_left == 0)
        return lethe__cli_error(a->cmd, LETHE__EXIT_BUDGET,
                                "the publication would be refused: release %zu would take the "
                                "history's ε above the cap %g; use --no-publish, or train a "
                                "new model", b->releases + 1, b->epsilon_cap);
    if (b->dp_releases && b->n - k < b->dp_min_records)
        return lethe__cli_error(a->cmd, LETHE__EXIT_BUDGET,
                                "the publication would be refused: %zu records would be left, "
                                "fewer than the DP floor %zu; train a new model",
                                b->n - k, b->dp_min_records);
    return 0;
}

/* The rest of an M3 forget, after the removal on the loaded model: publish
 * (unless --no-publish) and save only when both succeeded, so that a
 * refused publication leaves the workspace or state as it was. */
static int finish_m3(lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m, const lethe__cli_ids *ids,
                     const lethe_removal_report *r, double ms, const lethe_budget *before)
{
    if (a->dry_run) {
        int rc = m3_would_refuse(a, before, ids->n);
        report_m3(a, m, ids->n, r, ms, before, NULL, 0);
        return rc;
    }
    const lethe__cli_m3_change change = {
        .what = "removal", .done = "removed", .publish = !a->no_publish, .ids = ids->v,
        .k = ids->n, .before = before,
        .refused = "use --no-publish to remove now (the records stay in the public model), "
                   "or train a new model",
    };
    lethe_release_report rel;
    size_t k = 0;
    int rc = lethe__cli_m3_commit(a, ctx, m, &change, &rel, &k);
    if (rc != 0)
        return rc;
    report_m3(a, m, ids->n, r, ms, before, a->no_publish ? NULL : &rel, k);
    return 0;
}

static int run(lethe__cli_args *a)
{
    lethe__cli_ids ids = { NULL, 0, 0 };
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    int rc = lethe__cli_gather_ids(a, &ids);
    if (rc == 0 && ids.n == 0)
        rc = lethe__cli_usage(a, "no id to forget: give ids, --ids-file FILE, or '-'");
    if (rc == 0)
        rc = lethe__cli_context(a, &ctx);
    if (rc == 0 && lethe__cli_state_kind(a, ctx, &rc) == LETHE_MECH_M2) {
        rc = a->no_publish ? lethe__cli_usage(a, "--no-publish is for M3 models: an M2 "
                                                 "removal is published as it is made")
                           : forget_m2(a, ctx, &ids);
        goto done;
    }
    if (rc == 0 && (a->given & LETHE__OPT_DATA))
        rc = lethe__cli_usage(a, "--data is for M2 states; a guo or M3 state holds its data");
    if (rc == 0)
        rc = lethe__cli_load_model(a, ctx, &m);
    const int m3 = lethe_model_mechanism(m) == LETHE_MECH_M3;
    if (rc == 0 && a->no_publish && !m3)
        rc = lethe__cli_usage(a, "--no-publish is for M3 models: a guo model's weights are "
                                 "published as they are after each removal");
    if (rc != 0)
        goto done;

    lethe_removal_path path = a->exact ? LETHE_PATH_EXACT : LETHE_PATH_FAST;
    lethe_removal_report r;
    memset(&r, 0, sizeof r);
    lethe_budget before;
    lethe_model_budget(m, &before);
    double t0 = lethe__cli_now();
    lethe_status st = a->dry_run ? lethe_model_check_removal(m, ids.v, ids.n, path, &r)
                                 : lethe_model_remove(m, ids.v, ids.n, path, &r);
    double ms = 1e3 * (lethe__cli_now() - t0);
    if (st == LETHE_OK && a->dry_run && !r.certified && !m3)
        st = LETHE_EBUDGET;
    if (st == LETHE_EBUDGET) {
        report(a, m, ids.n, &r, ms);
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_BUDGET,
                              "removal %s: the residual %.6g would exceed the budget %.6g; "
                              "nothing was removed: refresh the model to restore the budget",
                              a->dry_run ? "would be refused" : "refused", r.residual,
                              r.budget);
        goto done;
    }
    if (st == LETHE_ENOTFOUND && a->ws != NULL) {
        char why[512];
        snprintf(why, sizeof why, "%s", lethe_ctx_errmsg(ctx)); /* the search clears it */
        if (!already_removed(a, ctx, m, &ids, &rc))
            rc = lethe__cli_error(a->cmd, LETHE__EXIT_ID, "%s: %s", lethe_strerror(st), why);
        goto done;
    }
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_REMOVE);
        goto done;
    }
    if (m3) {
        rc = finish_m3(a, ctx, m, &ids, &r, ms, &before);
        goto done;
    }
    if (!a->dry_run) {
        rc = lethe__cli_save_model(a, ctx, m, ids.v, ids.n, &before);
        if (rc != 0) {
            lethe__cli_error(a->cmd, rc, "the removal was not saved: %s is unchanged",
                             lethe__cli_where(a));
            goto done;
        }
    }
    report(a, m, ids.n, &r, ms);

done:
    lethe_model_free(m);
    lethe__cli_finish(a, ctx);
    free(ids.v);
    return rc;
}

const lethe__cli_command lethe__cli_forget = {
    .name = "forget",
    .summary = "remove records by id, as one certified batch",
    .usage =
        "usage: lethe forget (--workspace DIR | --model STATE [--public FILE])\n"
        "                    [--exact] [--dry-run] [--no-publish] [--key-file KEY]\n"
        "                    [--json] [--ids-file FILE] [ID ...]\n"
        "       lethe forget (--workspace DIR | --model STATE) [options] -\n"
        "                    (ids on standard input)\n"
        "       lethe forget (--workspace DIR | --model STATE) --data FILE\n"
        "                    [data options] [--dry-run] [--json] ID ...   (M2)\n"
        "\n"
        "Remove the records with the given ids from the model, as one batch:\n"
        "Newton steps on the remaining data and one certificate.\n"
        "\n"
        "M3 (the default mechanism): the secret state moves to within Δ_max of\n"
        "the model retrained without the records; a removal is never refused on\n"
        "the residual (it takes more Newton steps, or re-anchors on a fresh\n"
        "Hessian). Then, by default, a fresh release is PUBLISHED and saved with a\n"
        "signed certificate naming every id removed since the last release. A\n"
        "publication can be refused (exit 4) by the ε cap or the DP floor set at\n"
        "training: then nothing at all changes, and --no-publish removes the\n"
        "records from the state only. With --no-publish the removed records are\n"
        "STILL IN THE PUBLIC MODEL until 'lethe publish'.\n"
        "\n"
        "guo (train --mechanism guo): the removal is certified under Guo et al.'s\n"
        "idealised statement (not a proven guarantee) if the exact gradient\n"
        "residual stays within the budget ε'; otherwise it is refused (exit 4)\n"
        "and nothing changes. STATE is written back only after a certified\n"
        "removal. In a workspace every change is committed together with its\n"
        "signed certificate (ledger/), and the file that held the removed records\n"
        "is deleted.\n"
        "\n"
        "Ids are integers >= 0, from the command line, from --ids-file (one per\n"
        "line), or from standard input when the only id is '-'.\n"
        "\n"
        "An M2 state (train --mechanism m2) keeps no data: give the records with\n"
        "--data and the data options used for training; they are found by id and\n"
        "checked against what was trained on. A removal beyond the capacity is\n"
        "refused (exit 4).\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (lethe init), updated atomically\n"
        "  --key-file FILE       the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: the owner's state, updated in place\n"
        "  --public FILE         with --model: write the public model here too\n"
        "  --exact               recompute the Hessian on the remaining data\n"
        "                        (O(nd^2 + d^3)) instead of down-dating the last\n"
        "                        factor (O(d^2) per record)\n"
        "  --no-publish          M3: remove from the secret state only; the public\n"
        "                        model keeps the records until 'lethe publish'\n"
        "  --dry-run             report whether the removal would be certified (and,\n"
        "                        for M3, the publication allowed) and change nothing\n"
        "                        (exit 4 if it would be refused)\n"
        "  --ids-file FILE       read ids from FILE, one per line\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n"
        "\n"
        "The report gives the records removed, the Hessian used, the exact\n"
        "residual and the time taken (ms); for guo Guo's bound, the budget and\n"
        "whether the removal is certified; for M3 the owner's Newton steps,\n"
        "re-anchors and distance bound (<= Δ_max), then the release number and ε\n"
        "of the published history.\n",
    .options = LETHE__OPTS_DATA | LETHE__OPT_MODEL | LETHE__OPT_PUBLIC | LETHE__OPT_EXACT |
               LETHE__OPT_DRY_RUN | LETHE__OPT_NO_PUBLISH | LETHE__OPT_IDS_FILE |
               LETHE__OPT_JSON | LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = LETHE__OPT_MODEL,
    .operands = 1,
    .run = run,
};
