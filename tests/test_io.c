/*
 * Suite "io": the IDX, CSV and LIBSVM dataset readers (src/io/idx.c,
 * src/io/csv.c, src/io/libsvm.c).
 *
 * Every file is written by the test itself into a temporary directory, raw
 * and gzip-compressed; each documented status is provoked, allocation
 * failure included (a counting allocator fails the N-th allocation for
 * every N until the call succeeds, and nothing may leak). The real
 * Fashion-MNIST t10k files are read when installed. The fuzz targets'
 * bodies (fuzz/fuzz.h) are replayed on their seeds and on every input the
 * fuzzer failed on.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "lethe.h"
#include "io/sfile.h"

#include "../fuzz/fuzz.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ─── Helpers ────────────────────────────────────────────────────────────── */

static char tmpdir[64];

/* Path of name inside the temporary directory; four rotating buffers. */
static const char *tpath(const char *name)
{
    static char buf[4][sizeof tmpdir + 256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static const char *write_raw(const char *name, const void *p, size_t len)
{
    const char *path = tpath(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *write_gz(const char *name, const void *p, size_t len)
{
    const char *path = tpath(name);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, p, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_raw(name, text, strlen(text));
}

/* |a − b| ≤ tol, with both values printed on failure (cmocka 1.1.5's
 * assert_float_equal compares in float). */
#define assert_double_near(a, b, tol) double_near((a), (b), (tol), #a, __FILE__, __LINE__)

static void double_near(double a, double b, double tol, const char *what, const char *file,
                        int line)
{
    if (isnan(a) || isnan(b) || !(fabs(a - b) <= tol)) {
        print_error("%s = %.17g, expected %.17g (tolerance %g)\n", what, a, b, tol);
        _fail(file, line);
    }
}

#define assert_status(call, want) status_is((call), (want), #call, __FILE__, __LINE__)

static void status_is(lethe_status got, lethe_status want, const char *call, const char *file,
                      int line)
{
    if (got != want) {
        print_error("%s returned %s, expected %s\n", call, lethe_strerror(got),
                    lethe_strerror(want));
        _fail(file, line);
    }
}

/* The last error message on ctx contains needle. */
#define assert_msg_has(ctx, needle) msg_has((ctx), (needle), __FILE__, __LINE__)

static void msg_has(const lethe_ctx *ctx, const char *needle, const char *file, int line)
{
    const char *msg = lethe_ctx_errmsg(ctx);
    if (strstr(msg, needle) == NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", msg, needle);
        _fail(file, line);
    }
}

/* ‖x‖ from a compensated sum of squares (each square split exactly with fma,
 * then TwoSum), so that the sum's own rounding does not decide; long double
 * would not do, valgrind runs it in double. */
static double row_norm(const double *x, size_t d)
{
    double s = 0.0, c = 0.0;
    for (size_t j = 0; j < d; j++) {
        double p = x[j] * x[j], e = fma(x[j], x[j], -p);
        double t = s + p, z = t - s;
        c += (s - (t - z)) + (p - z) + e;
        s = t;
    }
    return sqrt(s + c);
}

/* v == 0 without -Wfloat-equal noise. */
static int lethe__test_is_zero(double v)
{
    return !(v < 0.0) && !(v > 0.0);
}

/* A counting allocator that fails the fail_at-th allocation (0: never). */
typedef struct counting {
    long count, fail_at, live;
} counting;

static void *counting_malloc(void *ud, size_t size)
{
    counting *c = ud;
    if (++c->count == c->fail_at)
        return NULL;
    void *p = malloc(size);
    c->live += p != NULL;
    return p;
}

static void counting_free(void *ud, void *p)
{
    counting *c = ud;
    if (p != NULL) {
        c->live--;
        free(p);
    }
}

/* ─── IDX files made in memory ───────────────────────────────────────────── */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static unsigned char pixel(size_t i, size_t j)
{
    return (unsigned char)((i * 37 + j * 11 + 5) % 256);
}

/* Image file bytes: header for n×rows×cols, then the pixels; *len its size. */
static unsigned char *idx_images(uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols,
                                 size_t *len)
{
    size_t d = (size_t)rows * cols;
    *len = 16 + (size_t)n * d;
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    put_be32(b, magic);
    put_be32(b + 4, n);
    put_be32(b + 8, rows);
    put_be32(b + 12, cols);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            b[16 + i * d + j] = pixel(i, j);
    return b;
}

static unsigned char *idx_labels(uint32_t magic, uint32_t n, const unsigned char *lab,
                                 size_t *len)
{
    *len = 8 + (size_t)n;
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    put_be32(b, magic);
    put_be32(b + 4, n);
    memcpy(b + 8, lab, n);
    return b;
}

/* Seven 3×4 images and their classes. */
#define N7 7u
#define ROWS 3u
#define COLS 4u
static const unsigned char labels7[N7] = { 2, 4, 1, 2, 4, 4, 0 };

/* Write the pair (raw or gzip) and return the paths. */
static void write_pair(int gz, const char **img, const char **lab)
{
    size_t li, ll;
    unsigned char *bi = idx_images(0x803, N7, ROWS, COLS, &li);
    unsigned char *bl = idx_labels(0x801, N7, labels7, &ll);
    *img = gz ? write_gz("img-idx3-ubyte.gz", bi, li) : write_raw("img-idx3-ubyte", bi, li);
    *lab = gz ? write_gz("lab-idx1-ubyte.gz", bl, ll) : write_raw("lab-idx1-ubyte", bl, ll);
    free(bi);
    free(bl);
}

/* ─── Fixture ────────────────────────────────────────────────────────────── */

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lethe-io-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *dir = opendir(tmpdir);
    if (dir == NULL)
        return -1;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(tpath(e->d_name));
    closedir(dir);
    return rmdir(tmpdir);
}

static int ctx_setup(void **state)
{
    lethe_ctx *ctx = NULL;
    if (lethe_ctx_create(NULL, &ctx) != LETHE_OK)
        return -1;
    *state = ctx;
    return 0;
}

static int ctx_teardown(void **state)
{
    lethe_ctx_free(*state);
    return 0;
}

/* ─── Options ────────────────────────────────────────────────────────────── */

static void test_options_init(void **state)
{
    (void)state;
    lethe_read_options o;
    memset(&o, 0x5a, sizeof o);
    lethe_read_options_init(&o);
    assert_int_equal(o.header, -1);
    assert_int_equal(o.label_col, -1);
    assert_int_equal(o.id_col, -1);
    assert_int_equal(o.pos_class, -1);
    assert_int_equal(o.neg_class, -1);
    assert_double_near(o.scale, 0.0, 0.0);
    assert_int_equal(o.policy, LETHE_NORM_MEASURE);
    assert_double_near(o.R, 1.0, 0.0);
    lethe_read_options_init(NULL); /* no crash */
}

/* ─── IDX ────────────────────────────────────────────────────────────────── */

/* Every record, labels as read, default scale 1/255, ids 0 … n−1. */
static void check_all7(const lethe_dataset *ds, double scale)
{
    assert_int_equal(lethe_dataset_rows(ds), N7);
    assert_int_equal(lethe_dataset_cols(ds), ROWS * COLS);
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    const uint64_t *ids = lethe_dataset_ids(ds);
    for (size_t i = 0; i < N7; i++) {
        assert_int_equal(ids[i], i);
        assert_double_near(y[i], labels7[i], 0.0);
        for (size_t j = 0; j < ROWS * COLS; j++)
            assert_double_near(x[i * ROWS * COLS + j], pixel(i, j) * scale, 0.0);
    }
}

static void test_idx_raw(void **state)
{
    lethe_ctx *ctx = *state;
    const char *img, *lab;
    write_pair(0, &img, &lab);
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_OK);
    check_all7(ds, 1.0 / 255.0);
    lethe_dataset_free(ds);

    o.scale = 2.385; /* a scale given replaces 1/255 */
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_OK);
    check_all7(ds, 2.385);
    lethe_dataset_free(ds);
}

/* gzip is read transparently; classes keep their records with ids = record numbers. */
static void test_idx_gzip_classes(void **state)
{
    lethe_ctx *ctx = *state;
    const char *img, *lab;
    write_pair(1, &img, &lab);
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_OK);
    check_all7(ds, 1.0 / 255.0);
    lethe_dataset_free(ds);

    o.pos_class = 2;
    o.neg_class = 4;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_OK);
    static const uint64_t want_ids[] = { 0, 1, 3, 4, 5 };
    static const double want_y[] = { 1, -1, 1, -1, -1 };
    assert_int_equal(lethe_dataset_rows(ds), 5);
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(lethe_dataset_ids(ds)[k], want_ids[k]);
        assert_double_near(y[k], want_y[k], 0.0);
        for (size_t j = 0; j < ROWS * COLS; j++)
            assert_double_near(x[k * ROWS * COLS + j], pixel(want_ids[k], j) * (1.0 / 255.0), 0.0);
    }
    lethe_dataset_free(ds);

    /* the norm policy is passed on: normalize to R */
    o.policy = LETHE_NORM_NORMALIZE;
    o.R = 2.385;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_OK);
    assert_double_near(lethe_dataset_norm_bound(ds), 2.385, 0.0);
    for (size_t k = 0; k < 5; k++) {
        double norm = row_norm(lethe_dataset_x(ds) + k * ROWS * COLS, ROWS * COLS);
        assert_true(norm <= 2.385 * (1.0 + 2 * 0x1p-52)); /* row_norm: ±1 ulp */
        assert_double_near(norm, 2.385, 1e-12);
    }
    lethe_dataset_free(ds);

    /* and its failures keep their status, with the file named */
    o.policy = LETHE_NORM_REQUIRE;
    o.R = 0.5;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_ENORM);
    assert_msg_has(ctx, "img-idx3-ubyte.gz");

    o.policy = LETHE_NORM_MEASURE;
    o.pos_class = 7; /* no such record */
    o.neg_class = 8;
    ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_EEMPTY);
    assert_null(ds);
}

/* One malformed file: images (or labels) replaced by bytes[len]. */
static void expect_idx(lethe_ctx *ctx, const unsigned char *bi, size_t li,
                       const unsigned char *bl, size_t ll, int gz, lethe_status want,
                       const char *needle)
{
    const char *img = gz ? write_gz("bad-idx3-ubyte.gz", bi, li)
                         : write_raw("bad-idx3-ubyte", bi, li);
    const char *lab = gz ? write_gz("bad-idx1-ubyte.gz", bl, ll)
                         : write_raw("bad-idx1-ubyte", bl, ll);
    lethe_read_options o;
    lethe_read_options_init(&o);
    static char sentinel;
    lethe_dataset *ds = (lethe_dataset *)(void *)&sentinel; /* must stay untouched */
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), want);
    assert_ptr_equal(ds, (void *)&sentinel);
    assert_msg_has(ctx, needle);
}

static void test_idx_format_errors(void **state)
{
    lethe_ctx *ctx = *state;
    size_t li, ll;
    unsigned char *bi = idx_images(0x803, N7, ROWS, COLS, &li);
    unsigned char *bl = idx_labels(0x801, N7, labels7, &ll);
    unsigned char *t = malloc(li + 1);
    assert_non_null(t);
    for (int gz = 0; gz <= 1; gz++) {
        /* bad magic: a label file given as images, and an unknown magic for labels */
        size_t l2;
        unsigned char *swapped = idx_labels(0x801, N7, labels7, &l2);
        expect_idx(ctx, swapped, l2, bl, ll, gz, LETHE_EFORMAT, "bad magic");
        free(swapped);
        memcpy(t, bl, ll);
        put_be32(t, 0x00000901);
        expect_idx(ctx, bi, li, t, ll, gz, LETHE_EFORMAT, "bad-idx1-ubyte");
        /* truncated images: one byte short, and only part of the header */
        expect_idx(ctx, bi, li - 1, bl, ll, gz, LETHE_EFORMAT, "truncated");
        expect_idx(ctx, bi, 10, bl, ll, gz, LETHE_EFORMAT, "truncated header");
        expect_idx(ctx, bi, 0, bl, ll, gz, LETHE_EFORMAT, "bad-idx3-ubyte");
        /* truncated labels */
        expect_idx(ctx, bi, li, bl, ll - 1, gz, LETHE_EFORMAT, "truncated");
        /* trailing byte after images, after labels */
        memcpy(t, bi, li);
        t[li] = 0x2a;
        expect_idx(ctx, t, li + 1, bl, ll, gz, LETHE_EFORMAT, "trailing");
        memcpy(t, bl, ll);
        t[ll] = 0;
        expect_idx(ctx, bi, li, t, ll + 1, gz, LETHE_EFORMAT, "trailing");
        /* count mismatch: 6 labels for 7 images (the label file itself is valid) */
        size_t l6;
        unsigned char *b6 = idx_labels(0x801, N7 - 1, labels7, &l6);
        expect_idx(ctx, bi, li, b6, l6, gz, LETHE_EFORMAT, "labels");
        free(b6);
        /* zero dimensions: rows = 0, then n = 0 in both */
        size_t lz;
        unsigned char *bz = idx_images(0x803, N7, 0, COLS, &lz);
        expect_idx(ctx, bz, lz, bl, ll, gz, LETHE_EFORMAT, "is 0");
        free(bz);
        bz = idx_images(0x803, 0, ROWS, COLS, &lz);
        unsigned char *bz2 = idx_labels(0x801, 0, labels7, &l6);
        expect_idx(ctx, bz, lz, bz2, l6, gz, LETHE_EFORMAT, "is 0");
        free(bz);
        free(bz2);
    }
    /* A header claiming 2⁴⁰ bytes is refused before anything is allocated;
     * one claiming 60000 28×28 images with 16 bytes behind it is truncated. */
    unsigned char huge[16 + 16], lab_huge[8];
    put_be32(huge, 0x803);
    put_be32(huge + 4, 1u << 20);
    put_be32(huge + 8, 1u << 10);
    put_be32(huge + 12, 1u << 10);
    memset(huge + 16, 0, 16);
    put_be32(lab_huge, 0x801);
    put_be32(lab_huge + 4, 1u << 20);
    expect_idx(ctx, huge, sizeof huge, lab_huge, sizeof lab_huge, 0, LETHE_EFORMAT, "exceed");
    put_be32(huge + 4, 60000);
    put_be32(huge + 8, 28);
    put_be32(huge + 12, 28);
    put_be32(lab_huge + 4, 60000);
    expect_idx(ctx, huge, sizeof huge, lab_huge, sizeof lab_huge, 0, LETHE_EFORMAT,
               "truncated");

    /* a gzip stream cut in the middle */
    const char *gzp = write_gz("cut.gz", bi, li);
    FILE *f = fopen(gzp, "rb");
    assert_non_null(f);
    unsigned char gzb[4096];
    size_t glen = fread(gzb, 1, sizeof gzb, f);
    fclose(f);
    assert_true(glen > 30);
    const char *img = write_raw("cut-idx3-ubyte.gz", gzb, glen / 2);
    const char *lab = write_raw("cut-idx1-ubyte", bl, ll);
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "cut-idx3-ubyte.gz");
    /* corrupt deflate data after a valid gzip header */
    memset(gzb + 12, 0xff, glen - 12 < 40 ? glen - 12 : 40);
    img = write_raw("corrupt-idx3-ubyte.gz", gzb, glen);
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_EFORMAT);
    assert_null(ds);
    free(t);
    free(bi);
    free(bl);
}

static void test_idx_io_and_args(void **state)
{
    lethe_ctx *ctx = *state;
    const char *img, *lab;
    write_pair(0, &img, &lab);
    char img_copy[256], lab_copy[256];
    snprintf(img_copy, sizeof img_copy, "%s", img);
    snprintf(lab_copy, sizeof lab_copy, "%s", lab);
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, tpath("missing-idx3-ubyte"), lab_copy, &o, &ds),
                  LETHE_EIO);
    assert_msg_has(ctx, "missing-idx3-ubyte");
    assert_status(lethe_dataset_read_idx(ctx, img_copy, tpath("missing-idx1"), &o, &ds),
                  LETHE_EIO);
    assert_msg_has(ctx, "missing-idx1");
    /* a directory opens but cannot be read */
    assert_status(lethe_dataset_read_idx(ctx, tmpdir, lab_copy, &o, &ds), LETHE_EIO);

    assert_status(lethe_dataset_read_idx(NULL, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_idx(ctx, NULL, lab_copy, &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_idx(ctx, img_copy, NULL, &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, NULL, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, NULL), LETHE_EINVAL);
    o.pos_class = 2; /* one class without the other */
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    o.neg_class = 2; /* the same class twice */
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    o.neg_class = -5;
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    lethe_read_options_init(&o);
    o.scale = -1.0;
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    o.scale = NAN;
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    lethe_read_options_init(&o);
    o.policy = (lethe_norm_policy)9;
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    o.policy = LETHE_NORM_CLIP;
    o.R = 0.0;
    assert_status(lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds), LETHE_EINVAL);
    assert_null(ds);
}

/* Fail each allocation in turn: ENOMEM, nothing leaked, then success. */
static void test_reader_alloc_failure(void **state)
{
    (void)state;
    const char *img, *lab;
    write_pair(1, &img, &lab);
    char img_copy[256], lab_copy[256];
    snprintf(img_copy, sizeof img_copy, "%s", img);
    snprintf(lab_copy, sizeof lab_copy, "%s", lab);
    const char *csv = write_text("alloc.csv", "id,a,b,y\n5,1.5,2,1\n7,-0.25,3,-1\n9,2,2,1\n");
    char csv_copy[256];
    snprintf(csv_copy, sizeof csv_copy, "%s", csv);
    const char *svm_text = "1 1:1.5 2:2\n# c\n-1 2:3\n1 1:2 3:2.385\n";
    const char *svm = write_gz("alloc.svm.gz", svm_text, strlen(svm_text));
    char svm_copy[256];
    snprintf(svm_copy, sizeof svm_copy, "%s", svm);
    for (int which = 0; which < 3; which++) {
        counting c = { 0, 0, 0 };
        lethe_allocator al = { counting_malloc, counting_free, &c };
        lethe_ctx *ctx = NULL;
        assert_status(lethe_ctx_create(&al, &ctx), LETHE_OK);
        lethe_read_options o;
        lethe_read_options_init(&o);
        if (which == 0) { /* IDX with classes 2 and 4; CSV with an id column */
            o.pos_class = 2;
            o.neg_class = 4;
        } else if (which == 1) {
            o.id_col = 0;
        }
        lethe_status st = LETHE_ENOMEM;
        long n;
        for (n = 1; st == LETHE_ENOMEM && n < 200; n++) {
            lethe_dataset *ds = NULL;
            c.count = 0;
            c.fail_at = n;
            long live0 = c.live;
            st = which == 0   ? lethe_dataset_read_idx(ctx, img_copy, lab_copy, &o, &ds)
                 : which == 1 ? lethe_dataset_read_csv(ctx, csv_copy, &o, &ds)
                              : lethe_dataset_read_libsvm(ctx, svm_copy, &o, &ds);
            if (st == LETHE_ENOMEM) {
                assert_null(ds);
                assert_int_equal(c.live, live0);
            } else {
                assert_status(st, LETHE_OK);
                assert_int_equal(lethe_dataset_rows(ds), which == 0 ? 5 : 3);
                lethe_dataset_free(ds);
                assert_int_equal(c.live, live0);
            }
        }
        assert_true(n > 3); /* several allocations were failed on the way */
        lethe_ctx_free(ctx);
        assert_int_equal(c.live, 0);
    }
}

/* The real Fashion-MNIST test set: classes 2 (pullover) and 4 (coat). */
static void test_idx_fashion_mnist(void **state)
{
    lethe_ctx *ctx = *state;
    const char *img = FMNIST_DIR "/t10k-images-idx3-ubyte.gz";
    const char *lab = FMNIST_DIR "/t10k-labels-idx1-ubyte.gz";
    if (access(img, R_OK) != 0 || access(lab, R_OK) != 0) {
        skip();
        return;
    }
    lethe_read_options o;
    lethe_read_options_init(&o);
    o.pos_class = 2;
    o.neg_class = 4;
    o.policy = LETHE_NORM_NORMALIZE;
    o.R = 1.0;
    lethe_dataset *ds = NULL;
    assert_status(lethe_dataset_read_idx(ctx, img, lab, &o, &ds), LETHE_OK);
    const size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    assert_int_equal(n, 2000);
    assert_int_equal(d, 784);
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    const uint64_t *ids = lethe_dataset_ids(ds);
    size_t pos = 0;
    double maxnorm = 0.0;
    for (size_t i = 0; i < n; i++) {
        maxnorm = fmax(maxnorm, row_norm(x + i * d, d));
        pos += y[i] > 0.0;
        assert_true(ids[i] < 10000);
        if (i > 0)
            assert_true(ids[i] > ids[i - 1]);
    }
    /* row_norm is itself accurate to about an ulp: allow two. */
    assert_true(maxnorm <= 1.0 + 2 * 0x1p-52);
    assert_double_near(maxnorm, 1.0, 1e-12);
    assert_int_equal(pos, 1000);
    lethe_dataset_free(ds);
}

/* ─── CSV ────────────────────────────────────────────────────────────────── */

/* Read text as name with options o; returns the status, *ds on success. */
static lethe_status read_csv_text(lethe_ctx *ctx, const char *name, const char *text,
                                  const lethe_read_options *o, lethe_dataset **ds)
{
    *ds = NULL;
    return lethe_dataset_read_csv(ctx, write_text(name, text), o, ds);
}

static void check_rows(const lethe_dataset *ds, size_t n, size_t d, const double *x,
                       const double *y, const uint64_t *ids)
{
    assert_non_null(ds);
    assert_int_equal(lethe_dataset_rows(ds), n);
    assert_int_equal(lethe_dataset_cols(ds), d);
    for (size_t i = 0; i < n; i++) {
        assert_double_near(lethe_dataset_y(ds)[i], y[i], 0.0);
        assert_int_equal(lethe_dataset_ids(ds)[i], ids[i]);
        for (size_t j = 0; j < d; j++)
            assert_double_near(lethe_dataset_x(ds)[i * d + j], x[i * d + j], 0.0);
    }
}

static void test_csv_plain_and_header(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    static const double x[] = { 1.5, 2.385, -0.25, 0.3, 7, -1e-3 };
    static const double y[] = { 1, -1, 1 };
    static const uint64_t ids[] = { 0, 1, 2 };
    /* no header (guessed), spaces around fields, a blank line, no final newline */
    assert_status(read_csv_text(ctx, "a.csv", "1.5, 2.385 ,1\n\n  \n-0.25,3e-1,-1\n7,-1e-3,+1",
                                &o, &ds),
                  LETHE_OK);
    check_rows(ds, 3, 2, x, y, ids);
    lethe_dataset_free(ds);
    /* a header (guessed), CRLF line ends, a UTF-8 byte-order mark */
    assert_status(read_csv_text(ctx, "b.csv",
                                "\xEF\xBB\xBFx1,x2,label\r\n1.5,2.385,1\r\n-0.25,0.3,-1\r\n"
                                "\r\n7,-0.001,1\r\n",
                                &o, &ds),
                  LETHE_OK);
    check_rows(ds, 3, 2, x, y, ids);
    lethe_dataset_free(ds);
    /* header = 1: the first line is skipped even though it is numeric */
    o.header = 1;
    assert_status(read_csv_text(ctx, "c.csv", "9,9,9\n1.5,2.385,1\n-0.25,0.3,-1\n7,-1e-3,1\n",
                                &o, &ds),
                  LETHE_OK);
    check_rows(ds, 3, 2, x, y, ids);
    lethe_dataset_free(ds);
    /* header = 0: a text first line is a parse error at line 1, column 1 */
    o.header = 0;
    assert_status(read_csv_text(ctx, "d.csv", "x1,x2,y\n1,2,1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "line 1, column 1");
    assert_msg_has(ctx, "d.csv");
    /* scale multiplies the features, not the label */
    o.header = -1;
    o.scale = 2.0;
    assert_status(read_csv_text(ctx, "e.csv", "1.5,2,3\n", &o, &ds), LETHE_OK);
    assert_double_near(lethe_dataset_x(ds)[0], 3.0, 0.0);
    assert_double_near(lethe_dataset_x(ds)[1], 4.0, 0.0);
    assert_double_near(lethe_dataset_y(ds)[0], 3.0, 0.0);
    lethe_dataset_free(ds);
}

static void test_csv_columns(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    /* id column 0 and label column counted from the end (−3 of 5 = column 2) */
    o.id_col = 0;
    o.label_col = -3;
    assert_status(read_csv_text(ctx, "cols.csv",
                                "id,a,y,b,c\n"
                                "104, 0.5,1,2,3\n"
                                "17,-0.5,-1,4,5\n"
                                "18446744073709551615,0,1,0,2.385\n",
                                &o, &ds),
                  LETHE_OK);
    static const double x[] = { 0.5, 2, 3, -0.5, 4, 5, 0, 0, 2.385 };
    static const double y[] = { 1, -1, 1 };
    static const uint64_t ids[] = { 104, 17, UINT64_MAX };
    check_rows(ds, 3, 3, x, y, ids);
    lethe_dataset_free(ds);
    /* label column 0 from the start */
    lethe_read_options_init(&o);
    o.label_col = 0;
    assert_status(read_csv_text(ctx, "l0.csv", "-1,4,5\n1,6,7\n", &o, &ds), LETHE_OK);
    static const double x0[] = { 4, 5, 6, 7 };
    static const double y0[] = { -1, 1 };
    static const uint64_t i0[] = { 0, 1 };
    check_rows(ds, 2, 2, x0, y0, i0);
    lethe_dataset_free(ds);
    /* columns that do not exist, or coincide */
    o.label_col = 3;
    assert_status(read_csv_text(ctx, "l3.csv", "1,2,3\n", &o, &ds), LETHE_EINVAL);
    o.label_col = -4;
    assert_status(read_csv_text(ctx, "l4.csv", "1,2,3\n", &o, &ds), LETHE_EINVAL);
    o.label_col = -1;
    o.id_col = 3;
    assert_status(read_csv_text(ctx, "i3.csv", "1,2,3\n", &o, &ds), LETHE_EINVAL);
    o.id_col = 2;
    assert_status(read_csv_text(ctx, "i2.csv", "1,2,3\n", &o, &ds), LETHE_EINVAL);
    o.id_col = -2;
    assert_status(read_csv_text(ctx, "im.csv", "1,2,3\n", &o, &ds), LETHE_EINVAL);
    o.id_col = -1;
    o.header = 2;
    assert_status(read_csv_text(ctx, "h2.csv", "1,2,3\n", &o, &ds), LETHE_EINVAL);
    /* a label column and nothing else: no feature */
    lethe_read_options_init(&o);
    assert_status(read_csv_text(ctx, "only.csv", "1\n-1\n", &o, &ds), LETHE_EEMPTY);
    o.id_col = 0;
    assert_status(read_csv_text(ctx, "only2.csv", "3,1\n4,-1\n", &o, &ds), LETHE_EEMPTY);
    assert_null(ds);
}

/* Ids must be non-negative integers, and distinct. */
static void test_csv_ids(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    o.id_col = 0;
    lethe_dataset *ds = NULL;
    assert_status(read_csv_text(ctx, "dup.csv", "1,0.5,1\n2,0.25,-1\n1,3,1\n", &o, &ds),
                  LETHE_EDUPLICATE);
    assert_msg_has(ctx, "dup.csv");
    assert_status(read_csv_text(ctx, "neg.csv", "1,0.5,1\n-2,0.25,-1\n", &o, &ds),
                  LETHE_EFORMAT);
    assert_msg_has(ctx, "line 2, column 1");
    assert_status(read_csv_text(ctx, "frac.csv", "1.5,0.5,1\n", &o, &ds), LETHE_EFORMAT);
    assert_status(read_csv_text(ctx, "big.csv", "18446744073709551616,0.5,1\n", &o, &ds),
                  LETHE_EFORMAT);
    assert_status(read_csv_text(ctx, "plus.csv", "+3,0.5,1\n", &o, &ds), LETHE_EFORMAT);
    assert_status(read_csv_text(ctx, "eid.csv", "3,0.5,1\n ,0.5,1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "line 2, column 1");
    assert_null(ds);
}

static void test_csv_format_errors(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    /* ragged rows: too few fields (column 3 missing), too many (column 4 extra) */
    assert_status(read_csv_text(ctx, "rag.csv", "1,2,1\n3,4,-1\n5,1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "rag.csv: line 3, column 3");
    assert_status(read_csv_text(ctx, "rag2.csv", "a,b,y\n1,2,1\n\n3,4,-1,9\n", &o, &ds),
                  LETHE_EFORMAT);
    assert_msg_has(ctx, "line 4, column 4");
    /* unparsable numbers: text, trailing junk, two numbers in one field */
    assert_status(read_csv_text(ctx, "bad.csv", "1,2,1\n3,abc,-1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "line 2, column 2");
    assert_msg_has(ctx, "abc");
    assert_status(read_csv_text(ctx, "junk.csv", "1,2,1\n1,2x,1\n", &o, &ds), LETHE_EFORMAT);
    assert_status(read_csv_text(ctx, "two.csv", "1,2,1\n1,2 3,1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "line 2, column 2");
    /* an empty field, a stray CR inside a line, a NUL byte */
    assert_status(read_csv_text(ctx, "empty.csv", "1,2,1\n1,,1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "empty field");
    assert_status(read_csv_text(ctx, "cr.csv", "1,2,1\n1,2\r,1\n", &o, &ds), LETHE_EFORMAT);
    const char nul[] = "1,2,1\n1,2\0,1\n";
    assert_status(lethe_dataset_read_csv(ctx, write_raw("nul.csv", nul, sizeof nul - 1), &o,
                                         &ds),
                  LETHE_EFORMAT);
    assert_msg_has(ctx, "line 2");
    /* NaN and infinities (also by overflow) */
    assert_status(read_csv_text(ctx, "nan.csv", "1,2,1\n1,nan,1\n", &o, &ds), LETHE_ENONFINITE);
    assert_msg_has(ctx, "line 2, column 2");
    assert_status(read_csv_text(ctx, "inf.csv", "1,-inf,1\n", &o, &ds), LETHE_ENONFINITE);
    assert_status(read_csv_text(ctx, "ovf.csv", "1,1e999,1\n", &o, &ds), LETHE_ENONFINITE);
    assert_status(read_csv_text(ctx, "nanl.csv", "1,2,NaN\n", &o, &ds), LETHE_ENONFINITE);
    /* empty: no bytes, blank lines only, a header only */
    assert_status(read_csv_text(ctx, "e0.csv", "", &o, &ds), LETHE_EEMPTY);
    assert_status(read_csv_text(ctx, "e1.csv", "\n \r\n\n", &o, &ds), LETHE_EEMPTY);
    assert_status(read_csv_text(ctx, "e2.csv", "a,b,y\n", &o, &ds), LETHE_EEMPTY);
    /* missing file, a directory */
    assert_status(lethe_dataset_read_csv(ctx, tpath("nowhere.csv"), &o, &ds), LETHE_EIO);
    assert_msg_has(ctx, "nowhere.csv");
    assert_status(lethe_dataset_read_csv(ctx, tmpdir, &o, &ds), LETHE_EIO);
    /* NULL arguments */
    assert_status(lethe_dataset_read_csv(NULL, "x.csv", &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_csv(ctx, NULL, &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_csv(ctx, "x.csv", NULL, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_csv(ctx, "x.csv", &o, NULL), LETHE_EINVAL);
    assert_null(ds);
}

/* Classes: integer labels mapped to ±1, others skipped, ids = record numbers. */
static void test_csv_classes(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    o.pos_class = 3;
    o.neg_class = 1;
    lethe_dataset *ds = NULL;
    assert_status(read_csv_text(ctx, "cls.csv",
                                "a,b,class\n"
                                "0.5,1,3\n"
                                "0.25,2,0\n"
                                "\n"
                                "0.125,3,1\n"
                                "1,4,2\n"
                                "2,5,3.0\n"
                                "4,6,-7\n",
                                &o, &ds),
                  LETHE_OK);
    static const double x[] = { 0.5, 1, 0.125, 3, 2, 5 };
    static const double y[] = { 1, -1, 1 };
    static const uint64_t ids[] = { 0, 2, 4 };
    check_rows(ds, 3, 2, x, y, ids);
    lethe_dataset_free(ds);
    /* a fractional class is a wrong column, not a class */
    assert_status(read_csv_text(ctx, "frac.csv", "0.5,1,3\n0.5,1,2.5\n", &o, &ds),
                  LETHE_EFORMAT);
    assert_msg_has(ctx, "line 2, column 3");
    /* no record of either class */
    assert_status(read_csv_text(ctx, "none.csv", "0.5,1,7\n0.5,1,8\n", &o, &ds), LETHE_EEMPTY);
    /* huge labels match no class (and do not overflow a long) */
    assert_status(read_csv_text(ctx, "huge.csv", "0.5,1,1e300\n0.5,1,3\n", &o, &ds), LETHE_OK);
    assert_int_equal(lethe_dataset_rows(ds), 1);
    assert_int_equal(lethe_dataset_ids(ds)[0], 1);
    lethe_dataset_free(ds);
    /* and the norm policy applies */
    o.policy = LETHE_NORM_REQUIRE;
    o.R = 1.0;
    assert_status(read_csv_text(ctx, "req.csv", "0.5,1,3\n", &o, &ds), LETHE_ENORM);
    assert_msg_has(ctx, "req.csv");
}

/* Numbers are read in the C locale even when the host chose one whose
 * decimal separator is a comma (skipped when no such locale is installed). */
static void test_csv_locale(void **state)
{
    lethe_ctx *ctx = *state;
    const char *prev = setlocale(LC_NUMERIC, NULL);
    char saved[64];
    snprintf(saved, sizeof saved, "%s", prev != NULL ? prev : "C");
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL &&
        setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL) {
        skip();
        return;
    }
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    lethe_status st = read_csv_text(ctx, "locale.csv", "2.385,0.5,1\n", &o, &ds);
    setlocale(LC_NUMERIC, saved);
    assert_status(st, LETHE_OK);
    assert_double_near(lethe_dataset_x(ds)[0], 2.385, 0.0);
    lethe_dataset_free(ds);
}

/* A 5000-column line: no limit on the line length; many rows: buffers grow. */
static void test_csv_long_lines(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t cols = 5000, rows = 300;
    size_t cap = rows * cols * 8 + 1, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            len += (size_t)snprintf(text + len, cap - len, "%zu%c", (i + j) % 7,
                                    j + 1 < cols ? ',' : '\n');
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    assert_status(read_csv_text(ctx, "long.csv", text, &o, &ds), LETHE_OK);
    assert_int_equal(lethe_dataset_rows(ds), rows);
    assert_int_equal(lethe_dataset_cols(ds), cols - 1);
    const double *x = lethe_dataset_x(ds);
    for (size_t i = 0; i < rows; i += 37) {
        assert_double_near(lethe_dataset_y(ds)[i], (double)((i + cols - 1) % 7), 0.0);
        for (size_t j = 0; j + 1 < cols; j += 101)
            assert_double_near(x[i * (cols - 1) + j], (double)((i + j) % 7), 0.0);
    }
    lethe_dataset_free(ds);
    free(text);
}

/* ─── LIBSVM ─────────────────────────────────────────────────────────────── */

static lethe_status read_svm_text(lethe_ctx *ctx, const char *name, const char *text,
                                  const lethe_read_options *o, lethe_dataset **ds)
{
    *ds = NULL;
    return lethe_dataset_read_libsvm(ctx, write_text(name, text), o, ds);
}

/* Sparse lines become dense rows; comments, blank lines, CRLF, a BOM, tabs,
 * a qid and a label-only line are taken; ids are the data line numbers. */
static void test_libsvm_plain(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    static const char text[] = "\xEF\xBB\xBF# a comment line\n"
                               "+1 1:2.385 3:-0.0625 # trailing comment\r\n"
                               "\n"
                               "   \t \n"
                               "-1\tqid:7 2:1e-3\t4:17.125\n"
                               "2.5\n"
                               "-3 1:-4.75 2:0.3 3:6.02e23 4:-1.5e-300";
    static const double x[] = { 2.385, 0, -0.0625, 0,    0,     1e-3, 0,       17.125,
                                0,     0, 0,       0,    -4.75, 0.3,  6.02e23, -1.5e-300 };
    static const double y[] = { 1, -1, 2.5, -3 };
    static const uint64_t ids[] = { 0, 1, 2, 3 };
    assert_status(read_svm_text(ctx, "plain.svm", text, &o, &ds), LETHE_OK);
    check_rows(ds, 4, 4, x, y, ids);
    lethe_dataset_free(ds);
    /* the same file gzip-compressed */
    assert_status(lethe_dataset_read_libsvm(ctx, write_gz("plain.svm.gz", text, sizeof text - 1),
                                            &o, &ds),
                  LETHE_OK);
    check_rows(ds, 4, 4, x, y, ids);
    lethe_dataset_free(ds);
    /* scale multiplies the features, not the label */
    o.scale = 2.0;
    assert_status(read_svm_text(ctx, "scale.svm", "-2.25 2:1.5\n", &o, &ds), LETHE_OK);
    assert_int_equal(lethe_dataset_cols(ds), 2);
    assert_double_near(lethe_dataset_x(ds)[0], 0.0, 0.0);
    assert_double_near(lethe_dataset_x(ds)[1], 3.0, 0.0);
    assert_double_near(lethe_dataset_y(ds)[0], -2.25, 0.0);
    lethe_dataset_free(ds);
}

/* A fixed d (for a test set), the class filter and the norm policy. */
static void test_libsvm_dim_classes(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    o.dim = 6;
    assert_status(read_svm_text(ctx, "dim.svm", "1 2:0.75\n-1 5:-2.385\n", &o, &ds), LETHE_OK);
    static const double xd[] = { 0, 0.75, 0, 0, 0, 0, 0, 0, 0, 0, -2.385, 0 };
    static const double yd[] = { 1, -1 };
    static const uint64_t id2[] = { 0, 1 };
    check_rows(ds, 2, 6, xd, yd, id2);
    lethe_dataset_free(ds);
    /* an index beyond the given d */
    assert_status(read_svm_text(ctx, "beyond.svm", "1 2:0.75\n-1 3:1 7:-2.385\n", &o, &ds),
                  LETHE_ESIZE);
    assert_msg_has(ctx, "beyond.svm: line 2, field 3: index 7 beyond the dimension 6");
    /* classes 3 → +1 and 1 → −1; ids stay the data line numbers; d counts
     * the indices of skipped lines too */
    lethe_read_options_init(&o);
    o.pos_class = 3;
    o.neg_class = 1;
    assert_status(read_svm_text(ctx, "cls.svm",
                                "3 1:0.5 2:1\n"
                                "0 1:0.25 5:2\n"
                                "# skipped\n"
                                "1 2:3\n"
                                "2 1:1\n"
                                "3.0 1:2 2:5\n"
                                "-7 1:4\n",
                                &o, &ds),
                  LETHE_OK);
    static const double xc[] = { 0.5, 1, 0, 0, 0, 0, 3, 0, 0, 0, 2, 5, 0, 0, 0 };
    static const double yc[] = { 1, -1, 1 };
    static const uint64_t idc[] = { 0, 2, 4 };
    check_rows(ds, 3, 5, xc, yc, idc);
    lethe_dataset_free(ds);
    /* a fractional class; no record of either class; huge labels match none */
    assert_status(read_svm_text(ctx, "frac.svm", "3 1:1\n2.5 1:1\n", &o, &ds), LETHE_EFORMAT);
    assert_msg_has(ctx, "frac.svm: line 2, field 1: label 2.5 is not an integer class");
    assert_status(read_svm_text(ctx, "none.svm", "7 1:1\n8 2:1\n", &o, &ds), LETHE_EEMPTY);
    assert_msg_has(ctx, "no record of class 3 or 1");
    assert_status(read_svm_text(ctx, "huge.svm", "1e300 1:1\n-1e300 1:2\n1 1:0.5\n", &o, &ds),
                  LETHE_OK);
    assert_int_equal(lethe_dataset_rows(ds), 1);
    assert_int_equal(lethe_dataset_ids(ds)[0], 2);
    lethe_dataset_free(ds);
    /* the norm policy applies, and its failure names the file */
    o.policy = LETHE_NORM_REQUIRE;
    o.R = 1.0;
    assert_status(read_svm_text(ctx, "req.svm", "3 1:0.5 2:1\n", &o, &ds), LETHE_ENORM);
    assert_msg_has(ctx, "req.svm");
    o.policy = LETHE_NORM_NORMALIZE;
    o.R = 2.385;
    assert_status(read_svm_text(ctx, "norm.svm", "3 1:0.5 3:1.25\n1 2:-7\n", &o, &ds),
                  LETHE_OK);
    for (size_t i = 0; i < 2; i++)
        assert_double_near(row_norm(lethe_dataset_x(ds) + 3 * i, 3), 2.385, 1e-12);
    lethe_dataset_free(ds);
}

/* Every way a file can be wrong: the status, and the line and field named. */
static void test_libsvm_errors(void **state)
{
    lethe_ctx *ctx = *state;
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    static const struct {
        const char *text;
        lethe_status want;
        const char *msg;
    } cases[] = {
        { "1 1:2\n-1 0:2.385\n", LETHE_EFORMAT, "line 2, field 2: index 0 (indices start at 1)" },
        { "1 2:1 2:3\n", LETHE_EFORMAT, "line 1, field 3: index 2 appears twice" },
        { "1 1:1\n\n1 3:1 2:3\n", LETHE_EFORMAT, "line 3, field 3: index 2 after 3" },
        { "yes 1:1\n", LETHE_EFORMAT, "line 1, field 1: label 'yes' is not a number" },
        { "1x 1:1\n", LETHE_EFORMAT, "label '1x'" },
        { "1 1:abc\n", LETHE_EFORMAT, "line 1, field 2: not a number: 'abc'" },
        { "1 1:2.5e\n", LETHE_EFORMAT, "not a number: '2.5e'" },
        { "1 1:\n", LETHE_EFORMAT, "line 1, field 2: index 1 has no value" },
        { "1 1:2 3\n", LETHE_EFORMAT, "line 1, field 3: '3' is not index:value" },
        { "1 :2\n", LETHE_EFORMAT, "index '' is not a positive integer" },
        { "1 +3:2\n", LETHE_EFORMAT, "index '+3' is not a positive integer" },
        { "1 -3:2\n", LETHE_EFORMAT, "index '-3'" },
        { "1 3.5:2\n", LETHE_EFORMAT, "index '3.5'" },
        { "1 3:2:4\n", LETHE_EFORMAT, "not a number: '2:4'" },
        { "1 qid:x 1:2\n", LETHE_EFORMAT, "line 1, field 2: 'qid:x' is not qid:INTEGER" },
        { "1 1:2 qid:3\n", LETHE_EFORMAT, "line 1, field 3: index 'qid'" },
        { "1 1:nan\n", LETHE_ENONFINITE, "line 1, field 2: nan is not finite" },
        { "1 1:1 2:-inf\n", LETHE_ENONFINITE, "field 3: -inf is not finite" },
        { "1 1:1e999\n", LETHE_ENONFINITE, "field 2: inf is not finite" },
        { "NaN 1:1\n", LETHE_ENONFINITE, "line 1, field 1: label nan is not finite" },
        { "1 99999999999999999999999:1\n", LETHE_ESIZE, "index 99999999999999999999999 is too "
                                                        "large" },
        { "1 4294967296:1\n", LETHE_ESIZE, "beyond the 2147483648 features" },
        { "", LETHE_EEMPTY, "no data lines" },
        { "\n \r\n\t\n", LETHE_EEMPTY, "no data lines" },
        { "# only\n  # comments\n", LETHE_EEMPTY, "no data lines" },
        { "1\n-1 # no features\n", LETHE_EEMPTY, "no feature: every record is a label alone" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "err%zu.svm", k);
        lethe_status st = read_svm_text(ctx, name, cases[k].text, &o, &ds);
        if (st != cases[k].want)
            print_error("case %zu: \"%s\"\n", k, cases[k].text);
        assert_status(st, cases[k].want);
        assert_null(ds);
        assert_msg_has(ctx, name);
        assert_msg_has(ctx, cases[k].msg);
    }
    /* n·d beyond the dense limit: 2 records of 2³⁰ + 1 features */
    assert_status(read_svm_text(ctx, "wide.svm", "1 1:1\n-1 1073741825:1\n", &o, &ds),
                  LETHE_ESIZE);
    assert_msg_has(ctx, "2 records of 1073741825 features exceed");
    /* a NUL byte, corrupt gzip data */
    const char nul[] = "1 1:2\n1 2:3\0 4:1\n";
    assert_status(lethe_dataset_read_libsvm(ctx, write_raw("nul.svm", nul, sizeof nul - 1), &o,
                                            &ds),
                  LETHE_EFORMAT);
    assert_msg_has(ctx, "nul.svm: line 2: NUL byte");
    static const unsigned char badgz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff };
    assert_status(lethe_dataset_read_libsvm(ctx, write_raw("bad.svm.gz", badgz, sizeof badgz),
                                            &o, &ds),
                  LETHE_EFORMAT);
    assert_msg_has(ctx, "corrupt compressed data");
    /* missing file, a directory */
    assert_status(lethe_dataset_read_libsvm(ctx, tpath("nowhere.svm"), &o, &ds), LETHE_EIO);
    assert_msg_has(ctx, "nowhere.svm: cannot open");
    assert_status(lethe_dataset_read_libsvm(ctx, tmpdir, &o, &ds), LETHE_EIO);
    /* bad arguments and options */
    const char *ok = write_text("ok.svm", "1 1:1\n");
    assert_status(lethe_dataset_read_libsvm(NULL, ok, &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_libsvm(ctx, NULL, &o, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_libsvm(ctx, ok, NULL, &ds), LETHE_EINVAL);
    assert_status(lethe_dataset_read_libsvm(ctx, ok, &o, NULL), LETHE_EINVAL);
    o.dim = ((size_t)1 << 31) + 1;
    assert_status(lethe_dataset_read_libsvm(ctx, ok, &o, &ds), LETHE_EINVAL);
    assert_msg_has(ctx, "dimension");
    lethe_read_options_init(&o);
    o.pos_class = 2;
    assert_status(lethe_dataset_read_libsvm(ctx, ok, &o, &ds), LETHE_EINVAL);
    lethe_read_options_init(&o);
    o.scale = -1.0;
    assert_status(lethe_dataset_read_libsvm(ctx, ok, &o, &ds), LETHE_EINVAL);
    assert_null(ds);
}

/* Lines far longer than a read chunk (64 KiB) and the line buffer's first
 * size, raw and compressed: nothing is cut, and the buffers grow. */
static void test_libsvm_long_lines(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t d = 12000, rows = 40;
    size_t cap = rows * d * 20 + 1, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t i = 0; i < rows; i++) {
        len += (size_t)snprintf(text + len, cap - len, "%d", i % 2 ? 1 : -1);
        for (size_t j = i % 3; j < d; j += 1 + i % 3)
            len += (size_t)snprintf(text + len, cap - len, " %zu:%.3f", j + 1,
                                    (double)((i * 31 + j * 7) % 1000) / 8.0 - 62.375);
        text[len++] = '\n';
    }
    text[len] = '\0';
    lethe_read_options o;
    lethe_read_options_init(&o);
    for (int gz = 0; gz < 2; gz++) {
        lethe_dataset *ds = NULL;
        const char *path = gz ? write_gz("long.svm.gz", text, len) : write_raw("long.svm", text,
                                                                                 len);
        assert_status(lethe_dataset_read_libsvm(ctx, path, &o, &ds), LETHE_OK);
        assert_int_equal(lethe_dataset_rows(ds), rows);
        assert_int_equal(lethe_dataset_cols(ds), d);
        const double *x = lethe_dataset_x(ds);
        for (size_t i = 0; i < rows; i++) {
            assert_double_near(lethe_dataset_y(ds)[i], i % 2 ? 1.0 : -1.0, 0.0);
            for (size_t j = 0; j < d; j += 97) {
                double want = j % (1 + i % 3) == i % 3 && j >= i % 3
                                  ? (double)((i * 31 + j * 7) % 1000) / 8.0 - 62.375
                                  : 0.0;
                assert_double_near(x[i * d + j], want, 0.0);
            }
        }
        lethe_dataset_free(ds);
    }
    free(text);
}

/* The same records written as CSV and as LIBSVM read back identically:
 * every feature, label and id, with and without a class filter and a
 * fixed d. Values are random and printed with 17 digits; about a third
 * are zero (left out of the LIBSVM lines). */
static void test_libsvm_csv_round_trip(void **state)
{
    lethe_ctx *ctx = *state;
    const size_t n = 57, d = 11;
    size_t cap = n * (d + 1) * 32 + 1, lc = 0, ls = 0;
    char *csv = malloc(cap), *svm = malloc(cap);
    assert_non_null(csv);
    assert_non_null(svm);
    uint64_t s = 0x2385;
    for (size_t i = 0; i < n; i++) {
        ls += (size_t)snprintf(svm + ls, cap - ls, "%d", (int)(i * 7 % 4));
        for (size_t j = 0; j < d; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(s >> 11) * 0x1p-53, v = 0.0;
            if (u > 1.0 / 3.0 || (i == 0 && j + 1 == d)) /* the last column is used */
                v = (u - 0.5) * 2.385e3 * exp2((double)(int)(s % 9) - 4.0);
            lc += (size_t)snprintf(csv + lc, cap - lc, "%.17g,", v);
            if (!lethe__test_is_zero(v))
                ls += (size_t)snprintf(svm + ls, cap - ls, " %zu:%.17g", j + 1, v);
        }
        lc += (size_t)snprintf(csv + lc, cap - lc, "%d\n", (int)(i * 7 % 4));
        ls += (size_t)snprintf(svm + ls, cap - ls, "\n");
    }
    const char *pc = write_text("rt.csv", csv);
    char pcsv[256];
    snprintf(pcsv, sizeof pcsv, "%s", pc);
    const char *psvm = write_text("rt.svm", svm);
    for (int variant = 0; variant < 3; variant++) {
        lethe_read_options o;
        lethe_read_options_init(&o);
        o.header = 0;
        if (variant >= 1) {
            o.pos_class = 3;
            o.neg_class = 1;
        }
        if (variant == 2) {
            o.policy = LETHE_NORM_CLIP;
            o.R = 1e3;
        }
        lethe_dataset *a = NULL, *b = NULL;
        assert_status(lethe_dataset_read_csv(ctx, pcsv, &o, &a), LETHE_OK);
        if (variant == 2)
            o.dim = d;
        assert_status(lethe_dataset_read_libsvm(ctx, psvm, &o, &b), LETHE_OK);
        assert_int_equal(lethe_dataset_rows(b), lethe_dataset_rows(a));
        assert_int_equal(lethe_dataset_cols(b), d);
        check_rows(b, lethe_dataset_rows(a), d, lethe_dataset_x(a), lethe_dataset_y(a),
                   lethe_dataset_ids(a));
        assert_double_near(lethe_dataset_norm_bound(b), lethe_dataset_norm_bound(a), 0.0);
        if (variant == 0)
            assert_int_equal(lethe_dataset_rows(a), n);
        lethe_dataset_free(a);
        lethe_dataset_free(b);
    }
    free(csv);
    free(svm);
}

/* ─── Fuzz inputs ────────────────────────────────────────────────────────── */

/* Replay, through the fuzz targets' own bodies (fuzz/fuzz.h), every input
 * the fuzzer failed on (tests/data/fuzz/<target>/) and the seed corpus
 * (fuzz/corpus/<target>/). A body aborts if a reader breaks its contract;
 * under SANITIZE=address,undefined a memory error stops the suite too. */
static size_t replay_dir(const char *dir,
                         void (*body)(const char *, const char *, const uint8_t *, size_t))
{
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return 0;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, got;
        do {
            if (len == cap) {
                cap = cap == 0 ? 4096 : 2 * cap;
                buf = realloc(buf, cap);
                assert_non_null(buf);
            }
            got = fread(buf + len, 1, cap - len, f);
            len += got;
        } while (got > 0);
        assert_int_equal(fclose(f), 0);
        char a[256], b[256];
        snprintf(a, sizeof a, "%s", tpath("fuzz-a"));
        snprintf(b, sizeof b, "%s", tpath("fuzz-b"));
        body(a, b, buf, len);
        free(buf);
        count++;
    }
    closedir(dp);
    return count;
}

/* A full disk is reported as such. The file's descriptor is swapped for
 * /dev/full, whose writes fail with ENOSPC as a full file system's do; the
 * message used to say "Input/output error", since errno was lost by then.
 * Neither the target nor the temporary file remains. */
static void test_sfile_disk_full(void **state)
{
    (void)state;
    int full = open("/dev/full", O_WRONLY);
    if (full < 0) {
        print_message("no /dev/full here: the disk-full test is skipped\n");
        skip();
    }
    lethe_ctx *ctx = NULL;
    assert_int_equal(lethe_ctx_create(NULL, &ctx), LETHE_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/full.state", tmpdir);
    lethe_sfile s;
    assert_int_equal(lethe__sfile_create(ctx, path, 0600, "LETHETST", &s), LETHE_OK);
    assert_true(dup2(full, fileno(s.f)) >= 0);
    close(full);
    static double v[40000]; /* 320 KB: more than stdio's buffer holds */
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        v[i] = 2.385 * (double)i;
    lethe__sf_put_f64s(&s, v, sizeof v / sizeof v[0]);
    assert_int_equal(lethe__sfile_commit(&s), LETHE_EIO);
    assert_msg_has(ctx, "No space left on device");
    assert_null(strstr(lethe_ctx_errmsg(ctx), "Input/output error"));
    assert_int_equal(access(path, F_OK), -1);
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        assert_null(strstr(e->d_name, "full.state"));
    closedir(d);
    lethe_ctx_free(ctx);
}

static void test_fuzz_regressions(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        void (*body)(const char *, const char *, const uint8_t *, size_t);
    } targets[] = {
        { "csv", lethe_fuzz_csv },           { "idx", lethe_fuzz_idx },
        { "libsvm", lethe_fuzz_libsvm },     { "state_m1", lethe_fuzz_state_m1 },
        { "state_m2", lethe_fuzz_state_m2 },  { "cert", lethe_fuzz_cert },
        { "keyfile", lethe_fuzz_keyfile },    { "encrypted", lethe_fuzz_encrypted },
        { "head", lethe_fuzz_head },          { "npy", lethe_fuzz_npy },
    };
    const char *data = getenv("LETHE_TEST_DATA"), *corpus = getenv("LETHE_FUZZ_CORPUS");
    if (data == NULL || *data == '\0')
        data = "tests/data";
    if (corpus == NULL || *corpus == '\0')
        corpus = "fuzz/corpus";
    size_t found = 0;
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/fuzz/%s", data, targets[t].name);
        found += replay_dir(dir, targets[t].body);
        snprintf(dir, sizeof dir, "%s/%s", corpus, targets[t].name);
        size_t seeds = replay_dir(dir, targets[t].body);
        if (seeds == 0)
            print_error("no seed corpus in %s\n", dir);
        assert_true(seeds > 0);
    }
    if (found == 0) /* there is one at least (fuzz/README.md): the path is wrong */
        print_error("no fuzz regression input under %s/fuzz\n", data);
    assert_true(found > 0);
}

/* ─── NumPy .npy ─────────────────────────────────────────────────────────── */

/* An .npy file (format 1.0) of the header dict and the data bytes; the
 * header is padded with spaces to a multiple of 64 as NumPy writes it. */
static size_t npy_bytes(unsigned char *out, const char *dict, const void *data, size_t len)
{
    size_t dl = strlen(dict), total = 10 + dl + 1;
    size_t pad = (64 - total % 64) % 64, hlen = dl + pad + 1;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hlen & 0xff);
    out[9] = (unsigned char)(hlen >> 8);
    memcpy(out + 10, dict, dl);
    memset(out + 10 + dl, ' ', pad);
    out[10 + dl + pad] = '\n';
    memcpy(out + 10 + hlen, data, len);
    return 10 + hlen + len;
}

static const char *npy_file(const char *name, const char *dict, const void *data, size_t len)
{
    static unsigned char buf[4096];
    assert_true(len + 200 < sizeof buf);
    return write_raw(name, buf, npy_bytes(buf, dict, data, len));
}

/* float64, float32 and uint8 records, int64 and float labels, the class
 * filter, gzip; and every malformed file refused with the reason, *out
 * untouched. */
static void test_npy(void **state)
{
    lethe_ctx *ctx = *state;
    const double x8[6] = { 0.5, -1.0, 2.0, 0.25, -3.0, 1.5 };
    const float x4[6] = { 0.5f, -1.0f, 2.0f, 0.25f, -3.0f, 1.5f };
    const unsigned char x1[6] = { 1, 2, 3, 4, 5, 6 };
    const int64_t y8[3] = { 7, 3, 7 };
    const double yd[3] = { 1.0, -1.0, 1.0 };
    lethe_read_options o;
    lethe_read_options_init(&o);
    lethe_dataset *ds = NULL;
    const char *lab = npy_file("y.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                               y8, sizeof y8);
    const char *rec = npy_file("x.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
                               x8, sizeof x8);
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_OK);
    assert_int_equal(lethe_dataset_rows(ds), 3);
    assert_int_equal(lethe_dataset_cols(ds), 2);
    assert_double_near(lethe_dataset_x(ds)[4], -3.0, 0.0);
    assert_double_near(lethe_dataset_y(ds)[1], 3.0, 0.0);
    assert_int_equal(lethe_dataset_ids(ds)[2], 2);
    lethe_dataset_free(ds);
    /* float32 and uint8 records; the class filter keeps 7 (+1) and 3 (−1) */
    rec = npy_file("x4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", x4,
                   sizeof x4);
    o.pos_class = 3;
    o.neg_class = 9;
    ds = NULL;
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_OK);
    assert_int_equal(lethe_dataset_rows(ds), 1); /* only record 1 is of class 3 */
    assert_int_equal(lethe_dataset_ids(ds)[0], 1);
    assert_double_near(lethe_dataset_x(ds)[0], 2.0, 0.0);
    lethe_dataset_free(ds);
    lethe_read_options_init(&o);
    rec = npy_file("x1.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }", x1,
                   sizeof x1);
    char labels[512]; /* tpath's buffers rotate: keep this one */
    snprintf(labels, sizeof labels, "%s",
             npy_file("yd.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                      yd, sizeof yd));
    lab = labels;
    o.scale = 0.5;
    ds = NULL;
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_OK);
    assert_double_near(lethe_dataset_x(ds)[5], 3.0, 0.0);
    lethe_dataset_free(ds);
    /* gzip-compressed, as the other readers */
    unsigned char buf[512];
    size_t len = npy_bytes(buf, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
                           x8, sizeof x8);
    rec = write_gz("x.npy.gz", buf, len);
    lethe_read_options_init(&o);
    ds = NULL;
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_OK);
    lethe_dataset_free(ds);
    /* malformed: each refused with its reason, nothing returned */
    static const struct {
        const char *dict;
        size_t bytes;
        const char *why;
    } bad[] = {
        { "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }", 48, "Fortran order" },
        { "{'descr': '<c16', 'fortran_order': False, 'shape': (3, 2), }", 96, "dtype" },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2, 1), }", 48, "shape" },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", 48, "2-dimensional" },
        { "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 2), }", 48, "float64" },
        { "{'descr': '<f8', 'shape': (3, 2), }", 48, "exactly" },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), 'x': 1, }", 48, "exactly" },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 40, "shorter" },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 56, "after the data" },
        { "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }", 64, "labels" },
        { "['descr', '<f8']", 48, "not a dict" },
    };
    double big[12] = { 0 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rec = npy_file("bad.npy", bad[i].dict, big, bad[i].bytes);
        ds = (lethe_dataset *)&ds; /* any non-NULL value: it must stay */
        lethe_dataset *keep = ds;
        lethe_status st = lethe_dataset_read_npy(ctx, rec, lab, &o, &ds);
        if (st != LETHE_EFORMAT || strstr(lethe_ctx_errmsg(ctx), bad[i].why) == NULL)
            print_error("case %zu: %s: %s\n", i, lethe_strerror(st), lethe_ctx_errmsg(ctx));
        assert_int_equal(st, LETHE_EFORMAT);
        assert_non_null(strstr(lethe_ctx_errmsg(ctx), bad[i].why));
        assert_ptr_equal(ds, keep);
    }
    /* not the magic, a version 4, a huge header length */
    unsigned char junk[64] = "\x93NUMPX\x01\x00\x10\x00{}";
    rec = write_raw("junk.npy", junk, sizeof junk);
    ds = NULL;
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_EFORMAT);
    memcpy(junk, "\x93NUMPY\x04\x00", 8);
    rec = write_raw("v4.npy", junk, sizeof junk);
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_EFORMAT);
    assert_non_null(strstr(lethe_ctx_errmsg(ctx), "version"));
    memcpy(junk, "\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
    rec = write_raw("huge.npy", junk, sizeof junk);
    assert_status(lethe_dataset_read_npy(ctx, rec, lab, &o, &ds), LETHE_EFORMAT);
    assert_null(ds);
    assert_status(lethe_dataset_read_npy(ctx, tpath("missing.npy"), lab, &o, &ds), LETHE_EIO);
    assert_status(lethe_dataset_read_npy(ctx, NULL, lab, &o, &ds), LETHE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_init),
        cmocka_unit_test_setup_teardown(test_idx_raw, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_idx_gzip_classes, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_idx_format_errors, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_idx_io_and_args, ctx_setup, ctx_teardown),
        cmocka_unit_test(test_reader_alloc_failure),
        cmocka_unit_test_setup_teardown(test_idx_fashion_mnist, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_plain_and_header, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_columns, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_ids, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_format_errors, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_classes, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_locale, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_csv_long_lines, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_libsvm_plain, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_libsvm_dim_classes, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_libsvm_errors, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_libsvm_long_lines, ctx_setup, ctx_teardown),
        cmocka_unit_test_setup_teardown(test_libsvm_csv_round_trip, ctx_setup, ctx_teardown),
        cmocka_unit_test(test_sfile_disk_full),
        cmocka_unit_test(test_fuzz_regressions),
        cmocka_unit_test_setup_teardown(test_npy, ctx_setup, ctx_teardown),
    };
    return cmocka_run_group_tests_name("io", tests, setup, teardown);
}
