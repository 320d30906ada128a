/*
 * NumPy's .npy files (format versions 1.0, 2.0 and 3.0): the records in one
 * file (two dimensions), their labels in another (one dimension), each
 * little-endian float64, float32 or uint8 in C order (labels also int32 or
 * int64), raw or gzip-compressed. The header is a Python dict literal,
 * parsed strictly: exactly the keys 'descr', 'fortran_order' and 'shape'.
 * Every size is checked against the header before anything is allocated.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/read.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest array (bytes of data) this reader accepts, as the IDX reader. */
#define NPY_MAX_BYTES ((size_t)1 << 34)
#define NPY_HEADER_MAX 65536

typedef enum { NPY_F8, NPY_F4, NPY_U1, NPY_I4, NPY_I8 } npy_type;

typedef struct npy_array {
    npy_type type;
    size_t item;     /* bytes per element */
    int ndim;
    size_t shape[2];
} npy_array;

static lethe_status npy_bad(lethe_ctx *ctx, const char *path, const char *why)
{
    return lethe__fail(ctx, LETHE_EFORMAT, "%s: not a .npy file this reader accepts: %s", path,
                       why);
}

/* The value of key in the dict header h: a pointer just after "'key': ". */
static const char *npy_value(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *at = strstr(h, pat);
    if (at == NULL || strstr(at + 1, pat) != NULL) /* absent, or twice */
        return NULL;
    at += strlen(pat);
    while (*at == ' ')
        at++;
    return at;
}

/* Parse the dict literal h (NUL-terminated) into a. */
static const char *npy_parse(const char *h, npy_array *a, int want_ndim)
{
    static const struct {
        const char *descr;
        npy_type type;
        size_t item;
    } types[] = {
        { "'<f8'", NPY_F8, 8 }, { "'<f4'", NPY_F4, 4 }, { "'|u1'", NPY_U1, 1 },
        { "'<i4'", NPY_I4, 4 }, { "'<i8'", NPY_I8, 8 },
    };
    size_t len = strlen(h);
    while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\n'))
        len--;
    if (len < 2 || h[0] != '{' || h[len - 1] != '}')
        return "the header is not a dict";
    /* exactly three keys: count the quoted keys followed by ':' */
    int keys = 0;
    for (const char *c = h; *c != '\0'; c++)
        keys += c[0] == '\'' && c[1] != '\0' && strchr(c + 1, '\'') != NULL &&
                strchr(c + 1, '\'')[1] == ':';
    if (keys != 3)
        return "the header must have exactly 'descr', 'fortran_order' and 'shape'";
    const char *descr = npy_value(h, "descr"), *fo = npy_value(h, "fortran_order"),
               *shape = npy_value(h, "shape");
    if (descr == NULL || fo == NULL || shape == NULL)
        return "the header must have exactly 'descr', 'fortran_order' and 'shape'";
    size_t t = 0;
    while (t < sizeof types / sizeof types[0] &&
           strncmp(descr, types[t].descr, strlen(types[t].descr)) != 0)
        t++;
    if (t == sizeof types / sizeof types[0])
        return "dtype is not little-endian float64, float32, uint8, int32 or int64";
    a->type = types[t].type;
    a->item = types[t].item;
    if (strncmp(fo, "False", 5) != 0)
        return "the array is in Fortran order (save it in C order)";
    if (*shape != '(')
        return "shape is not a tuple";
    const char *c = shape + 1;
    a->ndim = 0;
    while (*c != ')') {
        while (*c == ' ')
            c++;
        if (*c == ')')
            break;
        if (!isdigit((unsigned char)*c) || a->ndim == 2)
            return "shape is not one or two non-negative integers";
        char *end = NULL;
        unsigned long long v = strtoull(c, &end, 10);
        if (v > SIZE_MAX / 16 || end == c)
            return "a dimension is too large";
        a->shape[a->ndim++] = (size_t)v;
        c = end;
        while (*c == ' ')
            c++;
        if (*c == ',')
            c++;
        else if (*c != ')')
            return "shape is not a tuple of integers";
    }
    if (a->ndim != want_ndim)
        return want_ndim == 2 ? "the records must be a 2-dimensional array (n, d)"
                              : "the labels must be a 1-dimensional array (n,)";
    if (want_ndim == 2 && (a->type == NPY_I4 || a->type == NPY_I8))
        return "records must be float64, float32 or uint8";
    return NULL;
}

/* Read the header of path (opened as gz) into a. */
static lethe_status npy_header(lethe_ctx *ctx, gzFile gz, const char *path, npy_array *a,
                               int want_ndim)
{
    unsigned char pre[12];
    size_t got = 0;
    lethe_status st = lethe__read_gzread(ctx, gz, path, pre, 8, &got);
    if (st != LETHE_OK)
        return st;
    if (got < 8 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return npy_bad(ctx, path, "no \\x93NUMPY magic");
    const int major = pre[6];
    size_t hlen = 0;
    if (major == 1) {
        st = lethe__read_gzread(ctx, gz, path, pre + 8, 2, &got);
        if (st == LETHE_OK && got != 2)
            return npy_bad(ctx, path, "truncated header");
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        st = lethe__read_gzread(ctx, gz, path, pre + 8, 4, &got);
        if (st == LETHE_OK && got != 4)
            return npy_bad(ctx, path, "truncated header");
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
    } else {
        return npy_bad(ctx, path, "format version is not 1.0, 2.0 or 3.0");
    }
    if (st != LETHE_OK)
        return st;
    if (hlen == 0 || hlen > NPY_HEADER_MAX)
        return npy_bad(ctx, path, "the header length is out of range");
    char *h = lethe__malloc(ctx, hlen + 1);
    if (h == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for the header", path);
    st = lethe__read_gzread(ctx, gz, path, h, hlen, &got);
    if (st == LETHE_OK && got != hlen)
        st = npy_bad(ctx, path, "truncated header");
    if (st == LETHE_OK) {
        h[hlen] = '\0';
        if (memchr(h, '\0', hlen) != NULL)
            st = npy_bad(ctx, path, "a NUL byte in the header");
    }
    const char *why = st == LETHE_OK ? npy_parse(h, a, want_ndim) : NULL;
    lethe__free(ctx, h);
    if (why != NULL)
        return npy_bad(ctx, path, why);
    return st;
}

/* v[0..count) from the data that follows the header, as doubles; then the
 * file must end. */
static lethe_status npy_data(lethe_ctx *ctx, gzFile gz, const char *path, const npy_array *a,
                             size_t count, double *v)
{
    unsigned char buf[8192];
    size_t done = 0;
    while (done < count) {
        size_t want = count - done;
        if (want > sizeof buf / a->item)
            want = sizeof buf / a->item;
        size_t got = 0;
        lethe_status st = lethe__read_gzread(ctx, gz, path, buf, want * a->item, &got);
        if (st != LETHE_OK)
            return st;
        if (got != want * a->item)
            return npy_bad(ctx, path, "the data is shorter than the shape says");
        for (size_t i = 0; i < want; i++) {
            const unsigned char *p = buf + i * a->item;
            uint64_t u = 0;
            for (size_t b = 0; b < a->item; b++)
                u |= (uint64_t)p[b] << (8 * b);
            double x;
            switch (a->type) {
            case NPY_F8: memcpy(&x, &u, 8); break;
            case NPY_F4: {
                uint32_t u4 = (uint32_t)u;
                float f;
                memcpy(&f, &u4, 4);
                x = (double)f;
                break;
            }
            case NPY_U1: x = (double)(uint8_t)u; break;
            case NPY_I4: x = (double)(int32_t)(uint32_t)u; break;
            default: x = (double)(int64_t)u; break;
            }
            v[done + i] = x;
        }
        done += want;
    }
    size_t more = 0;
    lethe_status st = lethe__read_gzread(ctx, gz, path, buf, 1, &more);
    if (st == LETHE_OK && more != 0)
        return npy_bad(ctx, path, "bytes after the data the shape says");
    return st;
}

lethe_status lethe_dataset_read_npy(lethe_ctx *ctx, const char *records_path,
                                    const char *labels_path, const lethe_read_options *opt,
                                    lethe_dataset **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (records_path == NULL || labels_path == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "npy: paths, opt and out must not be NULL");
    lethe_status st = lethe__read_check(ctx, "npy", opt);
    if (st != LETHE_OK)
        return st;
    const double scale = lethe__is_zero(opt->scale) ? 1.0 : opt->scale;
    gzFile gx = NULL, gy = NULL;
    double *x = NULL, *y = NULL;
    uint64_t *ids = NULL;
    npy_array ax, ay;
    size_t n = 0, d = 0, total = 0, m = 0;
    st = lethe__read_gzopen(ctx, records_path, &gx);
    if (st == LETHE_OK)
        st = lethe__read_gzopen(ctx, labels_path, &gy);
    if (st == LETHE_OK)
        st = npy_header(ctx, gx, records_path, &ax, 2);
    if (st == LETHE_OK)
        st = npy_header(ctx, gy, labels_path, &ay, 1);
    if (st != LETHE_OK)
        goto done;
    n = ax.shape[0];
    d = ax.shape[1];
    if (ay.shape[0] != n) {
        st = lethe__fail(ctx, LETHE_EFORMAT, "%s holds %zu records but %s %zu labels",
                         records_path, n, labels_path, ay.shape[0]);
        goto done;
    }
    if (n == 0 || d == 0) {
        st = lethe__fail(ctx, LETHE_EEMPTY, "%s: %zu records of %zu features", records_path, n,
                         d);
        goto done;
    }
    if (!lethe__mul_size(n, d, &total) || total > NPY_MAX_BYTES / ax.item) {
        st = lethe__fail(ctx, LETHE_EFORMAT, "%s: %zu × %zu exceeds the %zu bytes this reader "
                                            "accepts", records_path, n, d, NPY_MAX_BYTES);
        goto done;
    }
    x = lethe__calloc(ctx, total, sizeof *x);
    y = lethe__calloc(ctx, n, sizeof *y);
    ids = lethe__calloc(ctx, n, sizeof *ids);
    if (x == NULL || y == NULL || ids == NULL) {
        st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for %zu × %zu", records_path, n, d);
        goto done;
    }
    st = npy_data(ctx, gy, labels_path, &ay, n, y);
    if (st == LETHE_OK)
        st = npy_data(ctx, gx, records_path, &ax, total, x);
    if (st != LETHE_OK)
        goto done;
    /* the class filter, and ids = the record numbers in the file */
    for (size_t i = 0; i < n; i++) {
        double yi = y[i];
        if (!isfinite(yi)) {
            st = lethe__fail(ctx, LETHE_ENONFINITE, "%s: label %zu is %g", labels_path, i, yi);
            goto done;
        }
        if (lethe__read_filtering(opt) && !lethe__read_map_label(opt, y[i], &yi))
            continue;
        if (m != i)
            memmove(x + m * d, x + i * d, d * sizeof *x);
        for (size_t j = 0; j < d; j++)
            x[m * d + j] *= scale;
        y[m] = yi;
        ids[m++] = (uint64_t)i;
    }
    if (m == 0) {
        st = lethe__fail(ctx, LETHE_EEMPTY, "%s: no record of class %ld or %ld", labels_path,
                         opt->pos_class, opt->neg_class);
        goto done;
    }
    st = lethe__read_finish(ctx, records_path, m, d, x, y, ids, opt, out);
done:
    if (gx != NULL)
        gzclose(gx);
    if (gy != NULL)
        gzclose(gy);
    lethe__free(ctx, x);
    lethe__free(ctx, y);
    lethe__free(ctx, ids);
    return st;
}
