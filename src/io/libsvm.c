/*
 * The LIBSVM / SVMlight reader: one record per line,
 *
 *     label [qid:Q] index:value index:value …  [# comment]
 *
 * (LIBSVM's README, "the format of training and testing data file";
 * SVMlight's documentation, "the input file format"). Fields are separated
 * by spaces or tabs; indices are decimal, 1-based and strictly increasing;
 * a missing index is a zero. The label and every value are numbers
 * (strtod, the whole field, in the C locale). A `qid:` field (SVMlight's
 * query group, for ranking) may follow the label and is ignored. A `#`
 * starts a comment that runs to the end of the line; blank and comment
 * lines are skipped; CRLF line ends and a UTF-8 byte-order mark are
 * accepted. The file may be gzip-compressed.
 *
 * The file is streamed in chunks and assembled into lines in a buffer that
 * doubles as needed (no limit on the line length but memory). Records are
 * staged sparsely — per kept record its label, id and the end of its
 * entries; per entry its index and value — and scattered into the dense
 * n×d matrix at the end, which may hold at most LETHE_LIBSVM_MAX_CELLS
 * values, and is refused up front when three times its size (the reader's,
 * the dataset's and a model's copies) exceeds the memory the process may
 * use (physical memory, or RLIMIT_AS).
 *
 * Lines and fields in messages count from 1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/read.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Largest dense matrix n·d this reader builds: 2³¹ values (16 GiB), the
 * bound the IDX reader sets. Fuzzing builds lower it (Makefile). */
#ifndef LETHE_LIBSVM_MAX_CELLS
#define LETHE_LIBSVM_MAX_CELLS ((size_t)1 << 31)
#endif
/* Bytes per read, the first line buffer, the first staging sizes. */
#define LIBSVM_CHUNK ((size_t)1 << 16)
#define LIBSVM_FIRST_LINE 256
#define LIBSVM_FIRST_ROWS 64
#define LIBSVM_FIRST_ENTRIES 1024

/* A reading in progress: the input, the current line, the staged records. */
typedef struct libsvm {
    lethe_ctx *ctx;
    const char *path;
    const lethe_read_options *opt;
    gzFile gz;
    unsigned char *chunk;
    size_t chunk_len, chunk_pos;
    int eof;
    char *line;
    size_t line_cap, lineno;
    uint64_t record;        /* data lines seen, kept or not: the id of the next */
    size_t max_index;       /* largest index on any data line                   */
    size_t n, rows_cap;     /* kept records, room                               */
    double *y;
    uint64_t *ids;
    size_t *row_end;        /* entries of records 0 … i                         */
    size_t nnz, nnz_cap;    /* staged entries, room                             */
    size_t *col;            /* 0-based                                          */
    double *val;
} libsvm;

/* ─── Lines ──────────────────────────────────────────────────────────────── */

/* Room for len + 1 bytes in the line buffer, which keeps its first have. */
static lethe_status line_reserve(libsvm *r, size_t have, size_t len)
{
    if (len < r->line_cap)
        return LETHE_OK;
    size_t cap = r->line_cap == 0 ? LIBSVM_FIRST_LINE : r->line_cap;
    while (cap <= len) {
        if (cap > SIZE_MAX / 2)
            return lethe__fail(r->ctx, LETHE_ESIZE, "%s: line %zu is too long", r->path,
                               r->lineno);
        cap *= 2;
    }
    char *p = lethe__read_resize(r->ctx, r->line, have, cap);
    if (p == NULL)
        return lethe__fail(r->ctx, LETHE_ENOMEM, "%s: no memory for line %zu (%zu bytes)",
                           r->path, r->lineno, cap);
    r->line = p;
    r->line_cap = cap;
    return LETHE_OK;
}

/* The next line, without its '\n', NUL-terminated in r->line; *len its
 * length. *more is 0 at the end of the input. */
static lethe_status line_next(libsvm *r, size_t *len, int *more)
{
    size_t have = 0;
    int any = 0;
    *more = 0;
    r->lineno++;
    for (;;) {
        if (r->chunk_pos == r->chunk_len) {
            if (r->eof)
                break;
            size_t got = 0;
            lethe_status st = lethe__read_gzread(r->ctx, r->gz, r->path, r->chunk,
                                                 LIBSVM_CHUNK, &got);
            if (st != LETHE_OK)
                return st;
            r->chunk_len = got;
            r->chunk_pos = 0;
            r->eof = got < LIBSVM_CHUNK;
            if (got == 0)
                break;
        }
        any = 1;
        const unsigned char *start = r->chunk + r->chunk_pos;
        size_t avail = r->chunk_len - r->chunk_pos;
        const unsigned char *nl = memchr(start, '\n', avail);
        size_t seg = nl != NULL ? (size_t)(nl - start) : avail;
        lethe_status st = line_reserve(r, have, have + seg);
        if (st != LETHE_OK)
            return st;
        memcpy(r->line + have, start, seg);
        have += seg;
        r->chunk_pos += seg;
        if (nl != NULL) {
            r->chunk_pos++;
            break;
        }
    }
    if (!any)
        return LETHE_OK;
    lethe_status st = line_reserve(r, have, have);
    if (st != LETHE_OK)
        return st;
    r->line[have] = '\0';
    *len = have;
    *more = 1;
    return LETHE_OK;
}

/* ─── Staging ────────────────────────────────────────────────────────────── */

/* Room for one more kept record. */
static lethe_status reserve_row(libsvm *r)
{
    if (r->n < r->rows_cap)
        return LETHE_OK;
    size_t cap = r->rows_cap == 0 ? LIBSVM_FIRST_ROWS : 2 * r->rows_cap;
    if (cap < r->rows_cap || cap > SIZE_MAX / sizeof *r->row_end)
        return lethe__fail(r->ctx, LETHE_ESIZE, "%s: too many records", r->path);
    double *y = lethe__read_resize(r->ctx, r->y, r->n * sizeof *y, cap * sizeof *y);
    if (y == NULL)
        goto nomem;
    r->y = y;
    uint64_t *ids = lethe__read_resize(r->ctx, r->ids, r->n * sizeof *ids, cap * sizeof *ids);
    if (ids == NULL)
        goto nomem;
    r->ids = ids;
    size_t *end = lethe__read_resize(r->ctx, r->row_end, r->n * sizeof *end,
                                     cap * sizeof *end);
    if (end == NULL)
        goto nomem;
    r->row_end = end;
    r->rows_cap = cap;
    return LETHE_OK;

nomem:
    return lethe__fail(r->ctx, LETHE_ENOMEM, "%s: no memory for %zu records", r->path, cap);
}

/* Room for one more staged entry. */
static lethe_status reserve_entry(libsvm *r)
{
    if (r->nnz < r->nnz_cap)
        return LETHE_OK;
    size_t cap = r->nnz_cap == 0 ? LIBSVM_FIRST_ENTRIES : 2 * r->nnz_cap;
    if (cap < r->nnz_cap || cap > SIZE_MAX / sizeof *r->val)
        return lethe__fail(r->ctx, LETHE_ESIZE, "%s: too many values", r->path);
    size_t *col = lethe__read_resize(r->ctx, r->col, r->nnz * sizeof *col, cap * sizeof *col);
    if (col == NULL)
        goto nomem;
    r->col = col;
    double *val = lethe__read_resize(r->ctx, r->val, r->nnz * sizeof *val, cap * sizeof *val);
    if (val == NULL)
        goto nomem;
    r->val = val;
    r->nnz_cap = cap;
    return LETHE_OK;

nomem:
    return lethe__fail(r->ctx, LETHE_ENOMEM, "%s: no memory for %zu values", r->path, cap);
}

/* ─── One line ───────────────────────────────────────────────────────────── */

static int is_sep(char c)
{
    return c == ' ' || c == '\t';
}

/* The next field of *p (advanced past it), NUL-terminated in place; NULL
 * when none is left. */
static char *next_field(char **p)
{
    char *s = *p;
    while (is_sep(*s))
        s++;
    if (*s == '\0')
        return NULL;
    char *e = s;
    while (*e != '\0' && !is_sep(*e))
        e++;
    if (*e != '\0')
        *e++ = '\0';
    *p = e;
    return s;
}

/* A field that is all decimal digits (at least one), as a number; 0 if it is
 * not, or does not fit in size_t. */
static int parse_index(const char *s, size_t *out)
{
    if (*s < '0' || *s > '9') /* strtoull would accept a sign or spaces */
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > SIZE_MAX)
        return 0;
    *out = (size_t)v;
    return 1;
}

/* One index:value field (the field-th of the line, from 1) after index
 * *prev (0 before the first); staged if keep. */
static lethe_status parse_entry(libsvm *r, char *f, size_t field, size_t *prev, int keep)
{
    const char *path = r->path;
    const size_t line = r->lineno;
    char *colon = strchr(f, ':');
    if (colon == NULL)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: '%.24s' is not "
                           "index:value", path, line, field, f);
    *colon = '\0';
    const char *vtext = colon + 1;
    size_t index = 0;
    if (!parse_index(f, &index)) {
        if (*f >= '0' && *f <= '9' && strspn(f, "0123456789") == strlen(f))
            return lethe__fail(r->ctx, LETHE_ESIZE, "%s: line %zu, field %zu: index %.24s is "
                               "too large", path, line, field, f);
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: index '%.24s' is "
                           "not a positive integer", path, line, field, f);
    }
    if (index == 0)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: index 0 (indices "
                           "start at 1)", path, line, field);
    if (index == *prev)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: index %zu appears "
                           "twice", path, line, field, index);
    if (index < *prev)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: index %zu after "
                           "%zu (indices must increase)", path, line, field, index, *prev);
    if (r->opt->dim > 0 && index > r->opt->dim)
        return lethe__fail(r->ctx, LETHE_ESIZE, "%s: line %zu, field %zu: index %zu beyond "
                           "the dimension %zu", path, line, field, index, r->opt->dim);
    if (index > LETHE_LIBSVM_MAX_CELLS)
        return lethe__fail(r->ctx, LETHE_ESIZE, "%s: line %zu, field %zu: index %zu beyond "
                           "the %zu features this reader accepts", path, line, field, index,
                           LETHE_LIBSVM_MAX_CELLS);
    double v = 0.0;
    int why = lethe__read_number(vtext, &v);
    if (why == LETHE__FIELD_EMPTY)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: index %zu has no "
                           "value", path, line, field, index);
    if (why != LETHE__FIELD_OK)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field %zu: not a number: "
                           "'%.24s'", path, line, field, vtext);
    if (!isfinite(v))
        return lethe__fail(r->ctx, LETHE_ENONFINITE, "%s: line %zu, field %zu: %g is not "
                           "finite", path, line, field, v);
    *prev = index;
    if (index > r->max_index)
        r->max_index = index;
    if (!keep)
        return LETHE_OK;
    lethe_status st = reserve_entry(r);
    if (st != LETHE_OK)
        return st;
    r->col[r->nnz] = index - 1;
    r->val[r->nnz] = v;
    r->nnz++;
    return LETHE_OK;
}

/* Parse the line in r->line (len bytes) and stage its record if kept. */
static lethe_status parse_line(libsvm *r, size_t len)
{
    char *s = r->line;
    if (len > 0 && s[len - 1] == '\r')
        s[--len] = '\0';
    if (r->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        len -= 3;
    }
    if (strlen(s) != len)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu: NUL byte", r->path, r->lineno);
    char *hash = strchr(s, '#');
    if (hash != NULL)
        *hash = '\0';
    char *f = next_field(&s);
    if (f == NULL)
        return LETHE_OK; /* blank or comment */
    double label = 0.0;
    if (lethe__read_number(f, &label) != LETHE__FIELD_OK)
        return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field 1: label '%.24s' is "
                           "not a number", r->path, r->lineno, f);
    if (!isfinite(label))
        return lethe__fail(r->ctx, LETHE_ENONFINITE, "%s: line %zu, field 1: label %g is not "
                           "finite", r->path, r->lineno, label);
    const uint64_t id = r->record++;
    int keep = 1;
    if (lethe__read_filtering(r->opt)) {
        keep = lethe__read_map_label(r->opt, label, &label);
        if (keep < 0)
            return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field 1: label %g is not "
                               "an integer class", r->path, r->lineno, label);
    }
    size_t prev = 0, field = 1;
    while ((f = next_field(&s)) != NULL) {
        field++;
        if (field == 2 && strncmp(f, "qid:", 4) == 0) {
            size_t q;
            if (!parse_index(f + 4, &q))
                return lethe__fail(r->ctx, LETHE_EFORMAT, "%s: line %zu, field 2: '%.24s' is "
                                   "not qid:INTEGER", r->path, r->lineno, f);
            continue;
        }
        lethe_status st = parse_entry(r, f, field, &prev, keep);
        if (st != LETHE_OK)
            return st;
    }
    if (!keep)
        return LETHE_OK;
    lethe_status st = reserve_row(r);
    if (st != LETHE_OK)
        return st;
    r->y[r->n] = label;
    r->ids[r->n] = id;
    r->row_end[r->n] = r->nnz;
    r->n++;
    return LETHE_OK;
}

/* ─── The reader ─────────────────────────────────────────────────────────── */

/* Bytes of memory this process may use: the physical memory, or less under
 * an address-space limit (RLIMIT_AS). +Inf if neither can be read. */
static double memory_bytes(void)
{
    double have = INFINITY;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0)
        have = (double)pages * (double)size;
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        have = fmin(have, (double)lim.rlim_cur);
    return have;
}

/* Scatter the staged entries into a dense n×d matrix (features scaled) and
 * hand it to lethe_dataset_create(). */
static lethe_status finish(libsvm *r, lethe_dataset **out)
{
    const lethe_read_options *opt = r->opt;
    const size_t d = opt->dim > 0 ? opt->dim : r->max_index;
    size_t cells = 0;
    if (d == 0)
        return lethe__fail(r->ctx, LETHE_EEMPTY, "%s: no feature: every record is a label "
                           "alone", r->path);
    if (!lethe__mul_size(r->n, d, &cells) || cells > LETHE_LIBSVM_MAX_CELLS)
        return lethe__fail(r->ctx, LETHE_ESIZE, "%s: %zu records of %zu features exceed the "
                           "%zu values this reader accepts", r->path, r->n, d,
                           LETHE_LIBSVM_MAX_CELLS);
    /* The dense matrix is copied by lethe_dataset_create and again by a
     * model trained on it: refuse up front what the machine cannot hold three
     * times, rather than fill gigabytes of a sparse file's zeros and fail
     * minutes later. */
    const double need = (double)cells * (double)sizeof(double) * 3.0;
    const double have = memory_bytes();
    if (need > have)
        return lethe__fail(r->ctx, LETHE_ESIZE,
                           "%s: %zu records of %zu features (the largest index) make a dense "
                           "matrix of %.3g GB; with the copies a dataset and a model make that "
                           "is %.3g GB, more than the %.3g GB of memory here; check the indices, "
                           "or give --dim", r->path, r->n, d, need / 3e9, need / 1e9, have / 1e9);
    double *x = lethe__calloc(r->ctx, cells, sizeof *x);
    if (x == NULL)
        return lethe__fail(r->ctx, LETHE_ENOMEM, "%s: no memory for %zu×%zu features", r->path,
                           r->n, d);
    const double scale = lethe__is_zero(opt->scale) ? 1.0 : opt->scale;
    for (size_t i = 0, k = 0; i < r->n; i++)
        for (; k < r->row_end[i]; k++)
            x[i * d + r->col[k]] = r->val[k] * scale;
    lethe_status st = lethe__read_finish(r->ctx, r->path, r->n, d, x, r->y, r->ids, opt, out);
    lethe__free(r->ctx, x);
    return st;
}

lethe_status lethe_dataset_read_libsvm(lethe_ctx *ctx, const char *path,
                                       const lethe_read_options *opt, lethe_dataset **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "libsvm: path, opt and out must not be NULL");
    lethe_status st = lethe__read_check(ctx, "libsvm", opt);
    if (st != LETHE_OK)
        return st;
    if (opt->dim > LETHE_LIBSVM_MAX_CELLS)
        return lethe__fail(ctx, LETHE_EINVAL, "libsvm: dimension %zu exceeds the %zu features "
                           "this reader accepts", opt->dim, LETHE_LIBSVM_MAX_CELLS);

    libsvm r = { .ctx = ctx, .path = path, .opt = opt };
    locale_t cloc = (locale_t)0, prev = (locale_t)0;
    st = lethe__read_gzopen(ctx, path, &r.gz);
    if (st != LETHE_OK)
        return st;
    r.chunk = lethe__malloc(ctx, LIBSVM_CHUNK);
    if (r.chunk == NULL) {
        st = lethe__fail(ctx, LETHE_ENOMEM, "%s: no memory to read", path);
        goto done;
    }
    st = lethe__read_locale_begin(ctx, path, &cloc, &prev);
    if (st != LETHE_OK)
        goto done;
    for (;;) {
        size_t len = 0;
        int more = 0;
        st = line_next(&r, &len, &more);
        if (st != LETHE_OK || !more)
            break;
        st = parse_line(&r, len);
        if (st != LETHE_OK)
            break;
    }
    if (st != LETHE_OK)
        goto done;
    if (r.n == 0) {
        if (r.record > 0)
            st = lethe__fail(ctx, LETHE_EEMPTY, "%s: no record of class %ld or %ld", path,
                             opt->pos_class, opt->neg_class);
        else
            st = lethe__fail(ctx, LETHE_EEMPTY, "%s: no data lines", path);
        goto done;
    }
    st = finish(&r, out);

done: /* the success path comes through here too: the staging buffers go either way */
    lethe__read_locale_end(cloc, prev);
    lethe__free(ctx, r.val);
    lethe__free(ctx, r.col);
    lethe__free(ctx, r.row_end);
    lethe__free(ctx, r.ids);
    lethe__free(ctx, r.y);
    lethe__free(ctx, r.line);
    lethe__free(ctx, r.chunk);
    gzclose(r.gz);
    return st;
}
