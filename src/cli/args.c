/*
 * The one option parser of the lethe tool, the checks of every value
 * before the library sees it, and the steps the subcommands share:
 * making a context, reading data, loading a state, reporting a status.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _DEFAULT_SOURCE /* getopt_long */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

/* getopt_long values: LONG_BASE + bit index of LETHE__OPT_*. */
#define LONG_BASE 256

static const struct option long_options[] = {
    { "data", required_argument, NULL, LONG_BASE + 0 },
    { "labels", required_argument, NULL, LONG_BASE + 1 },
    { "format", required_argument, NULL, LONG_BASE + 2 },
    { "classes", required_argument, NULL, LONG_BASE + 3 },
    { "header", required_argument, NULL, LONG_BASE + 4 },
    { "label-col", required_argument, NULL, LONG_BASE + 5 },
    { "id-col", required_argument, NULL, LONG_BASE + 6 },
    { "norm", required_argument, NULL, LONG_BASE + 7 },
    { "R", required_argument, NULL, LONG_BASE + 8 },
    { "loss", required_argument, NULL, LONG_BASE + 9 },
    { "lambda", required_argument, NULL, LONG_BASE + 10 },
    { "epsilon", required_argument, NULL, LONG_BASE + 11 },
    { "delta", required_argument, NULL, LONG_BASE + 12 },
    { "sigma", required_argument, NULL, LONG_BASE + 13 },
    { "budget", required_argument, NULL, LONG_BASE + 14 },
    { "tol", required_argument, NULL, LONG_BASE + 15 },
    { "seed", required_argument, NULL, LONG_BASE + 16 },
    { "model", required_argument, NULL, LONG_BASE + 17 },
    { "public", required_argument, NULL, LONG_BASE + 18 },
    { "json", no_argument, NULL, LONG_BASE + 19 },
    { "exact", no_argument, NULL, LONG_BASE + 20 },
    { "dry-run", no_argument, NULL, LONG_BASE + 21 },
    { "ids-file", required_argument, NULL, LONG_BASE + 22 },
    { "evaluate", no_argument, NULL, LONG_BASE + 23 },
    { "mechanism", required_argument, NULL, LONG_BASE + 24 },
    { "capacity", required_argument, NULL, LONG_BASE + 25 },
    { "alpha", required_argument, NULL, LONG_BASE + 26 },
    { "secret", required_argument, NULL, LONG_BASE + 27 },
    { "cert", required_argument, NULL, LONG_BASE + 28 },
    { "ledger", required_argument, NULL, LONG_BASE + 29 },
    { "key", required_argument, NULL, LONG_BASE + 30 },
    { "workspace", required_argument, NULL, LONG_BASE + 31 },
    { "key-file", required_argument, NULL, LONG_BASE + 32 },
    { "out", required_argument, NULL, LONG_BASE + 33 },
    { "dim", required_argument, NULL, LONG_BASE + 34 },
    { "delta-max", required_argument, NULL, LONG_BASE + 35 },
    { "dp-releases", no_argument, NULL, LONG_BASE + 36 },
    { "dp-min-records", required_argument, NULL, LONG_BASE + 37 },
    { "epsilon-cap", required_argument, NULL, LONG_BASE + 38 },
    { "newton-extra", required_argument, NULL, LONG_BASE + 39 },
    { "no-publish", no_argument, NULL, LONG_BASE + 40 },
    { "features", required_argument, NULL, LONG_BASE + 41 },
    { "features-seed", required_argument, NULL, LONG_BASE + 42 },
    { "features-file", required_argument, NULL, LONG_BASE + 43 },
    { "bias", required_argument, NULL, LONG_BASE + 44 },
    { "features-input", required_argument, NULL, LONG_BASE + 45 },
    { "top", required_argument, NULL, LONG_BASE + 46 },
    { "rank-only", no_argument, NULL, LONG_BASE + 47 },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

int lethe__cli_error(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lethe__cli_progress_clear();
    fprintf(stderr, "lethe: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int lethe__cli_usage(const lethe__cli_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lethe: %s: ", a->cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'lethe %s --help')\n", a->cmd);
    va_end(ap);
    return LETHE__EXIT_USAGE;
}

/* ─── Strict number parsing ──────────────────────────────────────────────── */

static int parse_double(const char *s, double *out)
{
    if (*s == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int parse_long(const char *s, long *out)
{
    if (*s == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return 0;
    *out = v;
    return 1;
}

int lethe__cli_parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') /* strtoull would take a sign, and wrap "-1" */
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

/* ─── Option values ──────────────────────────────────────────────────────── */

/* A real in the open interval (lo, hi); hi may be +Inf. */
static int option_real(const lethe__cli_args *a, const char *opt, const char *what,
                       const char *text, double lo, double hi, double *out)
{
    double v = 0.0;
    if (!parse_double(text, &v) || !(v > lo && v < hi)) {
        if (isinf(hi))
            return lethe__cli_usage(a, "--%s: %s must be a finite number > %g, not '%s'", opt,
                                    what, lo, text);
        return lethe__cli_usage(a, "--%s: %s must be a number in (%g, %g), not '%s'", opt,
                                what, lo, hi, text);
    }
    *out = v;
    return 0;
}

/* A real in the closed interval [lo, hi]. The bounds of ε, δ, σ and the
 * budget keep every product the calibration forms (σε, σ², ln(1/δ), the
 * lattice step of σ within 2^±900) finite: outside them the library failed
 * deep inside with a NaN budget (issue 10). */
static int option_range(const lethe__cli_args *a, const char *opt, const char *what,
                        const char *text, double lo, double hi, double *out)
{
    double v = 0.0;
    if (!parse_double(text, &v) || !(v >= lo && v <= hi))
        return lethe__cli_usage(a, "--%s: %s must be a number in [%g, %g], not '%s'", opt, what,
                                lo, hi, text);
    *out = v;
    return 0;
}

/* One of the words names[0..n-1]; its index in *out. */
static int option_word(const lethe__cli_args *a, const char *opt, const char *text,
                       const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    fprintf(stderr, "lethe: %s: --%s: '%s' is not one of", a->cmd, opt, text);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i > 0 ? "," : "", names[i]);
    fprintf(stderr, "\n");
    return LETHE__EXIT_USAGE;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 32 bytes from 64 hexadecimal digits, for the option named opt. */
static int option_hex32(lethe__cli_args *a, const char *opt, const char *text,
                        unsigned char *out)
{
    if (strlen(text) != 2 * LETHE__SEED_LEN)
        return lethe__cli_usage(a, "--%s takes %d hexadecimal digits (%d bytes), not %zu "
                                   "characters",
                                opt, 2 * LETHE__SEED_LEN, LETHE__SEED_LEN, strlen(text));
    for (size_t i = 0; i < LETHE__SEED_LEN; i++) {
        int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return lethe__cli_usage(a, "--%s: '%s' is not hexadecimal", opt, text);
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int option_seed(lethe__cli_args *a, const char *text)
{
    int rc = option_hex32(a, "seed", text, a->seed);
    if (rc == 0)
        a->train.seed = a->seed;
    return rc;
}

/* --features rff:D[:γ] or relu:D */
static int option_features(lethe__cli_args *a, const char *text)
{
    lethe_feature_map *f = &a->train.features;
    const char *rest = NULL;
    if (strncmp(text, "rff:", 4) == 0) {
        f->kind = LETHE_FEATURES_RFF;
        rest = text + 4;
    } else if (strncmp(text, "relu:", 5) == 0) {
        f->kind = LETHE_FEATURES_RELU;
        rest = text + 5;
    } else {
        return lethe__cli_usage(a, "--features '%s': not rff:D[:GAMMA] or relu:D", text);
    }
    char num[64];
    const char *colon = strchr(rest, ':');
    size_t len = colon != NULL ? (size_t)(colon - rest) : strlen(rest);
    uint64_t D = 0;
    if (len >= sizeof num)
        len = sizeof num - 1;
    memcpy(num, rest, len);
    num[len] = '\0';
    if (!lethe__cli_parse_u64(num, &D) || D == 0 || D > ((uint64_t)1 << 20))
        return lethe__cli_usage(a, "--features '%s': D must be a number of features in "
                                   "[1, 1048576]", text);
    f->dim = (size_t)D;
    f->gamma = 1.0;
    if (colon != NULL) {
        if (f->kind != LETHE_FEATURES_RFF)
            return lethe__cli_usage(a, "--features '%s': relu takes no γ", text);
        if (!parse_double(colon + 1, &f->gamma) || !(f->gamma > 0.0))
            return lethe__cli_usage(a, "--features '%s': γ must be a number > 0", text);
    }
    return 0;
}

/* --classes: POS,NEG (binary), all, or three or more classes (one-vs-rest) */
static int option_classes(lethe__cli_args *a, const char *text)
{
    a->multiclass = 0;
    a->n_class_list = 0;
    if (strcmp(text, "all") == 0) {
        a->multiclass = 1;
        a->train.multiclass = 1;
        a->read.pos_class = a->read.neg_class = -1;
        return 0;
    }
    size_t commas = 0;
    for (const char *c = text; *c != '\0'; c++)
        commas += *c == ',';
    if (commas >= 2) {
        char buf[32];
        const char *at = text;
        for (;;) {
            const char *end = strchr(at, ',');
            size_t len = end != NULL ? (size_t)(end - at) : strlen(at);
            long v = -1;
            if (len == 0 || len >= sizeof buf)
                v = -1;
            else {
                memcpy(buf, at, len);
                buf[len] = '\0';
                if (!parse_long(buf, &v))
                    v = -1;
            }
            if (v < 0 || a->n_class_list == LETHE__CLASSES_MAX)
                return lethe__cli_usage(a, "--classes takes POS,NEG, all, or up to %d class "
                                           "numbers ≥ 0 separated by commas, not '%s'",
                                        LETHE__CLASSES_MAX, text);
            for (size_t t = 0; t < a->n_class_list; t++)
                if (a->class_list[t] == v)
                    return lethe__cli_usage(a, "--classes: class %ld is listed twice", v);
            a->class_list[a->n_class_list++] = v;
            if (end == NULL)
                break;
            at = end + 1;
        }
        a->multiclass = 1;
        a->train.multiclass = 1;
        for (size_t t = 0; t < a->n_class_list; t++)
            a->class_values[t] = (double)a->class_list[t];
        a->train.classes = a->class_values; /* fixed before the data: the list is public */
        a->train.n_classes = a->n_class_list;
        a->read.pos_class = a->read.neg_class = -1;
        return 0;
    }
    const char *comma = strchr(text, ',');
    char pos[32];
    long p = -1, n = -1;
    if (comma != NULL && (size_t)(comma - text) < sizeof pos) {
        memcpy(pos, text, (size_t)(comma - text));
        pos[comma - text] = '\0';
        if (!parse_long(pos, &p) || !parse_long(comma + 1, &n))
            p = n = -1;
    }
    if (p < 0 || n < 0)
        return lethe__cli_usage(a, "--classes takes POS,NEG (two class numbers ≥ 0), all, or "
                                   "three or more classes separated by commas, not '%s'",
                                text);
    if (p == n)
        return lethe__cli_usage(a, "--classes: the two classes must differ (both are %ld)", p);
    a->read.pos_class = p;
    a->read.neg_class = n;
    return 0;
}

/* Store the value of option bit for a; 0 or an exit status. */
static int option_value(lethe__cli_args *a, uint64_t bit, const char *arg)
{
    static const char *const formats[] = { "idx", "csv", "libsvm", "npy" };
    static const char *const headers[] = { "no", "yes", "auto" };
    static const char *const norms[] = { "measure", "require", "clip", "normalize" };
    static const char *const inputs[] = { "raw", "sqrt" }; /* lethe_feature_input's order */
    lethe_train_options *t = &a->train;
    int k = 0, rc = 0;
    switch (bit) {
    case LETHE__OPT_DATA: a->data = arg; return 0;
    case LETHE__OPT_LABELS: a->labels = arg; return 0;
    case LETHE__OPT_MODEL: a->model = arg; return 0;
    case LETHE__OPT_PUBLIC: a->public_path = arg; return 0;
    case LETHE__OPT_IDS_FILE: a->ids_file = arg; return 0;
    case LETHE__OPT_SECRET: a->secret = arg; return 0;
    case LETHE__OPT_CERT: a->cert = arg; return 0;
    case LETHE__OPT_LEDGER: a->ledger = arg; return 0;
    case LETHE__OPT_KEY: a->key = arg; return 0;
    case LETHE__OPT_WORKSPACE: a->workspace = arg; return 0;
    case LETHE__OPT_KEY_FILE: a->key_file = arg; return 0;
    case LETHE__OPT_OUT: a->out = arg; return 0;
    case LETHE__OPT_JSON: a->json = 1; return 0;
    case LETHE__OPT_EXACT: a->exact = 1; return 0;
    case LETHE__OPT_DRY_RUN: a->dry_run = 1; return 0;
    case LETHE__OPT_RANK_ONLY: a->rank_only = 1; return 0;
    case LETHE__OPT_TOP: {
        uint64_t v = 0;
        if (!lethe__cli_parse_u64(arg, &v) || v == 0 || v > ((uint64_t)1 << 32))
            return lethe__cli_usage(a, "--top takes a number of records in [1, 2^32], not '%s'",
                                    arg);
        a->top = (size_t)v;
        return 0;
    }
    case LETHE__OPT_EVALUATE: a->evaluate = 1; return 0;
    case LETHE__OPT_NO_PUBLISH: a->no_publish = 1; return 0;
    case LETHE__OPT_DP_RELEASES: t->dp_releases = 1; return 0;
    case LETHE__OPT_MECHANISM: {
        /* "m1" is guo's old name, kept as an alias */
        static const char *const mechs[] = { "m3", "guo", "m2", "m1" };
        static const int codes[] = { LETHE_MECH_M3, LETHE_MECH_M1, LETHE_MECH_M2, LETHE_MECH_M1 };
        rc = option_word(a, "mechanism", arg, mechs, 4, &k);
        a->mechanism = codes[k];
        return rc;
    }
    case LETHE__OPT_DELTA_MAX:
        return option_real(a, "delta-max", "Δ_max", arg, 0.0, INFINITY, &t->delta_max);
    case LETHE__OPT_EPSILON_CAP:
        return option_real(a, "epsilon-cap", "the cap on the history's ε", arg, 0.0, INFINITY,
                           &t->epsilon_cap);
    case LETHE__OPT_DP_MIN: {
        uint64_t v = 0;
        if (!lethe__cli_parse_u64(arg, &v) || v == 0 || v > SIZE_MAX)
            return lethe__cli_usage(a, "--dp-min-records takes a number of records >= 1, not "
                                       "'%s'", arg);
        t->dp_min_records = (size_t)v;
        return 0;
    }
    case LETHE__OPT_NEWTON_EXTRA: {
        uint64_t v = 0;
        if (!lethe__cli_parse_u64(arg, &v) || v > UINT_MAX)
            return lethe__cli_usage(a, "--newton-extra takes a number of Newton steps >= 0, "
                                       "not '%s'", arg);
        t->newton_extra = (unsigned)v;
        return 0;
    }
    case LETHE__OPT_ALPHA:
        return option_real(a, "alpha", "the target excess risk α", arg, 0.0, INFINITY,
                           &a->alpha);
    case LETHE__OPT_CAPACITY: {
        uint64_t v = 0;
        if (!lethe__cli_parse_u64(arg, &v) || v == 0)
            return lethe__cli_usage(a, "--capacity takes a number of removals ≥ 1, not '%s'",
                                    arg);
        a->capacity = (size_t)v;
        return 0;
    }
    case LETHE__OPT_FORMAT:
        rc = option_word(a, "format", arg, formats, 4, &k);
        a->format = k + LETHE__FORMAT_IDX; /* in the order of formats[] */
        return rc;
    case LETHE__OPT_HEADER:
        rc = option_word(a, "header", arg, headers, 3, &k);
        a->read.header = k == 2 ? -1 : k;
        return rc;
    case LETHE__OPT_NORM:
        rc = option_word(a, "norm", arg, norms, 4, &k);
        a->read.policy = (lethe_norm_policy)k;
        return rc;
    case LETHE__OPT_LOSS:
        if (lethe_loss_from_name(arg, &t->loss) != LETHE_OK)
            return lethe__cli_usage(a, "--loss '%s': not logistic, squared, smooth-hinge or "
                                       "huber", arg);
        return 0;
    case LETHE__OPT_CLASSES: return option_classes(a, arg);
    case LETHE__OPT_FEATURES: return option_features(a, arg);
    case LETHE__OPT_FEATURES_SEED:
        return option_hex32(a, "features-seed", arg, t->features.seed);
    case LETHE__OPT_FEATURES_FILE: a->features_file = arg; return 0;
    case LETHE__OPT_FEATURES_INPUT:
        rc = option_word(a, "features-input", arg, inputs, 2, &k);
        t->features.input = (lethe_feature_input)k;
        return rc;
    case LETHE__OPT_BIAS:
        return option_range(a, "bias", "the intercept's constant", arg, 1e-6, 1e6,
                            &t->features.bias);
    case LETHE__OPT_SEED: return option_seed(a, arg);
    case LETHE__OPT_LABEL_COL:
        if (!parse_long(arg, &a->read.label_col))
            return lethe__cli_usage(a, "--label-col takes a column number (negative: from "
                                       "the end), not '%s'",
                                    arg);
        return 0;
    case LETHE__OPT_ID_COL:
        if (!parse_long(arg, &a->read.id_col) || a->read.id_col < 0)
            return lethe__cli_usage(a, "--id-col takes a column number ≥ 0, not '%s'", arg);
        return 0;
    case LETHE__OPT_DIM: {
        uint64_t v = 0;
        if (!lethe__cli_parse_u64(arg, &v) || v == 0 || v > SIZE_MAX)
            return lethe__cli_usage(a, "--dim takes a number of features >= 1, not '%s'", arg);
        a->read.dim = (size_t)v;
        return 0;
    }
    case LETHE__OPT_R:
        return option_real(a, "R", "the norm bound R", arg, 0.0, INFINITY, &a->read.R);
    case LETHE__OPT_LAMBDA:
        return option_real(a, "lambda", "λ", arg, 0.0, INFINITY, &t->lambda);
    case LETHE__OPT_EPSILON:
        return option_range(a, "epsilon", "ε", arg, LETHE__EPSILON_MIN, LETHE__EPSILON_MAX,
                            &t->epsilon);
    case LETHE__OPT_DELTA:
        return option_range(a, "delta", "δ", arg, LETHE__DELTA_MIN, LETHE__DELTA_MAX,
                            &t->delta);
    case LETHE__OPT_SIGMA:
        return option_range(a, "sigma", "σ", arg, LETHE__SCALE_MIN, LETHE__SCALE_MAX,
                            &t->sigma);
    case LETHE__OPT_BUDGET:
        return option_range(a, "budget", "the residual budget ε'", arg, LETHE__SCALE_MIN,
                            LETHE__SCALE_MAX, &t->budget);
    case LETHE__OPT_TOL:
        return option_real(a, "tol", "the tolerance", arg, 0.0, INFINITY, &t->tol);
    default:
        return lethe__cli_usage(a, "internal error: option bit %#llx", (unsigned long long)bit);
    }
}

int lethe__cli_features_file(lethe__cli_args *a, lethe_ctx *ctx, unsigned char identity[32])
{
    char hex[LETHE_HEX32_LEN];
    if (lethe_cert_hash_file(ctx, a->features_file, hex) != LETHE_OK)
        return lethe__cli_error(a->cmd, LETHE__EXIT_DATA, "--features-file %s: %s",
                                a->features_file, lethe_ctx_errmsg(ctx));
    for (size_t i = 0; i < 32; i++)
        identity[i] = (unsigned char)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
    return 0;
}

const char *lethe__cli_option_name(uint64_t bit)
{
    for (const struct option *o = long_options; o->name != NULL; o++)
        if (o->val >= LONG_BASE && UINT64_C(1) << (o->val - LONG_BASE) == bit)
            return o->name;
    return "?";
}

/* base ends in suffix, or in suffix and ".gz". */
static int ends_with(const char *base, const char *suffix)
{
    size_t n = strlen(base), k = strlen(suffix);
    if (n >= 3 && strcmp(base + n - 3, ".gz") == 0)
        n -= 3;
    return n >= k && strncmp(base + n - k, suffix, k) == 0;
}

/* IDX if the file is named like the MNIST files (*idx*-ubyte[.gz]), LIBSVM
 * if it is named *.libsvm, *.svm or *.svmlight, NumPy if *.npy (each also
 * with .gz), else CSV. */
static int guess_format(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    if (strstr(base, "idx") != NULL && ends_with(base, "ubyte"))
        return LETHE__FORMAT_IDX;
    if (ends_with(base, ".libsvm") || ends_with(base, ".svm") || ends_with(base, ".svmlight"))
        return LETHE__FORMAT_LIBSVM;
    if (ends_with(base, ".npy"))
        return LETHE__FORMAT_NPY;
    return LETHE__FORMAT_CSV;
}

/* Options that are valid one by one but not together; −1 if all is well. */
static int check_combinations(lethe__cli_args *a)
{
    if ((a->given & LETHE__OPT_SIGMA) && (a->given & LETHE__OPT_BUDGET))
        return lethe__cli_usage(a, "give --sigma or --budget, not both");
    if ((a->given & LETHE__OPT_FEATURES) && (a->given & LETHE__OPT_FEATURES_FILE))
        return lethe__cli_usage(a, "give --features (a map lethe draws) or --features-file (a "
                                   "map applied before lethe), not both");
    if ((a->given & LETHE__OPT_FEATURES_SEED) && !(a->given & LETHE__OPT_FEATURES))
        return lethe__cli_usage(a, "--features-seed is the seed of --features rff:… or relu:…");
    if ((a->given & LETHE__OPT_R) && a->read.policy == LETHE_NORM_MEASURE)
        return lethe__cli_usage(a, "--R needs --norm require, clip or normalize (with "
                                   "measure, the default, R is the largest row norm)");
    if (!(a->given & LETHE__OPT_DATA)) {
        if (a->given & (LETHE__OPTS_DATA & ~LETHE__OPT_DATA))
            return lethe__cli_usage(a, "data options need --data FILE");
        return -1;
    }
    if (a->format == LETHE__FORMAT_GUESS)
        a->format = guess_format(a->data);
    const int two_files = a->format == LETHE__FORMAT_IDX || a->format == LETHE__FORMAT_NPY;
    if (two_files && a->labels == NULL)
        return lethe__cli_usage(a, "%s data (%s) needs --labels FILE",
                                a->format == LETHE__FORMAT_IDX ? "IDX" : "NumPy", a->data);
    if (!two_files && a->labels != NULL)
        return lethe__cli_usage(a, "--labels is for IDX and .npy data; a %s file holds its "
                                   "labels", a->format == LETHE__FORMAT_CSV ? "CSV" : "LIBSVM");
    if (a->format != LETHE__FORMAT_CSV && (a->given & LETHE__OPTS_CSV))
        return lethe__cli_usage(a, "--header, --label-col and --id-col apply to CSV data "
                                   "only");
    if (a->format != LETHE__FORMAT_LIBSVM && (a->given & LETHE__OPT_DIM))
        return lethe__cli_usage(a, "--dim applies to LIBSVM data only");
    return -1;
}

int lethe__cli_parse(const lethe__cli_command *cmd, int argc, char **argv, lethe__cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd->name;
    lethe_read_options_init(&a->read);
    lethe_train_options_init(&a->train);
    a->mechanism = LETHE_MECH_M3;
    a->capacity = 100;
    opterr = 0; /* messages are ours */
    int c;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h') {
            fputs(cmd->usage, stdout);
            if (cmd->options & LETHE__OPT_DATA)
                printf("\n%s", lethe__cli_data_help);
            printf("\n%s", lethe__cli_exit_help);
            return LETHE__EXIT_OK;
        }
        if (c == ':')
            return lethe__cli_usage(a, "option %s needs a value", argv[optind - 1]);
        if (c == '?') {
            if (optopt != 0)
                return lethe__cli_usage(a, "unknown option -%c", optopt);
            return lethe__cli_usage(a, "unknown option %s", argv[optind - 1]);
        }
        uint64_t bit = UINT64_C(1) << (c - LONG_BASE);
        if (!(cmd->options & bit))
            return lethe__cli_usage(a, "option --%s does not apply to %s",
                                    lethe__cli_option_name(bit), cmd->name);
        if (a->given & bit)
            return lethe__cli_usage(a, "option --%s given twice",
                                    lethe__cli_option_name(bit));
        a->given |= bit;
        int rc = option_value(a, bit, optarg);
        if (rc != 0)
            return rc;
    }
    if ((a->given & LETHE__OPT_MODEL) && (a->given & LETHE__OPT_WORKSPACE) &&
        !(cmd->options & LETHE__OPT_LEDGER)) /* verify: --model is the public model */
        return lethe__cli_usage(a, "give --model STATE or --workspace DIR, not both");
    if ((a->given & LETHE__OPT_WORKSPACE) && (a->given & LETHE__OPT_PUBLIC))
        return lethe__cli_usage(a, "a workspace keeps its public model: use 'lethe export' "
                                   "instead of --public");
    uint64_t missing = cmd->required & ~a->given;
    if ((missing & LETHE__OPT_MODEL) && (a->given & LETHE__OPT_WORKSPACE))
        missing &= ~LETHE__OPT_MODEL; /* a workspace stands for the state */
    if (missing != 0)
        return lethe__cli_usage(a, "option --%s is required",
                                lethe__cli_option_name(missing & -missing));
    a->operands = argv + optind;
    a->n_operands = (size_t)(argc - optind);
    if (a->n_operands > 0 && !cmd->operands)
        return lethe__cli_usage(a, "unexpected argument '%s'", a->operands[0]);
    return check_combinations(a);
}

/* ─── Shared steps ───────────────────────────────────────────────────────── */

int lethe__cli_status(const lethe__cli_args *a, lethe_ctx *ctx, lethe_status st,
                      lethe__cli_phase phase)
{
    int code;
    switch (st) {
    case LETHE_OK:
        return LETHE__EXIT_OK;
    case LETHE_EBUDGET:
        code = LETHE__EXIT_BUDGET;
        break;
    case LETHE_ENOTFOUND:
    case LETHE_EREMOVED:
        code = LETHE__EXIT_ID;
        break;
    case LETHE_ECAPACITY:
        code = LETHE__EXIT_BUDGET;
        break;
    case LETHE_EMISMATCH:
        code = LETHE__EXIT_ID;
        break;
    case LETHE_EVERIFY:
        code = LETHE__EXIT_VERIFY;
        break;
    case LETHE_EDUPLICATE: /* in a batch of ids, or among the ids of a data file */
        code = phase == LETHE__PHASE_REMOVE ? LETHE__EXIT_ID : LETHE__EXIT_DATA;
        break;
    case LETHE_EIO:
        code = phase == LETHE__PHASE_OUTPUT ? LETHE__EXIT_FAILURE : LETHE__EXIT_DATA;
        break;
    case LETHE_EINVAL: /* while reading: options that do not fit the file */
        code = phase == LETHE__PHASE_INPUT ? LETHE__EXIT_DATA : LETHE__EXIT_FAILURE;
        break;
    case LETHE_EFORMAT:
    case LETHE_ENONFINITE:
    case LETHE_EEMPTY:
    case LETHE_ESIZE:
    case LETHE_ENORM:
    case LETHE_ELABEL:
        code = LETHE__EXIT_DATA;
        break;
    default:
        code = LETHE__EXIT_FAILURE;
        break;
    }
    const char *detail = lethe_ctx_errmsg(ctx);
    if (*detail != '\0')
        return lethe__cli_error(a->cmd, code, "%s: %s", lethe_strerror(st), detail);
    return lethe__cli_error(a->cmd, code, "%s", lethe_strerror(st));
}

/* Progress on stderr, only on a terminal and only once a command has run
 * for a second: one line, rewritten in place, cleared before the report. */
static struct {
    const char *cmd;
    double t0;
    int shown;
} progress;

static void show_progress(void *ud, const char *stage, double done, double total)
{
    (void)ud;
    if (lethe__cli_now() - progress.t0 < 1.0)
        return;
    if (total > 0.0)
        fprintf(stderr, "\rlethe: %s: %s (%.0f/%.0f)\033[K", progress.cmd, stage, done + 1.0,
                total);
    else
        fprintf(stderr, "\rlethe: %s: %s, step %.0f\033[K", progress.cmd, stage, done + 1.0);
    fflush(stderr);
    progress.shown = 1;
}

void lethe__cli_progress_clear(void)
{
    if (progress.shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress.shown = 0;
    }
}

int lethe__cli_context(lethe__cli_args *a, lethe_ctx **out)
{
    lethe_status st = lethe_ctx_create(NULL, out);
    if (st != LETHE_OK)
        return lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "cannot create a context: %s",
                                lethe_strerror(st));
    if (isatty(STDERR_FILENO)) {
        progress.cmd = a->cmd;
        progress.t0 = lethe__cli_now();
        lethe_ctx_set_progress(*out, show_progress, NULL);
    }
    /* testing only: end the process at a chosen durable write step */
    const char *crash = getenv("LETHE_TEST_CRASH_AFTER");
    uint64_t k = 0;
    if (crash != NULL && lethe__cli_parse_u64(crash, &k))
        lethe_ctx_set_crash_after(*out, (unsigned long)k);
    if (a->workspace != NULL) {
        st = lethe_workspace_open(*out, a->workspace, a->key_file, &a->ws);
        lethe_workspace_info info;
        if (st == LETHE_OK && lethe_workspace_status(a->ws, &info) == LETHE_OK &&
            info.recovered > 0)
            fprintf(stderr, "lethe: %s: an interrupted change was rolled %s (%zu leftover "
                            "files removed)\n",
                    a->workspace, "to a consistent generation", info.recovered);
    } else if (a->key_file != NULL) {
        st = lethe_ctx_set_key_file(*out, a->key_file);
    }
    if (st != LETHE_OK) {
        int rc = lethe__cli_status(a, *out, st, LETHE__PHASE_INPUT);
        lethe_ctx_free(*out);
        *out = NULL;
        return rc;
    }
    return 0;
}

void lethe__cli_finish(lethe__cli_args *a, lethe_ctx *ctx)
{
    lethe__cli_progress_clear();
    lethe_workspace_close(a->ws);
    a->ws = NULL;
    lethe_ctx_free(ctx);
}

/* Keep the records of the classes --classes listed (as read: the norm
 * policy already applied, the bound kept, or measured again when it was). */
static int keep_classes(const lethe__cli_args *a, lethe_ctx *ctx, lethe_dataset **ds)
{
    const size_t n = lethe_dataset_rows(*ds), d = lethe_dataset_cols(*ds);
    const double *x = lethe_dataset_x(*ds), *y = lethe_dataset_y(*ds);
    const uint64_t *ids = lethe_dataset_ids(*ds);
    double *kx = malloc(n * d * sizeof *kx), *ky = malloc(n * sizeof *ky);
    uint64_t *kid = malloc(n * sizeof *kid);
    if (kx == NULL || ky == NULL || kid == NULL) {
        free(kx);
        free(ky);
        free(kid);
        return lethe__cli_error(a->cmd, LETHE__EXIT_FAILURE, "no memory for %zu records", n);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int keep = 0;
        for (size_t t = 0; t < a->n_class_list && !keep; t++)
            keep = y[i] >= (double)a->class_list[t] && y[i] <= (double)a->class_list[t];
        if (!keep)
            continue;
        memcpy(kx + m * d, x + i * d, d * sizeof *kx);
        ky[m] = y[i];
        kid[m++] = ids[i];
    }
    const int measured = a->read.policy == LETHE_NORM_MEASURE;
    lethe_dataset *kept = NULL;
    lethe_status st = m == 0 ? LETHE_EEMPTY
                             : lethe_dataset_create(ctx, m, d, kx, d, ky, kid,
                                                    measured ? LETHE_NORM_MEASURE
                                                             : LETHE_NORM_REQUIRE,
                                                    lethe_dataset_norm_bound(*ds), &kept);
    free(kx);
    free(ky);
    free(kid);
    if (st != LETHE_OK)
        return st == LETHE_EEMPTY
                   ? lethe__cli_error(a->cmd, LETHE__EXIT_DATA,
                                      "%s: no record of the classes --classes lists", a->data)
                   : lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
    lethe_dataset_free(*ds);
    *ds = kept;
    return 0;
}

int lethe__cli_read_data(const lethe__cli_args *a, lethe_ctx *ctx, size_t dim,
                         lethe_dataset **out)
{
    lethe_read_options o = a->read;
    lethe_status st;
    switch (a->format) {
    case LETHE__FORMAT_IDX:
        st = lethe_dataset_read_idx(ctx, a->data, a->labels, &o, out);
        break;
    case LETHE__FORMAT_NPY:
        st = lethe_dataset_read_npy(ctx, a->data, a->labels, &o, out);
        break;
    case LETHE__FORMAT_LIBSVM:
        if (!(a->given & LETHE__OPT_DIM))
            o.dim = dim;
        st = lethe_dataset_read_libsvm(ctx, a->data, &o, out);
        break;
    default:
        st = lethe_dataset_read_csv(ctx, a->data, &o, out);
        break;
    }
    if (st != LETHE_OK)
        return lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
    return a->n_class_list > 0 ? keep_classes(a, ctx, out) : 0;
}

int lethe__cli_state_kind(const lethe__cli_args *a, lethe_ctx *ctx, int *rc)
{
    if (a->ws != NULL) {
        lethe_workspace_info info;
        lethe_workspace_status(a->ws, &info);
        if (info.mechanism == 0) {
            *rc = lethe__cli_error(a->cmd, LETHE__EXIT_USAGE,
                                   "%s holds no model yet: train one with 'lethe train "
                                   "--workspace %s --data FILE ...'",
                                   a->workspace, a->workspace);
            return 0;
        }
        *rc = 0;
        return info.mechanism;
    }
    lethe_mechanism mech;
    lethe_status st = lethe_state_mechanism(ctx, a->model, &mech);
    if (st != LETHE_OK) {
        *rc = lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
        return 0;
    }
    *rc = 0;
    return (int)mech;
}

int lethe__cli_load_m2(const lethe__cli_args *a, lethe_ctx *ctx, lethe_m2 **out)
{
    lethe_status st = a->ws != NULL ? lethe_workspace_load_m2(a->ws, out)
                                    : lethe_m2_load(ctx, a->model, out);
    return st == LETHE_OK ? 0 : lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
}

int lethe__cli_load_model(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model **out)
{
    lethe_status st = a->ws != NULL ? lethe_workspace_load_model(a->ws, out)
                                    : lethe_model_load(ctx, a->model, out);
    return st == LETHE_OK ? 0 : lethe__cli_status(a, ctx, st, LETHE__PHASE_INPUT);
}

int lethe__cli_save_model(const lethe__cli_args *a, lethe_ctx *ctx, lethe_model *m,
                          const uint64_t *ids, size_t k, const lethe_budget *before)
{
    lethe_status st;
    if (a->ws != NULL) {
        st = lethe_workspace_save_model(a->ws, m, ids, k, before);
    } else {
        st = lethe_model_save(m, a->model);
        if (st == LETHE_OK && a->public_path != NULL)
            st = lethe_model_save_public(m, a->public_path);
    }
    return st == LETHE_OK ? 0 : lethe__cli_status(a, ctx, st, LETHE__PHASE_OUTPUT);
}

int lethe__cli_save_m2(const lethe__cli_args *a, lethe_ctx *ctx, lethe_m2 *m,
                       const uint64_t *ids, size_t k, const lethe_m2_report *before)
{
    lethe_status st;
    if (a->ws != NULL) {
        st = lethe_workspace_save_m2(a->ws, m, ids, k, before);
    } else {
        st = lethe_m2_save(m, a->model);
        if (st == LETHE_OK && a->public_path != NULL)
            st = lethe_m2_save_public(m, a->public_path);
    }
    return st == LETHE_OK ? 0 : lethe__cli_status(a, ctx, st, LETHE__PHASE_OUTPUT);
}

/* Where the state lives, for messages. */
const char *lethe__cli_where(const lethe__cli_args *a)
{
    return a->workspace != NULL ? a->workspace : a->model;
}

double lethe__cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
