/*
 * The owner's state file and the public model file.
 *
 * State file (SECRET: it holds b, the seed and the retained data; mode 0600):
 *   "LETHEST1" | u64 version, loss, d, n_rows, n_live, n_f, max_iter, seeded | f64 λ ε δ σ c ε' tol R ‖X‖₂-bound residual
 *   train_residual residual_bound ρ res_max | u64 removals removals_total refreshes
 *   rng_position | seed[32] | w[d] g[d] b[d] U[d·d] s_f[n] y[n] ids[n]
 *   alive[n] x[n·d] | BLAKE2b-256 of all preceding bytes.
 * Integers and doubles are little-endian (doubles as their IEEE-754 bits).
 * Writes are atomic: a unique temporary file beside the target (mkstemp),
 * fsync, rename, fsync of the directory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "certify/certify.h"
#include "io/read.h"
#include "optim/dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define MAGIC "LETHEST1"
#define VERSION 1u
#define HASH_BYTES 32

typedef struct stream {
    FILE *f;
    crypto_generichash_state h;
    int err;
    long long left; /* bytes still allowed before the checksum (reading) */
} stream;

static void put_bytes(stream *s, const void *p, size_t n)
{
    if (s->err || n == 0)
        return;
    crypto_generichash_update(&s->h, p, n);
    if (fwrite(p, 1, n, s->f) != n)
        s->err = 1;
}

static void put_u64(stream *s, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put_bytes(s, b, 8);
}

static void put_u32(stream *s, uint32_t v) { put_u64(s, v); }

static void put_f64(stream *s, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_u64(s, u);
}

static void put_f64s(stream *s, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f64(s, v[i]);
}

static int get_bytes(stream *s, void *p, size_t n)
{
    if (s->err || (long long)n > s->left || fread(p, 1, n, s->f) != n) {
        s->err = 1;
        return 0;
    }
    s->left -= (long long)n;
    crypto_generichash_update(&s->h, p, n);
    return 1;
}

static uint64_t get_u64(stream *s)
{
    unsigned char b[8] = { 0 };
    get_bytes(s, b, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static double get_f64(stream *s)
{
    uint64_t u = get_u64(s);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void get_f64s(stream *s, double *v, size_t n)
{
    for (size_t i = 0; i < n && !s->err; i++)
        v[i] = get_f64(s);
}

/* The state passes b and the seed through stdio's buffer: give the stream a
 * buffer in guarded memory, which sodium_free() wipes after fclose(). */
#define SECRET_BUF_BYTES (64u * 1024u)

static unsigned char *secret_buffer(FILE *f)
{
    unsigned char *buf = sodium_malloc(SECRET_BUF_BYTES);
    if (buf != NULL && setvbuf(f, (char *)buf, _IOFBF, SECRET_BUF_BYTES) != 0) {
        sodium_free(buf);
        buf = NULL;
    }
    return buf;
}

/* Flush and fsync the temporary file tmp, rename it over path, fsync the directory. */
static lethe_status atomic_commit(lethe_ctx *ctx, FILE *f, const char *tmp, const char *path)
{
    int fd = fileno(f);
    int bad = fflush(f) != 0 || fsync(fd) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        char eb[128];
        remove(tmp);
        return lethe__fail(ctx, LETHE_EIO, "cannot write %s: %s", path,
                           lethe__read_strerror(e, eb, sizeof eb));
    }
    /* the directory entry must reach the disk too */
    size_t len = strlen(path);
    char *dir = lethe__malloc(ctx, len + 2);
    if (dir == NULL)
        return LETHE_OK; /* the file is in place; only the directory sync is skipped */
    memcpy(dir, path, len + 1);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    lethe__free(ctx, dir);
    return LETHE_OK;
}

/* Create a new temporary file "<path>.XXXXXX" beside path (mkstemp: unique,
 * never following a link), readable by its owner only unless mode says more. */
static lethe_status open_tmp(lethe_ctx *ctx, const char *path, mode_t mode, char **tmp,
                             FILE **f)
{
    size_t len = strlen(path);
    *tmp = lethe__malloc(ctx, len + 8);
    if (*tmp == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "no memory for a file name");
    memcpy(*tmp, path, len);
    memcpy(*tmp + len, ".XXXXXX", 8);
    char eb[128];
    int fd = mkstemp(*tmp);
    if (fd < 0 || fchmod(fd, mode) != 0 || (*f = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            remove(*tmp);
        }
        lethe_status st = lethe__fail(ctx, LETHE_EIO, "cannot create a file beside %s: %s", path,
                                      lethe__read_strerror(e, eb, sizeof eb));
        lethe__free(ctx, *tmp);
        return st;
    }
    return LETHE_OK;
}

lethe_status lethe_model_save(lethe_model *m, const char *path)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (path == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "save: path is NULL");
    char *tmp = NULL;
    stream s = { 0 };
    /* the state holds b, the seed and the data: owner only */
    lethe_status st = open_tmp(m->ctx, path, 0600, &tmp, &s.f);
    if (st != LETHE_OK)
        return st;
    unsigned char *iobuf = secret_buffer(s.f);
    if (iobuf == NULL) {
        fclose(s.f);
        remove(tmp);
        lethe__free(m->ctx, tmp);
        return lethe__fail(m->ctx, LETHE_ENOMEM, "save: no memory for a guarded buffer");
    }
    crypto_generichash_init(&s.h, NULL, 0, HASH_BYTES);
    const size_t d = m->d, n = m->n_rows;
    unsigned char seed[LETHE__SEED_BYTES] = { 0 };
    int seeded = lethe__rng_seed(m->rng, seed);
    put_bytes(&s, MAGIC, 8);
    put_u32(&s, VERSION);
    put_u32(&s, (uint32_t)m->loss);
    put_u64(&s, d);
    put_u64(&s, n);
    put_u64(&s, m->n_live);
    put_u64(&s, m->n_f);
    put_u32(&s, m->max_iter);
    put_u32(&s, (uint32_t)seeded);
    const double par[] = { m->lambda, m->epsilon, m->delta, m->sigma, m->c, m->budget, m->tol,
                           m->R, m->xnorm, m->residual, m->train_residual, m->residual_bound,
                           m->rho, m->res_max };
    put_f64s(&s, par, sizeof par / sizeof par[0]);
    put_u64(&s, m->removals);
    put_u64(&s, m->removals_total);
    put_u64(&s, m->refreshes);
    put_u64(&s, lethe__rng_position(m->rng));
    put_bytes(&s, seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    put_f64s(&s, m->w, d);
    put_f64s(&s, m->g, d);
    put_f64s(&s, m->b, d);
    put_f64s(&s, m->U, d * d);
    put_f64s(&s, m->s_f, n);
    put_f64s(&s, m->y, n);
    for (size_t i = 0; i < n; i++)
        put_u64(&s, m->ids[i]);
    put_bytes(&s, m->alive, n);
    put_f64s(&s, m->x, n * d);
    unsigned char hash[HASH_BYTES];
    crypto_generichash_final(&s.h, hash, sizeof hash);
    if (!s.err && fwrite(hash, 1, sizeof hash, s.f) != sizeof hash)
        s.err = 1;
    if (s.err) {
        fclose(s.f);
        sodium_free(iobuf);
        remove(tmp);
        lethe__free(m->ctx, tmp);
        return lethe__fail(m->ctx, LETHE_EIO, "save: cannot write %s", path);
    }
    st = atomic_commit(m->ctx, s.f, tmp, path);
    sodium_free(iobuf); /* after fclose, inside atomic_commit */
    lethe__free(m->ctx, tmp);
    return st;
}

static lethe_status bad(lethe_ctx *ctx, const char *path, const char *what)
{
    return lethe__fail(ctx, LETHE_EFORMAT, "load: %s: %s", path, what);
}

/* Check what the checksum cannot: that the fields make a consistent model.
 * (The checksum is not keyed: these checks are the defence against a file
 * edited by hand or written by other software.) */
static const char *validate(const lethe_model *m)
{
    if (!isfinite(m->R) || !(m->R >= 0.0) || !(m->xnorm >= 0.0) || !isfinite(m->xnorm))
        return "norm bounds out of range";
    size_t live = 0;
    for (size_t i = 0; i < m->n_rows; i++) {
        if (m->alive[i] > ROW_LIVE)
            return "bad row state";
        if (m->alive[i] == ROW_LIVE) {
            live++;
            if (!lethe__loss_label_ok(m->loss, m->y[i]) || !(m->s_f[i] >= 0.0))
                return "bad label or curvature";
        }
    }
    if (live != m->n_live || live == 0 || m->n_f < live)
        return "row counts disagree";
    for (size_t j = 0; j < m->d; j++) {
        if (!isfinite(m->w[j]) || !isfinite(m->g[j]) || !isfinite(m->b[j]) ||
            !(m->U[j * m->d + j] > 0.0))
            return "non-finite weights or a singular factor";
        for (size_t k = j; k < m->d; k++)
            if (!isfinite(m->U[j * m->d + k]))
                return "non-finite factor";
    }
    double max_norm = 0.0;
    for (size_t i = 0; i < m->n_rows; i++) {
        double s2 = 0.0;
        for (size_t j = 0; j < m->d; j++) {
            double v = m->x[i * m->d + j];
            if (!isfinite(v))
                return "non-finite data";
            s2 += v * v;
        }
        if (m->alive[i] == ROW_LIVE)
            max_norm = fmax(max_norm, sqrt(s2));
        if (!isfinite(m->s_f[i]))
            return "non-finite curvature";
    }
    /* ‖X‖₂ is at least the longest row; R bounds every row (with rounding room) */
    if (m->xnorm < max_norm * (1.0 - 1e-12) || m->R < max_norm * (1.0 - 1e-12))
        return "norm bounds below the data";
    if (!(m->residual >= 0.0) || !(m->train_residual >= 0.0) || !(m->residual_bound >= 0.0) ||
        !(m->res_max >= 0.0) || isnan(m->rho))
        return "bad accountant";
    if (m->removals > m->removals_total)
        return "bad removal counts";
    return NULL;
}

/* The parameters pass the checks training applies (ε ≤ 1, the tolerance
 * inside the budget, …); c and the budget are recomputed, never trusted. */
static lethe_status check_params(lethe_ctx *ctx, const char *path, lethe_model *m)
{
    lethe_train_options o;
    lethe_train_options_init(&o);
    o.loss = m->loss;
    o.lambda = m->lambda;
    o.epsilon = m->epsilon;
    o.delta = m->delta;
    o.sigma = m->sigma;
    o.tol = m->tol;
    o.max_iter = m->max_iter;
    if (!(m->sigma > 0.0))
        return bad(ctx, path, "σ out of range");
    double sigma, budget;
    if (lethe__model_params(ctx, &o, m->n_live, m->d, &sigma, &budget) != LETHE_OK) {
        char why[LETHE__ERRMSG_CAP];
        snprintf(why, sizeof why, "parameters out of range: %s", lethe_ctx_errmsg(ctx));
        return bad(ctx, path, why);
    }
    m->c = lethe_guo_c(m->delta);
    m->budget = budget;
    return LETHE_OK;
}

/* Recompute the exact gradient at w on the live rows (one O(nd) pass): it
 * must agree with the stored one, and the residual must be within budget. */
static lethe_status recheck_residual(lethe_ctx *ctx, const char *path, lethe_model *m)
{
    const size_t d = m->d;
    memcpy(m->w2, m->w, d * sizeof *m->w2);
    memset(m->p, 0, d * sizeof *m->p);
    memset(m->v, 0, d * sizeof *m->v);
    lethe_pass pass;
    lethe__residual_pass(m, m->b, m->w2, m->p, m->v, &pass);
    double diff = 0.0;
    for (size_t j = 0; j < d; j++)
        diff += (m->g2[j] - m->g[j]) * (m->g2[j] - m->g[j]);
    if (!(sqrt(diff) <= 2.0 * pass.fp_error + 1e-12))
        return bad(ctx, path, "the stored gradient does not match the data and weights");
    if (!(pass.residual + pass.fp_error <= m->budget))
        return bad(ctx, path, "the residual exceeds the budget");
    memcpy(m->g, m->g2, d * sizeof *m->g);
    m->residual = pass.residual;
    m->residual_fp = pass.fp_error;
    return LETHE_OK;
}

lethe_status lethe_model_load(lethe_ctx *ctx, const char *path, lethe_model **out)
{
    if (ctx == NULL)
        return LETHE_EINVAL;
    lethe__clear(ctx);
    if (path == NULL || out == NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "load: path and out must not be NULL");
    stream s = { 0 };
    s.f = fopen(path, "rb");
    if (s.f == NULL) {
        char eb[128];
        return lethe__fail(ctx, LETHE_EIO, "load: cannot open %s: %s", path,
                           lethe__read_strerror(errno, eb, sizeof eb));
    }
    unsigned char *iobuf = secret_buffer(s.f);
    if (iobuf == NULL) {
        fclose(s.f);
        return lethe__fail(ctx, LETHE_ENOMEM, "load: no memory for a guarded buffer");
    }
    struct stat stt;
    if (fstat(fileno(s.f), &stt) != 0 || stt.st_size < 8 + HASH_BYTES) {
        fclose(s.f);
        sodium_free(iobuf);
        return bad(ctx, path, "too short to be a lethe state file");
    }
    s.left = (long long)stt.st_size - HASH_BYTES;
    crypto_generichash_init(&s.h, NULL, 0, HASH_BYTES);
    char magic[8];
    lethe_model *m = NULL;
    lethe_status st = LETHE_OK;
    if (!get_bytes(&s, magic, 8) || memcmp(magic, MAGIC, 8) != 0) {
        st = bad(ctx, path, "not a lethe state file");
        goto done;
    }
    uint64_t version = get_u64(&s), loss = get_u64(&s), d = get_u64(&s), n = get_u64(&s);
    uint64_t n_live = get_u64(&s), n_f = get_u64(&s), max_iter = get_u64(&s),
             seeded = get_u64(&s);
    if (s.err) {
        st = bad(ctx, path, "truncated header");
        goto done;
    }
    if (version != VERSION) {
        st = lethe__fail(ctx, LETHE_EFORMAT, "load: %s: format version %llu, expected %u", path,
                         (unsigned long long)version, VERSION);
        goto done;
    }
    if (loss > LETHE_LOSS_SQUARED || d == 0 || n == 0 || seeded > 1 || max_iter > UINT32_MAX ||
        !lethe__fits_blas((size_t)d) || !lethe__fits_blas((size_t)n)) {
        st = bad(ctx, path, "header field out of range");
        goto done;
    }
    /* the sizes must match the file exactly before anything is allocated */
    const size_t fixed = 8 + 8 * 8 + 14 * 8 + 4 * 8 + LETHE__SEED_BYTES;
    size_t dd, nd, need;
    if (!lethe__mul_size(d, d, &dd) || !lethe__mul_size(n, d, &nd) ||
        (need = 3 * d + dd + 3 * n + nd) < dd || need > SIZE_MAX / 8 ||
        (long long)(fixed + need * 8 + n) != stt.st_size - HASH_BYTES) {
        st = bad(ctx, path, "size does not match the header (truncated or oversized)");
        goto done;
    }
    st = lethe__model_alloc(ctx, (size_t)n, (size_t)d, &m);
    if (st != LETHE_OK)
        goto done;
    m->loss = (lethe_loss)loss;
    m->n_live = (size_t)n_live;
    m->n_f = (size_t)n_f;
    m->max_iter = (unsigned)max_iter;
    double par[14];
    get_f64s(&s, par, 14);
    m->lambda = par[0];
    m->epsilon = par[1];
    m->delta = par[2];
    m->sigma = par[3];
    m->tol = par[6];
    m->R = par[7];
    m->xnorm = par[8];
    m->residual = par[9];
    m->train_residual = par[10];
    m->residual_bound = par[11];
    m->rho = par[12];
    m->res_max = par[13];
    m->removals = (size_t)get_u64(&s);
    m->removals_total = (size_t)get_u64(&s);
    m->refreshes = (size_t)get_u64(&s);
    uint64_t pos = get_u64(&s);
    unsigned char seed[LETHE__SEED_BYTES];
    get_bytes(&s, seed, sizeof seed);
    get_f64s(&s, m->w, d);
    get_f64s(&s, m->g, d);
    get_f64s(&s, m->b, d);
    get_f64s(&s, m->U, dd);
    get_f64s(&s, m->s_f, n);
    get_f64s(&s, m->y, n);
    for (size_t i = 0; i < n && !s.err; i++)
        m->ids[i] = get_u64(&s);
    get_bytes(&s, m->alive, n);
    get_f64s(&s, m->x, nd);
    unsigned char want[HASH_BYTES], got[HASH_BYTES];
    crypto_generichash_final(&s.h, want, sizeof want);
    if (s.err || fread(got, 1, sizeof got, s.f) != sizeof got) {
        st = bad(ctx, path, "truncated");
    } else if (sodium_memcmp(want, got, sizeof want) != 0) {
        st = bad(ctx, path, "checksum mismatch (the file is corrupt)");
    } else {
        const char *why = validate(m);
        uint64_t dup = 0;
        if (why != NULL)
            st = bad(ctx, path, why);
        else if ((st = lethe__ids_distinct(ctx, m->ids, m->n_rows, &dup)) != LETHE_OK)
            st = st == LETHE_EDUPLICATE ? bad(ctx, path, "duplicate ids") : st;
    }
    if (st == LETHE_OK)
        st = check_params(ctx, path, m);
    if (st == LETHE_OK) {
        lethe_loss_get_constants(m->loss, m->R, &m->k);
        lethe__model_index(m);
        st = recheck_residual(ctx, path, m);
    }
    if (st == LETHE_OK) {
        st = lethe__rng_create_at(seeded ? seed : NULL, seeded ? pos : 0, &m->rng);
        if (st != LETHE_OK)
            st = lethe__fail(ctx, st, "load: no memory for the noise source");
    }
    sodium_memzero(seed, sizeof seed);
done:
    fclose(s.f);
    sodium_free(iobuf);
    if (st != LETHE_OK) {
        lethe_model_free(m);
        return st;
    }
    *out = m;
    return LETHE_OK;
}

lethe_status lethe_model_save_public(lethe_model *m, const char *path)
{
    if (m == NULL)
        return LETHE_EINVAL;
    lethe__clear(m->ctx);
    if (path == NULL)
        return lethe__fail(m->ctx, LETHE_EINVAL, "save_public: path is NULL");
    char *tmp = NULL;
    FILE *f = NULL;
    lethe_status st = open_tmp(m->ctx, path, 0644, &tmp, &f);
    if (st != LETHE_OK)
        return st;
    int w = fprintf(f,
                    "lethe-public-model 1\nmechanism M1 loss-perturbation (Guo et al. 2020)\n"
                    "loss %s\nd %zu\nlambda %.17g\nepsilon %.17g\ndelta %.17g\nsigma %.17g\n"
                    "sampler %s\nseeded %d\nweights\n",
                    m->loss == LETHE_LOSS_LOGISTIC ? "logistic" : "squared", m->d, m->lambda,
                    m->epsilon, m->delta, m->sigma, LETHE__SAMPLER_NAME,
                    lethe__rng_seeded(m->rng));
    for (size_t j = 0; j < m->d && w >= 0; j++)
        w = fprintf(f, "%.17g\n", m->w[j]);
    if (w < 0) {
        fclose(f);
        remove(tmp);
        lethe__free(m->ctx, tmp);
        return lethe__fail(m->ctx, LETHE_EIO, "save_public: cannot write %s", path);
    }
    st = atomic_commit(m->ctx, f, tmp, path);
    lethe__free(m->ctx, tmp);
    return st;
}
