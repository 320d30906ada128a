/*
 * Atomic, checksummed files (see sfile.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/sfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/read.h"

#define IOBUF_BYTES (64u * 1024u)

#define ENC_MAGIC "LETHEENC"
#define ENC_VERSION 1u
#define CHUNK (64u * 1024u)                        /* plaintext bytes per chunk */
#define CHUNK_OVER (1u + crypto_secretbox_MACBYTES) /* flag + MAC                */
#define ENC_HEAD (8u + 8u + 16u + 16u)
#define WRONG_KEY "encrypted with another key (or its header was altered)"

static lethe_status io_fail(lethe_ctx *ctx, const char *what, const char *path, int e);

/* The key's public name: lets a reader say "wrong key" before decrypting. */
void lethe__sfile_key_id(const unsigned char *key, unsigned char id[16])
{
    static const char label[] = "lethe at-rest key id";
    memset(id, 0, 16);
    if (key != NULL)
        crypto_generichash(id, 16, (const unsigned char *)label, sizeof label - 1, key,
                           LETHE__KEY_BYTES);
}

lethe_status lethe__sync_dir(lethe_ctx *ctx, const char *dir)
{
    int fd = open(dir, O_RDONLY);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL) /* EINVAL: cannot sync a directory here */
            e = errno;
        close(fd);
    }
    if (e != 0)
        return io_fail(ctx, "cannot sync the directory", dir, e);
    lethe__io_step(ctx); /* the directory's entries are on disk */
    return LETHE_OK;
}

lethe_status lethe__sync_parent(lethe_ctx *ctx, const char *path)
{
    /* no allocation: this runs after a rename, where only I/O may fail */
    char dir[4096];
    size_t len = strlen(path);
    if (len >= sizeof dir)
        return io_fail(ctx, "cannot sync the directory of", path, ENAMETOOLONG);
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return lethe__sync_dir(ctx, dir);
}

static void chunk_nonce(const lethe_sfile *s, uint64_t i, unsigned char *nonce)
{
    memcpy(nonce, s->prefix, 16);
    for (int b = 0; b < 8; b++)
        nonce[16 + b] = (unsigned char)(i >> (8 * b));
}

static int enc_buffers(lethe_sfile *s)
{
    s->pbuf = sodium_malloc(CHUNK + 1);
    s->cbuf = sodium_malloc(CHUNK + CHUNK_OVER);
    return s->pbuf != NULL && s->cbuf != NULL;
}

/* A write failed: keep its errno for the message (a full disk must say
 * so, not "Input/output error" from a later call that cleared errno). */
static void write_failed(lethe_sfile *s)
{
    if (!s->err)
        s->err_no = errno;
    s->err = 1;
}

/* Encrypt pbuf (flag ‖ plen bytes) as the next chunk and write it. */
static void flush_chunk(lethe_sfile *s, int last)
{
    unsigned char nonce[crypto_secretbox_NONCEBYTES];
    s->pbuf[0] = (unsigned char)(last ? 1 : 0);
    chunk_nonce(s, s->chunk++, nonce);
    crypto_secretbox_easy(s->cbuf, s->pbuf, s->plen + 1, nonce, s->ctx->key);
    size_t n = s->plen + CHUNK_OVER;
    if (fwrite(s->cbuf, 1, n, s->f) != n)
        write_failed(s);
    s->plen = 0;
}

/* The plain file's bytes, to the file or through the chunks. */
static void raw_write(lethe_sfile *s, const unsigned char *p, size_t n)
{
    if (!s->enc) {
        if (fwrite(p, 1, n, s->f) != n)
            write_failed(s);
        return;
    }
    while (n > 0 && !s->err) {
        size_t take = CHUNK - s->plen < n ? CHUNK - s->plen : n;
        memcpy(s->pbuf + 1 + s->plen, p, take);
        s->plen += take;
        p += take;
        n -= take;
        if (s->plen == CHUNK && n > 0)
            flush_chunk(s, 0); /* a full chunk is flushed only once more follows */
    }
}

/* Decrypt the next chunk into pbuf; 0 (and s->bad_crypto) if it does not
 * open or its flag is not what its place requires. */
static int load_chunk(lethe_sfile *s)
{
    if (s->chunk >= s->chunks)
        return 0;
    int last = s->chunk + 1 == s->chunks;
    size_t len = last ? s->last_len : CHUNK, n = len + CHUNK_OVER;
    unsigned char nonce[crypto_secretbox_NONCEBYTES];
    chunk_nonce(s, s->chunk, nonce);
    if (fread(s->cbuf, 1, n, s->f) != n ||
        crypto_secretbox_open_easy(s->pbuf, s->cbuf, n, nonce, s->ctx->key) != 0 ||
        s->pbuf[0] != (last ? 1 : 0)) {
        s->bad_crypto = 1;
        return 0;
    }
    s->chunk++;
    s->plen = len;
    s->ppos = 0;
    return 1;
}

static int raw_read(lethe_sfile *s, unsigned char *p, size_t n)
{
    if (!s->enc)
        return fread(p, 1, n, s->f) == n;
    while (n > 0) {
        if (s->ppos == s->plen && !load_chunk(s))
            return 0;
        size_t take = s->plen - s->ppos < n ? s->plen - s->ppos : n;
        memcpy(p, s->pbuf + 1 + s->ppos, take);
        s->ppos += take;
        p += take;
        n -= take;
    }
    return 1;
}

static lethe_status io_fail(lethe_ctx *ctx, const char *what, const char *path, int e)
{
    char eb[128];
    return lethe__fail(ctx, LETHE_EIO, "%s %s: %s", what, path,
                       lethe__read_strerror(e, eb, sizeof eb));
}

/* The stdio buffer in guarded memory, wiped by sodium_free() after fclose(). */
static int guard_buffer(lethe_sfile *s)
{
    s->iobuf = sodium_malloc(IOBUF_BYTES);
    if (s->iobuf != NULL && setvbuf(s->f, (char *)s->iobuf, _IOFBF, IOBUF_BYTES) != 0) {
        sodium_free(s->iobuf);
        s->iobuf = NULL;
    }
    return s->iobuf != NULL;
}

static void release(lethe_sfile *s)
{
    if (s->f != NULL)
        fclose(s->f);
    s->f = NULL;
    if (s->iobuf != NULL)
        sodium_free(s->iobuf);
    s->iobuf = NULL;
    lethe__free(s->ctx, s->tmp);
    s->tmp = NULL;
    if (s->pbuf != NULL)
        sodium_free(s->pbuf);
    if (s->cbuf != NULL)
        sodium_free(s->cbuf);
    s->pbuf = s->cbuf = NULL;
}

lethe_status lethe__sfile_create(lethe_ctx *ctx, const char *path, mode_t mode,
                                 const char *magic, lethe_sfile *s)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->path = path;
    size_t len = strlen(path);
    s->tmp = lethe__malloc(ctx, len + 8);
    if (s->tmp == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory for a file name");
    memcpy(s->tmp, path, len);
    memcpy(s->tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(s->tmp); /* unique, created afresh: never follows a link */
    if (fd < 0 || fchmod(fd, mode) != 0 || (s->f = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            remove(s->tmp);
        }
        lethe_status st = io_fail(ctx, "cannot create a file beside", path, e);
        release(s);
        return st;
    }
    lethe__io_step(ctx);
    s->enc = ctx->key != NULL && (mode & 077) == 0; /* secret files only */
    if (!guard_buffer(s) || (s->enc && !enc_buffers(s))) {
        remove(s->tmp);
        release(s);
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory for a guarded file buffer");
    }
    if (s->enc) {
        unsigned char head[ENC_HEAD];
        memcpy(head, ENC_MAGIC, 8);
        for (int b = 0; b < 8; b++)
            head[8 + b] = (unsigned char)((uint64_t)ENC_VERSION >> (8 * b));
        lethe__sfile_key_id(ctx->key, head + 16);
        randombytes_buf(s->prefix, sizeof s->prefix);
        memcpy(head + 32, s->prefix, 16);
        if (fwrite(head, 1, sizeof head, s->f) != sizeof head)
            write_failed(s);
    }
    if (magic != NULL) {
        s->hashed = 1;
        crypto_generichash_init(&s->h, NULL, 0, LETHE__SFILE_HASH_BYTES);
        lethe__sf_put_bytes(s, magic, LETHE__SFILE_MAGIC_BYTES);
    }
    return LETHE_OK;
}

void lethe__sfile_abort(lethe_sfile *s)
{
    if (s->tmp != NULL)
        remove(s->tmp);
    release(s);
}

lethe_status lethe__sfile_commit(lethe_sfile *s)
{
    lethe_ctx *ctx = s->ctx;
    if (s->hashed) {
        unsigned char hash[LETHE__SFILE_HASH_BYTES];
        crypto_generichash_final(&s->h, hash, sizeof hash);
        if (!s->err)
            raw_write(s, hash, sizeof hash);
    }
    if (s->enc && !s->err)
        flush_chunk(s, 1);
    int e = 0;
    errno = 0;
    if (s->err)
        e = s->err_no != 0 ? s->err_no : EIO;
    else if (ferror(s->f) || fflush(s->f) != 0 || fsync(fileno(s->f)) != 0)
        e = errno != 0 ? errno : EIO;
    if (e == 0)
        lethe__io_step(ctx); /* the new file is on disk, under its temporary name */
    if (fclose(s->f) != 0 && e == 0)
        e = errno;
    s->f = NULL;
    if (e == 0 && s->exclusive) {
        /* link() refuses to replace path; the temporary name then goes */
        if (link(s->tmp, s->path) != 0)
            e = errno;
        else
            remove(s->tmp);
    } else if (e == 0 && rename(s->tmp, s->path) != 0) {
        e = errno;
    }
    if (e != 0) {
        lethe_status st = io_fail(ctx, "cannot write", s->path, e);
        lethe__sfile_abort(s);
        return st;
    }
    lethe__io_step(ctx); /* renamed: the new file is in place */
    /* the directory entry must reach the disk too; if it cannot, the file is
     * in place but may not be durable: the caller must not report it done */
    lethe_status dst = lethe__sync_parent(ctx, s->path);
    if (dst != LETHE_OK) {
        release(s);
        return dst;
    }
    release(s);
    return LETHE_OK;
}

lethe_status lethe__sfile_bad(lethe_ctx *ctx, const char *path, const char *what)
{
    return lethe__fail(ctx, LETHE_EFORMAT, "load: %s: %s", path, what);
}

/* An encrypted file's header (its magic already read into head): check the
 * version and the key, set up the chunks and the plain size. NULL or why. */
static const char *enc_open(lethe_sfile *s, unsigned char *head, long long size,
                            long long *plain)
{
    if (s->ctx->key == NULL)
        return "the file is encrypted: give the key file it was written with";
    if (fread(head + 8, 1, ENC_HEAD - 8, s->f) != ENC_HEAD - 8)
        return "truncated";
    uint64_t version = 0;
    for (int b = 7; b >= 0; b--)
        version = (version << 8) | head[8 + b];
    if (version != ENC_VERSION)
        return "unsupported encryption version";
    unsigned char id[16];
    lethe__sfile_key_id(s->ctx->key, id);
    if (sodium_memcmp(id, head + 16, 16) != 0)
        return WRONG_KEY;
    memcpy(s->prefix, head + 32, 16);
    long long body = size - (long long)ENC_HEAD - (long long)CHUNK_OVER;
    if (body < 0)
        return "truncated";
    /* every chunk but the last holds CHUNK bytes: the sizes decide the split */
    s->chunks = (uint64_t)(body / (long long)(CHUNK + CHUNK_OVER)) + 1;
    long long last = body % (long long)(CHUNK + CHUNK_OVER);
    if (last > (long long)CHUNK)
        return "truncated or corrupt (no whole chunk at the end)";
    s->last_len = (size_t)last;
    *plain = (long long)(s->chunks - 1) * (long long)CHUNK + last;
    s->enc = 1;
    if (!enc_buffers(s))
        return "no memory for decryption buffers";
    return NULL;
}

lethe_status lethe__sfile_open(lethe_ctx *ctx, const char *path, const char *magic,
                               lethe_sfile *s, long long *payload)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->path = path;
    s->f = fopen(path, "rb");
    if (s->f == NULL)
        return io_fail(ctx, "load: cannot open", path, errno);
    if (!guard_buffer(s)) {
        release(s);
        return lethe__fail(ctx, LETHE_ENOMEM, "load: no memory for a guarded file buffer");
    }
    struct stat st;
    if (fstat(fileno(s->f), &st) != 0 ||
        st.st_size < LETHE__SFILE_MAGIC_BYTES + LETHE__SFILE_HASH_BYTES) {
        release(s);
        return lethe__sfile_bad(ctx, path, "too short to be a lethe state file");
    }
    long long plain = (long long)st.st_size;
    unsigned char head[ENC_HEAD];
    if (fread(head, 1, 8, s->f) == 8 && memcmp(head, ENC_MAGIC, 8) == 0) {
        const char *why = enc_open(s, head, (long long)st.st_size, &plain);
        if (why != NULL) {
            /* no key, or another key: the caller's mistake, not the file's */
            lethe_status code = s->ctx->key == NULL || strcmp(why, WRONG_KEY) == 0
                                    ? LETHE_EINVAL
                                    : LETHE_EFORMAT;
            release(s);
            return lethe__fail(ctx, code, "load: %s: %s", path, why);
        }
    } else if (fseek(s->f, 0, SEEK_SET) != 0) {
        int e = errno;
        release(s);
        return io_fail(ctx, "load: cannot read", path, e);
    }
    if (plain < LETHE__SFILE_MAGIC_BYTES + LETHE__SFILE_HASH_BYTES) {
        release(s);
        return lethe__sfile_bad(ctx, path, "too short to be a lethe state file");
    }
    s->hashed = 1;
    s->left = plain - LETHE__SFILE_HASH_BYTES;
    *payload = s->left;
    crypto_generichash_init(&s->h, NULL, 0, LETHE__SFILE_HASH_BYTES);
    char got[LETHE__SFILE_MAGIC_BYTES];
    lethe__sf_get_bytes(s, got, sizeof got);
    if (s->err || memcmp(got, magic, sizeof got) != 0) {
        int crypto = s->bad_crypto;
        release(s);
        return lethe__sfile_bad(ctx, path, crypto ? "cannot decrypt: the file was altered or cut"
                                                  : "not a lethe state file of this kind");
    }
    return LETHE_OK;
}

lethe_status lethe__sfile_verify(lethe_sfile *s)
{
    unsigned char want[LETHE__SFILE_HASH_BYTES], got[LETHE__SFILE_HASH_BYTES];
    crypto_generichash_final(&s->h, want, sizeof want);
    if (s->err || s->left != 0 || !raw_read(s, got, sizeof got))
        return lethe__sfile_bad(s->ctx, s->path,
                                s->bad_crypto ? "cannot decrypt: the file was altered or cut"
                                              : "truncated");
    if (sodium_memcmp(want, got, sizeof want) != 0)
        return lethe__sfile_bad(s->ctx, s->path, "checksum mismatch (the file is corrupt)");
    return LETHE_OK;
}

void lethe__sfile_close(lethe_sfile *s)
{
    release(s);
}

void lethe__sf_put_bytes(lethe_sfile *s, const void *p, size_t n)
{
    if (s->err || n == 0)
        return;
    if (s->hashed)
        crypto_generichash_update(&s->h, p, n);
    raw_write(s, p, n);
}

void lethe__sf_put_u64(lethe_sfile *s, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    lethe__sf_put_bytes(s, b, 8);
}

void lethe__sf_put_f64s(lethe_sfile *s, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], sizeof u);
        lethe__sf_put_u64(s, u);
    }
}

void lethe__sf_get_bytes(lethe_sfile *s, void *p, size_t n)
{
    if (s->err || (long long)n > s->left || !raw_read(s, p, n)) {
        s->err = 1;
        memset(p, 0, n);
        return;
    }
    s->left -= (long long)n;
    crypto_generichash_update(&s->h, p, n);
}

uint64_t lethe__sf_get_u64(lethe_sfile *s)
{
    unsigned char b[8];
    lethe__sf_get_bytes(s, b, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

void lethe__sf_get_f64s(lethe_sfile *s, double *v, size_t n)
{
    for (size_t i = 0; i < n && !s->err; i++) {
        uint64_t u = lethe__sf_get_u64(s);
        memcpy(&v[i], &u, sizeof u);
    }
}
