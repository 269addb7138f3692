"""Covariance structures of the repeated measures within a subject.

Each structure maps an unconstrained parameter vector ``theta`` to a covariance
matrix over the visit levels, together with its first and second derivatives
(needed for the analytic gradient, the Hessian, Satterthwaite and Kenward-Roger).

Parametrisations (all unconstrained, estimates do not depend on the choice):

============  ===========================================================
``us``        lower Cholesky factor ``L``; log of its diagonal, then the
              strictly lower entries row by row (``Sigma = L L'``)
``cs/csh``    log standard deviation(s), then ``rho`` mapped to
              ``(-1/(t-1), 1)`` by a scaled logistic
``ar1/ar1h``  log standard deviation(s), ``rho = phi / sqrt(1 + phi^2)``
``toep/toeph`` log sd(s), one correlation per lag, each ``phi/sqrt(1+phi^2)``
``ad/adh``    log sd(s), one correlation per adjacent pair of visits;
              ``corr(a, b)`` is the product of those between ``a`` and ``b``
``sp_exp``    log standard deviation, ``rho = logistic(phi)``;
              ``corr = rho ** |time_a - time_b|`` on the numeric visit times
============  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["COVARIANCE_STRUCTURES", "CovarianceStructure", "covariance_structure"]

COVARIANCE_STRUCTURES: dict[str, str] = {
    "us": "unstructured",
    "cs": "compound symmetry",
    "csh": "heterogeneous compound symmetry",
    "ar1": "first-order autoregressive",
    "ar1h": "heterogeneous first-order autoregressive",
    "toep": "Toeplitz",
    "toeph": "heterogeneous Toeplitz",
    "ad": "first-order ante-dependence",
    "adh": "heterogeneous first-order ante-dependence",
    "sp_exp": "spatial exponential (numeric visit times)",
}

_HETEROGENEOUS = {"us", "csh", "ar1h", "toeph", "adh"}


@dataclass(frozen=True)
class CovarianceStructure:
    """A covariance structure over ``n_visits`` ordered visit levels.

    Parameters
    ----------
    name : str
        One of :data:`COVARIANCE_STRUCTURES`.
    n_visits : int
        Number of visit levels (the dimension of the covariance matrix).
    times : tuple of float, optional
        Numeric time of each visit level; needed by ``sp_exp`` only.

    Examples
    --------
    >>> import numpy as np
    >>> ar1 = covariance_structure("ar1", 3)
    >>> ar1.n_params
    2
    >>> np.round(ar1.matrix(np.array([np.log(2.0), 1.0])), 3)
    array([[4.   , 2.828, 2.   ],
           [2.828, 4.   , 2.828],
           [2.   , 2.828, 4.   ]])
    """

    name: str
    n_visits: int
    times: tuple[float, ...] | None = None
    _lower: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name not in COVARIANCE_STRUCTURES:
            raise ValueError(
                f"Unknown covariance structure {self.name!r}; choose one of "
                f"{', '.join(COVARIANCE_STRUCTURES)}."
            )
        if self.n_visits < 1:
            raise ValueError("A covariance structure needs at least one visit level.")
        if self.name == "sp_exp":
            if self.times is None or len(self.times) != self.n_visits:
                raise ValueError("sp_exp needs one numeric time per visit level.")
        object.__setattr__(self, "_lower", np.tril_indices(self.n_visits, -1))

    @property
    def heterogeneous(self) -> bool:
        """Whether each visit has its own variance."""
        return self.name in _HETEROGENEOUS

    @property
    def n_params(self) -> int:
        """Number of variance parameters."""
        t = self.n_visits
        n_sd = t if self.heterogeneous else 1
        n_corr = {
            "us": t * (t - 1) // 2,
            "cs": 1 if t > 1 else 0,
            "csh": 1 if t > 1 else 0,
            "ar1": 1 if t > 1 else 0,
            "ar1h": 1 if t > 1 else 0,
            "toep": t - 1,
            "toeph": t - 1,
            "ad": t - 1,
            "adh": t - 1,
            "sp_exp": 1 if t > 1 else 0,
        }[self.name]
        return n_sd + n_corr

    def param_names(self) -> list[str]:
        """Readable names of the parameters, in order."""
        t = self.n_visits
        if self.name == "us":
            names = [f"log_chol[{a},{a}]" for a in range(t)]
            names += [f"chol[{a},{b}]" for a, b in zip(*self._lower, strict=True)]
            return names
        sd = [f"log_sd[{a}]" for a in range(t)] if self.heterogeneous else ["log_sd"]
        n_corr = self.n_params - len(sd)
        if n_corr == 1:
            return sd + ["rho"]
        return sd + [f"rho[{q}]" for q in range(n_corr)]

    # ------------------------------------------------------------------ values
    def matrix(self, theta: np.ndarray) -> np.ndarray:
        """The covariance matrix for parameters ``theta``."""
        return self.derivatives(theta, order=0)[0]

    def derivatives(
        self, theta: np.ndarray, order: int = 1
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Covariance matrix and its derivatives.

        Parameters
        ----------
        theta : numpy.ndarray
            Parameters, length :attr:`n_params`.
        order : {0, 1, 2}
            Highest derivative to compute.

        Returns
        -------
        sigma : numpy.ndarray, shape (t, t)
        first : numpy.ndarray, shape (m, t, t) or None
            ``first[j] = d sigma / d theta_j``.
        second : numpy.ndarray, shape (m, m, t, t) or None
            ``second[j, k] = d2 sigma / d theta_j d theta_k``.
        """
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have {self.n_params} values, got {theta.shape}.")
        if self.name == "us":
            return self._unstructured(theta, order)
        return self._sd_times_correlation(theta, order)

    # ------------------------------------------------------------- unstructured
    def _unstructured(self, theta: np.ndarray, order: int):
        t = self.n_visits
        rows_lo, cols_lo = self._lower
        chol = np.zeros((t, t))
        diag = np.arange(t)
        chol[diag, diag] = np.exp(theta[:t])
        chol[rows_lo, cols_lo] = theta[t:]
        sigma = chol @ chol.T
        if order == 0:
            return sigma, None, None
        rows = np.concatenate([diag, rows_lo])
        cols = np.concatenate([diag, cols_lo])
        is_log = np.arange(self.n_params) < t
        scale = np.where(is_log, chol[rows, cols], 1.0)  # d L_rc / d theta
        m = self.n_params
        # d Sigma / d L_rc = e_r L[:, c]' + L[:, c] e_r'
        first = np.zeros((m, t, t))
        idx = np.arange(m)
        first[idx, rows, :] += chol[:, cols].T
        first[idx, :, rows] += chol[:, cols].T
        first *= scale[:, None, None]
        if order == 1:
            return sigma, first, None
        second = np.zeros((m, m, t, t))
        p_idx, q_idx = np.nonzero(cols[:, None] == cols[None, :])
        factor = scale[p_idx] * scale[q_idx]
        np.add.at(second, (p_idx, q_idx, rows[p_idx], rows[q_idx]), factor)
        np.add.at(second, (p_idx, q_idx, rows[q_idx], rows[p_idx]), factor)
        # exp() of the log-diagonal adds the first derivative on the diagonal
        second[diag, diag] += first[diag]
        return sigma, first, second

    # -------------------------------------------- standard deviations x correlation
    def _sd_times_correlation(self, theta: np.ndarray, order: int):
        t = self.n_visits
        n_sd = t if self.heterogeneous else 1
        log_sd = theta[:n_sd] if self.heterogeneous else np.repeat(theta[0], t)
        corr, corr_d1, corr_d2 = self._correlation(theta[n_sd:], order)
        sd = np.exp(log_sd)
        outer_sd = np.outer(sd, sd)
        sigma = outer_sd * corr
        if order == 0:
            return sigma, None, None
        # multiplicity[s, a, b] = d (log sd_a + log sd_b) / d theta_s
        if self.heterogeneous:
            eye = np.eye(t)
            multiplicity = eye[:, :, None] + eye[:, None, :]
        else:
            multiplicity = np.full((1, t, t), 2.0)
        n_corr = corr_d1.shape[0]
        m = n_sd + n_corr
        first = np.empty((m, t, t))
        first[:n_sd] = multiplicity * sigma
        first[n_sd:] = outer_sd * corr_d1
        if order == 1:
            return sigma, first, None
        second = np.zeros((m, m, t, t))
        second[:n_sd, :n_sd] = multiplicity[:, None] * multiplicity[None, :] * sigma
        cross = multiplicity[:, None] * first[None, n_sd:]
        second[:n_sd, n_sd:] = cross
        second[n_sd:, :n_sd] = cross.transpose(1, 0, 2, 3)
        second[n_sd:, n_sd:] = outer_sd * corr_d2
        return sigma, first, second

    def _correlation(self, phi: np.ndarray, order: int):
        """Correlation matrix and derivatives with respect to ``phi``."""
        t = self.n_visits
        if phi.size == 0:
            return np.eye(t), np.zeros((0, t, t)), np.zeros((0, 0, t, t))
        if self.name in ("cs", "csh"):
            low = -1.0 / (t - 1)
            span = 1.0 - low
            p = 1.0 / (1.0 + np.exp(-phi[0]))
            rho, d_rho, d2_rho = (
                low + span * p,
                span * p * (1 - p),
                span * p * (1 - p) * (1 - 2 * p),
            )
            off = 1.0 - np.eye(t)
            corr = np.eye(t) + rho * off
            return corr, (d_rho * off)[None], (d2_rho * off)[None, None]
        if self.name in ("ar1", "ar1h"):
            lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t))).astype(float)
            return _power_correlation(*_signed_unit(phi[0]), lag, order)
        if self.name == "sp_exp":
            times = np.asarray(self.times, dtype=float)
            distance = np.abs(np.subtract.outer(times, times))
            p = 1.0 / (1.0 + np.exp(-phi[0]))
            return _power_correlation(p, p * (1 - p), p * (1 - p) * (1 - 2 * p), distance, order)
        if self.name in ("toep", "toeph"):
            return _toeplitz_correlation(phi, t)
        return _antedependence_correlation(phi, t)


def _signed_unit(phi: float) -> tuple[float, float, float]:
    """``rho = phi / sqrt(1 + phi^2)`` and its first two derivatives."""
    root = 1.0 + phi * phi
    return phi / np.sqrt(root), root**-1.5, -3.0 * phi * root**-2.5


def _power_correlation(rho, d_rho, d2_rho, distance, order):
    """``corr = rho ** distance`` with derivatives through ``rho(phi)``."""
    t = distance.shape[0]
    corr = rho**distance
    # rho ** (d - k) may be 0 ** negative where the mask below discards it
    with np.errstate(divide="ignore", invalid="ignore"):
        d_corr = np.where(distance > 0, distance * rho ** (distance - 1), 0.0)
        # distance 1 has no curvature (and ar1's rho may be 0); sp_exp times may be fractional
        curved = (distance > 0) & (distance != 1)
        d2_corr = np.where(curved, distance * (distance - 1) * rho ** (distance - 2), 0.0)
    first = (d_corr * d_rho).reshape(1, t, t)
    if order < 2:
        return corr, first, None
    second = (d2_corr * d_rho**2 + d_corr * d2_rho).reshape(1, 1, t, t)
    return corr, first, second


def _toeplitz_correlation(phi, t):
    rho, d_rho, d2_rho = (np.array(v) for v in zip(*(_signed_unit(p) for p in phi), strict=True))
    lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    corr = np.eye(t)
    n = phi.size
    first = np.zeros((n, t, t))
    second = np.zeros((n, n, t, t))
    for q in range(n):
        mask = lag == q + 1
        corr[mask] = rho[q]
        first[q][mask] = d_rho[q]
        second[q, q][mask] = d2_rho[q]
    return corr, first, second


def _antedependence_correlation(phi, t):
    """``corr(a, b) = prod_{a <= q < b} rho_q`` for ``a < b``."""
    rho, d_rho, d2_rho = (np.array(v) for v in zip(*(_signed_unit(p) for p in phi), strict=True))
    n = phi.size
    a_idx, b_idx = np.meshgrid(np.arange(t), np.arange(t), indexing="ij")
    low, high = np.minimum(a_idx, b_idx), np.maximum(a_idx, b_idx)
    q = np.arange(n)
    # between[a, b, q]: the adjacent pair q lies between visits a and b
    between = (low[..., None] <= q) & (q < high[..., None])
    factors = np.where(between, rho, 1.0)
    corr = factors.prod(axis=-1)
    first = np.zeros((n, t, t))
    second = np.zeros((n, n, t, t))
    for j in range(n):
        without_j = factors.copy()
        without_j[..., j] = 1.0
        first[j] = np.where(between[..., j], without_j.prod(axis=-1) * d_rho[j], 0.0)
        second[j, j] = np.where(between[..., j], without_j.prod(axis=-1) * d2_rho[j], 0.0)
        for k in range(j + 1, n):
            without_jk = without_j.copy()
            without_jk[..., k] = 1.0
            both = between[..., j] & between[..., k]
            value = np.where(both, without_jk.prod(axis=-1) * d_rho[j] * d_rho[k], 0.0)
            second[j, k] = value
            second[k, j] = value
    return corr, first, second


def covariance_structure(
    name: str, n_visits: int, times: tuple[float, ...] | None = None
) -> CovarianceStructure:
    """Build a :class:`CovarianceStructure` (a thin, validating constructor).

    Examples
    --------
    >>> covariance_structure("us", 4).n_params
    10
    """
    return CovarianceStructure(name=name, n_visits=int(n_visits), times=times)


def starting_values(structure: CovarianceStructure, empirical: np.ndarray) -> np.ndarray:
    """Parameters whose matrix is close to an empirical covariance matrix.

    ``empirical`` may hold NaN where a pair of visits is never observed together.
    """
    t = structure.n_visits
    variances = np.diag(empirical).copy()
    fallback_variance = np.nanmean(variances) if np.any(np.isfinite(variances)) else 1.0
    if not np.isfinite(fallback_variance) or fallback_variance <= 0:
        fallback_variance = 1.0
    variances = np.where(np.isfinite(variances) & (variances > 0), variances, fallback_variance)
    sd = np.sqrt(variances)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = empirical / np.outer(sd, sd)
    corr = np.where(np.isfinite(corr), np.clip(corr, -0.95, 0.95), 0.0)
    np.fill_diagonal(corr, 1.0)
    if structure.name == "us":
        # shrink towards independence until positive definite
        for shrink in (1.0, 0.9, 0.7, 0.5, 0.25, 0.0):
            candidate = np.diag(sd) @ (shrink * corr + (1 - shrink) * np.eye(t)) @ np.diag(sd)
            try:
                chol = np.linalg.cholesky(candidate)
                break
            except np.linalg.LinAlgError:
                continue
        rows, cols = np.tril_indices(t, -1)
        return np.concatenate([np.log(np.diag(chol)), chol[rows, cols]])
    log_sd = np.log(sd) if structure.heterogeneous else np.array([np.log(np.mean(sd))])
    lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    n_corr = structure.n_params - log_sd.size

    def lag_mean(k: int) -> float:
        values = corr[lag == k]
        return float(np.mean(values)) if values.size else 0.0

    def to_phi(rho: float) -> float:
        rho = float(np.clip(rho, -0.9, 0.9))
        return rho / np.sqrt(1 - rho * rho)

    if n_corr == 0:
        return log_sd
    name = structure.name
    if name in ("cs", "csh"):
        low = -1.0 / (t - 1)
        rho = float(np.clip(np.mean(corr[lag > 0]), low + 0.05 * (1 - low), 0.9))
        p = (rho - low) / (1 - low)
        phi = np.array([np.log(p / (1 - p))])
    elif name in ("ar1", "ar1h"):
        phi = np.array([to_phi(lag_mean(1))])
    elif name in ("toep", "toeph"):
        phi = np.array([to_phi(0.5 * lag_mean(k + 1)) for k in range(n_corr)])
    elif name in ("ad", "adh"):
        phi = np.array([to_phi(corr[q, q + 1]) for q in range(n_corr)])
    else:  # sp_exp: rho per unit of time from the lag-one correlation
        times = np.asarray(structure.times, dtype=float)
        gap = float(np.median(np.diff(times))) if t > 1 else 1.0
        rho = float(np.clip(max(lag_mean(1), 0.05), 0.05, 0.95)) ** (1.0 / max(gap, 1e-8))
        rho = float(np.clip(rho, 1e-3, 1 - 1e-3))
        phi = np.array([np.log(rho / (1 - rho))])
    return np.concatenate([log_sd, phi])
