/*
 * Internal foundation shared by every module: the context, error detail,
 * the allocator hook, checked size arithmetic and the one gateway from size_t
 * to BLAS/LAPACK integers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_BASE_H
#define LETHE_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lethe.h"

#define LETHE__ERRMSG_CAP 256

#define LETHE__KEY_BYTES 32
/* The exit status of a simulated crash (lethe_ctx_set_crash_after). */
#define LETHE__CRASH_EXIT 86

struct lethe_ctx {
    lethe_allocator alloc;
    lethe_status last;
    char errmsg[LETHE__ERRMSG_CAP];
    unsigned char *key;        /* at-rest key (sodium_malloc) or NULL       */
    unsigned long crash_after; /* testing: _exit after this many io steps   */
    unsigned long io_steps;
    lethe_progress_fn progress; /* or NULL                                 */
    void *progress_ud;
};

/* Report progress of long work to the context's callback, if any. */
void lethe__progress(lethe_ctx *ctx, const char *stage, double done, double total);

/* One durable file-system step done (a file created, synced, renamed, a
 * directory synced, a file removed): the crash-consistency tests end the
 * process here, at the step they choose. */
void lethe__io_step(lethe_ctx *ctx);

/* Record a failure on ctx (status and printf-style detail) and return code.
 * The single place every error passes through: put a breakpoint here. */
lethe_status lethe__fail(lethe_ctx *ctx, lethe_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clear the last error (called at the start of public calls). */
void lethe__clear(lethe_ctx *ctx);

/* Allocate through the context's hook; NULL on failure or on size 0. */
void *lethe__malloc(lethe_ctx *ctx, size_t size);
/* Allocate count*size bytes, failing (NULL) on overflow. Memory is zeroed. */
void *lethe__calloc(lethe_ctx *ctx, size_t count, size_t size);
void lethe__free(lethe_ctx *ctx, void *ptr);

/* a*b without overflow: 1 and *out set, or 0 on overflow. */
int lethe__mul_size(size_t a, size_t b, size_t *out);
/* 1 if v fits the BLAS/LAPACK integer type (int), 0 otherwise. */
int lethe__fits_blas(size_t v);
/* Convert after lethe__fits_blas() said yes. */
int lethe__blas_int(size_t v);

/* Compare doubles without -Wfloat-equal noise, for exact sentinels. */
int lethe__is_zero(double v);

#endif /* LETHE_BASE_H */
