"""Kenward-Roger adjusted covariance of the fixed effects and degrees of freedom.

Kenward and Roger (1997), as implemented in R's mmrm (``kenwardroger.R``) and
pbkrtest. With ``P_j = X'V^-1 V_j V^-1 X``, ``Q_jk = X'V^-1 V_j V^-1 V_k V^-1 X``,
``R_jk = X'V^-1 V_jk V^-1 X`` and ``W`` the covariance of the variance parameters,

    Phi_A = Phi + 2 Phi [sum_jk W_jk (Q_jk - P_j Phi P_k - R_jk / 4)] Phi.

The "linear" variant drops ``R_jk``; for the unstructured matrix it is what SAS
``ddfm=kr`` gives, since SAS parametrises that matrix linearly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kenward_roger_df", "kenward_roger_vcov"]


def kenward_roger_vcov(
    beta_vcov: np.ndarray,
    p_matrices: np.ndarray,
    theta_vcov: np.ndarray,
    q_minus_r: np.ndarray,
) -> np.ndarray:
    """Adjusted covariance ``Phi_A``.

    Parameters
    ----------
    beta_vcov : (k, k) array, ``Phi``
    p_matrices : (m, k, k) array, ``P_j``
    theta_vcov : (m, m) array, ``W``
    q_minus_r : (k, k) array, ``sum_jk W_jk (Q_jk - R_jk / 4)``

    Examples
    --------
    With no variance parameters to estimate nothing changes:

    >>> import numpy as np
    >>> kenward_roger_vcov(np.eye(2), np.zeros((1, 2, 2)), np.zeros((1, 1)), np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    phi_p = np.einsum("ab,jbc->jac", beta_vcov, p_matrices)  # Phi P_j
    p_phi_p = np.einsum("jk,jab,kbc->ac", theta_vcov, p_matrices, phi_p)
    middle = q_minus_r - p_phi_p
    adjusted = beta_vcov + 2.0 * beta_vcov @ middle @ beta_vcov
    return 0.5 * (adjusted + adjusted.T)


def kenward_roger_df(
    contrast: np.ndarray, beta_vcov: np.ndarray, p_matrices: np.ndarray, theta_vcov: np.ndarray
) -> tuple[float, float]:
    """Denominator df ``m`` and F scale ``lambda`` for ``L beta = 0`` (q = rows of L).

    Examples
    --------
    >>> import numpy as np
    >>> m, lam = kenward_roger_df(np.array([[1.0]]), np.array([[0.4]]),
    ...                           np.array([[[2.5]]]), np.array([[0.2]]))
    >>> round(m, 4), round(lam, 4)
    (10.0, 1.0)
    """
    contrast = np.atleast_2d(np.asarray(contrast, dtype=float))
    q = contrast.shape[0]
    theta_matrix = contrast.T @ np.linalg.solve(contrast @ beta_vcov @ contrast.T, contrast)
    m_v0 = theta_matrix @ beta_vcov
    pieces = np.einsum("ab,jbc,cd->jad", m_v0, p_matrices, beta_vcov)  # Theta Phi P_j Phi
    traces = np.einsum("jaa->j", pieces)
    a1 = float(traces @ theta_vcov @ traces)
    a2 = float(np.einsum("jk,jab,kba->", theta_vcov, pieces, pieces))
    b = (a1 + 6.0 * a2) / (2.0 * q)
    e_star = 1.0 / (1.0 - a2 / q)
    g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
    denom = 3 * q + 2 - 2 * g
    c1, c2, c3 = g / denom, (q - g) / denom, (q + 2 - g) / denom
    v_star = 2.0 / q * (1 + c1 * b) / (1 - c2 * b) ** 2 / (1 - c3 * b)
    rho = v_star / (2 * e_star**2)
    m = 4.0 + (q + 2) / (q * rho - 1)
    lam = m / (e_star * (m - 2))
    return float(m), float(lam)
