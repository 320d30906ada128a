/*
 * Status messages, error detail, allocator hook and checked size arithmetic.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "base.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

static const char *const status_text[LETHE_STATUS_COUNT] = {
    [LETHE_OK] = "success",
    [LETHE_EINVAL] = "invalid argument",
    [LETHE_ENOMEM] = "out of memory",
    [LETHE_ENONFINITE] = "input holds NaN or infinity",
    [LETHE_EEMPTY] = "empty data",
    [LETHE_ESIZE] = "sizes disagree or overflow",
    [LETHE_ENORM] = "a row is longer than the norm bound",
    [LETHE_ELABEL] = "label not valid for the loss",
    [LETHE_ENOTPD] = "matrix is not positive definite",
    [LETHE_ENOCONV] = "solver did not converge",
    [LETHE_EBUDGET] = "removal would exceed the certified budget",
    [LETHE_ENOTFOUND] = "no record has this id",
    [LETHE_EREMOVED] = "record was already removed",
    [LETHE_EDUPLICATE] = "duplicate id",
    [LETHE_ELAST] = "removal would leave no record",
    [LETHE_EIO] = "input/output error",
    [LETHE_EFORMAT] = "malformed file",
    [LETHE_ECRYPTO] = "cryptographic library failure",
    [LETHE_EBACKEND] = "linear algebra backend failure",
    [LETHE_ECAPACITY] = "removal would exceed the deletion capacity",
    [LETHE_EMISMATCH] = "record does not match the one trained on",
    [LETHE_EVERIFY] = "certificate verification failed",
    [LETHE_EUNSUPPORTED] = "not supported for this model",
};

const char *lethe_strerror(lethe_status status)
{
    if ((unsigned)status >= LETHE_STATUS_COUNT || status_text[status] == NULL)
        return "unknown status";
    return status_text[status];
}

lethe_status lethe__fail(lethe_ctx *ctx, lethe_status code, const char *fmt, ...)
{
    if (ctx == NULL)
        return code;
    ctx->last = code;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    va_end(ap);
    if (w < 0)
        ctx->errmsg[0] = '\0';
    return code;
}

void lethe__clear(lethe_ctx *ctx)
{
    if (ctx == NULL)
        return;
    ctx->last = LETHE_OK;
    ctx->errmsg[0] = '\0';
}

static void *default_malloc(void *ud, size_t size)
{
    (void)ud;
    return malloc(size);
}

static void default_free(void *ud, void *ptr)
{
    (void)ud;
    free(ptr);
}

lethe_status lethe_ctx_create(const lethe_allocator *alloc, lethe_ctx **out)
{
    if (out == NULL)
        return LETHE_EINVAL;
    if (alloc != NULL && (alloc->malloc == NULL || alloc->free == NULL))
        return LETHE_EINVAL;
    if (sodium_init() < 0)
        return LETHE_ECRYPTO;
    lethe_allocator a = { default_malloc, default_free, NULL };
    if (alloc != NULL)
        a = *alloc;
    lethe_ctx *ctx = a.malloc(a.ud, sizeof *ctx);
    if (ctx == NULL)
        return LETHE_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = a;
    *out = ctx;
    return LETHE_OK;
}

void lethe_ctx_free(lethe_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->key != NULL)
        sodium_free(ctx->key);
    lethe_allocator a = ctx->alloc;
    a.free(a.ud, ctx);
}

void lethe_ctx_set_crash_after(lethe_ctx *ctx, unsigned long k)
{
    if (ctx == NULL)
        return;
    ctx->crash_after = k;
    ctx->io_steps = 0;
}

void lethe_ctx_set_progress(lethe_ctx *ctx, lethe_progress_fn fn, void *ud)
{
    if (ctx == NULL)
        return;
    ctx->progress = fn;
    ctx->progress_ud = ud;
}

void lethe__progress(lethe_ctx *ctx, const char *stage, double done, double total)
{
    if (ctx->progress != NULL)
        ctx->progress(ctx->progress_ud, stage, done, total);
}

void lethe__io_step(lethe_ctx *ctx)
{
    if (ctx->crash_after != 0 && ++ctx->io_steps == ctx->crash_after)
        _exit(LETHE__CRASH_EXIT); /* as abrupt as a crash: no flushing, no cleanup */
}

const char *lethe_ctx_errmsg(const lethe_ctx *ctx)
{
    return ctx == NULL ? "" : ctx->errmsg;
}

lethe_status lethe_ctx_errcode(const lethe_ctx *ctx)
{
    return ctx == NULL ? LETHE_OK : ctx->last;
}

void *lethe__malloc(lethe_ctx *ctx, size_t size)
{
    if (size == 0)
        return NULL;
    return ctx->alloc.malloc(ctx->alloc.ud, size);
}

void *lethe__calloc(lethe_ctx *ctx, size_t count, size_t size)
{
    size_t total;
    if (!lethe__mul_size(count, size, &total) || total == 0)
        return NULL;
    void *p = lethe__malloc(ctx, total);
    if (p != NULL)
        memset(p, 0, total);
    return p;
}

void lethe__free(lethe_ctx *ctx, void *ptr)
{
    if (ptr != NULL)
        ctx->alloc.free(ctx->alloc.ud, ptr);
}

int lethe__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

int lethe__fits_blas(size_t v)
{
    return v <= (size_t)INT_MAX;
}

int lethe__blas_int(size_t v)
{
    return (int)v;
}

int lethe__is_zero(double v)
{
    return !(v < 0.0) && !(v > 0.0);
}

size_t lethe_struct_size(const char *name)
{
    static const struct {
        const char *name;
        size_t size;
    } sizes[] = {
        { "lethe_train_options", sizeof(lethe_train_options) },
        { "lethe_budget", sizeof(lethe_budget) },
        { "lethe_removal_report", sizeof(lethe_removal_report) },
        { "lethe_release_report", sizeof(lethe_release_report) },
        { "lethe_feature_map", sizeof(lethe_feature_map) },
        { "lethe_verify_report", sizeof(lethe_verify_report) },
        { "lethe_workspace_info", sizeof(lethe_workspace_info) },
        { "lethe_difficulty", sizeof(lethe_difficulty) },
    };
    for (size_t i = 0; name != NULL && i < sizeof sizes / sizeof sizes[0]; i++)
        if (strcmp(name, sizes[i].name) == 0)
            return sizes[i].size;
    return 0;
}
