/*
 * Gaussian noise on a power-of-two lattice, in integer arithmetic
 * (Google, "Secure Noise Generation", 2020, §5; Bringmann, Kuhn, Panagiotou,
 * Peter, Thomas, "Internal DLA", ICALP 2014; MATH.md §5;
 * proofs/lattice-noise.md, LTH-C-0010).
 *
 * Floating-point transforms of uniforms into Gaussians (Box–Muller, inverse
 * CDF, polar, ziggurat) and float addition leak through rounding (Mironov
 * 2012; Jin et al. 2022). Here the noise is an integer m, the release is
 * the integer round(v/g) + m computed exactly, and only that integer is
 * rounded to a double — post-processing.
 *
 *   g = 2^⌈log2(2σ/2^57)⌉,   s = 2σ/g ∈ (2^56, 2^57],   t = s/2 = σ/g
 *
 * m approximates Bin(s², ½) − s²/2, whose standard deviation is t. It is
 * drawn by rejection from a geometric-block proposal (after Bringmann et
 * al.): block k has probability 2^-(k+1) (the leading zeros of one 64-bit
 * word), width S = t + t/4, a fair sign, and a uniform offset j < S:
 *
 *   x = kS + j  or  −(kS + j) − 1,    q(x) = 2^-k/(4S),
 *   accept with α(x) = 2^k·exp(−x²/(2t²)) ≤ 1   (S² ≥ 2 ln 2·t²),
 *
 * so the accepted x is the discrete Gaussian ∝ exp(−x²/(2t²)). α is computed
 * in 64-bit fixed point (Q58 exponents, Q62 results; e^{−f} on [0, ln 2) as a
 * table entry e^{−j/32} times a degree-9 Taylor polynomial in Horner form on
 * [0, 1/32)) and compared with 62 uniform bits, which makes
 * P(accept | x) = α̂(x) exactly; |α̂ − α| and the truncation at k ≤ 7 are
 * charged as total variation (LETHE__LATTICE_TV, LTH-C-0010 §2–4). Expected
 * proposals per sample: 4S/(√(2π)t) ≈ 2.0.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "dp/dp.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include <pthread.h>
#include <sodium.h>

#define K_MAX 7      /* blocks beyond carry α < 5e-20: rejected outright */
#define TAYLOR_N 20  /* exp(−y) on [0, ln 2), for the table: remainder < 2^-76 */
#define TAYLOR_R 9   /* exp(−r) on [0, 1/32): remainder < 2^-71 */
#define TABLE 24     /* exp(−j/32), j = 0…23 (only j ≤ 22 is read: ln 2 < 23/32) */
#define ONE_Q62 ((uint64_t)1 << 62)

/* ⌊ln 2·2^58⌋, and ⌊2^121/LN2_Q58⌋ for dividing by it */
#define LN2_Q58 UINT64_C(199786072581291494)
#define RECIP_LN2 UINT64_C(13306513097844322537)

/* High 64 bits of the 128-bit product a·b: one multiply instruction where
 * the compiler offers a 128-bit type, else from 32-bit halves (C11 has no
 * 128-bit type; test_lattice checks that both agree). */
uint64_t lethe__mulhi_portable(uint64_t a, uint64_t b)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static inline uint64_t mulhi(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
    return lethe__mulhi_portable(a, b);
#endif
}

/* ⌊a·b/2^sh⌋ for 0 < sh < 64, when the result fits 64 bits. */
static inline uint64_t mulshr(uint64_t a, uint64_t b, unsigned sh)
{
    return (mulhi(a, b) << (64 - sh)) | ((a * b) >> sh);
}

/* ⌊2^62/k!⌋, k = 0…TAYLOR_N, by c_k = ⌊c_{k−1}/k⌋ (nested floors agree),
 * and exp_table[j] ≈ exp(−j/32)·2^62 by the degree-TAYLOR_N Horner below. */
static uint64_t taylor_c[TAYLOR_N + 1];
static uint64_t exp_table[TABLE];
static pthread_once_t taylor_once = PTHREAD_ONCE_INIT;

/* exp(−y)·2^62 for y = F/2^62 ∈ [0, ln 2), Horner on the Taylor series of
 * degree n: p = c_k − ⌊F·p/2^62⌋ stays in (0, 2^62] (alternating tail). */
static uint64_t horner(uint64_t F, int n)
{
    uint64_t p = taylor_c[n];
    for (int j = n - 1; j >= 0; j--)
        p = taylor_c[j] - mulshr(F, p, 62);
    return p;
}

static void taylor_init(void)
{
    uint64_t c = ONE_Q62;
    for (int k = 0; k <= TAYLOR_N; k++) {
        if (k > 0)
            c /= (uint64_t)k;
        taylor_c[k] = c;
    }
    for (int j = 0; j < TABLE; j++)
        exp_table[j] = horner((uint64_t)j << 57, TAYLOR_N); /* j/32 exactly, in Q62 */
}

/* The sampler reads whole 64-bit words (little-endian) from the source,
 * fetched 64 at a time: one call into the stream per 512 bytes. */
#define WORDS 64
typedef struct {
    lethe_rng *rng;
    unsigned next;
    uint64_t w[WORDS];
} word_source;

static inline uint64_t next_word(word_source *ws)
{
    if (ws->next == WORDS) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        lethe__rng_bytes(ws->rng, ws->w, sizeof ws->w); /* the words are little-endian */
#else
        unsigned char raw[8 * WORDS];
        lethe__rng_bytes(ws->rng, raw, sizeof raw);
        for (unsigned i = 0; i < WORDS; i++) {
            uint64_t v = 0;
            for (int b = 7; b >= 0; b--)
                v = (v << 8) | raw[8 * i + (unsigned)b];
            ws->w[i] = v;
        }
        sodium_memzero(raw, sizeof raw);
#endif
        ws->next = 0;
    }
    return ws->w[ws->next++];
}

static unsigned clz64(uint64_t w)
{
    /* w ≠ 0 */
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_clzll(w);
#else
    unsigned k = 0;
    while (!(w & (UINT64_C(1) << 63))) {
        w <<= 1;
        k++;
    }
    return k;
#endif
}

lethe_status lethe__lattice_params(double sigma, lethe_lattice *lat)
{
    if (!(sigma >= 0x1p-900 && sigma <= 0x1p900))
        return LETHE_EINVAL; /* also NaN, ±Inf, σ ≤ 0 */
    int e;
    double f = frexp(2.0 * sigma * 0x1p-57, &e); /* 2σ/2^57 = f·2^e, f ∈ [½, 1) */
    int c = (f > 0.5) ? e : e - 1;               /* ⌈log2(2σ/2^57)⌉ */
    memset(lat, 0, sizeof *lat);
    lat->sigma = sigma;
    lat->g = ldexp(1.0, c);
    double s = ldexp(2.0 * sigma, -c); /* exact: a power-of-two scaling */
    lat->t = (uint64_t)s / 2;
    lat->S = lat->t + lat->t / 4;
    lat->reject = (0 - lat->S) % lat->S; /* (2^64 − S) mod S, Lemire's threshold */
    /* ⌊2^119/t⌋ for t ∈ (2^55, 2^56]: long division of 2^119 by t in 64-bit
     * words (2^119 = 2^63·2^56; the quotient is < 2^64). */
    uint64_t q = 0, rem = 0;
    for (int bit = 119; bit >= 0; bit--) {
        /* rem < t ≤ 2^56, so rem·2 + 1 never overflows */
        rem = (rem << 1) | (bit == 119 ? 1u : 0u);
        q <<= 1;
        if (rem >= lat->t) {
            rem -= lat->t;
            q |= 1;
        }
    }
    lat->inv_t = q;
    pthread_once(&taylor_once, taylor_init); /* the tables, once, for every thread */
    return LETHE_OK;
}

/* α̂(x)·2^62 for |x| = a in block k (LTH-C-0010 §2). */
uint64_t lethe__lattice_accept_q62(const lethe_lattice *lat, uint64_t a, unsigned k)
{
    uint64_t r = mulshr(a, lat->inv_t, 61);  /* (a/t)·2^58, a/t < 10 */
    uint64_t gam = mulshr(r, r, 59);          /* x²/(2t²)·2^58 < 50·2^58 */
    uint64_t kln2 = (uint64_t)k * LN2_Q58;
    gam = gam > kln2 ? gam - kln2 : 0;        /* α ≤ 1: only rounding lands below */
    /* i = ⌊γ'/ln 2⌋ by a multiply: the estimate is exact or one short */
    uint64_t i = mulhi(gam, RECIP_LN2) >> 57, f = gam - i * LN2_Q58;
    if (f >= LN2_Q58) {
        f -= LN2_Q58;
        i++;
    }
    if (i >= 62)
        return 0;
    uint64_t F = f << 4;                      /* f ∈ [0, ln 2) in Q62 */
    /* e^{−f} = e^{−j/32}·e^{−r}: j the top bits of f·32, r the rest (exact) */
    uint64_t j = F >> 57, R = F & ((UINT64_C(1) << 57) - 1);
    uint64_t p = mulshr(exp_table[j], horner(R, TAYLOR_R), 62);
    p >>= i;
    return p > ONE_Q62 ? ONE_Q62 : p;
}

static int64_t sample_one(const lethe_lattice *lat, word_source *ws)
{
    for (;;) {
        uint64_t w1 = next_word(ws);
        if (w1 == 0)
            continue;
        unsigned k = clz64(w1); /* P(k) = 2^-(k+1) */
        if (k > K_MAX)
            continue;
        /* the sign: bit 0 of w1, below its leading one (k ≤ 7), so a fair coin
         * independent of k */
        int neg = (int)(w1 & 1);
        /* j uniform on [0, S) by Lemire's multiply-and-reject: j = ⌊w2·S/2^64⌋,
         * redrawn when the low word falls below (2^64 − S) mod S (rarely: < 2^-6) */
        uint64_t w2, j, lo;
        do {
            w2 = next_word(ws);
            j = mulhi(w2, lat->S);
            lo = w2 * lat->S;
        } while (lo < lat->reject);
        uint64_t a = (uint64_t)k * lat->S + j; /* < 8·1.25·2^56 < 2^60 */
        uint64_t mag = a + (uint64_t)neg;      /* |x|: −(kS + j) − 1 on the negative side */
        uint64_t w3 = next_word(ws);
        if ((w3 >> 2) < lethe__lattice_accept_q62(lat, mag, k))
            return neg ? -(int64_t)mag : (int64_t)mag;
    }
}

/* IMPLEMENTS: LTH-C-0010 */
void lethe__lattice_draw(const lethe_lattice *lat, lethe_rng *rng, int64_t *m, size_t d)
{
    word_source ws;
    ws.rng = rng;
    ws.next = WORDS;
    for (size_t i = 0; i < d; i++)
        m[i] = sample_one(lat, &ws);
    sodium_memzero(&ws, sizeof ws); /* unused words are noise too */
}

int64_t lethe__lattice_sample(const lethe_lattice *lat, lethe_rng *rng)
{
    int64_t m;
    lethe__lattice_draw(lat, rng, &m, 1);
    return m;
}

/* The double nearest to z·2^h + lo/… : see lethe__lattice_release. Converts
 * the exact integer Y·2^h + rest (0 ≤ rest < 2^h, rest ≠ 0 flagged by
 * sticky) to the nearest double times g. |Y| < 2^62. */
static double round_scaled(int64_t Y, int h, int sticky, double g)
{
    if (!sticky)
        return ldexp((double)Y, h) * g;
    /* Y has ≥ 60 significant bits here, so any value strictly between Y and
     * Y + 1 rounds like Y + ½ (the sticky bit): 2Y + 1 carries it exactly. */
    return ldexp((double)(2 * Y + 1), h - 1) * g;
}

/* IMPLEMENTS: LTH-C-0010 */
lethe_status lethe__lattice_release(const lethe_lattice *lat, const double *v, const int64_t *m,
                                    double *out, size_t d)
{
    const double g = lat->g;
    for (size_t i = 0; i < d; i++) {
        double u = v[i] / g; /* exact: g is a power of two and u stays normal */
        if (!isfinite(v[i]) || !(fabs(u) < 0x1p120))
            return LETHE_EINVAL;
    }
    for (size_t i = 0; i < d; i++) {
        double u = v[i] / g;
        if (fabs(u) < 0x1p61) {
            /* round(u) exact (nearbyint rounds half to even), z exact in int64:
             * |round(u)| ≤ 2^61, |m| < 2^60 */
            int64_t z = (int64_t)nearbyint(u) + m[i];
            out[i] = (double)z * g; /* one correct rounding of the integer z */
            continue;
        }
        /* |u| ≥ 2^61: u = M·2^e with e ≥ 9, already an integer. Scale by
         * 2^h, h = e − 8, so that X = u/2^h = M·2^8 fits with room; split
         * m = m_hi·2^h + m_lo, 0 ≤ m_lo < 2^h; then z = (X + m_hi)·2^h + m_lo. */
        int e;
        (void)frexp(u, &e); /* |u| ∈ [2^(e−1), 2^e) */
        int h = e - 1 - 52 - 8;
        int64_t X = (int64_t)ldexp(u, -h);
        int64_t mh = m[i] >> h; /* arithmetic shift: ⌊m/2^h⌋ (h ≥ 1) */
        int64_t ml = m[i] - mh * ((int64_t)1 << h);
        out[i] = round_scaled(X + mh, h, ml != 0, g);
    }
    return LETHE_OK;
}
