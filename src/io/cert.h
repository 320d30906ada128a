/*
 * Deletion certificates: the parsed form of one certificate file and the
 * strict parser, shared by src/io/cert.c and the fuzz target.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_CERT_H
#define LETHE_CERT_H

#include <stddef.h>

#include "base/base.h"

/* Largest certificate file, in bytes. */
#define LETHE__CERT_MAX_BYTES (1u << 20)
/* Longest sampler name, in bytes. */
#define LETHE__CERT_SAMPLER_MAX 255

/* A certificate as the file holds it: the public record with sampler
 * pointing into sampler_buf and ids NULL, and the binary forms of the
 * hashes, key and signature. */
typedef struct lethe__cert_rec {
    lethe_certificate c;
    char sampler_buf[LETHE__CERT_SAMPLER_MAX + 1];
    unsigned char (*idh)[32]; /* k keyed id hashes, allocated on the context */
    unsigned char model_before[32], model_after[32], prev[32], pk[32], sig[64];
} lethe__cert_rec;

/* Parse len bytes (any bytes at all) as one certificate, strictly: the JSON
 * grammar of RFC 8259 restricted to the schema in lethe.h (unknown, missing
 * and duplicate members, bad hex, bad UTF-8 or escapes, non-finite numbers
 * and trailing bytes are errors), then the bytes must equal the canonical
 * serialisation of what was read. On success r is filled (free r->idh with
 * lethe__cert_rec_free). On failure returns LETHE_EVERIFY with why filled
 * (a short reason), or LETHE_ENOMEM; r then owns nothing. */
lethe_status lethe__cert_parse(lethe_ctx *ctx, const unsigned char *buf, size_t len,
                               lethe__cert_rec *r, char *why, size_t why_len);
void lethe__cert_rec_free(lethe_ctx *ctx, lethe__cert_rec *r);

/* Whether a certificate of the ledger in ledger_dir removed any of the n
 * records ids: their keyed hashes (with the id-hashing key of
 * secret_key_path) are looked up in every readable certificate, in sequence
 * order. *seq = the first certificate that names one and *id that id, or
 * both 0 if none does. Cost O(n log n + total ledger bytes). Returns
 * LETHE_OK, LETHE_EIO, LETHE_EFORMAT (the key file), LETHE_ENOMEM. */
lethe_status lethe__ledger_find_ids(lethe_ctx *ctx, const char *ledger_dir,
                                    const char *secret_key_path, const uint64_t *ids, size_t n,
                                    uint64_t *id, uint64_t *seq);

#endif /* LETHE_CERT_H */
