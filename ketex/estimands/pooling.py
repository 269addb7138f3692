"""Pooling the analyses of the imputed datasets: Rubin's rules, jackknife, bootstrap.

These are rbmi's ``pool`` rules (``pool.R``): Rubin's rules with the Barnard-Rubin
degrees of freedom for multiple imputation, the jackknife standard error and normal
interval for conditional mean imputation, and bootstrap percentile (quantile type 6)
or normal intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ketex._deprecated import renamed

__all__ = ["PooledEstimate", "pool_bootstrap", "pool_jackknife", "rubin_rules"]


@dataclass(frozen=True)
class PooledEstimate:
    """One pooled quantity: estimate, standard error, df (inf: normal), interval, p."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


def _parametric(point: float, se: float, df: float, conf_level: float) -> PooledEstimate:
    distribution = stats.norm() if not np.isfinite(df) else stats.t(df)
    half = distribution.ppf(1 - (1 - conf_level) / 2) * se
    p = 2 * min(distribution.cdf(point / se), distribution.sf(point / se))
    return PooledEstimate(point, se, df, point - half, point + half, float(min(p, 1.0)))


def rubin_rules(
    estimates, standard_errors, df_complete: float = np.inf, conf_level: float = 0.95, *,
    confidence_level: float | None = None,
) -> PooledEstimate:
    """Rubin's rules with the Barnard-Rubin (1999) degrees of freedom.

    Parameters
    ----------
    estimates, standard_errors : array-like
        One per imputed dataset (at least 2).
    df_complete : float
        Degrees of freedom of the complete-data analysis (``inf`` for a normal one).
    conf_level : float
        Level of the interval (``confidence_level``: its deprecated alias).

    Returns
    -------
    PooledEstimate

    Notes
    -----
    With ``M`` imputations, ``W`` the mean of the squared standard errors and ``B`` the
    variance of the estimates, the total variance is ``T = W + (1 + 1/M) B``.  With
    ``lambda = (1 + 1/M) B / T``, ``v_old = (M - 1) / lambda^2`` and
    ``v_obs = (v + 1)/(v + 3) v (1 - lambda)`` the df are ``v_old v_obs / (v_old + v_obs)``
    (``v_old`` when ``v`` is infinite), as rbmi's ``rubin_df``.

    Examples
    --------
    >>> r = rubin_rules([1.2, 0.8, 1.5, 1.1, 0.9], [0.50, 0.55, 0.48, 0.52, 0.51], 100)
    >>> round(r.estimate, 4), round(r.se, 4), round(r.df, 2)
    (1.1, 0.5939, 33.36)
    """
    conf_level = renamed("rubin_rules", "confidence_level", "conf_level", confidence_level,
                         conf_level, default=0.95)
    ests = np.asarray(estimates, dtype=float)
    ses = np.asarray(standard_errors, dtype=float)
    if ests.ndim != 1 or ests.shape != ses.shape or ests.size < 2:
        raise ValueError(
            "estimates and standard_errors must be two vectors of the same length >= 2."
        )
    m = ests.size
    within = float(np.mean(ses**2))
    between = float(np.var(ests, ddof=1))
    total = within + between + between / m
    lam = (1 + 1 / m) * between / total
    if np.isinf(df_complete) and between == 0:
        df = np.inf
    else:
        v_obs = (
            (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
            if np.isfinite(df_complete)
            else np.inf
        )
        if lam != 0:
            v_old = (m - 1) / lam**2
            df = v_old if np.isinf(df_complete) else v_old * v_obs / (v_old + v_obs)
        else:
            df = v_obs
    return _parametric(float(np.mean(ests)), float(np.sqrt(total)), float(df), conf_level)


def pool_jackknife(full: float, leave_one_out, conf_level: float = 0.95, *,
                   confidence_level: float | None = None) -> PooledEstimate:
    """Jackknife: ``se^2 = (n - 1)/n sum (theta_(i) - mean)^2``, normal interval.

    Examples
    --------
    >>> round(pool_jackknife(1.0, [0.9, 1.1, 1.0, 1.2]).se, 6)
    0.193649
    """
    conf_level = renamed("pool_jackknife", "confidence_level", "conf_level", confidence_level,
                         conf_level, default=0.95)
    values = np.asarray(leave_one_out, dtype=float)
    n = values.size
    se = float(np.sqrt((n - 1) / n * np.sum((values - values.mean()) ** 2)))
    return _parametric(float(full), se, np.inf, conf_level)


def _quantile_type6(sorted_values: np.ndarray, probability: float) -> float:
    n = sorted_values.size
    h = (n + 1) * probability
    low = int(np.floor(h))
    if low < 1:
        return float(sorted_values[0])
    if low >= n:
        return float(sorted_values[-1])
    return float(sorted_values[low - 1] + (h - low) * (sorted_values[low] - sorted_values[low - 1]))


def _percentile_p_values(values: np.ndarray) -> tuple[float, float]:
    """(P greater, P less): the probability level at which the type-6 quantile is 0."""
    if np.all(values == 0):
        return 1.0, 1.0
    if values.min() > 0:
        return 0.0, 1.0
    if values.max() < 0:
        return 1.0, 0.0
    n = values.size
    ordered = np.sort(values)
    if np.any(values == 0):
        ranks = np.flatnonzero(ordered == 0) + 1  # ties in first-come order, as rank(...)
        return ranks.min() / (n + 1), 1 - ranks.max() / (n + 1)
    j = int(np.searchsorted(ordered, 0.0))  # ordered[j - 1] < 0 < ordered[j]
    below, above = ordered[j - 1], ordered[j]
    q = (j + (0.0 - below) / (above - below)) / (n + 1)
    return q, 1 - q


def pool_bootstrap(
    full: float, replicates, kind: str = "percentile", conf_level: float = 0.95, *,
    confidence_level: float | None = None,
) -> PooledEstimate:
    """Bootstrap: percentile interval and p-value (type 6 quantiles) or normal interval.

    The percentile p-value is twice the smaller tail probability at which the bootstrap
    quantile crosses zero; rbmi finds it with ``uniroot`` (tolerance 1.2e-4), ketex
    exactly (the type-6 quantile is piecewise linear).

    Examples
    --------
    >>> r = pool_bootstrap(1.0, [1.0, 1.3, 0.7, 1.1, 0.4, 1.6, 0.9, 1.2, -0.2, 0.8])
    >>> round(r.ci_low, 3), round(r.ci_high, 3)
    (-0.2, 1.6)
    """
    conf_level = renamed("pool_bootstrap", "confidence_level", "conf_level", confidence_level,
                         conf_level, default=0.95)
    values = np.asarray(replicates, dtype=float)
    alpha = 1 - conf_level
    if kind == "normal":
        return _parametric(float(full), float(np.std(values, ddof=1)), np.inf, conf_level)
    if kind != "percentile":
        raise ValueError(f"kind must be 'percentile' or 'normal', got {kind!r}.")
    ordered = np.sort(values)
    low, high = _quantile_type6(ordered, alpha / 2), _quantile_type6(ordered, 1 - alpha / 2)
    p = min(2 * min(_percentile_p_values(values)), 1.0)
    return PooledEstimate(float(full), np.nan, np.inf, low, high, float(p))
