/*
 * Losses as functions of z = wᵀx, and the constants the certificates use.
 *
 *   logistic  ℓ(z, y) = log(1 + e^{−yz}),  y ∈ {−1, +1}
 *             ℓ'  = −y·σ(−yz),  ℓ'' = σ(yz)σ(−yz) ≤ 1/4,  |ℓ'''| ≤ 1/(6√3)
 *   squared   ℓ(z, y) = ½(z − y)²,  ℓ' = z − y,  ℓ'' = 1,  ℓ''' = 0
 *
 * Derivation of the constants: proofs/loss-constants.md (LTH-C-0004).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "optim/optim.h"

#include <math.h>

/* σ(t) = 1/(1 + e^{−t}) without overflow. */
static double sigmoid(double t)
{
    if (t >= 0.0)
        return 1.0 / (1.0 + exp(-t));
    double e = exp(t);
    return e / (1.0 + e);
}

void lethe__loss_eval(lethe_loss loss, double z, double y, double *l, double *d1, double *d2)
{
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

int lethe__loss_label_ok(lethe_loss loss, double y)
{
    if (loss == LETHE_LOSS_LOGISTIC) /* NaN compares false both ways: test for equality */
        return fabs(y) >= 1.0 && fabs(y) <= 1.0;
    return isfinite(y);
}

lethe_status lethe_loss_eval(lethe_loss loss, double z, double y, double *l, double *d1,
                             double *d2)
{
    if (loss != LETHE_LOSS_LOGISTIC && loss != LETHE_LOSS_SQUARED)
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
    }
    return LETHE_EINVAL;
}
