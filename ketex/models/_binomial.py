"""Bernoulli log-likelihood and its derivatives in the linear predictor, for three links.

For ``y`` in {0, 1} and ``p = g^-1(eta)``, ``l(eta) = y log p + (1 - y) log(1 - p)``.
The GLMM needs ``l`` and its first three derivatives in ``eta``: the second for the
curvature at the conditional mode, the third for the derivative of that curvature (the
gradient of the Laplace and adaptive quadrature approximations). The log-likelihood is
concave in ``eta`` for all three links, so Newton steps on it are safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["LINKS", "Link", "fit_glm", "get_link"]

LINKS = ("logit", "probit", "cloglog")
_ETA_LIMIT = 40.0  # beyond it every probability is 0 or 1 in double precision
_EXP_LIMIT = 700.0  # exp() overflows beyond 709


@dataclass(frozen=True)
class Link:
    """A link function of the binomial family."""

    name: str

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        """``p = g^-1(eta)``."""
        eta = np.asarray(eta, dtype=float)
        if self.name == "logit":
            return special.expit(eta)
        if self.name == "probit":
            return special.ndtr(eta)
        return -np.expm1(-np.exp(np.minimum(eta, _ETA_LIMIT)))

    def inverse_derivative(self, eta: np.ndarray) -> np.ndarray:
        """``dp / deta``."""
        eta = np.asarray(eta, dtype=float)
        if self.name == "logit":
            p = special.expit(eta)
            return p * (1.0 - p)
        if self.name == "probit":
            return np.exp(-0.5 * eta**2) / np.sqrt(2.0 * np.pi)
        mu = np.exp(np.minimum(eta, _ETA_LIMIT))
        return mu * np.exp(-mu)

    def link(self, p: np.ndarray) -> np.ndarray:
        """``eta = g(p)``."""
        p = np.asarray(p, dtype=float)
        if self.name == "logit":
            return special.logit(p)
        if self.name == "probit":
            return special.ndtri(p)
        with np.errstate(divide="ignore"):
            return np.log(-np.log1p(-p))

    def link_derivative(self, p: np.ndarray) -> np.ndarray:
        """``d eta / dp``."""
        p = np.asarray(p, dtype=float)
        if self.name == "logit":
            return 1.0 / (p * (1.0 - p))
        if self.name == "probit":
            return 1.0 / self.inverse_derivative(special.ndtri(p))
        with np.errstate(divide="ignore"):
            return -1.0 / ((1.0 - p) * np.log1p(-p))

    def loglik(self, y: np.ndarray, eta: np.ndarray, order: int = 0) -> tuple[np.ndarray, ...]:
        """``l`` and, up to ``order`` (at most 3), its derivatives in ``eta``.

        ``y`` broadcasts against ``eta`` (e.g. ``(n, 1)`` against ``(n, K)``).
        """
        # no clipping: a value flat beyond a limit while its derivative is not would stall
        # Newton's method; each form below is stable for any eta
        eta = np.asarray(eta, dtype=float)
        if self.name == "logit":
            return _logit(y, eta, order)
        if self.name == "probit":
            return _probit(y, eta, order)
        return _cloglog(y, eta, order)


def get_link(name: str) -> Link:
    if name not in LINKS:
        raise ValueError(f"link must be one of {list(LINKS)}, got {name!r}.")
    return Link(name)


def _logit(y, eta, order):
    # y is 0 or 1: log p = -log(1 + e^-eta), log(1 - p) = -log(1 + e^eta)
    value = -np.logaddexp(0.0, (1.0 - 2.0 * y) * eta)
    if order == 0:
        return (value,)
    p = special.expit(eta)
    out = [value, y - p]
    if order >= 2:
        variance = p * (1.0 - p)
        out.append(-variance)
        if order >= 3:
            out.append(-variance * (1.0 - 2.0 * p))
    return tuple(out)


def _probit_parts(t, order):
    """``log Phi(t)`` and derivatives: ``lambda``, ``-lambda (t + lambda)``, ..."""
    log_cdf = special.log_ndtr(t)
    parts = [log_cdf]
    if order >= 1:
        ratio = np.exp(-0.5 * t**2 - 0.5 * np.log(2.0 * np.pi) - log_cdf)
        parts.append(ratio)
        if order >= 2:
            second = -ratio * (t + ratio)
            parts.append(second)
            if order >= 3:
                parts.append(-(second * (t + ratio) + ratio * (1.0 + second)))
    return parts


def _probit(y, eta, order):
    if order == 0:  # y is 0 or 1: log Phi(eta) or log Phi(-eta)
        return (special.log_ndtr((2.0 * y - 1.0) * eta),)
    one = _probit_parts(eta, order)
    zero = _probit_parts(-eta, order)
    signs = (1.0, -1.0, 1.0, -1.0)  # d^k/d eta of A(-eta) = (-1)^k A^(k)(-eta)
    return tuple(y * one[k] + (1.0 - y) * signs[k] * zero[k] for k in range(order + 1))


def _cloglog(y, eta, order):
    mu = np.exp(np.minimum(eta, _EXP_LIMIT))
    event = -np.expm1(-mu)  # p
    value = y * np.log(event) - (1.0 - y) * mu
    if order == 0:
        return (value,)
    with np.errstate(over="ignore"):
        r = mu / np.expm1(mu)  # d log p / d eta
    q = mu / event
    # 1 - q = -mu/2 - mu^2/12 + mu^4/720 - ...; direct subtraction loses digits for small mu
    one_minus_q = np.where(mu < 1e-3, -mu / 2.0 - mu**2 / 12.0 + mu**4 / 720.0, 1.0 - q)
    out = [value, y * r - (1.0 - y) * mu]
    if order >= 2:
        out.append(y * r * one_minus_q - (1.0 - y) * mu)
        if order >= 3:
            out.append(y * (r * one_minus_q**2 - r * q * (1.0 - r)) - (1.0 - y) * mu)
    return tuple(out)


def fit_glm(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, link: Link, max_iterations: int = 100
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Maximum likelihood logistic-type regression by Newton-Raphson with step halving.

    Returns
    -------
    beta, vcov, loglik, converged
        ``vcov`` is the inverse observed information.
    """
    beta = np.zeros(x.shape[1])
    loglik = float(np.sum(link.loglik(y, x @ beta + offset)[0]))
    converged = False
    for _ in range(max_iterations):
        _, first, second = link.loglik(y, x @ beta + offset, order=2)
        gradient = x.T @ first
        information = x.T @ (x * (-second)[:, None])
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError:
            break
        for scale in 0.5 ** np.arange(30):
            candidate = beta + scale * step
            trial = float(np.sum(link.loglik(y, x @ candidate + offset)[0]))
            if trial >= loglik - 1e-12 * abs(loglik):
                break
        beta, previous, loglik = candidate, loglik, trial
        if gradient @ step < 1e-12 or abs(loglik - previous) < 1e-13 * (1.0 + abs(loglik)):
            converged = True
            break
    _, _, second = link.loglik(y, x @ beta + offset, order=2)
    information = x.T @ (x * (-second)[:, None])
    try:
        vcov = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        vcov = np.full_like(information, np.nan)
    return beta, vcov, loglik, converged
