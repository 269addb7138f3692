"""Regression-based causal mediation (Valeri and VanderWeele 2013)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ketex._mediation_fit import fit_logistic, fit_ols
from ketex._mediation_formulas import EFFECTS, _Layout, _Setting, effects_on_model_scale, jacobian
from ketex.errors import DataValidationError
from ketex.models._frame_checks import check_frame, check_levels

__all__ = ["MediationResult", "mediation"]

EFFECT_COLUMNS = ("effect", "estimate", "se", "ci_low", "ci_high", "p_value", "method")


@dataclass(frozen=True, eq=False)
class MediationResult:
    """The result of :func:`mediation`.

    Attributes
    ----------
    effects : pandas.DataFrame
        One row per effect and method: effect, estimate, se, ci_low, ci_high, p_value,
        method (``"delta"``, and ``"bootstrap"`` when ``n_boot > 0``).
    scale : str
        ``"difference"`` (linear outcome) or ``"odds ratio"`` (logistic outcome).
    n_obs, n_dropped, n_subjects : int
        Complete rows used, rows dropped for a missing value, participants.
    covariate_values : dict
        The covariate values ``c`` the effects are conditional on.
    mediator_value : float
        The mediator value ``m`` of the controlled direct effect.
    sigma_sq : float
        Residual variance of a linear mediator model (RSS / (n - p), as R ``lm``).
    """

    effects: pd.DataFrame
    scale: str
    n_obs: int
    n_dropped: int
    n_subjects: int
    covariate_values: dict
    mediator_value: float
    sigma_sq: float


def _check(data: pd.DataFrame, columns: list[str], mediator_model: str,
           outcome_model: str, mediator: str, outcome: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataValidationError(f"mediation: column(s) {missing} not in the data")
    for model, name, role in ((mediator_model, mediator, "mediator"),
                              (outcome_model, outcome, "outcome")):
        if model not in ("linear", "logistic"):
            raise DataValidationError(
                f"mediation: {role}_model must be 'linear' or 'logistic', not {model!r}")
        values = pd.to_numeric(data[name], errors="coerce").dropna()
        if model == "logistic" and not set(values.unique()) <= {0, 1}:
            raise DataValidationError(
                f"mediation: column {name!r} must be 0/1 for {role}_model='logistic'")
    if mediator_model == "logistic" and outcome_model == "logistic":
        raise DataValidationError(
            "mediation: a logistic mediator with a logistic outcome is not supported yet")


def complete_rows(data: pd.DataFrame, exposure: str, mediator: str, outcome: str,
                  covariates: list[str], subject: str | None, mediator_model: str,
                  outcome_model: str) -> pd.DataFrame:
    """The checked columns of a mediation analysis, numeric, complete rows only."""
    columns = [exposure, mediator, outcome, *covariates] + ([subject] if subject else [])
    check_frame(data, analysis="run the mediation analysis",
                numbers={"exposure": exposure, "mediator": mediator, "outcome": outcome,
                         "covariate": list(covariates)},
                ids={"subject": subject})
    _check(data, columns, mediator_model, outcome_model, mediator, outcome)
    frame = data[columns].copy()
    for col in [exposure, mediator, outcome, *covariates]:
        frame[col] = pd.to_numeric(frame[col])
    frame = frame.dropna().reset_index(drop=True)
    if frame.empty:
        raise DataValidationError(
            f"mediation: no row has every one of {columns}; check the columns' missing "
            "values and the filter that selected the rows")
    check_levels(frame, analysis="run the mediation analysis", varying=[exposure, mediator])
    return frame


def _estimate(frame: pd.DataFrame, exposure: str, mediator: str, outcome: str,
              covariates: list[str], interaction: bool, mediator_model: str,
              outcome_model: str) -> tuple[np.ndarray, np.ndarray, float]:
    n = len(frame)
    a = frame[exposure].to_numpy(float)
    m = frame[mediator].to_numpy(float)
    c = frame[covariates].to_numpy(float).reshape(n, len(covariates))
    xm = np.column_stack([np.ones(n), a, c])
    xy = np.column_stack([np.ones(n), a, m, a * m, c])
    if not interaction:
        xy = np.delete(xy, 3, axis=1)
    y = frame[outcome].to_numpy(float)
    fm = (fit_ols if mediator_model == "linear" else fit_logistic)(xm, m)
    fy = (fit_ols if outcome_model == "linear" else fit_logistic)(xy, y)
    ty, vy = fy.coef, fy.vcov
    if not interaction:  # theta3 fixed at 0 with no variance
        ty = np.insert(ty, 3, 0.0)
        vy = np.insert(np.insert(vy, 3, 0.0, axis=0), 3, 0.0, axis=1)
    sigma_sq = fm.sigma_sq if mediator_model == "linear" else 0.0
    params = np.concatenate([fm.coef, ty, [sigma_sq]])
    size = len(params)
    vcov = np.zeros((size, size))
    km, ky = len(fm.coef), len(ty)
    vcov[:km, :km] = fm.vcov
    vcov[km : km + ky, km : km + ky] = vy
    if mediator_model == "linear":
        vcov[-1, -1] = 2.0 * sigma_sq**2 / (n - km)
    return params, vcov, sigma_sq


def mediation(
    data: pd.DataFrame,
    *,
    exposure: str,
    mediator: str,
    outcome: str,
    covariates: Sequence[str] = (),
    interaction: bool = True,
    mediator_model: str = "linear",
    outcome_model: str = "linear",
    exposure_levels: tuple[float, float] = (0, 1),
    covariate_values: dict | None = None,
    mediator_value: float | None = None,
    subject: str | None = None,
    n_boot: int = 0,
    seed: int | None = None,
    conf_level: float = 0.95,
) -> MediationResult:
    """Regression-based causal mediation: controlled and natural direct and indirect effects.

    Fits a mediator regression ``M ~ A + C`` (linear or logistic) and an outcome
    regression ``Y ~ A + M (+ A:M) + C`` (linear or logistic) and combines them by the
    closed forms of Valeri and VanderWeele (2013).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant (or several, with ``subject``).
    exposure, mediator, outcome : str
        Column names. The exposure is numeric (0/1 or continuous).
    covariates : sequence of str
        Numeric covariate columns (dummy-code categorical ones).
    interaction : bool
        Include the exposure x mediator term in the outcome regression.
    mediator_model, outcome_model : {"linear", "logistic"}
        Logistic requires a 0/1 column. Both logistic is not supported.
    exposure_levels : tuple of float
        ``(a0, a1)``, the reference and the compared exposure levels.
    covariate_values : dict, optional
        Values ``c`` the effects are conditional on; default the covariate means of the
        complete rows.
    mediator_value : float, optional
        ``m`` of the controlled direct effect; default the mediator mean (continuous)
        or 0 (binary mediator).
    subject : str, optional
        Participant column; the bootstrap resamples participants, not rows.
    n_boot : int
        Bootstrap replicates (0: none).
    seed : int, optional
        Seed of the bootstrap (``numpy.random.SeedSequence``).
    conf_level : float
        Confidence level.

    Returns
    -------
    MediationResult
        ``effects`` has the columns effect (cde, pnde, tnie, tnde, pnie, te, pm),
        estimate, se, ci_low, ci_high, p_value, method ("delta" or "bootstrap").
        For a logistic outcome the estimates and CIs are odds ratios and ``se`` is the
        standard error of the log odds ratio (pm excepted).

    Notes
    -----
    With mediator model ``E[M] = b0 + b1 a + b2'c`` and outcome model
    ``t0 + t1 a + t2 m + t3 a m + t4'c``, for a linear mediator and outcome
    ``CDE = (t1 + t3 m)(a1 - a0)``, ``PNDE = (t1 + t3 (b0 + b1 a0 + b2'c))(a1 - a0)``,
    ``TNIE = b1 (t2 + t3 a1)(a1 - a0)``; TNDE and PNIE swap a0 and a1 in the bracket;
    ``TE = PNDE + TNIE``; ``PM = TNIE / TE``. A logistic outcome uses the rare-outcome
    approximation (odds ratios approximate risk ratios) and adds
    ``t3 t2 sigma^2 (a1 - a0) + t3^2 sigma^2 (a1^2 - a0^2) / 2`` to the log direct
    effects; ``PM = OR_PNDE (OR_TNIE - 1) / (OR_PNDE OR_TNIE - 1)``. A logistic mediator
    replaces ``b0 + b1 a + b2'c`` by its expit in the direct effects and ``b1 (a1 - a0)``
    by the difference of expits in the indirect ones. Standard errors by the delta
    method with the block-diagonal covariance of the two fits, plus
    ``var(sigma^2) = 2 sigma^4 / (n - p)``; sigma^2 is RSS / (n - p) as in R ``lm``.
    The effects are causal under sequential ignorability (no unmeasured confounding of
    exposure-outcome, mediator-outcome, exposure-mediator, and no mediator-outcome
    confounder affected by the exposure).

    References
    ----------
    Valeri L, VanderWeele TJ (2013). Psychol Methods 18:137-150.
    VanderWeele TJ (2015). Explanation in Causal Inference. Oxford University Press.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> a = rng.integers(0, 2, 200)
    >>> m = 0.5 * a + rng.normal(size=200)
    >>> y = 0.3 * a + 0.8 * m + rng.normal(size=200)
    >>> df = pd.DataFrame({"a": a, "m": m, "y": y})
    >>> res = mediation(df, exposure="a", mediator="m", outcome="y")
    >>> res.effects["effect"].tolist()
    ['cde', 'pnde', 'tnie', 'tnde', 'pnie', 'te', 'pm']
    """
    covariates = list(covariates)
    frame = complete_rows(data, exposure, mediator, outcome, covariates, subject,
                          mediator_model, outcome_model)
    n_dropped = len(data) - len(frame)
    if covariate_values is None:
        covariate_values = {c: float(frame[c].mean()) for c in covariates}
    unknown = set(covariates) - set(covariate_values)
    if unknown:
        raise DataValidationError(f"mediation: covariate_values lacks {sorted(unknown)}")
    if mediator_value is None:
        mediator_value = float(frame[mediator].mean()) if mediator_model == "linear" else 0.0
    setting = _Setting(mediator_model, outcome_model, float(exposure_levels[0]),
                       float(exposure_levels[1]),
                       np.array([covariate_values[c] for c in covariates], float),
                       float(mediator_value))
    layout = _Layout(len(covariates))
    args = (exposure, mediator, outcome, covariates, interaction, mediator_model, outcome_model)
    params, vcov, sigma_sq = _estimate(frame, *args)
    est = effects_on_model_scale(params, layout, setting)
    jac = jacobian(params, layout, setting)
    se = np.sqrt(np.einsum("ij,jk,ik->i", jac, vcov, jac))
    z = stats.norm.ppf(0.5 + conf_level / 2)
    low, high = est - z * se, est + z * se
    p_value = 2 * stats.norm.sf(np.abs(est / se))
    ratio = outcome_model == "logistic"
    show = est.copy()
    if ratio:  # odds ratios, pm stays a proportion
        show[:6], low[:6], high[:6] = np.exp(est[:6]), np.exp(low[:6]), np.exp(high[:6])
        p_value[:6] = 2 * stats.norm.sf(np.abs(est[:6] / se[:6]))
    rows = pd.DataFrame({"effect": EFFECTS, "estimate": show, "se": se, "ci_low": low,
                         "ci_high": high, "p_value": p_value, "method": "delta"})
    ids = frame[subject].to_numpy() if subject else np.arange(len(frame))
    groups = pd.Series(np.arange(len(frame))).groupby(pd.factorize(ids)[0]).indices
    n_subjects = len(groups)
    if n_boot > 0:
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        index = [groups[g] for g in range(n_subjects)]
        draws = np.empty((n_boot, len(EFFECTS)))
        for b in range(n_boot):
            pick = rng.integers(0, n_subjects, n_subjects)
            sample = frame.iloc[np.concatenate([index[i] for i in pick])]
            draws[b] = effects_on_model_scale(_estimate(sample, *args)[0], layout, setting)
        q = np.quantile(draws, [0.5 - conf_level / 2, 0.5 + conf_level / 2], axis=0)
        bse = draws.std(axis=0, ddof=1)
        blow, bhigh = q[0], q[1]
        if ratio:
            blow[:6], bhigh[:6] = np.exp(blow[:6]), np.exp(bhigh[:6])
        boot = pd.DataFrame({"effect": EFFECTS, "estimate": show, "se": bse,
                             "ci_low": blow, "ci_high": bhigh, "p_value": np.nan,
                             "method": "bootstrap"})
        rows = pd.concat([rows, boot], ignore_index=True)
    return MediationResult(rows, "odds ratio" if ratio else "difference", len(frame),
                           n_dropped, n_subjects, dict(covariate_values),
                           float(mediator_value), float(sigma_sq))
