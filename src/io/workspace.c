/*
 * A workspace: one directory per model, kept consistent across crashes.
 *
 *   HEAD                 "LETHEWS1" | u64 version, generation, mechanism,
 *                        certificates, encrypted | key id[16] | workspace
 *                        id[16] | BLAKE2b-256 of state.G, of model.G.public
 *                        and of the ledger's last certificate (zeros when
 *                        there is none) | BLAKE2b-256 of everything before.
 *                        Version 1 (read still, rewritten as 2 at the next
 *                        change) ends after the key id.
 *   state.G              the owner's secret state of generation G (M1: noise,
 *                        factor, accountant and the retained records — only
 *                        the live ones; M3: θ, factor, accountant, the live
 *                        records, the last release and the ids removed since;
 *                        M2: w*, factor, record digests), 0600, encrypted
 *                        when the workspace is
 *   model.G.public       the public model of generation G (no secrets)
 *   owner.key, owner.pub the owner's signing keys (lethe_keygen)
 *   ledger/NNNNNNNN.json one signed certificate per change of the public
 *                        model: an M1 or M2 removal, an M1 refresh, an M3
 *                        release
 *   LOCK                 flock()ed by whoever has the workspace open:
 *                        exclusively, or shared by a reader that cannot
 *                        write it (a read-only workspace), which may not
 *                        change anything
 *
 * HEAD binds the generation's files to the workspace: on open, the bytes of
 * state.G, model.G.public and ledger/C.json (C = HEAD's certificates) must
 * hash to what HEAD records, or the workspace is refused (LETHE_EFORMAT)
 * before anything is touched. So an older state copied over the current
 * one, a state from another workspace, or a deleted or replaced last
 * certificate cannot bring a removed record back unnoticed. An M3 commit
 * without a certificate keeps C and its hash. What HEAD cannot tell is a
 * complete copy of an older workspace (HEAD and all); the published ledger
 * is the anchor then (lethe verify against the certificates given out). No
 * entry may be a symbolic link: open refuses one (LOCK, HEAD, ledger, the
 * generation's files, the owner's keys), and LOCK is opened O_NOFOLLOW.
 *
 * HEAD's mechanism is 1 (M1), 2 (M2) or 3 (M3); 0 before the first model.
 * An M3 model publishes only on lethe_model_publish(): a removal that is not
 * published yet, or a refresh, is committed without a certificate and with
 * the public model byte for byte the previous one (the public weights are
 * still the last release), so the ledger's chain of model hashes runs on
 * unbroken; the next release's certificate names every id removed since
 * the one before. Any commit without a certificate after the first must
 * leave the public model unchanged, whatever the mechanism: that is checked.
 *
 * A change writes generation G + 1 beside G (every file atomically: a
 * temporary file, fsync, rename, fsync of the directory), then the removal's
 * certificate, then HEAD. Rewriting HEAD is the commit point: a crash before
 * the certificate leaves G in force and open() deletes what G + 1 had
 * written (state, public model); a crash after HEAD leaves G + 1, and open()
 * deletes G's files. Between the two, certificate C + 1 beside a HEAD that
 * records C is evidence that G + 1 was complete but for HEAD — and it is
 * also what an operator leaves by restoring an older HEAD with its
 * generation's files: deleting then would bring the certified removal's
 * records back. So open() ROLLS FORWARD: if model.G+1.public is there, the
 * whole ledger verifies under owner.pub and ends with C + 1, whose
 * model_before hashes model.G.public and model_after model.G+1.public, and
 * state.G+1 is what C + 1 says (it loads as HEAD's mechanism and holds no
 * record any certificate removed, by their keyed id hashes; M3: its n is
 * C + 1's; M2: its removals used are C + 1's used_after — the certificate
 * binds the public models only, and an older state copied in as G + 1
 * fails these), it writes HEAD for G + 1 with its bindings, then deletes
 * G's files. A reader, which may not write, takes G + 1 as in force and
 * leaves the rest for a writer; so does an open of an encrypted workspace
 * without the key, which can only check that state.G+1 is sealed under
 * this workspace's key. A certificate beyond HEAD whose generation is missing or does
 * not match is no interrupted change (the files are written before it):
 * refused, LETHE_EFORMAT, nothing touched. A commit without a certificate
 * (an M3 removal or refresh not yet published) is NOT rolled forward: only
 * the files themselves would vouch for G + 1, and a state copied beside the
 * current generation (with a copy of its public model) would be adopted and
 * bring its removed records back. Such a generation is deleted as a crash's
 * leftover, which is consistent (the command never reported success) — and
 * restoring an older HEAD over an unpublished removal loses it, as restoring
 * any complete older copy does; publishing anchors a removal in the ledger.
 * So the workspace always holds exactly one consistent generation, a
 * removal reported done is on disk, and once a removal is committed the
 * file that held the removed records is gone. Recovery only removes the
 * files a change of this code writes (never anything else), and never a
 * certificate (a change that fails in this process removes its own); a
 * ledger two or more ahead of HEAD means HEAD was rolled back (an old
 * backup), and the workspace is refused rather than "repaired". An
 * exclusive lock (DIR/LOCK) keeps a second process from recovering — that
 * is, deleting — what a running change is writing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/m2.h"
#include "io/cert.h"
#include "io/sfile.h"
#include "io/read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "LETHEWS1"
#define VERSION 2u
#define HASH 32
#define PATH_CAP 4096
#define GEN_MAX 99999999u /* generations are named with 8 digits */

struct lethe_workspace {
    lethe_ctx *ctx;
    char *dir;
    int lock_fd;            /* DIR/LOCK, held (flock, exclusive) while open */
    uint64_t generation, certificates, mechanism;
    int encrypted;
    unsigned char key_id[16];
    unsigned char id[16];   /* the workspace's random id (zeros: a version 1 HEAD) */
    unsigned char h_state[HASH], h_public[HASH], h_cert[HASH]; /* what HEAD binds */
    int bound;              /* HEAD is version 2: the hashes above are checked */
    int read_only;          /* LOCK could not be opened for writing: no change */
    size_t recovered;
    char path[5][PATH_CAP]; /* lethe_workspace_path answers, by lethe_ws_file */
};

static lethe_status ws_fail_path(lethe_ctx *ctx, const char *dir)
{
    return lethe__fail(ctx, LETHE_EINVAL, "workspace: the path %.200s is too long", dir);
}

/* dir/name, or 0 if it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    if (a + 1 + b + 1 > cap)
        return 0;
    memmove(out, dir, a); /* out may be dir itself */
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
    return 1;
}

static int gen_name(char *out, size_t cap, const char *dir, const char *kind, uint64_t g)
{
    char name[64];
    if (strcmp(kind, "public") == 0)
        snprintf(name, sizeof name, "model.%08llu.public", (unsigned long long)g);
    else
        snprintf(name, sizeof name, "state.%08llu", (unsigned long long)g);
    return join(out, cap, dir, name);
}

/* HEAD for the given fields, with ws's ids and the hashes given. */
/* BLAKE2b-256 of the bytes of path, a regular file and not a symbolic link.
 * 0, or the errno that stopped it (ELOOP for a link). O(size), no allocation. */
static int hash_entry(const char *path, unsigned char out[HASH])
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
        close(fd);
        return e;
    }
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, HASH);
    unsigned char buf[16384];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        crypto_generichash_update(&h, buf, (size_t)n);
    int e = n < 0 ? errno : 0;
    close(fd);
    crypto_generichash_final(&h, out, HASH);
    return e;
}

/* dir/ledger/C.json */
static int cert_name(char *out, size_t cap, const char *dir, uint64_t c)
{
    char name[64];
    snprintf(name, sizeof name, "ledger/%08llu.json", (unsigned long long)c);
    return join(out, cap, dir, name);
}

static lethe_status write_head(lethe_ctx *ctx, const char *dir, uint64_t generation,
                               uint64_t mechanism, uint64_t certificates, int encrypted,
                               const unsigned char *key_id, const unsigned char *ws_id,
                               const unsigned char *const hashes[3])
{
    char path[PATH_CAP];
    if (!join(path, sizeof path, dir, "HEAD"))
        return ws_fail_path(ctx, dir);
    lethe_sfile s;
    /* HEAD is not secret (0644): never encrypted, so it can say whether the
     * rest is */
    lethe_status st = lethe__sfile_create(ctx, path, 0644, MAGIC, &s);
    if (st != LETHE_OK)
        return st;
    const uint64_t v[] = { VERSION, generation, mechanism, certificates, (uint64_t)encrypted };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        lethe__sf_put_u64(&s, v[i]);
    lethe__sf_put_bytes(&s, key_id, 16);
    lethe__sf_put_bytes(&s, ws_id, 16);
    for (int k = 0; k < 3; k++)
        lethe__sf_put_bytes(&s, hashes[k], HASH);
    return lethe__sfile_commit(&s);
}

static lethe_status read_head(lethe_workspace *ws)
{
    char path[PATH_CAP];
    if (!join(path, sizeof path, ws->dir, "HEAD"))
        return ws_fail_path(ws->ctx, ws->dir);
    lethe_sfile s;
    long long payload;
    lethe_status st = lethe__sfile_open(ws->ctx, path, MAGIC, &s, &payload);
    if (st != LETHE_OK) {
        struct stat sb;
        if (st == LETHE_EIO && lstat(path, &sb) != 0 && errno == ENOENT)
            return lethe__fail(ws->ctx, LETHE_EIO,
                               "workspace: %s is not a lethe workspace (no HEAD; create one "
                               "with lethe init)", ws->dir);
        return st; /* the cause as it is: permission denied, … */
    }
    uint64_t version = lethe__sf_get_u64(&s);
    ws->generation = lethe__sf_get_u64(&s);
    ws->mechanism = lethe__sf_get_u64(&s);
    ws->certificates = lethe__sf_get_u64(&s);
    uint64_t enc = lethe__sf_get_u64(&s);
    lethe__sf_get_bytes(&s, ws->key_id, 16);
    ws->bound = version == VERSION;
    if (ws->bound) {
        lethe__sf_get_bytes(&s, ws->id, 16);
        lethe__sf_get_bytes(&s, ws->h_state, HASH);
        lethe__sf_get_bytes(&s, ws->h_public, HASH);
        lethe__sf_get_bytes(&s, ws->h_cert, HASH);
    }
    if (payload != 8 + 5 * 8 + 16 + (ws->bound ? 16 + 3 * HASH : 0))
        st = lethe__sfile_bad(ws->ctx, path, "not a HEAD of this version's size");
    else if (version != VERSION && version != 1)
        st = lethe__sfile_bad(ws->ctx, path, "unsupported workspace version");
    else if (ws->mechanism > 3 || enc > 1 || (ws->mechanism == 0) != (ws->generation == 0) ||
             ws->certificates > ws->generation || ws->generation > GEN_MAX)
        st = lethe__sfile_bad(ws->ctx, path, "inconsistent fields");
    else
        st = lethe__sfile_verify(&s);
    lethe__sfile_close(&s);
    ws->encrypted = (int)enc;
    return st;
}

/* Remove the files directly in dir, then dir itself. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        char path[PATH_CAP];
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                join(path, sizeof path, dir, e->d_name))
                remove(path);
        closedir(d);
    }
    rmdir(dir);
}

lethe_status lethe_workspace_init(lethe_ctx *ctx, const char *dir, const char *key_file)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (dir == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "workspace: dir is NULL");
    char eb[128];
    struct stat sb;
    if (lstat(dir, &sb) == 0)
        return lethe__fail(ctx, LETHE_EINVAL, "workspace: %s exists already (a workspace is "
                                              "made once)", dir);
    /* Built under a temporary name and renamed into place: a failure or a
     * crash never leaves a half-made workspace under dir. */
    char tmp[PATH_CAP], a[PATH_CAP], b[PATH_CAP], l[PATH_CAP];
    if (snprintf(tmp, sizeof tmp, "%s.init-XXXXXX", dir) >= (int)sizeof tmp - 64)
        return ws_fail_path(ctx, dir);
    if (mkdtemp(tmp) == NULL)
        return lethe__fail(ctx, LETHE_EIO, "workspace: cannot create %s: %s", tmp,
                           lethe__read_strerror(errno, eb, sizeof eb));
    lethe__io_step(ctx);
    join(a, sizeof a, tmp, "owner.key");
    join(b, sizeof b, tmp, "owner.pub");
    join(l, sizeof l, tmp, "ledger");
    /* The at-rest key goes on the context only for this call: the previous
     * one (if any) is kept aside and put back, never freed here. */
    unsigned char *held = ctx->key;
    ctx->key = NULL;
    int made_key = 0;
    lethe_status st = LETHE_OK;
    if (key_file != NULL) {
        if (stat(key_file, &sb) != 0 && errno == ENOENT) {
            st = lethe_key_create(ctx, key_file);
            made_key = st == LETHE_OK;
        }
        if (st == LETHE_OK)
            st = lethe_ctx_set_key_file(ctx, key_file);
    }
    unsigned char id[16], ws_id[16], zero[HASH] = { 0 };
    const unsigned char *const none[3] = { zero, zero, zero };
    lethe__sfile_key_id(ctx->key, id);
    randombytes_buf(ws_id, sizeof ws_id);
    if (st == LETHE_OK && mkdir(l, 0755) != 0)
        st = lethe__fail(ctx, LETHE_EIO, "workspace: cannot create %s: %s", l,
                         lethe__read_strerror(errno, eb, sizeof eb));
    if (st == LETHE_OK) /* the signing keys: encrypted too when the workspace is */
        st = lethe_keygen(ctx, a, b);
    if (st == LETHE_OK)
        st = write_head(ctx, tmp, 0, 0, 0, key_file != NULL, id, ws_id, none);
    if (st == LETHE_OK && rename(tmp, dir) != 0)
        st = lethe__fail(ctx, LETHE_EIO, "workspace: cannot create %s: %s", dir,
                         lethe__read_strerror(errno, eb, sizeof eb));
    if (st == LETHE_OK) {
        lethe__io_step(ctx);
        st = lethe__sync_parent(ctx, dir);
    }
    if (ctx->key != NULL)
        sodium_free(ctx->key);
    ctx->key = held;
    if (st != LETHE_OK) {
        char msg[LETHE__ERRMSG_CAP];
        snprintf(msg, sizeof msg, "%s", lethe_ctx_errmsg(ctx));
        remove_dir(l); /* what init built: its ledger, then the rest */
        remove_dir(tmp);
        if (made_key)
            remove(key_file);
        return lethe__fail(ctx, st, "%s", msg);
    }
    return LETHE_OK;
}

void lethe_workspace_close(lethe_workspace *ws)
{
    if (ws == NULL)
        return;
    lethe_ctx *ctx = ws->ctx;
    if (ws->lock_fd >= 0)
        close(ws->lock_fd); /* releases the flock */
    lethe__free(ctx, ws->dir);
    lethe__free(ctx, ws);
}

/* Is name "<prefix><8 digits><suffix>" exactly? Then *g is the number. */
static int numbered(const char *name, const char *prefix, const char *suffix, uint64_t *g)
{
    size_t p = strlen(prefix), s = strlen(suffix), n = strlen(name);
    if (n != p + 8 + s || strncmp(name, prefix, p) != 0 || strcmp(name + p + 8, suffix) != 0)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        char c = name[p + i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *g = v;
    return 1;
}

/* Remove dir/name (a step of its own). */
static lethe_status drop(lethe_workspace *ws, const char *dir, const char *name)
{
    char path[PATH_CAP];
    if (!join(path, sizeof path, dir, name))
        return ws_fail_path(ws->ctx, dir);
    if (unlink(path) != 0 && errno != ENOENT) {
        char eb[128];
        return lethe__fail(ws->ctx, LETHE_EIO, "workspace: cannot remove %s: %s", path,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    lethe__io_step(ws->ctx);
    ws->recovered++;
    return LETHE_OK;
}

/* A temporary file of sfile.c: "<one of our names>.XXXXXX" (six characters). */
static int temporary_of(const char *n, const char *ours)
{
    size_t k = strlen(ours), len = strlen(n);
    return len == k + 7 && strncmp(n, ours, k) == 0 && n[k] == '.';
}

/* "<prefix><8 digits><suffix>.XXXXXX": a temporary file of a numbered one. */
static int numbered_temp(const char *n, const char *prefix, const char *suffix)
{
    size_t len = strlen(n), k = strlen(prefix) + 8 + strlen(suffix);
    char base[64];
    uint64_t g;
    if (len != k + 7 || n[k] != '.' || k >= sizeof base)
        return 0;
    memcpy(base, n, k);
    base[k] = '\0';
    return numbered(base, prefix, suffix, &g);
}

/* Is n a file this code writes in the workspace directory, and not one of
 * generation G's? (Generation files of another G, and temporary files.) */
static int stray_top(const char *n, uint64_t G)
{
    uint64_t g;
    if (numbered(n, "state.", "", &g) || numbered(n, "model.", ".public", &g))
        return g != G;
    return numbered_temp(n, "state.", "") || numbered_temp(n, "model.", ".public") ||
           temporary_of(n, "HEAD") || temporary_of(n, "owner.key") ||
           temporary_of(n, "owner.pub");
}

/* Refuse what open() cannot explain: the workspace's files do not match its
 * ledger. Nothing has been changed when this is called. */
static lethe_status mismatch(lethe_workspace *ws, const char *cert, const char *why)
{
    return lethe__fail(ws->ctx, LETHE_EFORMAT,
                       "workspace: %s: %s is beyond the %llu certificates HEAD records, and "
                       "the workspace's files do not match its ledger (%s): not an "
                       "interrupted change. Refused; nothing was changed",
                       ws->dir, cert, (unsigned long long)ws->certificates, why);
}

/* What certificate C + 1 says of generation G + 1's state. */
typedef struct cert_says {
    size_t n;          /* M3: records in the model after the removal       */
    size_t used_after; /* M2: removals used, including the certificate's   */
} cert_says;

/* The state m holds none of the records a certificate of the ledger removed
 * (their ids, hashed with the owner's id key as the certificates hold them),
 * and M3's n is the certificate's. A state of an earlier generation copied
 * in as G + 1 holds the records the certificate removed. */
static lethe_status model_after_cert(lethe_workspace *ws, const lethe_model *m,
                                     const cert_says *says, int *ok, const char **why)
{
    lethe_ctx *ctx = ws->ctx;
    *why = "its state's record count is not the certificate's";
    *ok = m->mech != LETHE_MECH_M3 || m->n_live == says->n;
    if (!*ok)
        return LETHE_OK;
    uint64_t *live = lethe__calloc(ctx, m->n_rows ? m->n_rows : 1, sizeof *live);
    if (live == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "workspace: no memory for %zu ids", m->n_rows);
    size_t k = 0;
    for (size_t i = 0; i < m->n_rows; i++)
        if (m->alive[i] != ROW_DEAD)
            live[k++] = m->ids[i];
    char ledger[PATH_CAP], key[PATH_CAP];
    uint64_t id = 0, seq = 0;
    lethe_status st = LETHE_OK;
    if (!join(ledger, sizeof ledger, ws->dir, "ledger") ||
        !join(key, sizeof key, ws->dir, "owner.key"))
        st = ws_fail_path(ctx, ws->dir);
    if (st == LETHE_OK)
        st = lethe__ledger_find_ids(ctx, ledger, key, live, k, &id, &seq);
    lethe__free(ctx, live);
    *why = "its state holds a record that a certificate of the ledger removed";
    *ok = seq == 0;
    return st;
}

/* Is generation G + 1's state complete, and what certificate C + 1 says it
 * is? *ok = 1 if it loads as HEAD's mechanism (with the key, or
 * unencrypted) and holds what says describes (model_after_cert; M2: the
 * removals used), and *checked = 1; encrypted without the key, *ok = 1 if
 * it is a sealed file under this workspace's key, and *checked = 0: its
 * contents are a writer's to check. *ok = 0 (why says why) if not. Returns
 * LETHE_OK, or an error that says nothing of the file (LETHE_ENOMEM,
 * LETHE_EIO reading the ledger or the key). */
static lethe_status state_complete(lethe_workspace *ws, const char *path,
                                   const cert_says *says, int *ok, int *checked,
                                   const char **why)
{
    lethe_ctx *ctx = ws->ctx;
    lethe_status st;
    *checked = 0;
    if (ws->encrypted && ctx->key == NULL) {
        /* "LETHEENC" | u64 version | key id[16] (src/io/sfile.h) */
        unsigned char head[32];
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t got = fd < 0 ? -1 : read(fd, head, sizeof head);
        if (fd >= 0)
            close(fd);
        *why = "its state is not sealed with this workspace's key";
        *ok = got == (ssize_t)sizeof head && memcmp(head, "LETHEENC", 8) == 0 &&
              sodium_memcmp(head + 16, ws->key_id, 16) == 0;
        return LETHE_OK;
    }
    /* a key left on the context from another workspace is not used */
    unsigned char *held = ws->encrypted ? NULL : ctx->key;
    if (!ws->encrypted)
        ctx->key = NULL;
    int mech = 0, holds = 0;
    const char *holds_why = "";
    lethe_status chk = LETHE_OK;
    if (ws->mechanism == LETHE_MECH_M2) {
        lethe_m2 *m = NULL;
        st = lethe_m2_load(ctx, path, &m);
        mech = LETHE_MECH_M2;
        holds = st == LETHE_OK && m->used == says->used_after;
        holds_why = "its state's removals used are not the certificate's";
        lethe_m2_free(m);
    } else {
        lethe_model *m = NULL;
        st = lethe_model_load(ctx, path, &m);
        if (st == LETHE_OK) {
            mech = (int)lethe_model_mechanism(m);
            /* owner.key is sealed as the state is: same key on the context */
            chk = model_after_cert(ws, m, says, &holds, &holds_why);
        }
        lethe_model_free(m);
    }
    if (!ws->encrypted)
        ctx->key = held;
    if (st == LETHE_ENOMEM)
        return st;
    if (chk != LETHE_OK)
        return chk;
    *why = "its state does not load as the model HEAD holds";
    *ok = st == LETHE_OK && (uint64_t)mech == ws->mechanism;
    if (*ok && !holds) {
        *why = holds_why;
        *ok = 0;
    }
    *checked = 1;
    return LETHE_OK;
}

/* Certificate C + 1 continues the ledger into generation G + 1: its
 * model_before is the hash of model.G.public, its model_after that of
 * model.G+1.public, and the whole ledger verifies under the workspace's own
 * key (signatures, numbers, and the chain from certificate C, which HEAD
 * binds) and ends with it. *ok = 1 if it does (and says holds what the
 * certificate says of the state), 0 (why says why) if not.
 * Returns LETHE_OK, or an error that says nothing of the files (LETHE_EIO,
 * LETHE_ENOMEM). O(total ledger bytes). */
static lethe_status cert_continues(lethe_workspace *ws, const char *cert, const char *pub_next,
                                   cert_says *says, int *ok, const char **why)
{
    lethe_ctx *ctx = ws->ctx;
    char ledger[PATH_CAP], key[PATH_CAP], pub_now[PATH_CAP];
    unsigned char h_now[HASH];
    if (!join(ledger, sizeof ledger, ws->dir, "ledger") ||
        !join(key, sizeof key, ws->dir, "owner.pub") ||
        !gen_name(pub_now, sizeof pub_now, ws->dir, "public", ws->generation))
        return ws_fail_path(ctx, ws->dir);
    int e = hash_entry(pub_now, h_now);
    if (e != 0) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "workspace: cannot read %s: %s", pub_now,
                           lethe__read_strerror(e, eb, sizeof eb));
    }
    lethe_verify_report rep;
    lethe_status st = lethe_cert_verify(ctx, ledger, key, pub_next, &rep);
    *why = "its certificates do not verify as a chain ending in the newer public model";
    *ok = 0;
    if (st == LETHE_ENOMEM)
        return st;
    if (st != LETHE_OK || rep.last_seq != ws->certificates + 1)
        return LETHE_OK;
    /* the certificate's model_before: generation G's public model */
    int fd = open(cert, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size <= 0 ||
        sb.st_size > (off_t)LETHE__CERT_MAX_BYTES) {
        if (fd >= 0)
            close(fd);
        return LETHE_OK;
    }
    size_t len = (size_t)sb.st_size;
    unsigned char *buf = lethe__malloc(ctx, len);
    ssize_t got = buf == NULL ? -1 : read(fd, buf, len);
    close(fd);
    if (buf == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "workspace: no memory");
    lethe__cert_rec r;
    char reason[128];
    int same = 0;
    if (got == (ssize_t)len && lethe__cert_parse(ctx, buf, len, &r, reason, sizeof reason) ==
                                   LETHE_OK) {
        same = sodium_memcmp(r.model_before, h_now, HASH) == 0;
        says->n = r.c.n;
        says->used_after = r.c.used_after;
        lethe__cert_rec_free(ctx, &r);
    }
    lethe__free(ctx, buf);
    *why = "its last certificate does not start from the public model HEAD names";
    *ok = same;
    return LETHE_OK;
}

/* Certificate C + 1 is there: generation G + 1 was committed but for HEAD
 * (the commit writes the generation's files, then the certificate, then
 * HEAD), if its files are complete and the certificate continues the
 * ledger into them. Then complete the commit: write HEAD for G + 1 (a
 * reader only takes it as the generation in force, and writes nothing).
 * Otherwise refuse, touching nothing. */
static lethe_status roll_forward(lethe_workspace *ws, const char *cert)
{
    lethe_ctx *ctx = ws->ctx;
    const uint64_t N = ws->generation + 1;
    char st_next[PATH_CAP], pub_next[PATH_CAP];
    if (!gen_name(st_next, sizeof st_next, ws->dir, "state", N) ||
        !gen_name(pub_next, sizeof pub_next, ws->dir, "public", N))
        return ws_fail_path(ctx, ws->dir);
    const char *why = "generation 0 has no certificate to continue";
    unsigned char h_state[HASH], h_public[HASH], h_cert[HASH];
    struct stat sb;
    int ok = ws->generation > 0 && N <= GEN_MAX;
    if (ok) {
        why = "the newer generation's state or public model is missing";
        ok = lstat(st_next, &sb) == 0 && S_ISREG(sb.st_mode) && lstat(pub_next, &sb) == 0 &&
             S_ISREG(sb.st_mode);
    }
    lethe_status st = LETHE_OK;
    cert_says says = { 0, 0 };
    int checked = 0;
    if (ok)
        st = cert_continues(ws, cert, pub_next, &says, &ok, &why);
    if (st == LETHE_OK && ok)
        st = state_complete(ws, st_next, &says, &ok, &checked, &why);
    if (st != LETHE_OK)
        return st;
    if (!ok)
        return mismatch(ws, cert, why);
    lethe__clear(ctx); /* the checks' messages are not this call's */
    int e = hash_entry(st_next, h_state);
    if (e == 0)
        e = hash_entry(pub_next, h_public);
    if (e == 0)
        e = hash_entry(cert, h_cert);
    if (e != 0) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "workspace: cannot read generation %llu: %s",
                           (unsigned long long)N, lethe__read_strerror(e, eb, sizeof eb));
    }
    if (!ws->bound) /* a version 1 workspace gets its id now */
        randombytes_buf(ws->id, sizeof ws->id);
    const unsigned char *const hashes[3] = { h_state, h_public, h_cert };
    /* A state that could not be read (sealed, opened without the key) is
     * taken as in force for this call only, as a reader would: a writer,
     * with the key, checks its records before HEAD is written. */
    if (!checked)
        ws->read_only = 1;
    if (!ws->read_only) {
        st = write_head(ctx, ws->dir, N, ws->mechanism, ws->certificates + 1,
                                     ws->encrypted, ws->key_id, ws->id, hashes);
        if (st != LETHE_OK)
            return st;
        ws->recovered++;
    }
    ws->generation = N;
    ws->certificates++;
    ws->bound = 1;
    memcpy(ws->h_state, h_state, HASH);
    memcpy(ws->h_public, h_public, HASH);
    memcpy(ws->h_cert, h_cert, HASH);
    return LETHE_OK;
}

/* Tidy what an interrupted change left. At open (undo = 0): a certificate
 * beyond HEAD's count means the change that wrote it committed but for HEAD
 * (roll_forward completes it, or refuses); a ledger further ahead is
 * refused; then generation files other than those in force and temporary
 * files go. After a commit that failed in this process (undo = 1): what it
 * wrote goes, its certificate too (only the next one, and only if the
 * generation it belongs to is there). Anything else is left alone. */
static lethe_status recover(lethe_workspace *ws, int undo)
{
    char ledger[PATH_CAP], next_pub[PATH_CAP], cert[PATH_CAP];
    if (!join(ledger, sizeof ledger, ws->dir, "ledger") ||
        !gen_name(next_pub, sizeof next_pub, ws->dir, "public", ws->generation + 1) ||
        !cert_name(cert, sizeof cert, ws->dir, ws->certificates + 1))
        return ws_fail_path(ws->ctx, ws->dir);
    struct stat sb;
    const int next_gen = stat(next_pub, &sb) == 0;
    lethe_status st = LETHE_OK;
    /* pass 0 only reads the ledger (a ledger ahead of HEAD is refused before
     * anything changes), 1 rolls forward, 2 tidies the ledger, 3 the rest */
    for (int pass = 0; pass < 4 && st == LETHE_OK; pass++) {
        if (pass == 1) {
            if (!undo && lstat(cert, &sb) == 0)
                st = roll_forward(ws, cert);
            continue;
        }
        const char *dir = pass < 3 ? ledger : ws->dir;
        const uint64_t G = ws->generation, C = ws->certificates;
        DIR *d = opendir(dir);
        if (d == NULL) {
            char eb[128];
            return lethe__fail(ws->ctx, LETHE_EIO, "workspace: cannot list %s: %s", dir,
                               lethe__read_strerror(errno, eb, sizeof eb));
        }
        size_t before = ws->recovered;
        struct dirent *e;
        while (st == LETHE_OK && (e = readdir(d)) != NULL) {
            const char *n = e->d_name;
            uint64_t g;
            int stray = 0;
            if (pass == 3) {
                stray = stray_top(n, G);
            } else if (numbered(n, "", ".json", &g) && g > C) {
                if (g == C + 1 && (!undo || next_gen))
                    stray = undo; /* at open: roll_forward's to judge */
                else
                    st = lethe__fail(ws->ctx, LETHE_EINVAL,
                                     "workspace: %s/%s is beyond the %llu certificates HEAD "
                                     "records: was the workspace restored from an older copy? "
                                     "Nothing was changed; compare it with the ledger",
                                     dir, n, (unsigned long long)C);
            } else {
                stray = numbered_temp(n, "", ".json");
            }
            if (stray && pass > 0 && !ws->read_only) /* a reader leaves them to a writer */
                st = drop(ws, dir, n);
        }
        closedir(d);
        if (st == LETHE_OK && ws->recovered != before)
            st = lethe__sync_dir(ws->ctx, dir);
    }
    return st;
}

/* Refuse a symbolic link among the workspace's entries: reading through one
 * would take another file's bytes, writing (the ledger's certificates)
 * would put files elsewhere. */
static lethe_status no_links(lethe_workspace *ws)
{
    static const char *const fixed[] = { "LOCK", "HEAD", "ledger", "owner.key", "owner.pub" };
    char path[PATH_CAP];
    for (int k = 0; k < 7; k++) {
        int fits = k < 5   ? join(path, sizeof path, ws->dir, fixed[k])
                   : k == 5 ? gen_name(path, sizeof path, ws->dir, "state", ws->generation)
                            : gen_name(path, sizeof path, ws->dir, "public", ws->generation);
        if (!fits)
            return ws_fail_path(ws->ctx, ws->dir);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
            return lethe__fail(ws->ctx, LETHE_EFORMAT,
                               "workspace: %s is a symbolic link: a workspace's entries must "
                               "be its own files; nothing was changed", path);
    }
    return LETHE_OK;
}

/* The files of generation G are the ones HEAD binds (version 2): the state,
 * the public model and the ledger's last certificate hash as HEAD says.
 * Nothing is changed when they do not. */
static lethe_status check_bound(lethe_workspace *ws)
{
    if (!ws->bound || ws->generation == 0)
        return LETHE_OK;
    char path[PATH_CAP], eb[128];
    const unsigned char *want[3] = { ws->h_state, ws->h_public, ws->h_cert };
    static const char *const what[3] = {
        "the owner's state", "the public model", "the ledger's last certificate"
    };
    for (int k = 0; k < 3; k++) {
        if (k == 2 && ws->certificates == 0)
            break;
        int fits = k == 0   ? gen_name(path, sizeof path, ws->dir, "state", ws->generation)
                   : k == 1 ? gen_name(path, sizeof path, ws->dir, "public", ws->generation)
                            : cert_name(path, sizeof path, ws->dir, ws->certificates);
        if (!fits)
            return ws_fail_path(ws->ctx, ws->dir);
        unsigned char got[HASH];
        int e = hash_entry(path, got);
        if (e == ENOENT || e == ELOOP || e == EINVAL ||
            (e == 0 && sodium_memcmp(got, want[k], HASH) != 0))
            return lethe__fail(ws->ctx, LETHE_EFORMAT,
                               "workspace: %s: %s is %s the file HEAD committed (generation "
                               "%llu): copied from another generation or workspace, or "
                               "removed? Refused; nothing was changed",
                               ws->dir, path, e == ENOENT ? "missing, not" : "not",
                               (unsigned long long)ws->generation);
        if (e != 0)
            return lethe__fail(ws->ctx, LETHE_EIO, "workspace: cannot read %s (%s): %s", path,
                               what[k], lethe__read_strerror(e, eb, sizeof eb));
    }
    return LETHE_OK;
}

lethe_status lethe_workspace_open(lethe_ctx *ctx, const char *dir, const char *key_file,
                                  lethe_workspace **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (dir == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "workspace: dir and out must not be NULL");
    if (strlen(dir) > PATH_CAP - 64)
        return ws_fail_path(ctx, dir);
    lethe_workspace *ws = lethe__calloc(ctx, 1, sizeof *ws);
    size_t len = strlen(dir);
    if (ws != NULL)
        ws->dir = lethe__malloc(ctx, len + 1);
    if (ws == NULL || ws->dir == NULL) {
        lethe__free(ctx, ws);
        return lethe__fail(ctx, LETHE_ENOMEM, "workspace: no memory");
    }
    memcpy(ws->dir, dir, len + 1);
    ws->ctx = ctx;
    ws->lock_fd = -1;
    /* one process at a time: recovery deletes what a running change writes */
    char lock[PATH_CAP];
    lethe_status st = LETHE_OK;
    struct stat sb;
    char eb[128];
    int e = 0;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || !join(lock, sizeof lock, dir, "HEAD") ||
        lstat(lock, &sb) != 0)
        e = errno;
    if (e != 0 && e != ENOENT && e != ENOTDIR)
        st = lethe__fail(ctx, LETHE_EIO, "workspace: cannot open %s: %s", lock,
                         lethe__read_strerror(e, eb, sizeof eb));
    else if (e != 0)
        st = lethe__fail(ctx, LETHE_EIO, "workspace: %s is not a lethe workspace (no HEAD; "
                                         "create one with lethe init)", dir);
    else if (S_ISLNK(sb.st_mode))
        st = lethe__fail(ctx, LETHE_EFORMAT, "workspace: %s is a symbolic link: a workspace's "
                                             "entries must be its own files; nothing was "
                                             "changed", lock);
    if (st == LETHE_OK) {
        join(lock, sizeof lock, dir, "LOCK");
        ws->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        e = ws->lock_fd < 0 ? errno : 0;
        if (e == EACCES || e == EROFS || e == EPERM) {
            /* a workspace we may not write: read it under a shared lock (or
             * none, if LOCK cannot be made), and change nothing */
            ws->read_only = 1;
            ws->lock_fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            e = ws->lock_fd < 0 && errno != ENOENT ? errno : 0;
        }
        if (e != 0) {
            st = lethe__fail(ctx, e == ELOOP ? LETHE_EFORMAT : LETHE_EIO,
                             "workspace: cannot open %s: %s", lock,
                             e == ELOOP ? "it is a symbolic link; nothing was changed"
                                        : lethe__read_strerror(e, eb, sizeof eb));
        } else if (ws->lock_fd >= 0 &&
                   flock(ws->lock_fd, (ws->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
            st = lethe__fail(ctx, LETHE_EINVAL,
                             "workspace: %s is in use by another lethe process; try again "
                             "when it has finished", dir);
        }
    }
    if (st == LETHE_OK)
        st = read_head(ws);
    if (st == LETHE_OK && key_file != NULL) {
        if (!ws->encrypted)
            st = lethe__fail(ctx, LETHE_EINVAL,
                             "workspace: %s is not encrypted; a key file does not apply", dir);
        else
            st = lethe_ctx_set_key_file(ctx, key_file);
    }
    if (st == LETHE_OK && ws->encrypted && ctx->key != NULL) {
        /* without a key the public parts stay usable; the state will not load */
        unsigned char id[16];
        lethe__sfile_key_id(ctx->key, id);
        if (sodium_memcmp(id, ws->key_id, 16) != 0)
            st = lethe__fail(ctx, LETHE_EINVAL,
                             "workspace: %s was encrypted with another key", dir);
    }
    if (st == LETHE_OK)
        st = no_links(ws);
    if (st == LETHE_OK)
        st = check_bound(ws);
    if (st == LETHE_OK)
        st = recover(ws, 0);
    if (st != LETHE_OK) {
        lethe_workspace_close(ws);
        return st;
    }
    const char *names[5] = { NULL, NULL, "ledger", "owner.pub", "owner.key" };
    for (int k = 0; k < 5; k++) {
        if (k == LETHE_WS_STATE)
            gen_name(ws->path[k], PATH_CAP, dir, "state", ws->generation);
        else if (k == LETHE_WS_PUBLIC)
            gen_name(ws->path[k], PATH_CAP, dir, "public", ws->generation);
        else
            join(ws->path[k], PATH_CAP, dir, names[k]);
    }
    *out = ws;
    return LETHE_OK;
}

lethe_status lethe_workspace_status(const lethe_workspace *ws, lethe_workspace_info *out)
{
    if (ws == NULL || out == NULL)
        return LETHE_EINVAL;
    memset(out, 0, sizeof *out);
    out->mechanism = (int)ws->mechanism;
    out->generation = ws->generation;
    out->certificates = ws->certificates;
    out->encrypted = ws->encrypted;
    out->recovered = ws->recovered;
    return LETHE_OK;
}

const char *lethe_workspace_path(const lethe_workspace *ws, lethe_ws_file which)
{
    if (ws == NULL || (int)which < 0 || (int)which > 4)
        return NULL;
    if ((which == LETHE_WS_STATE || which == LETHE_WS_PUBLIC) && ws->generation == 0)
        return NULL; /* no model yet */
    return ws->path[which];
}

/* The workspace holds a lethe_model (M1 or M3; m2 = 0) or an lethe_m2 (m2 = 1). */
static lethe_status need(const lethe_workspace *ws, int m2)
{
    if (ws->mechanism == 0)
        return lethe__fail(ws->ctx, LETHE_EINVAL, "workspace: %s holds no model yet: train one",
                           ws->dir);
    if ((ws->mechanism == LETHE_MECH_M2) != (m2 != 0))
        return lethe__fail(ws->ctx, LETHE_EINVAL, "workspace: %s holds an M%d model, not %s",
                           ws->dir, (int)ws->mechanism, m2 ? "M2" : "M1 or M3");
    return LETHE_OK;
}

lethe_status lethe_workspace_load_model(lethe_workspace *ws, lethe_model **out)
{
    if (ws == NULL || out == NULL)
        return LETHE_EINVAL;
    lethe__clear(ws->ctx);
    lethe_status st = need(ws, 0);
    lethe_model *m = NULL;
    if (st == LETHE_OK)
        st = check_bound(ws); /* again: the files may have changed since open */
    if (st == LETHE_OK)
        st = lethe_model_load(ws->ctx, ws->path[LETHE_WS_STATE], &m);
    if (st == LETHE_OK && (uint64_t)lethe_model_mechanism(m) != ws->mechanism) {
        int got = (int)lethe_model_mechanism(m);
        lethe_model_free(m);
        return lethe__fail(ws->ctx, LETHE_EFORMAT,
                           "workspace: %s: HEAD says M%d, but the state holds an M%d model",
                           ws->dir, (int)ws->mechanism, got);
    }
    if (st == LETHE_OK)
        *out = m;
    return st;
}

lethe_status lethe_workspace_load_m2(lethe_workspace *ws, lethe_m2 **out)
{
    if (ws == NULL || out == NULL)
        return LETHE_EINVAL;
    lethe__clear(ws->ctx);
    lethe_status st = need(ws, 1);
    if (st == LETHE_OK)
        st = check_bound(ws); /* again: the files may have changed since open */
    return st != LETHE_OK ? st : lethe_m2_load(ws->ctx, ws->path[LETHE_WS_STATE], out);
}

/* The certificate of a removal, given the files of both generations. */
static lethe_status certify(lethe_workspace *ws, lethe_certificate *c, const char *pub_old,
                            const char *pub_new)
{
    lethe_status st = lethe_cert_hash_file(ws->ctx, pub_old, c->model_before);
    if (st == LETHE_OK)
        st = lethe_cert_hash_file(ws->ctx, pub_new, c->model_after);
    if (st == LETHE_OK)
        st = lethe_cert_write(ws->ctx, ws->path[LETHE_WS_LEDGER], c,
                              ws->path[LETHE_WS_SIGNING_KEY], NULL, 0);
    return st;
}

typedef lethe_status (*save_fn)(void *model, const char *path);

static lethe_status state_model(void *m, const char *path) { return lethe_model_save(m, path); }
static lethe_status public_model(void *m, const char *path)
{
    return lethe_model_save_public(m, path);
}
static lethe_status state_m2(void *m, const char *path) { return lethe_m2_save(m, path); }
static lethe_status public_m2(void *m, const char *path) { return lethe_m2_save_public(m, path); }

static lethe_status commit_files(lethe_workspace *ws, int mechanism, void *model, save_fn save,
                                 save_fn pub, lethe_certificate *c);

/* Write generation G + 1 (state, public model, the certificate if c is not
 * NULL), commit it by rewriting HEAD, then remove generation G. Without a
 * certificate (after the first commit) the public model must come out
 * byte for byte generation G's. */
static lethe_status commit(lethe_workspace *ws, int mechanism, void *model, save_fn save,
                           save_fn pub, lethe_certificate *c)
{
    lethe_ctx *ctx = ws->ctx;
    const uint64_t G = ws->generation, N = G + 1;
    if (ws->encrypted && ctx->key == NULL)
        return lethe__fail(ctx, LETHE_EINVAL,
                           "workspace: %s is encrypted: give the key file it was made with",
                           ws->dir);
    if (ws->read_only)
        return lethe__fail(ctx, LETHE_EIO, "workspace: %s is read-only here (its LOCK cannot "
                                           "be opened for writing): nothing was changed",
                           ws->dir);
    if (N > GEN_MAX)
        return lethe__fail(ctx, LETHE_EINVAL, "workspace: %s has used all %u generations; "
                                              "start a new workspace", ws->dir, GEN_MAX);
    /* whether the state is encrypted is the workspace's choice, not the
     * context's: a key left on the context from another workspace is not used */
    unsigned char *held = ws->encrypted ? NULL : ctx->key;
    if (!ws->encrypted)
        ctx->key = NULL;
    lethe_status st = commit_files(ws, mechanism, model, save, pub, c);
    if (!ws->encrypted)
        ctx->key = held;
    return st;
}

/* A commit with no certificate: the ledger's last model_after (or, before
 * the first certificate, generation 1's public model) must stay the public
 * model, or the next certificate's model_before would not continue the chain. */
static lethe_status same_public(lethe_workspace *ws, const char *pub_old, const char *pub_new)
{
    char was[LETHE_HEX32_LEN], is[LETHE_HEX32_LEN];
    lethe_status st = lethe_cert_hash_file(ws->ctx, pub_old, was);
    if (st == LETHE_OK)
        st = lethe_cert_hash_file(ws->ctx, pub_new, is);
    if (st == LETHE_OK && strcmp(was, is) != 0)
        st = lethe__fail(ws->ctx, LETHE_EINVAL,
                         "workspace: the public model changed, but the change has no "
                         "certificate (an M3 release made before records were removed? save "
                         "after each publication)");
    return st;
}

static lethe_status commit_files(lethe_workspace *ws, int mechanism, void *model, save_fn save,
                                 save_fn pub, lethe_certificate *c)
{
    lethe_ctx *ctx = ws->ctx;
    const uint64_t G = ws->generation, N = G + 1;
    char st_new[PATH_CAP], pub_new[PATH_CAP];
    gen_name(st_new, sizeof st_new, ws->dir, "state", N);
    gen_name(pub_new, sizeof pub_new, ws->dir, "public", N);
    lethe_status st = save(model, st_new);
    if (st == LETHE_OK)
        st = pub(model, pub_new);
    if (st == LETHE_OK && c != NULL)
        st = certify(ws, c, ws->path[LETHE_WS_PUBLIC], pub_new);
    else if (st == LETHE_OK && G > 0)
        st = same_public(ws, ws->path[LETHE_WS_PUBLIC], pub_new);
    uint64_t certs = ws->certificates + (c != NULL);
    /* what the new HEAD binds: the bytes as they are on disk now */
    unsigned char h_state[HASH], h_public[HASH], h_cert[HASH];
    memcpy(h_cert, ws->h_cert, HASH); /* no certificate: the last one stays last */
    char cert_path[PATH_CAP], eb[128];
    int e = 0;
    const char *bad = NULL;
    if (st == LETHE_OK) {
        if ((e = hash_entry(st_new, h_state)) != 0)
            bad = st_new;
        else if ((e = hash_entry(pub_new, h_public)) != 0)
            bad = pub_new;
        else if (c != NULL && (!cert_name(cert_path, sizeof cert_path, ws->dir, certs) ||
                               (e = hash_entry(cert_path, h_cert)) != 0))
            bad = cert_path;
        if (bad != NULL)
            st = lethe__fail(ctx, LETHE_EIO, "workspace: cannot read back %s: %s", bad,
                             lethe__read_strerror(e != 0 ? e : ENAMETOOLONG, eb, sizeof eb));
    }
    if (st == LETHE_OK && !ws->bound) /* a version 1 workspace gets its id now */
        randombytes_buf(ws->id, sizeof ws->id);
    const unsigned char *const hashes[3] = { h_state, h_public, h_cert };
    char msg[LETHE__ERRMSG_CAP];
    if (st == LETHE_OK)
        st = write_head(ctx, ws->dir, N, (uint64_t)mechanism, certs, ws->encrypted, ws->key_id,
                        ws->id, hashes);
    if (st != LETHE_OK) {
        /* generation G stays in force; what N wrote goes, as open() would
         * remove it (the certificate too, if it was written) */
        snprintf(msg, sizeof msg, "%s", lethe_ctx_errmsg(ctx));
        (void)recover(ws, 1);
        return lethe__fail(ctx, st, "%s", msg);
    }
    /* committed: generation N is the workspace now */
    ws->generation = N;
    ws->mechanism = (uint64_t)mechanism;
    ws->certificates = certs;
    ws->bound = 1;
    memcpy(ws->h_state, h_state, HASH);
    memcpy(ws->h_public, h_public, HASH);
    memcpy(ws->h_cert, h_cert, HASH);
    char old_st[PATH_CAP], old_pub[PATH_CAP];
    memcpy(old_st, ws->path[LETHE_WS_STATE], PATH_CAP);
    memcpy(old_pub, ws->path[LETHE_WS_PUBLIC], PATH_CAP);
    memcpy(ws->path[LETHE_WS_STATE], st_new, PATH_CAP);
    memcpy(ws->path[LETHE_WS_PUBLIC], pub_new, PATH_CAP);
    if (G > 0) {
        /* the previous generation's files, removed records and all, go; a
         * failure here leaves them for the next open() to remove */
        if (unlink(old_st) == 0)
            lethe__io_step(ctx);
        if (unlink(old_pub) == 0)
            lethe__io_step(ctx);
        return lethe__sync_dir(ctx, ws->dir);
    }
    return LETHE_OK;
}

/* c's features: the map map on d_in inputs (NULL: none, d_in = d). */
static void cert_features(lethe_certificate *c, const lethe_feature_map *map, size_t d_in)
{
    c->classes = 1;
    lethe_feature_map none;
    memset(&none, 0, sizeof none);
    char hash[65];
    if (lethe_features_describe(map != NULL ? map : &none, d_in, c->features, hash) != LETHE_OK)
        c->features[0] = '\0'; /* lethe_cert_write refuses it */
}

static void cert_common(lethe_certificate *c, lethe_mechanism mech, const char *sampler,
                        int seeded, size_t d, double eps, double delta, double sigma,
                        const uint64_t *ids, size_t k)
{
    memset(c, 0, sizeof *c);
    c->mechanism = mech;
    c->sampler = sampler;
    c->seeded = seeded;
    c->d = d;
    c->epsilon = eps;
    c->delta = delta;
    c->sigma = sigma;
    c->k = k;
    c->ids = ids;
}

/* M3: a release made since before (and only one) is committed with its
 * certificate, naming the ids removed since the previous release; removals
 * not yet published and refreshes are committed without one (the public
 * model is the last release still). */
static lethe_status save_m3(lethe_workspace *ws, lethe_model *m, const uint64_t *ids, size_t k,
                            const lethe_budget *before, const lethe_budget *after)
{
    const int released = after->releases > before->releases;
    if (released && after->releases != before->releases + 1)
        return lethe__fail(ws->ctx, LETHE_EINVAL,
                           "workspace: %zu releases were made since the report before this "
                           "change; save after each publication (each release needs its "
                           "certificate)", after->releases - before->releases);
    if (released && !after->fresh)
        return lethe__fail(ws->ctx, LETHE_EINVAL,
                           "workspace: records were removed after the release made since the "
                           "report before this change; save after each publication");
    if (!released && after->fresh && k > 0)
        return lethe__fail(ws->ctx, LETHE_EINVAL,
                           "workspace: %zu ids given, but the model holds no removal since its "
                           "last release", k);
    if (!released) /* removals not yet published, or a refresh: no certificate */
        return commit(ws, LETHE_MECH_M3, m, state_model, public_model, NULL);
    lethe_certificate c;
    cert_common(&c, LETHE_MECH_M3, after->sampler, after->seeded, lethe_model_dim(m),
                after->epsilon, after->delta, after->sigma, ids, k);
    cert_features(&c, lethe_model_features(m), lethe_model_input_dim(m));
    c.classes = lethe_model_classes(m, NULL);
    c.loss = after->loss;
    c.n = after->n;
    c.lambda = after->lambda;
    c.R = after->R;
    c.delta_max = after->delta_max;
    c.dp_releases = after->dp_releases;
    c.dp_min_records = after->dp_min_records;
    c.sensitivity = after->sensitivity;
    c.releases = after->releases;
    c.mu_total = after->mu_total;
    c.epsilon_total = after->epsilon_total;
    return commit(ws, LETHE_MECH_M3, m, state_model, public_model, &c);
}

lethe_status lethe_workspace_save_model(lethe_workspace *ws, lethe_model *m, const uint64_t *ids,
                                        size_t k, const lethe_budget *before)
{
    if (ws == NULL || m == NULL)
        return LETHE_EINVAL;
    lethe__clear(ws->ctx);
    const int mech = (int)lethe_model_mechanism(m);
    if (ws->mechanism != 0 && (int)ws->mechanism != mech)
        return lethe__fail(ws->ctx, LETHE_EINVAL, "workspace: %s holds an M%d model, not M%d",
                           ws->dir, (int)ws->mechanism, mech);
    if ((k > 0 && (ids == NULL || ws->generation == 0)) ||
        (ws->generation > 0 && before == NULL))
        return lethe__fail(ws->ctx, LETHE_EINVAL,
                           "workspace: a removal needs its ids and a model saved before it, "
                           "and any change after the first the budget before it");
    if (ws->generation == 0) /* the trained model: the ledger starts from it */
        return commit(ws, mech, m, state_model, public_model, NULL);
    lethe_budget after;
    lethe_model_budget(m, &after);
    if (mech == LETHE_MECH_M3)
        return save_m3(ws, m, ids, k, before, &after);
    /* M1: a removal (k ≥ 1), or a refresh (k = 0): either way the public
     * model changes, and the ledger records the change so that its chain of
     * model hashes stays unbroken. Its numbers depend on the secret b: the
     * certificate carries them as the owner's figures under guo's statement
     * (lethe_cert_write adds it) */
    lethe_certificate c;
    cert_common(&c, LETHE_MECH_M1, after.sampler, after.seeded, lethe_model_dim(m),
                after.epsilon, after.delta, after.sigma, ids, k);
    cert_features(&c, lethe_model_features(m), lethe_model_input_dim(m));
    c.residual = after.residual + after.residual_fp;
    c.budget = after.budget;
    c.remaining_before = before->remaining;
    c.remaining_after = after.budget - c.residual;
    return commit(ws, LETHE_MECH_M1, m, state_model, public_model, &c);
}

lethe_status lethe_workspace_save_m2(lethe_workspace *ws, lethe_m2 *m, const uint64_t *ids,
                                     size_t k, const lethe_m2_report *before)
{
    if (ws == NULL || m == NULL)
        return LETHE_EINVAL;
    lethe__clear(ws->ctx);
    if (ws->mechanism != 0 && ws->mechanism != LETHE_MECH_M2)
        return need(ws, 1);
    if ((k == 0) != (ws->generation == 0) || (k > 0 && (ids == NULL || before == NULL)))
        return lethe__fail(ws->ctx, LETHE_EINVAL,
                           "workspace: an M2 model is saved once after training, then only "
                           "after removals, each with its ids and the report before it");
    if (k == 0)
        return commit(ws, LETHE_MECH_M2, m, state_m2, public_m2, NULL);
    lethe_m2_report after;
    lethe_m2_status(m, &after);
    lethe_certificate c;
    cert_common(&c, LETHE_MECH_M2, after.sampler, after.seeded, lethe_m2_dim(m),
                after.epsilon, after.delta, after.sigma, ids, k);
    /* the public parameters σ and Δ were calibrated from (lethe__m2_calibrate),
     * for the verifier to rebuild Δ; lethe_m2_report does not carry them */
    cert_features(&c, NULL, lethe_m2_dim(m));
    c.n = m->n;
    c.lambda = m->lambda;
    c.R = m->R;
    c.tol = m->tol;
    c.sensitivity = after.sensitivity;
    c.capacity = after.capacity;
    c.used_before = before->used;
    c.used_after = after.used;
    return commit(ws, LETHE_MECH_M2, m, state_m2, public_m2, &c);
}
