/*
 * lethe — the command-line tool: train a certified model, forget records,
 * publish M3 releases, show the removal budget, predict, make signing keys,
 * verify deletion certificates. Uses only the public API (lethe.h).
 *
 * Exit status (also printed by `lethe --help`):
 *   0  success
 *   1  usage error: unknown option, missing argument, bad value (ε ≤ 0,
 *      δ outside (0, 1), λ ≤ 0, …), checked before the library is called
 *   2  input data error: unreadable or malformed file, NaN, empty data,
 *      wrong dimensions, labels the loss cannot take
 *   3  an id is unknown, already removed, or repeated in one batch
 *   4  removal refused: it would exceed the certified budget (guo: refresh
 *      the model; M2: the capacity), or an M3 publication refused by the ε
 *      cap or the DP floor; for forget --dry-run: it would be refused
 *   5  any other failure (solver, memory, linear algebra, writing a file)
 *   6  verify: a certificate or the ledger failed a check (the message names
 *      the file and the check)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const lethe__cli_command *const commands[] = {
    &lethe__cli_init,
    &lethe__cli_train,
    &lethe__cli_forget,
    &lethe__cli_publish,
    &lethe__cli_capacity,
    &lethe__cli_status_cmd,
    &lethe__cli_predict,
    &lethe__cli_evaluate,
    &lethe__cli_refresh,
    &lethe__cli_export,
    &lethe__cli_keygen,
    &lethe__cli_verify,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

const char lethe__cli_exit_help[] =
    "exit status:\n"
    "  0  success\n"
    "  1  usage error (unknown option, missing argument, bad value)\n"
    "  2  input data error (unreadable or malformed file, NaN, empty data,\n"
    "     wrong dimensions)\n"
    "  3  unknown, already removed or duplicate id\n"
    "  4  removal refused: over the certified budget (guo: refresh the model;\n"
    "     M2: the capacity), or an M3 publication refused by the ε cap or the\n"
    "     DP floor (nothing changes); with forget --dry-run: it would be refused\n"
    "  5  other failure (solver, memory, linear algebra, writing a file)\n"
    "  6  verify: a certificate or the ledger failed a check\n";

static void help(FILE *f)
{
    fputs("usage: lethe COMMAND [OPTIONS]\n"
          "       lethe COMMAND --help\n"
          "       lethe --help | --version\n"
          "\n"
          "Certified machine unlearning for L2-regularised linear models: train a\n"
          "model whose records can later be removed with an (ε, δ) certificate.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n%s", lethe__cli_exit_help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return LETHE__EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        help(stdout);
        return LETHE__EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("lethe %s\n", LETHE_VERSION_STRING);
        return LETHE__EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i]->name) != 0)
            continue;
        lethe__cli_args a;
        int rc = lethe__cli_parse(commands[i], argc - 1, argv + 1, &a);
        return rc >= 0 ? rc : commands[i]->run(&a);
    }
    fprintf(stderr, "lethe: unknown command '%s' (see 'lethe --help')\n", name);
    return LETHE__EXIT_USAGE;
}
