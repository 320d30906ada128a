/*
 * The at-rest key file: "LETHEKEY" | u64 version | key[32] | BLAKE2b-256,
 * mode 0600, written atomically (sfile.c). The key encrypts secret files
 * (sfile.h); this file itself is never encrypted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/sfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define MAGIC "LETHEKEY"
#define VERSION 1u

lethe_status lethe_key_create(lethe_ctx *ctx, const char *path)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "key: path is NULL");
    struct stat st;
    if (lstat(path, &st) == 0 || errno != ENOENT)
        return lethe__fail(ctx, LETHE_EINVAL, "key: %s already exists; not replacing a key", path);
    unsigned char *key = sodium_malloc(LETHE__KEY_BYTES);
    if (key == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "key: no memory");
    randombytes_buf(key, LETHE__KEY_BYTES);
    unsigned char *held = ctx->key;
    ctx->key = NULL; /* the key file is written in the clear */
    lethe_sfile s;
    lethe_status rc = lethe__sfile_create(ctx, path, 0600, MAGIC, &s);
    if (rc == LETHE_OK) {
        lethe__sf_put_u64(&s, VERSION);
        lethe__sf_put_bytes(&s, key, LETHE__KEY_BYTES);
        rc = lethe__sfile_commit(&s);
    }
    ctx->key = held;
    sodium_free(key);
    return rc;
}

lethe_status lethe_ctx_set_key_file(lethe_ctx *ctx, const char *path)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL) {
        if (ctx->key != NULL)
            sodium_free(ctx->key);
        ctx->key = NULL;
        return LETHE_OK;
    }
    unsigned char *key = sodium_malloc(LETHE__KEY_BYTES);
    if (key == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "key: no memory");
    unsigned char *held = ctx->key;
    ctx->key = NULL; /* read in the clear */
    lethe_sfile s;
    long long payload = 0;
    lethe_status rc = lethe__sfile_open(ctx, path, MAGIC, &s, &payload);
    if (rc == LETHE_OK) {
        uint64_t version = lethe__sf_get_u64(&s);
        lethe__sf_get_bytes(&s, key, LETHE__KEY_BYTES);
        if (payload != 8 + 8 + LETHE__KEY_BYTES)
            rc = lethe__sfile_bad(ctx, path, "not a key file of this size");
        else if (version != VERSION)
            rc = lethe__sfile_bad(ctx, path, "unsupported key file version");
        else
            rc = lethe__sfile_verify(&s);
        lethe__sfile_close(&s);
    }
    if (rc != LETHE_OK) {
        ctx->key = held;
        sodium_free(key);
        return rc;
    }
    if (held != NULL)
        sodium_free(held);
    ctx->key = key;
    return LETHE_OK;
}
