"""The marginal likelihood of a binomial GLMM with a scalar random intercept.

Group ``i`` (rows ``j``), spherical random effect ``u_i ~ N(0, 1)``, ``sigma > 0``:

    eta_ij = x_ij' beta + offset_ij + sigma u_i,    y_ij ~ Bernoulli(g^-1(eta_ij))
    L_i = int exp(h_i(u)) phi(u) du,                h_i(u) = sum_j l(y_ij, eta_ij(u))

``L_i`` is approximated by adaptive Gauss-Hermite quadrature centred at the conditional
mode ``u_hat_i`` (``h_i'(u) = u``) with the spread ``s_i = c_i^-1/2`` from the curvature
``c_i = 1 - h_i''(u_hat_i)`` there (:mod:`ketex.models.quadrature`):

    L_i ~= s_i sum_k w_k exp(h_i(U_ik) - U_ik^2 / 2 + z_k^2 / 2),   U_ik = u_hat_i + s_i z_k

(one node: the Laplace approximation). The objective is the deviance ``-2 sum log L_i``
over ``theta = (beta, log sigma)``, lme4's ``glmer`` objective on its own scale.

The gradient is exact for the approximation, not for the integral: besides the direct
derivative with the nodes held fixed it follows the nodes, through ``d u_hat / d theta``
(implicit function theorem on ``sigma S1 - u = 0``) and ``d s / d theta`` (which needs the
third derivative of ``l``). Rows must be sorted by group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketex.models._binomial import Link
from ketex.models.quadrature import gauss_hermite

__all__ = ["GLMMLikelihood", "ModeSolution"]

_INNER_TOLERANCE = 1e-11
_INNER_MAX_ITERATIONS = 200


@dataclass(frozen=True)
class ModeSolution:
    """Conditional modes (spherical scale) and the curvature there, per group."""

    modes: np.ndarray
    curvature: np.ndarray  # c_i = 1 - sigma^2 sum_j l''
    iterations: int
    converged: bool


class GLMMLikelihood:
    """Deviance and its gradient over ``(beta, log sigma)``."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        offset: np.ndarray,
        group_codes: np.ndarray,
        starts: np.ndarray,
        link: Link,
        nagq: int,
    ) -> None:
        self.x, self.y, self.offset = x, y, offset
        self.group_codes, self.starts = group_codes, starts
        self.link = link
        self.nagq = nagq
        self.nodes, self.weights = gauss_hermite(nagq)
        self.log_weights = np.log(self.weights)
        self.n_groups = starts.size
        self._warm = np.zeros(self.n_groups)
        self.inner_failures = 0

    def _sum(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.starts, axis=0)

    # --------------------------------------------------------------- modes
    def modes(
        self, beta: np.ndarray, sigma: float, start: np.ndarray | None = None
    ) -> ModeSolution:
        """Newton's method per group (vectorised), halving steps that lower ``h - u^2/2``."""
        xb = self.x @ beta + self.offset
        g = self.group_codes
        u = np.array(self._warm if start is None else start, dtype=float)
        l0, l1, l2 = self.link.loglik(self.y, xb + sigma * u[g], order=2)
        objective = self._sum(l0) - 0.5 * u**2
        converged = False
        iteration = 0
        while iteration < _INNER_MAX_ITERATIONS:
            iteration += 1
            gradient = sigma * self._sum(l1) - u
            curvature = 1.0 - sigma**2 * self._sum(l2)
            step = gradient / curvature
            if np.max(np.abs(step)) < _INNER_TOLERANCE * (1.0 + np.max(np.abs(u))):
                u = u + step
                converged = True
                break
            scale = np.ones_like(u)
            for _ in range(40):
                candidate = u + scale * step
                l0, l1, l2 = self.link.loglik(self.y, xb + sigma * candidate[g], order=2)
                new_objective = self._sum(l0) - 0.5 * candidate**2
                # a concave objective: a full Newton step that lowers it has overshot;
                # changes at rounding level are no reason to halve
                worse = new_objective < objective - 1e-10 * (1.0 + np.abs(objective))
                if not worse.any():
                    break
                scale = np.where(worse, 0.5 * scale, scale)
            u, objective = candidate, new_objective
        if not converged:
            self.inner_failures += 1
        _, _, l2 = self.link.loglik(self.y, xb + sigma * u[g], order=2)
        self._warm = u
        return ModeSolution(u, 1.0 - sigma**2 * self._sum(l2), iteration, converged)

    # ----------------------------------------------------------- objective
    def deviance(self, theta: np.ndarray) -> float:
        return self.evaluate(theta, gradient=False)[0]

    def evaluate(self, theta: np.ndarray, gradient: bool = True) -> tuple[float, np.ndarray | None]:
        """``-2 log L`` and (optionally) its gradient at ``theta = (beta, log sigma)``."""
        theta = np.asarray(theta, dtype=float)
        beta, sigma = theta[:-1], float(np.exp(theta[-1]))
        if not np.isfinite(sigma) or not np.all(np.isfinite(beta)):
            return np.inf, None
        solution = self.modes(beta, sigma)
        u_hat, c = solution.modes, solution.curvature
        s = 1.0 / np.sqrt(c)
        z = self.nodes
        nodes_u = u_hat[:, None] + s[:, None] * z[None, :]  # (m, K)
        xb = self.x @ beta + self.offset
        eta = xb[:, None] + sigma * nodes_u[self.group_codes]  # (n, K)
        order = 1 if gradient else 0
        parts = self.link.loglik(self.y[:, None], eta, order=order)
        h = self._sum(parts[0])
        terms = self.log_weights[None, :] + h - 0.5 * nodes_u**2 + 0.5 * z[None, :] ** 2
        top = terms.max(axis=1)
        log_sum = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
        log_lik = np.log(s) + log_sum
        deviance = float(-2.0 * log_lik.sum())
        if not gradient:
            return deviance, None
        omega = np.exp(terms - log_sum[:, None])  # normalised node contributions
        first_sums = self._sum(parts[1])  # (m, K): sum_j l'
        direct_beta = self.x.T @ np.sum(omega[self.group_codes] * parts[1], axis=1)
        direct_sigma = float(np.sum(omega * nodes_u * first_sums))
        residual = sigma * first_sums - nodes_u
        d_mode = np.sum(omega * residual, axis=1)
        d_spread = 1.0 / s + np.sum(omega * residual * z[None, :], axis=1)

        _, l1, l2, l3 = self.link.loglik(self.y, xb + sigma * u_hat[self.group_codes], order=3)
        s1, s2, s3 = self._sum(l1), self._sum(l2), self._sum(l3)
        t2 = self._sum(l2[:, None] * self.x)  # (m, p)
        t3 = self._sum(l3[:, None] * self.x)
        mode_beta = sigma * t2 / c[:, None]
        mode_sigma = (s1 + sigma * s2 * u_hat) / c
        c_mode = -(sigma**3) * s3
        c_beta = -(sigma**2) * t3 + c_mode[:, None] * mode_beta
        c_sigma = -2.0 * sigma * s2 - sigma**2 * s3 * u_hat + c_mode * mode_sigma
        spread_factor = -0.5 * c**-1.5
        grad_beta = direct_beta + (d_mode[:, None] * mode_beta).sum(axis=0) + (
            (d_spread * spread_factor)[:, None] * c_beta
        ).sum(axis=0)
        grad_sigma = direct_sigma + float(
            np.sum(d_mode * mode_sigma) + np.sum(d_spread * spread_factor * c_sigma)
        )
        grad = -2.0 * np.r_[grad_beta, sigma * grad_sigma]
        return deviance, grad

    def hessian(self, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """Central differences of the analytic gradient, symmetrised."""
        theta = np.asarray(theta, dtype=float)
        size = theta.size
        out = np.empty((size, size))
        for j in range(size):
            h = step * max(1.0, abs(theta[j]))
            up, down = theta.copy(), theta.copy()
            up[j] += h
            down[j] -= h
            g_up, g_down = self.evaluate(up)[1], self.evaluate(down)[1]
            if g_up is None or g_down is None:  # a step off the finite region
                raise FloatingPointError(f"the deviance is not finite at theta[{j}] +- {h:.2g}")
            out[:, j] = (g_up - g_down) / (2.0 * h)
        return 0.5 * (out + out.T)
