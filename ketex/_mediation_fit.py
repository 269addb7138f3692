"""The two regressions of a mediation analysis: OLS and logistic by Newton-Raphson."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketex.errors import ConvergenceError


@dataclass(frozen=True)
class _Fit:
    coef: np.ndarray
    vcov: np.ndarray
    sigma_sq: float  # residual variance (OLS, divisor n - p); nan for logistic


def fit_ols(x: np.ndarray, y: np.ndarray) -> _Fit:
    """OLS with R ``lm``'s unbiased residual variance RSS / (n - p)."""
    n, p = x.shape
    if n <= p or np.linalg.matrix_rank(x) < p:
        raise ConvergenceError(
            f"the linear regression has {n} rows for {p} coefficients or collinear "
            "columns; check the covariates and the number of complete rows"
        )
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ (x.T @ y)
    resid = y - x @ coef
    sigma_sq = float(resid @ resid) / (n - p)
    return _Fit(coef, sigma_sq * xtx_inv, sigma_sq)


def fit_logit(x: np.ndarray, y: np.ndarray, max_iter: int = 100) -> _Fit:
    """Logistic regression by Newton-Raphson to full convergence (inverse information)."""
    n, p = x.shape
    if n <= p or np.linalg.matrix_rank(x) < p:
        raise ConvergenceError(
            f"the logistic regression has {n} rows for {p} coefficients or collinear columns"
        )
    coef = np.zeros(p)
    for _ in range(max_iter):
        prob = 1.0 / (1.0 + np.exp(-(x @ coef)))
        info = (x * (prob * (1.0 - prob))[:, None]).T @ x
        step = np.linalg.solve(info, x.T @ (y - prob))
        coef = coef + step
        if np.max(np.abs(step)) < 1e-11 * (1.0 + np.max(np.abs(coef))):
            break
    else:
        raise ConvergenceError(
            "the logistic regression did not converge in 100 Newton steps (separation?): "
            "an outcome or mediator that one covariate predicts perfectly"
        )
    if np.max(np.abs(coef)) > 30:
        raise ConvergenceError(
            "the logistic regression has a coefficient above 30 on the log-odds scale "
            "(separation): an outcome or mediator that one covariate predicts perfectly"
        )
    prob = 1.0 / (1.0 + np.exp(-(x @ coef)))
    info = (x * (prob * (1.0 - prob))[:, None]).T @ x
    return _Fit(coef, np.linalg.inv(info), float("nan"))
