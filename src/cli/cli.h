/*
 * The lethe tool: what the subcommands (train.c, forget.c, publish.c,
 * capacity.c, predict.c, refresh.c, ledger.c, workspace.c) share with the option parser and the output helpers (args.c,
 * out.c). The tool uses only the public API in lethe.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_CLI_H
#define LETHE_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lethe.h"

/* Exit status of the tool (also in `lethe --help`). */
enum {
    LETHE__EXIT_OK = 0,
    LETHE__EXIT_USAGE = 1,   /* unknown option, missing or bad argument             */
    LETHE__EXIT_DATA = 2,    /* unreadable or malformed input, NaN, empty, wrong d  */
    LETHE__EXIT_ID = 3,      /* unknown, already removed or duplicate id            */
    LETHE__EXIT_BUDGET = 4,  /* removal or M3 publication refused: budget, capacity */
    LETHE__EXIT_FAILURE = 5, /* any other failure of the library or of the system   */
    LETHE__EXIT_VERIFY = 6   /* a certificate or ledger failed verification         */
};

/* Options, as bits of lethe__cli_command.options and lethe__cli_args.given
 * (64 bits: more options than an int has bits). */
#define LETHE__OPT_DATA          (UINT64_C(1) << 0)
#define LETHE__OPT_LABELS        (UINT64_C(1) << 1)
#define LETHE__OPT_FORMAT        (UINT64_C(1) << 2)
#define LETHE__OPT_CLASSES       (UINT64_C(1) << 3)
#define LETHE__OPT_HEADER        (UINT64_C(1) << 4)
#define LETHE__OPT_LABEL_COL     (UINT64_C(1) << 5)
#define LETHE__OPT_ID_COL        (UINT64_C(1) << 6)
#define LETHE__OPT_NORM          (UINT64_C(1) << 7)
#define LETHE__OPT_R             (UINT64_C(1) << 8)
#define LETHE__OPT_LOSS          (UINT64_C(1) << 9)
#define LETHE__OPT_LAMBDA        (UINT64_C(1) << 10)
#define LETHE__OPT_EPSILON       (UINT64_C(1) << 11)
#define LETHE__OPT_DELTA         (UINT64_C(1) << 12)
#define LETHE__OPT_SIGMA         (UINT64_C(1) << 13)
#define LETHE__OPT_BUDGET        (UINT64_C(1) << 14)
#define LETHE__OPT_TOL           (UINT64_C(1) << 15)
#define LETHE__OPT_SEED          (UINT64_C(1) << 16)
#define LETHE__OPT_MODEL         (UINT64_C(1) << 17)
#define LETHE__OPT_PUBLIC        (UINT64_C(1) << 18)
#define LETHE__OPT_JSON          (UINT64_C(1) << 19)
#define LETHE__OPT_EXACT         (UINT64_C(1) << 20)
#define LETHE__OPT_DRY_RUN       (UINT64_C(1) << 21)
#define LETHE__OPT_IDS_FILE      (UINT64_C(1) << 22)
#define LETHE__OPT_EVALUATE      (UINT64_C(1) << 23)
#define LETHE__OPT_MECHANISM     (UINT64_C(1) << 24)
#define LETHE__OPT_CAPACITY      (UINT64_C(1) << 25)
#define LETHE__OPT_ALPHA         (UINT64_C(1) << 26)
#define LETHE__OPT_SECRET        (UINT64_C(1) << 27)
#define LETHE__OPT_CERT          (UINT64_C(1) << 28)
#define LETHE__OPT_LEDGER        (UINT64_C(1) << 29)
#define LETHE__OPT_KEY           (UINT64_C(1) << 30)
#define LETHE__OPT_WORKSPACE     (UINT64_C(1) << 31)
#define LETHE__OPT_KEY_FILE      (UINT64_C(1) << 32)
#define LETHE__OPT_OUT           (UINT64_C(1) << 33)
#define LETHE__OPT_DIM           (UINT64_C(1) << 34)
#define LETHE__OPT_DELTA_MAX     (UINT64_C(1) << 35)
#define LETHE__OPT_DP_RELEASES   (UINT64_C(1) << 36)
#define LETHE__OPT_DP_MIN        (UINT64_C(1) << 37)
#define LETHE__OPT_EPSILON_CAP   (UINT64_C(1) << 38)
#define LETHE__OPT_NEWTON_EXTRA  (UINT64_C(1) << 39)
#define LETHE__OPT_NO_PUBLISH    (UINT64_C(1) << 40)
#define LETHE__OPT_FEATURES      (UINT64_C(1) << 41)
#define LETHE__OPT_FEATURES_SEED (UINT64_C(1) << 42)
#define LETHE__OPT_FEATURES_FILE (UINT64_C(1) << 43)
#define LETHE__OPT_BIAS          (UINT64_C(1) << 44)
#define LETHE__OPT_FEATURES_INPUT (UINT64_C(1) << 45)
#define LETHE__OPT_TOP           (UINT64_C(1) << 46)
#define LETHE__OPT_RANK_ONLY     (UINT64_C(1) << 47)
/* The options that choose the feature map (train) */
#define LETHE__OPTS_FEATURES                                                                \
    (LETHE__OPT_FEATURES | LETHE__OPT_FEATURES_SEED | LETHE__OPT_FEATURES_FILE |             \
     LETHE__OPT_BIAS | LETHE__OPT_FEATURES_INPUT)

/* The options that describe a data set (lethe__cli_read_data). */
#define LETHE__OPTS_DATA                                                                    \
    (LETHE__OPT_DATA | LETHE__OPT_LABELS | LETHE__OPT_FORMAT | LETHE__OPT_CLASSES |          \
     LETHE__OPT_HEADER | LETHE__OPT_LABEL_COL | LETHE__OPT_ID_COL | LETHE__OPT_NORM |        \
     LETHE__OPT_R | LETHE__OPT_DIM)
/* Options of one mechanism only (train --mechanism). */
#define LETHE__OPTS_GUO (LETHE__OPT_SIGMA | LETHE__OPT_BUDGET)
#define LETHE__OPTS_M2 (LETHE__OPT_CAPACITY | LETHE__OPT_ALPHA)
#define LETHE__OPTS_M3                                                                      \
    (LETHE__OPT_DELTA_MAX | LETHE__OPT_DP_RELEASES | LETHE__OPT_DP_MIN |                     \
     LETHE__OPT_EPSILON_CAP | LETHE__OPT_NEWTON_EXTRA)
/* Options that only CSV input takes. */
#define LETHE__OPTS_CSV (LETHE__OPT_HEADER | LETHE__OPT_LABEL_COL | LETHE__OPT_ID_COL)

/* The ranges the options --epsilon, --delta, --sigma and --budget accept
 * (args.c; also in `lethe train --help`). ε below 1e-6 or δ below 1e-12
 * asks for noise no model survives, and below 1e-12 δ is under the noise
 * sampler's own share for any useful d; δ above 0.5 is no guarantee; σ and
 * ε' beyond 1e±100 overflow the calibration's products. */
#define LETHE__EPSILON_MIN 1e-6
#define LETHE__EPSILON_MAX 100.0
#define LETHE__DELTA_MIN 1e-12
#define LETHE__DELTA_MAX 0.5
#define LETHE__SCALE_MIN 1e-100
#define LETHE__SCALE_MAX 1e100

enum { LETHE__FORMAT_GUESS = 0, LETHE__FORMAT_IDX, LETHE__FORMAT_CSV, LETHE__FORMAT_LIBSVM,
       LETHE__FORMAT_NPY };

#define LETHE__SEED_LEN 32
/* Most classes --classes may list. */
#define LETHE__CLASSES_MAX 1024

/* Everything the command line said, checked for range but not yet used. */
typedef struct lethe__cli_args {
    const char *cmd;   /* the subcommand's name, for messages */
    uint64_t given;    /* LETHE__OPT_* bits seen              */
    const char *data, *labels, *model, *public_path, *ids_file;
    const char *workspace, *key_file, *out; /* --workspace DIR, --key-file F, --out F */
    const char *features_file; /* --features-file: the declared map's definition */
    int multiclass;    /* --classes all or three or more: one-vs-rest          */
    size_t n_class_list; /* --classes A,B,C,…: the classes kept (0: all)       */
    long class_list[LETHE__CLASSES_MAX];
    double class_values[LETHE__CLASSES_MAX]; /* the same, the model's fixed classes */
    lethe_workspace *ws; /* open while a command runs with --workspace */
    const char *secret, *cert, *ledger, *key; /* keygen and verify */
    int format;        /* LETHE__FORMAT_*                     */
    lethe_read_options read;
    lethe_train_options train; /* seed points into seed[] when --seed was given */
    unsigned char seed[LETHE__SEED_LEN];
    int json, exact, dry_run, evaluate, no_publish, rank_only;
    size_t top;        /* difficulty --top K, or 0             */
    int mechanism;     /* train: 3 (M3, default), 1 (guo) or 2 (M2) */
    size_t capacity;   /* M2: removals in all (default 100)   */
    double alpha;      /* M2: target excess risk, or 0        */
    char **operands;
    size_t n_operands;
} lethe__cli_args;

typedef struct lethe__cli_command {
    const char *name;
    const char *summary;  /* one line, for `lethe --help`                  */
    const char *usage;    /* synopsis and options, for `lethe CMD --help`  */
    uint64_t options;     /* LETHE__OPT_* bits this command accepts        */
    uint64_t required;    /* LETHE__OPT_* bits it cannot do without        */
    int operands;         /* 1 if operands (ids) are accepted              */
    int (*run)(lethe__cli_args *a);
} lethe__cli_command;

/* Record ids, in the order given. */
typedef struct lethe__cli_ids {
    uint64_t *v;
    size_t n, cap;
} lethe__cli_ids;

/* Gather ids from the operands, --ids-file (one per line), or standard
 * input ("-" alone) into l (possibly none); 0 or an exit status, with the
 * message printed. The caller frees l->v. */
int lethe__cli_gather_ids(const lethe__cli_args *a, lethe__cli_ids *l);

extern const lethe__cli_command lethe__cli_train;
extern const lethe__cli_command lethe__cli_forget;
extern const lethe__cli_command lethe__cli_capacity;
extern const lethe__cli_command lethe__cli_predict;
extern const lethe__cli_command lethe__cli_refresh;
extern const lethe__cli_command lethe__cli_init;
extern const lethe__cli_command lethe__cli_status_cmd;
extern const lethe__cli_command lethe__cli_export;
extern const lethe__cli_command lethe__cli_evaluate;
extern const lethe__cli_command lethe__cli_keygen;
extern const lethe__cli_command lethe__cli_verify;
extern const lethe__cli_command lethe__cli_publish;
extern const lethe__cli_command lethe__cli_difficulty;

/* Help text of the data options, shared by train and predict. */
extern const char lethe__cli_data_help[];
/* Help text of the exit status, shared by every --help. */
extern const char lethe__cli_exit_help[];

/* Parse argv[1..argc-1] (argv[0] is the subcommand) for cmd into a.
 * Returns −1 to go on, or an exit status: 0 after --help, 1 after a usage
 * error (already reported). */
int lethe__cli_parse(const lethe__cli_command *cmd, int argc, char **argv, lethe__cli_args *a);

/* Strict parsers: the whole string, nothing else. 1 on success. */
int lethe__cli_parse_u64(const char *s, uint64_t *out);

/* The long name of option bit (without "--"), for messages. */
const char *lethe__cli_option_name(uint64_t bit);

/* Report a usage error ("lethe: CMD: message" and a pointer to --help) on
 * stderr; returns LETHE__EXIT_USAGE. */
int lethe__cli_usage(const lethe__cli_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report "lethe: CMD: message" on stderr and return code. */
int lethe__cli_error(const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Where a status came from: the same status means another exit code when
 * reading input than when removing or writing. */
typedef enum lethe__cli_phase {
    LETHE__PHASE_INPUT,  /* reading data, ids or a state file */
    LETHE__PHASE_MODEL,  /* training, evaluating, querying a model */
    LETHE__PHASE_REMOVE,
    LETHE__PHASE_OUTPUT  /* writing a state or public file    */
} lethe__cli_phase;

/* Report a library failure (lethe_strerror and the context's detail) and
 * return its exit status. */
int lethe__cli_status(const lethe__cli_args *a, lethe_ctx *ctx, lethe_status st,
                      lethe__cli_phase phase);

/* A context with the default allocator, or an exit status (reported). With
 * --workspace it also opens the workspace (a->ws, recovering an interrupted
 * change); with --key-file alone it sets the at-rest key. */
int lethe__cli_context(lethe__cli_args *a, lethe_ctx **out);
/* Erase the progress line, if one is on the terminal (before any report). */
void lethe__cli_progress_clear(void);
/* Close the workspace, if any, and free the context. */
void lethe__cli_finish(lethe__cli_args *a, lethe_ctx *ctx);
/* Save a model where it came from: the workspace (with the removal's ids and
 * the report before it; k = 0 after training or a refresh) or --model (and
 * --public). 0 or an exit status (reported). */
int lethe__cli_save_model(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m,
                          const uint64_t *ids, size_t k, const lethe_budget *before);
int lethe__cli_save_m2(const lethe__cli_args *a, lethe_ctx *ctx, lethe_m2 *m,
                       const uint64_t *ids, size_t k, const lethe_m2_report *before);
/* The workspace or state file a command works on, for messages. */
const char *lethe__cli_where(const lethe__cli_args *a);
/* Read the data set named by the data options; 0 or an exit status (reported).
 * dim is the model's d when there is a model (predict, forget), else 0:
 * LIBSVM data is read with that d unless --dim gives one. */
int lethe__cli_read_data(const lethe__cli_args *a, lethe_ctx *ctx, size_t dim,
                         lethe_dataset **out);
/* Which mechanism the workspace or the state at a->model holds (1: guo,
 * 2: M2, 3: M3); 0 on error (reported, exit status in *rc). */
int lethe__cli_state_kind(const lethe__cli_args *a, lethe_ctx *ctx, int *rc);
/* Load the M2 state, or the guo or M3 model, of the workspace or --model;
 * 0 or an exit status (reported). */
int lethe__cli_load_m2(const lethe__cli_args *a, lethe_ctx *ctx, lethe_m2 **out);
int lethe__cli_load_model(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model **out);

/* Monotonic clock, in seconds. */
double lethe__cli_now(void);

/* Key/value output: aligned "label  value unit" lines, or one JSON object. */
typedef struct lethe__cli_out {
    FILE *f;
    int json;
    int fields;
} lethe__cli_out;

void lethe__cli_out_begin(lethe__cli_out *o, FILE *f, int json);
/* The noise sampler's name, lattice step and charges (LTH-C-0010). */
void lethe__cli_out_sampler(lethe__cli_out *o, const char *sampler, double g, double rounding,
                            double delta_sampler);
/* A double (JSON null when not finite); unit may be NULL. */
void lethe__cli_out_num(lethe__cli_out *o, const char *key, const char *label, double v,
                        const char *unit);
/* A fraction in [0, 1]: a percentage for people, the fraction in JSON. */
void lethe__cli_out_pct(lethe__cli_out *o, const char *key, const char *label, double v);
void lethe__cli_out_size(lethe__cli_out *o, const char *key, const char *label, size_t v,
                         const char *unit);
void lethe__cli_out_str(lethe__cli_out *o, const char *key, const char *label, const char *v);
void lethe__cli_out_bool(lethe__cli_out *o, const char *key, const char *label, int v);
/* No value: JSON null, text for people. */
void lethe__cli_out_none(lethe__cli_out *o, const char *key, const char *label,
                         const char *text);
/* A field whose value the caller writes next (JSON: e.g. an array; for
 * people: the label on a line of its own, then the caller's lines). */
void lethe__cli_out_open(lethe__cli_out *o, const char *key, const char *label);
void lethe__cli_out_end(lethe__cli_out *o);

/* The mechanism as the tool names it (1: guo, 2: M2, 3: M3): guo's name
 * says, wherever it is printed, what its certificate is and is not. */
const char *lethe__cli_mech_label(int mech);
/* The "mechanism" field of a report on a guo or M3 model. */
void lethe__cli_out_mech(lethe__cli_out *o, const lethe_model *m);
/* The model's feature map (lethe_features_describe), its hash, and the
 * number of weights. */
void lethe__cli_out_features(lethe__cli_out *o, const lethe_model *m);
/* A one-vs-rest model's classes (nothing for one head). */
void lethe__cli_out_classes(lethe__cli_out *o, const lethe_model *m);
/* With --features-file: the BLAKE2b-256 of the file into identity (as
 * lethe_cert_hash_file computes it). 0, or an exit status (reported). */
int lethe__cli_features_file(lethe__cli_args *a, lethe_ctx *ctx, unsigned char identity[32]);
/* The M3 accountant (lethe_budget's M3 fields, with units), shared by
 * train, status and capacity; m gives what lethe_budget does not hold. */
void lethe__cli_out_m3(lethe__cli_out *o, const lethe_model *m, const lethe_budget *b);

/* Write s as a JSON string (quoted and escaped). */
void lethe__cli_json_string(FILE *f, const char *s);

/* ─── M3 publication (publish.c) ─────────────────────────────────────────── */

/* A change to an M3 model, made on the loaded model, to be committed. */
typedef struct lethe__cli_m3_change {
    const char *what;    /* the change, for messages: "removal", "refresh", …       */
    const char *done;    /* its past participle: "removed", "refreshed", …         */
    const char *refused; /* what to do when the publication is refused             */
    int publish;         /* 1: publish a fresh release first                       */
    const uint64_t *ids; /* without publish: the ids removed by the change, k of them */
    size_t k;
    const lethe_budget *before; /* the accountant before the change                */
} lethe__cli_m3_change;

/* Commit an M3 change: publish one fresh release (lethe_model_publish) if
 * c->publish, then save, with a certificate naming every id removed since
 * the last release (read before the publication clears them; *k_rel of
 * them, and rel, describe the release). A refused publication (the ε cap,
 * the DP floor: exit 4) saves nothing, so that the workspace or state stays
 * as it was. 0 or an exit status (reported). */
int lethe__cli_m3_commit(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m,
                         const lethe__cli_m3_change *c, lethe_release_report *rel,
                         size_t *k_rel);
/* The report of a release: its number, the ids it certifies, μ and the ε
 * of the whole published history. */
void lethe__cli_out_release(lethe__cli_out *o, const lethe_release_report *rel, size_t k,
                            double delta);
/* The "public" field: where the public model now is (the workspace's, or
 * --public), or that none was written. */
void lethe__cli_out_public(lethe__cli_out *o, const lethe__cli_args *a);
/* Say, after a text report, that removals are not yet in the public model. */
void lethe__cli_unpublished_note(const lethe__cli_args *a, const lethe_model *m);

#endif /* LETHE_CLI_H */
