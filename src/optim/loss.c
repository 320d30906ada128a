/*
 * Losses as functions of z = wᵀx, and the constants the certificates use.
 *
 *   logistic  ℓ(z, y) = log(1 + e^{−yz}),  y ∈ {−1, +1}
 *             ℓ'  = −y·σ(−yz),  ℓ'' = σ(yz)σ(−yz) ≤ 1/4,  |ℓ'''| ≤ 1/(6√3)
 *   squared   ℓ(z, y) = ½(z − y)²,  ℓ' = z − y,  ℓ'' = 1,  ℓ''' = 0
 *   smooth hinge, m = yz, y ∈ {−1, +1}:
 *             ℓ = ½ − m (m ≤ 0), ½(1 − m)² (0 < m < 1), 0 (m ≥ 1)
 *             ℓ' = −y·min(1, max(0, 1 − m)),  ℓ'' = 1 on (0, 1) and 0 outside
 *   Huber, r = z − y:
 *             ℓ = ½r² (|r| ≤ 1), |r| − ½ (|r| > 1)
 *             ℓ' = min(1, max(−1, r)),  ℓ'' = 1 on [−1, 1] and 0 outside
 *   The last two have |ℓ'| ≤ 1 and ℓ' 1-Lipschitz, but ℓ'' jumps (no γ).
 *
 * Derivation of the constants: proofs/loss-constants.md (LTH-C-0004).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "optim/optim.h"

#include <math.h>
#include <string.h>

/* σ(t) = 1/(1 + e^{−t}) without overflow. */
static double sigmoid(double t)
{
    if (t >= 0.0)
        return 1.0 / (1.0 + exp(-t));
    double e = exp(t);
    return e / (1.0 + e);
}

/* ℓ, ℓ', ℓ'' of the Huber loss in r (threshold 1). The second derivative
 * at |r| = 1, where it jumps, is taken from the inside (1). */
static void huber(double r, double *l, double *d1, double *d2)
{
    const double a = fabs(r);
    if (l != NULL)
        *l = a <= 1.0 ? 0.5 * r * r : a - 0.5;
    if (d1 != NULL)
        *d1 = a <= 1.0 ? r : (r > 0.0 ? 1.0 : -1.0);
    if (d2 != NULL)
        *d2 = a <= 1.0 ? 1.0 : 0.0;
}

void lethe__loss_eval(lethe_loss loss, double z, double y, double *l, double *d1, double *d2)
{
    if (loss == LETHE_LOSS_HUBER) {
        huber(z - y, l, d1, d2);
        return;
    }
    if (loss == LETHE_LOSS_SMOOTH_HINGE) {
        /* in m = yz the pieces ½ − m and ½(1 − m)² are Huber's at r = m − 1,
         * cut to 0 for m ≥ 1; d/dz = y·d/dm */
        const double m = y * z;
        double h, h1, h2;
        huber(m - 1.0, &h, &h1, &h2);
        if (l != NULL)
            *l = m >= 1.0 ? 0.0 : h;
        if (d1 != NULL)
            *d1 = m >= 1.0 ? 0.0 : y * h1;
        if (d2 != NULL)
            *d2 = m >= 1.0 || m <= 0.0 ? 0.0 : h2;
        return;
    }
    if (loss == LETHE_LOSS_SQUARED) {
        double r = z - y;
        if (l != NULL)
            *l = 0.5 * r * r;
        if (d1 != NULL)
            *d1 = r;
        if (d2 != NULL)
            *d2 = 1.0;
        return;
    }
    double m = y * z;
    if (l != NULL) /* log(1 + e^{−m}) = log1p(e^{−|m|}) + max(−m, 0) */
        *l = log1p(exp(-fabs(m))) + (m < 0.0 ? -m : 0.0);
    double sneg = sigmoid(-m);
    if (d1 != NULL)
        *d1 = -y * sneg;
    if (d2 != NULL)
        *d2 = sneg * (1.0 - sneg);
}

static const char *const loss_names[LETHE_LOSS_COUNT] = { "logistic", "squared",
                                                          "smooth-hinge", "huber" };

const char *lethe_loss_name(lethe_loss loss)
{
    return (unsigned)loss < LETHE_LOSS_COUNT ? loss_names[loss] : NULL;
}

lethe_status lethe_loss_from_name(const char *name, lethe_loss *out)
{
    for (unsigned k = 0; name != NULL && out != NULL && k < LETHE_LOSS_COUNT; k++)
        if (strcmp(name, loss_names[k]) == 0) {
            *out = (lethe_loss)k;
            return LETHE_OK;
        }
    return LETHE_EINVAL;
}

int lethe_loss_is_classifier(lethe_loss loss)
{
    return loss == LETHE_LOSS_LOGISTIC || loss == LETHE_LOSS_SMOOTH_HINGE;
}

int lethe__loss_label_ok(lethe_loss loss, double y)
{
    if (lethe_loss_is_classifier(loss)) /* NaN compares false both ways: test for equality */
        return fabs(y) >= 1.0 && fabs(y) <= 1.0;
    return isfinite(y);
}

lethe_status lethe_loss_eval(lethe_loss loss, double z, double y, double *l, double *d1,
                             double *d2)
{
    if ((unsigned)loss >= LETHE_LOSS_COUNT)
        return LETHE_EINVAL;
    if (!lethe__loss_label_ok(loss, y))
        return LETHE_ELABEL;
    if (!isfinite(z))
        return LETHE_ENONFINITE;
    lethe__loss_eval(loss, z, y, l, d1, d2);
    return LETHE_OK;
}

/* IMPLEMENTS: LTH-C-0004 */
lethe_status lethe_loss_get_constants(lethe_loss loss, double R, lethe_loss_constants *out)
{
    if (out == NULL || !(R >= 0.0) || !isfinite(R))
        return LETHE_EINVAL;
    switch (loss) {
    case LETHE_LOSS_LOGISTIC:
        out->d2_max = 0.25;
        /* max over s ∈ [0,1] of s(1−s)|1−2s| is 1/(6√3) = 0.09622504486493762741…,
         * at s = ½ ± 1/(2√3). The literal is the smallest double above it
         * (checked to 50 digits in proofs/loss-constants.md). */
        out->d2_lip = 0x1.8a2345cc04426p-4;
        out->grad_bound = R; /* |ℓ'| < 1 */
        return LETHE_OK;
    case LETHE_LOSS_SQUARED:
        out->d2_max = 1.0;
        out->d2_lip = 0.0;
        out->grad_bound = INFINITY; /* ℓ' = z − y is unbounded */
        return LETHE_OK;
    case LETHE_LOSS_SMOOTH_HINGE:
    case LETHE_LOSS_HUBER:
        out->d2_max = 1.0;      /* ℓ' is piecewise linear with slopes 0 and 1 */
        out->d2_lip = INFINITY; /* ℓ'' jumps between 0 and 1 */
        out->grad_bound = R;    /* |ℓ'| ≤ 1 */
        return LETHE_OK;
    }
    return LETHE_EINVAL;
}
