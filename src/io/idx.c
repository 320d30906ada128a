/*
 * The IDX reader (the MNIST / Fashion-MNIST files) and the options every
 * reader shares.
 *
 *   images  u32be 0x00000803, u32be n, u32be rows, u32be cols, then n·rows·cols u8
 *   labels  u32be 0x00000801, u32be n, then n u8
 *
 * (LeCun, Cortes, Burges, "The MNIST database", section "file formats";
 * magic = 0, 0, type 0x08 = unsigned byte, number of dimensions.)
 * Either file may be gzip-compressed: zlib's gzread() passes raw files
 * through unchanged.
 *
 * A header's sizes are claims until the bytes have been read: staging
 * buffers grow only as data actually arrives, and no file may claim more
 * than IDX_MAX_BYTES of pixels.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/read.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
/* Largest pixel payload accepted: 2 GiB, 16 GiB once widened to doubles. */
#define IDX_MAX_BYTES ((size_t)1 << 31)
/* Bytes per gzread() call, and the first size of a staging buffer. */
#define IDX_CHUNK ((size_t)1 << 16)

/* ─── Shared by the readers (read.h) ─────────────────────────────────────── */

void lethe_read_options_init(lethe_read_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, sizeof *opt);
    opt->header = -1;
    opt->label_col = -1;
    opt->id_col = -1;
    opt->pos_class = -1;
    opt->neg_class = -1;
    opt->scale = 0.0;
    opt->policy = LETHE_NORM_MEASURE;
    opt->R = 1.0;
}

lethe_status lethe__read_check(lethe_ctx *ctx, const char *what, const lethe_read_options *opt)
{
    if (opt->pos_class < -1 || opt->neg_class < -1)
        return lethe__fail(ctx, LETHE_EINVAL, "%s: classes %ld, %ld: a class is ≥ 0 or −1",
                           what, opt->pos_class, opt->neg_class);
    if ((opt->pos_class == -1) != (opt->neg_class == -1))
        return lethe__fail(ctx, LETHE_EINVAL,
                           "%s: classes %ld, %ld: give both classes or neither", what,
                           opt->pos_class, opt->neg_class);
    if (opt->pos_class >= 0 && opt->pos_class == opt->neg_class)
        return lethe__fail(ctx, LETHE_EINVAL, "%s: positive and negative class are both %ld",
                           what, opt->pos_class);
    if (!isfinite(opt->scale) || opt->scale < 0.0)
        return lethe__fail(ctx, LETHE_EINVAL, "%s: scale %g must be finite and > 0 (0: default)",
                           what, opt->scale);
    if ((unsigned)opt->policy > LETHE_NORM_NORMALIZE)
        return lethe__fail(ctx, LETHE_EINVAL, "%s: unknown norm policy %d", what,
                           (int)opt->policy);
    if (opt->policy != LETHE_NORM_MEASURE && !(isfinite(opt->R) && opt->R > 0.0))
        return lethe__fail(ctx, LETHE_EINVAL, "%s: norm bound R = %g must be finite and > 0",
                           what, opt->R);
    return LETHE_OK;
}

int lethe__read_filtering(const lethe_read_options *opt)
{
    return opt->pos_class >= 0;
}

int lethe__read_map_class(const lethe_read_options *opt, long c, double *y)
{
    if (c == opt->pos_class) {
        *y = 1.0;
        return 1;
    }
    if (c == opt->neg_class) {
        *y = -1.0;
        return 1;
    }
    return 0;
}

int lethe__read_map_label(const lethe_read_options *opt, double label, double *y)
{
    if (!lethe__is_zero(label - floor(label)))
        return -1;
    if (!(fabs(label) < 0x1p63))
        return 0;
    return lethe__read_map_class(opt, (long)label, y);
}

static int is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

int lethe__read_number(const char *s, double *out)
{
    while (is_blank_char(*s))
        s++;
    if (*s == '\0')
        return LETHE__FIELD_EMPTY;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s)
        return LETHE__FIELD_SYNTAX;
    while (is_blank_char(*end))
        end++;
    if (*end != '\0')
        return LETHE__FIELD_SYNTAX;
    *out = v;
    return LETHE__FIELD_OK;
}

lethe_status lethe__read_locale_begin(lethe_ctx *ctx, const char *path, locale_t *cloc,
                                      locale_t *prev)
{
    *prev = (locale_t)0;
    *cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (*cloc == (locale_t)0)
        return lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for the C locale", path);
    *prev = uselocale(*cloc);
    return LETHE_OK;
}

void lethe__read_locale_end(locale_t cloc, locale_t prev)
{
    if (cloc != (locale_t)0) {
        uselocale(prev);
        freelocale(cloc);
    }
}

lethe_status lethe__read_gzopen(lethe_ctx *ctx, const char *path, gzFile *out)
{
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL) {
        char eb[128];
        if (errno == 0)
            return lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory to open", path);
        return lethe__fail(ctx, LETHE_EIO, "%s: cannot open: %s", path,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    gzbuffer(gz, (unsigned)IDX_CHUNK);
    *out = gz;
    return LETHE_OK;
}

lethe_status lethe__read_gzread(lethe_ctx *ctx, gzFile gz, const char *path, void *buf,
                                size_t len, size_t *got)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < len) {
        size_t want = len - *got < IDX_CHUNK ? len - *got : IDX_CHUNK;
        errno = 0;
        int r = gzread(gz, p + *got, (unsigned)want);
        if (r < 0) {
            int zerr = Z_OK;
            const char *zmsg = gzerror(gz, &zerr);
            if (zerr == Z_ERRNO) {
                char eb[128];
                return lethe__fail(ctx, LETHE_EIO, "%s: cannot read: %s", path,
                                   lethe__read_strerror(errno, eb, sizeof eb));
            }
            return lethe__fail(ctx, LETHE_EFORMAT, "%s: corrupt compressed data (%s)", path,
                               zmsg);
        }
        *got += (size_t)r;
        if ((size_t)r < want)
            break;
    }
    return LETHE_OK;
}

void *lethe__read_resize(lethe_ctx *ctx, void *old, size_t used_bytes, size_t new_bytes)
{
    unsigned char *p = lethe__malloc(ctx, new_bytes);
    if (p == NULL)
        return NULL;
    if (used_bytes > 0)
        memcpy(p, old, used_bytes);
    lethe__free(ctx, old);
    return p;
}

const char *lethe__read_strerror(int err, char *buf, size_t len)
{
    /* XSI strerror_r (the Makefile asks for POSIX 2008, not GNU). */
    if (strerror_r(err, buf, len) != 0)
        snprintf(buf, len, "error %d", err);
    return buf;
}

lethe_status lethe__read_finish(lethe_ctx *ctx, const char *path, size_t n, size_t d,
                                const double *x, const double *y, const uint64_t *ids,
                                const lethe_read_options *opt, lethe_dataset **out)
{
    lethe_status st = lethe_dataset_create(ctx, n, d, x, d, y, ids, opt->policy, opt->R, out);
    if (st != LETHE_OK) {
        char detail[LETHE__ERRMSG_CAP];
        snprintf(detail, sizeof detail, "%s", lethe_ctx_errmsg(ctx));
        lethe__fail(ctx, st, "%s: %s", path, detail);
    }
    return st;
}

/* ─── IDX ────────────────────────────────────────────────────────────────── */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Read the magic, then a header of ndim dimensions; dims[] receives them. The
 * magic is checked first, so that a file of the other kind is named as such. */
static lethe_status idx_header(lethe_ctx *ctx, gzFile gz, const char *path, uint32_t magic,
                               const char *kind, size_t ndim, size_t *dims)
{
    unsigned char h[16] = { 0 };
    size_t len = 4 * (ndim + 1), got = 0;
    lethe_status st = lethe__read_gzread(ctx, gz, path, h, 4, &got);
    if (st != LETHE_OK)
        return st;
    if (got < 4)
        return lethe__fail(ctx, LETHE_EFORMAT, "%s: truncated header (%zu of %zu bytes)", path,
                           got, len);
    uint32_t m = be32(h);
    if (m != magic)
        return lethe__fail(ctx, LETHE_EFORMAT,
                           "%s: bad magic 0x%08x, expected 0x%08x (an IDX %s file)", path,
                           (unsigned)m, (unsigned)magic, kind);
    st = lethe__read_gzread(ctx, gz, path, h + 4, len - 4, &got);
    if (st != LETHE_OK)
        return st;
    if (got < len - 4)
        return lethe__fail(ctx, LETHE_EFORMAT, "%s: truncated header (%zu of %zu bytes)", path,
                           got + 4, len);
    for (size_t k = 0; k < ndim; k++) {
        dims[k] = be32(h + 4 * (k + 1));
        if (dims[k] == 0)
            return lethe__fail(ctx, LETHE_EFORMAT, "%s: dimension %zu of the header is 0", path,
                               k + 1);
    }
    return LETHE_OK;
}

/* After the payload: one more byte means the file is not what its header says. */
static lethe_status idx_expect_end(lethe_ctx *ctx, gzFile gz, const char *path, size_t records)
{
    unsigned char extra;
    size_t got = 0;
    lethe_status st = lethe__read_gzread(ctx, gz, path, &extra, 1, &got);
    if (st != LETHE_OK)
        return st;
    if (got != 0)
        return lethe__fail(ctx, LETHE_EFORMAT, "%s: trailing data after the %zu records", path,
                           records);
    return LETHE_OK;
}

/* Read exactly n label bytes into a buffer that grows as they arrive. */
static lethe_status idx_read_labels(lethe_ctx *ctx, gzFile gz, const char *path, size_t n,
                                    unsigned char **out)
{
    unsigned char *lab = NULL;
    size_t cap = 0, have = 0;
    lethe_status st = LETHE_OK;
    while (have < n) {
        if (have == cap) {
            size_t ncap = cap == 0 ? IDX_CHUNK : 2 * cap;
            if (ncap > n)
                ncap = n;
            unsigned char *p = lethe__read_resize(ctx, lab, have, ncap);
            if (p == NULL) {
                st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for %zu labels", path, n);
                goto fail;
            }
            lab = p;
            cap = ncap;
        }
        size_t got = 0;
        st = lethe__read_gzread(ctx, gz, path, lab + have, cap - have, &got);
        if (st != LETHE_OK)
            goto fail;
        have += got;
        if (have < cap) {
            st = lethe__fail(ctx, LETHE_EFORMAT, "%s: truncated: %zu of %zu labels", path, have,
                             n);
            goto fail;
        }
    }
    st = idx_expect_end(ctx, gz, path, n);
    if (st != LETHE_OK)
        goto fail;
    *out = lab;
    return LETHE_OK;

fail:
    lethe__free(ctx, lab);
    return st;
}

/* Stream n records of d pixel bytes and keep those with keep[i] != 0, in
 * order, in a buffer that grows as they arrive (at most m·d bytes). */
static lethe_status idx_read_pixels(lethe_ctx *ctx, gzFile gz, const char *path, size_t n,
                                    size_t d, const unsigned char *keep, size_t m,
                                    unsigned char **out)
{
    const size_t total = n * d, want_kept = m * d; /* both ≤ IDX_MAX_BYTES, checked */
    unsigned char *chunk = lethe__malloc(ctx, IDX_CHUNK), *pix = NULL;
    size_t cap = 0, kept = 0, pos = 0;
    lethe_status st = LETHE_OK;
    if (chunk == NULL) {
        st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory to read", path);
        goto fail;
    }
    while (pos < total) {
        size_t want = total - pos < IDX_CHUNK ? total - pos : IDX_CHUNK, got = 0;
        st = lethe__read_gzread(ctx, gz, path, chunk, want, &got);
        if (st != LETHE_OK)
            goto fail;
        for (size_t off = 0; off < got;) {
            size_t i = (pos + off) / d, j = (pos + off) % d;
            size_t seg = d - j < got - off ? d - j : got - off;
            if (keep[i]) {
                if (kept + seg > cap) {
                    size_t ncap = cap == 0 ? IDX_CHUNK : 2 * cap;
                    if (ncap < kept + seg)
                        ncap = kept + seg;
                    if (ncap > want_kept)
                        ncap = want_kept;
                    unsigned char *p = lethe__read_resize(ctx, pix, kept, ncap);
                    if (p == NULL) {
                        st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for %zu×%zu pixels",
                                         path, m, d);
                        goto fail;
                    }
                    pix = p;
                    cap = ncap;
                }
                memcpy(pix + kept, chunk + off, seg);
                kept += seg;
            }
            off += seg;
        }
        pos += got;
        if (got < want) {
            st = lethe__fail(ctx, LETHE_EFORMAT,
                             "%s: truncated: %zu of %zu image bytes (image %zu is incomplete)",
                             path, pos, total, pos / d);
            goto fail;
        }
    }
    st = idx_expect_end(ctx, gz, path, n);
    if (st != LETHE_OK)
        goto fail;
    lethe__free(ctx, chunk);
    *out = pix;
    return LETHE_OK;

fail:
    lethe__free(ctx, pix);
    lethe__free(ctx, chunk);
    return st;
}

lethe_status lethe_dataset_read_idx(lethe_ctx *ctx, const char *images_path,
                                    const char *labels_path, const lethe_read_options *opt,
                                    lethe_dataset **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (images_path == NULL || labels_path == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "idx: paths, opt and out must not be NULL");
    lethe_status st = lethe__read_check(ctx, "idx", opt);
    if (st != LETHE_OK)
        return st;
    const double scale = lethe__is_zero(opt->scale) ? 1.0 / 255.0 : opt->scale;

    gzFile gi = NULL, gl = NULL;
    unsigned char *lab = NULL, *pix = NULL;
    double *x = NULL, *y = NULL;
    uint64_t *ids = NULL;
    size_t idim[3], ldim[1], n, d, total, m = 0;

    st = lethe__read_gzopen(ctx, images_path, &gi);
    if (st == LETHE_OK)
        st = lethe__read_gzopen(ctx, labels_path, &gl);
    if (st == LETHE_OK)
        st = idx_header(ctx, gi, images_path, IDX_MAGIC_IMAGES, "image", 3, idim);
    if (st == LETHE_OK)
        st = idx_header(ctx, gl, labels_path, IDX_MAGIC_LABELS, "label", 1, ldim);
    if (st != LETHE_OK)
        goto fail;
    n = idim[0];
    if (ldim[0] != n) {
        st = lethe__fail(ctx, LETHE_EFORMAT, "%s holds %zu images but %s %zu labels",
                         images_path, n, labels_path, ldim[0]);
        goto fail;
    }
    if (!lethe__mul_size(idim[1], idim[2], &d) || !lethe__mul_size(n, d, &total) ||
        total > IDX_MAX_BYTES) {
        st = lethe__fail(ctx, LETHE_EFORMAT,
                         "%s: %zu images of %zu×%zu pixels exceed the %zu bytes this reader "
                         "accepts", images_path, n, idim[1], idim[2], IDX_MAX_BYTES);
        goto fail;
    }

    st = idx_read_labels(ctx, gl, labels_path, n, &lab);
    if (st != LETHE_OK)
        goto fail;
    /* lab[i] becomes the keep flag of record i; y and ids are filled in order. */
    for (size_t i = 0; i < n; i++) {
        double yi;
        m += !lethe__read_filtering(opt) || lethe__read_map_class(opt, lab[i], &yi);
    }
    if (m > 0) {
        y = lethe__calloc(ctx, m, sizeof *y);
        ids = lethe__calloc(ctx, m, sizeof *ids);
        if (y == NULL || ids == NULL) {
            st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for %zu labels", labels_path, m);
            goto fail;
        }
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        double yi = lab[i];
        int keep = !lethe__read_filtering(opt) || lethe__read_map_class(opt, lab[i], &yi);
        if (keep) {
            y[k] = yi;
            ids[k] = (uint64_t)i;
            k++;
        }
        lab[i] = (unsigned char)keep;
    }

    st = idx_read_pixels(ctx, gi, images_path, n, d, lab, m, &pix);
    if (st != LETHE_OK)
        goto fail;
    if (m == 0) {
        st = lethe__fail(ctx, LETHE_EEMPTY, "%s: no record of class %ld or %ld", labels_path,
                         opt->pos_class, opt->neg_class);
        goto fail;
    }
    x = lethe__calloc(ctx, m * d, sizeof *x); /* m·d ≤ IDX_MAX_BYTES */
    if (x == NULL) {
        st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory for %zu×%zu features", images_path,
                         m, d);
        goto fail;
    }
    for (size_t t = 0; t < m * d; t++)
        x[t] = pix[t] * scale;
    lethe__free(ctx, pix);
    pix = NULL;
    st = lethe__read_finish(ctx, images_path, m, d, x, y, ids, opt, out);

fail: /* the success path comes through here too: the staging buffers go either way */
    lethe__free(ctx, x);
    lethe__free(ctx, pix);
    lethe__free(ctx, ids);
    lethe__free(ctx, y);
    lethe__free(ctx, lab);
    if (gl != NULL)
        gzclose(gl);
    if (gi != NULL)
        gzclose(gi);
    return st;
}
