/*
 * Throughput of the lattice noise sampler (src/dp/lattice.c) against a plain
 * floating-point Gaussian (Box–Muller on the same 53-bit uniforms) measured
 * in the same run, and how much the time of one sample depends on its value.
 *
 *   bench_noise [samples per run (default 10^7)] [runs (default 7)]
 *
 * Single-threaded. Medians over the runs; the baseline runs interleaved with
 * the sampler so that both see the same machine state.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "dp/dp.h"

/* CPU time of this thread: "samples per second on one core" even when other
 * work shares the machine (the wall clock is reported beside it). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The baseline: Box–Muller, the float transform the sampler replaced. */
static double box_muller(lethe_rng *r, size_t N)
{
    const double two_pi = 6.283185307179586;
    double sink = 0.0;
    for (size_t i = 0; i < N; i += 2) {
        double u1 = 1.0 - lethe__rng_uniform(r), u2 = lethe__rng_uniform(r);
        double rad = sqrt(-2.0 * log(u1));
        sink += rad * cos(two_pi * u2) + rad * sin(two_pi * u2);
    }
    return sink;
}

/* The sampler as the mechanisms call it: one draw per release of d = 784. */
static int64_t lattice(lethe_rng *r, const lethe_lattice *lat, size_t N)
{
    enum { D = 784 };
    int64_t m[D], sink = 0;
    for (size_t i = 0; i < N; i += D) {
        size_t k = N - i < D ? N - i : D;
        lethe__lattice_draw(lat, r, m, k);
        sink ^= m[0] ^ m[k - 1];
    }
    return sink;
}

int main(int argc, char **argv)
{
    size_t N = argc > 1 ? (size_t)atof(argv[1]) : 10000000;
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    if (sodium_init() < 0 || N < 1000 || runs < 1 || runs > 99) {
        fprintf(stderr, "usage: bench_noise [samples ≥ 1000] [runs 1–99]\n");
        return 2;
    }
    lethe_lattice lat;
    lethe__lattice_params(2.385e-4, &lat);
    unsigned char seed[32] = { 0x2b, 0x38, 0x5 };
    lethe_rng *csprng = NULL, *seeded = NULL;
    if (lethe__rng_create(NULL, &csprng) != LETHE_OK ||
        lethe__rng_create(seed, &seeded) != LETHE_OK)
        return 1;
    double t_lat[99], t_lat_seeded[99], t_bm[99], t_bm_seeded[99], ratio[99];
    volatile double vsink = 0.0;
    volatile int64_t isink = 0;
    printf("lattice sampler vs Box–Muller, %zu samples per run, %d runs, one thread\n", N, runs);
    double w_lat[99];
    for (int k = 0; k < runs; k++) {
        double w0 = wall(), t0 = now();
        isink ^= lattice(csprng, &lat, N);
        double t1 = now();
        w_lat[k] = (double)N / (wall() - w0);
        vsink += box_muller(csprng, N);
        double t2 = now();
        isink ^= lattice(seeded, &lat, N);
        double t3 = now();
        vsink += box_muller(seeded, N);
        double t4 = now();
        t_lat[k] = (double)N / (t1 - t0);
        t_bm[k] = (double)N / (t2 - t1);
        t_lat_seeded[k] = (double)N / (t3 - t2);
        t_bm_seeded[k] = (double)N / (t4 - t3);
        ratio[k] = (t1 - t0) / (t2 - t1);
        fprintf(stderr, "\r  run %d/%d", k + 1, runs);
    }
    fprintf(stderr, "\n");
    printf("  (per second of this thread's CPU time; wall clock for the lattice/CSPRNG "
           "row: %.3g samples/s)\n", median(w_lat, (size_t)runs));
    printf("  CSPRNG  lattice %8.3g samples/s   Box–Muller %8.3g samples/s   time ratio %.2f×\n",
           median(t_lat, (size_t)runs), median(t_bm, (size_t)runs), median(ratio, (size_t)runs));
    printf("  seeded  lattice %8.3g samples/s   Box–Muller %8.3g samples/s\n",
           median(t_lat_seeded, (size_t)runs), median(t_bm_seeded, (size_t)runs));

    /* Timing against value: the time of each sample, by |m|/t bucket. A
     * rejection sampler's accepted value is independent of the number of
     * proposals, so only the accepting proposal's own work could depend on
     * it; this measures whether it does. */
    enum { BUCKETS = 5, PER = 400000 };
    static double tb[BUCKETS][PER];
    size_t nb[BUCKETS] = { 0 };
    size_t M = 4000000;
    for (size_t i = 0; i < M; i++) {
        double a = wall();
        int64_t m = lethe__lattice_sample(&lat, csprng);
        double b = wall();
        double u = fabs((double)m) / (double)lat.t;
        int k = u < 1 ? 0 : u < 2 ? 1 : u < 3 ? 2 : u < 4 ? 3 : 4;
        if (nb[k] < PER)
            tb[k][nb[k]++] = (b - a) * 1e9;
    }
    printf("  time of one draw of d = 1 by the value drawn (ns, wall clock; each draw\n"
           "  includes reading 512 bytes of stream and the clock's own overhead):\n");
    /* padded by hand: printf widths count bytes, and σ and – take two */
    const char *name[BUCKETS] = { "< 1σ     ", "1σ – 2σ  ", "2σ – 3σ  ", "3σ – 4σ  ",
                                  "≥ 4σ     " };
    printf("    %-9s %8s %7s %7s %7s\n", "|m|", "draws", "p10", "median", "p90");
    for (int k = 0; k < BUCKETS; k++) {
        if (nb[k] == 0)
            continue;
        qsort(tb[k], nb[k], sizeof tb[k][0], cmp);
        printf("    %s %8zu %7.1f %7.1f %7.1f\n", name[k], nb[k], tb[k][nb[k] / 10],
               median(tb[k], nb[k]), tb[k][nb[k] * 9 / 10]);
    }
    lethe__rng_free(csprng);
    lethe__rng_free(seeded);
    return (int)(isink & 0) + (vsink > 1e300);
}
