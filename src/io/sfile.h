/*
 * Files written atomically and read back with validation: a unique
 * temporary file beside the target (mkstemp), a stdio buffer in guarded
 * memory (wiped when freed, since these files carry secrets), a BLAKE2b-256
 * checksum of everything after which nothing may follow, fsync, rename,
 * fsync of the directory. Integers and doubles are little-endian (doubles
 * as their IEEE-754 bits). Used by the state files of both mechanisms and
 * by the public model file (text, no checksum).
 *
 * Secret files (mode 0600) written through a context that holds an at-rest
 * key are encrypted: "LETHEENC" | u64 version | key id[16] | nonce prefix[16]
 * | chunks, each crypto_secretbox(flag ‖ up to 64 KiB of the plain file) with
 * nonce = prefix ‖ chunk index, flag 1 on the last chunk only. The plain
 * file inside, checksum included, is exactly the unencrypted format.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_SFILE_H
#define LETHE_SFILE_H

#include <stdio.h>
#include <sys/types.h>

#include <sodium.h>

#include "base/base.h"

#define LETHE__SFILE_MAGIC_BYTES 8
#define LETHE__SFILE_HASH_BYTES 32

typedef struct lethe_sfile {
    lethe_ctx *ctx;
    const char *path;
    FILE *f;
    char *tmp;              /* writing: the temporary file's name */
    unsigned char *iobuf;   /* guarded stdio buffer */
    crypto_generichash_state h;
    int hashed, err;
    int err_no;             /* writing: errno of the first failed write (ENOSPC, …) */
    int exclusive;          /* writing: commit never replaces an existing file */
    long long left;         /* reading: payload bytes not yet read */
    /* encryption at rest (the context's key): chunks of plaintext */
    int enc, bad_crypto;
    unsigned char prefix[16];      /* nonce = prefix ‖ chunk index (LE)     */
    uint64_t chunk, chunks;        /* next chunk; reading: how many in all  */
    size_t last_len;               /* reading: plaintext bytes of the last  */
    unsigned char *pbuf, *cbuf;    /* flag ‖ plaintext (guarded); ciphertext */
    size_t plen, ppos;             /* bytes in pbuf after the flag; read at */
} lethe_sfile;

/* Writing. create opens "<path>.XXXXXX" with the given mode and, if magic is
 * not NULL, starts the checksum and writes the 8-byte magic. commit appends
 * the checksum (if any), fsyncs, renames over path and fsyncs the directory;
 * with s->exclusive set (after create) it links the file to path instead,
 * which fails with LETHE_EIO (EEXIST) if path exists, and removes the
 * temporary name. abort removes the temporary file. Both free the handle's
 * resources.
 * Returns LETHE_OK, LETHE_EIO, LETHE_ENOMEM. */
lethe_status lethe__sfile_create(lethe_ctx *ctx, const char *path, mode_t mode,
                                 const char *magic, lethe_sfile *s);
lethe_status lethe__sfile_commit(lethe_sfile *s);
void lethe__sfile_abort(lethe_sfile *s);

/* Reading. open checks that the file exists, holds at least the magic and a
 * checksum, and begins with magic (LETHE_EIO, LETHE_EFORMAT otherwise;
 * LETHE_ENOMEM). payload is the number of bytes before the checksum,
 * magic included. verify reads the checksum and compares (LETHE_EFORMAT if
 * anything was short or differs). close frees. */
lethe_status lethe__sfile_open(lethe_ctx *ctx, const char *path, const char *magic,
                               lethe_sfile *s, long long *payload);
lethe_status lethe__sfile_verify(lethe_sfile *s);
void lethe__sfile_close(lethe_sfile *s);

/* Fields. Errors are sticky (s->err) and reported by commit/verify. */
void lethe__sf_put_bytes(lethe_sfile *s, const void *p, size_t n);
void lethe__sf_put_u64(lethe_sfile *s, uint64_t v);
void lethe__sf_put_f64s(lethe_sfile *s, const double *v, size_t n);
void lethe__sf_get_bytes(lethe_sfile *s, void *p, size_t n);
uint64_t lethe__sf_get_u64(lethe_sfile *s);
void lethe__sf_get_f64s(lethe_sfile *s, double *v, size_t n);

/* The public name of an at-rest key (16 bytes; zeros for NULL), as the
 * encrypted files carry it, so that a wrong key is told from damage. */
void lethe__sfile_key_id(const unsigned char *key, unsigned char id[16]);

/* fsync the directory dir, or the one that holds path; a file system that
 * cannot sync directories (EINVAL) is not an error. Each is a durable step
 * (lethe__io_step). Neither allocates. LETHE_OK or LETHE_EIO. */
lethe_status lethe__sync_dir(lethe_ctx *ctx, const char *dir);
lethe_status lethe__sync_parent(lethe_ctx *ctx, const char *path);

/* "load: <path>: what" as LETHE_EFORMAT. */
lethe_status lethe__sfile_bad(lethe_ctx *ctx, const char *path, const char *what);

#endif /* LETHE_SFILE_H */
