/*
 * lethe keygen: make the owner's signing keys (lethe_keygen).
 * lethe verify: check a deletion certificate or a whole ledger
 * (lethe_cert_verify) and say which check failed on which file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>

#include "cli/cli.h"

static int run_keygen(lethe__cli_args *a)
{
    lethe_ctx *ctx = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    lethe_status st = lethe_keygen(ctx, a->secret, a->public_path);
    if (st != LETHE_OK) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_OUTPUT);
        lethe_ctx_free(ctx);
        return rc;
    }
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_str(&o, "secret", "secret key", a->secret);
    lethe__cli_out_str(&o, "public", "public key", a->public_path);
    lethe__cli_out_end(&o);
    if (!a->json)
        printf("\nKeep %s private (mode 600); publish %s so that others can verify\n"
               "the certificates signed with it (lethe verify --key).\n",
               a->secret, a->public_path);
    lethe_ctx_free(ctx);
    return 0;
}

const lethe__cli_command lethe__cli_keygen = {
    .name = "keygen",
    .summary = "make the owner's key pair for signing deletion certificates",
    .usage =
        "usage: lethe keygen --secret FILE --public FILE [--json]\n"
        "\n"
        "Make an Ed25519 key pair and a key for hashing record ids. The secret\n"
        "file (mode 600) signs certificates and hashes the ids they name; the\n"
        "public file is one line, 'lethe-ed25519-public' and 64 hex digits, to be\n"
        "published. An existing file is never replaced.\n"
        "\n"
        "options:\n"
        "  --secret FILE         the secret key file to create\n"
        "  --public FILE         the public key file to create\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_SECRET | LETHE__OPT_PUBLIC | LETHE__OPT_JSON,
    .required = LETHE__OPT_SECRET | LETHE__OPT_PUBLIC,
    .operands = 0,
    .run = run_keygen,
};

/* The "mechanism" field of a verification: the last certificate's
 * mechanism, after guo's label if any certificate that passed is guo's (so
 * that its idealised statement is never reported as something else). */
static void out_mechanism(lethe__cli_out *o, const lethe_verify_report *rep)
{
    if (rep->checked == 0)
        return;
    char names[1024];
    if (rep->idealised && rep->mechanism != LETHE_MECH_M1)
        snprintf(names, sizeof names, "%s; %s", lethe__cli_mech_label(LETHE_MECH_M1),
                 lethe__cli_mech_label((int)rep->mechanism));
    else
        snprintf(names, sizeof names, "%s", lethe__cli_mech_label((int)rep->mechanism));
    lethe__cli_out_str(o, "mechanism", "mechanism", names);
}

static int run_verify(lethe__cli_args *a)
{
    int sources = (a->cert != NULL) + (a->ledger != NULL) + (a->workspace != NULL);
    if (sources != 1)
        return lethe__cli_usage(a, "give one of --cert FILE, --ledger DIR, --workspace DIR");
    lethe_ctx *ctx = NULL;
    int rc = lethe__cli_context(a, &ctx);
    if (rc != 0)
        return rc;
    const char *what = a->cert != NULL ? a->cert : a->ledger, *key = a->key, *model = a->model;
    if (a->ws != NULL) {
        /* the workspace's own ledger, key and current public model */
        what = lethe_workspace_path(a->ws, LETHE_WS_LEDGER);
        if (key == NULL)
            key = lethe_workspace_path(a->ws, LETHE_WS_PUBLIC_KEY);
        if (model == NULL)
            model = lethe_workspace_path(a->ws, LETHE_WS_PUBLIC);
    }
    if (a->ws != NULL) {
        lethe_workspace_info info;
        lethe_workspace_status(a->ws, &info);
        if (info.certificates == 0) {
            /* nothing removed yet: an empty ledger is the consistent one */
            lethe__cli_out o;
            lethe__cli_out_begin(&o, stdout, a->json);
            lethe__cli_out_bool(&o, "verified", "verified", 1);
            lethe__cli_out_size(&o, "certificates", "certificates passed", 0,
                                "(no removal yet: the ledger is empty)");
            lethe__cli_out_end(&o);
            lethe__cli_finish(a, ctx);
            return 0;
        }
    }
    lethe_verify_report rep;
    lethe_status st = lethe_cert_verify(ctx, what, key, model, &rep);
    if (st != LETHE_OK && st != LETHE_EVERIFY) {
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
        lethe__cli_finish(a, ctx);
        return rc;
    }
    lethe__cli_out o;
    lethe__cli_out_begin(&o, stdout, a->json);
    lethe__cli_out_bool(&o, "verified", "verified", st == LETHE_OK);
    if (st != LETHE_OK) {
        lethe__cli_out_str(&o, "failed_check", "failed check", lethe_cert_check_name(rep.failed));
        lethe__cli_out_size(&o, "failed_seq", "on certificate", (size_t)rep.failed_seq,
                            rep.failed_seq == 0 ? "(unknown)" : NULL);
        lethe__cli_out_str(&o, "message", "why", lethe_ctx_errmsg(ctx));
    }
    lethe__cli_out_size(&o, "certificates", "certificates passed", rep.checked, NULL);
    lethe__cli_out_size(&o, "last_seq", "last seq passed", (size_t)rep.last_seq, NULL);
    if (rep.signer[0] != '\0' || a->json)
        lethe__cli_out_str(&o, "signer", "signer", rep.signer);
    lethe__cli_out_bool(&o, "pinned", "signer pinned", rep.pinned);
    if (!rep.pinned && !a->json)
        printf("%23s(no --key: the signatures show only that one key signed it all)\n", "");
    if (model != NULL || a->json)
        lethe__cli_out_bool(&o, "model_checked", "model matches", rep.model_checked);
    else
        lethe__cli_out_str(&o, "model_checked", "model matches", "not checked (no --model)");
    /* Without the current model nothing says where the ledger should end: a
     * deleted last certificate leaves a shorter ledger that checks. */
    lethe__cli_out_bool(&o, "tail_checked", "ledger tail checked", model != NULL);
    if (model == NULL && !a->json)
        printf("%23s(without --model or --workspace a deleted last certificate cannot be\n"
               "%23s told from a shorter ledger: only the files present were checked)\n", "",
               "");
    if (rep.model_after[0] != '\0' || a->json)
        lethe__cli_out_str(&o, "model_after", "last model_after", rep.model_after);
    out_mechanism(&o, &rep);
    lethe__cli_out_bool(&o, "idealised", "idealised statement", rep.idealised);
    if (rep.idealised && !a->json)
        printf("%23s(guo: Guo et al.'s idealised statement, not a proven guarantee; the\n"
               "%23s residual, budget and remaining are the owner's figures, which\n"
               "%23s depend on its secret noise b: verify checks their consistency only)\n",
               "", "", "");
    lethe__cli_out_bool(&o, "seeded", "seeded test noise", rep.seeded);
    if (rep.seeded && !a->json)
        printf("%23s(seeded test stream: reproducible noise, not private)\n", "");
    lethe__cli_out_end(&o);
    if (st != LETHE_OK)
        rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
    lethe__cli_finish(a, ctx);
    return rc;
}

const lethe__cli_command lethe__cli_verify = {
    .name = "verify",
    .summary = "verify a deletion certificate or a whole ledger of them",
    .usage =
        "usage: lethe verify (--cert FILE | --ledger DIR) [--key PUBLIC] [--model FILE]\n"
        "                    [--json]\n"
        "       lethe verify --workspace DIR [--key PUBLIC] [--json]\n"
        "\n"
        "Check a certificate file, or every certificate of a ledger directory\n"
        "(files 00000001.json, 00000002.json, ...): strict syntax, the signer, the\n"
        "Ed25519 signature, the consistency of the numbers with the guarantee the\n"
        "certificate claims, and for a ledger the chain (no gap, each file naming\n"
        "the hash of the one before, each model_before the previous model_after).\n"
        "Stops at the first failure and names the check and the file. Certificates\n"
        "of guo (M1) are Guo et al.'s idealised statement, not a proven guarantee,\n"
        "and the report says so.\n"
        "\n"
        "options:\n"
        "  --cert FILE           one certificate\n"
        "  --ledger DIR          a ledger directory\n"
        "  --workspace DIR       a workspace's ledger, checked against its public key\n"
        "                        (unless --key) and its current public model\n"
        "  --key PUBLIC          the owner's public key file (lethe keygen): the\n"
        "                        certificates must be signed by it; without it the\n"
        "                        signer is not pinned, and the report says so\n"
        "  --model FILE          the public model file: it must hash to the last\n"
        "                        certificate's model_after\n"
        "  --json                print the report as one JSON object\n"
        "  -h, --help            this help\n",
    .options = LETHE__OPT_CERT | LETHE__OPT_LEDGER | LETHE__OPT_KEY | LETHE__OPT_MODEL |
               LETHE__OPT_JSON | LETHE__OPT_WORKSPACE | LETHE__OPT_KEY_FILE,
    .required = 0,
    .operands = 0,
    .run = run_verify,
};
