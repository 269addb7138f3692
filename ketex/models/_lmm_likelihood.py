"""The profiled (restricted) deviance of a linear mixed model with one grouping factor.

The model of lme4 (Bates et al. 2015): for group ``i``,

    y_i = X_i beta + Z_i b_i + e_i,   b_i = Lambda u_i,   u_i ~ N(0, sigma^2 I_q),
    e_i ~ N(0, sigma^2 I)

with ``Lambda`` lower triangular (``q x q``), its entries ``theta`` column by column
(diagonal >= 0). Given ``theta``, the penalised least squares problem
``min ||y - X beta - Z Lambda u||^2 + ||u||^2`` is solved group by group:

    L_i L_i' = Lambda' Z_i' Z_i Lambda + I,   c_i = L_i^-1 Lambda' Z_i' y_i,
    R_i = L_i^-1 Lambda' Z_i' X_i,            X'V^-1X / sigma^-2 = X'X - sum R_i' R_i,
    beta = (X'X - sum R_i'R_i)^-1 (X'y - sum R_i' c_i),
    r^2 = y'y - sum ||c_i||^2 - beta'(X'y - sum R_i' c_i)      (penalised RSS)

and the deviance profiled over ``beta`` and ``sigma`` is

    ML:   log|L|^2 + n (1 + log(2 pi r^2 / n))
    REML: log|L|^2 + log|X'V^-1X / sigma^-2| + (n - p) (1 + log(2 pi r^2 / (n - p)))

with ``log|L|^2 = 2 sum_i log diag(L_i)``. Only per-group sums of cross products enter,
so an evaluation costs ``O(m q^3 + m q^2 p + p^3)`` whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LMMDeviance", "LMMEvaluation", "lambda_matrix", "theta_lower_bounds"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def lambda_matrix(theta: np.ndarray, q: int) -> np.ndarray:
    """The lower-triangular ``Lambda`` from its entries, column by column (as lme4)."""
    lam = np.zeros((q, q))
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))  # column-major
    lam[rows[order], cols[order]] = theta
    return lam


def theta_lower_bounds(q: int) -> np.ndarray:
    """0 for the diagonal entries of ``Lambda``, -inf for the others."""
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))
    return np.where(rows[order] == cols[order], 0.0, -np.inf)


def _theta_positions(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column in ``Lambda`` of each entry of ``theta``."""
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))
    return rows[order], cols[order]


def _lower_inverse(chol: np.ndarray) -> np.ndarray:
    """Inverses of a batch of small lower-triangular matrices by forward substitution.

    Vectorised over the batch, a loop over the (few) rows: much faster than a batched
    LAPACK solve for thousands of 2 x 2 blocks.
    """
    q = chol.shape[1]
    inverse = np.zeros_like(chol)
    for i in range(q):
        inverse[:, i, i] = 1.0 / chol[:, i, i]
        for j in range(i):
            total = np.einsum("mk,mk->m", chol[:, i, j:i], inverse[:, j:i, j])
            inverse[:, i, j] = -total / chol[:, i, i]
    return inverse


def _sum_outer(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``sum_m left_m right_m'`` for stacks ``(m, a, k)`` and ``(m, b, k)``: ``(a, b)``."""
    m, a, k = left.shape
    b = right.shape[1]
    return np.swapaxes(left, 0, 1).reshape(a, m * k) @ np.swapaxes(right, 0, 1).reshape(
        b, m * k).T


@dataclass(frozen=True)
class LMMEvaluation:
    deviance: float
    beta: np.ndarray
    xtvx: np.ndarray  # X'V^-1X times sigma^2: vcov(beta) = sigma^2 xtvx^-1
    pwrss: float
    log_det_l: float  # log|L|^2
    log_det_x: float  # log|X'V^-1X / sigma^-2|
    chol: np.ndarray  # (m, q, q) L_i
    spherical: np.ndarray | None  # (m, q) u_i
    gradient: np.ndarray | None = None
    # gradients of log|L|^2, of the penalised RSS and of log|X'V^-1X| over theta, and
    # d(X'V^-1X)/d theta_k (k, p, p): the pieces of lmerTest's Hessian and Jacobian
    parts: tuple | None = None


class LMMDeviance:
    """Profiled deviance over ``theta`` from per-group cross products."""

    def __init__(self, x, y, z, starts, reml: bool) -> None:
        n, p = x.shape
        q = z.shape[1]
        self.n, self.p, self.q, self.reml = n, p, q, reml
        self.ztz = np.add.reduceat(z[:, :, None] * z[:, None, :], starts, axis=0)
        self.ztx = np.add.reduceat(z[:, :, None] * x[:, None, :], starts, axis=0)
        self.zty = np.add.reduceat(z * y[:, None], starts, axis=0)
        self.xtx = x.T @ x
        self.xty = x.T @ y
        self.yty = float(y @ y)
        self.identity = np.eye(q)
        self.positions = _theta_positions(q)

    @property
    def degrees(self) -> float:
        return float(self.n - self.p) if self.reml else float(self.n)

    def evaluate(self, theta: np.ndarray, modes: bool = False,
                 gradient: bool = False) -> LMMEvaluation:
        lam = lambda_matrix(np.asarray(theta, dtype=float), self.q)
        m, q, p = self.ztx.shape
        a = lam.T @ self.ztz @ lam + self.identity
        try:
            chol = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:  # pragma: no cover - a is I + a Gram matrix
            nan = np.full(p, np.nan)
            return LMMEvaluation(np.inf, nan, np.full((p, p), np.nan), np.nan, np.nan,
                                 np.nan, a, None)
        chol_inverse = _lower_inverse(chol)
        c = (chol_inverse @ (self.zty @ lam)[:, :, None])[:, :, 0]
        r = chol_inverse @ (lam.T @ self.ztx)  # (m, q, p)
        flat = r.reshape(m * q, p)
        xtvx = self.xtx - flat.T @ flat
        rhs = self.xty - flat.T @ c.ravel()
        try:
            chol_x = np.linalg.cholesky(xtvx)
        except np.linalg.LinAlgError:
            nan = np.full(p, np.nan)
            return LMMEvaluation(np.inf, nan, xtvx, np.nan, np.nan, np.nan, chol, None)
        beta = np.linalg.solve(xtvx, rhs)
        pwrss = self.yty - float(np.sum(c * c)) - float(rhs @ beta)
        log_det_l = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
        log_det_x = 2.0 * float(np.sum(np.log(np.diag(chol_x))))
        degrees = self.degrees
        if pwrss <= 0:
            deviance = -np.inf
        else:
            deviance = log_det_l + degrees * (1.0 + _LOG_2PI + np.log(pwrss / degrees))
            if self.reml:
                deviance += log_det_x
        spherical = None
        if modes or gradient:
            # u_i = L_i'^-1 (c_i - R_i beta)
            spherical = (np.swapaxes(chol_inverse, 1, 2) @ (c - r @ beta)[:, :, None])[:, :, 0]
        grad = parts = None
        if gradient and np.isfinite(deviance):
            parts = self._parts(lam, chol_inverse, r, beta, xtvx, spherical)
            grad = parts[0] + degrees * parts[1] / pwrss
            if self.reml:
                grad = grad + parts[2]
        return LMMEvaluation(float(deviance), beta, xtvx, pwrss, log_det_l, log_det_x, chol,
                             spherical, grad, parts)

    def _parts(self, lam, chol_inverse, r, beta, xtvx, u) -> tuple:
        """Analytic derivatives over ``theta`` of the pieces of the deviance.

        With ``G_i = Z_i'Z_i``, ``A_i = Lambda' G_i Lambda + I = L_i L_i'`` and ``E_k =
        dLambda / dtheta_k`` (a 1 at row ``r``, column ``c``):
        ``d log|L|^2 = 2 sum_i (A_i^-1 Lambda' G_i)[c, r]``;
        ``d r^2 = -2 sum_i (Z_i' e_i)[r] u_i[c]`` (envelope theorem, ``e`` the residuals);
        ``d X'V^-1X = -sum_i (D_i[r] P_i[c]' + P_i[c] D_i[r]')`` with ``P_i = A_i^-1 Lambda'
        Z_i'X_i`` and ``D_i = Z_i'X_i - G_i Lambda P_i``; ``d log|X'V^-1X| = tr(W d X'V^-1X)``,
        ``W = (X'V^-1X)^-1``.
        """
        rows, cols = self.positions
        a_inverse = np.swapaxes(chol_inverse, 1, 2) @ chol_inverse
        g_lam = self.ztz @ lam  # (m, q, q)
        log_det = 2.0 * np.sum(a_inverse @ np.swapaxes(g_lam, 1, 2), axis=0)[cols, rows]
        residual = self.zty - self.ztx @ beta - (g_lam @ u[:, :, None])[:, :, 0]
        rss = -2.0 * (residual.T @ u)[rows, cols]
        p_mat = np.swapaxes(chol_inverse, 1, 2) @ r  # A^-1 Lambda' Z'X, (m, q, p)
        d_mat = self.ztx - g_lam @ p_mat
        d_xtvx = np.empty((rows.size, self.p, self.p))
        for k, (row, col) in enumerate(zip(rows, cols, strict=True)):
            outer = d_mat[:, row, :].T @ p_mat[:, col, :]
            d_xtvx[k] = -(outer + outer.T)
        w = np.linalg.inv(xtvx)
        log_det_x = np.einsum("ab,kba->k", w, d_xtvx)
        return log_det, rss, log_det_x, d_xtvx

    def deviance(self, theta: np.ndarray) -> float:
        return self.evaluate(theta).deviance

    def varpar_deviance(self, varpar: np.ndarray) -> float:
        """The deviance at ``(theta, sigma)``, ``beta`` profiled (lmerTest's ``devfun_vp``).

        ML: ``log|L|^2 + r^2 / sigma^2 + n log(2 pi sigma^2)``; REML adds
        ``log|X'V^-1X / sigma^-2| - p log(2 pi sigma^2)``.
        """
        theta, sigma = varpar[:-1], float(varpar[-1])
        ev = self.evaluate(theta)
        sigma2 = sigma**2
        value = ev.log_det_l + ev.pwrss / sigma2 + self.n * np.log(2 * np.pi * sigma2)
        if self.reml:
            value += ev.log_det_x - self.p * np.log(2 * np.pi * sigma2)
        return float(value)
