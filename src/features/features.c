/*
 * Frozen feature maps (proofs/feature-maps.md, LTH-C-0015).
 *
 *   RFF   ψ(x) = √(2/D)·cos(Ωx + β), Ω ~ N(0, 2γ) entrywise, β ~ U[0, 2π)
 *         (Rahimi & Recht 2007: E ψ(x)ᵀψ(x') = exp(−γ‖x − x'‖²))
 *   ReLU  ψ(x) = max(0, Ωx)/√D, Ω ~ N(0, 1) entrywise
 *   φ(x) = [ψ(x)/‖ψ(x)‖ ; bias]  (ψ = 0 stays 0; no bias entry when bias = 0)
 *
 * with x first replaced by z = s(x)/√‖x‖₁, s(x)_j = sign(x_j)·√|x_j|, when
 * the map's input transform is LETHE_INPUT_SQRT (‖z‖ = 1, 0 stays 0).
 *
 * Ω and β are drawn from the seeded ChaCha20 stream of the map's public
 * seed: Ω's entries through the integer lattice sampler (a discrete
 * Gaussian on a lattice of step ≈ σ·2⁻⁵⁵, so the map is the same bits on
 * every platform), then β from 53-bit uniforms. The map depends on the
 * seed, D, γ and d_in only — never on the records.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "features/features.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <sodium.h>

#include "dp/dp.h"

int lethe__features_active(const lethe_feature_map *p)
{
    return p->kind != LETHE_FEATURES_NONE || p->bias > 0.0 || p->input != LETHE_INPUT_RAW;
}

static int random_map(const lethe_feature_map *p)
{
    return p->kind == LETHE_FEATURES_RFF || p->kind == LETHE_FEATURES_RELU;
}

/* Why p is out of range for d_in inputs, or NULL if it is not. */
static const char *out_of_range(const lethe_feature_map *p, size_t d_in)
{
    if ((unsigned)p->kind > LETHE_FEATURES_DECLARED)
        return "unknown feature map";
    if ((unsigned)p->input > LETHE_INPUT_SQRT)
        return "unknown input transform";
    if (d_in == 0)
        return "no input features";
    if (!(p->bias >= 0.0) || !isfinite(p->bias))
        return "the intercept's constant must be finite and ≥ 0";
    if (random_map(p) && (p->dim == 0 || p->dim > LETHE__FEATURES_DIM_MAX))
        return "the feature count D must lie in [1, 2^20]";
    if (p->kind == LETHE_FEATURES_RFF && (!(p->gamma > 0.0) || !isfinite(p->gamma)))
        return "the RBF kernel's γ must be finite and > 0";
    return NULL;
}

static void hex32(const unsigned char *b, char *out)
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* v as %.17g with '.' for the decimal point, whatever the locale (the
 * description, and so its hash, must not depend on it). */
static void number(char *out, size_t cap, double v)
{
    char t[64];
    snprintf(t, sizeof t, "%.17g", v);
    const char *dp = localeconv()->decimal_point;
    size_t k = strlen(dp), o = 0;
    for (const char *c = t; *c != '\0' && o + 1 < cap;) {
        if (k > 0 && strncmp(c, dp, k) == 0) {
            out[o++] = '.';
            c += k;
        } else {
            out[o++] = *c++;
        }
    }
    out[o] = '\0';
}

/* The number in s (as number() writes it), read whatever the locale; 1 if
 * the whole of s is one finite number. */
static int read_number(const char *s, double *v)
{
    char t[64];
    const char *dp = localeconv()->decimal_point;
    size_t k = strlen(dp), o = 0;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '.') {
            if (o + k >= sizeof t)
                return 0;
            memcpy(t + o, dp, k);
            o += k;
        } else {
            if (o + 1 >= sizeof t)
                return 0;
            t[o++] = *c;
        }
    }
    t[o] = '\0';
    char *end = NULL;
    *v = strtod(t, &end);
    return o > 0 && *end == '\0' && isfinite(*v);
}

static int read_hex32(const char *s, unsigned char *out)
{
    if (strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (x < 0)
            return 0;
        out[i / 2] = (unsigned char)(i % 2 == 0 ? x << 4 : out[i / 2] | x);
    }
    return 1;
}

int lethe__features_parse(const char *text, lethe_feature_map *p, size_t *d_in)
{
    static const char *const kinds[] = { "none", "rff", "relu", "declared" };
    char buf[LETHE_FEATURES_TEXT_MAX];
    if (strlen(text) >= sizeof buf)
        return 0;
    strcpy(buf, text);
    memset(p, 0, sizeof *p);
    *d_in = 0;
    char *save = NULL, *tok = strtok_r(buf, " ", &save);
    int kind = -1;
    for (int k = 0; tok != NULL && k < 4; k++)
        if (strcmp(tok, kinds[k]) == 0)
            kind = k;
    if (kind < 0)
        return 0;
    p->kind = (lethe_feature_kind)kind;
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        char *eq = strchr(tok, '=');
        if (eq == NULL)
            return 0;
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        double v = 0.0;
        if (strcmp(key, "in") == 0 || strcmp(key, "dim") == 0) {
            char *end = NULL;
            unsigned long long u = strtoull(val, &end, 10);
            if (*val < '0' || *val > '9' || *end != '\0' || u > SIZE_MAX)
                return 0;
            if (key[0] == 'i')
                *d_in = (size_t)u;
            else
                p->dim = (size_t)u;
        } else if (strcmp(key, "gamma") == 0 || strcmp(key, "bias") == 0) {
            if (!read_number(val, &v))
                return 0;
            if (key[0] == 'g')
                p->gamma = v;
            else
                p->bias = v;
        } else if (strcmp(key, "input") == 0) {
            if (strcmp(val, "sqrt") != 0)
                return 0;
            p->input = LETHE_INPUT_SQRT;
        } else if (strcmp(key, "seed") == 0 || strcmp(key, "identity") == 0) {
            if (!read_hex32(val, key[0] == 's' ? p->seed : p->identity))
                return 0;
        } else if (strcmp(key, "norm") != 0 || strcmp(val, "1") != 0) {
            return 0;
        }
    }
    return 1;
}

/* IMPLEMENTS: LTH-C-0015 */
lethe_status lethe_features_describe(const lethe_feature_map *p, size_t d_in,
                                     char text[LETHE_FEATURES_TEXT_MAX], char hash[65])
{
    if (p == NULL || text == NULL || hash == NULL || out_of_range(p, d_in) != NULL)
        return LETHE_EINVAL;
    char hx[65], num[64], in[48];
    int len = 0;
    snprintf(in, sizeof in, "in=%zu%s", d_in, p->input == LETHE_INPUT_SQRT ? " input=sqrt" : "");
    const size_t cap = LETHE_FEATURES_TEXT_MAX;
    switch (p->kind) {
    case LETHE_FEATURES_NONE:
        len = snprintf(text, cap, "none %s", in);
        break;
    case LETHE_FEATURES_RFF:
        hex32(p->seed, hx);
        number(num, sizeof num, p->gamma);
        len = snprintf(text, cap, "rff %s dim=%zu gamma=%s seed=%s norm=1", in, p->dim, num,
                       hx);
        break;
    case LETHE_FEATURES_RELU:
        hex32(p->seed, hx);
        len = snprintf(text, cap, "relu %s dim=%zu seed=%s norm=1", in, p->dim, hx);
        break;
    case LETHE_FEATURES_DECLARED:
        hex32(p->identity, hx);
        len = snprintf(text, cap, "declared %s identity=%s", in, hx);
        break;
    }
    if (len > 0 && p->bias > 0.0 && (size_t)len < cap) {
        number(num, sizeof num, p->bias);
        len += snprintf(text + len, cap - (size_t)len, " bias=%s", num);
    }
    if (len <= 0 || (size_t)len >= cap)
        return LETHE_EINVAL; /* cannot happen with the fields above */
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, (unsigned long long)len, NULL,
                       0);
    hex32(h, hash);
    return LETHE_OK;
}

/* Ω (rows of d_in) and β from the seed: Ω = m·g with m from the lattice
 * sampler of σ, then β = 2π·u with u a 53-bit uniform. */
static lethe_status draw(lethe_ctx *ctx, lethe_fmap *f, double sigma)
{
    lethe_lattice lat;
    lethe_rng *rng = NULL;
    if (lethe__lattice_params(sigma, &lat) != LETHE_OK)
        return lethe__fail(ctx, LETHE_EINVAL, "features: σ = %g of Ω is out of range", sigma);
    if (lethe__rng_create(f->p.seed, &rng) != LETHE_OK)
        return lethe__fail(ctx, LETHE_ENOMEM, "features: no memory for the seeded stream");
    enum { CHUNK = 4096 };
    int64_t m[CHUNK];
    const size_t total = f->p.dim * f->d_in;
    for (size_t done = 0; done < total;) {
        size_t k = total - done < CHUNK ? total - done : CHUNK;
        lethe__lattice_draw(&lat, rng, m, k);
        for (size_t t = 0; t < k; t++)
            f->omega[done + t] = (double)m[t] * lat.g;
        done += k;
    }
    const double two_pi = 6.283185307179586;
    for (size_t j = 0; j < f->p.dim; j++)
        f->beta[j] = two_pi * ((double)(lethe__rng_u64(rng) >> 11) * 0x1p-53);
    lethe__rng_free(rng);
    return LETHE_OK;
}

lethe_status lethe__fmap_init(lethe_ctx *ctx, const lethe_feature_map *p, size_t d_in,
                              lethe_fmap *f)
{
    memset(f, 0, sizeof *f);
    const char *why = out_of_range(p, d_in);
    if (why != NULL)
        return lethe__fail(ctx, LETHE_EINVAL, "features: %s", why);
    f->p = *p;
    f->d_in = d_in;
    const size_t base = random_map(p) ? p->dim : d_in;
    f->d_out = base + (p->bias > 0.0 ? 1 : 0);
    if (!lethe__fits_blas(f->d_out) || !lethe__fits_blas(d_in))
        return lethe__fail(ctx, LETHE_ESIZE, "features: %zu → %zu features exceeds the BLAS "
                                             "index range", d_in, f->d_out);
    if (!random_map(p))
        return LETHE_OK;
    size_t cells;
    if (!lethe__mul_size(p->dim, d_in, &cells))
        return lethe__fail(ctx, LETHE_ESIZE, "features: Ω of %zu × %zu overflows", p->dim, d_in);
    f->omega = lethe__calloc(ctx, cells, sizeof *f->omega);
    f->beta = lethe__calloc(ctx, p->dim, sizeof *f->beta);
    lethe_status st = f->omega == NULL || f->beta == NULL
                          ? lethe__fail(ctx, LETHE_ENOMEM, "features: no memory for Ω (%zu × %zu)",
                                        p->dim, d_in)
                          : draw(ctx, f, p->kind == LETHE_FEATURES_RFF ? sqrt(2.0 * p->gamma)
                                                                       : 1.0);
    if (st != LETHE_OK)
        lethe__fmap_free(ctx, f);
    return st;
}

void lethe__fmap_free(lethe_ctx *ctx, lethe_fmap *f)
{
    lethe__free(ctx, f->omega);
    lethe__free(ctx, f->beta);
    f->omega = f->beta = NULL;
}

/* φ of n rows already transformed (or raw): the map and the intercept. */
static void map_rows(const lethe_fmap *f, size_t n, const double *x, size_t ldx, double *out)
{
    const size_t dout = f->d_out, D = f->p.dim;
    if (!random_map(&f->p)) {
        for (size_t i = 0; i < n; i++)
            memcpy(out + i * dout, x + i * ldx, f->d_in * sizeof *out);
    } else {
        /* Z = X Ωᵀ, n × D, into out with leading dimension d_out */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, lethe__blas_int(n),
                    lethe__blas_int(D), lethe__blas_int(f->d_in), 1.0, x, lethe__blas_int(ldx),
                    f->omega, lethe__blas_int(f->d_in), 0.0, out, lethe__blas_int(dout));
        const double scale = sqrt((f->p.kind == LETHE_FEATURES_RFF ? 2.0 : 1.0) / (double)D);
        for (size_t i = 0; i < n; i++) {
            double *row = out + i * dout;
            for (size_t j = 0; j < D; j++)
                row[j] = f->p.kind == LETHE_FEATURES_RFF ? scale * cos(row[j] + f->beta[j])
                                                         : (row[j] > 0.0 ? scale * row[j] : 0.0);
            double norm = cblas_dnrm2(lethe__blas_int(D), row, 1);
            if (norm > 0.0)
                cblas_dscal(lethe__blas_int(D), 1.0 / norm, row, 1);
        }
    }
    if (f->p.bias > 0.0)
        for (size_t i = 0; i < n; i++)
            out[i * dout + dout - 1] = f->p.bias;
}

/* The signed square root of d inputs, scaled to norm 1 (0 stays 0). */
static void sqrt_row(const double *x, size_t d, double *z)
{
    for (size_t j = 0; j < d; j++)
        z[j] = copysign(sqrt(fabs(x[j])), x[j]);
    double norm = cblas_dnrm2(lethe__blas_int(d), z, 1);
    if (norm > 0.0)
        cblas_dscal(lethe__blas_int(d), 1.0 / norm, z, 1);
}

lethe_status lethe__fmap_apply(lethe_ctx *ctx, const lethe_fmap *f, size_t n, const double *x,
                               size_t ldx, double *out)
{
    if (f->p.input == LETHE_INPUT_RAW || n == 0) {
        map_rows(f, n, x, ldx, out);
        return LETHE_OK;
    }
    /* the transformed rows a block at a time, the map's product per block */
    enum { BLOCK = 256 };
    const size_t rows = n < BLOCK ? n : BLOCK, d = f->d_in;
    double *z = lethe__calloc(ctx, rows, d * sizeof *z); /* d·8 fits: d fits BLAS */
    if (z == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "features: no memory for %zu transformed rows",
                           rows);
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        const size_t k = n - i0 < rows ? n - i0 : rows;
        for (size_t r = 0; r < k; r++)
            sqrt_row(x + (i0 + r) * ldx, d, z + r * d);
        map_rows(f, k, z, d, out + i0 * f->d_out);
    }
    lethe__free(ctx, z);
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0015 */
lethe_status lethe__fmap_dataset(lethe_ctx *ctx, const lethe_fmap *f, const lethe_dataset *data,
                                 lethe_dataset **out)
{
    *out = NULL;
    if (data->d != f->d_in)
        return lethe__fail(ctx, LETHE_ESIZE, "features: the data has %zu features, the map "
                                             "takes %zu", data->d, f->d_in);
    size_t cells;
    if (!lethe__mul_size(data->n, f->d_out, &cells))
        return lethe__fail(ctx, LETHE_ESIZE, "features: %zu × %zu overflows", data->n, f->d_out);
    double *x = lethe__calloc(ctx, cells, sizeof *x);
    if (x == NULL)
        return lethe__fail(ctx, LETHE_ENOMEM, "features: no memory for φ(X), %zu × %zu",
                           data->n, f->d_out);
    lethe_status st = lethe__fmap_apply(ctx, f, data->n, data->x, data->d, x);
    if (st != LETHE_OK) {
        lethe__free(ctx, x);
        return st;
    }
    /* The rows' norm bound, rounded up: a random map's rows have computed
     * norm 1 after scaling, within a few units of the last place. */
    const double u = 0x1p-52;
    const double margin = 1.0 + (2.0 * (double)f->d_out + 16.0) * u;
    const int unit = random_map(&f->p) || f->p.input != LETHE_INPUT_RAW;
    double R = unit ? 1.0 : data->R;
    if (f->p.bias > 0.0)
        R = sqrt(R * R + f->p.bias * f->p.bias);
    R *= margin; /* the re-check below wants (d + 2)·u of room */
    st = lethe_dataset_create(ctx, data->n, f->d_out, x, f->d_out, data->y, data->ids,
                              LETHE_NORM_REQUIRE, R, out);
    lethe__free(ctx, x);
    if (st == LETHE_OK) /* a bound measured from the data stays one */
        (*out)->r_measured = !unit && data->r_measured;
    return st;
}
