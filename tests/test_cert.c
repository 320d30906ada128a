/*
 * Suite "cert": deletion certificates and the ledger (src/io/cert.c).
 *
 * A ledger of three certificates (M1, M1 with the seeded warning, M2) is
 * written through the API, in format "lethe-certificate-3", and verified;
 * then each kind of tampering is applied to a fresh copy and must be caught
 * by the check that names it. guo's (M1's) statement must be there, word
 * for word; M2's sensitivity is rebuilt by the verifier from n, λ, R, tol
 * and the capacity, so each of them moved the wrong way fails, as do
 * parameters that change along an M2 chain. Files turned back into format
 * "-1" (and the fixture ledger in tests/data) keep verifying; a ledger
 * going from "-2" back to "-1" does not.
 * Certificates whose numbers are inconsistent cannot be made through the
 * API (lethe_cert_write refuses them), so the test edits a good file and
 * signs it again with the owner's key, read from the documented key file
 * layout. M3 certificates get the same treatment on ledgers of their own:
 * they are made with the library's own calibration, and every number the
 * verifier recomputes (the sensitivity, σ's calibration, μ_total, ε_total)
 * is understated in turn, as are the chain's release count and parameters.
 * Every file lives in a temporary directory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <dirent.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"

#include "certify/m2.h"
#include "dp/dp.h"
#include "io/cert.h"

/* ─── Files ──────────────────────────────────────────────────────────────── */

static char tmpdir[64];

/* Path of name inside the temporary directory; eight rotating buffers. */
static const char *tpath(const char *name)
{
    static char buf[8][sizeof tmpdir + 256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *b = malloc(4u << 20);
    assert_non_null(b);
    *len = fread(b, 1, (4u << 20) - 1, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

static void spit(const char *path, const char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
    spit(path, text, strlen(text));
}

/* Length of the value at s: a string to its closing quote, anything else to
 * the ',' or newline that ends it. */
static size_t value_len(const char *s)
{
    if (*s != '"')
        return strcspn(s, ",\n");
    size_t i = 1;
    while (s[i] != '\0' && s[i] != '"')
        i += s[i] == '\\' && s[i + 1] != '\0' ? 2 : 1;
    return s[i] == '"' ? i + 1 : i;
}

/* Replace part of member key's line in the text at path with text v: its
 * value (whole = 0), or the whole line, newline included (whole = 1). */
static void splice(const char *path, const char *key, int whole, const char *v)
{
    size_t len;
    char *b = slurp(path, &len), pat[64];
    snprintf(pat, sizeof pat, "\n  \"%s\": ", key);
    char *s = strstr(b, pat);
    assert_non_null(s);
    s += whole ? 1 : strlen(pat);
    size_t end = whole ? strcspn(s, "\n") + 1 : value_len(s), add = strlen(v);
    char *out = malloc(len + add + 1);
    size_t head = (size_t)(s - b);
    memcpy(out, b, head);
    memcpy(out + head, v, add);
    memcpy(out + head + add, s + end, len - head - end);
    spit(path, out, len - end + add);
    free(out);
    free(b);
}

/* Replace the value of member key in the text at path with text v. */
static void set_member(const char *path, const char *key, const char *v)
{
    splice(path, key, 0, v);
}

/* Replace member key's whole line with line, or delete it (NULL). */
static void set_line(const char *path, const char *key, const char *line)
{
    splice(path, key, 1, line == NULL ? "" : line);
}

static void set_number(const char *path, const char *key, double v)
{
    char t[40];
    snprintf(t, sizeof t, "%.17g", v);
    set_member(path, key, t);
}

/* Flip one character of the file at offset off from the first match of
 * needle (xor with x, keeping it printable for hex digits). */
static void flip_after(const char *path, const char *needle, size_t off, char to)
{
    size_t len;
    char *b = slurp(path, &len);
    char *s = strstr(b, needle);
    assert_non_null(s);
    s[strlen(needle) + off] = s[strlen(needle) + off] == to ? (char)(to == '0' ? '1' : '0') : to;
    spit(path, b, len);
    free(b);
}

/* Each of the n parts occurs in text, in this order. */
static void in_order(const char *text, const char *const *parts, size_t n)
{
    const char *at = text;
    for (size_t j = 0; j < n; j++) {
        at = strstr(at, parts[j]);
        if (at == NULL) {
            print_error("\"%s\" missing or out of order in\n%s", parts[j], text);
            fail();
        }
    }
}

/* ─── Keys and models ────────────────────────────────────────────────────── */

/* The owner's Ed25519 secret key, from the documented secret key layout:
 * magic (8) | version (8) | secret key (64) | id key (32) | checksum (32). */
static void read_sk(const char *path, unsigned char sk[64])
{
    size_t len;
    char *b = slurp(path, &len);
    assert_int_equal(len, 144);
    assert_memory_equal(b, "LETHESK1", 8);
    memcpy(sk, b + 16, 64);
    free(b);
}

/* Sign the file at path again with sk (after an edit), putting sk's public
 * key in it: the signature covers the bytes up to the public key's value,
 * then "\n}\n". */
static void resign(const char *path, const unsigned char sk[64])
{
    size_t len;
    char *b = slurp(path, &len);
    char *sig = strstr(b, ",\n  \"signature\": \"");
    char *pk = strstr(b, "\n  \"public_key\": \"");
    assert_non_null(sig);
    assert_non_null(pk);
    pk += strlen("\n  \"public_key\": \"");
    char hex[129];
    sodium_bin2hex(hex, sizeof hex, sk + 32, 32);
    memcpy(pk, hex, 64);
    size_t mlen = (size_t)(sig - b);
    char *msg = malloc(mlen + 3);
    memcpy(msg, b, mlen);
    memcpy(msg + mlen, "\n}\n", 3);
    unsigned char s[64];
    crypto_sign_detached(s, NULL, (unsigned char *)msg, mlen + 3, sk);
    sodium_bin2hex(hex, sizeof hex, s, 64);
    memcpy(sig + strlen(",\n  \"signature\": \""), hex, 128);
    spit(path, b, len);
    free(msg);
    free(b);
}

static char *secret, *public_key;
static unsigned char sk[64];
static char model_hash[4][LETHE_HEX32_LEN];
static const uint64_t ids[] = { 1003, 17, 42, 5, 99, 123456789 };

#define D 5
#define EPSILON 1.0
#define DELTA 1e-5
#define BUDGET 2.385

static double m1_sigma(void)
{
    return lethe_guo_c(DELTA) * BUDGET / EPSILON * (1.0 + 1e-6);
}

/* M2's public parameters: records trained on, λ, R, tol, capacity. */
#define M2_N 412
#define M2_LAMBDA 0.2385
#define M2_R 1.385
#define M2_TOL 2.385e-11
#define M2_CAPACITY 10

/* guo's statement, as lethe.h specifies it. */
#define STATEMENT                                                                          \
    "guo: Guo et al.'s idealised statement, not a proven guarantee; residual, budget and " \
    "remaining depend on the owner's secret noise b and are the owner's figures"

/* σ and Δ of an M2 model with c's parameters, as the trainer calibrates
 * them (lethe__m2_calibrate on a model of c->n records, c->d features). */
static void m2_calibrate(lethe_certificate *c)
{
    lethe_ctx *ctx = NULL;
    lethe_m2 *m = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    assert_status(lethe__m2_alloc(ctx, c->n, c->d, &m), LETHE_OK);
    m->lambda = c->lambda;
    m->epsilon = c->epsilon;
    m->delta = c->delta;
    m->capacity = c->capacity;
    m->tol = c->tol;
    m->R = c->R;
    assert_status(lethe__m2_calibrate(m), LETHE_OK);
    c->sensitivity = m->sensitivity;
    c->sigma = m->sigma;
    lethe_m2_free(m);
    lethe_ctx_free(ctx);
}

/* The sensitivity a verifier rebuilds for M2 from c's public parameters:
 * the Newton step's bound, its rounding and the lattice's g√d. */
static double m2_floor(const lethe_certificate *c)
{
    lethe_loss_constants k;
    assert_status(lethe_loss_get_constants(LETHE_LOSS_LOGISTIC, c->R, &k), LETHE_OK);
    const double M = k.d2_lip * c->R * c->R * c->R;
    lethe_lattice lat;
    assert_status(lethe__lattice_params(c->sigma, &lat), LETHE_OK);
    return lethe__m2_sensitivity(M, 2.0 * c->R, c->lambda, c->n, c->capacity, c->tol) +
           lethe__m2_rounding_bound(c->n, c->capacity, c->d, c->R, c->lambda, c->tol) +
           lat.g * sqrt((double)c->d);
}

/* A certificate of model file i-1 → i: M1 (seq 1, 2) or M2 (seq 3). */
/* "none in=D": the features member of a model without a map */
static void no_map(lethe_certificate *c)
{
    c->classes = 1;
    snprintf(c->features, sizeof c->features, "none in=%d", (int)D);
}

static lethe_certificate cert_for(int i)
{
    lethe_certificate c;
    memset(&c, 0, sizeof c);
    c.mechanism = i < 3 ? LETHE_MECH_M1 : LETHE_MECH_M2;
    c.sampler = LETHE__SAMPLER_NAME;
    c.seeded = i == 2;
    c.d = D;
    no_map(&c);
    c.epsilon = EPSILON;
    c.delta = DELTA;
    c.k = i == 1 ? 3 : i == 2 ? 1 : 2;
    c.ids = i == 1 ? ids : i == 2 ? ids + 3 : ids + 4;
    if (c.mechanism == LETHE_MECH_M1) {
        c.sigma = m1_sigma();
        c.budget = BUDGET;
        c.residual = i == 1 ? 0.125 : 0.53;
        c.remaining_before = i == 1 ? BUDGET : BUDGET - 0.125;
        c.remaining_after = BUDGET - c.residual;
    } else {
        c.n = M2_N;
        c.lambda = M2_LAMBDA;
        c.R = M2_R;
        c.tol = M2_TOL;
        c.capacity = M2_CAPACITY;
        m2_calibrate(&c);
        c.used_before = 4;
        c.used_after = 6;
    }
    memcpy(c.model_before, model_hash[i - 1], LETHE_HEX32_LEN);
    memcpy(c.model_after, model_hash[i], LETHE_HEX32_LEN);
    return c;
}

static const char *model_path(int i)
{
    char name[32];
    snprintf(name, sizeof name, "model%d.txt", i);
    return tpath(name);
}

/* Write the three certificates into dir (a name in tmpdir). */
static const char *make_ledger(lethe_ctx *ctx, const char *name)
{
    const char *dir = tpath(name);
    for (int i = 1; i <= 3; i++) {
        lethe_certificate c = cert_for(i);
        char out[512];
        assert_status(lethe_cert_write(ctx, dir, &c, secret, out, sizeof out), LETHE_OK);
        char want[512];
        snprintf(want, sizeof want, "%s/%08d.json", dir, i);
        assert_string_equal(out, want);
    }
    return dir;
}

static const char *file_in(const char *dir, int seq)
{
    static char buf[4][1100];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%08d.json", dir, seq);
    return buf[k];
}

/* The text b (len bytes) parses, in format 3, as the certificate want was
 * written from: every field bit for bit (those of other mechanisms 0). */
static void reads_back_as(lethe_ctx *ctx, const char *b, size_t len,
                          const lethe_certificate *want)
{
    lethe__cert_rec r;
    char why[200];
    assert_status(lethe__cert_parse(ctx, (const unsigned char *)b, len, &r, why, sizeof why),
                  LETHE_OK);
    const lethe_certificate *c = &r.c;
    assert_int_equal(c->format, 3);
    assert_int_equal(c->mechanism, want->mechanism);
    assert_string_equal(c->sampler, want->sampler);
    assert_string_equal(c->features, want->features);
    const size_t gs[] = { (size_t)c->seeded, c->d, c->k, c->n, (size_t)c->loss,
                          (size_t)c->dp_releases, c->dp_min_records, c->releases, c->capacity,
                          c->used_before, c->used_after };
    const size_t ws[] = { (size_t)want->seeded, want->d, want->k, want->n, (size_t)want->loss,
                          (size_t)want->dp_releases, want->dp_min_records, want->releases,
                          want->capacity, want->used_before, want->used_after };
    for (size_t j = 0; j < sizeof gs / sizeof gs[0]; j++)
        assert_int_equal(gs[j], ws[j]);
    const double got[] = { c->epsilon,     c->delta,         c->sigma,     c->residual,
                           c->budget,      c->remaining_before,            c->remaining_after,
                           c->sensitivity, c->lambda,        c->R,         c->tol,
                           c->delta_max,   c->mu_total,      c->epsilon_total };
    const double wd[] = { want->epsilon,     want->delta,    want->sigma,  want->residual,
                          want->budget,      want->remaining_before,       want->remaining_after,
                          want->sensitivity, want->lambda,   want->R,      want->tol,
                          want->delta_max,   want->mu_total, want->epsilon_total };
    for (size_t j = 0; j < sizeof got / sizeof got[0]; j++)
        assert_close(got[j], wd[j], 0.0, 0.0);
    lethe__cert_rec_free(ctx, &r);
}

/* ─── Fixture ────────────────────────────────────────────────────────────── */

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lethe-cert-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return -1;
    secret = strdup(tpath("owner.key"));
    public_key = strdup(tpath("owner.pub"));
    int ok = lethe_keygen(ctx, secret, public_key) == LETHE_OK;
    for (int i = 0; ok && i < 4; i++) {
        char text[128];
        snprintf(text, sizeof text, "lethe-public-model 1\nweights\n%d.385\n", i);
        FILE *f = fopen(model_path(i), "wb");
        ok = f != NULL && fputs(text, f) >= 0 && fclose(f) == 0 &&
             lethe_cert_hash_file(ctx, model_path(i), model_hash[i]) == LETHE_OK;
    }
    lethe_ctx_free(ctx);
    if (ok)
        read_sk(secret, sk);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    free(secret);
    free(public_key);
    return 0;
}

/* Verification of path fails at check on the file seq, and says so. */
static void expect_failure(lethe_ctx *ctx, const char *path, const char *key, const char *model,
                           lethe_cert_check check, uint64_t seq, const char *needle)
{
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, path, key, model, &rep), LETHE_EVERIFY);
    if (rep.failed != check || rep.failed_seq != seq) {
        print_error("failed check %s on seq %llu, expected %s on seq %llu (%s)\n",
                    lethe_cert_check_name(rep.failed), (unsigned long long)rep.failed_seq,
                    lethe_cert_check_name(check), (unsigned long long)seq,
                    lethe_ctx_errmsg(ctx));
        fail();
    }
    assert_msg_has(ctx, lethe_cert_check_name(check));
    if (needle != NULL)
        assert_msg_has(ctx, needle);
}

/* ─── Keys ───────────────────────────────────────────────────────────────── */

static void test_keygen(void **state)
{
    lethe_ctx *ctx = *state;
    struct stat st;
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(public_key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    size_t len;
    char *pub = slurp(public_key, &len);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, sk + 32, 32);
    char want[128];
    snprintf(want, sizeof want, "lethe-ed25519-public %s\n", hex);
    assert_string_equal(pub, want);
    free(pub);
    /* the secret key's halves agree */
    unsigned char pk[32];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    assert_memory_equal(pk, sk + 32, 32);

    /* never replaced; nothing half made */
    assert_status(lethe_keygen(ctx, secret, tpath("other.pub")), LETHE_EIO);
    assert_msg_has(ctx, "never replaced");
    assert_int_equal(access(tpath("other.pub"), F_OK), -1);
    assert_status(lethe_keygen(ctx, tpath("other.key"), public_key), LETHE_EIO);
    assert_int_equal(access(tpath("other.key"), F_OK), -1);
    assert_status(lethe_keygen(ctx, tpath("x"), tpath("x")), LETHE_EINVAL);
    assert_status(lethe_keygen(ctx, NULL, tpath("x")), LETHE_EINVAL);
    assert_status(lethe_keygen(NULL, tpath("x"), tpath("y")), LETHE_EINVAL);
    assert_status(lethe_keygen(ctx, tpath("nodir/x"), tpath("y")), LETHE_EIO);

    /* two key pairs differ */
    assert_status(lethe_keygen(ctx, tpath("k2.key"), tpath("k2.pub")), LETHE_OK);
    unsigned char sk2[64];
    read_sk(tpath("k2.key"), sk2);
    assert_memory_not_equal(sk, sk2, 64);
}

static void test_hash_file(void **state)
{
    lethe_ctx *ctx = *state;
    write_text(tpath("abc.txt"), "abc");
    char hex[LETHE_HEX32_LEN];
    assert_status(lethe_cert_hash_file(ctx, tpath("abc.txt"), hex), LETHE_OK);
    /* BLAKE2b-256("abc") */
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    assert_status(lethe_cert_hash_file(ctx, tpath("none"), hex), LETHE_EIO);
    assert_status(lethe_cert_hash_file(ctx, NULL, hex), LETHE_EINVAL);
}

/* ─── A good ledger ──────────────────────────────────────────────────────── */

static void test_ledger_verifies(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "good");
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(3), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 3);
    assert_int_equal(rep.last_seq, 3);
    assert_int_equal(rep.failed, LETHE_CHECK_NONE);
    assert_int_equal(rep.pinned, 1);
    assert_int_equal(rep.model_checked, 1);
    assert_int_equal(rep.seeded, 1);
    assert_int_equal(rep.mechanism, LETHE_MECH_M2); /* the last one's */
    assert_int_equal(rep.idealised, 1);             /* files 1 and 2 are guo's */
    assert_string_equal(rep.model_after, model_hash[3]);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, sk + 32, 32);
    assert_string_equal(rep.signer, hex);

    /* without the key: verified, but not pinned */
    assert_status(lethe_cert_verify(ctx, dir, NULL, NULL, &rep), LETHE_OK);
    assert_int_equal(rep.pinned, 0);
    assert_int_equal(rep.model_checked, 0);

    /* one file on its own */
    assert_status(lethe_cert_verify(ctx, file_in(dir, 1), public_key, model_path(1), &rep),
                  LETHE_OK);
    assert_int_equal(rep.checked, 1);
    assert_int_equal(rep.seeded, 0);
    assert_int_equal(rep.mechanism, LETHE_MECH_M1);
    assert_int_equal(rep.idealised, 1);
    assert_status(lethe_cert_verify(ctx, file_in(dir, 3), public_key, NULL, &rep), LETHE_OK);
    assert_int_equal(rep.last_seq, 3);
    assert_int_equal(rep.mechanism, LETHE_MECH_M2);
    assert_int_equal(rep.idealised, 0);

    /* what the files say */
    size_t len;
    char *b = slurp(file_in(dir, 2), &len);
    assert_non_null(strstr(b, "{\n  \"format\": \"lethe-certificate-3\",\n  \"seq\": 2,\n"));
    assert_non_null(strstr(b, "\n  \"seeded\": true,\n  \"warning\": \"seeded test stream: "
                              "reproducible noise, not private\",\n"));
    /* guo's statement, right after the mechanism */
    assert_non_null(strstr(b, "\n  \"mechanism\": \"M1\",\n  \"statement\": \"" STATEMENT
                              "\",\n  \"sampler\": "));
    assert_null(strstr(b, "sensitivity"));
    assert_null(strstr(b, "\"tol\""));
    assert_string_equal(b + len - 4, "\"\n}\n");
    free(b);
    b = slurp(file_in(dir, 3), &len);
    /* M2's public parameters, in the format's order, after the ids */
    static const char *const order[] = {
        "\n  \"mechanism\": \"M2\",\n  \"sampler\": ", "\n  ],\n  \"n\": 412,\n",
        "\n  \"lambda\": 0.23849999999999999,\n", "\n  \"R\": 1.385,\n",
        "\n  \"tol\": 2.385e-11,\n", "\n  \"sensitivity\": ", "\n  \"capacity\": 10,\n",
        "\n  \"used_before\": 4,\n", "\n  \"used_after\": 6,\n", "\n  \"model_before\": ",
    };
    in_order(b, order, sizeof order / sizeof order[0]);
    assert_null(strstr(b, "warning"));
    assert_null(strstr(b, "residual"));
    assert_null(strstr(b, "statement"));
    /* read back: what was written, bit for bit */
    const lethe_certificate c3 = cert_for(3);
    reads_back_as(ctx, b, len, &c3);
    free(b);
    b = slurp(file_in(dir, 1), &len);
    assert_non_null(strstr(b, "\n  \"prev\": \"00000000000000000000000000000000"
                              "00000000000000000000000000000000\",\n"));
    /* the ids appear only as keyed hashes, sorted */
    unsigned char idkey[32], h[3][32], le[8];
    size_t klen;
    char *key = slurp(secret, &klen);
    memcpy(idkey, key + 80, 32);
    free(key);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 8; j++)
            le[j] = (unsigned char)(ids[i] >> (8 * j));
        crypto_generichash(h[i], 32, le, 8, idkey, 32);
        char hx[65];
        sodium_bin2hex(hx, sizeof hx, h[i], 32);
        assert_non_null(strstr(b, hx));
    }
    /* (as a number of its own: a hex hash or the signature may hold the
     * digits "1003" by chance) */
    for (const char *at = b; (at = strstr(at, "1003")) != NULL; at++)
        assert_true((at > b && strchr("0123456789abcdef", at[-1]) != NULL) ||
                    (at[4] != '\0' && strchr("0123456789abcdef", at[4]) != NULL));
    free(b);

    /* a failure on the first file: nothing passed, no mechanism */
    flip_after(file_in(dir, 1), "\"signature\": \"", 3, 'c');
    assert_status(lethe_cert_verify(ctx, dir, NULL, NULL, &rep), LETHE_EVERIFY);
    assert_int_equal(rep.checked, 0);
    assert_int_equal(rep.mechanism, 0);
    assert_int_equal(rep.idealised, 0);
}

/* ─── Tampering ──────────────────────────────────────────────────────────── */

static void test_tamper_bytes(void **state)
{
    lethe_ctx *ctx = *state;
    /* a number changed to another canonical one: only the signature sees it */
    const char *dir = make_ledger(ctx, "flip-number");
    flip_after(file_in(dir, 2), "\"d\": ", 0, '7');
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_SIGNATURE, 2, "00000002.json");
    /* a digit deep inside a %.17g number: no longer the one spelling */
    dir = make_ledger(ctx, "flip-digit");
    flip_after(file_in(dir, 2), "\"residual\": 0.", 1, '4');
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_PARSE, 2, "canonical");

    dir = make_ledger(ctx, "flip-id");
    flip_after(file_in(dir, 2), "\"ids\": [\n    \"", 63, 'a');
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_SIGNATURE, 2, NULL);

    dir = make_ledger(ctx, "flip-signature");
    flip_after(file_in(dir, 3), "\"signature\": \"", 17, 'f');
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_SIGNATURE, 3, NULL);

    dir = make_ledger(ctx, "flip-seeded");
    set_member(file_in(dir, 1), "seeded", "true, \"warning\": \"x\"");
    expect_failure(ctx, dir, NULL, NULL, LETHE_CHECK_PARSE, 1, "warning");
}

static void test_tamper_chain(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "swap");
    const char *tmp = tpath("swap-tmp");
    assert_int_equal(rename(file_in(dir, 2), tmp), 0);
    assert_int_equal(rename(file_in(dir, 3), file_in(dir, 2)), 0);
    assert_int_equal(rename(tmp, file_in(dir, 3)), 0);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 2, "holds seq 3");

    dir = make_ledger(ctx, "delete-middle");
    assert_int_equal(unlink(file_in(dir, 2)), 0);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 2, "gap");

    dir = make_ledger(ctx, "gap");
    assert_int_equal(rename(file_in(dir, 3), file_in(dir, 5)), 0);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 3, "gap before 00000005");

    /* a certificate replaced by a validly signed one for another model */
    dir = make_ledger(ctx, "model-chain");
    set_member(file_in(dir, 3), "model_before", "\"" "0123456789abcdef0123456789abcdef"
                                                 "0123456789abcdef0123456789abcdef\"");
    resign(file_in(dir, 3), sk);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 3, "model_before");

    /* an edited, re-signed middle file breaks the next file's prev */
    dir = make_ledger(ctx, "prev");
    set_number(file_in(dir, 2), "residual", 0.5);
    set_number(file_in(dir, 2), "remaining_after", BUDGET - 0.5);
    resign(file_in(dir, 2), sk);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 3, "prev");

    /* first file with a non-zero prev, on its own */
    dir = make_ledger(ctx, "first-prev");
    set_member(file_in(dir, 1), "prev", "\"" "0123456789abcdef0123456789abcdef"
                                         "0123456789abcdef0123456789abcdef\"");
    resign(file_in(dir, 1), sk);
    expect_failure(ctx, file_in(dir, 1), public_key, NULL, LETHE_CHECK_CHAIN, 1, "prev");

    /* empty ledger */
    assert_int_equal(mkdir(tpath("empty"), 0755), 0);
    expect_failure(ctx, tpath("empty"), NULL, NULL, LETHE_CHECK_CHAIN, 0, "no certificate");
}

static void test_tamper_keys_and_model(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "keys");
    /* another trusted key */
    assert_status(lethe_keygen(ctx, tpath("k3.key"), tpath("k3.pub")), LETHE_OK);
    expect_failure(ctx, dir, tpath("k3.pub"), NULL, LETHE_CHECK_SIGNER, 1, "trusted key");
    /* a file signed by another key inside an unpinned ledger */
    unsigned char sk3[64];
    read_sk(tpath("k3.key"), sk3);
    resign(file_in(dir, 2), sk3);
    expect_failure(ctx, dir, NULL, NULL, LETHE_CHECK_SIGNER, 2, "first file");
    /* that file alone verifies (unpinned) but not against the owner's key */
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, file_in(dir, 2), NULL, NULL, &rep), LETHE_OK);
    expect_failure(ctx, file_in(dir, 2), public_key, NULL, LETHE_CHECK_SIGNER, 2, NULL);

    /* the model file changed */
    dir = make_ledger(ctx, "model");
    expect_failure(ctx, dir, public_key, model_path(2), LETHE_CHECK_MODEL, 3, "model_after");
    write_text(tpath("model3-edited.txt"), "lethe-public-model 1\nweights\n3.386\n");
    expect_failure(ctx, dir, public_key, tpath("model3-edited.txt"), LETHE_CHECK_MODEL, 3,
                   NULL);
    assert_status(lethe_cert_verify(ctx, dir, public_key, tpath("none"), &rep), LETHE_EIO);

    /* key files */
    write_text(tpath("bad.pub"), "lethe-ed25519-public 00\n");
    assert_status(lethe_cert_verify(ctx, dir, tpath("bad.pub"), NULL, &rep), LETHE_EFORMAT);
    assert_status(lethe_cert_verify(ctx, dir, tpath("none.pub"), NULL, &rep), LETHE_EIO);
    assert_status(lethe_cert_verify(ctx, tpath("none"), NULL, NULL, &rep), LETHE_EIO);
    assert_status(lethe_cert_verify(ctx, NULL, NULL, NULL, &rep), LETHE_EINVAL);
    assert_status(lethe_cert_verify(ctx, dir, NULL, NULL, NULL), LETHE_EINVAL);
    assert_status(lethe_cert_verify(NULL, dir, NULL, NULL, &rep), LETHE_EINVAL);
}

typedef struct syntax_edit {
    const char *key, *value, *why;
} syntax_edit;

/* Each edit, applied alone to a fresh copy of good at path, fails PARSE
 * with its why in the message. */
static void parse_failures(lethe_ctx *ctx, const char *path, const char *good, size_t len,
                           const syntax_edit *edits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        spit(path, good, len);
        set_member(path, edits[i].key, edits[i].value);
        lethe_verify_report rep;
        assert_status(lethe_cert_verify(ctx, path, NULL, NULL, &rep), LETHE_EVERIFY);
        if (rep.failed != LETHE_CHECK_PARSE || strstr(lethe_ctx_errmsg(ctx), edits[i].why) == NULL) {
            print_error("edit %zu (%s): check %s, message \"%s\", expected parse and \"%s\"\n", i,
                        edits[i].key, lethe_cert_check_name(rep.failed), lethe_ctx_errmsg(ctx),
                        edits[i].why);
            fail();
        }
    }
}

/* Text edits that the strict parser must refuse, each on file 1 alone. */
static void test_tamper_syntax(void **state)
{
    lethe_ctx *ctx = *state;
    static const syntax_edit edits[] = {
        { "d", "5,\n  \"d\": 5", "duplicate member \"d\"" },
        { "d", "5,\n  \"colour\": 5", "unknown member \"colour\"" },
        { "sampler", "\"box\\x\"", "bad escape" },
        { "sampler", "\"box\xff\"", "invalid UTF-8" },
        { "sampler", "\"box\xc0\xaf\"", "invalid UTF-8" },
        { "sampler", "\"box\xed\xa0\x80\"", "invalid UTF-8" },
        { "sampler", "\"box\\ud800\"", "surrogate" },
        { "sampler", "\"box\\u0000\"", "\\u0000" },
        { "sampler", "\"box\tx\"", "control character" },
        { "sampler", "\"box\\u0041\"", "canonical" },
        { "sampler", "\"\"", "empty sampler" },
        { "epsilon", "1e999", "out of range" },
        { "epsilon", "NaN", "expected a number" },
        { "epsilon", "01", "expected ','" },
        { "epsilon", "1.0", "canonical" },
        { "epsilon", "-", "expected a number" },
        { "seq", "1.5", "integer" },
        { "seq", "-1", "integer" },
        { "seq", "99999999999999999999", "out of range" },
        { "k", "2", "\"ids\" holds 3" },
        { "mechanism", "\"M4\"", "neither" },
        { "mechanism", "\"M2\"", "does not belong" },
        { "time", "\"2026-02-30T00:00:00Z\"", "UTC time" },
        { "time", "\"2026-01-01 00:00:00Z\"", "UTC time" },
        { "model_after", "\"ABCDEF\"", "hex" },
        { "model_after", "\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"",
          "hex" },
        { "format", "\"lethe-certificate-4\"", "format is not" },
        /* format 2 has no features, format 1 no statement either */
        { "format", "\"lethe-certificate-2\"", "member \"features\" does not belong" },
        { "format", "\"lethe-certificate-1\"", "does not belong" },
        { "features_hash", "\"ABC\"", "features_hash is not 64 lowercase hex digits" },
        { "features", "\"\"", "empty features" },
        { "seeded", "yes", "seeded" },
        { "seeded", "true", "missing member \"warning\"" },
        { "d", "5 ", "canonical" },
    };
    const char *dir = make_ledger(ctx, "syntax");
    size_t len;
    char *good = slurp(file_in(dir, 1), &len);
    parse_failures(ctx, file_in(dir, 1), good, len, edits, sizeof edits / sizeof edits[0]);
    /* whole-file damage */
    spit(file_in(dir, 1), good, len / 2);
    expect_failure(ctx, file_in(dir, 1), NULL, NULL, LETHE_CHECK_PARSE, 0, "parse");
    spit(file_in(dir, 1), good, len - 1);
    expect_failure(ctx, file_in(dir, 1), NULL, NULL, LETHE_CHECK_PARSE, 0, "canonical");
    char *more = malloc(len + 8);
    memcpy(more, good, len);
    memcpy(more + len, "{}\n", 3);
    spit(file_in(dir, 1), more, len + 3);
    expect_failure(ctx, file_in(dir, 1), NULL, NULL, LETHE_CHECK_PARSE, 0, "trailing");
    free(more);
    spit(file_in(dir, 1), "", 0);
    expect_failure(ctx, file_in(dir, 1), NULL, NULL, LETHE_CHECK_PARSE, 0, "expected '{'");
    spit(file_in(dir, 1), "[]", 2);
    expect_failure(ctx, file_in(dir, 1), NULL, NULL, LETHE_CHECK_PARSE, 0, "expected '{'");
    /* oversized */
    size_t big = (1u << 20) + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    spit(file_in(dir, 1), huge, big);
    free(huge);
    expect_failure(ctx, file_in(dir, 1), NULL, NULL, LETHE_CHECK_FILE, 0, "larger than");
    /* in the ledger, the damaged file is named by its number */
    spit(file_in(dir, 1), good, len / 3);
    expect_failure(ctx, dir, NULL, NULL, LETHE_CHECK_PARSE, 1, "00000001.json");
    free(good);
}

/* Every single-byte change and every truncation of a certificate fails,
 * and none crashes. */
static void test_every_byte(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "bytes");
    size_t len;
    char *good = slurp(file_in(dir, 2), &len);
    char *b = malloc(len);
    lethe_verify_report rep;
    for (size_t i = 0; i < len; i++) {
        memcpy(b, good, len);
        b[i] = (char)(b[i] ^ (i % 3 == 0 ? 0x01 : i % 3 == 1 ? 0x20 : 0x80));
        spit(file_in(dir, 2), b, len);
        lethe_status st = lethe_cert_verify(ctx, file_in(dir, 2), NULL, NULL, &rep);
        if (st != LETHE_EVERIFY) {
            print_error("byte %zu changed: status %s\n", i, lethe_strerror(st));
            fail();
        }
        spit(file_in(dir, 2), good, i);
        assert_status(lethe_cert_verify(ctx, file_in(dir, 2), NULL, NULL, &rep), LETHE_EVERIFY);
        assert_int_equal(rep.failed, LETHE_CHECK_PARSE);
    }
    free(b);
    free(good);
}

/* ─── Numbers ────────────────────────────────────────────────────────────── */

/* Put value (and value2, if key2 is not NULL) into a fresh copy of the
 * good file, sign it again, and expect the NUMBERS check to fail with
 * needle in its message — or, with needle NULL, the file to verify. */
static void numbers_case(lethe_ctx *ctx, const char *path, const char *good, size_t len,
                         uint64_t seq, const char *key, const char *value, const char *key2,
                         const char *value2, const char *needle)
{
    spit(path, good, len);
    set_member(path, key, value);
    if (key2 != NULL)
        set_member(path, key2, value2);
    resign(path, sk);
    if (needle != NULL) {
        expect_failure(ctx, path, public_key, NULL, LETHE_CHECK_NUMBERS, seq, needle);
    } else {
        lethe_verify_report rep;
        assert_status(lethe_cert_verify(ctx, path, public_key, NULL, &rep), LETHE_OK);
    }
}

static const char *num(double v)
{
    static char buf[8][40];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%.17g", v);
    return buf[k];
}

static void test_numbers(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "numbers");
    size_t len1, len3;
    const char *f1 = file_in(dir, 1), *f3 = file_in(dir, 3);
    char *m1 = slurp(f1, &len1), *m2 = slurp(f3, &len3);
    const double r = 0.125, need = lethe_guo_c(DELTA) * r / EPSILON;
    lethe_certificate c3 = cert_for(3);
    const double floor_delta = lethe_gdp_delta(c3.sensitivity / c3.sigma, EPSILON);

    /* M1: residual above the budget (remaining_after kept consistent) */
    numbers_case(ctx, f1, m1, len1, 1, "residual", num(BUDGET * 1.001), "remaining_after",
                 num(BUDGET - BUDGET * 1.001), "exceeds the budget");
    /* M1: remaining_after not budget − residual */
    numbers_case(ctx, f1, m1, len1, 1, "remaining_after", num(BUDGET), NULL, NULL,
                 "remaining_after");
    /* M1: ε below c(δ − δ_s)·r/σ (σ smaller than the residual needs); just
     * above the bound passes: the bound is the verifier's, not a margin */
    numbers_case(ctx, f1, m1, len1, 1, "sigma", num(need * 0.999), NULL, NULL, "c(δ − δ_s)");
    numbers_case(ctx, f1, m1, len1, 1, "sigma", num(need * 1.0001), NULL, NULL, NULL);
    /* M1: δ not above the sampler's charge (1 + e^ε)·d·τ */
    numbers_case(ctx, f1, m1, len1, 1, "delta", num(1e-15), NULL, NULL, "sampler's charge");
    /* M2: δ below δ(ε) of μ-GDP; δ(ε) itself is not enough either (d·τ) */
    numbers_case(ctx, f3, m2, len3, 3, "delta", num(floor_delta * 0.99), NULL, NULL, "μ-GDP");
    numbers_case(ctx, f3, m2, len3, 3, "delta", num(floor_delta), NULL, NULL, "μ-GDP");
    /* M2: over capacity, counts that do not add up, no sensitivity */
    numbers_case(ctx, f3, m2, len3, 3, "capacity", "5", NULL, NULL, "capacity");
    numbers_case(ctx, f3, m2, len3, 3, "used_after", "7", NULL, NULL, "used_before");
    numbers_case(ctx, f3, m2, len3, 3, "sensitivity", "0", NULL, NULL, "sensitivity");
    /* format 2 names the sampler whose charges the verifier applies, and no
     * other (format 1's fixture, with another name, is checked in
     * test_format_1) */
    numbers_case(ctx, f1, m1, len1, 1, "sampler",
                 "\"box-muller-f64 (provisional: float transform)\"", NULL, NULL,
                 "the sampler is not");
    free(m1);
    free(m2);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

/* ─── guo's statement (format 2) ─────────────────────────────────────────── */

static void test_guo_statement(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "guo");
    const char *f = file_in(dir, 1);
    size_t len;
    char *good = slurp(f, &len);
    lethe_verify_report rep;

    /* round trip: parsed, the same fields (the parser also requires the
     * bytes to be their canonical form, written again) */
    const lethe_certificate c = cert_for(1);
    reads_back_as(ctx, good, len, &c);
    assert_status(lethe_cert_verify(ctx, f, public_key, model_path(1), &rep), LETHE_OK);
    assert_int_equal(rep.mechanism, LETHE_MECH_M1);
    assert_int_equal(rep.idealised, 1);
    /* the control: signed again unchanged, it still verifies */
    resign(f, sk);
    assert_status(lethe_cert_verify(ctx, f, public_key, NULL, &rep), LETHE_OK);

    /* without the statement, or with another one, even signed: refused */
    set_line(f, "statement", NULL);
    resign(f, sk);
    expect_failure(ctx, f, public_key, NULL, LETHE_CHECK_PARSE, 0,
                   "missing member \"statement\"");
    static const char *const others[] = {
        "  \"statement\": \"guo: Guo et al.'s guarantee, proven\",\n",
        "  \"statement\": \"\",\n",
        /* one character off: "idealized" */
        "  \"statement\": \"guo: Guo et al.'s idealized statement, not a proven guarantee; "
        "residual, budget and remaining depend on the owner's secret noise b and are the "
        "owner's figures\",\n",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        spit(f, good, len);
        set_line(f, "statement", others[i]);
        resign(f, sk);
        expect_failure(ctx, f, public_key, NULL, LETHE_CHECK_PARSE, 0,
                       "statement is not guo's fixed text");
    }
    /* the right text in another place: not the one spelling */
    spit(f, good, len);
    set_line(f, "statement", NULL);
    set_line(f, "d", "  \"statement\": \"" STATEMENT "\",\n  \"d\": 5,\n");
    resign(f, sk);
    expect_failure(ctx, f, public_key, NULL, LETHE_CHECK_PARSE, 0, "canonical");
    /* and not on M2 */
    const char *f3 = file_in(dir, 3);
    set_line(f3, "sampler", "  \"statement\": \"" STATEMENT "\",\n"
                            "  \"sampler\": \"" LETHE__SAMPLER_NAME "\",\n");
    resign(f3, sk);
    expect_failure(ctx, f3, public_key, NULL, LETHE_CHECK_PARSE, 0,
                   "member \"statement\" does not belong");
    free(good);
}

/* ─── M2's public parameters (format 2) ──────────────────────────────────── */

static void test_m2_numbers(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "m2-numbers");
    const char *f = file_in(dir, 3);
    size_t len;
    char *good = slurp(f, &len);
    const lethe_certificate c = cert_for(3);
    const double floor_sens = m2_floor(&c);
    /* the owner's Δ is the rebuilt one (a hair above: calibration rounds up) */
    assert_close(c.sensitivity, floor_sens, 1e-14, 0.0);

    /* control: signed again unchanged, it passes */
    numbers_case(ctx, f, good, len, 3, "used_after", "6", NULL, NULL, NULL);
    /* the sensitivity: the rebuilt floor itself passes, just below it does not */
    numbers_case(ctx, f, good, len, 3, "sensitivity", num(floor_sens), NULL, NULL, NULL);
    numbers_case(ctx, f, good, len, 3, "sensitivity", num(floor_sens * (1.0 - 1e-6)), NULL,
                 NULL, "sensitivity");
    /* each public parameter moved so that the rebuilt Δ exceeds the stated one */
    numbers_case(ctx, f, good, len, 3, "n", "400", NULL, NULL, "sensitivity");
    numbers_case(ctx, f, good, len, 3, "lambda", num(M2_LAMBDA * 0.99), NULL, NULL,
                 "sensitivity");
    numbers_case(ctx, f, good, len, 3, "R", num(M2_R * 1.01), NULL, NULL, "sensitivity");
    numbers_case(ctx, f, good, len, 3, "tol", num(M2_TOL * 10.0), NULL, NULL, "sensitivity");
    numbers_case(ctx, f, good, len, 3, "capacity", "11", NULL, NULL, "sensitivity");
    /* moved the other way the stated Δ over-delivers: it passes */
    numbers_case(ctx, f, good, len, 3, "n", "413", NULL, NULL, NULL);
    numbers_case(ctx, f, good, len, 3, "lambda", num(M2_LAMBDA * 1.01), NULL, NULL, NULL);
    numbers_case(ctx, f, good, len, 3, "tol", num(M2_TOL * 0.1), NULL, NULL, NULL);
    /* parameters out of range */
    numbers_case(ctx, f, good, len, 3, "capacity", "207", NULL, NULL, "out of range");
    numbers_case(ctx, f, good, len, 3, "tol", "0", NULL, NULL, "out of range");
    numbers_case(ctx, f, good, len, 3, "lambda", num(-M2_LAMBDA), NULL, NULL, "out of range");
    numbers_case(ctx, f, good, len, 3, "R", "0", NULL, NULL, "out of range");
    /* R² > 2λn: outside the range of the rounding bound (LTH-C-0011) */
    numbers_case(ctx, f, good, len, 3, "R", "40", NULL, NULL, "rounding is bounded");
    /* σ must still calibrate the stated Δ */
    numbers_case(ctx, f, good, len, 3, "sigma", num(c.sigma * 0.98), NULL, NULL, "μ-GDP");
    free(good);
}

/* Put members (key, value pairs, NULL-terminated) into file seq of dir and
 * sign it again. */
static void edit_resign(const char *dir, int seq, const char *const *kv)
{
    for (; kv[0] != NULL; kv += 2)
        set_member(file_in(dir, seq), kv[0], kv[1]);
    resign(file_in(dir, seq), sk);
}

/* The M2 certificate that follows cert_for(3): removals 6 → 8, model 3 → 0. */
static lethe_certificate m2_next(void)
{
    lethe_certificate c = cert_for(3);
    memcpy(c.model_before, model_hash[3], LETHE_HEX32_LEN);
    memcpy(c.model_after, model_hash[0], LETHE_HEX32_LEN);
    c.used_before = 6;
    c.used_after = 8;
    return c;
}

static void test_m2_chain(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_verify_report rep;
    const lethe_certificate c = m2_next();
    /* the control: M2 after M2 with the model's parameters */
    const char *dir = make_ledger(ctx, "m2-chain");
    assert_status(lethe_cert_write(ctx, dir, &c, secret, NULL, 0), LETHE_OK);
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(0), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 4);
    assert_int_equal(rep.mechanism, LETHE_MECH_M2);

    /* each edit leaves file 4 valid on its own, but not after file 3 */
    static const struct {
        const char *key, *value, *key2, *value2, *why;
    } edits[] = {
        { "lambda", "0.25", NULL, NULL, "lambda = 0.25 differs" },
        /* 2⁻³⁷, below M2_TOL (and spelt as %.17g spells it) */
        { "tol", "7.2759576141834259e-12", NULL, NULL, "tol = 7.2759576141834259e-12 differs" },
        { "n", "413", NULL, NULL, "n, the capacity or d differ" },
        { "capacity", "9", NULL, NULL, "n, the capacity or d differ" },
        { "sigma", NULL, NULL, NULL, "sigma = " },
        { "used_before", "7", "used_after", "9", "used_before 7 is not" },
    };
    char sigma[40];
    snprintf(sigma, sizeof sigma, "%.17g", c.sigma * 1.01);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "m2-chain-%zu", i);
        dir = make_ledger(ctx, name);
        assert_status(lethe_cert_write(ctx, dir, &c, secret, NULL, 0), LETHE_OK);
        const char *const kv[] = { edits[i].key, edits[i].value != NULL ? edits[i].value : sigma,
                                   edits[i].key2, edits[i].value2, NULL };
        edit_resign(dir, 4, kv);
        if (lethe_cert_verify(ctx, file_in(dir, 4), public_key, NULL, &rep) != LETHE_OK) {
            print_error("edit %zu (%s): %s\n", i, edits[i].key, lethe_ctx_errmsg(ctx));
            fail();
        }
        expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 4, edits[i].why);
    }

    /* the writer refuses what the verifier would */
    dir = make_ledger(ctx, "m2-chain-write");
    lethe_certificate bad = c;
    bad.lambda = M2_LAMBDA * 1.01;
    assert_status(lethe_cert_write(ctx, dir, &bad, secret, NULL, 0), LETHE_EINVAL);
    assert_msg_has(ctx, "lambda");
    bad = c;
    bad.used_before = 5;
    bad.used_after = 7;
    assert_status(lethe_cert_write(ctx, dir, &bad, secret, NULL, 0), LETHE_EINVAL);
    assert_msg_has(ctx, "used_before 5");
    assert_int_equal(count_files(dir), 3);
}

/* ─── Format 1 ───────────────────────────────────────────────────────────── */

/* Turn file seq of dir into format 1 (no statement, no M2 parameters) and
 * sign it again. */
static void to_format_1(const char *dir, int seq)
{
    const char *f = file_in(dir, seq);
    size_t len;
    char *b = slurp(f, &len);
    const int m1 = strstr(b, "\"statement\": ") != NULL, m2 = strstr(b, "\"tol\": ") != NULL;
    free(b);
    set_member(f, "format", "\"lethe-certificate-1\"");
    set_line(f, "features", NULL);
    set_line(f, "features_hash", NULL);
    set_line(f, "classes", NULL);
    if (m1)
        set_line(f, "statement", NULL);
    static const char *const keys[] = { "n", "lambda", "R", "tol" };
    for (size_t i = 0; m2 && i < sizeof keys / sizeof keys[0]; i++)
        set_line(f, keys[i], NULL);
    resign(f, sk);
}

/* Make file seq's prev the hash of file seq − 1 again, and sign it. */
static void rechain(lethe_ctx *ctx, const char *dir, int seq)
{
    char hex[LETHE_HEX32_LEN], v[LETHE_HEX32_LEN + 2];
    assert_status(lethe_cert_hash_file(ctx, file_in(dir, seq - 1), hex), LETHE_OK);
    snprintf(v, sizeof v, "\"%s\"", hex);
    set_member(file_in(dir, seq), "prev", v);
    resign(file_in(dir, seq), sk);
}

static void test_format_1(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_verify_report rep;

    /* the fixture ledger (format 1, written by an earlier lethe) verifies,
     * and each of its files is the canonical format 1 of what it holds */
    const char *data = getenv("LETHE_TEST_DATA");
    char fx[1024], key[1100], model[1100];
    snprintf(fx, sizeof fx, "%s/ledger", data != NULL && *data != '\0' ? data : "tests/data");
    snprintf(key, sizeof key, "%s-owner.pub", fx);
    snprintf(model, sizeof model, "%s-model.txt", fx);
    assert_status(lethe_cert_verify(ctx, fx, key, model, &rep), LETHE_OK);
    assert_int_equal(rep.checked, 3);
    assert_int_equal(rep.model_checked, 1);
    assert_int_equal(rep.mechanism, LETHE_MECH_M2);
    assert_int_equal(rep.idealised, 1);
    for (int i = 1; i <= 3; i++) {
        size_t len;
        char *b = slurp(file_in(fx, i), &len);
        lethe__cert_rec r;
        char why[200];
        assert_status(lethe__cert_parse(ctx, (const unsigned char *)b, len, &r, why, sizeof why),
                      LETHE_OK);
        assert_int_equal(r.c.format, 1);
        lethe__cert_rec_free(ctx, &r);
        assert_null(strstr(b, "statement"));
        free(b);
    }

    /* a ledger of our own in format 1 verifies, and goes on in format 2 */
    const char *dir = make_ledger(ctx, "v1");
    for (int i = 1; i <= 3; i++) {
        to_format_1(dir, i);
        if (i > 1)
            rechain(ctx, dir, i);
    }
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(3), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 3);
    assert_int_equal(rep.idealised, 1);
    size_t len;
    char *b = slurp(file_in(dir, 3), &len);
    assert_non_null(strstr(b, "\"format\": \"lethe-certificate-1\""));
    assert_null(strstr(b, "\"tol\""));
    free(b);
    /* format 1 members in a format 2 file, and the other way round */
    static const syntax_edit v1[] = {
        { "format", "\"lethe-certificate-2\"", "missing member \"n\"" },
    };
    b = slurp(file_in(dir, 3), &len);
    parse_failures(ctx, tpath("v1-edit.json"), b, len, v1, 1);
    free(b);
    const lethe_certificate c = m2_next();
    assert_status(lethe_cert_write(ctx, dir, &c, secret, NULL, 0), LETHE_OK);
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(0), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 4);
    b = slurp(file_in(dir, 4), &len);
    assert_non_null(strstr(b, "\"format\": \"lethe-certificate-3\""));
    free(b);

    /* format 1 then 2 inside the ledger: fine */
    dir = make_ledger(ctx, "v1-v2");
    to_format_1(dir, 1);
    to_format_1(dir, 2);
    rechain(ctx, dir, 2);
    rechain(ctx, dir, 3);
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(3), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 3);

    /* format 2 then 1: each file passes on its own, the ledger does not */
    dir = make_ledger(ctx, "v2-v1");
    to_format_1(dir, 3);
    assert_status(lethe_cert_verify(ctx, file_in(dir, 3), public_key, NULL, &rep), LETHE_OK);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 3, "never goes back");
}

/* ─── Writing ────────────────────────────────────────────────────────────── */

static void test_write_refusals(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_ledger(ctx, "refuse");
    lethe_certificate c = m2_next();
    char out[512] = "";

#define REFUSED(want, needle)                                                     \
    do {                                                                          \
        assert_status(lethe_cert_write(ctx, dir, &bad, secret, out, sizeof out), (want)); \
        assert_msg_has(ctx, (needle));                                            \
        assert_int_equal(count_files(dir), 3);                                    \
    } while (0)

    lethe_certificate bad = c;
    bad.epsilon = NAN;
    REFUSED(LETHE_EINVAL, "not finite");
    bad = c;
    bad.mechanism = (lethe_mechanism)4;
    REFUSED(LETHE_EINVAL, "mechanism");
    bad = c;
    bad.sampler = "box\xff";
    REFUSED(LETHE_EINVAL, "UTF-8");
    bad = c;
    bad.sampler = NULL;
    REFUSED(LETHE_EINVAL, "sampler");
    bad = c;
    bad.seeded = 2;
    REFUSED(LETHE_EINVAL, "seeded");
    bad = c;
    bad.features[0] = '\0';
    REFUSED(LETHE_EINVAL, "features must name the model's map");
    bad = c; /* M2 has no map */
    snprintf(bad.features, sizeof bad.features, "none in=4 bias=1");
    REFUSED(LETHE_EINVAL, "do not describe");
    bad = c;
    bad.ids = NULL;
    REFUSED(LETHE_EINVAL, "no ids");
    bad = c;
    snprintf(bad.time, sizeof bad.time, "2026-13-01T00:00:00Z");
    REFUSED(LETHE_EINVAL, "time");
    bad = c;
    bad.model_after[3] = 'G';
    REFUSED(LETHE_EINVAL, "hex");
    bad = c;
    memcpy(bad.model_before, model_hash[2], LETHE_HEX32_LEN);
    REFUSED(LETHE_EINVAL, "chain would break");
    bad = c;
    bad.used_after = 11;
    bad.k = 5;
    bad.ids = ids;
    bad.used_before = 6;
    REFUSED(LETHE_EINVAL, "would not verify");
    bad = c;
    static const uint64_t twice[] = { 7, 8, 7 };
    bad.ids = twice;
    bad.k = 3;
    bad.used_after = 9;
    REFUSED(LETHE_EINVAL, "twice");
    bad = c;
    bad.mechanism = LETHE_MECH_M1;
    bad.sigma = m1_sigma();
    bad.budget = BUDGET;
    bad.residual = BUDGET * 2;
    bad.remaining_after = -BUDGET;
    REFUSED(LETHE_EINVAL, "exceeds the budget");
    bad = c;
    assert_status(lethe_cert_write(ctx, dir, &bad, secret, out, 10), LETHE_EINVAL);
    assert_status(lethe_cert_write(ctx, dir, &bad, tpath("none.key"), out, sizeof out),
                  LETHE_EIO);
    write_text(tpath("bad.key"), "LETHESK1 but not a key file at all, not even close to one");
    assert_status(lethe_cert_write(ctx, dir, &bad, tpath("bad.key"), out, sizeof out),
                  LETHE_EFORMAT);
    assert_status(lethe_cert_write(ctx, dir, NULL, secret, out, sizeof out), LETHE_EINVAL);
    assert_status(lethe_cert_write(NULL, dir, &bad, secret, out, sizeof out), LETHE_EINVAL);
    /* another owner's key on this ledger */
    assert_status(lethe_keygen(ctx, tpath("k4.key"), tpath("k4.pub")), LETHE_OK);
    assert_status(lethe_cert_write(ctx, dir, &bad, tpath("k4.key"), out, sizeof out),
                  LETHE_EVERIFY);
    assert_msg_has(ctx, "signer");
    assert_int_equal(count_files(dir), 3);

    /* a broken ledger: nothing is appended */
    flip_after(file_in(dir, 2), "\"signature\": \"", 5, 'e');
    assert_status(lethe_cert_write(ctx, dir, &bad, secret, out, sizeof out), LETHE_EVERIFY);
    assert_msg_has(ctx, "ledger is broken");
    assert_msg_has(ctx, "00000002.json");
    assert_int_equal(count_files(dir), 3);

    /* the good one goes through: seq 4, without the caller's seq/prev/sig */
    dir = make_ledger(ctx, "append");
    bad.seq = 77;
    memset(bad.signature, 'x', sizeof bad.signature - 1);
    bad.signature[sizeof bad.signature - 1] = '\0';
    snprintf(bad.time, sizeof bad.time, "2026-02-28T23:59:60Z");
    assert_status(lethe_cert_write(ctx, dir, &bad, secret, NULL, 0), LETHE_OK);
    assert_int_equal(count_files(dir), 4);
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(0), &rep), LETHE_OK);
    assert_int_equal(rep.last_seq, 4);
    size_t len;
    char *b = slurp(file_in(dir, 4), &len);
    assert_non_null(strstr(b, "\"time\": \"2026-02-28T23:59:60Z\""));
    free(b);
    /* a file already at the next name is never replaced */
    write_text(file_in(dir, 5), "placeholder");
    memcpy(bad.model_before, model_hash[0], LETHE_HEX32_LEN);
    assert_status(lethe_cert_write(ctx, dir, &bad, secret, NULL, 0), LETHE_EVERIFY);
    b = slurp(file_in(dir, 5), &len);
    assert_string_equal(b, "placeholder");
    free(b);
}

/* Numbers are written and read in the C locale whatever the host set. */
static void test_locale(void **state)
{
    lethe_ctx *ctx = *state;
    const char *names[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "C.UTF-8" };
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && set == NULL; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    const char *dir = make_ledger(ctx, "locale");
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, dir, public_key, NULL, &rep), LETHE_OK);
    size_t len;
    char *b = slurp(file_in(dir, 1), &len);
    assert_non_null(strstr(b, "\"residual\": 0.125,"));
    free(b);
    setlocale(LC_NUMERIC, "C");
}

/* ─── M3 ─────────────────────────────────────────────────────────────────── */

#define M3_EPSILON 1.385
#define M3_DELTA 2.385e-6
#define M3_LAMBDA 2.385e-3
#define M3_R 1.75
#define M3_DELTA_MAX 0.0385
#define M3_N 240
#define M3_N_MIN 96

/* The history's μ_total and ε_total for c->releases releases of c's
 * sensitivity and σ, as the owner's accountant computes them (rounded up). */
static void m3_history(lethe_certificate *c)
{
    c->mu_total = sqrt((double)c->releases) * c->sensitivity / c->sigma * (1.0 + 1e-15);
    assert_status(lethe__epsilon_with_sampler(c->mu_total, (size_t)c->releases * c->d, c->delta,
                                              &c->epsilon_total),
                  LETHE_OK);
}

/* An M3 certificate of model file i-1 → i (seq i), the model's release
 * i + 1, filled as the owner fills it: σ and Δ from the library's
 * calibration for Δ_max (dp: 2Δ_max + 2R/(λ·n_min)), the history's charges
 * from m3_history. Seq 2 is a release with no removal since the last (k = 0). */
static lethe_certificate m3_cert_for(int i, int dp)
{
    lethe_certificate c;
    memset(&c, 0, sizeof c);
    c.mechanism = LETHE_MECH_M3;
    c.sampler = LETHE__SAMPLER_NAME;
    c.seeded = i == 2;
    c.d = D;
    no_map(&c);
    c.epsilon = M3_EPSILON;
    c.delta = M3_DELTA;
    c.k = i == 1 ? 3 : i == 2 ? 0 : 2;
    c.ids = i == 1 ? ids : i == 2 ? NULL : ids + 4;
    c.loss = LETHE_LOSS_LOGISTIC;
    c.n = M3_N - (i == 3 ? 5 : 3);
    c.lambda = M3_LAMBDA;
    c.R = M3_R;
    c.delta_max = M3_DELTA_MAX;
    c.dp_releases = dp;
    c.dp_min_records = dp ? M3_N_MIN : 0;
    double base = dp ? 2.0 * M3_DELTA_MAX + 2.0 * M3_R / (M3_LAMBDA * M3_N_MIN) : M3_DELTA_MAX;
    lethe_lattice lat;
    assert_status(lethe__calibrate_release(c.epsilon, c.delta, c.d, base * (1.0 + 1e-15),
                                           &c.sensitivity, &c.sigma, &lat),
                  LETHE_OK);
    c.releases = (uint64_t)i + 1;
    m3_history(&c);
    memcpy(c.model_before, model_hash[i - 1], LETHE_HEX32_LEN);
    memcpy(c.model_after, model_hash[i], LETHE_HEX32_LEN);
    return c;
}

/* Write the three M3 certificates into dir (a name in tmpdir). */
static const char *make_m3_ledger(lethe_ctx *ctx, const char *name, int dp)
{
    const char *dir = tpath(name);
    for (int i = 1; i <= 3; i++) {
        lethe_certificate c = m3_cert_for(i, dp);
        assert_status(lethe_cert_write(ctx, dir, &c, secret, NULL, 0), LETHE_OK);
    }
    return dir;
}

/* The lattice step of σ as the sampler documents it, 2^⌈log2(2σ/2^57)⌉. */
static double lattice_step(double sigma)
{
    return ldexp(1.0, (int)ceil(log2(2.0 * sigma / 0x1p57)));
}

static void test_m3_ledger_verifies(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_m3_ledger(ctx, "m3-good", 0);
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(3), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 3);
    assert_int_equal(rep.model_checked, 1);
    assert_int_equal(rep.seeded, 1);
    assert_status(lethe_cert_verify(ctx, file_in(dir, 3), public_key, NULL, &rep), LETHE_OK);

    /* what is read back is what was written, bit for bit */
    size_t len;
    char *b = slurp(file_in(dir, 3), &len);
    lethe_certificate c = m3_cert_for(3, 0);
    reads_back_as(ctx, b, len, &c);

    /* the M3 members, in the format's order, between the ids and model_before */
    static const char *const order[] = {
        "\n  \"mechanism\": \"M3\",\n", "\n  \"ids\": [\n", "\n  ],\n  \"loss\": \"logistic\",\n",
        "\n  \"n\": 235,\n", "\n  \"lambda\": 0.0023", "\n  \"R\": 1.75,\n", "\n  \"delta_max\": ",
        "\n  \"dp_releases\": false,\n", "\n  \"dp_min_records\": 0,\n", "\n  \"sensitivity\": ",
        "\n  \"releases\": 4,\n", "\n  \"mu_total\": ", "\n  \"epsilon_total\": ",
        "\n  \"model_before\": ",
    };
    in_order(b, order, sizeof order / sizeof order[0]);
    assert_null(strstr(b, "residual"));
    assert_null(strstr(b, "capacity"));
    free(b);
    /* a release with no removal since the last one: k = 0, no ids */
    b = slurp(file_in(dir, 2), &len);
    assert_non_null(strstr(b, "\n  \"k\": 0,\n  \"ids\": [\n  ],\n  \"loss\": "));
    assert_non_null(strstr(b, "\n  \"releases\": 3,\n"));
    free(b);

    /* the history's ε is the smallest with δ_GDP(μ_total, ε) + (1 + e^ε)·k·d·τ ≤ δ */
    const double units = (double)c.releases * D * LETHE__LATTICE_TV;
    assert_le(lethe_gdp_delta(c.mu_total, c.epsilon_total) + (1.0 + exp(c.epsilon_total)) * units,
              M3_DELTA);
    const double e2 = c.epsilon_total * (1.0 - 1e-6);
    assert_le(M3_DELTA, lethe_gdp_delta(c.mu_total, e2) + (1.0 + exp(e2)) * units);

    /* with DP releases */
    dir = make_m3_ledger(ctx, "m3-dp", 1);
    assert_status(lethe_cert_verify(ctx, dir, public_key, NULL, &rep), LETHE_OK);
    assert_int_equal(rep.checked, 3);
    b = slurp(file_in(dir, 1), &len);
    assert_non_null(strstr(b, "\n  \"dp_releases\": true,\n  \"dp_min_records\": 96,\n"));
    free(b);

    /* a ledger records one model: its feature map never changes */
    dir = tpath("m3-map");
    lethe_certificate c1 = m3_cert_for(1, 0), c2 = m3_cert_for(2, 0);
    snprintf(c1.features, sizeof c1.features, "none in=4 bias=1");
    assert_status(lethe_cert_write(ctx, dir, &c1, secret, NULL, 0), LETHE_OK);
    assert_status(lethe_cert_write(ctx, dir, &c2, secret, NULL, 0), LETHE_EINVAL);
    assert_msg_has(ctx, "the feature map or the classes differ");
    snprintf(c2.features, sizeof c2.features, "none in=4 bias=1");
    assert_status(lethe_cert_write(ctx, dir, &c2, secret, NULL, 0), LETHE_OK);
}

static void test_m3_syntax(void **state)
{
    lethe_ctx *ctx = *state;
    static const syntax_edit edits[] = {
        { "loss", "\"hinge\"", "loss is not" },
        { "dp_releases", "1", "dp_releases is neither" },
        { "releases", "-2", "integer" },
        { "n", "237.5", "integer" },
        { "epsilon_total", "1e999", "out of range" },
        { "mu_total", "1.50", "canonical" },
        { "mechanism", "\"M2\"", "missing member \"capacity\"" },
        { "mechanism", "\"M1\"", "missing member \"statement\"" },
    };
    const char *dir = make_m3_ledger(ctx, "m3-syntax", 0);
    size_t len;
    char *good = slurp(file_in(dir, 1), &len);
    parse_failures(ctx, file_in(dir, 1), good, len, edits, sizeof edits / sizeof edits[0]);
    /* an M1 certificate turned M3 lacks M3's members and keeps M1's */
    char *m1 = slurp(file_in(make_ledger(ctx, "m3-syntax-m1"), 1), &len);
    static const syntax_edit to_m3[] = { { "mechanism", "\"M3\"", "does not belong" } };
    parse_failures(ctx, file_in(dir, 1), m1, len, to_m3, 1);
    free(m1);
    free(good);
}

static void test_m3_numbers(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_m3_ledger(ctx, "m3-numbers", 0);
    const char *ddir = make_m3_ledger(ctx, "m3-numbers-dp", 1);
    size_t len, dlen;
    const char *f = file_in(dir, 3), *fd = file_in(ddir, 1);
    char *good = slurp(f, &len), *dgood = slurp(fd, &dlen);
    const lethe_certificate c = m3_cert_for(3, 0), cd = m3_cert_for(1, 1);
    /* the sensitivity the verifier rebuilds: Δ_max + g√d */
    const double floor_sens = M3_DELTA_MAX + lattice_step(c.sigma) * sqrt((double)D);

    /* control: the owner's numbers, signed again, pass */
    numbers_case(ctx, f, good, len, 3, "releases", "4", NULL, NULL, NULL);
    numbers_case(ctx, fd, dgood, dlen, 1, "releases", "2", NULL, NULL, NULL);
    /* the sensitivity: the rebuilt floor itself passes, just below it does not */
    numbers_case(ctx, f, good, len, 3, "sensitivity", num(floor_sens), NULL, NULL, NULL);
    numbers_case(ctx, f, good, len, 3, "sensitivity", num(floor_sens * (1.0 - 1e-6)), NULL,
                 NULL, "sensitivity");
    /* with DP releases the floor holds the ERM's 2R/(λ·n_min): Δ_max + g√d is
     * understated, and so is any Δ once λ is smaller than the one calibrated for */
    numbers_case(ctx, fd, dgood, dlen, 1, "sensitivity", num(floor_sens), NULL, NULL,
                 "sensitivity");
    numbers_case(ctx, fd, dgood, dlen, 1, "lambda", num(M3_LAMBDA * 0.97), NULL, NULL,
                 "sensitivity");
    /* σ too small for (ε, δ); a larger σ over-delivers and passes */
    numbers_case(ctx, f, good, len, 3, "sigma", num(c.sigma * 0.98), NULL, NULL, "μ-GDP");
    numbers_case(ctx, f, good, len, 3, "sigma", num(c.sigma * 1.02), NULL, NULL, NULL);
    numbers_case(ctx, f, good, len, 3, "delta", num(M3_DELTA * 0.9), NULL, NULL, "μ-GDP");
    /* the history: μ_total and ε_total understated; overstated passes */
    numbers_case(ctx, f, good, len, 3, "mu_total", num(c.mu_total * 0.999), NULL, NULL,
                 "mu_total");
    numbers_case(ctx, f, good, len, 3, "epsilon_total", num(c.epsilon_total * (1.0 - 1e-6)),
                 NULL, NULL, "epsilon_total");
    numbers_case(ctx, f, good, len, 3, "epsilon_total", num(c.epsilon_total * (1.0 + 1e-6)),
                 NULL, NULL, NULL);
    /* more releases claimed than the charges cover */
    numbers_case(ctx, f, good, len, 3, "releases", "5", NULL, NULL, "mu_total");
    numbers_case(ctx, f, good, len, 3, "releases", "9", "mu_total", num(c.mu_total * 1.5),
                 "epsilon_total");
    /* parameters out of range */
    numbers_case(ctx, f, good, len, 3, "releases", "1", NULL, NULL, "releases = 1");
    /* the feature map: its hash, a canonical description, and widths that give d */
#define SEED64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
    numbers_case(ctx, f, good, len, 3, "features", "\"none in=6\"", NULL, NULL,
                 "features_hash is not the BLAKE2b-256 of features");
    {
        static const char *const maps[][2] = {
            { "none in=6", "do not describe" }, /* d = 5 */
            { "rff in=3 dim=4 gamma=1 seed=" SEED64 " norm=1 bias=1", NULL }, /* 4 + 1 */
            { "relu in=9 dim=6 seed=" SEED64 " norm=1", "do not describe" },
            { "none in=4 bias=0.5", NULL },
            /* not canonical: a short seed, an unknown kind, other spellings */
            { "rff in=3 dim=4 gamma=1 seed=00 norm=1 bias=1", "not a canonical" },
            { "sigmoid in=5", "not a canonical" },
            { "none in=05", "not a canonical" },
            { "none  in=5", "not a canonical" },
            { "none in=4 bias=0.50", "not a canonical" },
            { "rff in=3 dim=5 gamma=1.0 seed=" SEED64 " norm=1", "not a canonical" },
            { "none in=1", "do not describe" }, /* 1 × 1 ≠ 5 with classes = 1 */
        };
        for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
            unsigned char h[32];
            char hx[65], v1[300], v2[80];
            crypto_generichash(h, 32, (const unsigned char *)maps[i][0], strlen(maps[i][0]),
                               NULL, 0);
            sodium_bin2hex(hx, sizeof hx, h, 32);
            snprintf(v1, sizeof v1, "\"%s\"", maps[i][0]);
            snprintf(v2, sizeof v2, "\"%s\"", hx);
            numbers_case(ctx, f, good, len, 3, "features", v1, "features_hash", v2, maps[i][1]);
        }
        /* five one-feature heads make d = 5; two heads are never written */
        unsigned char h[32];
        char hx[65], v2[80];
        crypto_generichash(h, 32, (const unsigned char *)"none in=1", 9, NULL, 0);
        sodium_bin2hex(hx, sizeof hx, h, 32);
        snprintf(v2, sizeof v2, "\"%s\"", hx);
        spit(f, good, len);
        set_member(f, "features", "\"none in=1\"");
        set_member(f, "features_hash", v2);
        set_member(f, "classes", "5");
        resign(f, sk);
        lethe_verify_report rep5;
        assert_status(lethe_cert_verify(ctx, f, public_key, NULL, &rep5), LETHE_OK);
        numbers_case(ctx, f, good, len, 3, "classes", "2", NULL, NULL, "do not describe");
        numbers_case(ctx, f, good, len, 3, "classes", "0", NULL, NULL, "do not describe");
    }
    numbers_case(ctx, f, good, len, 3, "n", "0", NULL, NULL, "out of range");
    numbers_case(ctx, f, good, len, 3, "R", "0", NULL, NULL, "out of range");
    numbers_case(ctx, f, good, len, 3, "delta_max", num(-M3_DELTA_MAX), NULL, NULL,
                 "out of range");
    /* the DP settings */
    numbers_case(ctx, fd, dgood, dlen, 1, "dp_min_records", "238", NULL, NULL,
                 "below dp_min_records");
    numbers_case(ctx, fd, dgood, dlen, 1, "n", "95", NULL, NULL, "below dp_min_records");
    numbers_case(ctx, fd, dgood, dlen, 1, "loss", "\"squared\"", NULL, NULL, "bounded ℓ'");
    /* the other losses with |ℓ'| ≤ 1 have the same DP sensitivity */
    numbers_case(ctx, fd, dgood, dlen, 1, "loss", "\"huber\"", NULL, NULL, NULL);
    numbers_case(ctx, fd, dgood, dlen, 1, "loss", "\"smooth-hinge\"", NULL, NULL, NULL);
    numbers_case(ctx, fd, dgood, dlen, 1, "dp_releases", "false", NULL, NULL,
                 "dp_min_records");
    numbers_case(ctx, fd, dgood, dlen, 1, "dp_min_records", "0", NULL, NULL, "dp_min_records");
    numbers_case(ctx, f, good, len, 3, "dp_releases", "true", NULL, NULL, "dp_min_records");
    /* the DP file's numbers are those of a DP calibration (a control for the above) */
    assert_le(c.sensitivity * 100.0, cd.sensitivity);
    free(good);
    free(dgood);
}

static void test_m3_chain(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_verify_report rep;
    /* release 5 after release 3, with the charges of 5: every file passes on
     * its own, the ledger does not */
    const char *dir = make_m3_ledger(ctx, "m3-skip", 0);
    lethe_certificate c = m3_cert_for(3, 0);
    c.releases = 5;
    m3_history(&c);
    char mu[40], eps[40];
    snprintf(mu, sizeof mu, "%.17g", c.mu_total);
    snprintf(eps, sizeof eps, "%.17g", c.epsilon_total);
    const char *const skip[] = { "releases", "5", "mu_total", mu, "epsilon_total", eps, NULL };
    edit_resign(dir, 3, skip);
    assert_status(lethe_cert_verify(ctx, file_in(dir, 3), public_key, NULL, &rep), LETHE_OK);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 3, "release 5 follows release 3");

    /* the control: signed again unchanged, the last file still continues the chain */
    dir = make_m3_ledger(ctx, "m3-same", 0);
    const char *const none[] = { NULL };
    edit_resign(dir, 3, none);
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(3), &rep), LETHE_OK);

    /* public parameters that change, and records that come back */
    static const struct {
        const char *key, *value, *why;
    } edits[] = {
        { "lambda", "0.0035850000000000001", "lambda" },
        { "delta_max", "0.022499999999999999", "delta_max" },
        { "n", "238", "n = 238 exceeds" },
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "m3-param-%zu", i);
        dir = make_m3_ledger(ctx, name, 0);
        const char *const kv[] = { edits[i].key, edits[i].value, NULL };
        edit_resign(dir, 3, kv);
        assert_status(lethe_cert_verify(ctx, file_in(dir, 3), public_key, NULL, &rep), LETHE_OK);
        expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 3, edits[i].why);
    }

    /* an M3 certificate appended by hand to the M1/M2 ledger */
    dir = make_ledger(ctx, "m3-mixed");
    const char *m3dir = make_m3_ledger(ctx, "m3-mixed-src", 0);
    char prev[LETHE_HEX32_LEN + 2], before[LETHE_HEX32_LEN + 2], hex[LETHE_HEX32_LEN];
    assert_status(lethe_cert_hash_file(ctx, file_in(dir, 3), hex), LETHE_OK);
    snprintf(prev, sizeof prev, "\"%s\"", hex);
    snprintf(before, sizeof before, "\"%s\"", model_hash[3]);
    size_t len;
    char *b = slurp(file_in(m3dir, 2), &len);
    spit(file_in(dir, 4), b, len);
    free(b);
    const char *const mixed[] = { "seq", "4", "prev", prev, "model_before", before, NULL };
    edit_resign(dir, 4, mixed);
    expect_failure(ctx, dir, public_key, NULL, LETHE_CHECK_CHAIN, 4, "mechanism M3 follows M2");
}

static void test_m3_write_refusals(void **state)
{
    lethe_ctx *ctx = *state;
    const char *dir = make_m3_ledger(ctx, "m3-refuse", 0);
    lethe_certificate c = m3_cert_for(3, 0);
    c.releases = 5;
    c.k = 1;
    c.ids = ids + 3;
    c.n = M3_N - 6;
    m3_history(&c);
    memcpy(c.model_before, model_hash[3], LETHE_HEX32_LEN);
    memcpy(c.model_after, model_hash[0], LETHE_HEX32_LEN);
    lethe_certificate bad = c;
    char out[512] = "";
    bad.releases = 6;
    m3_history(&bad);
    REFUSED(LETHE_EINVAL, "release 6 follows release 4");
    bad = c;
    bad.sensitivity = c.sensitivity * 0.5;
    REFUSED(LETHE_EINVAL, "would not verify");
    bad = c;
    bad.epsilon_total = NAN;
    REFUSED(LETHE_EINVAL, "not finite");
    bad = c;
    bad.n = M3_N;
    REFUSED(LETHE_EINVAL, "exceeds the previous");
    bad = cert_for(1);
    memcpy(bad.model_before, model_hash[3], LETHE_HEX32_LEN);
    REFUSED(LETHE_EINVAL, "mechanism M1 follows M3");
    /* and an M3 certificate on the M1/M2 ledger */
    const char *m1dir = make_ledger(ctx, "m3-refuse-m1");
    assert_status(lethe_cert_write(ctx, m1dir, &c, secret, NULL, 0), LETHE_EINVAL);
    assert_msg_has(ctx, "mechanism M3 follows M2");
    assert_int_equal(count_files(m1dir), 3);
    /* the control: the next release goes through and the ledger verifies */
    assert_status(lethe_cert_write(ctx, dir, &c, secret, out, sizeof out), LETHE_OK);
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, dir, public_key, model_path(0), &rep), LETHE_OK);
    assert_int_equal(rep.checked, 4);
    uint64_t seq = 0;
    assert_status(lethe_cert_find_id(ctx, dir, secret, ids[3], &seq), LETHE_OK);
    assert_int_equal(seq, 4);
}

/* ─── Allocation failure ─────────────────────────────────────────────────── */

static void test_alloc_failure(void **state)
{
    (void)state;
    tu_alloc a = { 0, 0, 0 };
    lethe_allocator al = tu_allocator(&a);
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(&al, &ctx), LETHE_OK);
    const char *dir = make_ledger(ctx, "alloc");
    lethe_certificate c = cert_for(1);
    memcpy(c.model_before, model_hash[3], LETHE_HEX32_LEN);
    int done_write = 0, done_verify = 0;
    for (long n = 1; n < 200 && !(done_write && done_verify); n++) {
        lethe_verify_report rep;
        a.count = 0;
        a.fail_at = n;
        if (!done_verify) {
            lethe_status st = lethe_cert_verify(ctx, dir, public_key, NULL, &rep);
            if (st == LETHE_OK)
                done_verify = 1;
            else
                assert_status(st, LETHE_ENOMEM);
        }
        a.count = 0;
        if (!done_write) {
            lethe_status st = lethe_cert_write(ctx, dir, &c, secret, NULL, 0);
            if (st == LETHE_OK) {
                done_write = 1;
                assert_int_equal(count_files(dir), 4);
            } else {
                assert_status(st, LETHE_ENOMEM);
                assert_int_equal(count_files(dir), 3);
            }
        }
        assert_int_equal(a.live, 1); /* the context alone */
    }
    assert_true(done_write && done_verify);
    a.fail_at = 0;
    lethe_verify_report rep;
    assert_status(lethe_cert_verify(ctx, dir, public_key, NULL, &rep), LETHE_OK);
    assert_int_equal(rep.checked, 4);
    lethe_ctx_free(ctx);
    assert_int_equal(a.live, 0);
}

/* The parser on its own: bytes that are not a certificate at all. */
static void test_parser_direct(void **state)
{
    lethe_ctx *ctx = *state;
    static const char *const inputs[] = {
        "", "{", "}", "{\"", "{\"format\"", "{\"format\":", "{\"format\": \"lethe-certificate-1\"",
        "{\"ids\": [", "{\"ids\": [\"", "{\"ids\": [\"00\"]}", "{\"ids\": []}", "\"\\u",
        "{\"sampler\": \"\\ud800\\u0041\"}", "{\"sampler\": \"\\uDBFF\\uDFFF\"}", "{\"k\": 1e5}",
        "{\"seq\": 18446744073709551615}", "{\"seq\": 18446744073709551616}", "{\"seeded\": tru}",
        "{\"epsilon\": 1e-400}", "{\"epsilon\": -0}", "{\"epsilon\": 1.}", "{\"epsilon\": 1e}",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        lethe__cert_rec r;
        char why[200];
        lethe_status st = lethe__cert_parse(ctx, (const unsigned char *)inputs[i],
                                            strlen(inputs[i]), &r, why, sizeof why);
        assert_status(st, LETHE_EVERIFY);
        assert_null(r.idh);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_hash_file, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_ledger_verifies, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_bytes, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_chain, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_keys_and_model, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_syntax, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_every_byte, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_numbers, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_guo_statement, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m2_numbers, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m2_chain, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_format_1, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_write_refusals, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_locale, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m3_ledger_verifies, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m3_syntax, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m3_numbers, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m3_chain, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test_setup_teardown(test_m3_write_refusals, tu_ctx_setup, tu_ctx_teardown),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test_setup_teardown(test_parser_direct, tu_ctx_setup, tu_ctx_teardown),
    };
    return cmocka_run_group_tests_name("cert", tests, setup, teardown);
}
