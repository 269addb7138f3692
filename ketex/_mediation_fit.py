"""The two regressions of a mediation analysis: OLS, and logistic by the GLM core."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketex.errors import ConvergenceError
from ketex.models._binomial import fit_glm, get_link

_SEPARATION_LOGIT = 30.0  # a fitted log-odds beyond it: probabilities of 1e-13 (separation)


@dataclass(frozen=True)
class _Fit:
    coef: np.ndarray
    vcov: np.ndarray
    sigma_sq: float  # residual variance (OLS, divisor n - p); nan for logistic


def _check_design(x: np.ndarray, which: str) -> None:
    n, p = x.shape
    if n <= p or np.linalg.matrix_rank(x) < p:
        raise ConvergenceError(
            f"the {which} regression has {n} rows for {p} coefficients or collinear "
            "columns; check the covariates and the number of complete rows"
        )


def fit_ols(x: np.ndarray, y: np.ndarray) -> _Fit:
    """OLS with R ``lm``'s unbiased residual variance RSS / (n - p)."""
    _check_design(x, "linear")
    n, p = x.shape
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ (x.T @ y)
    resid = y - x @ coef
    sigma_sq = float(resid @ resid) / (n - p)
    return _Fit(coef, sigma_sq * xtx_inv, sigma_sq)


def fit_logistic(x: np.ndarray, y: np.ndarray) -> _Fit:
    """Logistic regression by :func:`ketex.models._binomial.fit_glm` (inverse information)."""
    _check_design(x, "logistic")
    coef, vcov, _, converged = fit_glm(x, y, np.zeros(len(y)), get_link("logit"))
    if not converged:
        raise ConvergenceError(
            "the logistic regression did not converge in 100 Newton steps: check for an "
            "outcome or mediator that one covariate predicts perfectly (separation)"
        )
    if np.max(np.abs(x @ coef)) > _SEPARATION_LOGIT:
        raise ConvergenceError(
            "the logistic regression fits probabilities of 0 or 1 (separation): an outcome "
            "or mediator that the exposure or a covariate predicts perfectly; drop or "
            "merge that covariate, or use a linear model"
        )
    return _Fit(coef, vcov, float("nan"))
