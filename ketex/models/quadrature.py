"""Gauss-Hermite quadrature against the standard normal density.

A rule of ``n`` nodes ``z_k`` and weights ``w_k`` integrates ``g(z) phi(z)`` exactly for
polynomials ``g`` of degree up to ``2n - 1``:

    int g(z) phi(z) dz ~= sum_k w_k g(z_k),     sum_k w_k = 1.

The *adaptive* rule (Liu and Pierce 1994; Pinheiro and Bates 1995), used by
:func:`ketex.glmm` and by lme4's ``glmer(nAGQ = n)``, moves the nodes to the mode
``u_hat`` of the integrand and scales them by its curvature ``s`` (the standard
deviation of the normal approximation at the mode):

    int f(u) du ~= s sum_k w_k f(u_hat + s z_k) / phi(z_k).

With one node this is the Laplace approximation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["MAX_NODES", "adaptive_log_integral", "gauss_hermite"]

#: Largest number of nodes :func:`ketex.glmm` accepts (as lme4).
MAX_NODES = 25

_LOG_SQRT_2PI = 0.5 * float(np.log(2.0 * np.pi))


@lru_cache(maxsize=64)
def _rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(n)
    weights = weights / weights.sum()  # the rule's weights sum to sqrt(2 pi)
    nodes[np.abs(nodes) < 1e-14] = 0.0  # the centre node of an odd rule is exactly 0
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``n``-point Gauss-Hermite rule for the standard normal.

    Parameters
    ----------
    n : int
        Number of nodes, at least 1.

    Returns
    -------
    nodes, weights : numpy.ndarray
        Read-only arrays of length ``n``; the weights sum to 1.

    Examples
    --------
    The variance and fourth moment of the standard normal, exactly:

    >>> z, w = gauss_hermite(3)
    >>> z.round(6).tolist(), w.round(6).tolist()
    ([-1.732051, 0.0, 1.732051], [0.166667, 0.666667, 0.166667])
    >>> float(w @ z**2), round(float(w @ z**4), 12)
    (1.0, 3.0)
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    return _rule(int(n))


def adaptive_log_integral(log_f, mode: float, scale: float, n: int) -> float:
    """``log int exp(log_f(u)) du`` by adaptive Gauss-Hermite quadrature.

    Parameters
    ----------
    log_f : callable
        Vectorised log integrand.
    mode, scale : float
        Centre and spread of the nodes: the mode of ``log_f`` and
        ``(-d^2 log_f / du^2)^(-1/2)`` there make the rule exact for a Gaussian ``f``.
    n : int
        Number of nodes (1: Laplace).

    Returns
    -------
    float

    Examples
    --------
    A Gaussian integrand is integrated exactly with one node:

    >>> import numpy as np
    >>> log_f = lambda u: -0.5 * ((u - 1.0) / 2.0) ** 2
    >>> round(float(adaptive_log_integral(log_f, 1.0, 2.0, 1) - np.log(2 * np.sqrt(2 * np.pi))), 12)
    0.0
    """
    z, w = gauss_hermite(n)
    u = mode + scale * z
    terms = np.log(w) + np.asarray(log_f(u), dtype=float) + 0.5 * z**2 + _LOG_SQRT_2PI
    top = terms.max()
    return float(np.log(scale) + top + np.log(np.exp(terms - top).sum()))
