/*
 * The bodies of the fuzz targets: one per parser of untrusted files. They
 * are shared by the libFuzzer entry point (fuzz/target.c, built once per
 * target) and by the io suite (tests/test_io.c), which replays the seed
 * corpus and every input the fuzzer ever failed on, so that `make check`
 * runs them without clang.
 *
 * Every body has the same signature: two scratch paths (only IDX, which
 * reads two files, uses the second), the input and its size.
 *
 * Each body turns the fuzzer's bytes into the file(s) a reader takes (the
 * first byte, where a reader has options, chooses them), calls the reader,
 * and checks the contract every reader promises: on failure *out is left
 * alone and the context names the failure; on success the dataset is
 * non-empty and finite. A broken promise aborts, which the fuzzer reports.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_FUZZ_H
#define LETHE_FUZZ_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <sys/stat.h>
#include <unistd.h>

#include "lethe.h"
#include "io/sfile.h" /* to encrypt the fuzzer's bytes as a state file would be */

/* Write n bytes to path; 0 on success. */
static inline int lethe_fuzz_write(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

enum { LETHE_FUZZ_CSV, LETHE_FUZZ_IDX, LETHE_FUZZ_LIBSVM, LETHE_FUZZ_NPY };

/* Call one reader (for IDX path is the image file and path2 the labels)
 * and check the promise every reader makes. */
static inline void lethe_fuzz_read(int reader, const char *path, const char *path2,
                                   const lethe_read_options *o)
{
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return;
    lethe_dataset *ds = NULL;
    lethe_status st = reader == LETHE_FUZZ_CSV      ? lethe_dataset_read_csv(ctx, path, o, &ds)
                      : reader == LETHE_FUZZ_IDX  ? lethe_dataset_read_idx(ctx, path, path2, o, &ds)
                      : reader == LETHE_FUZZ_NPY  ? lethe_dataset_read_npy(ctx, path, path2, o, &ds)
                                                  : lethe_dataset_read_libsvm(ctx, path, o, &ds);
    if (st != LETHE_OK) {
        if (ds != NULL || lethe_ctx_errcode(ctx) != st || *lethe_ctx_errmsg(ctx) == '\0')
            abort();
        lethe_ctx_free(ctx);
        return;
    }
    size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    if (ds == NULL || n == 0 || d == 0)
        abort();
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            abort();
        for (size_t j = 0; j < d; j++)
            if (!isfinite(x[i * d + j]))
                abort();
    }
    lethe_dataset_free(ds);
    lethe_ctx_free(ctx);
}

/* Options every reader shares, from one byte: class filter, norm policy, scale. */
static inline void lethe_fuzz_common_options(uint8_t sel, lethe_read_options *o)
{
    lethe_read_options_init(o);
    if (sel & 1) {
        o->pos_class = 1;
        o->neg_class = 0;
    }
    o->policy = (lethe_norm_policy)((sel >> 1) & 3);
    o->R = 2.385;
    if (sel & 8)
        o->scale = 0.5;
}

/* CSV: byte 0 chooses the options (bits 4–7: header, id column, label column). */
static inline void lethe_fuzz_csv(const char *path, const char *path2, const uint8_t *data,
                                  size_t size)
{
    if (size == 0 || lethe_fuzz_write(path, data + 1, size - 1) != 0)
        return;
    lethe_read_options o;
    lethe_fuzz_common_options(data[0], &o);
    o.header = (int)((data[0] >> 4) & 1) - ((data[0] >> 5) & 1); /* −1, 0 or 1 */
    o.id_col = (data[0] & 0x40) ? 0 : -1;
    o.label_col = (data[0] & 0x80) ? 1 : -1;
    lethe_fuzz_read(LETHE_FUZZ_CSV, path, path2, &o);
}

/* A reader of two files (IDX, NumPy): byte 0 the options, bytes 1–2
 * (little-endian) the length L of the labels file, which is the next L bytes
 * (fewer if the input ends); the rest is the first file (images, records).
 * Either may be gzip-compressed, as the readers accept. */
static inline void lethe_fuzz_two_files(int reader, const char *first, const char *labels,
                                        const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    size_t len = (size_t)data[1] | (size_t)data[2] << 8;
    if (len > size - 3)
        len = size - 3;
    if (lethe_fuzz_write(labels, data + 3, len) != 0 ||
        lethe_fuzz_write(first, data + 3 + len, size - 3 - len) != 0)
        return;
    lethe_read_options o;
    lethe_fuzz_common_options(data[0], &o);
    lethe_fuzz_read(reader, first, labels, &o);
}

static inline void lethe_fuzz_idx(const char *images, const char *labels, const uint8_t *data,
                                  size_t size)
{
    lethe_fuzz_two_files(LETHE_FUZZ_IDX, images, labels, data, size);
}

static inline void lethe_fuzz_npy(const char *records, const char *labels, const uint8_t *data,
                                  size_t size)
{
    lethe_fuzz_two_files(LETHE_FUZZ_NPY, records, labels, data, size);
}

/* LIBSVM: byte 0 the options (bits 4–5: d fixed at 0 = inferred, 3, 8, 1000). */
static inline void lethe_fuzz_libsvm(const char *path, const char *path2, const uint8_t *data,
                                     size_t size)
{
    static const size_t dims[4] = { 0, 3, 8, 1000 };
    if (size == 0 || lethe_fuzz_write(path, data + 1, size - 1) != 0)
        return;
    lethe_read_options o;
    lethe_fuzz_common_options(data[0], &o);
    o.dim = dims[(data[0] >> 4) & 3];
    lethe_fuzz_read(LETHE_FUZZ_LIBSVM, path, path2, &o);
}

/* A state file's last 32 bytes are a BLAKE2b-256 of the rest (src/io/sfile.c).
 * A mutated input would almost never match it, and the loader would stop at
 * the checksum; the fuzzer's bytes are given a valid one, so that what lies
 * behind it is fuzzed. The step is idempotent: a saved input replays alike. */
static inline uint8_t *lethe_fuzz_state_bytes(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size > 0 ? size : 1);
    if (b == NULL)
        return NULL;
    memcpy(b, data, size);
    if (size >= 8 + crypto_generichash_BYTES)
        crypto_generichash(b + size - crypto_generichash_BYTES, crypto_generichash_BYTES, b,
                           size - crypto_generichash_BYTES, NULL, 0);
    return b;
}

/* The M1 loader (lethe_model_load) and the mechanism sniffer on path. */
static inline void lethe_fuzz_load_m1(lethe_ctx *ctx, const char *path)
{
    lethe_mechanism mech;
    lethe_status st = lethe_state_mechanism(ctx, path, &mech);
    /* LETHE_EINVAL: an encrypted file and no key on the context, as documented */
    if (st != LETHE_OK && st != LETHE_EFORMAT &&
        !(st == LETHE_EINVAL && memcmp(lethe_ctx_errmsg(ctx), "load: ", 6) == 0 &&
          strstr(lethe_ctx_errmsg(ctx), "encrypted") != NULL))
        abort();
    lethe_model *m = NULL;
    st = lethe_model_load(ctx, path, &m);
    if (st == LETHE_OK) {
        lethe_budget bud;
        if (m == NULL || lethe_model_budget(m, &bud) != LETHE_OK)
            abort();
        lethe_model_free(m);
    } else if (m != NULL || *lethe_ctx_errmsg(ctx) == '\0') {
        abort();
    }
}

/* The M2 loader (lethe_m2_load) on path. */
static inline void lethe_fuzz_load_m2(lethe_ctx *ctx, const char *path)
{
    lethe_m2 *m = NULL;
    lethe_status st = lethe_m2_load(ctx, path, &m);
    if (st == LETHE_OK) {
        lethe_m2_report r;
        if (m == NULL || lethe_m2_status(m, &r) != LETHE_OK)
            abort();
        lethe_m2_free(m);
    } else if (m != NULL || *lethe_ctx_errmsg(ctx) == '\0') {
        abort();
    }
}

/* Write the input, with a valid checksum, to path and hand it to load. */
static inline void lethe_fuzz_state(const char *path, const uint8_t *data, size_t size,
                                    void (*load)(lethe_ctx *, const char *))
{
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK) /* also sodium_init() */
        return;
    uint8_t *b = lethe_fuzz_state_bytes(data, size);
    if (b != NULL && lethe_fuzz_write(path, b, size) == 0)
        load(ctx, path);
    free(b);
    lethe_ctx_free(ctx);
}

static inline void lethe_fuzz_state_m1(const char *path, const char *path2, const uint8_t *data,
                                       size_t size)
{
    (void)path2;
    lethe_fuzz_state(path, data, size, lethe_fuzz_load_m1);
}

static inline void lethe_fuzz_state_m2(const char *path, const char *path2, const uint8_t *data,
                                       size_t size)
{
    (void)path2;
    lethe_fuzz_state(path, data, size, lethe_fuzz_load_m2);
}

/* A deletion certificate (src/io/cert.c), read by the whole verifier from a
 * file: any bytes must give LETHE_OK or LETHE_EVERIFY (or LETHE_ENOMEM),
 * the failing check named, never a crash. */
static inline void lethe_fuzz_cert(const char *path, const char *path2, const uint8_t *data,
                                   size_t size)
{
    (void)path2;
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return;
    if (lethe_fuzz_write(path, data, size) == 0) {
        lethe_verify_report rep;
        lethe_status st = lethe_cert_verify(ctx, path, NULL, NULL, &rep);
        if (st == LETHE_EVERIFY && rep.failed == LETHE_CHECK_NONE)
            abort(); /* a failure must name its check */
        if (st != LETHE_OK && st != LETHE_EVERIFY && st != LETHE_ENOMEM)
            abort();
    }
    lethe_ctx_free(ctx);
}

/* An at-rest key file (lethe_ctx_set_key_file), given a valid checksum: it
 * loads or is refused with its status named; a refused file leaves no key. */
static inline void lethe_fuzz_keyfile(const char *path, const char *path2, const uint8_t *data,
                                      size_t size)
{
    (void)path2;
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return;
    uint8_t *b = lethe_fuzz_state_bytes(data, size);
    if (b != NULL && lethe_fuzz_write(path, b, size) == 0) {
        lethe_status st = lethe_ctx_set_key_file(ctx, path);
        if (st != LETHE_OK && (*lethe_ctx_errmsg(ctx) == '\0' || ctx->key != NULL))
            abort();
    }
    free(b);
    lethe_ctx_free(ctx);
}

/* A state file encrypted at rest. Byte 0 chooses the damage done to the
 * ciphertext (none, a flipped byte, a cut, or a foreign key's header) and
 * bytes 1–2 where; the rest, given a valid checksum, is the plain state that
 * is encrypted with a fixed key, so that the fuzzer reaches the chunk logic
 * and the loaders behind it. Every outcome must be a named status. */
static inline void lethe_fuzz_encrypted(const char *path, const char *path2,
                                        const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return;
    static const unsigned char key[32] = { 0x2b, 0x38, 0x5, 0x11 };
    ctx->key = sodium_malloc(32);
    if (ctx->key == NULL) {
        lethe_ctx_free(ctx);
        return;
    }
    memcpy(ctx->key, key, 32);
    uint8_t *b = lethe_fuzz_state_bytes(data + 3, size - 3);
    lethe_sfile s;
    if (b != NULL && lethe__sfile_create(ctx, path2, 0600, NULL, &s) == LETHE_OK) {
        lethe__sf_put_bytes(&s, b, size - 3);
        if (lethe__sfile_commit(&s) == LETHE_OK) {
            FILE *f = fopen(path2, "r+b");
            long at = (long)(data[1] | (data[2] << 8));
            if (f != NULL && fseek(f, 0, SEEK_END) == 0) {
                long len = ftell(f);
                switch (data[0] % 4) {
                case 1: /* flip one byte */
                    if (len > 0 && fseek(f, at % len, SEEK_SET) == 0) {
                        int c = fgetc(f);
                        fseek(f, at % len, SEEK_SET);
                        fputc(c ^ 0x20, f);
                    }
                    break;
                case 2: /* cut */
                    if (len > 0 && ftruncate(fileno(f), at % len) != 0)
                        abort();
                    break;
                case 3: /* another key's id in the header */
                    if (fseek(f, 16, SEEK_SET) == 0)
                        fputc(0x5a, f);
                    break;
                }
            }
            if (f != NULL)
                fclose(f);
            if (rename(path2, path) == 0) {
                lethe_model *m = NULL;
                lethe_status st = lethe_model_load(ctx, path, &m);
                if ((st == LETHE_OK) != (m != NULL) ||
                    (st != LETHE_OK && *lethe_ctx_errmsg(ctx) == '\0'))
                    abort();
                lethe_model_free(m);
                lethe_m2 *m2 = NULL;
                st = lethe_m2_load(ctx, path, &m2);
                if ((st == LETHE_OK) != (m2 != NULL))
                    abort();
                lethe_m2_free(m2);
            }
        }
    }
    free(b);
    lethe_ctx_free(ctx);
}

/* A workspace's HEAD (lethe_workspace_open, with its recovery), given a valid
 * checksum, in a directory made beside path. */
static inline void lethe_fuzz_head(const char *path, const char *path2, const uint8_t *data,
                                   size_t size)
{
    (void)path2;
    char dir[600], head[640], ledger[640], lock[640];
    snprintf(dir, sizeof dir, "%s.ws", path);
    snprintf(head, sizeof head, "%s/HEAD", dir);
    snprintf(ledger, sizeof ledger, "%s/ledger", dir);
    snprintf(lock, sizeof lock, "%s/LOCK", dir);
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return;
    uint8_t *b = lethe_fuzz_state_bytes(data, size);
    if (b != NULL && (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
        (mkdir(ledger, 0700) == 0 || errno == EEXIST) && lethe_fuzz_write(head, b, size) == 0) {
        lethe_workspace *ws = NULL;
        lethe_status st = lethe_workspace_open(ctx, dir, NULL, &ws);
        if ((st == LETHE_OK) != (ws != NULL) || (st != LETHE_OK && *lethe_ctx_errmsg(ctx) == '\0'))
            abort();
        if (ws != NULL) {
            lethe_workspace_info info;
            if (lethe_workspace_status(ws, &info) != LETHE_OK || info.mechanism > 2)
                abort();
            lethe_model *m = NULL;
            lethe_status ls = lethe_workspace_load_model(ws, &m); /* no state file: refused */
            if (ls == LETHE_OK)
                abort();
            lethe_workspace_close(ws);
        }
    }
    free(b);
    unlink(head);
    unlink(lock);
    rmdir(ledger);
    rmdir(dir);
    lethe_ctx_free(ctx);
}

#endif /* LETHE_FUZZ_H */
