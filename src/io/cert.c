/*
 * Deletion certificates and their ledger: the owner's keys, the canonical
 * JSON form of a certificate, its strict parser, signing, and verification
 * of one file or of a whole ledger. The format is specified in lethe.h.
 *
 * What a verifier checks, besides syntax, signature and chain, is that the
 * numbers satisfy the condition the certificate claims:
 *   M1 (Guo, Goldstein, Hannun, van der Maaten, ICML 2020, Thm 3): ε ≤ 1,
 *      the charged residual r ≤ ε', and ε ≥ c(δ − δ_s)·(r + 65·g√d)/σ with
 *      c(δ) = √(2 ln(1.5/δ)) (proofs/certificate.md, LTH-C-0001). This is
 *      Guo et al.'s idealised statement, not a proven guarantee (gaps G1,
 *      G2, G4 in proofs/README.md), and r, ε' and what remains depend on
 *      the owner's secret b: the verifier checks that the owner's figures
 *      are consistent, and format 2 says so in the file (the statement);
 *   M2 (Sekhari et al. 2021; proofs/m2-removal.md): the release is μ-GDP
 *      with μ = Δ/σ, so δ ≥ δ_μ(ε) + δ_s (proofs/calibration.md, LTH-C-0007);
 *      in format 2 Δ itself is rebuilt from the public n, λ, R, tol, the
 *      capacity and d as lethe__m2_calibrate builds it: the Newton step's
 *      bound (LTH-C-0009), its rounding (LTH-C-0011) and g√d;
 *   M3 (proofs/m3-release.md, m3-accounting.md): nothing the owner computed
 *      is taken on trust. From the public parameters the verifier rebuilds
 *      the release sensitivity Δ ≥ base + g√d, base = Δ_max (with
 *      dp_releases 2Δ_max + 2R·sup|ℓ'|/(λ·n_min), sup|ℓ'| = 1 for the
 *      logistic, smooth-hinge and Huber losses), g the lattice step of σ; checks that σ calibrates Δ,
 *      δ ≥ δ_μ(ε) + δ_s with μ = Δ/σ (LTH-C-0012); and that the history of k
 *      releases, √k·μ-GDP, is not understated: μ_total ≥ √k·Δ/σ and
 *      ε_total ≥ the smallest ε with δ_{√k·μ}(ε) + (1 + e^ε)·k·d·τ ≤ δ
 *      (LTH-C-0013). Within a ledger consecutive M3 certificates count the
 *      releases one by one with the same public parameters, so that no
 *      release (and no privacy it spent) can go missing.
 * δ_s = (1 + e^ε)·d·τ is the noise sampler's share of δ, τ its per-coordinate
 * total-variation charge, and 65·g√d the lattice's distance from a
 * continuous Gaussian b (proofs/lattice-noise.md, LTH-C-0010).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/cert.h"
#include "features/features.h"

#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "certify/m2.h"
#include "dp/dp.h"
#include "io/read.h"
#include "io/sfile.h"

/* The formats read; the last is the one written. */
#define FORMAT_1 "lethe-certificate-1"
#define FORMAT_2 "lethe-certificate-2"
#define FORMAT_3 "lethe-certificate-3"
#define WARNING "seeded test stream: reproducible noise, not private"
/* M1's label in format 2: what its numbers are, and whose. */
#define STATEMENT                                                                          \
    "guo: Guo et al.'s idealised statement, not a proven guarantee; residual, budget and " \
    "remaining depend on the owner's secret noise b and are the owner's figures"
#define SK_MAGIC "LETHESK1"
#define SK_VERSION 1u
#define PK_PREFIX "lethe-ed25519-public "
/* Slack of the verifier's floating-point comparisons: 8 units of roundoff. */
#define ROUNDING (8.0 * 0x1p-53)
#define WHY_LEN 200

/* ─── Hex ────────────────────────────────────────────────────────────────── */

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* Exactly 2n lowercase hex digits (the one spelling of the format). */
static int from_hex(const char *s, size_t len, unsigned char *out, size_t n)
{
    if (len != 2 * n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int h = 0; h < 2; h++) {
            char ch = s[2 * i + (size_t)h];
            int x = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (x < 0)
                return 0;
            v = v << 4 | x;
        }
        out[i] = (unsigned char)v;
    }
    return 1;
}

/* ─── UTF-8 and time ─────────────────────────────────────────────────────── */

/* Length of the well-formed UTF-8 sequence of a non-ASCII lead byte at s
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp;
    size_t m;
    if (c >= 0xC2 && c <= 0xDF)
        m = 2, cp = c & 0x1Fu;
    else if (c >= 0xE0 && c <= 0xEF)
        m = 3, cp = c & 0x0Fu;
    else if (c >= 0xF0 && c <= 0xF4)
        m = 4, cp = c & 0x07u;
    else
        return 0;
    if (n < m)
        return 0;
    for (size_t k = 1; k < m; k++) {
        if ((s[k] & 0xC0u) != 0x80u)
            return 0;
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    if (m == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
        return 0;
    if (m == 4 && (cp < 0x10000 || cp > 0x10FFFF))
        return 0;
    return m;
}

static int utf8_valid(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    for (size_t i = 0; i < n;) {
        size_t m = s[i] < 0x80 ? 1 : utf8_len(s + i, n - i);
        if (m == 0)
            return 0;
        i += m;
    }
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SSZ", a real date (leap seconds allowed). */
static int time_valid(const char *t)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(t) != sizeof pattern - 1)
        return 0;
    for (size_t i = 0; i < sizeof pattern - 1; i++)
        if (pattern[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != pattern[i])
            return 0;
#define NUM2(p) ((t[p] - '0') * 10 + (t[(p) + 1] - '0'))
    int year = NUM2(0) * 100 + NUM2(2), month = NUM2(5), day = NUM2(8);
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month < 1 || month > 12 || day < 1 ||
        day > mdays[month - 1] + (month == 2 && leap))
        return 0;
    return NUM2(11) <= 23 && NUM2(14) <= 59 && NUM2(17) <= 60;
#undef NUM2
}

/* ─── Canonical serialisation ────────────────────────────────────────────── */

/* A growing byte buffer on the context, at most LETHE__CERT_MAX_BYTES. */
typedef struct sbuf {
    lethe_ctx *ctx;
    char *p;
    size_t n, cap;
    int err; /* 1: no memory, 2: over the size limit */
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (n > LETHE__CERT_MAX_BYTES - b->n) {
        b->err = 2;
        return;
    }
    if (b->n + n > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        while (cap < b->n + n)
            cap *= 2;
        char *q = lethe__read_resize(b->ctx, b->p, b->n, cap);
        if (q == NULL) {
            b->err = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_json_string(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8] = { '\\', 0 };
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (ch < 0x20)
                snprintf(esc, sizeof esc, "\\u%04x", (unsigned)ch);
        }
        if (esc[1] != 0)
            sb_puts(b, esc);
        else
            sb_put(b, s, 1);
    }
    sb_put(b, "\"", 1);
}

static void member(sbuf *b, const char *key)
{
    sb_puts(b, b->n == 0 ? "{\n  \"" : ",\n  \"");
    sb_puts(b, key);
    sb_puts(b, "\": ");
}

static void member_str(sbuf *b, const char *key, const char *v)
{
    member(b, key);
    sb_json_string(b, v);
}

static void member_u64(sbuf *b, const char *key, uint64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    member(b, key);
    sb_puts(b, t);
}

static void member_num(sbuf *b, const char *key, double v)
{
    char t[40];
    snprintf(t, sizeof t, "%.17g", v);
    member(b, key);
    sb_puts(b, t);
}

static void member_hex(sbuf *b, const char *key, const unsigned char *v, size_t n)
{
    char t[2 * 64 + 1];
    to_hex(v, n, t);
    member(b, key);
    sb_put(b, "\"", 1);
    sb_puts(b, t);
    sb_put(b, "\"", 1);
}

/* The mechanism as the format spells it ("M1", "M2", "M3"). */
static const char *mech_name(lethe_mechanism m)
{
    return m == LETHE_MECH_M1 ? "M1" : m == LETHE_MECH_M2 ? "M2" : "M3";
}

static void member_bool(sbuf *b, const char *key, int v)
{
    member(b, key);
    sb_puts(b, v ? "true" : "false");
}

/* The canonical bytes of r, with or without the signature member. */
static void serialize(sbuf *b, const lethe__cert_rec *r, int with_sig)
{
    const lethe_certificate *c = &r->c;
    const int v2 = c->format >= 2;
    member_str(b, "format", c->format == 3 ? FORMAT_3 : v2 ? FORMAT_2 : FORMAT_1);
    member_u64(b, "seq", c->seq);
    member_str(b, "time", c->time);
    member_str(b, "mechanism", mech_name(c->mechanism));
    if (v2 && c->mechanism == LETHE_MECH_M1)
        member_str(b, "statement", STATEMENT);
    member_str(b, "sampler", c->sampler);
    member_bool(b, "seeded", c->seeded);
    if (c->seeded)
        member_str(b, "warning", WARNING);
    member_u64(b, "d", c->d);
    if (c->format >= 3) {
        member_u64(b, "classes", c->classes);
        member_str(b, "features", c->features);
        member_str(b, "features_hash", c->features_hash);
    }
    member_num(b, "epsilon", c->epsilon);
    member_num(b, "delta", c->delta);
    member_num(b, "sigma", c->sigma);
    member_u64(b, "k", c->k);
    member(b, "ids");
    sb_put(b, "[", 1);
    for (size_t i = 0; i < c->k; i++) {
        char t[65];
        to_hex(r->idh[i], 32, t);
        sb_puts(b, i == 0 ? "\n    \"" : ",\n    \"");
        sb_puts(b, t);
        sb_put(b, "\"", 1);
    }
    sb_puts(b, "\n  ]");
    if (c->mechanism == LETHE_MECH_M1) {
        member_num(b, "residual", c->residual);
        member_num(b, "budget", c->budget);
        member_num(b, "remaining_before", c->remaining_before);
        member_num(b, "remaining_after", c->remaining_after);
    } else if (c->mechanism == LETHE_MECH_M2) {
        if (v2) {
            member_u64(b, "n", c->n);
            member_num(b, "lambda", c->lambda);
            member_num(b, "R", c->R);
            member_num(b, "tol", c->tol);
        }
        member_num(b, "sensitivity", c->sensitivity);
        member_u64(b, "capacity", c->capacity);
        member_u64(b, "used_before", c->used_before);
        member_u64(b, "used_after", c->used_after);
    } else {
        member_str(b, "loss", lethe_loss_name(c->loss));
        member_u64(b, "n", c->n);
        member_num(b, "lambda", c->lambda);
        member_num(b, "R", c->R);
        member_num(b, "delta_max", c->delta_max);
        member_bool(b, "dp_releases", c->dp_releases);
        member_u64(b, "dp_min_records", c->dp_min_records);
        member_num(b, "sensitivity", c->sensitivity);
        member_u64(b, "releases", c->releases);
        member_num(b, "mu_total", c->mu_total);
        member_num(b, "epsilon_total", c->epsilon_total);
    }
    member_hex(b, "model_before", r->model_before, 32);
    member_hex(b, "model_after", r->model_after, 32);
    member_hex(b, "prev", r->prev, 32);
    member_hex(b, "public_key", r->pk, 32);
    if (with_sig)
        member_hex(b, "signature", r->sig, 64);
    sb_puts(b, "\n}\n");
}

/* ─── Strict parser ──────────────────────────────────────────────────────── */

enum {
    K_FORMAT, K_SEQ, K_TIME, K_MECHANISM, K_STATEMENT, K_SAMPLER, K_SEEDED, K_WARNING, K_D,
    K_EPSILON, K_DELTA, K_SIGMA, K_K, K_IDS, K_RESIDUAL, K_BUDGET, K_REMAINING_BEFORE,
    K_REMAINING_AFTER, K_SENSITIVITY, K_CAPACITY, K_USED_BEFORE, K_USED_AFTER, K_LOSS, K_N,
    K_LAMBDA, K_R, K_TOL, K_DELTA_MAX, K_DP_RELEASES, K_DP_MIN_RECORDS, K_RELEASES, K_MU_TOTAL,
    K_EPSILON_TOTAL, K_MODEL_BEFORE, K_MODEL_AFTER, K_PREV, K_PUBLIC_KEY, K_SIGNATURE,
    K_FEATURES, K_FEATURES_HASH, K_CLASSES, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "format", "seq", "time", "mechanism", "statement", "sampler", "seeded", "warning", "d",
    "epsilon", "delta", "sigma", "k", "ids", "residual", "budget", "remaining_before",
    "remaining_after", "sensitivity", "capacity", "used_before", "used_after", "loss", "n",
    "lambda", "R", "tol", "delta_max", "dp_releases", "dp_min_records", "releases", "mu_total",
    "epsilon_total", "model_before", "model_after", "prev", "public_key", "signature",
    "features", "features_hash", "classes",
};

#define BIT(k) ((uint64_t)1 << (k))
/* The members of each mechanism in format 1; format 2 adds KEYS_M1_V2 to M1
 * and KEYS_M2_V2 to M2. */
#define KEYS_M1 (BIT(K_RESIDUAL) | BIT(K_BUDGET) | BIT(K_REMAINING_BEFORE) | BIT(K_REMAINING_AFTER))
#define KEYS_M2 (BIT(K_SENSITIVITY) | BIT(K_CAPACITY) | BIT(K_USED_BEFORE) | BIT(K_USED_AFTER))
#define KEYS_M3 (BIT(K_LOSS) | BIT(K_N) | BIT(K_LAMBDA) | BIT(K_R) | BIT(K_DELTA_MAX) |         \
                 BIT(K_DP_RELEASES) | BIT(K_DP_MIN_RECORDS) | BIT(K_SENSITIVITY) |              \
                 BIT(K_RELEASES) | BIT(K_MU_TOTAL) | BIT(K_EPSILON_TOTAL))
#define KEYS_M1_V2 BIT(K_STATEMENT)
#define KEYS_M2_V2 (BIT(K_N) | BIT(K_LAMBDA) | BIT(K_R) | BIT(K_TOL))
#define KEYS_V3 (BIT(K_FEATURES) | BIT(K_FEATURES_HASH) | BIT(K_CLASSES))
#define KEYS_ALL (BIT(K_COUNT) - 1)

typedef struct parser {
    lethe_ctx *ctx;
    const unsigned char *s;
    size_t n, i;
    char *why;
    size_t why_len;
    int nomem;
} parser;

static int perr(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record why (with the byte offset) and return 0. */
static int perr(parser *p, const char *fmt, ...)
{
    char t[WHY_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    snprintf(p->why, p->why_len, "%s (at byte %zu)", t, p->i);
    return 0;
}

/* A decoded string for messages: printable ASCII only. */
static const char *printable(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s != '\0' && o + 1 < len; s++)
        out[o++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
    out[o] = '\0';
    return out;
}

static void skip_ws(parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
        p->i++;
}

static int accept(parser *p, char ch)
{
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == (unsigned char)ch) {
        p->i++;
        return 1;
    }
    return 0;
}

static int hex4(parser *p, unsigned *out)
{
    unsigned v = 0;
    if (p->n - p->i < 4)
        return perr(p, "truncated \\u escape");
    for (int k = 0; k < 4; k++) {
        unsigned char ch = p->s[p->i++];
        int x = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (x < 0)
            return perr(p, "bad \\u escape");
        v = v << 4 | (unsigned)x;
    }
    *out = v;
    return 1;
}

/* One escape after the backslash, as UTF-8 into enc; its length or 0. */
static size_t escape(parser *p, unsigned char enc[4])
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (p->i >= p->n)
        return (size_t)perr(p, "unterminated string");
    unsigned char e = p->s[p->i++];
    const char *f = e != 0 ? strchr(from, e) : NULL;
    if (f != NULL) {
        enc[0] = (unsigned char)to[f - from];
        return 1;
    }
    if (e != 'u')
        return (size_t)perr(p, "bad escape \\%c", e >= 0x20 && e < 0x7f ? e : '?');
    unsigned cp, lo;
    if (!hex4(p, &cp))
        return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return (size_t)perr(p, "lone low surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
            return (size_t)perr(p, "lone high surrogate in a \\u escape");
        p->i += 2;
        if (!hex4(p, &lo))
            return 0;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return (size_t)perr(p, "bad surrogate pair in a \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return (size_t)perr(p, "\\u0000 in a string");
    if (cp < 0x80) {
        enc[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        enc[0] = (unsigned char)(0xC0 | cp >> 6);
        enc[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        enc[0] = (unsigned char)(0xE0 | cp >> 12);
        enc[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        enc[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    enc[0] = (unsigned char)(0xF0 | cp >> 18);
    enc[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    enc[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    enc[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON string, decoded (UTF-8, NUL-terminated) into out[0..cap-1]. */
static int parse_string(parser *p, char *out, size_t cap, size_t *len)
{
    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != '"')
        return perr(p, "expected a string");
    p->i++;
    size_t o = 0;
    for (;;) {
        if (p->i >= p->n)
            return perr(p, "unterminated string");
        unsigned char ch = p->s[p->i], enc[4];
        size_t m = 1;
        if (ch == '"') {
            p->i++;
            break;
        }
        if (ch < 0x20)
            return perr(p, "control character in a string");
        if (ch == '\\') {
            p->i++;
            if ((m = escape(p, enc)) == 0)
                return 0;
        } else if (ch < 0x80) {
            enc[0] = ch;
            p->i++;
        } else {
            if ((m = utf8_len(p->s + p->i, p->n - p->i)) == 0)
                return perr(p, "invalid UTF-8 in a string");
            memcpy(enc, p->s + p->i, m);
            p->i += m;
        }
        if (m >= cap - o)
            return perr(p, "string too long");
        memcpy(out + o, enc, m);
        o += m;
    }
    out[o] = '\0';
    *len = o;
    return 1;
}

/* A JSON number's text (RFC 8259 grammar) copied into t; *integer if it
 * has neither sign, fraction nor exponent. */
static int number_text(parser *p, char *t, size_t cap, int *integer)
{
    skip_ws(p);
    size_t b = p->i;
    const unsigned char *s = p->s;
#define DIGIT (p->i < p->n && s[p->i] >= '0' && s[p->i] <= '9')
    *integer = 1;
    if (p->i < p->n && s[p->i] == '-') {
        p->i++;
        *integer = 0;
    }
    if (p->i < p->n && s[p->i] == '0')
        p->i++;
    else if (DIGIT)
        while (DIGIT)
            p->i++;
    else
        return perr(p, "expected a number");
    if (p->i < p->n && s[p->i] == '.') {
        *integer = 0;
        p->i++;
        if (!DIGIT)
            return perr(p, "expected a digit after '.'");
        while (DIGIT)
            p->i++;
    }
    if (p->i < p->n && (s[p->i] == 'e' || s[p->i] == 'E')) {
        *integer = 0;
        p->i++;
        if (p->i < p->n && (s[p->i] == '+' || s[p->i] == '-'))
            p->i++;
        if (!DIGIT)
            return perr(p, "expected a digit in an exponent");
        while (DIGIT)
            p->i++;
    }
#undef DIGIT
    if (p->i - b >= cap)
        return perr(p, "number too long");
    memcpy(t, s + b, p->i - b);
    t[p->i - b] = '\0';
    return 1;
}

static int parse_double(parser *p, double *out)
{
    char t[48];
    int integer;
    if (!number_text(p, t, sizeof t, &integer))
        return 0;
    double v = strtod(t, NULL);
    if (!isfinite(v))
        return perr(p, "number out of range");
    *out = v;
    return 1;
}

static int parse_u64(parser *p, uint64_t *out)
{
    char t[24];
    int integer;
    if (!number_text(p, t, sizeof t, &integer))
        return 0;
    if (!integer)
        return perr(p, "expected an integer ≥ 0");
    uint64_t v = 0;
    for (const char *c = t; *c != '\0'; c++) {
        if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
            return perr(p, "integer out of range");
        v = v * 10 + (uint64_t)(*c - '0');
    }
    *out = v;
    return 1;
}

static int parse_size(parser *p, size_t *out)
{
    uint64_t v = 0;
    if (!parse_u64(p, &v))
        return 0;
    if (v > SIZE_MAX)
        return perr(p, "integer out of range");
    *out = (size_t)v;
    return 1;
}

static int parse_hex(parser *p, const char *key, unsigned char *out, size_t n)
{
    char t[2 * 64 + 2];
    size_t len;
    if (!parse_string(p, t, sizeof t, &len))
        return 0;
    if (!from_hex(t, len, out, n))
        return perr(p, "\"%s\" is not %zu lowercase hex digits", key, 2 * n);
    return 1;
}

static int parse_ids(parser *p, lethe__cert_rec *r, size_t *count)
{
    size_t cap = 0;
    *count = 0;
    if (!accept(p, '['))
        return perr(p, "expected '[' after \"ids\"");
    if (accept(p, ']'))
        return 1;
    do {
        if (*count == cap) {
            size_t ncap = cap == 0 ? 16 : 2 * cap;
            void *q = lethe__read_resize(p->ctx, r->idh, cap * 32, ncap * 32);
            if (q == NULL) {
                p->nomem = 1;
                return 0;
            }
            r->idh = q;
            cap = ncap;
        }
        if (!parse_hex(p, "ids", r->idh[*count], 32))
            return 0;
        if (*count > 0 && memcmp(r->idh[*count - 1], r->idh[*count], 32) >= 0)
            return perr(p, "the id hashes are not in strictly increasing order");
        ++*count;
    } while (accept(p, ','));
    if (!accept(p, ']'))
        return perr(p, "expected ',' or ']' in \"ids\"");
    return 1;
}

/* true or false, into *out (1 or 0). */
static int parse_bool(parser *p, const char *key, int *out)
{
    skip_ws(p);
    if (p->n - p->i >= 4 && memcmp(p->s + p->i, "true", 4) == 0) {
        p->i += 4;
        *out = 1;
    } else if (p->n - p->i >= 5 && memcmp(p->s + p->i, "false", 5) == 0) {
        p->i += 5;
        *out = 0;
    } else {
        return perr(p, "%s is neither true nor false", key);
    }
    return 1;
}

static int parse_value(parser *p, int k, lethe__cert_rec *r, size_t *n_ids)
{
    lethe_certificate *c = &r->c;
    char t[LETHE__CERT_SAMPLER_MAX + 1];
    size_t len;
    switch (k) {
    case K_FORMAT:
        if (!parse_string(p, t, sizeof t, &len))
            return 0;
        c->format = strcmp(t, FORMAT_1) == 0   ? 1u
                    : strcmp(t, FORMAT_2) == 0 ? 2u
                    : strcmp(t, FORMAT_3) == 0 ? 3u
                                               : 0u;
        return c->format != 0 ? 1
                              : perr(p, "format is not \"" FORMAT_1 "\", \"" FORMAT_2
                                        "\" or \"" FORMAT_3 "\"");
    case K_CLASSES:
        return parse_size(p, &c->classes);
    case K_FEATURES:
        if (!parse_string(p, c->features, sizeof c->features, &len))
            return 0;
        return len > 0 ? 1 : perr(p, "empty features");
    case K_FEATURES_HASH:
        if (!parse_string(p, c->features_hash, sizeof c->features_hash, &len))
            return 0;
        unsigned char fh[32];
        return from_hex(c->features_hash, len, fh, 32)
                   ? 1
                   : perr(p, "features_hash is not 64 lowercase hex digits");
    case K_STATEMENT:
        if (!parse_string(p, t, sizeof t, &len))
            return 0;
        return strcmp(t, STATEMENT) == 0 ? 1 : perr(p, "statement is not guo's fixed text");
    case K_TIME:
        if (!parse_string(p, t, sizeof t, &len))
            return 0;
        if (!time_valid(t))
            return perr(p, "time is not a UTC time YYYY-MM-DDTHH:MM:SSZ");
        memcpy(c->time, t, len + 1);
        return 1;
    case K_MECHANISM:
        if (!parse_string(p, t, sizeof t, &len))
            return 0;
        if (strcmp(t, "M1") != 0 && strcmp(t, "M2") != 0 && strcmp(t, "M3") != 0)
            return perr(p, "mechanism is neither \"M1\", \"M2\" nor \"M3\"");
        c->mechanism = t[1] == '1' ? LETHE_MECH_M1 : t[1] == '2' ? LETHE_MECH_M2 : LETHE_MECH_M3;
        return 1;
    case K_LOSS:
        if (!parse_string(p, t, sizeof t, &len))
            return 0;
        if (lethe_loss_from_name(t, &c->loss) != LETHE_OK)
            return perr(p, "loss is not \"logistic\", \"squared\", \"smooth-hinge\" or "
                           "\"huber\"");
        return 1;
    case K_SAMPLER:
        if (!parse_string(p, r->sampler_buf, sizeof r->sampler_buf, &len))
            return 0;
        return len > 0 ? 1 : perr(p, "empty sampler name");
    case K_WARNING:
        if (!parse_string(p, t, sizeof t, &len))
            return 0;
        return strcmp(t, WARNING) == 0 ? 1 : perr(p, "warning is not \"" WARNING "\"");
    case K_SEEDED: return parse_bool(p, key_names[k], &c->seeded);
    case K_DP_RELEASES: return parse_bool(p, key_names[k], &c->dp_releases);
    case K_SEQ: return parse_u64(p, &c->seq);
    case K_RELEASES: return parse_u64(p, &c->releases);
    case K_N: return parse_size(p, &c->n);
    case K_DP_MIN_RECORDS: return parse_size(p, &c->dp_min_records);
    case K_D: return parse_size(p, &c->d);
    case K_K: return parse_size(p, &c->k);
    case K_CAPACITY: return parse_size(p, &c->capacity);
    case K_USED_BEFORE: return parse_size(p, &c->used_before);
    case K_USED_AFTER: return parse_size(p, &c->used_after);
    case K_EPSILON: return parse_double(p, &c->epsilon);
    case K_DELTA: return parse_double(p, &c->delta);
    case K_SIGMA: return parse_double(p, &c->sigma);
    case K_RESIDUAL: return parse_double(p, &c->residual);
    case K_BUDGET: return parse_double(p, &c->budget);
    case K_REMAINING_BEFORE: return parse_double(p, &c->remaining_before);
    case K_REMAINING_AFTER: return parse_double(p, &c->remaining_after);
    case K_SENSITIVITY: return parse_double(p, &c->sensitivity);
    case K_LAMBDA: return parse_double(p, &c->lambda);
    case K_R: return parse_double(p, &c->R);
    case K_TOL: return parse_double(p, &c->tol);
    case K_DELTA_MAX: return parse_double(p, &c->delta_max);
    case K_MU_TOTAL: return parse_double(p, &c->mu_total);
    case K_EPSILON_TOTAL: return parse_double(p, &c->epsilon_total);
    case K_IDS: return parse_ids(p, r, n_ids);
    case K_MODEL_BEFORE: return parse_hex(p, key_names[k], r->model_before, 32);
    case K_MODEL_AFTER: return parse_hex(p, key_names[k], r->model_after, 32);
    case K_PREV: return parse_hex(p, key_names[k], r->prev, 32);
    case K_PUBLIC_KEY: return parse_hex(p, key_names[k], r->pk, 32);
    default: return parse_hex(p, key_names[k], r->sig, 64);
    }
}

/* The members, in any order, each once; 1 with *seen set, or 0. */
static int parse_object(parser *p, lethe__cert_rec *r, uint64_t *seen, size_t *n_ids)
{
    char key[64], pk[64];
    size_t len;
    if (!accept(p, '{'))
        return perr(p, "expected '{'");
    if (accept(p, '}'))
        return perr(p, "empty object");
    do {
        if (!parse_string(p, key, sizeof key, &len))
            return 0;
        int k = 0;
        while (k < K_COUNT && strcmp(key, key_names[k]) != 0)
            k++;
        if (k == K_COUNT)
            return perr(p, "unknown member \"%s\"", printable(key, pk, sizeof pk));
        if (*seen & BIT(k))
            return perr(p, "duplicate member \"%s\"", key);
        *seen |= BIT(k);
        if (!accept(p, ':'))
            return perr(p, "expected ':' after \"%s\"", key);
        if (!parse_value(p, k, r, n_ids))
            return 0;
    } while (accept(p, ','));
    if (!accept(p, '}'))
        return perr(p, "expected ',' or '}'");
    skip_ws(p);
    if (p->i != p->n)
        return perr(p, "trailing bytes after the object");
    return 1;
}

void lethe__cert_rec_free(lethe_ctx *ctx, lethe__cert_rec *r)
{
    lethe__free(ctx, r->idh);
    r->idh = NULL;
}

lethe_status lethe__cert_parse(lethe_ctx *ctx, const unsigned char *buf, size_t len,
                               lethe__cert_rec *r, char *why, size_t why_len)
{
    memset(r, 0, sizeof *r);
    r->c.sampler = r->sampler_buf;
    parser p = { ctx, buf, len, 0, why, why_len, 0 };
    uint64_t seen = 0;
    size_t n_ids = 0;
    int ok = parse_object(&p, r, &seen, &n_ids);
    if (p.nomem) {
        lethe__cert_rec_free(ctx, r);
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory for the ids of a certificate");
    }
    if (ok) {
        const int v2 = r->c.format >= 2;
        uint64_t want = KEYS_ALL & ~(KEYS_M1 | KEYS_M2 | KEYS_M3 | KEYS_M1_V2 | KEYS_M2_V2 |
                                     KEYS_V3 | BIT(K_WARNING));
        want |= r->c.format >= 3 ? KEYS_V3 : 0;
        want |= r->c.mechanism == LETHE_MECH_M1   ? KEYS_M1 | (v2 ? KEYS_M1_V2 : 0)
                : r->c.mechanism == LETHE_MECH_M2 ? KEYS_M2 | (v2 ? KEYS_M2_V2 : 0)
                                                  : KEYS_M3;
        want |= r->c.seeded ? BIT(K_WARNING) : 0;
        for (int k = 0; k < K_COUNT && ok; k++) {
            if ((want & BIT(k)) && !(seen & BIT(k)))
                ok = perr(&p, "missing member \"%s\"", key_names[k]);
            else if (!(want & BIT(k)) && (seen & BIT(k)))
                ok = perr(&p, "member \"%s\" does not belong in this certificate",
                          key_names[k]);
        }
    }
    if (ok && n_ids != r->c.k)
        ok = perr(&p, "k = %zu but \"ids\" holds %zu", r->c.k, n_ids);
    if (ok) {
        /* one spelling: what was read, written again, must be the file */
        sbuf b = { .ctx = ctx };
        serialize(&b, r, 1);
        size_t at = 0; /* the first byte that differs */
        while (b.err == 0 && at < len && at < b.n && buf[at] == (unsigned char)b.p[at])
            at++;
        int same = b.err == 0 && at == len && at == b.n, nomem = b.err == 1;
        lethe__free(ctx, b.p);
        if (nomem) {
            lethe__cert_rec_free(ctx, r);
            return lethe__fail(ctx, LETHE_ENOMEM, "no memory to check a certificate");
        }
        if (!same) {
            p.i = at;
            ok = perr(&p, "not in canonical form (spacing, member order or number spelling)");
        }
    }
    if (!ok) {
        lethe__cert_rec_free(ctx, r);
        return LETHE_EVERIFY;
    }
    return LETHE_OK;
}

/* ─── The numbers ────────────────────────────────────────────────────────── */

/* Slack of ε_total against the verifier's own ε(δ) of the history: the
 * bisections of lethe__epsilon_with_sampler stop at about 1e-12 (relative)
 * and another libm may round δ_GDP differently in its last bits; 1e-9 is
 * far above both and far below an understatement that would matter. */
#define EPS_TOTAL_SLACK 1e-9

/* The release is μ-GDP with μ = Δ/σ (LTH-C-0007): δ ≥ δ_μ(ε) + tv, tv the
 * sampler's share. 1 if so; else 0 and why. */
static int gdp_ok(const lethe_certificate *c, double tv, char *why, size_t len)
{
    double need = lethe_gdp_delta(c->sensitivity / c->sigma, c->epsilon) + tv;
    if (!(c->sensitivity > 0.0) || !(c->delta * (1.0 + ROUNDING) >= need)) {
        snprintf(why, len, "δ = %.17g is below δ(ε) of μ-GDP with μ = Δ/σ, plus the "
                           "sampler's charge: %.17g", c->delta, need);
        return 0;
    }
    return 1;
}

static int m1_ok(const lethe_certificate *c, double tv, char *why, size_t len)
{
    const double r = c->residual, eb = c->budget;
    if (!(r >= 0.0) || !(eb > 0.0)) {
        snprintf(why, len, "residual %.17g or budget %.17g out of range", r, eb);
        return 0;
    }
    if (!(r <= eb)) {
        snprintf(why, len, "residual %.17g exceeds the budget %.17g", r, eb);
        return 0;
    }
    if (!(fabs(c->remaining_after - (eb - r)) <= ROUNDING * (eb + r))) {
        snprintf(why, len, "remaining_after %.17g is not budget − residual = %.17g",
                 c->remaining_after, eb - r);
        return 0;
    }
    if (!(c->delta > tv)) {
        snprintf(why, len, "δ = %.17g does not exceed the sampler's charge %.17g", c->delta,
                 tv);
        return 0;
    }
    if (!(c->epsilon <= 1.0)) {
        snprintf(why, len, "ε = %.17g: M1's calibration c(δ) is proven for ε ≤ 1 only",
                 c->epsilon);
        return 0;
    }
    /* Guo et al. Thm 3: ε ≥ c(δ')·(r + 65·g√d)/σ, δ' = δ − (1 + e^ε)·d·τ,
     * with the lattice's coupling distance 65·g√d (LTH-C-0010 §7.1) */
    lethe_lattice lat;
    double rl = r;
    if (lethe__lattice_params(c->sigma, &lat) == LETHE_OK)
        rl += 65.0 * lethe__lattice_rounding(&lat, c->d);
    else
        rl = INFINITY;
    double need = lethe_guo_c(c->delta - tv) * rl / c->sigma;
    if (!(c->epsilon * (1.0 + ROUNDING) >= need)) {
        snprintf(why, len, "ε = %.17g is below c(δ − δ_s)·residual/σ = %.17g", c->epsilon,
                 need);
        return 0;
    }
    return 1;
}

/* x is finite and > 0. */
static int positive(double x)
{
    return x > 0.0 && isfinite(x);
}

/* The release's sensitivity against the one the verifier rebuilds, base +
 * g√d with g the lattice step of σ (LTH-C-0010 §6.2); what names base's
 * sources for the message. 1 if Δ ≥ (base + g√d)·(1 − 8u); else 0 and why. */
static int sensitivity_ok(const lethe_certificate *c, double base, const char *what,
                          char *why, size_t len)
{
    lethe_lattice lat;
    if (lethe__lattice_params(c->sigma, &lat) != LETHE_OK) {
        snprintf(why, len, "σ = %.17g is outside the noise sampler's range", c->sigma);
        return 0;
    }
    const double sens = (base + lethe__lattice_rounding(&lat, c->d)) * (1.0 - ROUNDING);
    if (!(c->sensitivity >= sens) || !isfinite(c->sensitivity)) {
        snprintf(why, len, "sensitivity %.17g is below the %.17g that %s and the lattice "
                           "step g = %.17g give", c->sensitivity, sens, what, lat.g);
        return 0;
    }
    return 1;
}

/* M2 in format 2: Δ rebuilt from the public parameters as
 * lethe__m2_calibrate builds it (lethe__m2_base): the Newton step's bound for m = the
 * capacity (LTH-C-0009) plus its rounding (LTH-C-0011), L = 2R and
 * M = γ_z·R³ for the logistic loss (LTH-C-0004). */
static int m2_sensitivity_ok(const lethe_certificate *c, char *why, size_t len)
{
    if (!positive(c->lambda) || !positive(c->R) || !positive(c->tol) || c->capacity == 0 ||
        c->capacity > c->n / 2) {
        snprintf(why, len, "an M2 parameter is out of range (λ, R and tol finite and > 0; "
                           "1 ≤ capacity ≤ n/2)");
        return 0;
    }
    const double base = lethe__m2_base(c->R, c->lambda, c->n, c->capacity, c->d, c->tol, NULL);
    if (!isfinite(base)) {
        snprintf(why, len, "n = %zu, d = %zu, R = %.17g, λ = %.17g are outside the range where "
                           "the Newton step's rounding is bounded (LTH-C-0011)", c->n, c->d,
                 c->R, c->lambda);
        return 0;
    }
    return sensitivity_ok(c, base, "n, λ, R, tol and the capacity", why, len);
}

static int m2_ok(const lethe_certificate *c, double tv, char *why, size_t len)
{
    if (c->used_after < c->used_before || c->used_after - c->used_before != c->k) {
        snprintf(why, len, "used_after %zu is not used_before %zu + k %zu", c->used_after,
                 c->used_before, c->k);
        return 0;
    }
    if (c->used_after > c->capacity) {
        snprintf(why, len, "used_after %zu exceeds the capacity %zu", c->used_after,
                 c->capacity);
        return 0;
    }
    if (c->format >= 2 && !m2_sensitivity_ok(c, why, len))
        return 0;
    return gdp_ok(c, tv, why, len);
}

/* M3: the sensitivity, σ and the history's charges, recomputed from the
 * public parameters (LTH-C-0012, LTH-C-0013). */
static int m3_ok(const lethe_certificate *c, double tv, char *why, size_t len)
{
    if (c->n == 0 || !positive(c->lambda) || !positive(c->R) || !positive(c->delta_max) ||
        (unsigned)c->loss >= LETHE_LOSS_COUNT) {
        snprintf(why, len, "an M3 parameter is out of range (n ≥ 1; λ, R and Δ_max finite "
                           "and > 0; a known loss)");
        return 0;
    }
    if (c->releases < 2) {
        snprintf(why, len, "releases = %llu: the first certified release is the model's "
                           "second (the one made at training has no certificate)",
                 (unsigned long long)c->releases);
        return 0;
    }
    if ((c->dp_releases != 0 && c->dp_releases != 1) ||
        (c->dp_min_records == 0) != (c->dp_releases == 0)) {
        snprintf(why, len, "dp_min_records = %zu: it is ≥ 1 with dp_releases and 0 without",
                 c->dp_min_records);
        return 0;
    }
    if (c->dp_releases && c->n < c->dp_min_records) {
        snprintf(why, len, "n = %zu is below dp_min_records = %zu: DP releases were not "
                           "calibrated for so few records", c->n, c->dp_min_records);
        return 0;
    }
    if (c->dp_releases && c->loss == LETHE_LOSS_SQUARED) {
        snprintf(why, len, "dp_releases needs a loss with bounded ℓ'; the squared loss has "
                           "no ERM sensitivity");
        return 0;
    }
    /* base = Δ_max, or with DP releases 2Δ_max + 2R·sup|ℓ'|/(λ·n_min), sup|ℓ'| = 1
     * for the logistic, smooth-hinge and Huber losses (LTH-C-0004), as the
     * library calibrates it; then
     * the lattice adds g√d (LTH-C-0010 §6.2). With K heads (one-vs-rest) a
     * record moves each head's minimiser, so the concatenation's ERM term has
     * √K·R in place of R. */
    const double C = c->format >= 3 && c->classes > 1
                         ? c->R * sqrt((double)c->classes) * (1.0 + 0x1p-50)
                         : c->R;
    const double base = lethe__m3_base(c->delta_max, c->dp_releases, C, c->lambda,
                                       c->dp_min_records, NULL);
    if (!sensitivity_ok(c, base, c->dp_releases ? "Δ_max, the ERM's sensitivity" : "Δ_max",
                        why, len) ||
        !gdp_ok(c, tv, why, len))
        return 0;
    /* the published history: √k·μ-GDP and (1 + e^ε)·k·d·τ more in δ */
    const double mu = sqrt((double)c->releases) * c->sensitivity / c->sigma;
    if (!(c->mu_total >= mu * (1.0 - ROUNDING))) {
        snprintf(why, len, "mu_total %.17g is below √releases·Δ/σ = %.17g", c->mu_total, mu);
        return 0;
    }
    size_t units = 0;
    double e = NAN;
    if (c->releases > SIZE_MAX || !lethe__mul_size((size_t)c->releases, c->d, &units) ||
        lethe__epsilon_with_sampler(mu, units, c->delta, &e) != LETHE_OK) {
        snprintf(why, len, "no ε reaches δ = %.17g for a history of %llu releases",
                 c->delta, (unsigned long long)c->releases);
        return 0;
    }
    if (!(c->epsilon_total >= e * (1.0 - EPS_TOTAL_SLACK)) || !isfinite(c->epsilon_total)) {
        snprintf(why, len, "epsilon_total %.17g is below the ε = %.17g at δ of %llu releases "
                           "(√k·μ-GDP with the sampler's charge)", c->epsilon_total, e,
                 (unsigned long long)c->releases);
        return 0;
    }
    return 1;
}

/* 1 if the numbers are consistent (see lethe_cert_verify); else 0 and why. */
/* Format 3: features_hash is the BLAKE2b-256 of features, and the map's
 * widths give d (D for a random map, else in; one more with an intercept).
 * The description itself is the owner's: the verifier checks that it is
 * one, not which map it names (LTH-C-0015). */
static int features_ok(const lethe_certificate *c, char *why, size_t len)
{
    unsigned char h[32];
    char hx[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)c->features,
                       strnlen(c->features, sizeof c->features), NULL, 0);
    to_hex(h, 32, hx);
    if (strcmp(hx, c->features_hash) != 0) {
        snprintf(why, len, "features_hash is not the BLAKE2b-256 of features");
        return 0;
    }
    /* canonical: it parses, and describing what it says gives it back */
    lethe_feature_map map;
    size_t in = 0;
    char again[LETHE_FEATURES_TEXT_MAX], h2[65];
    if (!lethe__features_parse(c->features, &map, &in) ||
        lethe_features_describe(&map, in, again, h2) != LETHE_OK ||
        strcmp(again, c->features) != 0) {
        snprintf(why, len, "features \"%.80s\" is not a canonical map description",
                 c->features);
        return 0;
    }
    const int random = map.kind == LETHE_FEATURES_RFF || map.kind == LETHE_FEATURES_RELU;
    const size_t width = (random ? map.dim : in) + (map.bias > 0.0 ? 1 : 0);
    if (c->classes == 0 || c->classes == 2 || width > c->d / c->classes ||
        width * c->classes != c->d ||
        (c->mechanism == LETHE_MECH_M2 &&
         (c->classes != 1 || lethe__features_active(&map)))) {
        snprintf(why, len, "features \"%.80s\" and classes = %zu do not describe a model of "
                           "d = %zu weights (classes 1 or ≥ 3; M2: one head, no map)",
                 c->features, c->classes, c->d);
        return 0;
    }
    return 1;
}

static int numbers_ok(const lethe_certificate *c, char *why, size_t len)
{
    if (!(c->epsilon > 0.0) || !(c->delta > 0.0 && c->delta < 1.0) || !(c->sigma > 0.0) ||
        c->d == 0 || (c->k == 0 && c->mechanism == LETHE_MECH_M2)) {
        snprintf(why, len, "a parameter is out of range (ε > 0, 0 < δ < 1, σ > 0, d ≥ 1, "
                           "k ≥ 1; k = 0 only for an M1 refresh or an M3 release)");
        return 0;
    }
    /* format 2 names the sampler whose charges (τ, the lattice step g) are
     * applied below: the verifier knows no other */
    if (c->format >= 2 && strcmp(c->sampler, LETHE__SAMPLER_NAME) != 0) {
        snprintf(why, len, "the sampler is not \"%.60s…\", the one whose charges (τ, g) "
                           "the verifier applies", LETHE__SAMPLER_NAME);
        return 0;
    }
    if (c->format >= 3 && !features_ok(c, why, len))
        return 0;
    /* the sampler's share of δ, (1 + e^ε)·d·τ (LTH-C-0010 §6.3); M1 charges it
     * at ε = 1 ≥ its ε, so this is never more than what M1 set aside */
    const double tv = lethe__lattice_delta(c->d, c->epsilon);
    if (!isfinite(tv)) {
        snprintf(why, len, "ε = %.17g gives no sampler charge", c->epsilon);
        return 0;
    }
    return c->mechanism == LETHE_MECH_M1   ? m1_ok(c, tv, why, len)
           : c->mechanism == LETHE_MECH_M2 ? m2_ok(c, tv, why, len)
                                           : m3_ok(c, tv, why, len);
}

/* Bitwise equality: a parameter carried unchanged from one certificate to
 * the next. */
static int same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The numbers a model's releases share, carried bitwise from prev to c: ε,
 * δ, σ, λ, R and the mechanism's own (name: was → is). 1 if so; else 0 and
 * why. */
static int carried(const lethe_certificate *prev, const lethe_certificate *c, const char *name,
                   double was, double is, char *why, size_t len)
{
    const struct {
        const char *name;
        double was, is;
    } par[] = {
        { "epsilon", prev->epsilon, c->epsilon }, { "delta", prev->delta, c->delta },
        { "sigma", prev->sigma, c->sigma },       { "lambda", prev->lambda, c->lambda },
        { "R", prev->R, c->R },                   { name, was, is },
    };
    for (size_t i = 0; i < sizeof par / sizeof par[0]; i++)
        if (!same(par[i].was, par[i].is)) {
            snprintf(why, len, "%s = %.17g differs from the previous certificate's %.17g",
                     par[i].name, par[i].is, par[i].was);
            return 0;
        }
    return 1;
}

/* M2 after M2: the removals are counted on without a gap, and (both in
 * format 2) the public parameters that σ and Δ were calibrated from stay
 * those of the one model: a change would hide removals charged under other
 * parameters. */
static int m2_follows(const lethe_certificate *prev, const lethe_certificate *c, char *why,
                      size_t len)
{
    if (c->format < 2)
        return 1; /* format 1 is verified as it always was */
    if (c->used_before != prev->used_after) {
        snprintf(why, len, "used_before %zu is not the previous certificate's used_after %zu: "
                           "removals are missing or counted twice", c->used_before,
                 prev->used_after);
        return 0;
    }
    if (prev->format < 2)
        return 1; /* format 1 carries neither n, λ, R nor tol */
    if (!carried(prev, c, "tol", prev->tol, c->tol, why, len))
        return 0;
    if (c->n != prev->n || c->capacity != prev->capacity || c->d != prev->d) {
        snprintf(why, len, "n, the capacity or d differ from the previous certificate's");
        return 0;
    }
    return 1;
}

/* Can c follow prev in a ledger (besides seq, prev and the model hashes)?
 * The format never goes back to an earlier one. An M3 ledger holds M3
 * certificates only, and counts the releases one by one with the same
 * public parameters: a missing release would hide the privacy it spent.
 * M2 after M2: see m2_follows. 1 if so; else 0 and why. */
static int follows(const lethe_certificate *prev, const lethe_certificate *c, char *why,
                   size_t len)
{
    if (c->format < prev->format) {
        snprintf(why, len, "format lethe-certificate-%u follows lethe-certificate-%u: a "
                           "ledger's format never goes back", c->format, prev->format);
        return 0;
    }
    if (prev->format >= 3 &&
        (strcmp(c->features, prev->features) != 0 || c->classes != prev->classes)) {
        snprintf(why, len, "the feature map or the classes differ from the previous "
                           "certificate's: a ledger records one model");
        return 0;
    }
    if ((prev->mechanism == LETHE_MECH_M3) != (c->mechanism == LETHE_MECH_M3)) {
        snprintf(why, len, "mechanism %s follows %s: a ledger records one model's mechanism",
                 mech_name(c->mechanism), mech_name(prev->mechanism));
        return 0;
    }
    if (c->mechanism == LETHE_MECH_M2 && prev->mechanism == LETHE_MECH_M2)
        return m2_follows(prev, c, why, len);
    if (c->mechanism != LETHE_MECH_M3)
        return 1;
    if (c->releases != prev->releases + 1) {
        snprintf(why, len, "release %llu follows release %llu: a release is missing or "
                           "counted twice", (unsigned long long)c->releases,
                 (unsigned long long)prev->releases);
        return 0;
    }
    if (!carried(prev, c, "delta_max", prev->delta_max, c->delta_max, why, len))
        return 0;
    if (c->d != prev->d || c->loss != prev->loss || c->dp_releases != prev->dp_releases ||
        c->dp_min_records != prev->dp_min_records) {
        snprintf(why, len, "d, the loss or the DP settings differ from the previous "
                           "certificate's");
        return 0;
    }
    if (c->n > prev->n) {
        snprintf(why, len, "n = %zu exceeds the previous certificate's %zu: records "
                           "reappeared", c->n, prev->n);
        return 0;
    }
    return 1;
}

/* ─── Keys ───────────────────────────────────────────────────────────────── */

typedef struct keys {
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char idkey[crypto_generichash_KEYBYTES];
} keys;

/* The file that holds path exists (or cannot be checked). */
static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

lethe_status lethe_keygen(lethe_ctx *ctx, const char *secret_path, const char *public_path)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (secret_path == NULL || public_path == NULL || strcmp(secret_path, public_path) == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "keygen: two distinct paths are needed");
    if (exists(secret_path) || exists(public_path))
        return lethe__fail(ctx, LETHE_EIO, "keygen: %s exists: keys are never replaced",
                           exists(secret_path) ? secret_path : public_path);
    keys *k = sodium_malloc(sizeof *k);
    if (k == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "keygen: no guarded memory for the keys");
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
    crypto_sign_keypair(pk, k->sk);
    randombytes_buf(k->idkey, sizeof k->idkey);
    to_hex(pk, sizeof pk, hex);
    lethe_sfile s;
    lethe_status st = lethe__sfile_create(ctx, secret_path, 0600, SK_MAGIC, &s);
    if (st == LETHE_OK) {
        s.exclusive = 1;
        lethe__sf_put_u64(&s, SK_VERSION);
        lethe__sf_put_bytes(&s, k->sk, sizeof k->sk);
        lethe__sf_put_bytes(&s, k->idkey, sizeof k->idkey);
        st = lethe__sfile_commit(&s);
    }
    sodium_free(k);
    if (st != LETHE_OK)
        return st;
    st = lethe__sfile_create(ctx, public_path, 0644, NULL, &s);
    if (st == LETHE_OK) {
        s.exclusive = 1;
        if (fprintf(s.f, "%s%s\n", PK_PREFIX, hex) < 0)
            s.err = 1;
        st = lethe__sfile_commit(&s);
    }
    if (st != LETHE_OK)
        remove(secret_path); /* made by this call: no half key pair is left */
    return st;
}

/* Read the secret key file into k (guarded memory). */
static lethe_status load_secret(lethe_ctx *ctx, const char *path, keys *k)
{
    lethe_sfile s;
    long long payload = 0;
    lethe_status st = lethe__sfile_open(ctx, path, SK_MAGIC, &s, &payload);
    if (st != LETHE_OK)
        return st;
    uint64_t version = lethe__sf_get_u64(&s);
    if (payload != (long long)(LETHE__SFILE_MAGIC_BYTES + 8 + sizeof k->sk + sizeof k->idkey))
        st = lethe__sfile_bad(ctx, path, "not a lethe secret key file (size)");
    else if (version != SK_VERSION)
        st = lethe__sfile_bad(ctx, path, "secret key format version unknown");
    if (st == LETHE_OK) {
        lethe__sf_get_bytes(&s, k->sk, sizeof k->sk);
        lethe__sf_get_bytes(&s, k->idkey, sizeof k->idkey);
        st = lethe__sfile_verify(&s);
    }
    lethe__sfile_close(&s);
    if (st != LETHE_OK)
        return st;
    /* the public half must be the one the seed derives */
    unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char *sk2 = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (sk2 == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "no guarded memory for a key");
    crypto_sign_ed25519_sk_to_seed(seed, k->sk);
    crypto_sign_seed_keypair(pk, sk2, seed);
    int same = sodium_memcmp(sk2, k->sk, crypto_sign_SECRETKEYBYTES) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_free(sk2);
    return same ? LETHE_OK : lethe__sfile_bad(ctx, path, "the key pair is inconsistent");
}

/* Read a public key file (one line, "lethe-ed25519-public" and 64 hex digits). */
static lethe_status load_public(lethe_ctx *ctx, const char *path, unsigned char pk[32])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "key: cannot open %s: %s", path,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    char t[128];
    size_t n = fread(t, 1, sizeof t, f), pre = sizeof PK_PREFIX - 1;
    fclose(f);
    if (n != pre + 64 + 1 || memcmp(t, PK_PREFIX, pre) != 0 || t[n - 1] != '\n' ||
        !from_hex(t + pre, 64, pk, 32))
        return lethe__fail(ctx, LETHE_EFORMAT, "key: %s is not a lethe public key file", path);
    return LETHE_OK;
}

/* ─── Hashing files ──────────────────────────────────────────────────────── */

static lethe_status hash_file(lethe_ctx *ctx, const char *path, unsigned char out[32])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "cannot open %s: %s", path,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    unsigned char buf[16384];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_generichash_update(&h, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return lethe__fail(ctx, LETHE_EIO, "cannot read %s", path);
    crypto_generichash_final(&h, out, 32);
    return LETHE_OK;
}

lethe_status lethe_cert_hash_file(lethe_ctx *ctx, const char *path, char hex[LETHE_HEX32_LEN])
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || hex == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "hash_file: path and hex must not be NULL");
    unsigned char h[32];
    lethe_status st = hash_file(ctx, path, h);
    if (st == LETHE_OK)
        to_hex(h, sizeof h, hex);
    return st;
}

/* ─── Verification ───────────────────────────────────────────────────────── */

const char *lethe_cert_check_name(lethe_cert_check check)
{
    static const char *const names[] = {
        [LETHE_CHECK_NONE] = "none",           [LETHE_CHECK_FILE] = "file",
        [LETHE_CHECK_PARSE] = "parse",         [LETHE_CHECK_SIGNER] = "signer",
        [LETHE_CHECK_SIGNATURE] = "signature", [LETHE_CHECK_NUMBERS] = "numbers",
        [LETHE_CHECK_CHAIN] = "chain",         [LETHE_CHECK_MODEL] = "model",
    };
    if ((unsigned)check >= sizeof names / sizeof names[0])
        return "unknown";
    return names[check];
}

/* Record a failed check on rep and ctx; returns LETHE_EVERIFY. */
static lethe_status failed(lethe_ctx *ctx, lethe_verify_report *rep, lethe_cert_check check,
                           uint64_t seq, const char *path, const char *why)
{
    rep->failed = check;
    rep->failed_seq = seq;
    return lethe__fail(ctx, LETHE_EVERIFY, "%s: %s: %s", path, lethe_cert_check_name(check),
                       why);
}

/* What verification carries from one file of a ledger to the next. */
typedef struct chain {
    uint64_t count;          /* certificates passed */
    lethe_certificate last;  /* the last one's fields (sampler and ids NULL) */
    unsigned char hash[32];  /* BLAKE2b-256 of the last file (zeros before the first) */
    unsigned char model[32]; /* its model_after */
    unsigned char signer[32];
} chain;

/* Read a certificate file whole (FILE check). */
static lethe_status read_cert(lethe_ctx *ctx, const char *path, unsigned char **buf,
                              size_t *len, char *why)
{
    char eb[128];
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        snprintf(why, WHY_LEN, "cannot read: %s", lethe__read_strerror(errno, eb, sizeof eb));
        if (f != NULL)
            fclose(f);
        return LETHE_EVERIFY;
    }
    lethe_status rc = LETHE_OK;
    if (st.st_size > (off_t)LETHE__CERT_MAX_BYTES) {
        snprintf(why, WHY_LEN, "larger than %u bytes", LETHE__CERT_MAX_BYTES);
        rc = LETHE_EVERIFY;
    } else if ((*buf = lethe__malloc(ctx, (size_t)st.st_size + 1)) == NULL) {
        rc = lethe__fail(ctx, LETHE_ENOMEM, "no memory to read %s", path);
    } else {
        /* one byte more than fstat said: a file that grew is not read short */
        *len = fread(*buf, 1, (size_t)st.st_size + 1, f);
        if (ferror(f) || *len != (size_t)st.st_size) {
            snprintf(why, WHY_LEN, "read error or changed while read");
            rc = LETHE_EVERIFY;
        }
    }
    fclose(f);
    if (rc != LETHE_OK) {
        lethe__free(ctx, *buf);
        *buf = NULL;
    }
    return rc;
}

/* Every check of one file but the chain's: FILE, PARSE, SIGNER (against
 * pinned if given, else against the ledger's signer from its second file
 * on), SIGNATURE, NUMBERS. r is filled and hash set on success. seq names
 * the file in rep. */
static lethe_status check_file(lethe_ctx *ctx, const char *path, uint64_t seq,
                               const unsigned char *pinned, const chain *ch,
                               lethe__cert_rec *r, unsigned char hash[32],
                               lethe_verify_report *rep)
{
    char why[WHY_LEN];
    unsigned char *buf = NULL;
    size_t len = 0;
    lethe_status st = read_cert(ctx, path, &buf, &len, why);
    if (st == LETHE_EVERIFY)
        return failed(ctx, rep, LETHE_CHECK_FILE, seq, path, why);
    if (st != LETHE_OK)
        return st;
    st = lethe__cert_parse(ctx, buf, len, r, why, sizeof why);
    if (st == LETHE_OK)
        crypto_generichash(hash, 32, buf, len, NULL, 0);
    lethe__free(ctx, buf);
    if (st == LETHE_EVERIFY)
        return failed(ctx, rep, LETHE_CHECK_PARSE, seq, path, why);
    if (st != LETHE_OK)
        return st;
    seq = seq != 0 ? seq : r->c.seq;
    const unsigned char *want = pinned != NULL ? pinned : ch->count > 0 ? ch->signer : NULL;
    if (want != NULL && memcmp(r->pk, want, 32) != 0) {
        char hex[65];
        to_hex(r->pk, 32, hex);
        snprintf(why, sizeof why, "signed by %.16s…, not by %s", hex,
                 pinned != NULL ? "the trusted key" : "the key of the ledger's first file");
        st = failed(ctx, rep, LETHE_CHECK_SIGNER, seq, path, why);
    }
    if (st == LETHE_OK) {
        sbuf b = { .ctx = ctx };
        serialize(&b, r, 0);
        if (b.err != 0)
            st = lethe__fail(ctx, LETHE_ENOMEM, "no memory to check %s", path);
        else if (crypto_sign_verify_detached(r->sig, (const unsigned char *)b.p, b.n, r->pk) != 0)
            st = failed(ctx, rep, LETHE_CHECK_SIGNATURE, seq, path,
                        "the signature does not verify");
        lethe__free(ctx, b.p);
    }
    if (st == LETHE_OK && !numbers_ok(&r->c, why, sizeof why))
        st = failed(ctx, rep, LETHE_CHECK_NUMBERS, seq, path, why);
    if (st != LETHE_OK)
        lethe__cert_rec_free(ctx, r);
    return st;
}

/* A passed certificate joins the chain and the report. */
static void advance(chain *ch, const lethe__cert_rec *r, const unsigned char hash[32],
                    lethe_verify_report *rep)
{
    ch->count++;
    ch->last = r->c;
    ch->last.sampler = NULL;
    ch->last.ids = NULL;
    memcpy(ch->hash, hash, 32);
    memcpy(ch->model, r->model_after, 32);
    memcpy(ch->signer, r->pk, 32);
    rep->checked++;
    rep->last_seq = r->c.seq;
    rep->seeded |= r->c.seeded;
    rep->mechanism = r->c.mechanism;
    rep->idealised |= r->c.mechanism == LETHE_MECH_M1;
    to_hex(r->pk, 32, rep->signer);
    to_hex(r->model_after, 32, rep->model_after);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The seqs of the files named NNNNNNNN.json in dir, sorted. */
static lethe_status list_ledger(lethe_ctx *ctx, const char *dir, uint64_t **seqs, size_t *n)
{
    size_t cap = 0;
    *seqs = NULL;
    *n = 0;
    DIR *dh = opendir(dir);
    if (dh == NULL) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "cannot open the ledger %s: %s", dir,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    lethe_status st = LETHE_OK;
    struct dirent *e;
    while (st == LETHE_OK && (e = readdir(dh)) != NULL) {
        const char *name = e->d_name;
        if (strlen(name) != 13 || strcmp(name + 8, ".json") != 0 ||
            strspn(name, "0123456789") != 8)
            continue;
        if (*n == cap) {
            size_t ncap = cap == 0 ? 64 : 2 * cap;
            uint64_t *q = lethe__read_resize(ctx, *seqs, cap * sizeof *q, ncap * sizeof *q);
            if (q == NULL) {
                st = lethe__fail(ctx, LETHE_ENOMEM, "no memory to list the ledger");
                break;
            }
            *seqs = q;
            cap = ncap;
        }
        (*seqs)[(*n)++] = strtoull(name, NULL, 10);
    }
    closedir(dh);
    if (st != LETHE_OK) {
        lethe__free(ctx, *seqs);
        *seqs = NULL;
        return st;
    }
    if (*n > 0)
        qsort(*seqs, *n, sizeof **seqs, cmp_u64);
    return LETHE_OK;
}

/* Verify the ledger in dir: every file, in order, and the chain. */
static lethe_status verify_ledger(lethe_ctx *ctx, const char *dir, const unsigned char *pinned,
                                  int allow_empty, chain *ch, lethe_verify_report *rep)
{
    uint64_t *seqs = NULL;
    size_t n = 0;
    memset(ch, 0, sizeof *ch);
    lethe_status st = list_ledger(ctx, dir, &seqs, &n);
    if (st != LETHE_OK)
        return st;
    size_t plen = strlen(dir) + 16;
    char *path = lethe__malloc(ctx, plen), why[WHY_LEN];
    if (path == NULL)
        st = lethe__fail(ctx, LETHE_ENOMEM, "no memory for a path");
    else if (n == 0 && !allow_empty)
        st = failed(ctx, rep, LETHE_CHECK_CHAIN, 0, dir, "the ledger holds no certificate");
    for (size_t i = 0; st == LETHE_OK && i < n; i++) {
        uint64_t want = (uint64_t)i + 1;
        snprintf(path, plen, "%s/%08llu.json", dir, (unsigned long long)want);
        if (seqs[i] != want) {
            snprintf(why, sizeof why, "missing: the ledger has a gap before %08llu.json",
                     (unsigned long long)seqs[i]);
            st = failed(ctx, rep, LETHE_CHECK_CHAIN, want, path, why);
            break;
        }
        lethe__cert_rec r;
        unsigned char hash[32];
        st = check_file(ctx, path, want, pinned, ch, &r, hash, rep);
        if (st != LETHE_OK)
            break;
        if (r.c.seq != want) {
            snprintf(why, sizeof why, "holds seq %llu (renamed or moved)",
                     (unsigned long long)r.c.seq);
            st = failed(ctx, rep, LETHE_CHECK_CHAIN, want, path, why);
        } else if (memcmp(r.prev, ch->hash, 32) != 0) {
            st = failed(ctx, rep, LETHE_CHECK_CHAIN, want, path,
                        want == 1 ? "prev is not 64 zeros"
                                  : "prev is not the hash of the previous file");
        } else if (want > 1 && memcmp(r.model_before, ch->model, 32) != 0) {
            st = failed(ctx, rep, LETHE_CHECK_CHAIN, want, path,
                        "model_before is not the previous certificate's model_after");
        } else if (want > 1 && !follows(&ch->last, &r.c, why, sizeof why)) {
            st = failed(ctx, rep, LETHE_CHECK_CHAIN, want, path, why);
        } else {
            advance(ch, &r, hash, rep);
        }
        lethe__cert_rec_free(ctx, &r);
    }
    lethe__free(ctx, path);
    lethe__free(ctx, seqs);
    return st;
}

/* One file on its own: the chain checks that need no neighbour. */
static lethe_status verify_single(lethe_ctx *ctx, const char *path, const unsigned char *pinned,
                                  lethe_verify_report *rep)
{
    chain ch;
    memset(&ch, 0, sizeof ch);
    lethe__cert_rec r;
    unsigned char hash[32];
    lethe_status st = check_file(ctx, path, 0, pinned, &ch, &r, hash, rep);
    if (st != LETHE_OK)
        return st;
    static const unsigned char zero[32];
    if (r.c.seq == 0)
        st = failed(ctx, rep, LETHE_CHECK_CHAIN, 0, path, "seq 0 (seqs start at 1)");
    else if (r.c.seq == 1 && memcmp(r.prev, zero, 32) != 0)
        st = failed(ctx, rep, LETHE_CHECK_CHAIN, 1, path, "prev is not 64 zeros");
    else
        advance(&ch, &r, hash, rep);
    lethe__cert_rec_free(ctx, &r);
    return st;
}

/* Numbers are read and written in the C locale, whatever the host chose
 * (uselocale() acts on this thread only). */
typedef struct c_locale {
    locale_t c, prev;
} c_locale;

static lethe_status c_locale_begin(lethe_ctx *ctx, c_locale *l)
{
    l->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (l->c == (locale_t)0)
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory for the C locale");
    l->prev = uselocale(l->c);
    return LETHE_OK;
}

static void c_locale_end(c_locale *l)
{
    uselocale(l->prev);
    freelocale(l->c);
}

lethe_status lethe_cert_verify(lethe_ctx *ctx, const char *path, const char *public_key_path,
                               const char *model_path, lethe_verify_report *rep)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || rep == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "verify: path and rep must not be NULL");
    memset(rep, 0, sizeof *rep);
    unsigned char pinned[32];
    struct stat sb;
    lethe_status st = LETHE_OK;
    if (public_key_path != NULL) {
        st = load_public(ctx, public_key_path, pinned);
        rep->pinned = st == LETHE_OK;
    }
    if (st == LETHE_OK && stat(path, &sb) != 0) {
        char eb[128];
        st = lethe__fail(ctx, LETHE_EIO, "verify: cannot open %s: %s", path,
                         lethe__read_strerror(errno, eb, sizeof eb));
    }
    c_locale loc = { (locale_t)0, (locale_t)0 };
    if (st == LETHE_OK && (st = c_locale_begin(ctx, &loc)) == LETHE_OK) {
        const unsigned char *pin = rep->pinned ? pinned : NULL;
        chain ch;
        st = S_ISDIR(sb.st_mode) ? verify_ledger(ctx, path, pin, 0, &ch, rep)
                                 : verify_single(ctx, path, pin, rep);
        c_locale_end(&loc);
    }
    if (st == LETHE_OK && model_path != NULL) {
        unsigned char h[32], want[32];
        st = hash_file(ctx, model_path, h);
        from_hex(rep->model_after, 64, want, 32);
        if (st == LETHE_OK && memcmp(h, want, 32) != 0)
            st = failed(ctx, rep, LETHE_CHECK_MODEL, rep->last_seq, model_path,
                        "the file does not hash to the last certificate's model_after");
        rep->model_checked = st == LETHE_OK;
    }
    return st;
}

/* ─── Writing ────────────────────────────────────────────────────────────── */

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The caller's fields, checked as the documentation of lethe_cert_write says. */
static lethe_status check_input(lethe_ctx *ctx, const lethe_certificate *c)
{
    const char *bad = NULL;
    const double v[] = { c->epsilon,         c->delta,     c->sigma,     c->residual,
                         c->budget,          c->remaining_before,        c->remaining_after,
                         c->sensitivity,     c->lambda,    c->R,         c->delta_max,
                         c->mu_total,        c->epsilon_total,           c->tol };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]))
            bad = "a number is not finite";
    if (c->mechanism != LETHE_MECH_M1 && c->mechanism != LETHE_MECH_M2 &&
        c->mechanism != LETHE_MECH_M3)
        bad = "mechanism is neither M1, M2 nor M3";
    else if (c->sampler == NULL || c->sampler[0] == '\0' ||
             strlen(c->sampler) > LETHE__CERT_SAMPLER_MAX || !utf8_valid(c->sampler))
        bad = "the sampler name must be 1 to 255 bytes of UTF-8";
    else if (c->seeded != 0 && c->seeded != 1)
        bad = "seeded must be 0 or 1";
    else if (c->k > 0 && c->ids == NULL)
        bad = "no ids";
    else if (c->time[0] != '\0' && (memchr(c->time, '\0', sizeof c->time) == NULL ||
                                    !time_valid(c->time)))
        bad = "time is not \"\" or YYYY-MM-DDTHH:MM:SSZ";
    else if (memchr(c->model_before, '\0', sizeof c->model_before) == NULL ||
             memchr(c->model_after, '\0', sizeof c->model_after) == NULL ||
             strlen(c->model_before) != 64 || strlen(c->model_after) != 64)
        bad = "model_before and model_after must be 64 lowercase hex digits";
    return bad == NULL ? LETHE_OK : lethe__fail(ctx, LETHE_EINVAL, "cert_write: %s", bad);
}

/* The record to sign: c's fields, the sorted keyed id hashes, the chain. */
static lethe_status build(lethe_ctx *ctx, const lethe_certificate *c, const keys *k,
                          const chain *ch, lethe__cert_rec *r)
{
    memset(r, 0, sizeof *r);
    r->c = *c;
    r->c.format = 3; /* the only format written */
    if (memchr(c->features, '\0', sizeof c->features) == NULL || c->features[0] == '\0')
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: features must name the model's map "
                                              "(lethe_features_describe)");
    unsigned char fh[32];
    crypto_generichash(fh, sizeof fh, (const unsigned char *)c->features, strlen(c->features),
                       NULL, 0);
    to_hex(fh, 32, r->c.features_hash);
    r->c.seq = ch->count + 1;
    r->c.ids = NULL;
    if (c->time[0] == '\0') {
        time_t now = time(NULL);
        struct tm tm;
        if (gmtime_r(&now, &tm) == NULL ||
            strftime(r->c.time, sizeof r->c.time, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            return lethe__fail(ctx, LETHE_EIO, "cert_write: cannot read the clock");
    }
    if (!from_hex(c->model_before, 64, r->model_before, 32) ||
        !from_hex(c->model_after, 64, r->model_after, 32))
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: model_before and model_after must "
                                              "be 64 lowercase hex digits");
    if (ch->count > 0 && memcmp(r->model_before, ch->model, 32) != 0)
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: model_before is not the model_after "
                                              "of %08llu.json: the chain would break",
                           (unsigned long long)ch->count);
    memcpy(r->prev, ch->hash, 32);
    crypto_sign_ed25519_sk_to_pk(r->pk, k->sk);
    char why[WHY_LEN];
    if (!numbers_ok(&r->c, why, sizeof why))
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: would not verify: %s", why);
    if (ch->count > 0 && !follows(&ch->last, &r->c, why, sizeof why))
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: the chain would break after "
                                              "%08llu.json: %s",
                           (unsigned long long)ch->count, why);
    r->idh = c->k == 0 ? NULL : lethe__calloc(ctx, c->k, 32);
    if (c->k > 0 && r->idh == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "cert_write: no memory for %zu id hashes", c->k);
    for (size_t i = 0; i < c->k; i++) {
        unsigned char le[8];
        for (int j = 0; j < 8; j++)
            le[j] = (unsigned char)(c->ids[i] >> (8 * j));
        crypto_generichash(r->idh[i], 32, le, sizeof le, k->idkey, sizeof k->idkey);
    }
    if (c->k > 1) /* k = 0: a refresh record, no ids (and idh NULL) */
        qsort(r->idh, c->k, 32, cmp_hash);
    for (size_t i = 1; i < c->k; i++)
        if (memcmp(r->idh[i - 1], r->idh[i], 32) == 0)
            return lethe__fail(ctx, LETHE_EINVAL, "cert_write: an id is given twice");
    return LETHE_OK;
}

/* Sign r and write it as dir/NNNNNNNN.json, never replacing a file. */
static lethe_status sign_and_write(lethe_ctx *ctx, lethe__cert_rec *r, const keys *k,
                                   const char *path)
{
    sbuf b = { .ctx = ctx };
    serialize(&b, r, 0);
    if (b.err == 0)
        crypto_sign_detached(r->sig, NULL, (const unsigned char *)b.p, b.n, k->sk);
    b.n = 0;
    serialize(&b, r, 1);
    lethe_status st = LETHE_OK;
    if (b.err == 1)
        st = lethe__fail(ctx, LETHE_ENOMEM, "cert_write: no memory for the certificate");
    else if (b.err == 2)
        st = lethe__fail(ctx, LETHE_EINVAL, "cert_write: the certificate would exceed %u bytes "
                                            "(too many ids)", LETHE__CERT_MAX_BYTES);
    lethe_sfile s;
    if (st == LETHE_OK && (st = lethe__sfile_create(ctx, path, 0644, NULL, &s)) == LETHE_OK) {
        s.exclusive = 1;
        lethe__sf_put_bytes(&s, b.p, b.n);
        st = lethe__sfile_commit(&s);
    }
    lethe__free(ctx, b.p);
    return st;
}

lethe_status lethe_cert_write(lethe_ctx *ctx, const char *ledger_dir, const lethe_certificate *c,
                              const char *secret_key_path, char *out_path, size_t out_len)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (ledger_dir == NULL || c == NULL || secret_key_path == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: NULL argument");
    lethe_status st = check_input(ctx, c);
    if (st != LETHE_OK)
        return st;
    size_t plen = strlen(ledger_dir) + 16;
    if (out_path != NULL && out_len < plen - 1)
        return lethe__fail(ctx, LETHE_EINVAL, "cert_write: out_len %zu is too small for the "
                                              "path (%zu bytes)", out_len, plen - 1);
    keys *k = sodium_malloc(sizeof *k);
    char *path = lethe__malloc(ctx, plen);
    lethe__cert_rec r;
    memset(&r, 0, sizeof r);
    c_locale loc = { (locale_t)0, (locale_t)0 };
    if (k == NULL || path == NULL) {
        st = lethe__fail(ctx, LETHE_ENOMEM, "cert_write: no memory for the keys");
        goto done;
    }
    if ((st = load_secret(ctx, secret_key_path, k)) != LETHE_OK)
        goto done;
    if (mkdir(ledger_dir, 0755) != 0 && errno != EEXIST) {
        char eb[128];
        st = lethe__fail(ctx, LETHE_EIO, "cert_write: cannot create the ledger %s: %s",
                         ledger_dir, lethe__read_strerror(errno, eb, sizeof eb));
        goto done;
    }
    if ((st = c_locale_begin(ctx, &loc)) != LETHE_OK)
        goto done;
    unsigned char pk[32];
    crypto_sign_ed25519_sk_to_pk(pk, k->sk);
    chain ch;
    lethe_verify_report rep;
    memset(&rep, 0, sizeof rep);
    st = verify_ledger(ctx, ledger_dir, pk, 1, &ch, &rep);
    if (st == LETHE_EVERIFY) {
        char msg[LETHE__ERRMSG_CAP];
        snprintf(msg, sizeof msg, "%s", lethe_ctx_errmsg(ctx));
        st = lethe__fail(ctx, LETHE_EVERIFY, "cert_write: refused, the ledger is broken: %s",
                         msg);
    }
    if (st == LETHE_OK)
        st = build(ctx, c, k, &ch, &r);
    if (st == LETHE_OK) {
        snprintf(path, plen, "%s/%08llu.json", ledger_dir, (unsigned long long)r.c.seq);
        st = sign_and_write(ctx, &r, k, path);
    }
    if (st == LETHE_OK && out_path != NULL)
        snprintf(out_path, out_len, "%s", path);
done:
    if (loc.c != (locale_t)0)
        c_locale_end(&loc);
    lethe__cert_rec_free(ctx, &r);
    lethe__free(ctx, path);
    if (k != NULL)
        sodium_free(k);
    return st;
}

/* One id's keyed hash beside the id, for the search below. */
typedef struct id_hash {
    unsigned char h[32];
    uint64_t id;
} id_hash;

static int cmp_id_hash(const void *a, const void *b)
{
    return memcmp(((const id_hash *)a)->h, ((const id_hash *)b)->h, 32);
}

lethe_status lethe__ledger_find_ids(lethe_ctx *ctx, const char *ledger_dir,
                                    const char *secret_key_path, const uint64_t *ids, size_t n,
                                    uint64_t *id, uint64_t *seq)
{
    *seq = 0;
    *id = 0;
    if (n == 0)
        return LETHE_OK;
    keys *k = sodium_malloc(sizeof *k);
    if (k == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "no guarded memory for a key");
    id_hash *want = lethe__calloc(ctx, n, sizeof *want);
    lethe_status st = want == NULL ? lethe__fail(ctx, LETHE_ENOMEM, "no memory for %zu id hashes", n)
                                   : load_secret(ctx, secret_key_path, k);
    for (size_t i = 0; st == LETHE_OK && i < n; i++) {
        unsigned char le[8];
        for (int j = 0; j < 8; j++)
            le[j] = (unsigned char)(ids[i] >> (8 * j));
        /* the keyed hash lethe_cert_write puts in the file */
        crypto_generichash(want[i].h, 32, le, sizeof le, k->idkey, sizeof k->idkey);
        want[i].id = ids[i];
    }
    sodium_free(k);
    if (st == LETHE_OK)
        qsort(want, n, sizeof *want, cmp_id_hash);
    uint64_t *seqs = NULL;
    size_t ns = 0;
    if (st == LETHE_OK)
        st = list_ledger(ctx, ledger_dir, &seqs, &ns);
    for (size_t i = 0; st == LETHE_OK && i < ns && *seq == 0; i++) {
        char path[4096], why[WHY_LEN];
        snprintf(path, sizeof path, "%s/%08llu.json", ledger_dir, (unsigned long long)seqs[i]);
        unsigned char *buf = NULL;
        size_t len = 0;
        lethe__cert_rec r;
        lethe_status rs = read_cert(ctx, path, &buf, &len, why);
        if (rs == LETHE_OK)
            rs = lethe__cert_parse(ctx, buf, len, &r, why, sizeof why);
        lethe__free(ctx, buf);
        if (rs == LETHE_ENOMEM) {
            st = rs;
            break;
        }
        if (rs != LETHE_OK) /* a broken file is verify's business, not ours */
            continue;
        for (size_t t = 0; t < r.c.k && *seq == 0; t++) {
            const id_hash *hit = bsearch(r.idh[t], want, n, sizeof *want, cmp_id_hash);
            if (hit != NULL) {
                *seq = r.c.seq;
                *id = hit->id;
            }
        }
        lethe__cert_rec_free(ctx, &r);
    }
    lethe__free(ctx, seqs);
    lethe__free(ctx, want);
    return st;
}

lethe_status lethe_cert_find_id(lethe_ctx *ctx, const char *ledger_dir,
                                const char *secret_key_path, uint64_t id, uint64_t *seq)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (ledger_dir == NULL || secret_key_path == NULL || seq == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "cert_find_id: NULL argument");
    uint64_t found;
    return lethe__ledger_find_ids(ctx, ledger_dir, secret_key_path, &id, 1, &found, seq);
}
