/*
 * lethe init:   make a workspace (lethe_workspace_init).
 * lethe status: what a workspace or state holds, in a few lines.
 * lethe export: copy the public model out of a workspace.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static int run_init(lethe__cli_args *a)
{
    if (a->n_operands != 1)
        return lethe__cli_usage(a, "give the workspace directory to create: lethe init DIR");
    const char *dir = a->operands[0];
    lethe_ctx *ctx = NULL;
    const char *key_file = a->key_file;
    a->key_file = NULL; /* the key may not exist yet: init makes it */
    int rc = lethe__cli_context(a, &ctx);
    a->key_file = key_file;
    if (rc != 0)
        return rc;
    lethe_status st = lethe_workspace_init(ctx, dir, a->key_file);
    if (st != LETHE_OK) {
        rc = st == LETHE_EINVAL ? lethe__cli_error(a->cmd, LETHE__EXIT_USAGE, "%s",
                                                   lethe_ctx_errmsg(ctx))
                                : lethe__cli_status(a, ctx, st, LETHE__PHASE_OUTPUT);
        lethe__cli_finish(a, ctx);
        return rc;
    }
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_str(&o, "workspace", "workspace", dir);
    lethe__cli_out_bool(&o, "encrypted", "encrypted at rest", a->key_file != NULL);
    if (a->key_file != NULL)
        lethe__cli_out_str(&o, "key_file", "key file", a->key_file);
    lethe__cli_out_end(&o);
    if (!a->json)
        printf("\nNext: lethe train --workspace %s --data FILE ...%s\n"
               "Publish %s/owner.pub: it verifies the deletion certificates.\n",
               dir, a->key_file != NULL ? " --key-file KEY" : "", dir);
    lethe__cli_finish(a, ctx);
    return 0;
}

const lethe__cli_command lethe__cli_init = {
    .name = "init",
    .summary = "make a workspace: one directory for a model, its keys and its ledger",
    .usage =
        "usage: lethe init DIR [--key-file KEY] [--json]\n"
        "\n"
        "Create the workspace directory DIR (mode 700; it must not exist) with\n"
        "the owner's signing keys (owner.key, secret; owner.pub, to publish) and an\n"
        "empty ledger of deletion certificates. Then train into it with\n"
        "'lethe train --workspace DIR'. Every change to a workspace is atomic: a\n"
        "crash leaves the previous state or the new one, never a mix, and the\n"
        "next command tidies what the crash left.\n"
        "\n"
        "options:\n"
        "  --key-file KEY        encrypt the owner's state at rest with this key\n"
        "                        (crypto_secretbox); KEY is created if it does not\n"
        "                        exist. Keep it outside DIR; every later command on\n"
        "                        DIR that reads the state needs it\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_KEY_FILE | LETHE__OPT_JSON,
    .required = 0,
    .operands = 1,
    .run = run_init,
};

static int run_status(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    lethe_model *m = NULL;
    lethe_m2 *m2 = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    lethe_workspace_info info;
    memset(&info, 0, sizeof info);
    int kind = 0;
    if (a->ws != NULL) {
        lethe_workspace_status(a->ws, &info);
        kind = info.mechanism;
    } else {
        kind = lethe__cli_state_kind(a, ctx, &rc);
    }
    if (rc == 0 && (kind == LETHE_MECH_M1 || kind == LETHE_MECH_M3))
        rc = lethe__cli_load_model(a, ctx, &m);
    else if (rc == 0 && kind == LETHE_MECH_M2)
        rc = lethe__cli_load_m2(a, ctx, &m2);
    if (rc != 0)
        goto done;
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    if (a->ws != NULL) {
        lethe__cli_out_str(&o, "workspace", "workspace", a->workspace);
        lethe__cli_out_size(&o, "generation", "changes committed", (size_t)info.generation,
                            NULL);
        lethe__cli_out_size(&o, "certificates", "certificates", (size_t)info.certificates,
                            "in the ledger");
        lethe__cli_out_bool(&o, "encrypted", "encrypted at rest", info.encrypted);
    } else {
        lethe__cli_out_str(&o, "state", "state", a->model);
    }
    /* M2 keeps its short name here, as before */
    lethe__cli_out_str(&o, "mechanism", "mechanism",
                       kind == LETHE_MECH_M2 ? "M2"
                       : m != NULL ? lethe__cli_mech_label((int)lethe_model_mechanism(m))
                                   : lethe__cli_mech_label(kind));
    lethe_budget b;
    if (m != NULL && lethe_model_budget(m, &b) == LETHE_OK) {
        const int m3 = b.mechanism == LETHE_MECH_M3;
        lethe__cli_out_size(&o, "n", "records n", b.n, NULL);
        lethe__cli_out_size(&o, "d", "features d", lethe_model_input_dim(m), NULL);
        lethe__cli_out_features(&o, m);
        lethe__cli_out_classes(&o, m);
        lethe__cli_out_num(&o, "epsilon", "ε", b.epsilon, m3 ? "per release" : NULL);
        lethe__cli_out_num(&o, "delta", "δ", b.delta, m3 ? "per release" : NULL);
        lethe__cli_out_size(&o, "removals_total", "removals", b.removals_total, "records");
        if (m3) {
            lethe__cli_out_m3(&o, m, &b);
        } else {
            lethe__cli_out_pct(&o, "budget_used", "budget used",
                               b.budget > 0.0 ? (b.budget - b.remaining) / b.budget : 1.0);
            lethe__cli_out_size(&o, "capacity_estimate", "capacity estimate",
                                b.capacity_estimate, "further single removals (estimate)");
        }
        lethe__cli_out_bool(&o, "seeded", "seeded noise (tests)", b.seeded);
    } else if (m2 != NULL) {
        lethe_m2_report r;
        lethe_m2_status(m2, &r);
        lethe__cli_out_size(&o, "d", "features d", lethe_m2_dim(m2), NULL);
        lethe__cli_out_num(&o, "epsilon", "ε", r.epsilon, "per release");
        lethe__cli_out_num(&o, "delta", "δ", r.delta, NULL);
        lethe__cli_out_size(&o, "used", "removals", r.used, NULL);
        lethe__cli_out_size(&o, "remaining", "removals left", r.capacity - r.used,
                            "(guaranteed)");
        lethe__cli_out_bool(&o, "seeded", "seeded noise (tests)", r.seeded);
    }
    if (a->ws != NULL && kind != 0) {
        lethe__cli_out_str(&o, "public", "public model",
                           lethe_workspace_path(a->ws, LETHE_WS_PUBLIC));
        lethe__cli_out_str(&o, "ledger", "ledger", lethe_workspace_path(a->ws, LETHE_WS_LEDGER));
    }
    lethe__cli_out_end(&o);
done:
    lethe_model_free(m);
    lethe_m2_free(m2);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_status_cmd = {
    .name = "status",
    .summary = "what a workspace or state holds: mechanism, records, removals, budget",
    .usage =
        "usage: lethe status (--workspace DIR | --model STATE) [--key-file KEY] [--json]\n"
        "\n"
        "A summary: the mechanism, the records and features, (ε, δ), the\n"
        "removals so far and, for a workspace, the changes committed, the\n"
        "certificates in the ledger and where the public model is. For M3 the\n"
        "accountant of the releases (as 'lethe capacity' prints it: Δ_max, the\n"
        "releases and ε of the published history, the cap, whether the public\n"
        "model is fresh, the DP mode, the capacity); for guo how much of the\n"
        "budget is used; for M2 how much of the capacity. 'lethe capacity' gives\n"
        "the full accountant.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace (read only, apart from tidying what an\n"
        "                        interrupted change left)\n"
        "  --key-file KEY        the at-rest key of an encrypted workspace or state\n"
        "  --model STATE         instead: a state file\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_WORKSPACE | LETHE__OPT_MODEL | LETHE__OPT_KEY_FILE | LETHE__OPT_JSON,
    .required = LETHE__OPT_MODEL,
    .operands = 0,
    .run = run_status,
};

/* Copy the current public model to a->out atomically: a unique temporary
 * file beside it (never following a link), fsync, rename. */
static int copy_file(const lethe__cli_args *a, const char *from, const char *to)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", to) >= (int)sizeof tmp)
        return lethe__cli_usage(a, "--out: the path is too long");
    int fd = mkstemp(tmp);
    FILE *in = fopen(from, "rb"), *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int ok = in != NULL && out != NULL && fchmod(fd, 0644) == 0;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in) && fflush(out) == 0 && fsync(fd) == 0;
    int e = errno;
    if (out != NULL && fclose(out) != 0)
        ok = 0;
    else if (out == NULL && fd >= 0)
        close(fd);
    if (in != NULL)
        fclose(in);
    if (ok && rename(tmp, to) != 0) {
        e = errno;
        ok = 0;
    }
    if (!ok) {
        if (fd >= 0)
            remove(tmp);
        return lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "cannot copy %s to %s: %s", from,
                                to, strerror(e));
    }
    return 0;
}

static int run_export(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    const char *pub = lethe_workspace_path(a->ws, LETHE_WS_PUBLIC);
    if (pub == NULL)
        rc = lethe__cli_error(a->cmd, LETHE__EXIT_USAGE, "%s holds no model yet: train one",
                              a->workspace);
    else
        rc = copy_file(a, pub, a->out);
    char hex[LETHE_HEX32_LEN] = "";
    lethe_status hs = LETHE_OK;
    if (rc == 0 && (hs = lethe_cert_hash_file(ctx, a->out, hex)) != LETHE_OK)
        rc = lethe__cli_status(a, ctx, hs, LETHE__PHASE_OUTPUT);
    if (rc == 0) {
        lethe__cli_out o;
        lethe__cli_out_begin(&o, stdout, a->json);
        lethe__cli_out_str(&o, "public", "public model", a->out);
        lethe__cli_out_str(&o, "blake2b", "BLAKE2b-256", hex);
        lethe__cli_out_end(&o);
    }
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_export = {
    .name = "export",
    .summary = "copy a workspace's public model (weights, no secrets) to a file",
    .usage =
        "usage: lethe export --workspace DIR --out FILE [--json]\n"
        "\n"
        "Copy the workspace's current public model (mechanism, parameters, the\n"
        "noise sampler, the weights; nothing secret) to FILE, and print its\n"
        "BLAKE2b-256: the hash the last certificate's model_after names, so that\n"
        "anyone can check with 'lethe verify --ledger DIR/ledger --key\n"
        "DIR/owner.pub --model FILE' that FILE is the certified model.\n"
        "\n"
        "options:\n"
        "  --workspace DIR       the workspace\n"
        "  --out FILE            where to write the public model (replaced atomically)\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_WORKSPACE | LETHE__OPT_OUT | LETHE__OPT_JSON,
    .required = LETHE__OPT_WORKSPACE | LETHE__OPT_OUT,
    .operands = 0,
    .run = run_export,
};
