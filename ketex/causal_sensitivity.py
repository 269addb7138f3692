"""Sensitivity of the mediated effect to sequential ignorability (Imai, Keele, Yamamoto 2010)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ketex.causal_mediation import complete_rows
from ketex.errors import ConvergenceError, DataValidationError

__all__ = ["MediationSensitivity", "mediation_sensitivity"]

CURVE_COLUMNS = ("rho", "effect", "estimate", "se", "ci_low", "ci_high", "r2_star_prod",
                 "r2_tilde_prod")  # fmt: skip
_EFFECTS = ("pnie", "tnie")


@dataclass(frozen=True, eq=False)
class MediationSensitivity:
    """The result of :func:`mediation_sensitivity`.

    Attributes
    ----------
    curve : pandas.DataFrame
        One row per rho and effect: rho, effect (``"pnie"``: mediated effect with the
        exposure at ``a0``, medsens's ``d0``; ``"tnie"``: at ``a1``, ``d1``), estimate,
        se, ci_low, ci_high, r2_star_prod (``rho**2``), r2_tilde_prod
        (``rho**2 (1 - R2_M) (1 - R2_Y)``).
    rho_at_zero : dict
        Effect -> the rho at which the mediated effect is zero (exact, not a grid
        value; R medsens's ``err.cr.d`` is the grid value nearest to it).
    r2_star_at_zero, r2_tilde_at_zero : dict
        The products of the R-squared measures at that rho.
    r_squared_mediator, r_squared_outcome : float
        R-squared of the mediator and outcome regressions.
    n_obs, n_dropped : int
        Complete rows used, rows dropped for a missing value.
    exposure_levels : tuple of float
    conf_level : float
    """

    curve: pd.DataFrame
    rho_at_zero: dict
    r2_star_at_zero: dict
    r2_tilde_at_zero: dict
    r_squared_mediator: float
    r_squared_outcome: float
    n_obs: int
    n_dropped: int
    exposure_levels: tuple
    conf_level: float


@dataclass(frozen=True)
class _Stacked:
    """The mediator and outcome regressions with correlated errors, at their GLS solution.

    With ``M ~ Xm`` and ``Y ~ Xy``, where ``Xy`` holds the columns of ``Xm`` and ``M``
    (and ``A M``), the GLS normal equations for error correlation rho force the mediator
    residual ``e1`` to be the OLS one, and the outcome coefficients to be OLS of
    ``Y - kappa e1`` on ``Xy``: the mediator coefficient drops by ``kappa`` and the
    exposure coefficient rises by ``kappa b1``, the rest unchanged. The fixed point of
    feasible GLS (R medsens iterates to it) has
    ``kappa = rho s2 / (s1 sqrt(1 - rho^2))``, ``s1``, ``s2`` the OLS residual SDs.
    """

    xm: np.ndarray
    xy: np.ndarray
    m: np.ndarray
    y: np.ndarray

    def fit(self, rho: float) -> tuple[np.ndarray, np.ndarray]:
        """GLS coefficients (mediator's, then outcome's) and their covariance at rho."""
        xm, xy, m, y = self.xm, self.xy, self.m, self.y
        n, km = xm.shape
        bm = np.linalg.lstsq(xm, m, rcond=None)[0]
        ty = np.linalg.lstsq(xy, y, rcond=None)[0]
        e1, e2 = m - xm @ bm, y - xy @ ty
        s1_sq, s2_sq = e1 @ e1 / (n - 1), e2 @ e2 / (n - 1)
        kappa = rho * np.sqrt(s2_sq / s1_sq / (1.0 - rho**2))
        shift = np.zeros(xy.shape[1])  # e1 = Xy @ shift: 1 on M, -bm on Xm's columns
        shift[2], shift[:2], shift[xy.shape[1] - (km - 2):] = 1.0, -bm[:2], -bm[2:]
        ty = ty - kappa * shift
        v1, v2 = s1_sq, s2_sq + kappa**2 * s1_sq  # residual variances at the solution
        omega = np.array([[v1, rho * np.sqrt(v1 * v2)], [rho * np.sqrt(v1 * v2), v2]])
        w = np.linalg.inv(omega)
        info = np.block([[w[0, 0] * xm.T @ xm, w[0, 1] * xm.T @ xy],
                         [w[1, 0] * xy.T @ xm, w[1, 1] * xy.T @ xy]])
        return np.concatenate([bm, ty]), np.linalg.inv(info)


def _acme(stacked: _Stacked, rho: float, a0: float, a1: float,
          interaction: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mediated effects at a0 and a1 and their SEs at one rho."""
    coef, vcov = stacked.fit(rho)
    km = stacked.xm.shape[1]
    b1, v_b1 = coef[1], vcov[1, 1]
    t2, v_t2 = coef[km + 2], vcov[km + 2, km + 2]
    t3 = coef[km + 3] if interaction else 0.0
    v_t3 = vcov[km + 3, km + 3] if interaction else 0.0
    c23 = vcov[km + 2, km + 3] if interaction else 0.0
    d = a1 - a0
    estimate, variance = np.empty(2), np.empty(2)
    for i, a in enumerate((a0, a1)):
        slope = t2 + t3 * a
        estimate[i] = b1 * slope * d
        variance[i] = d**2 * (slope**2 * v_b1 + b1**2 * (v_t2 + a**2 * v_t3 + 2 * a * c23))
    return estimate, np.sqrt(variance)


def _rho_at_zero(stacked: _Stacked, a: float, interaction: bool) -> float:
    """rho solving kappa(rho) = t2 + t3 a (the OLS slope of the mediator at a)."""
    xm, xy, m, y = stacked.xm, stacked.xy, stacked.m, stacked.y
    ty = np.linalg.lstsq(xy, y, rcond=None)[0]
    e1 = m - xm @ np.linalg.lstsq(xm, m, rcond=None)[0]
    e2 = y - xy @ ty
    q = (ty[2] + (ty[3] * a if interaction else 0.0)) * np.sqrt((e1 @ e1) / (e2 @ e2))
    return float(q / np.sqrt(1.0 + q**2))


def _r_squared(x: np.ndarray, v: np.ndarray) -> float:
    resid = v - x @ np.linalg.lstsq(x, v, rcond=None)[0]
    return float(1.0 - resid @ resid / np.sum((v - v.mean()) ** 2))


def mediation_sensitivity(
    data: pd.DataFrame,
    *,
    exposure: str,
    mediator: str,
    outcome: str,
    covariates: Sequence[str] = (),
    interaction: bool = False,
    exposure_levels: tuple[float, float] = (0, 1),
    rho: Sequence[float] | None = None,
    conf_level: float = 0.95,
) -> MediationSensitivity:
    """Mediated effect as a function of the correlation rho of the two models' errors.

    The effects of :func:`ketex.mediation` are causal under sequential ignorability,
    which randomising the exposure does not secure: an unmeasured confounder of the
    mediator and the outcome makes the errors of the mediator regression ``M ~ A + C``
    and the outcome regression ``Y ~ A + M (+ A:M) + C`` correlated. This is the
    sensitivity analysis of Imai, Keele and Yamamoto (2010) for linear mediator and
    outcome models, as R ``mediation::medsens``: for each rho, the two regressions are
    refitted as a seemingly unrelated regression with error correlation rho (the fixed
    point of feasible GLS, which medsens iterates to and ketex computes in closed form)
    and the mediated effect recomputed.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    exposure, mediator, outcome : str
        Numeric columns; mediator and outcome continuous (linear models).
    covariates : sequence of str
        Numeric covariate columns.
    interaction : bool
        Include the exposure x mediator term in the outcome regression.
    exposure_levels : tuple of float
        ``(a0, a1)``; the effects are for a change from a0 to a1.
    rho : sequence of float, optional
        Values of rho, each in (-1, 1); default -0.95 to 0.95 by 0.05.
    conf_level : float
        Confidence level of the pointwise intervals.

    Returns
    -------
    MediationSensitivity
        ``curve`` (tidy: one row per rho and effect) and the rho at which each mediated
        effect is zero.

    Notes
    -----
    At ``rho = 0`` the estimates are those of :func:`ketex.mediation` (``pnie``,
    ``tnie``). Without interaction the curve has the closed form of Imai, Keele and
    Yamamoto (2010, Theorem 2),
    ``ACME(rho) = b1 sigma_1 / sigma_2 (rho~ - rho sqrt((1 - rho~^2) / (1 - rho^2)))``,
    with ``sigma_1`` and ``sigma_2`` the residual SDs of ``Y ~ A + C`` and
    ``M ~ A + C`` and ``rho~`` the correlation of their residuals, so the effect is zero
    at ``rho = rho~``. With interaction (and in general) the GLS solution at rho moves
    only the outcome model's mediator coefficient, by
    ``kappa = rho s_Y / (s_M sqrt(1 - rho^2))`` (``s_M``, ``s_Y`` the residual SDs of
    the two regressions), so the effect at exposure ``a`` is
    ``b1 (t2 - kappa + t3 a)(a1 - a0)``, zero at ``rho = q / sqrt(1 + q^2)`` with
    ``q = (t2 + t3 a) s_M / s_Y``.
    The standard errors follow medsens: the delta method on the GLS covariance
    (``sigma^2`` with divisor n - 1) without the covariance between the mediator and
    outcome coefficients. ``r2_tilde_prod`` is the product of the shares of the
    mediator's and outcome's total variance that an unmeasured confounder would explain.

    References
    ----------
    Imai K, Keele L, Yamamoto T (2010). Identification, inference and sensitivity analysis
    for causal mediation effects. Statistical Science 25:51-71.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> a = rng.integers(0, 2, 200)
    >>> m = 0.5 * a + rng.normal(size=200)
    >>> y = 0.3 * a + 0.8 * m + rng.normal(size=200)
    >>> df = pd.DataFrame({"a": a, "m": m, "y": y})
    >>> sens = mediation_sensitivity(df, exposure="a", mediator="m", outcome="y")
    >>> round(sens.rho_at_zero["pnie"], 2)
    0.61
    """
    covariates = list(covariates)
    frame = complete_rows(data, exposure, mediator, outcome, covariates, None, "linear",
                          "linear")
    grid = np.round(np.arange(-0.95, 0.951, 0.05), 10) if rho is None else np.asarray(
        rho, float)
    if grid.ndim != 1 or not len(grid) or not np.all(np.abs(grid) < 1):
        raise DataValidationError(
            f"mediation_sensitivity: rho must be values strictly between -1 and 1, got {rho!r}")
    n = len(frame)
    a, m, y = (frame[c].to_numpy(float) for c in (exposure, mediator, outcome))
    c = frame[covariates].to_numpy(float).reshape(n, len(covariates))
    xm = np.column_stack([np.ones(n), a, c])
    xy = np.column_stack([np.ones(n), a, m] + ([a * m] if interaction else []) + [c])
    for x, name in ((xm, "mediator"), (xy, "outcome")):
        if n <= x.shape[1] or np.linalg.matrix_rank(x) < x.shape[1]:
            raise ConvergenceError(
                f"mediation_sensitivity: the {name} regression has {n} rows for "
                f"{x.shape[1]} coefficients or collinear columns")
    stacked = _Stacked(xm, xy, m, y)
    a0, a1 = float(exposure_levels[0]), float(exposure_levels[1])
    r2_m, r2_y = _r_squared(xm, m), _r_squared(xy, y)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    rows = []
    for r in grid:
        estimate, se = _acme(stacked, float(r), a0, a1, interaction)
        for i, effect in enumerate(_EFFECTS):
            rows.append((float(r), effect, estimate[i], se[i], estimate[i] - z * se[i],
                         estimate[i] + z * se[i], r**2, r**2 * (1 - r2_m) * (1 - r2_y)))
    curve = pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
    zero = {effect: _rho_at_zero(stacked, level, interaction)
            for effect, level in zip(_EFFECTS, (a0, a1), strict=True)}
    return MediationSensitivity(
        curve=curve, rho_at_zero=zero,
        r2_star_at_zero={k: v**2 for k, v in zero.items()},
        r2_tilde_at_zero={k: v**2 * (1 - r2_m) * (1 - r2_y) for k, v in zero.items()},
        r_squared_mediator=r2_m, r_squared_outcome=r2_y, n_obs=n,
        n_dropped=len(data) - n, exposure_levels=(a0, a1), conf_level=conf_level,
    )  # fmt: skip
