"""The (restricted) log-likelihood of the MMRM, profiled over the fixed effects.

With ``V`` block diagonal (one block ``Sigma_p`` per subject, chosen by its pattern),
``A = X' V^-1 X``, ``beta = A^-1 X' V^-1 y`` and ``r = y - X beta``, the objective is
``f = -2 log L``:

    ML:    f = n log(2 pi) + log|V| + r' V^-1 r
    REML:  f = (n - k) log(2 pi) + log|V| + log|A| + r' V^-1 r

(the REML form is SAS PROC MIXED's "-2 Res Log Likelihood").  Gradient and Hessian
are analytic; with ``V_j = dV/dtheta_j`` and ``P = V^-1 - V^-1 X A^-1 X' V^-1``:

    f_j  = tr(V_j W),  W = V^-1 - V^-1 H V^-1  summed per pattern
    f_jk = tr(V_jk W) + tr(V^-1 V_j V^-1 V_k V^-1 (2 H - V)) - [REML] tr(Phi P_j Phi P_k)
           - 2 s_j' Phi s_k

where ``H`` is ``r r'`` (ML) or ``r r' + X Phi X'`` (REML), ``Phi = A^-1``,
``P_j = X' V^-1 V_j V^-1 X`` and ``s_j = X' V^-1 V_j V^-1 r``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotri, dpotrs

from ketex.models._patterns import Patterns
from ketex.models.covariance import CovarianceStructure

__all__ = ["Evaluation", "Likelihood"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Evaluation:
    """The objective ``-2 log L`` and what comes with it at one ``theta``."""

    objective: float
    beta: np.ndarray | None = None
    beta_vcov: np.ndarray | None = None
    gradient: np.ndarray | None = None
    hessian: np.ndarray | None = None
    sigmas: tuple[np.ndarray, ...] | None = None
    p_matrices: np.ndarray | None = None  # (m, k, k): X'V^-1 V_j V^-1 X

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.objective))


class Likelihood:
    """Objective, gradient and Hessian over the variance parameters.

    Parameters
    ----------
    patterns : Patterns
    structures : sequence of CovarianceStructure
        One per covariance group (all the same structure).
    reml : bool
    """

    def __init__(
        self, patterns: Patterns, structures: tuple[CovarianceStructure, ...], reml: bool
    ) -> None:
        self.patterns = patterns
        self.structures = tuple(structures)
        self.reml = bool(reml)
        sizes = [s.n_params for s in self.structures]
        bounds = np.cumsum([0, *sizes])
        self.slices = tuple(slice(bounds[g], bounds[g + 1]) for g in range(len(sizes)))
        self.n_params = int(bounds[-1])
        self.k = patterns.n_columns
        n_obs = sum(
            int(v.size * n) for v, n in zip(patterns.visits, patterns.n_subjects, strict=True)
        )
        self.n_obs = n_obs
        self.constant = (n_obs - (self.k if self.reml else 0)) * _LOG_2PI
        # index pairs of the packed Gram tensors (see Patterns.gram)
        self._pairs = tuple(_triu_indices(v.size) for v in patterns.visits)
        self._blocks = tuple(np.ix_(v, v) for v in patterns.visits)
        self._inner = _triu_indices(self.k + 1)
        self._inner_weight = np.where(self._inner[0] == self._inner[1], 1.0, 2.0)

    def _unpack(self, packed: np.ndarray) -> np.ndarray:
        """Packed upper triangles (..., K(K+1)/2) to symmetric (..., K, K) matrices."""
        size = self.k + 1
        full = np.zeros(packed.shape[:-1] + (size, size))
        rows, cols = self._inner
        full[..., rows, cols] = packed
        full[..., cols, rows] = packed
        return full

    # ---------------------------------------------------------------- helpers
    def _covariances(self, theta: np.ndarray, order: int):
        return [
            s.derivatives(theta[sl], order)
            for s, sl in zip(self.structures, self.slices, strict=True)
        ]

    def _factorise(self, covariances):
        """Inverse and log-determinant of every pattern's covariance (None if not PD)."""
        if not all(np.all(np.isfinite(c[0])) for c in covariances):
            return None, None
        inverses, logdets = [], []
        for g, block in zip(self.patterns.group, self._blocks, strict=True):
            _, inverse, logdet = _cholesky_parts(covariances[g][0][block])
            if inverse is None:
                return None, None
            inverses.append(inverse)
            logdets.append(logdet)
        return inverses, np.asarray(logdets)

    # -------------------------------------------------------------- evaluate
    def evaluate(self, theta: np.ndarray, order: int = 0) -> Evaluation:
        """Objective (and gradient for ``order >= 1``, Hessian for ``order == 2``)."""
        theta = np.asarray(theta, dtype=float)
        if not np.all(np.isfinite(theta)):
            return Evaluation(objective=np.inf)
        covariances = self._covariances(theta, order)
        inverses, logdets = self._factorise(covariances)
        if inverses is None:
            return Evaluation(objective=np.inf)
        pats = self.patterns
        k = self.k
        total = np.zeros(pats.gram[0].shape[1])
        for inverse, gram, (rows, cols) in zip(inverses, pats.gram, self._pairs, strict=True):
            total += inverse[rows, cols] @ gram
        total = self._unpack(total)
        if not np.all(np.isfinite(total)):
            return Evaluation(objective=np.inf)
        chol_a, phi, logdet_a = _cholesky_parts(total[:k, :k])
        if phi is None:
            return Evaluation(objective=np.inf)
        beta = dpotrs(chol_a, total[:k, k], lower=1)[0]
        weighted_rss = total[k, k] - total[:k, k] @ beta
        objective = (
            self.constant
            + float(pats.n_subjects @ logdets)
            - pats.sum_log_weights
            + weighted_rss
            + (logdet_a if self.reml else 0.0)
        )
        sigmas = tuple(c[0] for c in covariances)
        if order == 0:
            return Evaluation(objective, beta, phi, sigmas=sigmas)

        # H per pattern: <Q, G_p[a, b]> with Q the quadratic form giving r r' (+ X Phi X')
        quad = np.zeros((k + 1, k + 1))
        quad[:k, :k] = np.outer(beta, beta) + (phi if self.reml else 0.0)
        quad[:k, k] = quad[k, :k] = -beta
        quad[k, k] = 1.0
        quad_packed = quad[self._inner] * self._inner_weight
        t = [s.n_visits for s in self.structures]
        w_by_group = [np.zeros((tg, tg)) for tg in t]
        h_blocks = []
        for g, visits, block, n, inverse, gram, (rows, cols) in zip(
            pats.group,
            pats.visits,
            self._blocks,
            pats.n_subjects,
            inverses,
            pats.gram,
            self._pairs,
            strict=True,
        ):
            h_packed = gram @ quad_packed
            h_p = _symmetric_from_pairs(h_packed, rows, cols, visits.size)
            h_blocks.append(h_p)
            w_by_group[g][block] += n * inverse - inverse @ h_p @ inverse
        gradient = np.concatenate(
            [
                np.einsum("jab,ab->j", cov[1], w)
                for cov, w in zip(covariances, w_by_group, strict=True)
            ]
        )
        if order == 1:
            return Evaluation(objective, beta, phi, gradient=gradient, sigmas=sigmas)

        hessian, p_matrices = self._hessian(covariances, inverses, h_blocks, w_by_group, beta, phi)
        return Evaluation(
            objective, beta, phi, gradient, hessian, sigmas=sigmas, p_matrices=p_matrices
        )

    def _hessian(self, covariances, inverses, h_blocks, w_by_group, beta, phi):
        pats, k, m = self.patterns, self.k, self.n_params
        hessian = np.zeros((m, m))
        contracted = np.zeros((m, pats.gram[0].shape[1]))
        for g, sl in enumerate(self.slices):
            hessian[sl, sl] += np.einsum("jkab,ab->jk", covariances[g][2], w_by_group[g])
        for g, block, n, inverse, h_p, gram, (rows, cols) in zip(
            pats.group,
            self._blocks,
            pats.n_subjects,
            inverses,
            h_blocks,
            pats.gram,
            self._pairs,
            strict=True,
        ):
            sl = self.slices[g]
            sigma_p = covariances[g][0][block]
            d1 = covariances[g][1][(slice(None), *block)]
            t_mat = inverse @ (2.0 * h_p - n * sigma_p) @ inverse
            d1_inv = d1 @ inverse
            hessian[sl, sl] += np.einsum("jac,kca->jk", d1_inv, d1 @ t_mat)
            sandwich = inverse @ d1_inv  # inverse d1_j inverse (symmetric)
            contracted[sl] += sandwich[:, rows, cols] @ gram
        contracted = self._unpack(contracted)
        p_matrices = contracted[:, :k, :k]
        s_vectors = contracted[:, :k, k] - p_matrices @ beta
        phi_s = s_vectors @ phi
        hessian -= 2.0 * phi_s @ s_vectors.T
        if self.reml:
            phi_p = phi @ p_matrices  # (m, k, k)
            hessian -= np.einsum("jab,kba->jk", phi_p, phi_p)
        hessian = 0.5 * (hessian + hessian.T)
        return hessian, p_matrices

    # ------------------------------------------------------ Kenward-Roger parts
    def kenward_roger_correction(
        self, theta: np.ndarray, theta_vcov: np.ndarray, linear: bool
    ) -> np.ndarray:
        """``sum_jk W_jk (Q_jk - R_jk / 4)`` with ``W`` the variance of ``theta``.

        ``Q_jk = X'V^-1 V_j V^-1 V_k V^-1 X`` and ``R_jk = X'V^-1 V_jk V^-1 X``;
        ``W`` has no cross-group terms in ``Q`` and ``R`` (blocks of ``V`` differ).
        """
        covariances = self._covariances(theta, 2)
        inverses, _ = self._factorise(covariances)
        if inverses is None:
            raise ValueError("The covariance matrix is not positive definite at theta.")
        k = self.k
        total = np.zeros(self.patterns.gram[0].shape[1])
        for g, visits, inverse, gram, (rows, cols) in zip(
            self.patterns.group,
            self.patterns.visits,
            inverses,
            self.patterns.gram,
            self._pairs,
            strict=True,
        ):
            sl = self.slices[g]
            w = theta_vcov[sl, sl]
            d1 = covariances[g][1][:, visits][:, :, visits]
            a = inverse @ d1 @ inverse  # (m, t, t)
            weighted = np.einsum("jk,kab->jab", w, d1)  # sum_k W_jk V_k
            middle = np.einsum("jab,jbc->ac", a, weighted)  # sum_jk W_jk Si V_j Si V_k
            middle = middle @ inverse
            if not linear:
                d2 = covariances[g][2][:, :, visits][:, :, :, visits]
                middle -= 0.25 * inverse @ np.einsum("jk,jkab->ab", w, d2) @ inverse
            total += (0.5 * (middle + middle.T))[rows, cols] @ gram
        return self._unpack(total)[:k, :k]


def _cholesky_parts(matrix: np.ndarray):
    """Lower Cholesky factor (upper triangle not cleared), inverse and log-determinant
    of a symmetric matrix (its lower triangle), by LAPACK ``potrf``/``potri`` called
    directly (these matrices are small and many); ``(None, None, None)`` when it is not
    positive definite.  ``matrix`` must be finite."""
    chol, info = dpotrf(matrix, lower=1, clean=0)
    if info != 0:
        return None, None, None
    logdet = 2.0 * float(np.sum(np.log(np.diagonal(chol))))
    lower, info = dpotri(chol, lower=1)
    if info != 0:
        return None, None, None
    upper = _triu_indices(lower.shape[0], 1)
    lower[upper] = lower.T[upper]  # potri fills the lower triangle only
    return chol, lower, logdet


@functools.lru_cache(maxsize=64)
def _triu_indices(size: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.triu_indices(size, offset)``, made once per size (read-only)."""
    rows, cols = np.triu_indices(size, offset)
    rows.flags.writeable = False
    cols.flags.writeable = False
    return rows, cols


def _symmetric_from_pairs(packed: np.ndarray, rows, cols, size: int) -> np.ndarray:
    """``H`` from ``<Q, S_p[a, b]>``, which is ``2 H[a, b]`` off the diagonal."""
    full = np.zeros((size, size))
    values = np.where(rows == cols, packed, 0.5 * packed)
    full[rows, cols] = values
    full[cols, rows] = values
    return full
