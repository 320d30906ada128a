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
    if (!guard_buffer(s)) {
        remove(s->tmp);
        release(s);
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory for a guarded file buffer");
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
        if (!s->err && fwrite(hash, 1, sizeof hash, s->f) != sizeof hash)
            s->err = 1;
    }
    int e = 0;
    if (s->err || ferror(s->f) || fflush(s->f) != 0 || fsync(fileno(s->f)) != 0)
        e = errno != 0 ? errno : EIO;
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
    /* the directory entry must reach the disk too */
    size_t len = strlen(s->path);
    memcpy(s->tmp, s->path, len + 1); /* tmp is len + 8 bytes long */
    char *slash = strrchr(s->tmp, '/');
    if (slash == NULL)
        strcpy(s->tmp, ".");
    else if (slash == s->tmp)
        s->tmp[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(s->tmp, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    release(s);
    return LETHE_OK;
}

lethe_status lethe__sfile_bad(lethe_ctx *ctx, const char *path, const char *what)
{
    return lethe__fail(ctx, LETHE_EFORMAT, "load: %s: %s", path, what);
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
    s->hashed = 1;
    s->left = (long long)st.st_size - LETHE__SFILE_HASH_BYTES;
    *payload = s->left;
    crypto_generichash_init(&s->h, NULL, 0, LETHE__SFILE_HASH_BYTES);
    char got[LETHE__SFILE_MAGIC_BYTES];
    lethe__sf_get_bytes(s, got, sizeof got);
    if (s->err || memcmp(got, magic, sizeof got) != 0) {
        release(s);
        return lethe__sfile_bad(ctx, path, "not a lethe state file of this kind");
    }
    return LETHE_OK;
}

lethe_status lethe__sfile_verify(lethe_sfile *s)
{
    unsigned char want[LETHE__SFILE_HASH_BYTES], got[LETHE__SFILE_HASH_BYTES];
    crypto_generichash_final(&s->h, want, sizeof want);
    if (s->err || s->left != 0 || fread(got, 1, sizeof got, s->f) != sizeof got)
        return lethe__sfile_bad(s->ctx, s->path, "truncated");
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
    if (fwrite(p, 1, n, s->f) != n)
        s->err = 1;
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
    if (s->err || (long long)n > s->left || fread(p, 1, n, s->f) != n) {
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
