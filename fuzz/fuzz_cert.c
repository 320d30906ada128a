/*
 * libFuzzer target for the certificate parser (src/io/cert.c): any bytes
 * at all must give LETHE_OK or LETHE_EVERIFY, never a crash, a leak or
 * undefined behaviour; what parses must also survive the signature check.
 *
 *   make fuzz                          builds build-fuzz/fuzz_cert (clang)
 *   build-fuzz/fuzz_cert -max_len=4096 fuzz/corpus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static lethe_ctx *ctx;
    if (ctx == NULL && lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        abort();
    lethe__cert_rec r;
    char why[200];
    lethe_status st = lethe__cert_parse(ctx, data, size, &r, why, sizeof why);
    if (st == LETHE_OK)
        lethe__cert_rec_free(ctx, &r);
    else if (st != LETHE_EVERIFY && st != LETHE_ENOMEM)
        abort();
    /* the whole verifier on the same bytes, through a file */
    char path[] = "/tmp/lethe-fuzz-cert-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    if (f != NULL) {
        fwrite(data, 1, size, f);
        fclose(f);
        lethe_verify_report rep;
        st = lethe_cert_verify(ctx, path, NULL, NULL, &rep);
        if (st != LETHE_OK && st != LETHE_EVERIFY && st != LETHE_ENOMEM)
            abort();
    }
    unlink(path);
    return 0;
}
