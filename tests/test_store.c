/*
 * Suite "store": the owner's files at rest (src/io/sfile.c, keyfile.c,
 * state.c, workspace.c): encryption with a key file, the refusal of every
 * wrong key or altered byte, that a saved state holds no byte of a removed
 * record, and the workspace of an M1, an M3 and an M2 model with its ledger:
 * the certificates it writes carry what a verifier needs (guo's statement,
 * M2's public parameters) and verify.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "testutil.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "certify/m2.h"

static char dir[64];

static const char *path_of(const char *name)
{
    static char buf[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", "/tmp/lethe-store-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    if (getenv("TMPDIR") != NULL) { /* prefer the caller's temporary directory */
        char alt[64];
        if (snprintf(alt, sizeof alt, "%s/lethe-store-XXXXXX", getenv("TMPDIR")) < (int)sizeof alt &&
            mkdtemp(alt) != NULL) {
            rmdir(dir);
            memcpy(dir, alt, sizeof dir);
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    assert_true(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_true(fwrite(b, 1, len, f) == len);
    fclose(f);
}

static int contains(const unsigned char *hay, size_t n, const void *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

/* n random records of d features (tu_problem, logistic), rows of norm 1. */
static lethe_dataset *random_dataset(lethe_ctx *ctx, uint64_t seed, size_t n, size_t d)
{
    return tu_dataset(ctx, seed, n, d, LETHE_LOSS_LOGISTIC, LETHE_NORM_NORMALIZE, 1.0);
}

static lethe_model *small_model(lethe_ctx *ctx, size_t n, lethe_dataset **out_ds)
{
    lethe_dataset *ds = random_dataset(ctx, 4242, n, 9);
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.mechanism = LETHE_MECH_M1; /* these are M1 ("guo") tests */
    o.budget = 2.385;
    o.lambda = 1e-2;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    *out_ds = ds;
    return m;
}

/* A removed record's bytes are not in the saved state; a live one's are. */
static void test_state_drops_removed_rows(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    lethe_dataset *ds = NULL;
    lethe_model *m = small_model(ctx, 400, &ds);
    const double *x = lethe_dataset_x(ds);
    uint64_t gone[3] = { 17, 230, 399 };
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, gone, 3, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_status(lethe_model_save(m, path_of("plain.state")), LETHE_OK);
    size_t n;
    unsigned char *b = slurp(path_of("plain.state"), &n);
    for (int t = 0; t < 3; t++)
        assert_false(contains(b, n, x + gone[t] * 9, 9 * sizeof(double)));
    assert_true(contains(b, n, x + 18 * 9, 9 * sizeof(double))); /* the search can succeed */
    free(b);
    /* and the model saved is the model loaded */
    lethe_model *l = NULL;
    assert_status(lethe_model_load(ctx, path_of("plain.state"), &l), LETHE_OK);
    assert_int_equal(lethe_model_rows(l), 397);
    assert_false(lethe_model_has_id(l, 230));
    assert_memory_equal(lethe_model_weights(l), lethe_model_weights(m), 9 * sizeof(double));
    lethe_model_free(l);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* Key files: created once (0600), never replaced, read back; garbage refused
 * and the context's key left as it was. */
static void test_key_files(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    const char *k1 = path_of("one.key");
    assert_status(lethe_key_create(ctx, k1), LETHE_OK);
    struct stat sb;
    assert_int_equal(stat(k1, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_status(lethe_key_create(ctx, k1), LETHE_EINVAL); /* not replaced */
    assert_non_null(strstr(lethe_ctx_errmsg(ctx), "already exists"));
    assert_status(lethe_ctx_set_key_file(ctx, k1), LETHE_OK);
    spit(path_of("junk.key"), (const unsigned char *)"LETHEKEY but not a key at all, no", 34);
    assert_status(lethe_ctx_set_key_file(ctx, path_of("junk.key")), LETHE_EFORMAT);
    assert_status(lethe_ctx_set_key_file(ctx, path_of("missing.key")), LETHE_EIO);
    assert_status(lethe_ctx_set_key_file(ctx, NULL), LETHE_OK);
    assert_status(lethe_ctx_set_key_file(NULL, k1), LETHE_EINVAL);
    lethe_ctx_free(ctx);
}

/* Encrypted at rest: no plaintext in the file, the same model back with
 * the key, and a clear refusal without it, with another key, or after any
 * change: a flipped byte anywhere, a cut at a chunk boundary, a swapped
 * chunk. */
static void test_state_encrypted(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    assert_status(lethe_key_create(ctx, path_of("a.key")), LETHE_OK);
    assert_status(lethe_key_create(ctx, path_of("b.key")), LETHE_OK);
    lethe_dataset *ds = NULL;
    lethe_model *m = small_model(ctx, 2500, &ds);
    assert_status(lethe_ctx_set_key_file(ctx, path_of("a.key")), LETHE_OK);
    const char *sp = path_of("enc.state");
    assert_status(lethe_model_save(m, sp), LETHE_OK);
    size_t n;
    unsigned char *b = slurp(sp, &n);
    assert_memory_equal(b, "LETHEENC", 8);
    assert_false(contains(b, n, "LETHEST1", 8));
    assert_false(contains(b, n, lethe_dataset_x(ds) + 5 * 9, 9 * sizeof(double)));
    assert_true(n > 65536 + 64); /* several chunks: the chunk logic is exercised */
    lethe_model *l = NULL;
    assert_status(lethe_model_load(ctx, sp, &l), LETHE_OK);
    assert_memory_equal(lethe_model_weights(l), lethe_model_weights(m), 9 * sizeof(double));
    lethe_model_free(l);
    /* the public file is never encrypted */
    assert_status(lethe_model_save_public(m, path_of("m.public")), LETHE_OK);
    size_t pn;
    unsigned char *pb = slurp(path_of("m.public"), &pn);
    assert_false(contains(pb, pn, "LETHEENC", 8));
    free(pb);
    /* another key, no key */
    assert_status(lethe_ctx_set_key_file(ctx, path_of("b.key")), LETHE_OK);
    assert_status(lethe_model_load(ctx, sp, &l), LETHE_EINVAL);
    assert_non_null(strstr(lethe_ctx_errmsg(ctx), "another key"));
    assert_status(lethe_ctx_set_key_file(ctx, NULL), LETHE_OK);
    assert_status(lethe_model_load(ctx, sp, &l), LETHE_EINVAL);
    assert_non_null(strstr(lethe_ctx_errmsg(ctx), "give the key file"));
    assert_status(lethe_ctx_set_key_file(ctx, path_of("a.key")), LETHE_OK);
    /* a flipped byte anywhere: header, first chunk, middle, last byte */
    const size_t at[] = { 3, 20, 40, 60, 1000, 65536 + 70, n / 2, n - 1 };
    const char *tp = path_of("tampered.state");
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        b[at[i]] ^= 0x10;
        spit(tp, b, n);
        b[at[i]] ^= 0x10;
        l = NULL;
        lethe_status st = lethe_model_load(ctx, tp, &l);
        if (st == LETHE_OK)
            fail_msg("a flipped byte at %zu was not noticed", at[i]);
        assert_null(l);
    }
    /* cut after the first chunk (the file then ends on an unmarked chunk) */
    const size_t first = 48 + 65536 + 17;
    spit(tp, b, first);
    assert_status(lethe_model_load(ctx, tp, &l), LETHE_EFORMAT);
    /* cut anywhere else */
    spit(tp, b, n - 5);
    assert_status(lethe_model_load(ctx, tp, &l), LETHE_EFORMAT);
    /* the first two chunks swapped */
    unsigned char *sw = malloc(n);
    memcpy(sw, b, n);
    memcpy(sw + 48, b + first, 65536 + 17);
    memcpy(sw + first, b + 48, 65536 + 17);
    spit(tp, sw, n);
    assert_status(lethe_model_load(ctx, tp, &l), LETHE_EFORMAT);
    free(sw);
    free(b);
    /* the M2 state goes through the same layer */
    lethe_m2_options o;
    lethe_m2_options_init(&o);
    o.lambda = 1.0;
    o.capacity = 10;
    lethe_m2 *m2 = NULL;
    assert_status(lethe_m2_train(ctx, ds, &o, &m2), LETHE_OK);
    assert_status(lethe_m2_save(m2, path_of("m2.state")), LETHE_OK);
    unsigned char *b2 = slurp(path_of("m2.state"), &n);
    assert_memory_equal(b2, "LETHEENC", 8);
    free(b2);
    lethe_m2 *l2 = NULL;
    assert_status(lethe_m2_load(ctx, path_of("m2.state"), &l2), LETHE_OK);
    assert_memory_equal(lethe_m2_weights(l2), lethe_m2_weights(m2), 9 * sizeof(double));
    lethe_m2_free(l2);
    lethe_m2_free(m2);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("leftover", f);
    fclose(f);
}

/* The workspace API: what it refuses, and that open() removes exactly what
 * an interrupted change leaves on either side of the commit point. */
static void test_workspace_api(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    char wdir[128];
    snprintf(wdir, sizeof wdir, "%s", path_of("ws")); /* path_of's buffers rotate */
    lethe_workspace *ws = NULL;
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_EIO); /* none yet */
    assert_status(lethe_workspace_init(ctx, wdir, NULL), LETHE_OK);
    assert_status(lethe_workspace_init(ctx, wdir, NULL), LETHE_EINVAL); /* made once */
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_OK);
    lethe_workspace_info info;
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.mechanism, 0);
    assert_null(lethe_workspace_path(ws, LETHE_WS_STATE)); /* no model yet */
    lethe_model *m = NULL;
    assert_status(lethe_workspace_load_model(ws, &m), LETHE_EINVAL);
    lethe_dataset *ds = NULL;
    lethe_model *model = small_model(ctx, 300, &ds);
    uint64_t id = 12;
    assert_status(lethe_workspace_save_model(ws, model, &id, 1, NULL), LETHE_EINVAL);
    assert_status(lethe_workspace_save_model(ws, model, NULL, 0, NULL), LETHE_OK);
    /* after the first save, every change needs the report before it */
    assert_status(lethe_workspace_save_model(ws, model, NULL, 0, NULL), LETHE_EINVAL);
    lethe_m2 *m2 = NULL;
    assert_status(lethe_workspace_load_m2(ws, &m2), LETHE_EINVAL); /* it holds M1 */
    lethe_budget before;
    lethe_model_budget(model, &before);
    lethe_removal_report rep;
    assert_status(lethe_model_remove(model, &id, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_status(lethe_workspace_save_model(ws, model, &id, 1, &before), LETHE_OK);
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.generation, 2);
    assert_int_equal(info.certificates, 1);
    /* the removed record's bytes are in no file of the workspace */
    size_t n;
    unsigned char *b = slurp(lethe_workspace_path(ws, LETHE_WS_STATE), &n);
    assert_false(contains(b, n, lethe_dataset_x(ds) + 12 * 9, 9 * sizeof(double)));
    free(b);
    assert_int_equal(access(path_of("ws/state.00000001"), F_OK), -1); /* generation 1 is gone */
    lethe_workspace_close(ws);
    /* leftovers of an interrupted change, both before and after the commit */
    touch(path_of("ws/state.00000003"));
    touch(path_of("ws/model.00000003.public"));
    touch(path_of("ws/state.00000001"));
    touch(path_of("ws/HEAD.Xa1b2c"));
    touch(path_of("ws/ledger/00000002.json.Qq9z8y"));
    /* a certificate beyond HEAD that does not continue the ledger into the
     * next generation is no interrupted change: refused, nothing removed */
    touch(path_of("ws/ledger/00000002.json"));
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_EFORMAT);
    assert_non_null(strstr(lethe_ctx_errmsg(ctx), "do not match its ledger"));
    assert_int_equal(access(path_of("ws/state.00000003"), F_OK), 0);
    assert_int_equal(unlink(path_of("ws/ledger/00000002.json")), 0);
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_OK);
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.recovered, 5);
    assert_int_equal(access(path_of("ws/state.00000003"), F_OK), -1);
    assert_int_equal(access(path_of("ws/ledger/00000001.json"), F_OK), 0);
    assert_status(lethe_workspace_load_model(ws, &m), LETHE_OK);
    assert_false(lethe_model_has_id(m, 12));
    lethe_verify_report vr;
    assert_status(lethe_cert_verify(ctx, lethe_workspace_path(ws, LETHE_WS_LEDGER),
                                    lethe_workspace_path(ws, LETHE_WS_PUBLIC_KEY),
                                    lethe_workspace_path(ws, LETHE_WS_PUBLIC), &vr), LETHE_OK);
    /* guo's certificate says what it is */
    assert_int_equal(vr.mechanism, LETHE_MECH_M1);
    assert_int_equal(vr.idealised, 1);
    unsigned char *cb = slurp(path_of("ws/ledger/00000001.json"), &n);
    static const char statement[] =
        "\n  \"mechanism\": \"M1\",\n  \"statement\": \"guo: Guo et al.'s idealised statement, "
        "not a proven guarantee; residual, budget and remaining depend on the owner's secret "
        "noise b and are the owner's figures\",\n";
    assert_true(contains(cb, n, statement, sizeof statement - 1));
    free(cb);
    uint64_t seq = 0;
    assert_status(lethe_cert_find_id(ctx, lethe_workspace_path(ws, LETHE_WS_LEDGER),
                                     lethe_workspace_path(ws, LETHE_WS_SIGNING_KEY), 12, &seq),
                  LETHE_OK);
    assert_int_equal(seq, 1);
    assert_status(lethe_cert_find_id(ctx, lethe_workspace_path(ws, LETHE_WS_LEDGER),
                                     lethe_workspace_path(ws, LETHE_WS_SIGNING_KEY), 13, &seq),
                  LETHE_OK);
    assert_int_equal(seq, 0);
    lethe_model_free(m);
    lethe_workspace_close(ws);
    /* a key for a workspace that is not encrypted */
    assert_status(lethe_key_create(ctx, path_of("ws.key")), LETHE_OK);
    assert_status(lethe_workspace_open(ctx, wdir, path_of("ws.key"), &ws), LETHE_EINVAL);
    lethe_model_free(model);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* A new workspace named name in the test directory (its path into wdir), open. */
static lethe_workspace *new_workspace(lethe_ctx *ctx, const char *name, char wdir[128])
{
    snprintf(wdir, 128, "%s", path_of(name));
    assert_status(lethe_workspace_init(ctx, wdir, NULL), LETHE_OK);
    lethe_workspace *ws = NULL;
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_OK);
    return ws;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of the workspace (top directory and ledger) with its hash, one
 * a line, sorted: equal snapshots mean nothing changed. */
static char *ws_snapshot(lethe_ctx *ctx, const char *wdir)
{
    size_t cap = 1 << 14, used = 0;
    char *out = calloc(1, cap);
    char *names[256];
    size_t count = 0;
    for (int pass = 0; pass < 2; pass++) {
        char d[256];
        snprintf(d, sizeof d, pass == 0 ? "%s" : "%s/ledger", wdir);
        DIR *dh = opendir(d);
        assert_non_null(dh);
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", d, e->d_name);
            struct stat sb;
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || strcmp(e->d_name, "LOCK") == 0)
                continue;
            char hex[LETHE_HEX32_LEN];
            assert_status(lethe_cert_hash_file(ctx, path, hex), LETHE_OK);
            assert_true(count < 256);
            names[count] = malloc(600);
            snprintf(names[count++], 600, "%s %s\n", path, hex);
        }
        closedir(dh);
    }
    qsort(names, count, sizeof names[0], cmp_str);
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(names[i]);
        assert_true(used + l < cap);
        memcpy(out + used, names[i], l + 1);
        used += l;
        free(names[i]);
    }
    return out;
}

/* A save that must be refused: status want, message needle, and the
 * workspace exactly as it was. */
static void refused_save(lethe_ctx *ctx, lethe_workspace *ws, const char *wdir, lethe_model *m,
                         const uint64_t *ids, size_t k, const lethe_budget *before,
                         lethe_status want, const char *needle)
{
    char *snap = ws_snapshot(ctx, wdir);
    lethe_workspace_info a, b;
    assert_status(lethe_workspace_status(ws, &a), LETHE_OK);
    assert_status(lethe_workspace_save_model(ws, m, ids, k, before), want);
    assert_msg_has(ctx, needle);
    assert_status(lethe_workspace_status(ws, &b), LETHE_OK);
    assert_int_equal(a.generation, b.generation);
    assert_int_equal(a.certificates, b.certificates);
    char *now = ws_snapshot(ctx, wdir);
    assert_string_equal(now, snap);
    free(now);
    free(snap);
}

/* The public model file of the workspace's current generation, hashed. */
static void public_hash(lethe_ctx *ctx, lethe_workspace *ws, char hex[LETHE_HEX32_LEN])
{
    assert_status(lethe_cert_hash_file(ctx, lethe_workspace_path(ws, LETHE_WS_PUBLIC), hex),
                  LETHE_OK);
}

/* The ledger verifies against the owner's key and the current public model. */
static void ledger_verifies(lethe_ctx *ctx, lethe_workspace *ws, size_t certificates)
{
    lethe_verify_report vr;
    assert_status(lethe_cert_verify(ctx, lethe_workspace_path(ws, LETHE_WS_LEDGER),
                                    lethe_workspace_path(ws, LETHE_WS_PUBLIC_KEY),
                                    lethe_workspace_path(ws, LETHE_WS_PUBLIC), &vr),
                  LETHE_OK);
    assert_int_equal(vr.checked, certificates);
    assert_int_equal(vr.model_checked, 1);
}

static uint64_t cert_of(lethe_ctx *ctx, lethe_workspace *ws, uint64_t id)
{
    uint64_t seq = 99;
    assert_status(lethe_cert_find_id(ctx, lethe_workspace_path(ws, LETHE_WS_LEDGER),
                                     lethe_workspace_path(ws, LETHE_WS_SIGNING_KEY), id, &seq),
                  LETHE_OK);
    return seq;
}

/* The text of the ledger's certificate seq. */
static char *cert_text(lethe_workspace *ws, int seq)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%08d.json", lethe_workspace_path(ws, LETHE_WS_LEDGER), seq);
    size_t n;
    unsigned char *b = slurp(path, &n);
    char *t = realloc(b, n + 1);
    t[n] = '\0';
    return t;
}

/* An M3 model in a workspace: a release commits with its certificate,
 * removals not yet published commit without one (the public model stays
 * the last release, byte for byte), the next release's certificate names
 * every id removed since the one before, and inconsistent saves change
 * nothing. */
static void test_workspace_m3(void **state)
{
    (void)state;
    static const unsigned char seed[32] = { 0x4d, 0x33, 2, 3, 8, 5 };
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    lethe_dataset *ds = random_dataset(ctx, 2385, 320, 7);
    lethe_train_options o;
    lethe_train_options_init(&o); /* M3 by default */
    o.seed = seed;
    o.lambda = 2.385e-3;
    lethe_model *m = NULL;
    assert_status(lethe_model_train(ctx, ds, &o, &m), LETHE_OK);
    assert_int_equal(lethe_model_mechanism(m), LETHE_MECH_M3);

    char wdir[128];
    lethe_workspace *ws = new_workspace(ctx, "ws3", wdir);
    assert_status(lethe_workspace_save_model(ws, m, NULL, 0, NULL), LETHE_OK);
    lethe_workspace_info info;
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.mechanism, 3);
    assert_int_equal(info.generation, 1);
    assert_int_equal(info.certificates, 0);
    char gen1[LETHE_HEX32_LEN], hex[LETHE_HEX32_LEN];
    public_hash(ctx, ws, gen1);
    lethe_model *l = NULL; /* the trained model loads back, with nothing unpublished */
    assert_status(lethe_workspace_load_model(ws, &l), LETHE_OK);
    assert_int_equal(lethe_model_mechanism(l), LETHE_MECH_M3);
    size_t k = 99;
    assert_null(lethe_model_unpublished(l, &k));
    assert_int_equal(k, 0);
    assert_memory_equal(lethe_model_weights(l), lethe_model_weights(m), 7 * sizeof(double));
    lethe_model_free(l);

    /* remove and publish: release 2, certificate 1, from generation 1's public model */
    const uint64_t first[] = { 12, 77 };
    lethe_budget before;
    lethe_model_budget(m, &before);
    assert_int_equal(before.releases, 1);
    lethe_removal_report rep;
    assert_status(lethe_model_remove(m, first, 2, LETHE_PATH_FAST, &rep), LETHE_OK);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_workspace_save_model(ws, m, first, 2, &before), LETHE_OK);
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.generation, 2);
    assert_int_equal(info.certificates, 1);
    ledger_verifies(ctx, ws, 1);
    char *t = cert_text(ws, 1);
    char want[128];
    snprintf(want, sizeof want, "\"model_before\": \"%s\"", gen1);
    assert_non_null(strstr(t, want));
    public_hash(ctx, ws, hex);
    snprintf(want, sizeof want, "\"model_after\": \"%s\"", hex);
    assert_non_null(strstr(t, want));
    assert_non_null(strstr(t, "\n  \"mechanism\": \"M3\",\n"));
    assert_non_null(strstr(t, "\n  \"n\": 318,\n"));
    assert_non_null(strstr(t, "\n  \"releases\": 2,\n"));
    free(t);
    assert_int_equal(cert_of(ctx, ws, 12), 1);
    assert_int_equal(cert_of(ctx, ws, 77), 1);
    char released[LETHE_HEX32_LEN];
    memcpy(released, hex, sizeof hex);

    /* removals without publication: committed with no certificate, the
     * public model unchanged, the ids kept as unpublished in the state */
    const uint64_t later[] = { 5, 240 };
    for (int i = 0; i < 2; i++) {
        lethe_model_budget(m, &before);
        assert_status(lethe_model_remove(m, later + i, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
        assert_status(lethe_workspace_save_model(ws, m, later + i, 1, &before), LETHE_OK);
        assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
        assert_int_equal(info.generation, 3 + (uint64_t)i);
        assert_int_equal(info.certificates, 1);
        public_hash(ctx, ws, hex);
        assert_string_equal(hex, released);
        ledger_verifies(ctx, ws, 1);
        assert_int_equal(cert_of(ctx, ws, later[i]), 0);
    }
    lethe_model_free(m);
    lethe_workspace_close(ws);

    /* opened again: the loaded model knows what it has not published */
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_OK);
    m = NULL;
    assert_status(lethe_workspace_load_model(ws, &m), LETHE_OK);
    assert_int_equal(lethe_model_mechanism(m), LETHE_MECH_M3);
    assert_int_equal(lethe_model_rows(m), 316);
    const uint64_t *un = lethe_model_unpublished(m, &k);
    assert_int_equal(k, 2);
    uint64_t pending[2];
    memcpy(pending, un, sizeof pending);
    assert_true((pending[0] == 5 && pending[1] == 240) || (pending[0] == 240 && pending[1] == 5));
    assert_false(lethe_model_has_id(m, 240));

    /* refused, and nothing changes: ids with no removal since the last
     * release; a release and then a removal with no save between; two
     * releases in one save; a release without its certificate; an M1 model
     * in an M3 workspace */
    lethe_model_budget(m, &before);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    lethe_budget after;
    lethe_model_budget(m, &after);
    refused_save(ctx, ws, wdir, m, pending, 2, &after, LETHE_EINVAL, "no removal since");
    lethe_model *m2 = NULL;
    assert_status(lethe_workspace_load_model(ws, &m2), LETHE_OK);
    lethe_budget b2;
    lethe_model_budget(m2, &b2);
    assert_status(lethe_model_publish(m2, NULL), LETHE_OK);
    const uint64_t one = 33;
    assert_status(lethe_model_remove(m2, &one, 1, LETHE_PATH_FAST, &rep), LETHE_OK);
    refused_save(ctx, ws, wdir, m2, &one, 1, &b2, LETHE_EINVAL, "removed after the release");
    assert_status(lethe_model_publish(m2, NULL), LETHE_OK);
    refused_save(ctx, ws, wdir, m2, &one, 1, &b2, LETHE_EINVAL, "2 releases were made");
    /* the report taken after the release, not before it: the public model
     * changed, and a commit without a certificate may not change it */
    lethe_model_budget(m2, &b2);
    refused_save(ctx, ws, wdir, m2, NULL, 0, &b2, LETHE_EINVAL, "has no certificate");
    lethe_model_free(m2);
    lethe_dataset *ds1 = NULL;
    lethe_model *m1 = small_model(ctx, 300, &ds1);
    refused_save(ctx, ws, wdir, m1, NULL, 0, &before, LETHE_EINVAL, "holds an M3 model, not M1");
    lethe_model_free(m1);
    lethe_dataset_free(ds1);

    /* the release: certificate 2 names every id removed since release 2 */
    assert_status(lethe_workspace_save_model(ws, m, pending, 2, &before), LETHE_OK);
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.certificates, 2);
    ledger_verifies(ctx, ws, 2);
    assert_int_equal(cert_of(ctx, ws, 5), 2);
    assert_int_equal(cert_of(ctx, ws, 240), 2);
    assert_int_equal(cert_of(ctx, ws, 77), 1);
    t = cert_text(ws, 2);
    assert_non_null(strstr(t, "\n  \"releases\": 3,\n"));
    assert_non_null(strstr(t, "\n  \"n\": 316,\n"));
    snprintf(want, sizeof want, "\"model_before\": \"%s\"", released);
    assert_non_null(strstr(t, want));
    free(t);
    public_hash(ctx, ws, hex);
    assert_string_not_equal(hex, released);

    /* a release with no removal since the last: k = 0 */
    lethe_model_budget(m, &before);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_workspace_save_model(ws, m, NULL, 0, &before), LETHE_OK);
    ledger_verifies(ctx, ws, 3);
    t = cert_text(ws, 3);
    assert_non_null(strstr(t, "\n  \"k\": 0,\n"));
    assert_non_null(strstr(t, "\n  \"releases\": 4,\n"));
    free(t);

    /* a refresh moves θ but publishes nothing: no certificate, the same
     * public model; the release after it is certified with k = 0 */
    public_hash(ctx, ws, released);
    lethe_model_budget(m, &before);
    assert_status(lethe_model_refresh(m), LETHE_OK);
    assert_status(lethe_workspace_save_model(ws, m, NULL, 0, &before), LETHE_OK);
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.certificates, 3);
    public_hash(ctx, ws, hex);
    assert_string_equal(hex, released);
    lethe_model_budget(m, &before);
    assert_int_equal(before.fresh, 0);
    assert_status(lethe_model_publish(m, NULL), LETHE_OK);
    assert_status(lethe_workspace_save_model(ws, m, NULL, 0, &before), LETHE_OK);
    ledger_verifies(ctx, ws, 4);
    lethe_model_free(m);
    lethe_workspace_close(ws);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* HEAD and the state must agree on the mechanism: a HEAD that says M3 over
 * an M1 state loads nothing (EFORMAT). */
/* An M2 model in a workspace: each removal's certificate carries the
 * public parameters σ and Δ were calibrated from (n, λ, R, tol, the
 * capacity), and verifies — the verifier rebuilding Δ from them. */
static void test_workspace_m2(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    lethe_dataset *ds = random_dataset(ctx, 2385, 300, 9);
    lethe_m2_options o;
    lethe_m2_options_init(&o);
    o.lambda = 0.385;
    o.capacity = 6;
    o.tol = 2.385e-12;
    lethe_m2 *m = NULL;
    assert_status(lethe_m2_train(ctx, ds, &o, &m), LETHE_OK);
    char wdir[128];
    lethe_workspace *ws = new_workspace(ctx, "ws-m2", wdir);
    assert_status(lethe_workspace_save_m2(ws, m, NULL, 0, NULL), LETHE_OK);
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    const uint64_t *ids = lethe_dataset_ids(ds);
    for (size_t r = 0; r < 2; r++) {
        const size_t at = 17 + 100 * r, k = 2 - r; /* two records, then one */
        lethe_m2_report before, after;
        assert_status(lethe_m2_status(m, &before), LETHE_OK);
        assert_status(lethe_m2_remove(m, k, x + at * 9, 9, y + at, ids + at, &after), LETHE_OK);
        assert_status(lethe_workspace_save_m2(ws, m, ids + at, k, &before), LETHE_OK);
    }
    lethe_verify_report vr;
    assert_status(lethe_cert_verify(ctx, lethe_workspace_path(ws, LETHE_WS_LEDGER),
                                    lethe_workspace_path(ws, LETHE_WS_PUBLIC_KEY),
                                    lethe_workspace_path(ws, LETHE_WS_PUBLIC), &vr), LETHE_OK);
    assert_int_equal(vr.checked, 2);
    assert_int_equal(vr.model_checked, 1);
    assert_int_equal(vr.mechanism, LETHE_MECH_M2);
    assert_int_equal(vr.idealised, 0);
    char *t = cert_text(ws, 2);
    static const char *const order[] = {
        "\n  \"format\": \"lethe-certificate-3\",\n", "\n  \"mechanism\": \"M2\",\n",
        "\n  \"n\": 300,\n", "\n  \"lambda\": 0.38500000000000001,\n", "\n  \"R\": 1,\n",
        "\n  \"tol\": 2.385e-12,\n", "\n  \"capacity\": 6,\n",
        "\n  \"used_before\": 2,\n", "\n  \"used_after\": 3,\n",
    };
    const char *at = t;
    for (size_t j = 0; j < sizeof order / sizeof order[0]; j++) {
        at = strstr(at, order[j]);
        if (at == NULL) {
            print_error("\"%s\" missing or out of order in\n%s", order[j], t);
            fail();
        }
    }
    assert_null(strstr(t, "statement"));
    free(t);
    lethe_workspace_close(ws);
    lethe_m2_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

static void test_workspace_head_mismatch(void **state)
{
    (void)state;
    lethe_ctx *ctx = NULL;
    assert_status(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    char wdir[128];
    lethe_workspace *ws = new_workspace(ctx, "ws-head", wdir);
    lethe_dataset *ds = NULL;
    lethe_model *m = small_model(ctx, 300, &ds);
    assert_status(lethe_workspace_save_model(ws, m, NULL, 0, NULL), LETHE_OK);
    lethe_model *l = NULL;
    assert_status(lethe_workspace_load_model(ws, &l), LETHE_OK); /* the control */
    lethe_model_free(l);
    lethe_workspace_close(ws);
    /* HEAD: magic | version, generation, mechanism, … | key id | BLAKE2b-256 */
    char head[160];
    snprintf(head, sizeof head, "%s/HEAD", wdir);
    size_t n;
    unsigned char *b = slurp(head, &n);
    assert_int_equal(b[24], 1);
    b[24] = 3;
    crypto_generichash(b + n - 32, 32, b, n - 32, NULL, 0);
    spit(head, b, n);
    free(b);
    assert_status(lethe_workspace_open(ctx, wdir, NULL, &ws), LETHE_OK);
    lethe_workspace_info info;
    assert_status(lethe_workspace_status(ws, &info), LETHE_OK);
    assert_int_equal(info.mechanism, 3);
    l = NULL;
    assert_status(lethe_workspace_load_model(ws, &l), LETHE_EFORMAT);
    assert_null(l);
    assert_msg_has(ctx, "HEAD says M3");
    lethe_m2 *m2 = NULL;
    assert_status(lethe_workspace_load_m2(ws, &m2), LETHE_EINVAL);
    lethe_workspace_close(ws);
    lethe_model_free(m);
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_drops_removed_rows),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_state_encrypted),
        cmocka_unit_test(test_workspace_api),
        cmocka_unit_test(test_workspace_m3),
        cmocka_unit_test(test_workspace_m2),
        cmocka_unit_test(test_workspace_head_mismatch),
    };
    return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
