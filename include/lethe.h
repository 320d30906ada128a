/*
 * lethe — certified machine unlearning for L2-regularised linear models.
 *
 * Copyright (C) 2026 the lethe authors. SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ─── Overview ────────────────────────────────────────────────────────────────
 *
 * A model is trained on a dataset to optimality of the noise-free objective
 *
 *     F_D(w) = Σᵢ ℓ(wᵀxᵢ, yᵢ) + (λ|D|/2)‖w‖²
 *
 * and kept secret (mechanism M3, the default). Records are later removed by
 * id: Newton steps on the remaining data D' move θ until the exact gradient
 * residual, plus its rounding bound, over λ|D'| certifies ‖θ − w*(D')‖ ≤
 * Δ_max, a public distance. What the world sees are releases, (round(θ/g) +
 * m)·g with fresh integer lattice noise m of σ calibrated for Δ_max + g√d:
 * each release is (ε, δ)-indistinguishable, both ways, from the same release
 * of the model retrained from scratch on D' (proofs/m3-release.md,
 * LTH-C-0012), and the releases of one model compose as Gaussian DP, which
 * the accountant tracks (LTH-C-0013). Nothing but the release depends on the
 * noise.
 *
 * Two other mechanisms are there for comparison. "guo" (LETHE_MECH_M1, Guo
 * et al., ICML 2020) trains on F_D(w) + bᵀw with a secret b and publishes w;
 * its certificate is Guo et al.'s Theorem 3 as they state it, which
 * proofs/certificate.md shows needs more than lethe checks (gaps G1, G2, G4):
 * read "certified" for guo as "meets the condition of Guo et al.'s theorem".
 * M2 (lethe_m2_*, Sekhari et al., NeurIPS 2021) removes without keeping the
 * data.
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
 *   - Secrets (guo's noise vector b, the seed, M3's pending noise) live in
 *     libsodium guarded memory and are wiped when freed; M3's θ and every
 *     model's records are the owner's too, and never leave the state file. lethe_model_save_public() writes
 *     nothing secret; lethe_model_save() writes the owner's full state.
 *   - Removals can be recorded as signed deletion certificates in a ledger
 *     directory (lethe_keygen, lethe_cert_write) that anyone holding the
 *     owner's public key can check later (lethe_cert_verify).
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
    LETHE_EVERIFY,     /* a certificate or ledger failed a check (see lethe_cert_verify) */
    LETHE_EUNSUPPORTED, /* the model or mechanism cannot do this (the message says why) */
    LETHE_STATUS_COUNT
} lethe_status;

/* A static, NUL-terminated English message; "unknown status" for values
 * outside the enum. Never NULL. Thread-safe. */
LETHE_API const char *lethe_strerror(lethe_status status);

/* sizeof the public struct named name ("lethe_train_options", "lethe_budget",
 * "lethe_removal_report", "lethe_release_report", "lethe_feature_map",
 * "lethe_verify_report", "lethe_workspace_info", "lethe_difficulty"), or 0
 * for another name: for bindings (the Python package) to check, when they
 * load the library, that their copies of the structs have its layout. */
LETHE_API size_t lethe_struct_size(const char *name);

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

/* At-rest encryption. With a key set on the context, every secret file it
 * writes (the owner's state files of both mechanisms, the workspace's) is
 * encrypted with crypto_secretbox (XSalsa20-Poly1305) in 64 KiB chunks whose
 * nonces carry their index, the last one marked, so that a truncated,
 * reordered or edited file fails to decrypt; encrypted files can then be
 * read. Public model files are never encrypted.
 *
 * lethe_key_create writes a new random 32-byte key to path (mode 0600, a
 * versioned checksummed file); it refuses to replace an existing file.
 * lethe_ctx_set_key_file reads one into guarded memory (path NULL: forget
 * the key). Both return LETHE_OK, LETHE_EINVAL, LETHE_EIO, LETHE_EFORMAT,
 * LETHE_ENOMEM; a failed call leaves the context's key as it was. Keep the
 * key file away from the files it protects. */
LETHE_API lethe_status lethe_key_create(lethe_ctx *ctx, const char *path);
LETHE_API lethe_status lethe_ctx_set_key_file(lethe_ctx *ctx, const char *path);

/* Progress of long work. fn (NULL: none) is called on the calling thread
 * from inside long operations — every Newton iteration of training, refresh
 * and exact removal (stage "newton", done = iterations so far, total = 0:
 * unknown), and the phases of training (stage names such as "spectral
 * bound", done/total = phases) — with the ud given here. It must not call
 * back into lethe on this context. Cheap when not set. */
typedef void (*lethe_progress_fn)(void *ud, const char *stage, double done, double total);
LETHE_API void lethe_ctx_set_progress(lethe_ctx *ctx, lethe_progress_fn fn, void *ud);

/* Testing only: end the process with _exit(86) right after the k-th durable
 * file-system step (create, fsync, rename, directory fsync, remove) made
 * through this context, as a crash would. k = 0 turns it off. */
LETHE_API void lethe_ctx_set_crash_after(lethe_ctx *ctx, unsigned long k);

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

/* Read NumPy .npy files (format 1.0, 2.0 or 3.0, raw or gzip-compressed):
 * the records, a 2-dimensional C-order array (n, d) of little-endian
 * float64, float32 or uint8, and their labels, a 1-dimensional array (n,)
 * of those or int32/int64. Ids are the record numbers (0-based); the class
 * filter, scale (default 1) and norm policy apply as for the other readers.
 * Cost O(n·d). Returns LETHE_OK, LETHE_EIO, LETHE_EFORMAT (a header that is
 * not one of these, Fortran order, sizes that disagree, truncation or extra
 * bytes; the message names the file and why), LETHE_EEMPTY, LETHE_ENONFINITE,
 * LETHE_EINVAL, LETHE_ENOMEM, and the errors of lethe_dataset_create(). */
LETHE_API lethe_status lethe_dataset_read_npy(lethe_ctx *ctx, const char *records_path,
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
    LETHE_LOSS_LOGISTIC = 0,  /* log(1 + e^{−y·z}), y ∈ {−1, +1}                   */
    LETHE_LOSS_SQUARED,       /* ½(z − y)², the ridge loss                         */
    LETHE_LOSS_SMOOTH_HINGE,  /* a smooth SVM, y ∈ {−1, +1}, m = y·z: ½ − m for
                                 m ≤ 0, ½(1 − m)² for 0 < m < 1, 0 for m ≥ 1       */
    LETHE_LOSS_HUBER          /* robust regression, r = z − y: ½r² for |r| ≤ 1,
                                 |r| − ½ beyond (scale y to place the threshold)   */
} lethe_loss;
#define LETHE_LOSS_COUNT 4

/* "logistic", "squared", "smooth-hinge", "huber"; NULL for an unknown loss. */
LETHE_API const char *lethe_loss_name(lethe_loss loss);
/* The loss named name (as lethe_loss_name gives it): LETHE_OK, or
 * LETHE_EINVAL for an unknown name (out unchanged). */
LETHE_API lethe_status lethe_loss_from_name(const char *name, lethe_loss *out);
/* 1 for the classification losses (labels ±1: logistic, smooth hinge),
 * 0 for the regression ones (squared, Huber) and unknown losses. */
LETHE_API int lethe_loss_is_classifier(lethe_loss loss);

/* Constants the bounds use, for rows with ‖x‖ ≤ R (proofs/loss-constants.md,
 * LTH-C-0004). */
typedef struct lethe_loss_constants {
    double d2_max;     /* sup ℓ'' (the Lipschitz constant of ℓ' in z)         */
    double d2_lip;     /* γ: Lipschitz constant of ℓ'' in z (0 for squared;
                          +Inf for smooth hinge and Huber, whose ℓ'' jumps)    */
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

/* ─── Frozen feature maps (src/features) ───────────────────────────────── */

/* A map φ applied to every record before the model sees it: at training,
 * removal (the stored records are φ(x)), prediction and evaluation. It never
 * depends on the training records (a public seed, or a map the user
 * declares), so the certificate covers the convex head on φ, given φ
 * (proofs/feature-maps.md). After the random maps each φ(x) is scaled to
 * norm 1 (0 stays 0); an intercept then appends the constant feature `bias`,
 * so ‖φ(x)‖ ≤ √(1 + bias²). Without a map the intercept is appended to the
 * rows as given, and R becomes √(R² + bias²). The intercept is regularised
 * like every weight: as an intercept b = bias·w₀ it carries λ/bias². */
typedef enum lethe_feature_kind {
    LETHE_FEATURES_NONE = 0, /* the records' own features                           */
    LETHE_FEATURES_RFF,      /* random Fourier features of exp(−γ‖x − x'‖²):
                                √(2/D)·cos(Ωx + β), Ω ~ N(0, 2γ), β ~ U[0, 2π)       */
    LETHE_FEATURES_RELU,     /* random ReLU features max(0, Ωx)/√D, Ω ~ N(0, 1)     */
    LETHE_FEATURES_DECLARED  /* the records ARE φ(x), computed outside lethe (e.g. a
                                network trained on public data); identity names it  */
} lethe_feature_kind;

/* A transform of each record on its own, applied before the map: public, as
 * the map is, and recorded in its description. LETHE_INPUT_SQRT takes the
 * signed square root of every input, sign(x_j)·√|x_j|, and scales the row
 * to norm 1 (0 stays 0): z = s(x)/√‖x‖₁, the Hellinger map of histograms
 * and pixel intensities (image data gains about a point of accuracy under
 * an RBF kernel; bench/README.md). With no random map the transformed rows
 * are the features, of norm ≤ 1. */
typedef enum lethe_feature_input {
    LETHE_INPUT_RAW = 0, /* the records as given                                    */
    LETHE_INPUT_SQRT     /* sign(x)·√|x| per input, then the row scaled to norm 1    */
} lethe_feature_input;

typedef struct lethe_feature_map {
    lethe_feature_kind kind;     /* default LETHE_FEATURES_NONE                        */
    size_t dim;                  /* RFF, ReLU: D ≥ 1 output features                    */
    double gamma;                /* RFF: γ > 0 (default 1, for rows of norm about 1)    */
    unsigned char seed[32];      /* RFF, ReLU: the PUBLIC seed of Ω and β (it goes into
                                    every certificate); all zero: drawn at training from
                                    the CSPRNG and recorded                            */
    unsigned char identity[32];  /* DECLARED: BLAKE2b-256 of the map's definition (e.g.
                                    lethe_hash_file of the network's weights)          */
    double bias;                 /* > 0: append a constant feature of this value (an
                                    intercept); 0: none. Default 0                      */
    lethe_feature_input input;   /* a per-record transform before the map; default
                                    LETHE_INPUT_RAW (none)                              */
} lethe_feature_map;

/* The longest canonical description of a map, with its terminating NUL. */
#define LETHE_FEATURES_TEXT_MAX 256

/* The canonical description of map on d_in input features, e.g.
 * "rff in=784 dim=2000 gamma=1 seed=<64 hex> norm=1 bias=1", "none in=5",
 * "declared in=512 identity=<64 hex>", "rff in=784 input=sqrt dim=2000 …"
 * (an input transform follows in=; numbers spelt as in the C locale,
 * whatever the caller's); and hash = its BLAKE2b-256 (as 64
 * lowercase hex digits and a NUL), which certificates carry.
 * Returns LETHE_OK, or LETHE_EINVAL (NULL pointer; a parameter out of range:
 * D = 0 or above 2²⁰, γ not finite and > 0, bias not finite and ≥ 0, d_in = 0,
 * an unknown input transform). */
LETHE_API lethe_status lethe_features_describe(const lethe_feature_map *map, size_t d_in,
                                               char text[LETHE_FEATURES_TEXT_MAX],
                                               char hash[65]);

/* ─── Certified model (mechanisms M3, the default, and M1 "guo") ────────── */

/* The mechanisms. M3 (proofs/m3-release.md) keeps a secret noise-free
 * state and publishes fresh lattice-noised releases of it; its guarantee is
 * proven. M1 ("guo", Guo et al. 2020) perturbs the loss; its certificate is
 * Guo et al.'s idealised statement, not proven (gaps G1, G2, G4), and two
 * consecutive M1 models give back the removed record: kept for comparison.
 * M2 (Sekhari et al. 2021, data-free) has its own handle, lethe_m2. */
typedef enum lethe_mechanism {
    LETHE_MECH_M1 = 1, /* "guo": loss perturbation, for comparison only        */
    LETHE_MECH_M2 = 2, /* data-free output perturbation (lethe_m2_*)            */
    LETHE_MECH_M3 = 3  /* noise-free secret state, fresh release per publication */
} lethe_mechanism;

typedef struct lethe_model lethe_model;

typedef struct lethe_train_options {
    lethe_mechanism mechanism; /* LETHE_MECH_M3 (default) or LETHE_MECH_M1; M2 has
                              lethe_m2_train()                                      */
    lethe_loss loss;       /* default LETHE_LOSS_LOGISTIC                               */
    double lambda;         /* λ > 0, regulariser weight per record; default 1e-4 (M3's
                              measured best on Fashion-MNIST; M1 wants about 1e-3)      */
    double epsilon;        /* ε > 0 of each release (M3: any ε, analytic Gaussian);
                              M1: ε ∈ (0, 1] (c(δ) is proven for ε ≤ 1 only); default 1 */
    double delta;          /* δ ∈ (0, 1); default 1e-5                                  */
    double sigma;          /* M1: σ of b; > 0 to give it, 0 to derive σ = c(δ)·budget/ε.
                              M3: must be 0 (σ follows from Δ_max, ε and δ)           */
    double budget;         /* M1: ε', the residual budget, used when sigma == 0;
                              default 2. Ignored by M3                                  */
    double tol;            /* stop when ‖∇L_b‖ ≤ tol·max(1, λn, ‖b‖); default 1e-10     */
    unsigned max_iter;     /* Newton iterations at most; default 100                    */
    const unsigned char *seed; /* NULL: libsodium CSPRNG (production). Otherwise
                              32 bytes: a seeded ChaCha20 stream, for tests and
                              reproducible runs; the model then says so.            */
    /* M3 only (ignored by M1): */
    double delta_max;      /* Δ_max > 0: the public bound on ‖θ − w*(D')‖ that every
                              removal must certify, in weight units (L2); default 0.03 */
    int dp_releases;       /* 1: the weights of every release are also (ε, δ)-DP
                              against adding or removing one record, and the published
                              history against replacing one (proofs/m3-accounting.md;
                              σ calibrated for 2Δ_max + 2R·sup|ℓ'|
                              /(λ·dp_min_records) + g√d; needs a bounded ℓ' and a norm
                              bound R fixed in advance); default 0                    */
    size_t dp_min_records; /* with dp_releases: releases need at least this many
                              records, ≥ 2; 0 = ⌈n/2⌉ of the training data              */
    double epsilon_cap;    /* > 0: refuse a release that would take the published
                              history's ε (at δ, composed as GDP) above this; 0 = no
                              cap (the accountant still reports it); default 0        */
    unsigned newton_extra; /* further Newton steps on the same factor before a
                              re-anchor (a fresh Hessian); default 3                  */
    lethe_feature_map features; /* M3 and M1: the frozen map and intercept; default
                              none (M2 has no map)                                    */
    int multiclass;        /* M3, logistic or smooth hinge: 1 = one-vs-rest, certified
                              and released as ONE model of K·d weights
                              (proofs/multiclass.md); 0 (default): labels −1/+1, or a
                              regression                                              */
    const double *classes; /* with multiclass: the K class labels (3 to 1024, distinct,
                              finite; every record's label one of them), fixed in
                              advance: the list is public (certificates carry K), so
                              fix it before the data when the classes themselves are
                              private. NULL: the data's distinct labels            */
    size_t n_classes;      /* their number (0 with classes NULL)                     */
} lethe_train_options;

/* Fill the defaults above. */
LETHE_API void lethe_train_options_init(lethe_train_options *opt);

/* Train a certified model on data. M3: minimise the noise-free objective
 * F_D(w) = Σ ℓ(wᵀxᵢ, yᵢ) + (λn/2)‖w‖² to θ, certify ‖θ − w*(D)‖ ≤ Δ_max from
 * the exact residual (plus its rounding bound) over μ = λn, calibrate σ for
 * the release sensitivity, and publish the first release (fresh lattice
 * noise, counted by the accountant). M1: draw b, minimise L_b. Both use
 * Newton's method with a Cholesky factorisation (LAPACK dpotrf) and a
 * backtracking line search, factor the Hessian at the optimum, and bound
 * ‖X‖₂ from above. The model keeps a private copy of the data; the caller
 * may free data afterwards.
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

/* What a removal did. Every field is the OWNER's: residuals, steps and
 * re-anchors depend on the data, and none of them goes into a certificate. */
typedef struct lethe_removal_report {
    size_t removed;          /* records removed by this call (0 on refusal or dry run)   */
    lethe_removal_path path; /* the path of the first step (FAST may fall back to EXACT)  */
    double residual;         /* ‖∇L_b(w⁻; D')‖ (M3: b = 0), exact, in one O(nd) pass      */
    double residual_fp;      /* bound on the rounding error of residual (LTH-C-0002)       */
    double residual_bound;   /* M1: Guo's data-dependent bound on the residual; M3:
                                residual + residual_fp (Guo's bound is not computed)     */
    double budget;           /* M1: ε' = σε/c(δ). M3: λ|D'|·Δ_max, rounded down, the
                                residual that Δ_max allows                                */
    int certified;           /* residual + residual_fp ≤ budget                           */
    /* M3 (0 for M1): */
    double distance;         /* (residual + residual_fp)/(λ|D'|), rounded up: a bound on
                                ‖θ' − w*(D')‖, ≤ delta_max when certified                 */
    unsigned steps;          /* Newton steps taken (1 when the first one was accepted;
                                one-vs-rest: the most any head took)                      */
    unsigned reanchors;      /* fresh Hessians computed after the first step failed (one-
                                vs-rest: over all heads)                                  */
} lethe_removal_report;

/* Remove the records named by ids[0..k-1] (a batch, one Newton step).
 * On success w becomes w⁻, the rows' features and labels are zeroed in the
 * model's copy of the data, and the accountant records the removal. Their
 * ids are kept (so that a second removal says LETHE_EREMOVED) until the next
 * refresh, which drops them; after it such an id gives LETHE_ENOTFOUND.
 * M1: if the residual would exceed the budget the call returns LETHE_EBUDGET
 * and changes nothing. M3 never refuses on the residual: when the first
 * step's (residual + residual_fp)/(λ|D'|) exceeds Δ_max it takes up to
 * newton_extra further steps on the same factor, then re-anchors (a fresh
 * Hessian at the iterate, refactored) and steps again, up to max_iter times
 * (Newton's method to the exact retrain in the limit); LETHE_ENOCONV (nothing
 * changed) only if even that does not certify Δ_max. All of it is a
 * deterministic function of the data and the ids. M3's removal does not
 * publish: the public weights stay the last release until
 * lethe_model_publish(). rep (if not NULL) is filled in all cases where the
 * step could be computed. Cost: FAST O(k·d² + nd) per step; a re-anchor
 * O(nd² + d³); EXACT O(nd² + d³).
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

/* How hard a record is to forget, before forgetting it (proofs/difficulty.md).
 * influence is a ranking, cheap for every record: the length of the Newton
 * step its removal alone would take from θ with the model's current factor
 * Ĥ (the fast path's factor before its O(1/n) down-date); the rest is a dry
 * run of that removal (lethe_model_check_removal, fast path): exactly what
 * lethe_model_remove would do and certify, at the cost of a removal. */
typedef struct lethe_difficulty {
    uint64_t id;
    double influence;   /* ‖Ĥ⁻¹∇F_{D∖{i}}(θ)‖ (weights, L2; one-vs-rest: over all heads)  */
    int dry_run;        /* 1: the fields below come from a dry run; 0: not computed     */
    double distance;    /* M3: the certified ‖θ' − w*(D∖{i})‖ the removal would leave    */
    double share;       /* (residual + rounding)/budget after it: M3 its distance / Δ_max
                           (≥ 1 on its first step means more steps); guo the share of ε'
                           the model would then have used (> 1: refused)               */
    unsigned steps;     /* Newton steps the removal would take (1: the first suffices)   */
    unsigned reanchors; /* fresh Hessians it would need                                  */
    double seconds;     /* wall time of the dry run: what the removal would cost         */
} lethe_difficulty;

/* The difficulty of each of ids[0..k-1], live records of model, into
 * out[0..k-1]; with dry_run also a dry run of each one's removal alone.
 * Cost: O(d²) per record (one-vs-rest: per head), plus a removal's with
 * dry_run. Changes nothing. Returns LETHE_OK, LETHE_EINVAL (NULL, k = 0),
 * LETHE_ENOTFOUND, LETHE_EREMOVED, LETHE_ENOMEM and the errors of
 * lethe_model_check_removal. */
LETHE_API lethe_status lethe_record_difficulty(lethe_model *model, const uint64_t *ids,
                                               size_t k, int dry_run, lethe_difficulty *out);

/* The top live records by influence, hardest first (ties: the smaller id),
 * into out[0..*count-1], *count = min(top, records); with dry_run a dry run
 * of each one's removal alone. Cost: O(n·d²) for the influences (two
 * triangular solves per record and head, blocked), reported as progress,
 * plus top removals' with dry_run. Changes nothing. Returns LETHE_OK,
 * LETHE_EINVAL (NULL, top = 0), LETHE_ENOMEM and the errors of
 * lethe_model_check_removal. */
LETHE_API lethe_status lethe_model_hardest(lethe_model *model, size_t top, int dry_run,
                                           lethe_difficulty *out, size_t *count);

/* Refresh: retrain on the remaining records, warm-started from the current w,
 * and reset the residual and the removal count. M1 draws a FRESH b from the
 * model's noise source (re-using the same b is not done: proofs/refresh.md
 * explains why it is not yet established). M3 draws nothing: it solves F_D'
 * to the tolerance and refactors (a re-anchor to the exact minimiser), and
 * does not publish. Cost: as training.
 * Returns the statuses of lethe_model_train(). Changes nothing on failure. */
LETHE_API lethe_status lethe_model_refresh(lethe_model *model);

/* ─── Publication (M3) ──────────────────────────────────────────────────── */

typedef struct lethe_release_report {
    size_t release;         /* this release's number: 1 is the one made at training    */
    double sigma;           /* σ of the lattice noise, per weight                       */
    double sensitivity;     /* Δ it is calibrated for: Δ_max + g√d (with dp_releases:
                               2Δ_max + 2R·sup|ℓ'|/(λ·dp_min_records) + g√d)           */
    double mu;              /* μ = sensitivity/σ of this release (μ-GDP)                */
    double mu_total;        /* √(Σ μᵢ²) over every release so far, this one included   */
    double epsilon_total;   /* ε at the model's δ of the whole published history       */
} lethe_release_report;

/* M3: publish a fresh release of the secret state θ: the public weights
 * become Q_g(θ) + m·g, m a fresh vector of the integer lattice sampler (drawn
 * before θ is read, never reused), i.e. (round(θ/g) + m)·g summed exactly.
 * Each release is (ε, δ)-close, both ways, to the same release of the exact
 * minimiser w*(D) of the current records (LTH-C-0012); the releases of one
 * model compose as √(Σ μᵢ²)-GDP, which the accountant keeps (LTH-C-0013).
 * A release is refused with LETHE_EBUDGET when no ε reaches δ for the
 * history it would complete (the sampler's (1 + e^ε)·k·d·τ outgrows δ: about
 * 50 releases at d = 784 and (1, 1e-5) each — batch removals into fewer
 * releases), or, with epsilon_cap > 0, when it would take the history's ε
 * at δ above the cap; with dp_releases, one with fewer than dp_min_records
 * records is refused with LETHE_ECAPACITY. A refused call draws nothing and
 * changes nothing. rep may be NULL.
 * Cost O(d) for the noise (about 60 µs at d = 784) plus the accountant's
 * search for ε (about 2.5 ms). Returns LETHE_OK, LETHE_EINVAL (NULL model, or an M1 model:
 * its weights are published as they are), LETHE_EBUDGET, LETHE_ECAPACITY,
 * LETHE_ENOMEM. */
LETHE_API lethe_status lethe_model_publish(lethe_model *model, lethe_release_report *rep);

/* The mechanism of a model (LETHE_MECH_M3 or LETHE_MECH_M1; 0 for NULL). */
LETHE_API lethe_mechanism lethe_model_mechanism(const lethe_model *model);

/* M3: the ids removed since the last release (they belong in the next
 * release's certificate), *k of them; borrowed until the next call that
 * changes the model. NULL with *k = 0 when there are none (and for M1). */
LETHE_API const uint64_t *lethe_model_unpublished(const lethe_model *model, size_t *k);

/* ─── Accountant ─────────────────────────────────────────────────────────── */

typedef struct lethe_budget {
    double epsilon, delta;    /* the certificate's (ε, δ)                               */
    double sigma;             /* σ of b                                                 */
    double c;                 /* c(δ − δ_s) = √(2 ln(1.5/(δ − δ_s))), δ_s = delta_sampler */
    double budget;            /* ε' = σε/c − lattice_rounding                            */
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
    double lattice;           /* g, the noise lattice's step (a power of two)           */
    double lattice_rounding;  /* 65·g√d, charged to the residual budget (b is stored as
                                 doubles, within 64·g of the lattice; LTH-C-0010 §7)     */
    double delta_sampler;     /* (1 + e)·d·τ, the part of δ spent on the sampler's TV   */
    const char *sampler;      /* the noise sampler's name (static storage)              */
    /* M3 (M1 leaves these 0; for M3 the M1 fields above that concern b are 0,
     * budget is λ|D|·Δ_max and remaining is budget − charged residual): */
    lethe_mechanism mechanism; /* which mechanism this report is about                 */
    double delta_max;         /* Δ_max, the certified distance to w*(D)                 */
    double distance;          /* (residual + residual_fp)/(λ|D|) rounded up: the current
                                 bound on ‖θ − w*(D)‖ (owner's)                          */
    double sensitivity;       /* Δ the release noise is calibrated for                  */
    double mu;                /* μ = sensitivity/σ of one release                        */
    size_t releases;          /* releases published so far (the first at training)      */
    double mu_total;          /* √releases·μ: the published history is μ_total-GDP      */
    double epsilon_total;     /* ε at δ of the published history (sampler charge
                                 (1 + e^ε)·releases·d·τ included); NaN if none reaches δ */
    double epsilon_cap;       /* the owner's cap on epsilon_total, or 0: none           */
    double lambda, R;         /* λ and the norm bound R (both mechanisms)                */
    lethe_loss loss;
    size_t releases_left;     /* further releases under the cap (SIZE_MAX: no cap)      */
    int fresh;                /* 1: the public weights are a release of the current θ;
                                 0: records were removed since the last release         */
    int dp_releases;          /* 1: each release is also (ε, δ)-DP (add/remove one)     */
    size_t dp_min_records;    /* with dp_releases: the fewest records a release may have */
    double dp_sensitivity;    /* 2R·sup|ℓ'|/(λ·dp_min_records), the ERM's sensitivity   */
    size_t capacity_guaranteed; /* further single removals, of ANY records, certain to
                                 be certified by the first Newton step with no re-anchor
                                 (LTH-C-0014); often 0 at small λ                        */
    size_t reanchors;         /* fresh Hessians since training (owner's)                */
    size_t newton_steps;      /* Newton steps beyond one per removal (owner's)          */
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

/* M3: ε at δ (δ at ε) of the whole published history: the releases so far
 * are √k·μ-GDP against the same releases of the exact retrains, plus the
 * sampler's (1 + e^ε)·k·d·τ (LTH-C-0013); exact, rounded up. NaN when no ε
 * reaches δ. M1: the model as it stands now, by Guo et al.'s theorem with the current
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
    double lambda;         /* λ > 0 (the same λ as lethe_train_options); default 1   */
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
    double sensitivity; /* Δ the noise is calibrated for: the Newton step's (≈ γ(m)/4,
                           m2-removal.md) + newton_fp + lattice_rounding              */
    double newton_fp;   /* bound on the Newton step's floating-point error (charged)   */
    double lattice;     /* g, the noise lattice's step                                 */
    double lattice_rounding; /* g√d (charged)                                          */
    double delta_sampler;    /* (1 + e^ε)·d·τ of δ spent on the sampler's TV           */
    const char *sampler;     /* the noise sampler's name (static storage)              */
    double sigma;    /* σ of the published noise                             */
    double epsilon, delta; /* guarantee of the published weights vs retraining */
    int seeded;      /* 1 if the noise came from the seeded test stream        */
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

/* Which mechanism's state a file holds (from its magic; nothing else is
 * read). Returns LETHE_OK, LETHE_EIO, LETHE_EFORMAT, LETHE_EINVAL. */
LETHE_API lethe_status lethe_state_mechanism(lethe_ctx *ctx, const char *path,
                                             lethe_mechanism *out);

/* ─── SISA: exact unlearning by sharded retraining (proofs/sisa.md) ─────── */

/* Bourtoule et al. (2021): the records are split into S shards, each shard
 * into R slices, by a keyed hash of the id under a PUBLIC seed; each shard
 * trains its own model (the convex ERM of the loss, to optimality) on its
 * slices in turn, keeping a checkpoint after each; a prediction aggregates
 * the shards (logistic: the mean probability; smooth hinge: the majority;
 * squared, Huber: the mean). A removal retrains only the shards that held
 * the records, from the checkpoint before the first slice that held one.
 * Exact unlearning: the state after a removal is, bit for bit, the state
 * lethe_sisa_train gives on the records left (same seed and options), so
 * there is nothing to certify about privacy (ε = 0); the cost is accuracy
 * (each shard sees n/S records) and retraining time. No noise, no budget. */
typedef struct lethe_sisa lethe_sisa;

typedef struct lethe_sisa_options {
    size_t shards;           /* S ≥ 1 (default 5)                                 */
    size_t slices;           /* R ≥ 1 (default 4)                                 */
    lethe_loss loss;         /* default LETHE_LOSS_LOGISTIC                       */
    double lambda;           /* λ > 0, per record of the shard (default 1e-4)     */
    double tol;              /* Newton stops at |∇F_s| ≤ tol·max(1, λn_s) (1e-10) */
    unsigned max_iter;       /* per slice (default 100)                           */
    unsigned char seed[32];  /* PUBLIC: the shard and slice of every id          */
} lethe_sisa_options;

/* What one removal did (the owner's figures). */
typedef struct lethe_sisa_report {
    size_t removed;          /* records removed                                   */
    size_t shards_retrained; /* shards that held one of them                      */
    size_t slices_retrained; /* slice trainings redone, over those shards         */
    unsigned newton_steps;   /* over all of them                                  */
    double distance;         /* max over the retrained shards of ‖∇F_s‖/(λn_s): each
                                shard's weights are this close to its exact
                                optimum (strong convexity), as computed          */
} lethe_sisa_report;

LETHE_API void lethe_sisa_options_init(lethe_sisa_options *opt);
/* Train on data (labels as the loss needs: ±1 for the classifiers). Every
 * shard must receive at least one record. Returns LETHE_OK, LETHE_EINVAL
 * (bad option; S or R of 0), LETHE_ELABEL, LETHE_EEMPTY (a shard without
 * records: fewer shards), LETHE_ENOCONV, LETHE_ENOTPD, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_sisa_train(lethe_ctx *ctx, const lethe_dataset *data,
                                        const lethe_sisa_options *opt, lethe_sisa **out);
/* Remove ids[0..k-1] (one batch): the shards holding them are retrained
 * from their checkpoints; all or nothing. Returns LETHE_OK, LETHE_EINVAL,
 * LETHE_ENOTFOUND, LETHE_EDUPLICATE, LETHE_ELAST (a shard would be left
 * empty), LETHE_ENOCONV, LETHE_ENOTPD, LETHE_ENOMEM; on failure nothing
 * changed. A removed id is gone: removing it again is LETHE_ENOTFOUND. */
LETHE_API lethe_status lethe_sisa_remove(lethe_sisa *sisa, const uint64_t *ids, size_t k,
                                         lethe_sisa_report *rep);
/* Aggregated predictions for n rows of d features: label[i] (±1, or the
 * value for a regression) and prob[i] (logistic: the mean probability of
 * +1; otherwise the mean score); either may be NULL. */
LETHE_API lethe_status lethe_sisa_predict(const lethe_sisa *sisa, size_t n, const double *x,
                                          size_t ldx, double *label, double *prob);
/* Accuracy (classifiers) or RMSE (regression) of the aggregate on data. */
LETHE_API lethe_status lethe_sisa_evaluate(const lethe_sisa *sisa, const lethe_dataset *data,
                                           double *score);
/* Records held; 1 if id is one of them. */
LETHE_API size_t lethe_sisa_rows(const lethe_sisa *sisa);
LETHE_API int lethe_sisa_has_id(const lethe_sisa *sisa, uint64_t id);
/* Shard s's weights (d), or NULL for s ≥ S. */
LETHE_API const double *lethe_sisa_shard_weights(const lethe_sisa *sisa, size_t shard);
LETHE_API void lethe_sisa_free(lethe_sisa *sisa);

/* ─── Exact ridge by sufficient statistics (proofs/exact-ridge.md) ──────── */

/* Cao & Yang (2015)'s summation form for ridge regression, F(w) = ½Σ(wᵀxᵢ −
 * yᵢ)² + (λn/2)‖w‖²: the model keeps G = XᵀX and b = Xᵀy (and the records,
 * to find a removed id's row), and its weights solve (G + λnI)w = b. A
 * removal subtracts the records' terms from G and b and solves again: O(kd²
 * + d³), no pass over the data. Exact unlearning up to rounding, and the
 * rounding is bounded a priori: every solution carries a certified bound on
 * ‖w − w*(D)‖, w*(D) the exact minimiser for the records held (of order
 * 10⁻⁷ on the demo data). No noise: ε = 0, the reference being the exact
 * retrain. Labels are real values (±1 labels make a least-squares
 * classifier, which predicts their sign). */
typedef struct lethe_ridge lethe_ridge;

/* Train on data with λ > 0. Returns LETHE_OK, LETHE_EINVAL, LETHE_ENOTPD,
 * LETHE_ENOMEM. */
LETHE_API lethe_status lethe_ridge_train(lethe_ctx *ctx, const lethe_dataset *data,
                                         double lambda, lethe_ridge **out);
/* Remove ids[0..k-1] (one batch) and solve again; *distance (may be NULL)
 * the new certified bound. All or nothing: LETHE_OK, LETHE_EINVAL,
 * LETHE_ENOTFOUND (unknown or already removed), LETHE_EDUPLICATE,
 * LETHE_ELAST, LETHE_ENOTPD, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_ridge_remove(lethe_ridge *ridge, const uint64_t *ids, size_t k,
                                          double *distance);
/* The weights (d), the certified bound on their distance to the exact
 * minimiser of the records held, the records held, whether id is one. */
LETHE_API const double *lethe_ridge_weights(const lethe_ridge *ridge);
LETHE_API double lethe_ridge_distance(const lethe_ridge *ridge);
LETHE_API size_t lethe_ridge_rows(const lethe_ridge *ridge);
LETHE_API int lethe_ridge_has_id(const lethe_ridge *ridge, uint64_t id);
LETHE_API void lethe_ridge_free(lethe_ridge *ridge);

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
 * Returns LETHE_OK or LETHE_EINVAL (other losses: squared has no finite L and
 * M = 0, smooth hinge and Huber no finite M). */
LETHE_API lethe_status lethe_loss_capacity_constants(lethe_loss loss, double R, double lambda,
                                                     double *L, double *M);

/* ─── Prediction ─────────────────────────────────────────────────────────── */

/* The number of weights: the head's width (the map's output width, the
 * intercept included, when the model has a feature map). */
LETHE_API size_t lethe_model_dim(const lethe_model *model);
/* The number of features a record given to predict or evaluate must have:
 * the map's input width, or lethe_model_dim() without a map. */
LETHE_API size_t lethe_model_input_dim(const lethe_model *model);
/* The model's feature map (kind LETHE_FEATURES_NONE and bias 0 when it has
 * none), its seed as drawn at training; NULL for a NULL model. */
LETHE_API const lethe_feature_map *lethe_model_features(const lethe_model *model);
/* The model's heads: K ≥ 3 for a one-vs-rest model (*classes, if not NULL,
 * gets its K class labels in increasing order, valid while the model
 * lives), else 1 (*classes = NULL). Predictions of a one-vs-rest model are
 * class labels, and the probability that of the predicted class (the
 * heads' sigmoids normalised; NaN for the smooth hinge). */
LETHE_API size_t lethe_model_classes(const lethe_model *model, const double **classes);
LETHE_API lethe_loss lethe_model_loss(const lethe_model *model);
/* The PUBLIC weights (d values), borrowed until the next call that changes
 * the model: M1's w; M3's last release (never the secret θ). */
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

/* Write the owner's full state (weights — M3's secret θ and its last
 * release —, b, factor, retained data, accountant, M3's unpublished ids) to
 * path, atomically (temporary file, fsync, rename). The file is SECRET: it
 * holds θ or b and the training data. Format: magic "LETHEST1" (guo) or
 * "LETHEM31" (M3), version, sizes, payload, BLAKE2b-256 checksum; created
 * with mode 0600. Returns LETHE_OK,
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

/* ─── Deletion certificates and the ledger (src/io/cert.c) ──────────────── */

/* A deletion certificate is a signed JSON record of one removal: which
 * records went (as keyed hashes of their ids), under which mechanism and
 * parameters, what the accountant charged, and which public model file came
 * before and after. Certificates form a ledger: a directory of files
 * NNNNNNNN.json (seq, 8 decimal digits, from 00000001), each naming the
 * BLAKE2b-256 of the previous file's exact bytes, all signed with one
 * Ed25519 key (libsodium). Other names in the directory are ignored.
 *
 * The file format, "lethe-certificate-3", is canonical JSON: one object,
 * these members in this order and no other, two-space indentation, one
 * member a line, the ids one a line, a newline after the closing brace:
 *
 *   format            "lethe-certificate-3"
 *   seq               integer ≥ 1
 *   time              "YYYY-MM-DDTHH:MM:SSZ" (UTC, RFC 3339, whole seconds)
 *   mechanism         "M1", "M2" or "M3"
 *   statement         M1 only, exactly "guo: Guo et al.'s idealised
 *                     statement, not a proven guarantee; residual, budget and
 *                     remaining depend on the owner's secret noise b and are
 *                     the owner's figures" (one line in the file)
 *   sampler           the noise sampler's name (string, ≤ 255 bytes of UTF-8;
 *                     from "-2" on exactly the name of the sampler whose charges
 *                     the verifier applies, the model files' "sampler" line)
 *   seeded            true or false
 *   warning           only when seeded is true, exactly
 *                     "seeded test stream: reproducible noise, not private"
 *   d                 integer ≥ 1, the model's weights (classes × the head's width)
 *   classes           integer ≥ 1: the model's heads (1: binary or regression;
 *                     K ≥ 3: one head per class, released together)
 *   features          the model's frozen feature map and intercept, as
 *                     lethe_features_describe() writes it ("none in=5",
 *                     "rff in=784 dim=2000 gamma=1 seed=<64 hex> norm=1
 *                     bias=1", …; M2: "none in=d"); its width times classes
 *                     gives d, and
 *                     it is the same in every certificate of a ledger
 *   features_hash     64 lowercase hex digits: BLAKE2b-256 of features
 *   epsilon, delta, sigma   numbers
 *   k                 integer ≥ 0, the number of ids (0 only for an M1
 *                     refresh record or an M3 release with no removal since
 *                     the last one)
 *   ids               array of k strings, each 64 lowercase hex digits:
 *                     BLAKE2b-256 keyed with the owner's id-hashing key, of
 *                     the id as 8 little-endian bytes; in strictly
 *                     increasing order (so distinct, and the order in which
 *                     the ids were given is not revealed)
 *   M1 only: residual, budget, remaining_before, remaining_after   numbers
 *            (the owner's figures: they depend on the secret b, so a
 *            verifier can check only that they are consistent)
 *   M2 only: n (integer, the records trained on), lambda, R, tol (numbers:
 *            λ, the norm bound and the solver's tolerance), sensitivity
 *            (number), capacity, used_before, used_after (integers)
 *   M3 only: loss ("logistic", "squared", "smooth-hinge" or "huber"), n
 *            (integer, records after),
 *            lambda, R, delta_max (numbers), dp_releases (true or false),
 *            dp_min_records (integer, 0 unless dp_releases), sensitivity
 *            (number), releases (integer ≥ 2: the model's releases so far,
 *            this one included; the release made at training is the first),
 *            mu_total, epsilon_total (numbers)
 *   model_before, model_after   64 hex digits: BLAKE2b-256 (unkeyed) of the
 *                     public model file's bytes before and after the removal
 *   prev              64 hex digits: BLAKE2b-256 (unkeyed) of the previous
 *                     certificate file's bytes; 64 zeros for seq 1
 *   public_key        64 hex digits: the signer's Ed25519 public key
 *   signature         128 hex digits: Ed25519 (detached) signature
 *
 * The earlier formats are still read and verified, never written:
 * "lethe-certificate-2" is "-3" without classes, features and features_hash, and
 * "lethe-certificate-1" is "-2" without M1's statement and without M2's n,
 * lambda, R and tol, so its M2 sensitivity can only be checked for
 * consistency with σ, not recomputed. The statement is a
 * member of its own, right after the mechanism, rather than a grouping of
 * M1's numbers under an object: the schema stays one flat level, M1's
 * numbers keep their names, and a reader meets the label before any number.
 *
 * Integers are printed in decimal, other numbers with "%.17g" in the C
 * locale (they read back exactly), strings escaped per RFC 8259 (", \ and
 * the short forms \b \f \n \r \t; other control characters as \u00XX;
 * nothing else escaped). The signature covers the exact bytes of the file
 * with the signature member absent: everything up to the end of the
 * public_key value, followed by "\n}\n" — i.e. the canonical serialisation
 * of the same object without its last member. A verifier re-serialises what
 * it parsed and requires the file to equal it byte for byte, so there is one
 * spelling of each certificate. Files are at most 1 MiB (so k is at most
 * about 15 000 per certificate). */

/* Length of a hex BLAKE2b-256 or Ed25519 public key string, NUL included,
 * and of a hex Ed25519 signature. */
#define LETHE_HEX32_LEN 65
#define LETHE_HEX64_LEN 129
/* Length of the time string, NUL included. */
#define LETHE_CERT_TIME_LEN 21

/* Make the owner's keys: an Ed25519 key pair (crypto_sign_keypair) and a
 * 32-byte id-hashing key (random, crypto_generichash key size).
 *   secret_path  written with mode 0600, SECRET: magic "LETHESK1", u64
 *                version 1, the 64-byte libsodium Ed25519 secret key, the
 *                32-byte id-hashing key, BLAKE2b-256 of all preceding bytes;
 *   public_path  text, mode 0644, one line: "lethe-ed25519-public " followed
 *                by 64 lowercase hex digits and a newline; publish it.
 * Each file is written atomically (temporary file, fsync, link, fsync of the
 * directory) and never replaces an existing file: if either path exists the
 * call fails with LETHE_EIO and leaves both paths as they were. The secrets
 * live in guarded memory and are wiped. Cost O(1).
 * Returns LETHE_OK, LETHE_EINVAL (NULL argument, or both paths equal),
 * LETHE_EIO, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_keygen(lethe_ctx *ctx, const char *secret_path,
                                    const char *public_path);

/* BLAKE2b-256 of a file's bytes as 64 lowercase hex digits and a NUL, for
 * lethe_certificate.model_before/model_after. Streams the file: O(size)
 * time, O(1) memory. Returns LETHE_OK, LETHE_EINVAL, LETHE_EIO, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_cert_hash_file(lethe_ctx *ctx, const char *path,
                                            char hex[LETHE_HEX32_LEN]);

/* One certificate, as given to lethe_cert_write(). Units: ε and δ are the
 * certificate's (ε, δ); σ and the M1 quantities are in the units of the
 * model's weights' gradient (residual, budget ε' and remaining are gradient
 * norms ‖∇L_b‖); the M2 sensitivity Δ is an L2 distance between weight
 * vectors; counts are records. */
typedef struct lethe_certificate {
    unsigned format;            /* set by lethe_cert_write (ignored on input) to 3,
                                   "lethe-certificate-3", the only format written     */
    uint64_t seq;               /* 1, 2, …: set by lethe_cert_write (ignored on input) */
    char time[LETHE_CERT_TIME_LEN]; /* UTC "YYYY-MM-DDTHH:MM:SSZ"; "" = the current time */
    lethe_mechanism mechanism;  /* LETHE_MECH_M1, _M2 or _M3 ("M1"/"M2"/"M3" in JSON);
                                   M1 gets guo's fixed "statement" member             */
    const char *sampler;        /* the noise sampler's name (the public model file's
                                   "sampler" line); UTF-8, 1 … 255 bytes; borrowed     */
    int seeded;                 /* 1: noise from the seeded test stream (adds the
                                   "warning" member); 0: the CSPRNG                   */
    size_t d;                   /* weights of the model: classes × the head's width  */
    size_t classes;             /* format 3: heads of the model, ≥ 1 (1: binary or
                                   regression; K ≥ 3: one-vs-rest over K classes, the
                                   release one vector of K heads)                     */
    char features[LETHE_FEATURES_TEXT_MAX]; /* format 3: lethe_features_describe() of
                                   the model's map (M2: "none in=d"); its in, dim and
                                   bias must give d                                   */
    char features_hash[LETHE_HEX32_LEN]; /* its BLAKE2b-256: set by lethe_cert_write
                                   (ignored on input), checked by lethe_cert_verify   */
    double epsilon, delta;      /* the certificate's (ε, δ): ε > 0, δ ∈ (0, 1)       */
    double sigma;               /* σ of the noise (M1: of b; M2, M3: of the release), > 0 */
    size_t k;                   /* records removed, ≥ 1 (0: an M1 refresh record, or an
                                   M3 release with no removal since the last one)      */
    const uint64_t *ids;        /* the k removed ids, distinct; borrowed. Only their
                                   keyed hashes reach the file                        */
    /* M1 (ignored otherwise): Guo et al.'s idealised statement, the owner's
     * figures (they depend on the secret noise b) */
    double residual;            /* r, the CHARGED residual (exact residual plus its
                                   rounding bound), ≥ 0                               */
    double budget;              /* ε' = σε/c(δ), > 0                                  */
    double remaining_before;    /* budget left before this removal                  */
    double remaining_after;     /* budget − residual                                 */
    /* M2 and M3: the sensitivity, and the public parameters the verifier
     * needs to recompute it (and for M3 the history's ε) itself, not trust it */
    double sensitivity;         /* Δ the noise is calibrated for, > 0                */
    size_t n;                   /* M2: records trained on, ≥ 2; M3: records in the model
                                   after the removal, ≥ 1                             */
    double lambda, R;           /* λ > 0; the norm bound R > 0                       */
    /* M3 (ignored otherwise): */
    lethe_loss loss;
    double delta_max;           /* Δ_max > 0                                         */
    int dp_releases;            /* 1: releases are also (ε, δ)-DP                    */
    size_t dp_min_records;      /* with dp_releases, ≥ 1 and ≤ n; otherwise 0        */
    uint64_t releases;          /* releases of the model so far, this one included  */
    double mu_total;            /* √releases·sensitivity/σ                           */
    double epsilon_total;       /* ε at δ of the whole published history            */
    /* M2 (ignored otherwise): */
    double tol;                 /* the solver's tolerance at training, > 0 (the
                                   training residual is at most tol·max(1, λn))       */
    size_t capacity;            /* m, removals in all, 1 ≤ m ≤ n/2                   */
    size_t used_before;         /* removals before this one                          */
    size_t used_after;          /* used_before + k, ≤ capacity                       */
    char model_before[LETHE_HEX32_LEN]; /* lethe_cert_hash_file() of the public model
                                   file before and after the removal                  */
    char model_after[LETHE_HEX32_LEN];
    /* Set by lethe_cert_write (ignored on input): */
    char prev[LETHE_HEX32_LEN];       /* hash of the previous certificate file    */
    char public_key[LETHE_HEX32_LEN]; /* the signer's Ed25519 public key          */
    char signature[LETHE_HEX64_LEN];  /* over the canonical form without itself   */
} lethe_certificate;

/* Append a certificate, in format "lethe-certificate-3", to the ledger in
 * ledger_dir (created, mode 0755, if it does not exist; a ledger of "-1"
 * files goes on in "-2"). Reads the secret key file, verifies the whole
 * ledger as lethe_cert_verify() does (every file's syntax, signature,
 * numbers and chain) and that it was signed with this key, takes seq =
 * last + 1 and prev = the hash of the last file, checks that
 * c->model_before equals the last certificate's model_after and that c's
 * numbers and its place in the chain pass the same checks a verifier
 * applies (so that nothing inconsistent is ever signed), hashes the ids,
 * signs, and writes ledger_dir/NNNNNNNN.json atomically (temporary
 * file, fsync, link — never replacing a file, so a concurrent writer that
 * took the same seq makes this call fail — and fsync of the directory).
 * The path written goes to out_path (NUL-terminated) when out_path is not
 * NULL and out_len is large enough (LETHE_EINVAL, nothing written,
 * otherwise). The caller keeps ownership of every argument. Cost: O(total
 * bytes of the ledger) to verify it, plus O(k).
 * Returns LETHE_OK; LETHE_EINVAL (NULL argument, a field out of its range
 * above, a non-finite number, invalid UTF-8 in the sampler, a bad time,
 * duplicate ids, numbers that fail the consistency checks, a model_before
 * or parameters that do not continue the chain, a certificate over 1 MiB);
 * LETHE_EVERIFY
 * (the existing ledger is broken or signed with another key: nothing is
 * written, the message names the file and the check); LETHE_EFORMAT (the
 * secret key file is malformed); LETHE_EIO; LETHE_ENOMEM. */
LETHE_API lethe_status lethe_cert_write(lethe_ctx *ctx, const char *ledger_dir,
                                        const lethe_certificate *c,
                                        const char *secret_key_path, char *out_path,
                                        size_t out_len);

/* Which certificate of the ledger in ledger_dir removed the record id: the
 * id's keyed hash (with the id-hashing key of secret_key_path, as
 * lethe_cert_write puts it in the file) is looked for in every readable
 * certificate. *seq = its number, or 0 if none names it. Only the owner can
 * ask: the hashes say nothing without the key. Cost O(total ledger bytes).
 * Returns LETHE_OK, LETHE_EINVAL, LETHE_EIO, LETHE_EFORMAT, LETHE_ENOMEM. */
LETHE_API lethe_status lethe_cert_find_id(lethe_ctx *ctx, const char *ledger_dir,
                                          const char *secret_key_path, uint64_t id,
                                          uint64_t *seq);

/* The checks a verifier makes, in the order it makes them for each file. */
typedef enum lethe_cert_check {
    LETHE_CHECK_NONE = 0,  /* every check passed                                    */
    LETHE_CHECK_FILE,      /* a certificate file cannot be read, or exceeds 1 MiB     */
    LETHE_CHECK_PARSE,     /* not a canonical lethe-certificate-3 (-2, -1) object:
                              bad JSON, unknown, missing or duplicate member, bad
                              hex, bad UTF-8 or escape, a non-finite number,
                              trailing bytes                                        */
    LETHE_CHECK_SIGNER,    /* signed by another key than the trusted one, or (within
                              a ledger) than the ledger's first certificate          */
    LETHE_CHECK_SIGNATURE, /* the Ed25519 signature does not verify                  */
    LETHE_CHECK_NUMBERS,   /* the numbers are inconsistent (see lethe_cert_verify)  */
    LETHE_CHECK_CHAIN,     /* seq, prev or model_before does not continue the ledger */
    LETHE_CHECK_MODEL      /* the model file does not hash to the last model_after   */
} lethe_cert_check;

/* "none", "file", "parse", "signer", "signature", "numbers", "chain",
 * "model"; "unknown" otherwise. Never NULL. */
LETHE_API const char *lethe_cert_check_name(lethe_cert_check check);

typedef struct lethe_verify_report {
    size_t checked;           /* certificates that passed every check of their own     */
    uint64_t last_seq;        /* seq of the last of those (0: none)                    */
    lethe_cert_check failed;  /* the first check that failed, or LETHE_CHECK_NONE       */
    uint64_t failed_seq;      /* the failing file's number in a ledger (NNNNNNNN), or
                                 for a single file the seq it claims; 0 if unknown      */
    int pinned;               /* 1: a trusted public key was given and checked against */
    int model_checked;        /* 1: a model file was given and matched                 */
    int seeded;               /* 1: some certificate checked was made with the seeded
                                 test stream (reproducible noise, not private)          */
    lethe_mechanism mechanism; /* mechanism of the last certificate checked (0: none) */
    int idealised;            /* 1: some certificate checked is guo's (M1): its claim
                                 is Guo et al.'s idealised statement, not a proven
                                 guarantee, and its residual, budget and remaining
                                 are the owner's figures (they depend on the secret
                                 b); the verifier checks only their consistency      */
    char signer[LETHE_HEX32_LEN];      /* hex key that signed ("" if none was read)    */
    char model_after[LETHE_HEX32_LEN]; /* model_after of the last certificate checked  */
} lethe_verify_report;

/* Verify one certificate file or a whole ledger directory.
 * For each file, in order: FILE (readable, ≤ 1 MiB); PARSE (strict: the
 * format above, "lethe-certificate-3" or the earlier "-2" and "-1", each with exactly
 * its own members; M1's statement exactly guo's text); SIGNER (the embedded
 * public_key equals the trusted key in public_key_path, a file as
 * lethe_keygen() writes it; with NULL the signer is not pinned —
 * rep->pinned = 0 — and only the ledger's files are required to share one
 * key); SIGNATURE; NUMBERS:
 *   all:  ε > 0, δ ∈ (0, 1), σ > 0, d ≥ 1, k ≥ 1; in "-2" the sampler is
 *         the one whose charges (τ, the lattice step g) are applied below;
 *   M1:   ε ≤ 1; 0 ≤ residual ≤ budget; |remaining_after − (budget −
 *         residual)| ≤ 8u·(budget + residual), u = 2⁻⁵³; and Guo et al.'s
 *         condition with the noise sampler's charges (LTH-C-0010),
 *         ε·(1 + 8u) ≥ c(δ − δ_s)·(residual + 65·g√d)/σ, c = lethe_guo_c(),
 *         δ_s = (1 + e^ε)·d·τ (which needs δ > δ_s), g the lattice step of σ.
 *         These are the owner's figures, consistent with the idealised
 *         statement; nothing here can check them against b;
 *   M2:   used_after = used_before + k ≤ capacity, Δ > 0, and
 *         δ·(1 + 8u) ≥ lethe_gdp_delta(Δ/σ, ε) + δ_s; in "-2" also the
 *         public parameters in range (λ, R, tol finite and > 0, 1 ≤ capacity
 *         ≤ n/2) and the sensitivity RECOMPUTED, not trusted (LTH-C-0009,
 *         LTH-C-0011): Δ ≥ (Δ_N + Δ_fp + g√d)·(1 − 8u), Δ_N = M(mL + t)²/
 *         (2λ³n²) + (2t + τm(L + t/n))/(λ(n − m)) with m the capacity,
 *         L = 2R, M = R³/(6√3), t = tol·max(1, λn) plus its rounding, τ =
 *         1e-10 (proofs/m2-removal.md (4.1)), and Δ_fp the bound on the
 *         Newton step's rounding (proofs/m2-newton-rounding.md; refused
 *         where that bound does not hold);
 *   M3:   the public parameters in range (n, λ, R, Δ_max > 0; releases ≥ 2;
 *         dp_min_records 0 without dp, in [1, n] with it, and then a
 *         logistic loss); the sensitivity RECOMPUTED, not trusted: Δ ≥
 *         (base + g√d)·(1 − 8u), base = Δ_max or, with dp, 2Δ_max +
 *         2R/(λ·dp_min_records), g the lattice step of σ; σ calibrates it
 *         as for M2; mu_total ≥ √releases·Δ/σ·(1 − 8u); and epsilon_total
 *         not below the smallest ε with δ_GDP(√releases·Δ/σ, ε) +
 *         (1 + e^ε)·releases·d·τ ≤ δ (refused if none exists);
 *   k = 0 (no ids) is accepted for M1 (a refresh record) and M3 (a release
 *         with no removal since the last one);
 * CHAIN (in a ledger: the files are 00000001 … 0000000n without a gap, each
 * holds its own seq, prev is the BLAKE2b-256 of the previous file's bytes
 * (64 zeros for seq 1), and model_before equals the previous model_after;
 * the format may go from "-1" to "-2" but never back; between consecutive
 * M3 certificates, releases goes up by exactly 1, ε, δ, σ, λ, R, Δ_max, d,
 * the loss and the dp settings stay the same and n does not grow; when an
 * M2 certificate in "-2" follows an M2 certificate, used_before is the
 * previous used_after, and if both are "-2", ε, δ, σ, n, λ, R, tol, the
 * capacity and d stay the same; M3 does not mix with another mechanism in
 * one ledger. For a single file only: seq ≥ 1, and seq 1 has prev 64
 * zeros). Last, MODEL: if model_path is not NULL, the file must hash to
 * the last model_after.
 * τ = 8.6e-15 is the noise sampler's total-variation distance from the
 * Gaussian per coordinate.
 * Verification stops at the first failure; rep (required) says which check
 * failed on which file, which mechanism the last certificate that passed
 * used, and whether any of them is guo's idealised statement; the context's
 * message says why (naming the file and the check). Cost O(total bytes)
 * time, O(largest file) memory.
 * Returns LETHE_OK (all passed); LETHE_EVERIFY (a check failed, rep says
 * which); LETHE_EINVAL (NULL path or rep); LETHE_EIO (path, the key or the
 * model file cannot be opened); LETHE_EFORMAT (the public key file is
 * malformed); LETHE_ENOMEM. */
LETHE_API lethe_status lethe_cert_verify(lethe_ctx *ctx, const char *path,
                                         const char *public_key_path, const char *model_path,
                                         lethe_verify_report *rep);

/* ─── Workspace: one directory per model, crash-safe, with its ledger ───── */

/* A workspace keeps one model (either mechanism) with the owner's state, the
 * public model, the owner's signing keys and the ledger of signed removal
 * certificates, and stays consistent whatever point a crash interrupts a
 * change at: every change writes a new generation of the files beside the
 * old one and commits it by one atomic rewrite of the file HEAD; opening a
 * workspace removes whatever an interrupted change left, or completes it if
 * its certificate was written. A removal reported
 * done is on disk with its certificate, and the file that held the removed
 * records is gone. Layout and protocol: src/io/workspace.c. Not safe for two
 * processes changing one workspace at the same time. */
typedef struct lethe_workspace lethe_workspace;

typedef enum lethe_ws_file {
    LETHE_WS_STATE = 0,      /* the owner's secret state of the current generation */
    LETHE_WS_PUBLIC = 1,     /* the public model of the current generation         */
    LETHE_WS_LEDGER = 2,     /* the ledger directory                                */
    LETHE_WS_PUBLIC_KEY = 3, /* the owner's public signing key (publish it)         */
    LETHE_WS_SIGNING_KEY = 4 /* the owner's secret signing key                      */
} lethe_ws_file;

typedef struct lethe_workspace_info {
    int mechanism;          /* 0: no model yet; 1: M1 (guo); 2: M2; 3: M3         */
    uint64_t generation;    /* changes committed so far (0: none)                  */
    uint64_t certificates;  /* certificates in the ledger                          */
    int encrypted;          /* 1: the secret state is encrypted at rest            */
    size_t recovered;       /* files an interrupted change left, removed at open  */
} lethe_workspace_info;

/* Create the workspace directory dir (mode 0700; it must not exist) with a new
 * signing key pair (lethe_keygen) and an empty ledger. key_file NULL: no
 * encryption at rest; otherwise the secret state will be encrypted with that
 * key file (created with lethe_key_create() if it does not exist), which
 * every later open must give. Keep the key file outside the workspace.
 * Returns LETHE_OK, LETHE_EINVAL (NULL, dir exists), LETHE_EIO, LETHE_EFORMAT
 * (key file), LETHE_ENOMEM. */
LETHE_API lethe_status lethe_workspace_init(lethe_ctx *ctx, const char *dir,
                                            const char *key_file);
/* Open a workspace, recovering from an interrupted change (the files removed
 * are counted in lethe_workspace_info.recovered). key_file: for an encrypted
 * workspace, its key (set on ctx; checked against the workspace's); without
 * it only the public parts (ledger, public model, keys) are usable: loading
 * or saving the state fails with a clear message. Refused for a workspace
 * that is not encrypted. The handle
 * borrows ctx; close it before freeing ctx. HEAD binds the current state,
 * public model and last certificate by their BLAKE2b-256: a file copied from
 * another generation or workspace, a missing last certificate, or a symbolic
 * link among the entries is refused before anything is touched. A workspace
 * whose LOCK cannot be opened for writing opens read-only (a shared lock, or
 * none): loading works, saving is refused (LETHE_EIO). Returns LETHE_OK,
 * LETHE_EINVAL (not a workspace's arguments, a missing or wrong key),
 * LETHE_EIO, LETHE_EFORMAT (a corrupt HEAD, files HEAD does not bind, a
 * symbolic link; a certificate beyond HEAD's count whose generation is
 * missing or does not match it), LETHE_ENOMEM. A change interrupted after
 * its certificate was written is completed, not undone: HEAD is rewritten
 * for the new generation once its state loads (or, encrypted and without
 * the key, is sealed under this workspace's key) and the ledger verifies
 * into its public model. Cost: O(1) files, plus O(state + ledger) when a
 * change is completed. */
LETHE_API lethe_status lethe_workspace_open(lethe_ctx *ctx, const char *dir,
                                            const char *key_file, lethe_workspace **out);
LETHE_API void lethe_workspace_close(lethe_workspace *ws);
LETHE_API lethe_status lethe_workspace_status(const lethe_workspace *ws,
                                            lethe_workspace_info *out);
/* The path of one of the workspace's files (valid until the next change or
 * close); NULL for the state and public model before any model is saved. */
LETHE_API const char *lethe_workspace_path(const lethe_workspace *ws, lethe_ws_file which);
/* Load the current model: lethe_workspace_load_model for an M1 or M3
 * workspace, lethe_workspace_load_m2 for M2 (LETHE_EINVAL if the workspace
 * holds none, or one of the other kind; LETHE_EFORMAT if HEAD and the state
 * disagree on the mechanism; then as lethe_model_load / lethe_m2_load). */
LETHE_API lethe_status lethe_workspace_load_model(lethe_workspace *ws, lethe_model **out);
LETHE_API lethe_status lethe_workspace_load_m2(lethe_workspace *ws, lethe_m2 **out);
/* Commit the model as the workspace's next generation. The first commit is
 * the trained model (k = 0, ids and before may be NULL; no certificate).
 * Every later one needs before, the accountant's report taken just before
 * the change. M1: it joins a signed certificate (lethe_cert_write) to the
 * ledger in the same commit: k ≥ 1 after removing the k records ids; k = 0
 * after a refresh (a record with no ids, so that the ledger's chain of model
 * hashes stays unbroken). M3: when exactly one release was made since
 * before, a signed M3 certificate with ids[0..k-1] — every id removed since
 * the previous release, read with lethe_model_unpublished() before
 * publishing; k may be 0 — joins the commit; when none was made (removals
 * not yet published, or a refresh), the state is committed without a
 * certificate and the public model file stays byte for byte the same; two
 * releases in one commit, or a removal after the release, are refused
 * (LETHE_EINVAL). On failure the workspace keeps its previous generation and
 * nothing of the new one remains. Cost: writing the state (O(n·d + d²)) and
 * verifying the ledger. Returns LETHE_OK, LETHE_EINVAL, LETHE_EIO,
 * LETHE_EVERIFY (a broken ledger), LETHE_ENOMEM. */
LETHE_API lethe_status lethe_workspace_save_model(lethe_workspace *ws, lethe_model *model,
                                                  const uint64_t *ids, size_t k,
                                                  const lethe_budget *before);
LETHE_API lethe_status lethe_workspace_save_m2(lethe_workspace *ws, lethe_m2 *model,
                                               const uint64_t *ids, size_t k,
                                               const lethe_m2_report *before);

#ifdef __cplusplus
}
#endif
#endif /* LETHE_H */
