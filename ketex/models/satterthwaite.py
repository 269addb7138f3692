"""Satterthwaite degrees of freedom for linear contrasts of the fixed effects.

For a contrast ``l`` the variance ``v = l' Phi l`` of ``l' beta`` depends on the
variance parameters through ``Phi(theta)``; with ``g_j = l' (d Phi / d theta_j) l`` and
``W`` the asymptotic covariance of ``theta`` (inverse Hessian of ``-log L``),

    df = 2 v^2 / (g' W g).

A multi-row contrast is rotated to independent one-row contrasts by the eigen
decomposition of ``L Phi L'`` and the denominator df is combined as in SAS PROC MIXED
and R's mmrm / lmerTest: ``E = sum nu_m / (nu_m - 2)``, ``df = 2 E / (E - q)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["satterthwaite_df", "satterthwaite_f_test"]


def satterthwaite_df(
    contrast: np.ndarray, beta_vcov: np.ndarray, jacobian: np.ndarray, theta_vcov: np.ndarray
) -> float:
    """Satterthwaite df of the one-row contrast ``contrast' beta``.

    Parameters
    ----------
    contrast : numpy.ndarray, shape (k,)
    beta_vcov : numpy.ndarray, shape (k, k)
    jacobian : numpy.ndarray, shape (m, k, k)
        ``d beta_vcov / d theta_j``.
    theta_vcov : numpy.ndarray, shape (m, m)

    Examples
    --------
    With one variance parameter ``s2`` and ``Phi = s2 / n`` the df is ``2 / (W / s2^2)``,
    i.e. ``n - 1`` when ``W = 2 s2^2 / (n - 1)``:

    >>> import numpy as np
    >>> n, s2 = 11, 4.0
    >>> round(satterthwaite_df(np.array([1.0]), np.array([[s2 / n]]),
    ...                        np.array([[[1 / n]]]), np.array([[2 * s2**2 / (n - 1)]])), 6)
    10.0
    """
    contrast = np.asarray(contrast, dtype=float)
    variance = float(contrast @ beta_vcov @ contrast)
    gradient = np.einsum("a,jab,b->j", contrast, jacobian, contrast)
    denominator = float(gradient @ theta_vcov @ gradient)
    if denominator <= 0 or not np.isfinite(denominator):
        return np.inf
    return 2.0 * variance**2 / denominator


def _combine_df(dfs: np.ndarray) -> float:
    if dfs.size == 1:
        return float(dfs[0])
    if np.all(np.abs(np.diff(dfs)) < np.sqrt(np.finfo(float).eps)):
        return float(np.mean(dfs))
    if np.any(dfs <= 2):
        return 2.0
    e = float(np.sum(dfs / (dfs - 2.0)))
    return 2.0 * e / (e - dfs.size)


def satterthwaite_f_test(
    contrast: np.ndarray,
    beta: np.ndarray,
    beta_vcov: np.ndarray,
    jacobian: np.ndarray,
    theta_vcov: np.ndarray,
) -> tuple[float, int, float]:
    """F statistic, numerator df (rank) and Satterthwaite denominator df of ``L beta = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.eye(2)
    >>> f, q, df = satterthwaite_f_test(L, np.array([1.0, 1.0]), np.eye(2),
    ...                                 np.stack([np.eye(2)]), np.array([[0.2]]))
    >>> round(f, 6), q, round(df, 6)
    (1.0, 2, 10.0)
    """
    contrast = np.atleast_2d(np.asarray(contrast, dtype=float))
    covariance = contrast @ beta_vcov @ contrast.T
    values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    tol = max(np.sqrt(np.finfo(float).eps) * values[0], 0.0)
    rank = int(np.sum(values > tol))
    if rank == 0:
        raise ValueError("The contrast has zero variance: it tests nothing estimable.")
    rotated = vectors[:, :rank].T @ contrast
    estimates = rotated @ beta
    f_stat = float(np.sum(estimates**2 / values[:rank]) / rank)
    dfs = np.array([satterthwaite_df(r, beta_vcov, jacobian, theta_vcov) for r in rotated])
    return f_stat, rank, _combine_df(dfs)
