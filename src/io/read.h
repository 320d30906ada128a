/*
 * What the dataset readers (idx.c, csv.c, libsvm.c) share: validation of
 * lethe_read_options, the class filter, numbers in the C locale, reading raw
 * or gzip-compressed files, growth of staging buffers and the final
 * hand-over to lethe_dataset_create(). The helpers live in idx.c, beside
 * lethe_read_options_init().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_READ_H
#define LETHE_READ_H

#include <locale.h>

#include <zlib.h>

#include "base/base.h"

/* Check the fields every reader uses (classes, scale, policy, R); what
 * names the reader in the message. Returns LETHE_OK or LETHE_EINVAL. */
lethe_status lethe__read_check(lethe_ctx *ctx, const char *what, const lethe_read_options *opt);

/* 1 if class filtering is on (pos and neg given), 0 if labels pass as read. */
int lethe__read_filtering(const lethe_read_options *opt);

/* Apply the class filter to the integer class c: 1 and *y = +1 / −1 if c is
 * pos / neg, 0 if the record is skipped. Only when filtering is on. */
int lethe__read_map_class(const lethe_read_options *opt, long c, double *y);

/* The class filter for a label read as a number (CSV, LIBSVM). Classes are
 * integers: a fractional label gives −1 (a wrong column or file, not a
 * class, for the caller to report); otherwise as lethe__read_map_class().
 * Labels outside (−2⁶³, 2⁶³) match no class (and are not cast). */
int lethe__read_map_label(const lethe_read_options *opt, double label, double *y);

/* What lethe__read_number() found. */
enum { LETHE__FIELD_OK = 0, LETHE__FIELD_EMPTY, LETHE__FIELD_SYNTAX };

/* Parse the whole of s as a double (strtod); spaces and tabs may surround
 * it. Overflow gives ±HUGE_VAL, which callers reject as non-finite. */
int lethe__read_number(const char *s, double *out);

/* Numbers are read in the C locale whatever the host program chose:
 * begin switches this thread to it (uselocale(), this thread only), end
 * switches back. begin returns LETHE_OK or LETHE_ENOMEM (reported); end
 * accepts what a failed begin left. */
lethe_status lethe__read_locale_begin(lethe_ctx *ctx, const char *path, locale_t *cloc,
                                      locale_t *prev);
void lethe__read_locale_end(locale_t cloc, locale_t prev);

/* Open path for reading, raw or gzip-compressed (zlib passes raw files
 * through). Returns LETHE_OK, LETHE_EIO or LETHE_ENOMEM (reported). */
lethe_status lethe__read_gzopen(lethe_ctx *ctx, const char *path, gzFile *out);

/* Read up to len bytes; *got is what arrived (less than len only at the end
 * of the data). Returns LETHE_OK, LETHE_EIO or LETHE_EFORMAT (corrupt gzip). */
lethe_status lethe__read_gzread(lethe_ctx *ctx, gzFile gz, const char *path, void *buf,
                                size_t len, size_t *got);

/* Move a buffer to a larger one of new_bytes, keeping its first used_bytes.
 * Returns the new buffer (old is freed) or NULL with old untouched. */
void *lethe__read_resize(lethe_ctx *ctx, void *old, size_t used_bytes, size_t new_bytes);

/* Describe errno value err (strerror_r, thread-safe) into buf. */
const char *lethe__read_strerror(int err, char *buf, size_t len);

/* Create the dataset from staged rows, ids and labels with opt's policy and R.
 * A failure of lethe_dataset_create() keeps its status and gets path
 * prefixed to its message. *out is written only on success. */
lethe_status lethe__read_finish(lethe_ctx *ctx, const char *path, size_t n, size_t d,
                                const double *x, const double *y, const uint64_t *ids,
                                const lethe_read_options *opt, lethe_dataset **out);

#endif /* LETHE_READ_H */
