"""Closed forms of the regression-based mediation effects and their Jacobian.

The effects are written as functions of one parameter vector, laid out by
:class:`_Layout`: the mediator regression's coefficients (intercept, exposure,
covariates), then the outcome regression's (intercept, exposure, mediator,
exposure x mediator, covariates), then the mediator model's residual variance.
The Jacobian (Valeri and VanderWeele's Gamma vectors) is computed by complex-step
differentiation, exact to rounding for these analytic functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EFFECTS = ("cde", "pnde", "tnie", "tnde", "pnie", "te", "pm")
_STEP = 1e-30


@dataclass(frozen=True)
class _Layout:
    n_covariates: int

    @property
    def size(self) -> int:
        return (2 + self.n_covariates) + (4 + self.n_covariates) + 1


@dataclass(frozen=True)
class _Setting:
    mediator_model: str
    outcome_model: str
    a0: float
    a1: float
    covariate_values: np.ndarray
    mediator_value: float


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def effects_on_model_scale(params: np.ndarray, layout: _Layout, s: _Setting) -> np.ndarray:
    """The seven effects (log odds ratios for a logistic outcome, pm excepted)."""
    k = layout.n_covariates
    b0, b1, b2 = params[0], params[1], params[2 : 2 + k]
    t = params[2 + k : 6 + 2 * k]
    t0, t1, t2, t3 = t[0], t[1], t[2], t[3]
    sigma_sq = params[-1]
    del t0
    a0, a1, d = s.a0, s.a1, s.a1 - s.a0
    linear_c = b2 @ s.covariate_values if k else 0.0
    cde = (t1 + t3 * s.mediator_value) * d
    if s.mediator_model == "linear" and s.outcome_model == "linear":
        mu0, mu1 = b0 + b1 * a0 + linear_c, b0 + b1 * a1 + linear_c
        pnde = (t1 + t3 * mu0) * d
        tnde = (t1 + t3 * mu1) * d
        tnie = b1 * (t2 + t3 * a1) * d
        pnie = b1 * (t2 + t3 * a0) * d
    elif s.mediator_model == "linear":  # logistic outcome, rare-outcome approximation
        mu0, mu1 = b0 + b1 * a0 + linear_c, b0 + b1 * a1 + linear_c
        square = 0.5 * t3**2 * sigma_sq * (a1**2 - a0**2)
        pnde = (t1 + t3 * (mu0 + t2 * sigma_sq)) * d + square
        tnde = (t1 + t3 * (mu1 + t2 * sigma_sq)) * d + square
        tnie = b1 * (t2 + t3 * a1) * d
        pnie = b1 * (t2 + t3 * a0) * d
    else:  # logistic mediator, linear outcome
        e0 = _expit(b0 + b1 * a0 + linear_c)
        e1 = _expit(b0 + b1 * a1 + linear_c)
        pnde = (t1 + t3 * e0) * d
        tnde = (t1 + t3 * e1) * d
        tnie = (t2 + t3 * a1) * (e1 - e0)
        pnie = (t2 + t3 * a0) * (e1 - e0)
    te = pnde + tnie
    if s.outcome_model == "logistic":
        p, q = np.exp(pnde), np.exp(tnie)
        pm = p * (q - 1.0) / (p * q - 1.0)
    else:
        pm = tnie / te
    return np.array([cde, pnde, tnie, tnde, pnie, te, pm])


def jacobian(params: np.ndarray, layout: _Layout, s: _Setting) -> np.ndarray:
    """d effects / d params (7 x size), by complex steps."""
    out = np.empty((len(EFFECTS), layout.size))
    base = params.astype(complex)
    for j in range(layout.size):
        shifted = base.copy()
        shifted[j] += 1j * _STEP
        out[:, j] = effects_on_model_scale(shifted, layout, s).imag / _STEP
    return out
