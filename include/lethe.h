/*
 * lethe — certified machine unlearning for L2-regularised linear models.
 *
 * Copyright (C) 2026 the lethe authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ─── Overview ────────────────────────────────────────────────────────────────
 *
 * A model is trained on a dataset to optimality of the perturbed objective
 *
 *     L_b(w; D) = Σᵢ ℓ(wᵀxᵢ, yᵢ) + (λn/2)‖w‖² + bᵀw,     b ~ N(0, σ²I) secret,
 *
 * (mechanism M1, Guo et al., ICML 2020). Records are later removed by id: a
 * Newton step on the remaining data D' moves w to w⁻, and the removal is
 * (ε, δ)-certified — the published w⁻ is (ε, δ)-indistinguishable from a
 * model retrained from scratch on D' — as long as the exact gradient residual
 * ‖∇L_b(w⁻; D')‖ stays within the budget ε' = σε/c(δ), c(δ) = √(2 ln(1.5/δ)),
 * as Guo et al.'s Theorem 3 states. The derivations are in proofs/
 * (LTH-C-0001 … ); proofs/certificate.md shows that the theorem's proof also
 * needs the residual to vary slowly with b (gap G1), which lethe does not yet
 * bound: read "certified" below as "meets the condition of Guo et al.'s
 * theorem".
 *
 * The pattern of the API:
 *
 *   - Everything happens inside a context (lethe_ctx). A context owns the
 *     allocator and the detail of the last error. A context and every handle
 *     made from it must be used by one thread at a time; distinct contexts are
 *     fully independent.
 *   - Every function that can fail returns lethe_status. LETHE_OK is 0.
 *     lethe_strerror() names a status; lethe_ctx_errmsg() gives the detail of
 *     the last failure on that context. The library never prints, never exits
 *     or aborts, and a call that fails leaves every handle as it was.
 *   - Objects come in _create/_free pairs (or _train/_free for models);
 *     _free(NULL) is a no-op. Out-pointers are written only on success.
 *   - Matrices are dense, row-major doubles with an explicit leading
 *     dimension (ldx ≥ d). Sizes are size_t. Record ids are uint64_t.
 *   - Secrets (the noise vector b and the seed) live in libsodium guarded
 *     memory and are wiped when freed. lethe_model_save_public() writes
 *     nothing secret; lethe_model_save() writes the owner's full state.
 */
#ifndef LETHE_H
#define LETHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(LETHE_BUILD) && defined(__GNUC__)
#define LETHE_API __attribute__((visibility("default")))
#else
#define LETHE_API
#endif

#define LETHE_VERSION_MAJOR 0
#define LETHE_VERSION_MINOR 1
#define LETHE_VERSION_PATCH 0
#define LETHE_VERSION_STRING "0.1.0"

/* ─── Status ─────────────────────────────────────────────────────────────── */

typedef enum lethe_status {
    LETHE_OK = 0,
    LETHE_EINVAL,      /* an argument is out of its documented range        */
    LETHE_ENOMEM,      /* an allocation failed                              */
    LETHE_ENONFINITE,  /* input holds NaN or ±Inf                           */
    LETHE_EEMPTY,      /* no records, or no features                        */
    LETHE_ESIZE,       /* sizes disagree or overflow                        */
    LETHE_ENORM,       /* a row is longer than the required bound R         */
    LETHE_ELABEL,      /* a label is not valid for the loss                 */
    LETHE_ENOTPD,      /* a matrix that must be positive definite is not    */
    LETHE_ENOCONV,     /* the solver did not reach its tolerance            */
    LETHE_EBUDGET,     /* the removal would exceed the certified budget     */
    LETHE_ENOTFOUND,   /* an id names no record of the model                */
    LETHE_EREMOVED,    /* an id names a record that was already removed     */
    LETHE_EDUPLICATE,  /* an id appears twice (in data or in one batch)     */
    LETHE_ELAST,       /* removing these ids would leave no record          */
    LETHE_EIO,         /* a file could not be read or written               */
    LETHE_EFORMAT,     /* a file is malformed, truncated or of another kind */
    LETHE_ECRYPTO,     /* libsodium could not be initialised                */
    LETHE_EBACKEND,    /* BLAS/LAPACK reported an unexpected failure        */
    LETHE_ECAPACITY,   /* the removal would exceed the deletion capacity m  */
    LETHE_EMISMATCH,   /* a record given for removal is not the one trained on */
    LETHE_STATUS_COUNT
} lethe_status;

/* A static, NUL-terminated English message; "unknown status" for values
 * outside the enum. Never NULL. Thread-safe. */
LETHE_API const char *lethe_strerror(lethe_status status);

/* ─── Context ────────────────────────────────────────────────────────────── */

/* Allocator hook. malloc must return memory aligned for double (or NULL);
 * free(ud, NULL) must be a no-op. */
typedef struct lethe_allocator {
    void *(*malloc)(void *ud, size_t size);
    void (*free)(void *ud, void *ptr);
    void *ud;
} lethe_allocator;

typedef struct lethe_ctx lethe_ctx;

/* Create a context. alloc may be NULL (the C library's malloc/free); it is
 * copied. Initialises libsodium (sodium_init(), safe to call repeatedly).
 * Returns LETHE_OK, LETHE_EINVAL (out NULL), LETHE_ENOMEM, LETHE_ECRYPTO. */
LETHE_API lethe_status lethe_ctx_create(const lethe_allocator *alloc, lethe_ctx **out);
/* Free a context. Every handle made from it must be freed first. */
LETHE_API void lethe_ctx_free(lethe_ctx *ctx);
/* Detail of the last failure on this context ("" if none). The pointer is
 * valid until the next call on the context. Never NULL (even for ctx NULL). */
LETHE_API const char *lethe_ctx_errmsg(const lethe_ctx *ctx);
/* Status of the last failure on this context (LETHE_OK if none). */
LETHE_API lethe_status lethe_ctx_errcode(const lethe_ctx *ctx);

/* ─── Dataset ────────────────────────────────────────────────────────────── */

typedef struct lethe_dataset lethe_dataset;

/* How the row norms are treated; R is the bound every certificate uses. */
typedef enum lethe_norm_policy {
    LETHE_NORM_MEASURE = 0, /* keep rows; R := largest row norm (R arg ignored) */
    LETHE_NORM_REQUIRE,     /* fail with LETHE_ENORM if some ‖xᵢ‖ > R          */
    LETHE_NORM_CLIP,        /* rows with ‖xᵢ‖ > R are scaled down to norm R    */
    LETHE_NORM_NORMALIZE    /* every non-zero row is scaled to norm exactly R  */
} lethe_norm_policy;

/* Copy n records of d features into a new dataset.
 *   x    n×d, row-major, row i at x + i·ldx, ldx ≥ d;
 *   y    n labels (for the logistic loss each must be −1 or +1; checked at
 *        training time);
 *   ids  n distinct ids, or NULL for ids 0 … n−1;
 *   R    the norm bound for REQUIRE/CLIP/NORMALIZE (finite, > 0).
 * The caller keeps ownership of x, y and ids. Cost O(nd) time and memory.
 * Returns LETHE_OK, LETHE_EINVAL (NULL pointer, ldx < d, bad policy or R),
 * LETHE_EEMPTY (n or d is 0), LETHE_ESIZE (n·ldx overflows),
 * LETHE_ENONFINITE, LETHE_ENORM, LETHE_EDUPLICATE, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_dataset_create(lethe_ctx *ctx, size_t n, size_t d,
                                            const double *x, size_t ldx, const double *y,
                                            const uint64_t *ids, lethe_norm_policy policy,
                                            double R, lethe_dataset **out);
LETHE_API void lethe_dataset_free(lethe_dataset *data);
LETHE_API size_t lethe_dataset_rows(const lethe_dataset *data);
LETHE_API size_t lethe_dataset_cols(const lethe_dataset *data);
/* The norm bound in force: after MEASURE, the largest row norm; otherwise R. */
LETHE_API double lethe_dataset_norm_bound(const lethe_dataset *data);
/* Borrowed views, valid until the dataset is freed (rows are contiguous,
 * leading dimension = cols). */
LETHE_API const double *lethe_dataset_x(const lethe_dataset *data);
LETHE_API const double *lethe_dataset_y(const lethe_dataset *data);
LETHE_API const uint64_t *lethe_dataset_ids(const lethe_dataset *data);

/* Reading datasets from files (src/io). Labels are mapped for binary
 * models: records of class pos get +1, of class neg get −1, others are
 * skipped; with pos = neg = −1 every record is kept with its label as read. */
typedef struct lethe_read_options {
    int header;            /* CSV: 1 = the first line is a header, 0 = none, −1 = guess   */
    long label_col;        /* CSV: label column, 0-based; negative counts from the end    */
    long id_col;           /* CSV: id column (non-negative integers), or −1: ids are the
                              0-based record numbers in the file                           */
    long pos_class;        /* class mapped to +1, or −1 (see above)                        */
    long neg_class;        /* class mapped to −1, or −1                                    */
    double scale;          /* every feature is multiplied by scale; 0 = the format's
                              default (IDX 1/255, CSV 1)                                   */
    lethe_norm_policy policy; /* as for lethe_dataset_create()                              */
    double R;
    size_t dim;            /* LIBSVM: the number of features d, or 0: d is the largest index
                              in the file. Give the training d to read a test set.          */
} lethe_read_options;

/* Defaults: header −1, label_col −1 (last), id_col −1, classes −1/−1,
 * scale 0, policy MEASURE, R 1, dim 0. */
LETHE_API void lethe_read_options_init(lethe_read_options *opt);

/* Read an IDX (MNIST / Fashion-MNIST) image file and its label file, raw or
 * gzip-compressed. Ids are the record numbers in the file (0-based), so
 * they stay stable when classes are filtered. Cost O(n·d). Returns LETHE_OK, LETHE_EIO
 * (cannot open/read), LETHE_EFORMAT (bad magic, sizes, truncation, count
 * mismatch), LETHE_EEMPTY (no record of the chosen classes), LETHE_EINVAL,
 * LETHE_ENOMEM, and the errors of lethe_dataset_create(). */
LETHE_API lethe_status lethe_dataset_read_idx(lethe_ctx *ctx, const char *images_path,
                                              const char *labels_path,
                                              const lethe_read_options *opt,
                                              lethe_dataset **out);

/* Read a CSV file of numbers separated by commas (blank lines skipped).
 * Every row must have the same number of fields. Returns LETHE_OK, LETHE_EIO,
 * LETHE_EFORMAT (unparsable number, ragged rows; the message names line and
 * column), LETHE_EEMPTY, LETHE_EINVAL, LETHE_ENOMEM, and the errors of
 * lethe_dataset_create(). */
LETHE_API lethe_status lethe_dataset_read_csv(lethe_ctx *ctx, const char *path,
                                              const lethe_read_options *opt,
                                              lethe_dataset **out);

/* Read a LIBSVM / SVMlight file, raw or gzip-compressed: one record per line,
 *
 *     label [qid:Q] index:value index:value …  [# comment]
 *
 * fields separated by spaces or tabs. Indices are decimal, 1-based and
 * strictly increasing; an index that does not appear is a zero feature. The
 * label and the values are numbers (strtod in the C locale, whatever the
 * host's locale); the label is mapped by pos_class/neg_class as for CSV
 * (classes are integers) or kept as read. A qid field (SVMlight's ranking
 * groups) right after the label is accepted and ignored. Blank lines and
 * lines holding only a comment are skipped; CRLF line ends and a UTF-8
 * byte-order mark are accepted; lines may be of any length.
 *   d    opt->dim if not 0 (an index above it is an error), otherwise the
 *        largest index on any data line, kept or not (so that a class
 *        filter does not change d);
 *   ids  the 0-based numbers of the data lines (blank and comment lines not
 *        counted), kept or not, so that they stay stable when classes are
 *        filtered — as the CSV reader numbers its rows;
 *   features are multiplied by opt->scale (default 1); the CSV-only fields
 *        of opt are ignored.
 * The caller owns path and opt; *out is written only on success and is the
 * caller's to free with lethe_dataset_free(). On failure nothing is left
 * allocated. Cost O(file size + n·d) time; memory O(n·d) plus the sparse
 * staging (16 bytes per value in the file). The dense matrix may hold at
 * most 2³¹ values (16 GiB).
 * Returns LETHE_OK;
 *   LETHE_EIO        path cannot be opened or read;
 *   LETHE_EFORMAT    a label or value that is not a number, a field that is
 *                    not index:value, index 0, an index not above the one
 *                    before it (repeated or decreasing), a fractional label
 *                    with a class filter, a NUL byte, corrupt gzip data;
 *   LETHE_ENONFINITE a label or value that is NaN or ±Inf (also by
 *                    overflow, as 1e999);
 *   LETHE_ESIZE      an index above opt->dim or too large, or n·d above the
 *                    limit;
 *   LETHE_EEMPTY     no data line, no record of the chosen classes, or no
 *                    feature at all (d = 0);
 *   LETHE_EINVAL     NULL arguments, bad options (as for the other readers;
 *                    dim above the limit);
 *   LETHE_ENOMEM, and the errors of lethe_dataset_create() (LETHE_ENORM
 *   under LETHE_NORM_REQUIRE).
 * Every message names the file, and the line and field (from 1) where one
 * is at fault. Thread-safety as for every call on a context. */
LETHE_API lethe_status lethe_dataset_read_libsvm(lethe_ctx *ctx, const char *path,
                                                 const lethe_read_options *opt,
                                                 lethe_dataset **out);

/* ─── Losses ─────────────────────────────────────────────────────────────── */

typedef enum lethe_loss {
    LETHE_LOSS_LOGISTIC = 0, /* log(1 + e^{−y·z}), y ∈ {−1, +1}       */
    LETHE_LOSS_SQUARED       /* ½(z − y)², the ridge loss             */
} lethe_loss;

/* Constants the bounds use, for rows with ‖x‖ ≤ R (proofs/loss-constants.md,
 * LTH-C-0004). */
typedef struct lethe_loss_constants {
    double d2_max;     /* sup ℓ''                                            */
    double d2_lip;     /* γ: Lipschitz constant of ℓ'' in z (0 for squared)  */
    double grad_bound; /* C: sup ‖∇_w ℓ(wᵀx, y)‖ = R·sup|ℓ'|; +Inf if unbounded */
} lethe_loss_constants;

/* ℓ(z, y) and its first two derivatives with respect to z = wᵀx, computed
 * stably (log1p(e^{−|m|}) for the logistic loss). Any of l, d1, d2 may be
 * NULL. Returns LETHE_OK, LETHE_EINVAL (unknown loss), LETHE_ELABEL (y not
 * valid for the loss), LETHE_ENONFINITE (z not finite). O(1), thread-safe. */
LETHE_API lethe_status lethe_loss_eval(lethe_loss loss, double z, double y, double *l,
                                       double *d1, double *d2);

/* Returns LETHE_OK or LETHE_EINVAL (unknown loss, R not finite or < 0, out NULL). */
LETHE_API lethe_status lethe_loss_get_constants(lethe_loss loss, double R,
                                                lethe_loss_constants *out);

/* ─── Certified model (mechanism M1) ────────────────────────────────────── */

typedef struct lethe_model lethe_model;

typedef struct lethe_train_options {
    lethe_loss loss;       /* default LETHE_LOSS_LOGISTIC                               */
    double lambda;         /* λ > 0, regulariser weight per record; default 1e-3        */
    double epsilon;        /* ε ∈ (0, 1] of the certificate; default 1 (c(δ) is proven
                              for ε ≤ 1 only: proofs/certificate.md)                    */
    double delta;          /* δ ∈ (0, 1); default 1e-5                                  */
    double sigma;          /* σ of b; > 0 to give it, 0 to derive σ = c(δ)·budget/ε     */
    double budget;         /* ε', the residual budget, used when sigma == 0; default 2  */
    double tol;            /* stop when ‖∇L_b‖ ≤ tol·max(1, λn, ‖b‖); default 1e-10     */
    unsigned max_iter;     /* Newton iterations at most; default 100                    */
    const unsigned char *seed; /* NULL: libsodium CSPRNG (production). Otherwise
                              32 bytes: a seeded ChaCha20 stream, for tests and
                              reproducible runs; the model then says so.            */
} lethe_train_options;

/* Fill the defaults above. */
LETHE_API void lethe_train_options_init(lethe_train_options *opt);

/* Train a certified model on data: draw b, minimise L_b by Newton's method
 * with a Cholesky factorisation (LAPACK dpotrf) and a backtracking line
 * search, factor the Hessian at the optimum, and bound ‖X‖₂ from above.
 * The model keeps a private copy of the data (M1 needs it); the caller may
 * free data afterwards.
 * Cost: O(nd²) per Newton iteration (BLAS-3), O(d³) per factorisation;
 * memory O(nd + d²).
 * Returns LETHE_OK, LETHE_EINVAL (bad option, NULL pointer), LETHE_ELABEL
 * (logistic label not ±1), LETHE_ENOCONV (tolerance not reached in max_iter;
 * no model is returned), LETHE_ENOTPD, LETHE_ENOMEM, LETHE_EBACKEND. */
LETHE_API lethe_status lethe_model_train(lethe_ctx *ctx, const lethe_dataset *data,
                                         const lethe_train_options *opt, lethe_model **out);
LETHE_API void lethe_model_free(lethe_model *model);

/* Which Hessian the removal's Newton step uses. Either way the certificate
 * is checked on the exact residual (proofs/exact-residual.md, LTH-C-0002). */
typedef enum lethe_removal_path {
    LETHE_PATH_FAST = 0, /* the last factor, down-dated per record: O(d²)/record + O(nd) */
    LETHE_PATH_EXACT     /* the Hessian recomputed on D' at the current w: O(nd² + d³)  */
} lethe_removal_path;

typedef struct lethe_removal_report {
    size_t removed;          /* records removed by this call (0 on refusal or dry run)   */
    lethe_removal_path path; /* the path actually taken (FAST may fall back to EXACT)     */
    double residual;         /* ‖∇L_b(w⁻; D')‖, exact, computed in one O(nd) pass          */
    double residual_fp;      /* bound on the rounding error of residual (LTH-C-0002)       */
    double residual_bound;   /* Guo's data-dependent bound on that residual (LTH-C-0003)   */
    double budget;           /* ε' = σε/c(δ)                                              */
    int certified;           /* residual + residual_fp ≤ budget                           */
} lethe_removal_report;

/* Remove the records named by ids[0..k-1] (a batch, one Newton step).
 * On success w becomes w⁻, the rows' features and labels are zeroed in the
 * model's copy of the data, and the accountant records the removal. Their
 * ids are kept (so that a second removal says LETHE_EREMOVED) until the next
 * refresh, which drops them; after it such an id gives LETHE_ENOTFOUND.
 * If the residual would exceed the budget the call returns LETHE_EBUDGET and
 * changes nothing; rep (if not NULL) is filled in all cases where the step
 * could be computed. Cost: FAST O(k·d² + nd); EXACT O(nd² + d³).
 * Returns LETHE_OK, LETHE_EBUDGET, LETHE_EINVAL (k = 0, NULL ids, bad path),
 * LETHE_ENOTFOUND, LETHE_EREMOVED, LETHE_EDUPLICATE, LETHE_ELAST,
 * LETHE_ENOTPD, LETHE_ENOMEM, LETHE_EBACKEND. */
LETHE_API lethe_status lethe_model_remove(lethe_model *model, const uint64_t *ids, size_t k,
                                          lethe_removal_path path, lethe_removal_report *rep);

/* Dry run: would removing ids be certified? Computes everything remove()
 * would and fills rep, but changes nothing. Returns LETHE_OK whether or not
 * the removal would be certified (see rep->certified), or the errors of
 * lethe_model_remove() other than LETHE_EBUDGET. */
LETHE_API lethe_status lethe_model_check_removal(lethe_model *model, const uint64_t *ids,
                                                 size_t k, lethe_removal_path path,
                                                 lethe_removal_report *rep);

/* Refresh: retrain on the remaining records, warm-started from the current w,
 * with a FRESH b drawn from the model's noise source, and reset the residual
 * and the removal count. (Re-using the same b is not done: proofs/refresh.md
 * explains why it is not yet established.) Cost: as training.
 * Returns the statuses of lethe_model_train(). Changes nothing on failure. */
LETHE_API lethe_status lethe_model_refresh(lethe_model *model);

/* ─── Accountant ─────────────────────────────────────────────────────────── */

typedef struct lethe_budget {
    double epsilon, delta;    /* the certificate's (ε, δ)                               */
    double sigma;             /* σ of b                                                 */
    double c;                 /* c(δ) = √(2 ln(1.5/δ))                                  */
    double budget;            /* ε' = σε/c                                              */
    double residual;          /* the current exact residual ‖∇L_b(w; D)‖                */
    double residual_fp;       /* bound on its rounding error                            */
    double train_residual;    /* the residual at the end of training or the last refresh */
    double residual_bound;    /* Guo's data-dependent bound on the current residual     */
    double remaining;         /* budget − (residual + residual_fp), rounded down;
                                 ≤ 0 when exhausted                                      */
    size_t removals;          /* records removed since training or the last refresh     */
    size_t removals_total;    /* records removed since training                         */
    size_t refreshes;         /* refreshes done                                         */
    size_t n;                 /* records currently in the model                         */
    size_t capacity_estimate; /* estimated further single removals (see below)          */
    double worst_case_bound;  /* Guo Thm 1 bound for one more removal from the exact
                                 minimiser: 2γR³(C + ‖b‖/(2n))²/(λ²(n−1)); +Inf for ridge */
    size_t worst_case_count;  /* guaranteed removals by Guo's Thm 1: the largest batch m
                                 whose worst-case bound fits budget − training residual
                                 (from the exact minimiser, as at training or refresh)    */
    int seeded;               /* 1 if the noise came from the seeded test stream        */
} lethe_budget;

/* The accountant's state. capacity_estimate extrapolates: it assumes the
 * residual grows at most quadratically in the number k of removals since
 * training or the last refresh (as Guo's batch bound grows with m²),
 * starting from the largest residual seen so far, and keeps room for the
 * largest jump a single removal has caused; before the first removal it
 * uses a dry run that removes the record with the largest loss gradient.
 * It is an estimate, not a guarantee: every removal is still checked on its
 * exact residual, and refused if it does not fit. Returns LETHE_OK or
 * LETHE_EINVAL. */
LETHE_API lethe_status lethe_model_budget(const lethe_model *model, lethe_budget *out);

/* The model as it stands now, by Guo et al.'s theorem with the current
 * residual r (plus its rounding bound): ε(δ) = c(δ)·r/σ, and δ(ε) the
 * smallest δ with c(δ) ≥ εσ/r, i.e. 1.5·exp(−(εσ/r)²/2); both rounded up.
 * c(δ) is proven for ε ≤ 1 only, so an ε above 1 (or asked at ε > 1) is
 * reported as NaN: not covered. M1 keeps Guo's calibration rather than the
 * exact μ-GDP profile because the Gaussian-shift argument is not
 * established for it (gap G1). Returns LETHE_OK or LETHE_EINVAL. */
LETHE_API lethe_status lethe_model_epsilon(const lethe_model *model, double delta,
                                           double *epsilon);
LETHE_API lethe_status lethe_model_delta(const lethe_model *model, double epsilon,
                                         double *delta);

/* c(δ) = √(2 ln(1.5/δ)) (Guo et al., Thm 3), rounded up. NaN for δ ∉ (0, 1). */
LETHE_API double lethe_guo_c(double delta);

/* ─── Data-free removal (mechanism M2, Sekhari et al., NeurIPS 2021) ────── */

/* The model is trained to the exact minimiser w* of the UNperturbed
 * objective Σᵢ ℓ(wᵀxᵢ, yᵢ) + (λn/2)‖w‖² and keeps only w*, the Cholesky
 * factor of the Hessian, n, R, the loss constants and, per record, its id
 * and a keyed 128-bit digest of its features and label (to check that a
 * record given for removal is the one trained on). It neither holds nor
 * needs the training data afterwards. The published weights are w̄ + ν with
 * fresh ν ~ N(0, σ²I) at every release, σ calibrated (analytic Gaussian) for
 * the sensitivity Δ of a capacity of m removals: a quarter of Sekhari et al.'s
 * γ(m) = 2·M·m²·L²/(λ³n²) plus small allowances (proofs/m2-removal.md). The
 * guarantee is per release: k releases seen together cost √k·μ (GDP). The
 * norm bound R must be fixed in advance (not LETHE_NORM_MEASURE) so that σ
 * does not depend on the data. Logistic loss only: for ridge M = 0 and the Newton
 * step is exact, which wants a mechanism of its own. */
typedef struct lethe_m2 lethe_m2;

typedef struct lethe_m2_options {
    double lambda;         /* λ > 0 (the same λ as lethe_train_options); default 0.1 */
    double epsilon, delta; /* of every release; ε > 0, δ ∈ (0, 1); default 1, 1e-5  */
    size_t capacity;       /* m removals in all, 1 ≤ m ≤ n/2; default 100; or 0 to
                              derive m from alpha                                      */
    double alpha;          /* with capacity 0: the target excess population risk;
                              m = lethe_deletion_capacity() (analytic, γ(m)/4), capped
                              at n/2; LETHE_EINVAL if not even one removal fits        */
    double tol;            /* Newton tolerance on ‖∇L‖/max(1, λn); default 1e-12      */
    unsigned max_iter;     /* default 100                                             */
    const unsigned char *seed; /* NULL: CSPRNG; 32 bytes: seeded test stream          */
} lethe_m2_options;

LETHE_API void lethe_m2_options_init(lethe_m2_options *opt);

/* Train on data (labels ±1, logistic loss), draw the first release. The
 * model keeps no copy of the data. Cost as lethe_model_train().
 * Returns LETHE_OK, LETHE_EINVAL, LETHE_ELABEL, LETHE_ENOCONV, LETHE_ENOTPD,
 * LETHE_ENOMEM, LETHE_EBACKEND. */
LETHE_API lethe_status lethe_m2_train(lethe_ctx *ctx, const lethe_dataset *data,
                                      const lethe_m2_options *opt, lethe_m2 **out);
LETHE_API void lethe_m2_free(lethe_m2 *model);

typedef struct lethe_m2_report {
    size_t removed;  /* records removed by this call                         */
    size_t used;     /* removals so far, including these                     */
    size_t capacity; /* m                                                    */
    double gamma;    /* Sekhari et al.'s γ(m) = 2Mm²L²/(λ³n²), for comparison */
    double sensitivity; /* Δ the noise is calibrated for (≈ γ(m)/4, m2-removal.md) */
    double sigma;    /* σ of the published noise                             */
    double epsilon, delta; /* guarantee of the published weights vs retraining */
} lethe_m2_report;

/* Remove k records, given by the caller: features x (k×d, leading dimension
 * ldx), labels y and ids. Each must be a record the model was trained on and
 * not yet removed (checked against its digest). Down-dates the Hessian
 * factor (O(d²) per record), takes the Newton step from w* with the summed
 * gradients of every record removed so far, and publishes w̄ + fresh ν.
 * Cost O(k·d² + d²·ln(1/τ)/ln(n/m)), τ = 1e-10, independent of n. Returns LETHE_OK,
 * LETHE_EINVAL, LETHE_ECAPACITY (more than m removals in all; nothing
 * changes), LETHE_ENOTFOUND, LETHE_EREMOVED, LETHE_EDUPLICATE,
 * LETHE_EMISMATCH, LETHE_ENONFINITE, LETHE_ENOTPD, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_m2_remove(lethe_m2 *model, size_t k, const double *x, size_t ldx,
                                       const double *y, const uint64_t *ids,
                                       lethe_m2_report *rep);
/* Dry run: would removing these records be accepted (known, not removed,
 * the records trained on, within the capacity)? Changes nothing; returns the
 * status lethe_m2_remove() would return before any arithmetic. */
LETHE_API lethe_status lethe_m2_check_removal(lethe_m2 *model, size_t k, const double *x,
                                              size_t ldx, const double *y,
                                              const uint64_t *ids);
/* Predict with the published weights, as lethe_model_predict(). */
LETHE_API lethe_status lethe_m2_predict(lethe_m2 *model, size_t n, const double *x, size_t ldx,
                                        double *label, double *prob);
/* The published weights w̄ + ν (d values), borrowed until the next removal. */
LETHE_API const double *lethe_m2_weights(const lethe_m2 *model);
LETHE_API size_t lethe_m2_dim(const lethe_m2 *model);
/* The current accountant: removed so far, capacity, γ(m), σ, (ε, δ). */
LETHE_API lethe_status lethe_m2_status(const lethe_m2 *model, lethe_m2_report *out);
/* The published model is μ-GDP against retraining, μ = Δ/σ: ε at a given δ
 * and δ at a given ε, exactly (LTH-C-0007), rounded up. Returns LETHE_OK or
 * LETHE_EINVAL. */
LETHE_API lethe_status lethe_m2_epsilon(const lethe_m2 *model, double delta, double *epsilon);
LETHE_API lethe_status lethe_m2_delta(const lethe_m2 *model, double epsilon, double *delta);
/* Accuracy of the published weights on labelled data (labels ±1). */
LETHE_API lethe_status lethe_m2_evaluate(lethe_m2 *model, const lethe_dataset *data,
                                         double *accuracy);
/* The owner's M2 state (w*, the factor, the gradient sum, ids, record
 * digests and their key, the noise source; no training data), written and
 * validated like lethe_model_save()/lethe_model_load(); magic "LETHEM21".
 * γ(m), the sensitivity and σ are recomputed on load. The public file holds
 * the published weights w̄ + ν and the parameters. Statuses as for M1. */
LETHE_API lethe_status lethe_m2_save(lethe_m2 *model, const char *path);
LETHE_API lethe_status lethe_m2_load(lethe_ctx *ctx, const char *path, lethe_m2 **out);
LETHE_API lethe_status lethe_m2_save_public(lethe_m2 *model, const char *path);

typedef enum lethe_mechanism { LETHE_MECH_M1 = 1, LETHE_MECH_M2 = 2 } lethe_mechanism;
/* Which mechanism's state a file holds (from its magic; nothing else is
 * read). Returns LETHE_OK, LETHE_EIO, LETHE_EFORMAT, LETHE_EINVAL. */
LETHE_API lethe_status lethe_state_mechanism(lethe_ctx *ctx, const char *path,
                                             lethe_mechanism *out);

/* ─── Gaussian calibration and accounting (proofs/calibration.md) ────────── */

/* The Gaussian mechanism with sensitivity Δ and noise σ is exactly μ-GDP with
 * μ = Δ/σ. All functions are pure, thread-safe and O(1) (bisections of a few
 * hundred steps at most), and round in the conservative direction. */

/* δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2), computed in log space
 * (relative accuracy about 1e-13, kept down to the smallest normal double
 * DBL_MIN, which is returned where δ is below it), rounded up by its error
 * model. μ = +∞ gives 1. NaN unless μ > 0 and ε ≥ 0 finite. */
LETHE_API double lethe_gdp_delta(double mu, double epsilon);
/* The smallest ε (rounded up, to about 1e-15 relative) with δ(ε) ≤ delta.
 * Returns LETHE_OK or LETHE_EINVAL (μ not finite and > 0, δ ∉ (0, 1), or an
 * ε beyond 1e6). */
LETHE_API lethe_status lethe_gdp_epsilon(double mu, double delta, double *epsilon);
/* The smallest σ for which Gaussian noise on a query of sensitivity Δ is
 * (ε, δ)-DP — analytic calibration (Balle & Wang 2018), exact for every
 * ε > 0; postcondition lethe_gdp_delta(Δ/σ, ε) ≤ δ. Returns LETHE_OK or
 * LETHE_EINVAL (also when σ would overflow). */
LETHE_API lethe_status lethe_gaussian_sigma(double epsilon, double delta, double sensitivity,
                                            double *sigma);
/* The classical σ = Δ√(2 ln(1.25/δ))/ε (Dwork & Roth, Thm A.1), for
 * 0 < ε ≤ 1 only (their proof takes ε < 1; at ε = 1 the exact profile shows
 * it still suffices): NaN otherwise. Kept for comparison. */
LETHE_API double lethe_gaussian_sigma_classical(double epsilon, double delta,
                                                double sensitivity);
/* ε at δ for ρ-zCDP (a Gaussian with μ has ρ = μ²/2): the standard
 * conversion ρ + 2√(ρ ln(1/δ)), and Canonne–Kamath–Steinke's tighter one
 * (equal to the optimised Rényi-DP conversion). For every ρ and δ:
 * exact GDP ≤ CKS ≤ standard. NaN for bad arguments. */
LETHE_API double lethe_zcdp_epsilon(double rho, double delta);
LETHE_API double lethe_zcdp_epsilon_cks(double rho, double delta);
/* ε at δ from a Rényi-DP curve given at k orders: the smallest over i of
 * ε_i + ln(1 − 1/α_i) − (ln δ + ln α_i)/(α_i − 1) (α_i > 1), never below 0.
 * For a Gaussian (ε_i = α_i·ρ) on a fine grid this approaches the CKS value
 * from above. NaN for bad arguments. */
LETHE_API double lethe_rdp_epsilon(size_t k, const double *alpha, const double *eps_rdp,
                                   double delta);

/* ─── Deletion capacity (proofs/deletion-capacity.md) ───────────────────── */

typedef struct lethe_capacity_query {
    size_t n, d;            /* records and features                               */
    double epsilon, delta;  /* of the unlearning guarantee                        */
    double lambda;          /* mean-form λ (the same λ as the sum form)          */
    double L, M;            /* Lipschitz constants of f and of its Hessian in w   */
    double alpha;           /* target excess population risk (e.g. 0.01)          */
    int classical;          /* 1: classical calibration (ε ≤ 1); 0: analytic      */
    int sekhari;            /* 1: Sekhari et al.'s γ(m); 0: the Δ(m) lethe's M2 uses
                               (≈ γ(m)/4 plus allowances for the solver's tol)     */
    double tol;             /* with sekhari = 0: the M2 solver tolerance (0: exact) */
} lethe_capacity_query;

typedef struct lethe_capacity {
    int feasible;           /* 0 if even m = 0 misses α (2L²/(λn) > α)          */
    size_t newton;          /* largest m for Newton-step unlearning (Theorem R)   */
    size_t dp;              /* largest m for a plain DP learner (Theorem B)       */
    double noise_per_unit;  /* σ per unit of sensitivity used                     */
    double generalisation;  /* the 2L²/(λn) term                                  */
} lethe_capacity;

/* The deletion capacity: the largest number m of removals for which the
 * excess-risk bound of Newton-step unlearning (M2) stays within α, and the
 * same for the plain-DP baseline, with every constant explicit. Returns
 * LETHE_OK or LETHE_EINVAL (bad arguments, or ε > 1 with classical). */
LETHE_API lethe_status lethe_deletion_capacity(const lethe_capacity_query *q,
                                               lethe_capacity *out);
/* L = 2R and M = γ_z·R³ for the logistic loss on ‖x‖ ≤ R (domain ‖w‖ ≤ R/λ).
 * Returns LETHE_OK or LETHE_EINVAL (other losses: no finite L, or M = 0). */
LETHE_API lethe_status lethe_loss_capacity_constants(lethe_loss loss, double R, double lambda,
                                                     double *L, double *M);

/* ─── Prediction ─────────────────────────────────────────────────────────── */

LETHE_API size_t lethe_model_dim(const lethe_model *model);
LETHE_API lethe_loss lethe_model_loss(const lethe_model *model);
/* The current weights (d values), borrowed until the next call that changes
 * the model. */
LETHE_API const double *lethe_model_weights(const lethe_model *model);
/* Current record count, and whether id is a live record of the model. */
LETHE_API size_t lethe_model_rows(const lethe_model *model);
LETHE_API int lethe_model_has_id(const lethe_model *model, uint64_t id);

/* Predict for n rows x (n×d, leading dimension ldx ≥ d).
 * Logistic: label[i] ∈ {−1, +1}, prob[i] = P(y = +1 | x). Squared: label[i]
 * is the predicted value and prob (if not NULL) is set to NaN.
 * label or prob may be NULL. Cost O(nd). Returns LETHE_OK, LETHE_EINVAL,
 * LETHE_ESIZE, LETHE_ENONFINITE. */
LETHE_API lethe_status lethe_model_predict(lethe_model *model, size_t n, const double *x,
                                           size_t ldx, double *label, double *prob);

/* Evaluate on a labelled dataset of the model's dimension: accuracy in [0, 1]
 * (logistic; labels must be ±1) or RMSE (squared). Returns LETHE_OK,
 * LETHE_EINVAL, LETHE_ESIZE, LETHE_ELABEL. */
LETHE_API lethe_status lethe_model_evaluate(lethe_model *model, const lethe_dataset *data,
                                            double *score);

/* ─── Files ──────────────────────────────────────────────────────────────── */

/* Write the owner's full state (weights, b, factor, retained data, accountant)
 * to path, atomically (temporary file, fsync, rename). The file is SECRET: it
 * holds b and the training data. Format: magic "LETHEST1", version, sizes,
 * payload, BLAKE2b-256 checksum; created with mode 0600. Returns LETHE_OK,
 * LETHE_EIO, LETHE_EINVAL, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_model_save(lethe_model *model, const char *path);
/* Load a state file written by lethe_model_save(). Every field is validated:
 * the checksum, the sizes, the parameters (as training checks them), finite
 * values, the norm bounds against the data, and the exact residual, which is
 * recomputed (one O(nd) pass) and must match and fit the budget. Corrupt,
 * truncated, edited or foreign files give LETHE_EFORMAT.
 * Returns LETHE_OK, LETHE_EIO, LETHE_EFORMAT, LETHE_ENOMEM, LETHE_EINVAL. */
LETHE_API lethe_status lethe_model_load(lethe_ctx *ctx, const char *path, lethe_model **out);
/* Write the publishable model only (loss, d, λ, (ε, δ), σ, the sampler, whether
 * the noise was seeded, and the weights; no b, no data, no factor, and no
 * counters, which depend on b through refusals and are not covered by the
 * certificate), as text, atomically. Returns LETHE_OK, LETHE_EIO, LETHE_EINVAL,
 * LETHE_ENOMEM. */
LETHE_API lethe_status lethe_model_save_public(lethe_model *model, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* LETHE_H */
