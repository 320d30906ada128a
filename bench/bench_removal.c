/*
 * Benchmark: guo's (M1's) and M2's removal against retraining (bench_m3 has
 * M3), on the demo's data (Fashion-MNIST
 * pullover vs coat, n = 12 000, d = 784, rows scaled to unit norm), in one
 * run so that every ratio compares numbers measured side by side:
 *
 *   - median time of a single removal on the fast path (down-dated factor)
 *     and on the exact path (Hessian recomputed on D'), with the exact
 *     residual checked each time;
 *   - median time to retrain from scratch (certified training);
 *   - for reference, LIBLINEAR's training time on the same problem, if
 *     liblinear-train is installed (Debian: liblinear-tools).
 *
 *   usage: bench_removal [DATA_DIR] [FAST_REMOVALS] [EXACT_REMOVALS] [RETRAINS]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, mkstemp */

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../examples/fmnist.h"

/* Write the data in LIBSVM format for LIBLINEAR. */
static int write_libsvm(const lethe_dataset *ds, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 0;
    size_t n = lethe_dataset_rows(ds), d = lethe_dataset_cols(ds);
    const double *x = lethe_dataset_x(ds), *y = lethe_dataset_y(ds);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%+d", y[i] > 0 ? 1 : -1);
        for (size_t j = 0; j < d; j++)
            if (x[i * d + j] > 0.0 || x[i * d + j] < 0.0)
                fprintf(f, " %zu:%.17g", j + 1, x[i * d + j]);
        fputc('\n', f);
    }
    return fclose(f) == 0;
}

/* Seconds LIBLINEAR takes to train L2-regularised logistic regression with
 * the same objective: C = 1/(λn) makes ½‖w‖² + CΣℓ proportional to ours.
 * Returns NaN if it cannot be run. */
static double liblinear_seconds(const char *data, const char *model, double C)
{
    char c[64];
    snprintf(c, sizeof c, "%.17g", C);
    double t0 = fm_now();
    pid_t pid = fork();
    if (pid < 0)
        return NAN;
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("liblinear-train", "liblinear-train", "-q", "-s", "0", "-c", c, "-e", "1e-6",
               data, model, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    double t = fm_now() - t0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : NAN;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    size_t n_fast = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
    size_t n_exact = argc > 3 ? strtoul(argv[3], NULL, 10) : 20;
    size_t n_retrain = argc > 4 ? strtoul(argv[4], NULL, 10) : 5;
    if (n_fast == 0 || n_exact == 0 || n_retrain == 0) {
        fprintf(stderr, "usage: bench_removal [DATA_DIR] [FAST] [EXACT] [RETRAINS] (counts ≥ 1)\n");
        return 2;
    }
    lethe_ctx *ctx = NULL;
    lethe_status st = lethe_ctx_create(NULL, &ctx);
    if (st != LETHE_OK)
        fm_die(ctx, "lethe", st);
    lethe_dataset *train = fm_load(ctx, dir, "train");
    size_t n = lethe_dataset_rows(train), d = lethe_dataset_cols(train);
    lethe_train_options opt;
    lethe_train_options_init(&opt);
    opt.mechanism = LETHE_MECH_M1; /* guo: bench_m3 measures M3 */
    opt.lambda = 1e-3;

    /* retraining from scratch: median of n_retrain certified trainings */
    double *t_re = malloc(n_retrain * sizeof *t_re);
    lethe_model *model = NULL;
    for (size_t r = 0; r < n_retrain; r++) {
        lethe_model_free(model);
        model = NULL;
        double t0 = fm_now();
        if ((st = lethe_model_train(ctx, train, &opt, &model)) != LETHE_OK)
            fm_die(ctx, "train", st);
        t_re[r] = fm_now() - t0;
        fm_progress("retrain %zu/%zu", r + 1, n_retrain);
    }
    double retrain = fm_median(t_re, n_retrain);

    const uint64_t *ids = lethe_dataset_ids(train);
    size_t *pick = fm_pick(n, n_fast + n_exact, 12345);
    double *t_fast = malloc(n_fast * sizeof *t_fast), *t_exact = malloc(n_exact * sizeof *t_exact);
    lethe_removal_report rep;
    for (size_t k = 0; k < n_fast; k++) {
        double t0 = fm_now();
        if ((st = lethe_model_remove(model, &ids[pick[k]], 1, LETHE_PATH_FAST, &rep)) != LETHE_OK)
            fm_die(ctx, "remove (fast)", st);
        t_fast[k] = fm_now() - t0;
        fm_progress("fast removal %zu/%zu", k + 1, n_fast);
    }
    double fast_residual = rep.residual;
    for (size_t k = 0; k < n_exact; k++) {
        double t0 = fm_now();
        if ((st = lethe_model_remove(model, &ids[pick[n_fast + k]], 1, LETHE_PATH_EXACT, &rep)) !=
            LETHE_OK)
            fm_die(ctx, "remove (exact)", st);
        t_exact[k] = fm_now() - t0;
        fm_progress("exact removal %zu/%zu", k + 1, n_exact);
    }
    fm_progress("                              \r");
    double fast = fm_median(t_fast, n_fast), exact = fm_median(t_exact, n_exact);

    /* M2 (data-free): time per removed record at three sizes n, to show it
     * does not grow with n (capacity 200, λ = 1 as in the demo) */
    const size_t sizes[3] = { n / 4, n / 2, n };
    double m2_ms[3];
    for (int s = 0; s < 3; s++) {
        lethe_dataset *head = fm_head(ctx, train, sizes[s]);
        lethe_m2_options mo;
        lethe_m2_options_init(&mo);
        mo.lambda = 1.0;
        mo.capacity = 200;
        lethe_m2 *m2 = NULL;
        if ((st = lethe_m2_train(ctx, head, &mo, &m2)) != LETHE_OK)
            fm_die(ctx, "train (M2)", st);
        const double *hx = lethe_dataset_x(head), *hy = lethe_dataset_y(head);
        const uint64_t *hid = lethe_dataset_ids(head);
        size_t *pk = fm_pick(sizes[s], 200, 777);
        double t_m2[200];
        lethe_m2_report mr;
        for (size_t k = 0; k < 200; k++) {
            size_t i = pk[k];
            double t0 = fm_now();
            if ((st = lethe_m2_remove(m2, 1, hx + i * d, d, &hy[i], &hid[i], &mr)) != LETHE_OK)
                fm_die(ctx, "remove (M2)", st);
            t_m2[k] = fm_now() - t0;
        }
        m2_ms[s] = 1e3 * fm_median(t_m2, 200);
        fm_progress("M2 at n = %zu", sizes[s]);
        free(pk);
        lethe_m2_free(m2);
        lethe_dataset_free(head);
    }

    /* LIBLINEAR on the same records, for scale */
    char data[] = "/tmp/lethe-bench-XXXXXX";
    int fd = mkstemp(data);
    double lib = NAN;
    if (fd >= 0) {
        close(fd);
        char model_path[64];
        snprintf(model_path, sizeof model_path, "%s.model", data);
        if (write_libsvm(train, data))
            lib = liblinear_seconds(data, model_path, 1.0 / (opt.lambda * (double)n));
        remove(data);
        remove(model_path);
    }

    printf("bench_removal: Fashion-MNIST coat vs pullover, n = %zu, d = %zu, logistic, λ = %g\n",
           n, d, opt.lambda);
    printf("  %-34s %10.3f ms  (median of %zu; last residual %.2e)\n", "single removal, fast path",
           1e3 * fast, n_fast, fast_residual);
    printf("  %-34s %10.3f ms  (median of %zu; last residual %.2e)\n",
           "single removal, exact path", 1e3 * exact, n_exact, rep.residual);
    printf("  %-34s %10.3f ms  (median of %zu)\n", "retrain from scratch (lethe)", 1e3 * retrain,
           n_retrain);
    if (isnan(lib))
        printf("  %-34s %10s     (liblinear-train not available)\n", "train, LIBLINEAR -s 0", "—");
    else
        printf("  %-34s %10.3f ms  (one run, incl. reading its input file)\n",
               "train, LIBLINEAR -s 0 -e 1e-6", 1e3 * lib);
    for (int s = 0; s < 3; s++)
        printf("  %-34s %10.3f ms  (median of 200, n = %zu)\n",
               s == 0 ? "single removal, M2 (data-free)" : "", m2_ms[s], sizes[s]);
    printf("  ratio retrain / fast removal  %8.0f×\n", retrain / fast);
    printf("  ratio retrain / M2 removal    %8.0f×\n", retrain / m2_ms[2] * 1e3);
    printf("  ratio M1 fast / M2 removal    %8.1f×\n", fast / m2_ms[2] * 1e3);
    printf("  ratio retrain / exact removal %8.1f×\n", retrain / exact);
    printf("  ratio exact / fast removal    %8.1f×\n", exact / fast);
    free(pick);
    free(t_re);
    free(t_fast);
    free(t_exact);
    lethe_model_free(model);
    lethe_dataset_free(train);
    lethe_ctx_free(ctx);
    return 0;
}
