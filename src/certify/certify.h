/*
 * Mechanism M1 (Guo et al., ICML 2020): the certified model, its removal
 * step, the exact residual pass, the bounds and the accountant.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef LETHE_CERTIFY_H
#define LETHE_CERTIFY_H

#include "base/base.h"
#include "certify/idindex.h"
#include "dp/dp.h"
#include "features/features.h"
#include "optim/optim.h"

/* Workers sharing the residual pass (memory-bound: two cores read faster). */
#define LETHE__PASS_THREADS 2

/* Row states in model->alive. PENDING marks the rows of a removal being
 * computed: they are outside D' but not yet erased. */
enum { ROW_DEAD = 0, ROW_LIVE = 1, ROW_PENDING = 2 };

struct lethe_model {
    lethe_ctx *ctx;
    /* parameters */
    lethe_mechanism mech; /* LETHE_MECH_M1 (b secret) or LETHE_MECH_M3 (b = 0) */
    lethe_loss loss;
    double lambda, epsilon, delta, sigma, c, budget, tol;
    unsigned max_iter;
    lethe_loss_constants k; /* for R */
    double R;               /* ‖xᵢ‖ ≤ R for every row ever held     */
    double xnorm;           /* upper bound on ‖X‖₂ of the training data (LTH-C-0003) */
    /* data: n_rows stored, n_live of them in D */
    size_t n_rows, n_live, d;
    double *x, *y;
    uint64_t *ids;
    unsigned char *alive;
    lethe_idindex index; /* id → row */
    /* state */
    double *w;   /* current weights                                   */
    double *g;   /* exact ∇L_b(w; D), from the last residual pass      */
    double *U;   /* Cholesky factor (upper, row-major) of Ĥ            */
    double *s_f; /* ℓ''(w_fᵀxᵢ) at the factorisation point, per row   */
    size_t n_f;  /* Ĥ = Σ_{live} s_f xxᵀ + λ·n_f·I                      */
    double *b;   /* secret, sodium_malloc                              */
    lethe_rng *rng;
    /* accountant */
    double residual, residual_fp, train_residual, residual_bound;
    double rho;     /* largest increase of the residual in one single removal */
    double res_max; /* largest residual since training or the last refresh    */
    size_t removals, removals_total, refreshes;
    /* M3 (m3.c): σ above is the release's; budget above is M1's only (M3's
     * depends on n: lethe__budget_at) */
    double delta_max, sens, dp_sens, eps_cap;
    int dp;
    size_t dp_min;
    unsigned newton_extra;
    lethe_lattice lat;   /* the release lattice of σ                          */
    double *pub;         /* d: the last release (the public weights)          */
    int64_t *noise;      /* d: the integers of the release being made         */
    size_t releases;     /* releases so far (the first at training)           */
    int fresh;           /* pub is a release of the current θ                 */
    double drift;        /* Σ‖p‖ since the last anchor: ≥ ‖θ − θ_f‖           */
    size_t reanchors, extra_steps;
    uint64_t *unpub;     /* unpub_cap: ids removed since the last release     */
    size_t n_unpub, unpub_cap;
    /* the frozen feature map the records went through (mapped = 0: none;
     * d above is then the records' own width, else fmap.d_out) */
    int mapped;
    lethe_fmap fmap;
    /* one-vs-rest (multiclass.c). A parent (K ≥ 3) holds the records (rows of
     * d_row features), their class labels in y, classes[K], θ = [θ_1 … θ_K]
     * in w (d = K·d_row) and the release; its heads are M3 models of d_row
     * weights on labels ±1 whose x, ids, alive, index and w (a block of the
     * parent's) are the parent's (shared = 1). K = 0: a model of one head. */
    size_t K, d_row;
    double *classes;
    struct lethe_model **heads;
    int shared;
    /* scratch, allocated once */
    double *U2, *s2, *w2, *g2, *p, *hp, *v, *W2, *Z, *V, *acc;
    lethe_optim_ws ws;
};

/* M2's sensitivity Δ(m) (proofs/m2-removal.md (4.1)) for capacity m and
 * solver tolerance tol: M(mL + t)²/(2λ³n²) + (2t + τm(L + t/n))/(λ(n − m)),
 * t = tol·max(1, λn), τ the Neumann tolerance; shared with the capacity. */
double lethe__m2_sensitivity(double M, double L, double lambda, size_t n, size_t m, double tol);

/* Validate training options for n records of d features; derive σ and the
 * budget ε'. Returns LETHE_OK or LETHE_EINVAL with the reason on ctx. */
lethe_status lethe__model_params(lethe_ctx *ctx, const lethe_train_options *o, size_t n,
                                 size_t d, double *sigma, double *budget);

/* Labels and probabilities (logistic) or values (squared) of weights w for
 * n rows of x; the body of the predict functions of both mechanisms. */
lethe_status lethe__predict(lethe_ctx *ctx, lethe_loss loss, const double *w, size_t d,
                            size_t n, const double *x, size_t ldx, double *label, double *prob);

/* Accuracy (logistic; labels must be ±1) or RMSE (squared) of weights w on
 * data; the body of the evaluate functions of both mechanisms. */
lethe_status lethe__evaluate(lethe_ctx *ctx, lethe_loss loss, const double *w, size_t d,
                             const lethe_dataset *data, double *score);

/* Allocate every buffer of a model for n rows of d features (all-or-nothing). */
lethe_status lethe__model_alloc(lethe_ctx *ctx, size_t n, size_t d, lethe_model **out);
/* A head of parent P (multiclass.c): its own buffers of P->d_row, and P's
 * records, ids, alive flags, index and the k-th block of P's w. */
lethe_status lethe__model_alloc_head(lethe_model *P, size_t k, lethe_model **out);
/* Free a model's buffers (those it owns) and the model. */
void lethe__model_destroy(lethe_model *m);
/* Commit a removal computed by lethe__removal_step / lethe__m3_step into m
 * (cannot fail). With own_rows the rows' records leave m (zeroed, marked
 * dead, their ids kept as unpublished); a head leaves that to its parent. */
void lethe__removal_commit(lethe_model *m, const uint64_t *ids, const size_t *rows, size_t k,
                           const lethe_removal_report *r, double drift, int own_rows);
/* Mark the rows of ids ROW_PENDING in m (rows[] gets them); on failure
 * nothing is marked. */
lethe_status lethe__removal_mark(lethe_model *m, const uint64_t *ids, size_t k, size_t *rows);
/* multiclass.c: train K heads on data (labels: the classes), the parent's
 * removal, prediction, evaluation and report. */
lethe_status lethe__multi_train(lethe_ctx *ctx, const lethe_dataset *data,
                                const lethe_train_options *o, lethe_model **out);
lethe_status lethe__multi_remove(lethe_model *P, const uint64_t *ids, size_t k,
                                 lethe_removal_path path, lethe_removal_report *rep, int commit);
lethe_status lethe__multi_predict(lethe_model *P, size_t n, const double *phi, size_t ld,
                                  double *label, double *prob);
lethe_status lethe__multi_evaluate(lethe_model *P, const lethe_dataset *phi, double *score);
void lethe__multi_budget(const lethe_model *P, lethe_budget *out);
/* A parent of n rows of d features and K heads, with every buffer but no
 * parameters (lethe__multi_heads_setup copies the parent's to the heads
 * and sets their labels from y and classes). */
lethe_status lethe__multi_alloc(lethe_ctx *ctx, size_t n, size_t d, size_t K, lethe_model **out);
void lethe__multi_heads_setup(lethe_model *P);
/* Move the live rows to the front (records, labels, the heads' labels and
 * curvatures), then recompute each head's gradient in the new order. */
void lethe__multi_compact(lethe_model *P);
/* The parent's residual report from its heads' (after any change to them). */
void lethe__multi_combine(lethe_model *P);
/* The data-dependent estimate of further single removals (account.c). */
size_t lethe__capacity_estimate(const lethe_model *m);
/* Rebuild the id index from ids[0..n_rows-1]; no allocation. */
void lethe__model_index(lethe_model *m);
/* Row holding id, or SIZE_MAX. */
size_t lethe__model_find(const lethe_model *m, uint64_t id);
/* Minimise L_b on the live rows with the model's b, from w0 (may be m->w2),
 * and commit: w, the exact gradient, the factor, the accountant. Nothing
 * changes on failure. */
lethe_status lethe__model_solve(lethe_model *m, const double *w0);
/* The same, with U_first (not NULL) the factor of the Hessian at w0, which
 * the caller computed (the first Newton iteration uses it). */
lethe_status lethe__model_solve_from(lethe_model *m, const double *w0, const double *U_first);
/* The objective view of the model's live data with noise b. */
lethe_objective lethe__model_objective(const lethe_model *m, const double *b);

/* Results of one pass over the live rows (LTH-C-0002, LTH-C-0003). */
typedef struct lethe_pass {
    double residual;    /* ‖∇L_b(w+p; D')‖ as computed                        */
    double fp_error;    /* bound on the rounding error of residual           */
    double first_order; /* ‖g + H(w)p‖, H the exact Hessian at w on D'       */
    double xp_norm;     /* ‖X'p‖                                             */
    double bound;       /* ‖g + Hp‖ + γ·R·‖X'‖₂·‖p‖·‖X'p‖ (Guo's form)        */
} lethe_pass;

/* One fused pass over the rows with alive == ROW_LIVE, in blocks that stay
 * in cache: given the step p from w, wnew = w + p, g = ∇L_b(w; D') and the
 * noise b, write r = ∇L_b(wnew; D') into m->g2 and fill *out. O(nd). */
void lethe__residual_pass(lethe_model *m, const double *b, const double *wnew, const double *p,
                          const double *g, lethe_pass *out);
/* One-vs-rest: the residual ‖∇F_k(w2_k; D')‖ of every head k of P and its
 * rounding bound, into out[k] (and each head's g2), as K calls of
 * lethe__residual_pass with p = 0 would compute them (M3: residual and
 * fp_error only) but reading the records twice in all: Z = X·[w2_1 … w2_K]
 * and S = Xᵀ·[ℓ'(Z)] as two K-column dgemms. Falls back to the K passes
 * when its O(nK) buffers cannot be had. */
void lethe__residual_pass_heads(lethe_model *P, lethe_pass *out);
/* Run fn on n ≤ LETHE__PASS_THREADS jobs, size bytes apart, in parallel (the
 * first on the calling thread); returns when all are done. */
void lethe__parallel(void *(*fn)(void *), void *jobs, size_t size, size_t n);
/* Tests: 1 makes lethe__residual_pass_heads use its portable kernels even
 * where the CPU has AVX2 and FMA. */
extern int lethe__heads_plain;
/* One-vs-rest, logistic: steps w ← w − H0⁻¹∇F_k(w) for all heads at once from
 * 0 (U0 the factor of H0 = XᵀX/4 + λnI, a majorant of every head's Hessian),
 * until every gradient is 10⁻³ of its start or 300 steps; each head's start
 * for Newton in its w2. pass (K entries) is scratch. */
void lethe__multi_warm_start(lethe_model *P, const double *U0, lethe_pass *pass);

/* Upper bound on ‖X‖₂ for the live rows (LTH-C-0003). Uses m->U2 as scratch.
 * Returns LETHE_OK, LETHE_ENOMEM or LETHE_EBACKEND. */
lethe_status lethe__spectral_bound(lethe_model *m, double *out);

/* Move the live rows to the front and erase the removed ones (no change to
 * what the model computes; the row order of later sums is the file's). */
void lethe__model_compact(lethe_model *m);
/* ε' = σε/c(δ − δ_s) − 65·g√d, rounded down (LTH-C-0001, LTH-C-0010): δ_s
 * = (1 + e)·d·τ the sampler's share of δ; NaN when nothing is left. */
double lethe__budget_from_sigma(double sigma, double epsilon, double delta, size_t d);
/* Guo's c at δ − (1 + e)·d·τ, the part of δ the lattice sampler leaves
 * (NaN if none). */
double lethe__m1_c(double delta, size_t d);
/* Guo's Thm 1 with the noise and R made explicit (LTH-C-0005):
 * 2γR³m²(C + ‖b‖/(2n))²/(λ²(n − m)); +Inf when C is unbounded or m ≥ n. */
double lethe__guo_worst_case(double gamma, double R, double C, double bnorm, double lambda,
                             size_t n, size_t m);

/* ─── M3 (m3.c) ─── */

/* Validate the M3 options for data (n records of d features, norm bound R,
 * measured or fixed) and set the model's M3 parameters, σ, the lattice and
 * the budget. LETHE_OK or LETHE_EINVAL with the reason on ctx. */
lethe_status lethe__m3_setup(lethe_model *m, const lethe_train_options *o, size_t n,
                             int r_measured);
/* The distance M3's two release centres may be apart, before lattice
 * rounding: Δ_max, or with DP releases 2Δ_max + 2C/(λ·n_min) (C = R·sup|ℓ'|,
 * the ERM's add/remove sensitivity in *dp_sens if not NULL), rounded up. The
 * calibration and the certificate verifier both use it. */
double lethe__m3_base(double delta_max, int dp, double C, double lambda, size_t n_min,
                      double *dp_sens);
/* Derive the release sensitivity, σ and the lattice from the stored
 * parameters (training and load). LETHE_OK or LETHE_EINVAL. */
lethe_status lethe__m3_calibrate(lethe_model *m);
/* The budget for n records: λ·n·Δ_max rounded down, so that
 * residual + fp ≤ budget implies (residual + fp)/(λn) ≤ Δ_max. */
double lethe__m3_budget(const lethe_model *m, size_t n);
/* The residual the model may certify with n live records: M1's fixed ε',
 * M3's λ·n·Δ_max (lethe__m3_budget). Every check of a residual uses it. */
double lethe__budget_at(const lethe_model *m, size_t n);
/* (residual + fp)/(λn), rounded up: the certified bound on ‖θ − w*‖. */
double lethe__m3_distance(const lethe_model *m, double residual, double fp, size_t n);
/* The M3 removal: the first step, then further steps and re-anchors until
 * certified (see lethe_model_remove); rows are ROW_PENDING and n_live is
 * already that of D'. On LETHE_OK the iterate is in w2, its gradient in g2,
 * its factor in U2 (s2 and the anchor when rep->reanchors or EXACT), the
 * drift since the anchor in *drift. Changes nothing that is committed. */
lethe_status lethe__m3_step(lethe_model *m, const size_t *rows, size_t k,
                            lethe_removal_path path, lethe_removal_report *rep, double *drift);
/* The rest of lethe__m3_step after its first step's report: further steps,
 * a re-anchor, the distance and the drift. */
lethe_status lethe__m3_continue(lethe_model *m, lethe_removal_report *rep, double *drift);
/* Publish a fresh release of θ into pub (see lethe_model_publish). */
lethe_status lethe__m3_publish(lethe_model *m, lethe_release_report *rep);
/* ε at δ of a history of k releases (LTH-C-0013); NaN if none reaches δ. */
double lethe__m3_epsilon(const lethe_model *m, size_t k, double delta);
/* The guaranteed count of further single removals (LTH-C-0014). */
size_t lethe__m3_guaranteed(const lethe_model *m);
/* The M3 part of the accountant's report. */
void lethe__m3_budget_report(const lethe_model *m, lethe_budget *out);

/* The removal step (LTH-C-0002): rows marked ROW_PENDING leave D; computes
 * w2 = w − Ĥ⁻¹g', g2, U2/s2 (if refactored) and the report. Changes nothing
 * that lethe__removal_commit does not then make permanent. */
lethe_status lethe__removal_step(lethe_model *m, const size_t *rows, size_t k,
                                 lethe_removal_path path, lethe_removal_report *rep);
/* lethe__removal_step in its two halves, for a caller that makes the pass
 * itself (one-vs-rest: one pass for all heads): prepare takes the Newton
 * step into w2 (p, and g' in v) and says which path it used; finish fills
 * the report from the pass over w2. */
lethe_status lethe__removal_prepare(lethe_model *m, const size_t *rows, size_t k,
                                    lethe_removal_path path, lethe_removal_path *used_path);
/* prepare in two: the part that may run for several heads at once (no
 * allocation, no message on the context; says EXACT when the exact Hessian
 * is needed), and that part (the Hessian, its factor, the solve). */
lethe_removal_path lethe__removal_prepare_fast(lethe_model *m, const size_t *rows, size_t k,
                                               lethe_removal_path path);
lethe_status lethe__removal_prepare_exact(lethe_model *m);
lethe_status lethe__removal_finish(lethe_model *m, const lethe_pass *pass,
                                   lethe_removal_path used, lethe_removal_report *rep);

#endif /* LETHE_CERTIFY_H */
