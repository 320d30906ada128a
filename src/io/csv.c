/*
 * The CSV reader: one record per line, fields separated by commas, every
 * field a number (strtod, the whole field; spaces around it allowed), one
 * column the label and optionally one the id. Blank lines are skipped, CRLF
 * line ends and a UTF-8 byte-order mark are accepted. The file is streamed
 * line by line (getline, no limit on the line length); rows are staged in
 * buffers that double as they fill. Numbers are read in the C locale
 * whatever the host program chose (uselocale() acts on this thread only).
 *
 * Lines and columns in messages count from 1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "io/read.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows staged before the first doubling. */
#define CSV_FIRST_ROWS 64

static int is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

/* Parse the whole of s as a non-negative decimal integer below 2⁶⁴. */
static int parse_id(const char *s, uint64_t *out)
{
    while (is_blank_char(*s))
        s++;
    if (*s == '\0')
        return LETHE__FIELD_EMPTY;
    if (*s < '0' || *s > '9') /* strtoull would accept a sign and wrap "-1" */
        return LETHE__FIELD_SYNTAX;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE) /* unsigned long long is 64 bits on every target */
        return LETHE__FIELD_SYNTAX;
    while (is_blank_char(*end))
        end++;
    if (*end != '\0')
        return LETHE__FIELD_SYNTAX;
    *out = (uint64_t)v;
    return LETHE__FIELD_OK;
}

/* Split line at the commas, in place; fields[] receives at most cap starts.
 * Returns the number of fields (which may exceed cap). */
static size_t split(char *line, char **fields, size_t cap)
{
    size_t k = 0;
    for (char *p = line;; p++) {
        if (k < cap)
            fields[k] = p;
        k++;
        p = strchr(p, ',');
        if (p == NULL)
            return k;
        *p = '\0';
    }
}

static size_t count_fields(const char *line)
{
    size_t k = 1;
    for (; *line != '\0'; line++)
        k += *line == ',';
    return k;
}

static int is_blank_line(const char *s)
{
    while (is_blank_char(*s))
        s++;
    return *s == '\0';
}

/* A reading in progress: the layout fixed by the first line, the staged rows. */
typedef struct csv {
    lethe_ctx *ctx;
    const char *path;
    const lethe_read_options *opt;
    size_t ncol, d, label, line;
    long id; /* column, or −1 */
    char **fields;
    size_t n, cap;  /* rows staged, rows of room */
    uint64_t record; /* data lines seen, kept or not: the default id */
    double *x, *y;
    uint64_t *ids;
} csv;

static lethe_status bad_field(csv *c, size_t col, int why, const char *text)
{
    if (why == LETHE__FIELD_EMPTY)
        return lethe__fail(c->ctx, LETHE_EFORMAT, "%s: line %zu, column %zu: empty field",
                           c->path, c->line, col + 1);
    return lethe__fail(c->ctx, LETHE_EFORMAT, "%s: line %zu, column %zu: not a number: '%.24s'",
                       c->path, c->line, col + 1, text);
}

/* Fix the layout from the first non-blank line, which has ncol fields. */
static lethe_status layout(csv *c, size_t ncol)
{
    const lethe_read_options *opt = c->opt;
    long label = opt->label_col < 0 ? (long)ncol + opt->label_col : opt->label_col;
    if (label < 0 || (size_t)label >= ncol)
        return lethe__fail(c->ctx, LETHE_EINVAL,
                           "%s: label column %ld does not exist in rows of %zu fields", c->path,
                           opt->label_col, ncol);
    if (opt->id_col >= 0 && (size_t)opt->id_col >= ncol)
        return lethe__fail(c->ctx, LETHE_EINVAL,
                           "%s: id column %ld does not exist in rows of %zu fields", c->path,
                           opt->id_col, ncol);
    if (opt->id_col == label)
        return lethe__fail(c->ctx, LETHE_EINVAL, "%s: column %ld is both label and id", c->path,
                           label);
    c->ncol = ncol;
    c->label = (size_t)label;
    c->id = opt->id_col;
    c->d = ncol - 1 - (opt->id_col >= 0);
    if (c->d == 0)
        return lethe__fail(c->ctx, LETHE_EEMPTY, "%s: no feature column in rows of %zu fields",
                           c->path, ncol);
    c->fields = lethe__calloc(c->ctx, ncol, sizeof *c->fields);
    if (c->fields == NULL)
        return lethe__fail(c->ctx, LETHE_ENOMEM, "%s: no memory for %zu columns", c->path, ncol);
    return LETHE_OK;
}

/* Header guess: the first line, split into k fields, is a header iff some
 * field is not a number. */
static int looks_like_header(char *const *fields, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        double v;
        if (lethe__read_number(fields[j], &v) != LETHE__FIELD_OK)
            return 1;
    }
    return 0;
}

/* Room for one more staged row. */
static lethe_status reserve_row(csv *c)
{
    if (c->n < c->cap)
        return LETHE_OK;
    size_t ncap = c->cap == 0 ? CSV_FIRST_ROWS : 2 * c->cap, rowb, xb, yb;
    if (ncap < c->cap || !lethe__mul_size(c->d, sizeof *c->x, &rowb) ||
        !lethe__mul_size(ncap, rowb, &xb) || !lethe__mul_size(ncap, sizeof *c->y, &yb))
        return lethe__fail(c->ctx, LETHE_ESIZE, "%s: too many rows", c->path);
    double *x = lethe__read_resize(c->ctx, c->x, c->n * c->d * sizeof *c->x, xb);
    if (x == NULL)
        goto nomem;
    c->x = x;
    double *y = lethe__read_resize(c->ctx, c->y, c->n * sizeof *c->y, yb);
    if (y == NULL)
        goto nomem;
    c->y = y;
    uint64_t *ids = lethe__read_resize(c->ctx, c->ids, c->n * sizeof *c->ids,
                                       ncap * sizeof *c->ids);
    if (ids == NULL)
        goto nomem;
    c->ids = ids;
    c->cap = ncap;
    return LETHE_OK;

nomem:
    return lethe__fail(c->ctx, LETHE_ENOMEM, "%s: no memory for %zu rows", c->path, ncap);
}

/* Parse one data line, split into k fields in c->fields, and stage it if kept. */
static lethe_status data_line(csv *c, size_t k)
{
    if (k != c->ncol)
        return lethe__fail(c->ctx, LETHE_EFORMAT,
                           "%s: line %zu, column %zu: %zu fields where the first row has %zu",
                           c->path, c->line, (k < c->ncol ? k : c->ncol) + 1, k, c->ncol);
    lethe_status st = reserve_row(c);
    if (st != LETHE_OK)
        return st;
    double *row = c->x + c->n * c->d, label = 0.0;
    uint64_t id = c->record;
    for (size_t j = 0, f = 0; j < c->ncol; j++) {
        int why;
        if (c->id >= 0 && j == (size_t)c->id) {
            why = parse_id(c->fields[j], &id);
            if (why != LETHE__FIELD_OK)
                return lethe__fail(c->ctx, LETHE_EFORMAT,
                                   "%s: line %zu, column %zu: id '%.24s' is not a "
                                   "non-negative integer",
                                   c->path, c->line, j + 1, c->fields[j]);
            continue;
        }
        double v = 0.0;
        why = lethe__read_number(c->fields[j], &v);
        if (why != LETHE__FIELD_OK)
            return bad_field(c, j, why, c->fields[j]);
        if (!isfinite(v))
            return lethe__fail(c->ctx, LETHE_ENONFINITE,
                               "%s: line %zu, column %zu: %g is not finite", c->path, c->line,
                               j + 1, v);
        if (j == c->label)
            label = v;
        else
            row[f++] = v;
    }
    c->record++;
    if (lethe__read_filtering(c->opt)) {
        int keep = lethe__read_map_label(c->opt, label, &label);
        if (keep < 0)
            return lethe__fail(c->ctx, LETHE_EFORMAT,
                               "%s: line %zu, column %zu: label %g is not an integer class",
                               c->path, c->line, c->label + 1, label);
        if (keep == 0)
            return LETHE_OK;
    }
    double scale = lethe__is_zero(c->opt->scale) ? 1.0 : c->opt->scale;
    if (!lethe__is_zero(scale - 1.0))
        for (size_t j = 0; j < c->d; j++)
            row[j] *= scale;
    c->y[c->n] = label;
    c->ids[c->n] = id;
    c->n++;
    return LETHE_OK;
}

lethe_status lethe_dataset_read_csv(lethe_ctx *ctx, const char *path,
                                    const lethe_read_options *opt, lethe_dataset **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || opt == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "csv: path, opt and out must not be NULL");
    lethe_status st = lethe__read_check(ctx, "csv", opt);
    if (st != LETHE_OK)
        return st;
    if (opt->header < -1 || opt->header > 1)
        return lethe__fail(ctx, LETHE_EINVAL, "csv: header = %d must be 1, 0 or −1",
                           opt->header);
    if (opt->id_col < -1)
        return lethe__fail(ctx, LETHE_EINVAL, "csv: id column %ld must be ≥ 0 or −1",
                           opt->id_col);

    csv c = { .ctx = ctx, .path = path, .opt = opt, .id = -1 };
    /* getline() allocates with the C library's malloc, outside the allocator
     * hook; its one buffer is freed below with free(). */
    char *buf = NULL;
    size_t bufcap = 0;
    errno = 0;
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "%s: cannot open: %s", path,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    locale_t cloc, prev;
    st = lethe__read_locale_begin(ctx, path, &cloc, &prev);
    if (st != LETHE_OK)
        goto fail;
    ssize_t len;
    while ((len = getline(&buf, &bufcap, fp)) >= 0) {
        c.line++;
        size_t ulen = (size_t)len;
        char *line = buf;
        if (ulen > 0 && line[ulen - 1] == '\n')
            line[--ulen] = '\0';
        if (ulen > 0 && line[ulen - 1] == '\r')
            line[--ulen] = '\0';
        if (c.line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3;
            ulen -= 3;
        }
        if (strlen(line) != ulen) {
            st = lethe__fail(ctx, LETHE_EFORMAT, "%s: line %zu: NUL byte", path, c.line);
            goto fail;
        }
        if (is_blank_line(line))
            continue;
        int first = c.ncol == 0;
        if (first) {
            st = layout(&c, count_fields(line));
            if (st != LETHE_OK)
                goto fail;
        }
        size_t k = split(line, c.fields, c.ncol);
        if (first && (opt->header == 1 || (opt->header == -1 && looks_like_header(c.fields, k))))
            continue;
        st = data_line(&c, k);
        if (st != LETHE_OK)
            goto fail;
    }
    if (ferror(fp)) {
        char eb[128];
        st = lethe__fail(ctx, LETHE_EIO, "%s: cannot read: %s", path,
                         lethe__read_strerror(errno, eb, sizeof eb));
        goto fail;
    }
    if (c.n == 0) {
        if (c.record > 0)
            st = lethe__fail(ctx, LETHE_EEMPTY, "%s: no record of class %ld or %ld", path,
                             opt->pos_class, opt->neg_class);
        else
            st = lethe__fail(ctx, LETHE_EEMPTY, "%s: no data rows", path);
        goto fail;
    }
    st = lethe__read_finish(ctx, path, c.n, c.d, c.x, c.y, c.ids, opt, out);

fail: /* the success path comes through here too: the staging buffers go either way */
    lethe__free(ctx, c.ids);
    lethe__free(ctx, c.y);
    lethe__free(ctx, c.x);
    lethe__free(ctx, c.fields);
    lethe__read_locale_end(cloc, prev);
    free(buf);
    fclose(fp);
    return st;
}
